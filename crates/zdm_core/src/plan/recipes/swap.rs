//! A column replaced by another one (rename, type change): expand with a sync trigger, batched backfill,
//! everything the old column carries rebuilt on the new one before the contract (unique indexes built
//! CONCURRENTLY, foreign keys and CHECKs added NOT VALID then validated, the owned sequence moved), and a
//! contract that swaps them in one brief transaction. The contract's rollback is one `DO` statement that
//! re-adds the old column, copies the values back batch by batch and restores every carried object.

use super::{
    BRIEF, Backfill, Ctx, Draft, R_CONTRACT, R_READERS, StepSpec, Walk, code, draft, rebuild_indexes, shadow_column, stmt, table_alter,
    thousands,
};
use crate::model::{Column, Constraint, ConstraintKind, LockLevel, PgVersion, QName, Risk, Table, quote_ident};
use crate::plan::sqlgen;
use crate::plan::{CodeChange, Phase, PlanError};
use crate::schema::object_name;
use crate::sql;

/// Carried foreign keys and CHECKs are added NOT VALID after the index builds, validated next.
const R_CARRY: u32 = 28;
const R_CARRY_VALIDATE: u32 = 29;

/// What a swap replaces and how.
pub(super) struct Swap<'a> {
    pub table: &'a QName,
    /// The column being replaced.
    pub source: &'a str,
    /// The column that replaces it while both exist.
    pub target: String,
    /// The contract renames `target` back to `source` (same-name type change).
    pub keep_name: bool,
    /// `ALTER TABLE … ADD COLUMN target …`.
    pub add: String,
    /// Type of `source` / of `target` when known.
    pub old_type: Option<String>,
    /// A rename (same type): the rollback can copy the type from the new column when it is unknown.
    pub same_type: bool,
    pub new_type: Option<String>,
    /// Trigger keeping the columns in step (expand; re-created by the contract's rollback).
    pub trigger: Vec<String>,
    /// `target`'s value over the row (in terms of `source`), and `source`'s value in terms of `target`.
    pub to_new: String,
    pub to_old: String,
    pub expand_title: String,
    pub expand_slug: String,
    pub backfill_title: String,
    /// The code deploy's words (`read & write users.user_id`).
    pub deploy: String,
    pub contract_title: String,
    pub contract_slug: String,
    /// Why copying back does not give the old values (a `USING` expression casting back cannot undo).
    pub lossy_back: Option<String>,
}

/// A constraint moved to the new column: built under `tmp`, renamed to `name` in the contract.
struct Moved {
    /// Table the constraint lives on.
    on: QName,
    old: Constraint,
    tmp: String,
    /// Definition on the new column.
    definition: String,
}

/// Everything the old column carries that the plan rebuilds.
struct Carried {
    /// PRIMARY KEY / UNIQUE constraints using the column: (constraint, temporary unique index, its definition).
    keys: Vec<(Constraint, String, String)>,
    /// Foreign keys of other tables (or this one) that reference the column.
    referencing: Vec<Moved>,
    /// The table's own foreign keys and CHECKs that use the column.
    own: Vec<Moved>,
    /// Sequence the column owns.
    sequence: Option<QName>,
}

fn refuse(ctx: &Ctx<'_>, message: String, help: &str) -> PlanError {
    PlanError { message, pos: ctx.c.op.pos, help: Some(help.to_string()) }
}

/// A name of at most 63 bytes: `base` or `base_1`, `base_2`, … whichever is free in the schema's relation
/// and constraint names and among the names this plan already generated.
pub(super) fn free_name(ctx: &Ctx<'_>, schema: Option<&str>, base: &str) -> String {
    let before = &ctx.analysis.before;
    let taken = |n: &str| {
        before.relation_name_taken(schema, n)
            || before.tables.values().any(|t| t.constraints.iter().any(|k| k.name == n))
            || ctx.names.borrow().contains(n)
    };
    let name = first_free(base, taken);
    ctx.names.borrow_mut().insert(name.clone());
    name
}

/// A free column name on `table` (`base`, `base_1`, …), at most 63 bytes.
pub(super) fn free_column(table: Option<&Table>, base: &str) -> String {
    first_free(base, |n: &str| table.is_some_and(|t| t.column(n).is_some()))
}

/// `base`, else `base_1`, `base_2`, … (cut to 63 bytes with the suffix), the first that `taken` refuses.
fn first_free(base: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut name = cut(base, 63);
    let mut i = 0;
    while taken(&name) {
        i += 1;
        let suffix = format!("_{i}");
        name = format!("{}{suffix}", cut(base, 63 - suffix.len()));
    }
    name
}

fn cut(s: &str, max: usize) -> String {
    let mut n = s.len().min(max);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    s[..n].to_string()
}

/// Identifiers in `text` equal to `from` (bare and folded, or quoted exactly) replaced by `to`; string
/// literals are left alone. Returns None when `from` does not occur.
pub(super) fn rename_ident(text: &str, from: &str, to: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut hit = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let start = i;
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i = (i + 1).min(chars.len());
            out.extend(&chars[start..i]);
        } else if c == '"' {
            let mut ident = String::new();
            let start = i;
            i += 1;
            while i < chars.len() {
                if chars[i] == '"' {
                    if chars.get(i + 1) == Some(&'"') {
                        ident.push('"');
                        i += 2;
                        continue;
                    }
                    break;
                }
                ident.push(chars[i]);
                i += 1;
            }
            i = (i + 1).min(chars.len());
            if ident == from {
                hit = true;
                out.push_str(&quote_ident(to));
            } else {
                out.extend(&chars[start..i]);
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let after_dot = start > 0 && chars[start - 1] == '.';
            let cast = start > 1 && chars[start - 1] == ':' && chars[start - 2] == ':';
            if !after_dot && !cast && word.to_lowercase() == from {
                hit = true;
                out.push_str(&quote_ident(to));
            } else {
                out.push_str(&word);
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    hit.then_some(out)
}

/// Splits `FOREIGN KEY (…) REFERENCES t (…) tail` into (local part, referenced table text, referenced
/// columns text or None, tail).
fn split_fk(def: &str) -> Option<(String, String, Option<String>, String)> {
    let at = def.to_uppercase().find("REFERENCES")?;
    let (local, rest) = def.split_at(at);
    let rest = &rest["REFERENCES".len()..];
    let open = rest.find('(');
    let table_end =
        rest.trim_start().find(|c: char| c.is_whitespace() || c == '(').map_or(rest.len(), |e| e + (rest.len() - rest.trim_start().len()));
    match open {
        Some(o) if rest[table_end..o].trim().is_empty() => {
            let close = o + rest[o..].find(')')?;
            Some((local.to_string(), rest[..o].trim().to_string(), Some(rest[o + 1..close].to_string()), rest[close + 1..].to_string()))
        }
        _ => Some((local.to_string(), rest[..table_end].trim().to_string(), None, rest[table_end..].to_string())),
    }
}

/// What `source` carries on `table`, or the reason zdm cannot carry it.
fn carried(ctx: &Ctx<'_>, sw: &Swap<'_>, old: Option<&Column>) -> Result<Carried, PlanError> {
    let before = &ctx.analysis.before;
    let key = sw.table.key();
    let source = sw.source;
    let target = sw.target.as_str();
    let schema = sw.table.schema.as_deref();
    let mut out = Carried { keys: Vec::new(), referencing: Vec::new(), own: Vec::new(), sequence: None };
    if let Some(col) = old {
        if col.identity {
            return Err(refuse(
                ctx,
                format!("{key}.{source} is an identity column: zdm cannot move its identity to a new column"),
                "rename or re-type it in a maintenance window, or drop the identity first (ALTER COLUMN … DROP IDENTITY) and keep a sequence default",
            ));
        }
        out.sequence = col.sequence.clone();
    }
    if let Some(g) = ctx.c.table_before.as_ref().and_then(|t| t.columns.iter().find(|c| c.generated_reads.iter().any(|r| r == source))) {
        return Err(refuse(
            ctx,
            format!("generated column {key}.{} is computed from {source}: zdm cannot carry it over a column swap", g.name),
            "change the generated column's expression to the new column first (SET EXPRESSION on PostgreSQL 17+), or drop and re-add it",
        ));
    }
    if let Some(v) = before.views_using(&key, source).next() {
        return Err(refuse(
            ctx,
            format!("view {} reads {key}.{source}: zdm cannot carry views over a column swap", v.name),
            "drop the view in an earlier change and re-create it on the new column after this one",
        ));
    }
    for i in before.indexes_on(&key).filter(|i| i.constraint.is_none() && i.columns.iter().any(|c| c == source)) {
        if sql::index_for_column(&i.definition, source, target, &i.name).is_none() {
            return Err(refuse(
                ctx,
                format!("index {} uses {key}.{source} in an expression or predicate: zdm cannot rebuild it on the new column", i.name),
                "drop the index in an earlier change and re-create it after this one",
            ));
        }
    }
    let Some(t) = ctx.c.table_before.as_ref() else {
        return Ok(out);
    };
    for k in &t.constraints {
        match &k.kind {
            ConstraintKind::PrimaryKey { columns } | ConstraintKind::Unique { columns } if columns.iter().any(|c| c == source) => {
                let idx = free_name(ctx, schema, &object_name(&k.name, "", "zdm"));
                let cols: Vec<String> = columns.iter().map(|c| quote_ident(if c == source { target } else { c })).collect();
                if !k.definition.trim_end().ends_with(')') || k.definition.contains(" INCLUDE") || k.definition.contains(" WITH") {
                    return Err(refuse(
                        ctx,
                        format!("constraint {} on {key}.{source} has options zdm cannot rebuild ({})", k.name, k.definition),
                        "drop and re-create the constraint around this change",
                    ));
                }
                let def = format!("CREATE UNIQUE INDEX CONCURRENTLY {} ON {} ({})", quote_ident(&idx), sw.table.sql(), cols.join(", "));
                out.keys.push((k.clone(), idx, def));
            }
            ConstraintKind::ForeignKey { columns, .. } if columns.iter().any(|c| c == source) => {
                let (local, table, refs, tail) = split_fk(&k.definition)
                    .ok_or_else(|| refuse(ctx, format!("cannot read foreign key {}", k.name), "re-create it by hand around this change"))?;
                let local = rename_ident(&local, source, target).unwrap_or(local);
                let refs = refs.map(|r| format!(" ({r})")).unwrap_or_default();
                out.own.push(Moved {
                    on: t.name.clone(),
                    old: k.clone(),
                    tmp: free_name(ctx, schema, &object_name(&k.name, "", "zdm")),
                    definition: format!("{local}REFERENCES {table}{refs}{tail}"),
                });
            }
            ConstraintKind::Check { expr } if rename_ident(expr, source, target).is_some() => {
                let definition = rename_ident(&k.definition, source, target).unwrap_or_else(|| k.definition.clone());
                out.own.push(Moved {
                    on: t.name.clone(),
                    old: k.clone(),
                    tmp: free_name(ctx, schema, &object_name(&k.name, "", "zdm")),
                    definition,
                });
            }
            ConstraintKind::Other if k.definition.contains(source) => {
                return Err(refuse(
                    ctx,
                    format!("constraint {} on {key} may use {source}: zdm cannot rebuild it ({})", k.name, k.definition),
                    "drop and re-create the constraint around this change",
                ));
            }
            _ => {}
        }
    }
    let pk: Vec<String> = t.primary_key().map(<[String]>::to_vec).unwrap_or_default();
    for (r, k) in before.foreign_keys_to(&key, source) {
        let ConstraintKind::ForeignKey { ref_columns, .. } = &k.kind else { continue };
        let (local, table, _, tail) = split_fk(&k.definition)
            .ok_or_else(|| refuse(ctx, format!("cannot read foreign key {}", k.name), "re-create it by hand around this change"))?;
        let referenced = if ref_columns.is_empty() { &pk } else { ref_columns };
        let cols: Vec<String> = referenced.iter().map(|c| quote_ident(if c == source { target } else { c })).collect();
        // A self-reference through the swapped column moves both ends.
        let local = if r.name == t.name { rename_ident(&local, source, target).unwrap_or(local) } else { local };
        out.referencing.push(Moved {
            on: r.name.clone(),
            old: k.clone(),
            tmp: free_name(ctx, r.name.schema.as_deref(), &object_name(&k.name, "", "zdm")),
            definition: format!("{local}REFERENCES {table} ({}){tail}", cols.join(", ")),
        });
    }
    // A self-referencing foreign key on the swapped column counts once, as referencing.
    out.own.retain(|m| !out.referencing.iter().any(|r| r.old.name == m.old.name && r.on == m.on));
    Ok(out)
}

fn alter(on: &QName, action: &str) -> String {
    table_alter(on, action)
}

/// The swap's drafts.
pub(super) fn swap(ctx: &Ctx<'_>, sw: &Swap<'_>) -> Result<Vec<Draft>, PlanError> {
    let table = sw.table;
    let (source, target) = (sw.source, sw.target.as_str());
    let old = ctx.column(source).cloned();
    let carry = carried(ctx, sw, old.as_ref())?;
    let not_null = old.as_ref().is_some_and(|c| c.not_null);
    let default = old.as_ref().and_then(|c| c.default.clone());
    let (s, t) = (quote_ident(source), quote_ident(target));
    let fin = if sw.keep_name { source } else { target };
    let f = quote_ident(fin);

    let mut out = shadow_column(
        ctx,
        &super::Shadow {
            table,
            source,
            target,
            add: sw.add.clone(),
            trigger: sw.trigger.clone(),
            value: sw.to_new.clone(),
            not_null,
            expand_title: sw.expand_title.clone(),
            expand_slug: sw.expand_slug.clone(),
            expand_rollback: format!("drop {target} + trigger"),
            backfill_title: sw.backfill_title.clone(),
        },
    );
    let moves = if sw.keep_name {
        Vec::new()
    } else {
        vec![CodeChange::MoveColumn { table: table.name.clone(), from: source.to_string(), to: target.to_string() }]
    };
    out.push(code(R_READERS, sw.deploy.clone(), moves));
    let (indexes, renames) = rebuild_indexes(ctx, table, source, target, sw.keep_name);
    let renames = if sw.keep_name { renames } else { Vec::new() };
    out.extend(indexes);

    // Carried unique indexes, CONCURRENTLY, with the other index builds.
    for (k, idx, def) in &carry.keys {
        let q = QName { schema: table.schema.clone(), name: idx.clone() };
        out.push(draft(
            super::R_INDEX,
            StepSpec {
                phase: Phase::Expand,
                title: format!("unique index {idx} on {target} for {}, CONCURRENTLY", k.name),
                slug: format!("index_{idx}"),
                transaction: false,
                up: stmt(def.clone()),
                down: format!("DROP INDEX CONCURRENTLY IF EXISTS {};", q.sql()),
                lock: LockLevel::ShareUpdateExclusive,
                duration: "whole build; reads & writes go on",
                rollback: format!("drop index {idx}"),
                loss: false,
                risk: Risk::Info,
            },
        ));
    }
    // Carried foreign keys and CHECKs: NOT VALID (new writes checked), then validated.
    for m in carry.own.iter().chain(&carry.referencing) {
        let lock =
            if matches!(m.old.kind, ConstraintKind::ForeignKey { .. }) { LockLevel::ShareRowExclusive } else { LockLevel::AccessExclusive };
        let q = quote_ident(&m.tmp);
        out.push(draft(
            R_CARRY,
            StepSpec {
                phase: Phase::Expand,
                title: format!("{} as {} on {target}, NOT VALID", m.old.name, m.tmp),
                slug: format!("add_{}", m.tmp),
                transaction: true,
                up: ctx.tx(BRIEF, &[alter(&m.on, &format!("ADD CONSTRAINT {q} {} NOT VALID", m.definition))]),
                down: ctx.tx(BRIEF, &[alter(&m.on, &format!("DROP CONSTRAINT IF EXISTS {q}"))]),
                lock,
                duration: "brief",
                rollback: format!("drop {}", m.tmp),
                loss: false,
                risk: Risk::Info,
            },
        ));
        if m.old.validated {
            out.push(super::validate_draft(ctx, &m.on, &m.tmp, R_CARRY_VALIDATE));
        }
    }

    // The contract: one brief transaction.
    let mut up = sqlgen::drop_trigger(table, source, target, false);
    if let Some(seq) = &carry.sequence {
        up.push(format!("ALTER SEQUENCE {} OWNED BY {}.{t}", seq.sql(), table.sql()));
    }
    for m in &carry.referencing {
        up.push(alter(&m.on, &format!("DROP CONSTRAINT {}", quote_ident(&m.old.name))));
    }
    up.push(alter(table, &format!("DROP COLUMN {s}")));
    if sw.keep_name {
        up.push(alter(table, &format!("RENAME COLUMN {t} TO {s}")));
    }
    let nn_steps = not_null && ctx.config.pg >= PgVersion(12) && ctx.config.pg < PgVersion(18);
    let target_check = quote_ident(&super::not_null_name(ctx, table, target));
    if nn_steps {
        up.push(alter(table, &format!("ALTER COLUMN {f} SET NOT NULL")));
        up.push(alter(table, &format!("DROP CONSTRAINT {target_check}")));
    }
    if let Some(d) = &default {
        let cast = match (&sw.new_type, &carry.sequence) {
            (Some(ty), None) if sw.old_type.as_ref() != Some(ty) => format!("({d})::{ty}"),
            _ => d.clone(),
        };
        up.push(alter(table, &format!("ALTER COLUMN {f} SET DEFAULT {cast}")));
    }
    for (k, idx, _) in &carry.keys {
        let kind = if matches!(k.kind, ConstraintKind::PrimaryKey { .. }) { "PRIMARY KEY" } else { "UNIQUE" };
        up.push(alter(table, &format!("ADD CONSTRAINT {} {kind} USING INDEX {}", quote_ident(&k.name), quote_ident(idx))));
    }
    for m in carry.own.iter().chain(&carry.referencing) {
        up.push(alter(&m.on, &format!("RENAME CONSTRAINT {} TO {}", quote_ident(&m.tmp), quote_ident(&m.old.name))));
    }
    for (temp, fin_name) in &renames {
        let q = QName { schema: table.schema.clone(), name: temp.clone() };
        up.push(format!("ALTER INDEX {} RENAME TO {}", q.sql(), quote_ident(fin_name)));
    }

    let reversible = sw.old_type.is_some() || sw.same_type;
    let down = if reversible {
        contract_down(ctx, sw, &carry, old.as_ref(), &renames)
    } else {
        sqlgen::refuse(&format!("the previous type of {table}.{source} is unknown"))
    };
    let carried_words = carried_words(&carry);
    let mut d = draft(
        R_CONTRACT,
        StepSpec {
            phase: Phase::Contract,
            title: sw.contract_title.clone(),
            slug: sw.contract_slug.clone(),
            transaction: true,
            up: ctx.tx(BRIEF, &up),
            down,
            lock: LockLevel::AccessExclusive,
            duration: if sw.keep_name { "brief; swaps the columns" } else { "brief; old code breaks" },
            rollback: match &sw.lossy_back {
                Some(why) => format!("re-add {source}, trigger, copy back in batches; {why}"),
                None => format!("re-add {source}, trigger, copy back in {}-row batches{carried_words}", thousands(ctx.config.batch_size)),
            },
            loss: sw.lossy_back.is_some(),
            risk: Risk::Risky,
        },
    );
    d.step.down_transaction = !reversible;
    if sw.keep_name {
        d.step.reconnect = Some(format!(
            "every application connection (pool reset or rolling restart): statements prepared on {table}.{source} fail with SQLSTATE 0A000 until re-prepared"
        ));
    }
    out.push(d);
    Ok(out)
}

fn carried_words(carry: &Carried) -> String {
    let mut names: Vec<&str> = carry.keys.iter().map(|k| k.0.name.as_str()).collect();
    names.extend(carry.own.iter().chain(&carry.referencing).map(|m| m.old.name.as_str()));
    if names.is_empty() { String::new() } else { format!(", restore {}", names.join(", ")) }
}

/// The contract's rollback: one `DO` that brings back the state right before the contract.
fn contract_down(ctx: &Ctx<'_>, sw: &Swap<'_>, carry: &Carried, old: Option<&Column>, renames: &[(String, String)]) -> String {
    let table = sw.table;
    let (source, target) = (sw.source, sw.target.as_str());
    let (s, t) = (quote_ident(source), quote_ident(target));
    let not_null = old.is_some_and(|c| c.not_null);
    let nn_steps = not_null && ctx.config.pg >= PgVersion(12) && ctx.config.pg < PgVersion(18);
    let target_check = quote_ident(&super::not_null_name(ctx, table, target));
    let source_check = quote_ident(&super::not_null_name(ctx, table, source));
    let fin = quote_ident(if sw.keep_name { source } else { target });
    let has_pk = carry.keys.iter().any(|(k, _, _)| matches!(k.kind, ConstraintKind::PrimaryKey { .. }));

    // 1. The new column goes back to its pre-contract shape; the old column and the trigger return.
    let mut pre = Vec::new();
    for (temp, fin_name) in renames {
        let q = QName { schema: table.schema.clone(), name: fin_name.clone() };
        pre.push(format!("ALTER INDEX {} RENAME TO {}", q.sql(), quote_ident(temp)));
    }
    for m in carry.own.iter().chain(&carry.referencing) {
        pre.push(alter(&m.on, &format!("RENAME CONSTRAINT {} TO {}", quote_ident(&m.old.name), quote_ident(&m.tmp))));
    }
    if old.and_then(|c| c.default.as_ref()).is_some() {
        pre.push(alter(table, &format!("ALTER COLUMN {fin} DROP DEFAULT")));
    }
    if nn_steps {
        pre.push(alter(table, &format!("ADD CONSTRAINT {target_check} CHECK ({fin} IS NOT NULL) NOT VALID")));
        if !has_pk {
            pre.push(alter(table, &format!("ALTER COLUMN {fin} DROP NOT NULL")));
        }
    }
    if sw.keep_name {
        pre.push(alter(table, &format!("RENAME COLUMN {s} TO {t}")));
    }
    pre.push(sqlgen::add_column_like(table, source, sw.old_type.as_deref(), target, None));
    if let Some(d) = old.and_then(|c| c.default.as_ref()) {
        pre.push(alter(table, &format!("ALTER COLUMN {s} SET DEFAULT {d}")));
    }
    if let Some(seq) = &carry.sequence {
        pre.push(format!("ALTER SEQUENCE {} OWNED BY {}.{s}", seq.sql(), table.sql()));
    }
    pre.extend(sw.trigger.iter().cloned());

    // 2. Values copied back in batches, walking the key (which now sits on the new column).
    let walk = match ctx.walk(table) {
        Walk::Key(cols) => Walk::Key(cols.into_iter().map(|c| if c == source { target.to_string() } else { c }).collect()),
        Walk::Pages => Walk::Pages,
    };
    // The block is compiled before its first statement renames columns: key variables get plain types.
    let key_types: Vec<(String, String)> = match &walk {
        Walk::Key(cols) => cols
            .iter()
            .filter_map(|c| {
                let ty = if c == target { sw.new_type.clone() } else { ctx.column(c).map(|k| k.type_sql.clone()) }?;
                Some((format!("{}.{}%TYPE", table.sql(), quote_ident(c)), ty))
            })
            .collect(),
        Walk::Pages => Vec::new(),
    };
    let mut copy = sqlgen::backfill(
        &Backfill {
            table,
            set: vec![(source.to_string(), sw.to_old.clone())],
            filter: None,
            needs: format!("{s} IS DISTINCT FROM {}", sw.to_old),
            walk,
        },
        ctx.config,
    );
    for (decl, ty) in &key_types {
        copy = copy.replace(decl, ty);
    }

    // 3. NOT NULL, keys, indexes and constraints back on the old column.
    let mut post: Vec<Vec<String>> = Vec::new();
    let mut checks = Vec::new();
    if not_null {
        checks.push(alter(table, &format!("ADD CONSTRAINT {source_check} CHECK ({s} IS NOT NULL) NOT VALID")));
    }
    post.push(checks);
    let mut validate = Vec::new();
    if not_null {
        validate.push(alter(table, &format!("VALIDATE CONSTRAINT {source_check}")));
    }
    if nn_steps {
        validate.push(alter(table, &format!("VALIDATE CONSTRAINT {target_check}")));
    }
    post.push(validate);
    let mut keys = Vec::new();
    for (_, _, def) in &carry.keys {
        keys.push(def.replacen("CONCURRENTLY ", "", 1));
    }
    for m in &carry.referencing {
        keys.push(alter(&m.on, &format!("DROP CONSTRAINT {}", quote_ident(&m.tmp))));
    }
    for (k, _, _) in &carry.keys {
        keys.push(alter(table, &format!("DROP CONSTRAINT {}", quote_ident(&k.name))));
    }
    // Before the contract the new column was nullable (held by the CHECK); dropping the key keeps NOT NULL.
    if has_pk && ctx.config.pg < PgVersion(18) {
        keys.push(alter(table, &format!("ALTER COLUMN {t} DROP NOT NULL")));
    }
    if not_null {
        keys.push(alter(table, &format!("ALTER COLUMN {s} SET NOT NULL")));
        keys.push(alter(table, &format!("DROP CONSTRAINT {source_check}")));
    }
    for (k, _, _) in &carry.keys {
        keys.push(alter(table, &format!("ADD CONSTRAINT {} {}", quote_ident(&k.name), k.definition)));
    }
    for i in ctx.analysis.before.indexes_on(&table.key()).filter(|i| i.constraint.is_none() && i.columns.iter().any(|c| c == source)) {
        keys.push(i.definition.clone());
    }
    let mut validate = Vec::new();
    for m in carry.own.iter().chain(&carry.referencing) {
        keys.push(alter(&m.on, &format!("ADD CONSTRAINT {} {} NOT VALID", quote_ident(&m.old.name), m.old.definition)));
        if m.old.validated {
            validate.push(alter(&m.on, &format!("VALIDATE CONSTRAINT {}", quote_ident(&m.old.name))));
        }
    }
    for m in &carry.referencing {
        keys.push(alter(&m.on, &format!("ADD CONSTRAINT {} {} NOT VALID", quote_ident(&m.tmp), m.definition)));
        if m.old.validated {
            validate.push(alter(&m.on, &format!("VALIDATE CONSTRAINT {}", quote_ident(&m.tmp))));
        }
    }
    post.push(keys);
    post.push(validate);
    sqlgen::batched_block(ctx.config, &pre, &copy, &post)
}
