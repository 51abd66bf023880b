//! One recipe per [`Strategy`]: an operation in, step drafts out. A draft carries a rank; drafts are
//! ordered by rank (stable, so change order holds within a rank):
//! 0 expand / single → 10 code deploy (writers) → 20 backfill → 22 NOT VALID check → 25 validate → 27 concurrent index rebuilds →
//! 28/29 carried foreign keys and CHECKs NOT VALID / validated (`swap`) → 30 code deploy (readers) → 40 contract.

use super::sqlgen::{self, BRIEF, Backfill, Walk};
use super::{Analysis, Classified, CodeChange, Phase, PlanConfig, PlanError, Step};
use crate::model::{Column, ConstraintKind, LockLevel, PgVersion, QName, Risk, Table, quote_ident, quote_literal};
use crate::op::{Generated, OpKind, TableAction};
use crate::rules::Strategy;
use crate::schema::{self, object_name};
use crate::sql;

mod swap;

/// A step before numbering.
pub(super) struct Draft {
    pub rank: u32,
    /// May be merged into the previous single-file step.
    pub mergeable: bool,
    /// The table a backfill step writes (vacuumed right after it).
    pub backfills: Option<QName>,
    pub step: Step,
}

const R_EXPAND: u32 = 0;
const R_WRITERS: u32 = 10;
const R_BACKFILL: u32 = 20;
const R_CHECK: u32 = 22;
const R_VALIDATE: u32 = 25;
const R_READERS: u32 = 30;
const R_INDEX: u32 = 27;
const R_CONTRACT: u32 = 40;

struct StepSpec<'a> {
    phase: Phase,
    title: String,
    slug: String,
    transaction: bool,
    up: String,
    down: String,
    lock: LockLevel,
    duration: &'a str,
    rollback: String,
    loss: bool,
    risk: Risk,
}

fn draft(rank: u32, s: StepSpec<'_>) -> Draft {
    Draft {
        rank,
        mergeable: false,
        backfills: None,
        step: Step {
            n: 0,
            phase: s.phase,
            title: s.title,
            slug: slugify(&s.slug),
            file: None,
            transaction: s.transaction,
            up: s.up,
            down: s.down,
            down_transaction: s.transaction,
            reconnect: None,
            lock: s.lock,
            duration: s.duration.to_string(),
            rollback: s.rollback,
            rollback_data_loss: s.loss,
            risk: s.risk,
            code_changes: Vec::new(),
            orm_changes: Vec::new(),
        },
    }
}

fn code(rank: u32, title: String, changes: Vec<CodeChange>) -> Draft {
    let mut d = draft(
        rank,
        StepSpec {
            phase: Phase::Code,
            title,
            slug: "code_deploy".into(),
            transaction: false,
            up: String::new(),
            down: String::new(),
            lock: LockLevel::None,
            duration: "",
            rollback: "redeploy the previous release".into(),
            loss: false,
            risk: Risk::Info,
        },
    );
    d.step.code_changes = changes;
    d
}

/// Lower-case `[a-z0-9_]`, at most 60 characters.
fn slugify(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').chars().take(60).collect()
}

/// `5000` → `5,000`.
fn thousands(n: u32) -> String {
    crate::model::thousands(u64::from(n))
}

fn stmt(s: String) -> String {
    format!("{};", s.trim_end_matches(';'))
}

/// Every recipe's drafts for the whole change.
pub(super) fn drafts(analysis: &Analysis, config: &PlanConfig) -> Result<Vec<Draft>, PlanError> {
    let mut out = Vec::new();
    let mut consumed = vec![false; analysis.ops.len()];
    let names = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let earlier = Earlier::new(analysis);
    for (i, c) in analysis.ops.iter().enumerate() {
        if consumed[i] || matches!(c.op.kind, OpKind::Transaction { .. }) {
            continue;
        }
        let ctx = Ctx { analysis, config, c, names: &names, index: i, earlier: &earlier };
        if let OpKind::CreateIndex(spec) = &c.op.kind
            && spec.if_not_exists
            && let Some(name) = spec.name.as_ref().filter(|n| analysis.before.indexes.contains_key(*n))
        {
            out.push(existing_index(&ctx, name));
            continue;
        }
        match c.strategy {
            Strategy::AsWritten if c.rule == Some("P03") && matches!(c.op.kind, OpKind::CreateIndex(_)) => {
                out.extend(partitioned_index(&ctx));
            }
            Strategy::AsWritten => out.push(as_written(&ctx)),
            Strategy::ConcurrentIndex if ctx.c.table_before.as_ref().is_some_and(|t| t.partitioned) => out.extend(partitioned_index(&ctx)),
            Strategy::ConcurrentIndex => out.push(concurrent_index(&ctx)),
            Strategy::ConcurrentDropIndex => out.push(concurrent_drop_index(&ctx)),
            Strategy::NotNullViaCheck => {
                let OpKind::SetNotNull { table, column } = &c.op.kind else { unreachable!("rule C08 only fires on SET NOT NULL") };
                out.extend(not_null_steps(&ctx, table, column, [R_EXPAND; 3]));
            }
            Strategy::NotValidThenValidate => out.extend(not_valid_then_validate(&ctx)),
            Strategy::ConstraintUsingIndex => out.extend(constraint_using_index(&ctx)),
            Strategy::AddColumnStaged => out.extend(add_column_staged(&ctx, i, &mut consumed)?),
            Strategy::RenameColumnExpandContract => out.extend(rename_column(&ctx)?),
            Strategy::ChangeTypeExpandContract => out.extend(change_type(&ctx, i, &mut consumed)?),
            Strategy::DropAfterDeploy => out.extend(drop_after_deploy(&ctx)),
            Strategy::BatchedUpdate => out.push(batched_update(&ctx)),
            Strategy::ConcurrentReindex => out.push(concurrent_reindex(&ctx)),
            Strategy::ConcurrentDetach => out.push(concurrent_detach(&ctx)),
            Strategy::OwnNonTransactionalFile | Strategy::SeparateTransaction => {
                let mut d = as_written(&ctx);
                d.mergeable = false;
                out.push(d);
            }
            Strategy::DomainNotValid => out.extend(domain_not_valid(&ctx)),
            Strategy::RenameTableWithView => out.extend(rename_table_with_view(&ctx)),
        }
    }
    Ok(vacuum_after_backfills(out))
}

/// A backfill leaves a dead version of every row it updated, and autovacuum starts on the table soon after.
/// A later step waiting for ACCESS EXCLUSIVE behind that autovacuum would queue the application's queries
/// (autovacuum gives way only after `deadlock_timeout`, longer than a step's lock budget), so each
/// backfilled table is vacuumed by a step of its own right after the backfill: it holds only SHARE UPDATE
/// EXCLUSIVE (reads and writes go on) and is done before the next step asks for a lock.
fn vacuum_after_backfills(drafts: Vec<Draft>) -> Vec<Draft> {
    let mut out = Vec::with_capacity(drafts.len());
    let mut vacuumed = std::collections::BTreeSet::new();
    for d in drafts {
        let table = d.backfills.clone();
        let rank = d.rank;
        out.push(d);
        if let Some(table) = table.filter(|t| vacuumed.insert(t.key())) {
            out.push(draft(
                rank,
                StepSpec {
                    phase: Phase::Backfill,
                    title: format!("vacuum {table} after the backfill"),
                    slug: format!("vacuum_{}", table.name),
                    transaction: false,
                    up: format!("VACUUM (ANALYZE) {};", table.sql()),
                    down: sqlgen::nothing("VACUUM changes no definition and no data: nothing to undo"),
                    lock: LockLevel::ShareUpdateExclusive,
                    duration: "whole table; reads & writes go on",
                    rollback: "nothing to undo".into(),
                    loss: false,
                    risk: Risk::Info,
                },
            ));
        }
    }
    out
}

/// Notes for the receipt and report: carried-over objects, assumptions made by recipes.
pub(super) fn notes(analysis: &Analysis, config: &PlanConfig) -> Vec<String> {
    let mut out = Vec::new();
    for c in &analysis.ops {
        let (table, column) = match &c.op.kind {
            OpKind::RenameColumn { table, from, .. } if c.strategy == Strategy::RenameColumnExpandContract => (table, from),
            OpKind::AlterColumnType { table, column, .. } if c.strategy == Strategy::ChangeTypeExpandContract => (table, column),
            OpKind::DropColumn { table, column, .. } if c.strategy == Strategy::DropAfterDeploy => (table, column),
            _ => continue,
        };
        let key = table.key();
        // Renames and type changes carry what the column holds or refuse (recipes::swap), as far as the
        // schema shows it.
        if c.strategy != Strategy::DropAfterDeploy && !analysis.before.checks_names() {
            out.push(format!("{key}.{column}: schema not fully known; carry by hand what zdm cannot see (e.g. materialized views)"));
        }
        if c.strategy == Strategy::DropAfterDeploy {
            for v in analysis.before.views_using(&key, column) {
                out.push(format!("view {} reads {key}.{column}: recreate it before the contract step, or that step fails", v.name));
            }
        }
        if c.table_before.as_ref().is_none_or(|t| t.primary_key().is_none())
            && matches!(c.strategy, Strategy::RenameColumnExpandContract | Strategy::ChangeTypeExpandContract)
        {
            out.push(walk_note(c.table_before.as_ref(), table, config));
        }
    }
    for c in analysis.ops.iter().filter(|c| c.strategy == Strategy::BatchedUpdate || c.strategy == Strategy::AddColumnStaged) {
        if let Some(t) = c.op.kind.table()
            && c.table_before.as_ref().is_none_or(|t| t.primary_key().is_none())
        {
            out.push(walk_note(c.table_before.as_ref(), t, config));
        }
    }
    for c in &analysis.ops {
        let OpKind::CreateIndex(spec) = &c.op.kind else { continue };
        let t = &spec.table;
        match &c.table_before {
            None if c.strategy == Strategy::ConcurrentIndex => {
                out.push(format!("{t} assumed not partitioned (unknown to zdm): CONCURRENTLY fails on a partitioned table"));
            }
            Some(table)
                if table.partitioned
                    && !analysis.before.tables.values().any(|p| p.partition_of.as_ref().is_some_and(|(k, _)| *k == t.key())) =>
            {
                out.push(format!("{t}: no partitions known; the index is built ON ONLY {t}: attach each partition's index"));
            }
            _ => {}
        }
    }
    if analysis.ops.iter().any(|c| matches!(c.op.kind, OpKind::Transaction { .. })) {
        out.push("BEGIN/COMMIT in the change were dropped: zdm decides each step's transaction".into());
    }
    out.sort();
    out.dedup();
    out
}

fn walk_note(table: Option<&Table>, name: &QName, config: &PlanConfig) -> String {
    match (table, config.pg >= PgVersion(14)) {
        (Some(_), true) | (None, true) => {
            format!("{name}: no primary key known; backfill walks heap pages (TID ranges)")
        }
        (_, false) => format!("{name}: no primary key known; backfill assumes key column id"),
    }
}

struct Ctx<'a> {
    analysis: &'a Analysis,
    config: &'a PlanConfig,
    c: &'a Classified,
    /// Names of objects this plan generates so far (so two of them never collide).
    names: &'a std::cell::RefCell<std::collections::BTreeSet<String>>,
    /// Position of `c` in the analysis.
    index: usize,
    /// What earlier statements of the change set (search_path, comments), computed once.
    earlier: &'a Earlier,
}

/// What the statements before each operation of the change set: read once for the whole change (each
/// statement parsed at most once), so no recipe rescans the change.
struct Earlier {
    /// The search_path in force before each operation (None: the default).
    path: Vec<Option<Vec<String>>>,
    /// For each COMMENT: the comment an earlier COMMENT of the change left on the same object, if any.
    comment: Vec<Option<Option<String>>>,
    /// Each operation sets the search_path itself.
    sets_path: Vec<bool>,
}

impl Earlier {
    fn new(analysis: &Analysis) -> Earlier {
        let mut path = Vec::with_capacity(analysis.ops.len());
        let mut comment = Vec::with_capacity(analysis.ops.len());
        let mut sets_path = Vec::with_capacity(analysis.ops.len());
        let mut current: Option<Vec<String>> = None;
        let mut comments: std::collections::HashMap<String, Option<String>> = std::collections::HashMap::new();
        for c in &analysis.ops {
            path.push(current.clone());
            let sql_text = &c.op.sql;
            let may_set_path = matches!(c.op.kind, OpKind::Catalog { .. } | OpKind::Setting { .. } | OpKind::Select { .. })
                && (sql_text.to_ascii_lowercase().contains("search_path") || sql_text.to_ascii_uppercase().starts_with("RESET"));
            let set = if may_set_path { sql::search_path_of(sql_text) } else { None };
            sets_path.push(set.is_some());
            if let Some(p) = set {
                current = p;
            }
            let mut before = None;
            if matches!(c.op.kind, OpKind::Catalog { .. } | OpKind::Comment { .. })
                && let Some((key, text)) = sql::comment_sql(sql_text, None)
            {
                before = comments.get(&key).cloned();
                comments.insert(key, text);
            }
            comment.push(before);
        }
        Earlier { path, comment, sets_path }
    }
}

impl Ctx<'_> {
    fn column(&self, name: &str) -> Option<&Column> {
        self.c.table_before.as_ref().and_then(|t| t.column(name))
    }

    fn walk(&self, table: &QName) -> Walk {
        match self.c.table_before.as_ref().and_then(Table::primary_key) {
            Some(key) => Walk::Key(key.to_vec()),
            None if self.config.pg >= PgVersion(14) => Walk::Pages,
            None => {
                let _ = table;
                Walk::Key(vec!["id".into()])
            }
        }
    }

    fn tx(&self, statement_timeout: Option<&str>, body: &[String]) -> String {
        sqlgen::tx(self.config, statement_timeout, body)
    }
}

fn table_alter(table: &QName, action: &str) -> String {
    format!("ALTER TABLE {} {action}", table.sql())
}

/// The statement as written (made explicit where PostgreSQL would pick a name), with its inverse.
fn as_written(ctx: &Ctx<'_>) -> Draft {
    let c = ctx.c;
    let (mut up, down) = inverse(ctx);
    // A drop whose rollback cannot re-create the object leaves it gone: running the step again is a no-op.
    if sqlgen::refused(&down).is_some()
        && let Some(again) = sql::drop_if_exists(&up)
    {
        up = again;
    }
    let transaction = !c.op.runs_outside_transaction() && c.strategy != Strategy::OwnNonTransactionalFile;
    // Scans, builds and rewrites run as long as the table is big: no statement_timeout for them.
    let new_table = c.table_before.as_ref().is_some_and(|t| t.created_in_change);
    let timeout = if c.rewrite == crate::model::Rewrite::None || new_table { BRIEF } else { None };
    // The statement's own text names objects relative to the search_path the change set before it: the
    // step sets that path for itself (a rerun may run in a fresh session).
    let path = search_path_before(ctx).map(|p| {
        let value = p.iter().map(|s| quote_ident(s)).collect::<Vec<_>>().join(", ");
        format!("SELECT set_config('search_path', {}, true)", quote_literal(&value))
    });
    let (up, down) = match (transaction, path) {
        (true, Some(set)) => (ctx.tx(timeout, &[set.clone(), up]), ctx.tx(timeout, &[set, down])),
        (true, None) => (ctx.tx(timeout, &[up]), ctx.tx(timeout, &[down])),
        (false, _) => (stmt(up), stmt(down)),
    };
    let refused = sqlgen::refused(&down).map(str::to_string);
    let nothing_to_undo = down
        .trim_end()
        .trim_end_matches(';')
        .lines()
        .filter(|l| !l.starts_with("SET LOCAL "))
        .all(|l| l.starts_with("-- ") || l == "SELECT 1");
    let loss = matches!(
        c.op.kind,
        OpKind::CreateTable { .. }
            | OpKind::AddColumn { .. }
            | OpKind::Update { .. }
            | OpKind::DropColumn { .. }
            | OpKind::DropTable { .. }
    ) || (refused.is_some() && destroys_data(&c.op.kind, &c.op.sql));
    let mut d = draft(
        R_EXPAND,
        StepSpec {
            phase: Phase::Single,
            title: describe(&c.op.kind, &c.op.sql),
            slug: slug_of(&c.op.kind),
            transaction,
            up,
            down,
            lock: c.lock,
            duration: if c.rewrite == crate::model::Rewrite::None { "brief" } else { "whole statement" },
            rollback: match &refused {
                None if nothing_to_undo => "nothing to undo".into(),
                None => format!("undo: {}", describe(&c.op.kind, &c.op.sql)),
                Some(why) => format!("cannot be undone: {why}"),
            },
            loss,
            risk: c.risk,
        },
    );
    // Only harmless statements share a file: anything risky keeps its own step, so it can be run (or
    // retried) on its own.
    d.mergeable = transaction && c.risk <= Risk::Info;
    d
}

/// The search_path an earlier statement of the change set for this one (None: the default, or this
/// statement sets it itself).
fn search_path_before(ctx: &Ctx<'_>) -> Option<Vec<String>> {
    if ctx.earlier.sets_path[ctx.index] {
        return None;
    }
    ctx.earlier.path[ctx.index].clone()
}

/// Statements whose effect on rows a no-op rollback cannot give back.
fn destroys_data(kind: &OpKind, sql_text: &str) -> bool {
    match kind {
        OpKind::DropColumn { .. } | OpKind::DropTable { .. } | OpKind::Truncate { .. } | OpKind::Update { .. } => true,
        OpKind::DropNamespace { .. } | OpKind::DropSequence { .. } => true,
        OpKind::Other { what, .. } => ["DELETE", "MERGE", "INSERT"].iter().any(|w| what.starts_with(w)),
        OpKind::Catalog { .. } | OpKind::DropObject { .. } => sql::dropped_types(sql_text).is_some_and(|(_, _, cascade)| cascade),
        OpKind::DataChange { writes } => writes.iter().any(|w| !w.seed),
        _ => false,
    }
}

/// Short words for what an operation does.
fn describe(kind: &OpKind, sql_text: &str) -> String {
    match kind {
        OpKind::CreateTable { table, .. } => format!("create {table}"),
        OpKind::DropTable { table, .. } => format!("drop {table}"),
        OpKind::RenameTable { table, to } => format!("rename {table} → {to}"),
        OpKind::AddColumn { table, column, .. } => format!("add {table}.{}", column.name),
        OpKind::DropColumn { table, column, .. } => format!("drop {table}.{column}"),
        OpKind::RenameColumn { table, from, to } => format!("rename {table}.{from} → {to}"),
        OpKind::AlterColumnType { table, column, type_sql, .. } => format!("{table}.{column} → {type_sql}"),
        OpKind::SetNotNull { table, column } => format!("{table}.{column} NOT NULL"),
        OpKind::DropNotNull { table, column } => format!("{table}.{column} nullable"),
        OpKind::SetDefault { table, column, .. } => format!("default on {table}.{column}"),
        OpKind::DropDefault { table, column } => format!("drop default of {table}.{column}"),
        OpKind::AddConstraint { table, constraint } => {
            format!("add {} on {table}", constraint_word(&constraint.kind))
        }
        OpKind::ValidateConstraint { table, name } => format!("validate {table}.{name}"),
        OpKind::DropConstraint { table, name, .. } => format!("drop constraint {table}.{name}"),
        OpKind::CreateIndex(spec) => format!("index {}", schema::index_name_of(spec)),
        OpKind::DropIndex { name, .. } => format!("drop index {name}"),
        OpKind::CreateEnum { name, .. } => format!("create type {name}"),
        OpKind::CreateView { name, .. } => format!("view {name}"),
        OpKind::Update { table, .. } => format!("update {table}"),
        OpKind::AlterAction { table, action } => format!("{table} {}", action.words()),
        OpKind::Catalog { what } | OpKind::Transaction { what } | OpKind::Other { what, .. } | OpKind::Security { what, .. } => {
            what.to_lowercase()
        }
        _ => sql_text.split_whitespace().take(4).collect::<Vec<_>>().join(" ").to_lowercase(),
    }
}

fn constraint_word(kind: &ConstraintKind) -> &'static str {
    match kind {
        ConstraintKind::PrimaryKey { .. } => "primary key",
        ConstraintKind::Unique { .. } => "unique",
        ConstraintKind::Check { .. } => "check",
        ConstraintKind::ForeignKey { .. } => "foreign key",
        ConstraintKind::Other => "constraint",
    }
}

fn slug_of(kind: &OpKind) -> String {
    let table = kind.table().map(|t| t.name.clone()).unwrap_or_default();
    if let OpKind::AlterAction { action, .. } = kind {
        return format!("{}_{table}", action.words());
    }
    format!("{}_{table}", kind.name())
}

/// (up, down) statements for running `op` as written.
fn inverse(ctx: &Ctx<'_>) -> (String, String) {
    let c = ctx.c;
    let sql_text = c.op.sql.clone();
    let refuse = |why: &str| sqlgen::refuse(why);
    let before = c.table_before.as_ref();
    match &c.op.kind {
        OpKind::CreateTable { table, .. } => (sql_text, format!("DROP TABLE {}", table.sql())),
        OpKind::AddColumn { table, column, .. } => (sql_text, table_alter(table, &format!("DROP COLUMN {}", quote_ident(&column.name)))),
        OpKind::CreateIndex(spec) => {
            let name = schema::index_name_of(spec);
            let up = if spec.name.is_some() {
                sql_text
            } else {
                format!(
                    "CREATE {}INDEX {}{} ON {}",
                    if spec.unique { "UNIQUE " } else { "" },
                    if spec.concurrently { "CONCURRENTLY " } else { "" },
                    quote_ident(&name),
                    spec.body
                )
            };
            let conc = if spec.concurrently { "CONCURRENTLY " } else { "" };
            let q = QName { schema: spec.table.schema.clone(), name };
            (up, format!("DROP INDEX {conc}IF EXISTS {}", q.sql()))
        }
        OpKind::SetDefault { table, column, .. } => {
            let prev = before.and_then(|t| t.column(column)).and_then(|c| c.default.clone());
            let down = match prev {
                Some(d) => format!("ALTER COLUMN {} SET DEFAULT {d}", quote_ident(column)),
                None => format!("ALTER COLUMN {} DROP DEFAULT", quote_ident(column)),
            };
            (sql_text, table_alter(table, &down))
        }
        OpKind::DropDefault { table, column } => match before.and_then(|t| t.column(column)).and_then(|c| c.default.clone()) {
            Some(d) => (sql_text, table_alter(table, &format!("ALTER COLUMN {} SET DEFAULT {d}", quote_ident(column)))),
            None => (sql_text, refuse(&format!("the previous default of {table}.{column} is unknown"))),
        },
        OpKind::SetNotNull { table, column } => {
            (sql_text, table_alter(table, &format!("ALTER COLUMN {} DROP NOT NULL", quote_ident(column))))
        }
        OpKind::DropNotNull { table, column } => {
            (sql_text, table_alter(table, &format!("ALTER COLUMN {} SET NOT NULL", quote_ident(column))))
        }
        OpKind::AddConstraint { table, constraint } => {
            let name = schema::constraint_name_of(table, constraint);
            let up = match (&constraint.name, &constraint.using_index) {
                (None, None) => table_alter(
                    table,
                    &format!(
                        "ADD CONSTRAINT {} {}{}",
                        quote_ident(&name),
                        constraint.definition,
                        if constraint.not_valid { " NOT VALID" } else { "" }
                    ),
                ),
                _ => sql_text,
            };
            (up, table_alter(table, &format!("DROP CONSTRAINT IF EXISTS {}", quote_ident(&name))))
        }
        OpKind::ValidateConstraint { .. } => {
            (sql_text, sqlgen::nothing("VALIDATE only checked existing rows: nothing to undo").trim_end_matches(';').to_string())
        }
        OpKind::DropConstraint { table, name, .. } => match before.and_then(|t| t.constraints.iter().find(|k| &k.name == name)) {
            // The rollback restores the constraint exactly as it was (validated or not), scan included.
            Some(k) => {
                let not_valid = if k.validated { "" } else { " NOT VALID" };
                (sql_text, table_alter(table, &format!("ADD CONSTRAINT {} {}{not_valid}", quote_ident(name), k.definition)))
            }
            None => (sql_text, refuse(&format!("the definition of {table}.{name} is unknown"))),
        },
        OpKind::DropIndex { name, concurrently, .. } => match ctx.analysis.before.indexes.get(&name.name) {
            Some(i) if *concurrently => (sql_text, sql::concurrent_index(&i.definition).unwrap_or_else(|| i.definition.clone())),
            Some(i) => (sql_text, i.definition.clone()),
            None => (sql_text, refuse(&format!("the definition of index {name} is unknown"))),
        },
        OpKind::CreateEnum { name, .. } => (sql_text, format!("DROP TYPE {}", name.sql())),
        OpKind::CreateView { name, replace: false, .. } => (sql_text, format!("DROP VIEW {}", name.sql())),
        OpKind::RenameColumn { table, from, to } => {
            (sql_text, table_alter(table, &format!("RENAME COLUMN {} TO {}", quote_ident(to), quote_ident(from))))
        }
        OpKind::RenameTable { table, to } => {
            let renamed = QName { schema: table.schema.clone(), name: to.clone() };
            (sql_text, format!("ALTER TABLE {} RENAME TO {}", renamed.sql(), quote_ident(&table.name)))
        }
        OpKind::AlterColumnType { table, column, .. } => match before.and_then(|t| t.column(column)) {
            Some(col) => (sql_text, table_alter(table, &format!("ALTER COLUMN {} TYPE {}", quote_ident(column), col.type_sql))),
            None => (sql_text, refuse(&format!("the previous type of {table}.{column} is unknown"))),
        },
        OpKind::DropColumn { table, column, .. } => match before.and_then(|t| t.column(column)) {
            Some(col) => (sql_text, table_alter(table, &readd_column(col))),
            None => (sql_text, refuse(&format!("the type of {table}.{column} is unknown"))),
        },
        OpKind::DropTable { table, .. } => match before {
            Some(t) => (sql_text, recreate_table(ctx, t)),
            None => (sql_text, refuse(&format!("the definition of {table} is unknown"))),
        },
        OpKind::Update { .. } => (sql_text, refuse("the previous values are not kept: restore from a backup if needed")),
        OpKind::AlterAction { table, action } => match action {
            TableAction::SetLogged => (sql_text, format!("ALTER TABLE {} SET UNLOGGED", table.sql())),
            TableAction::SetUnlogged => (sql_text, format!("ALTER TABLE {} SET LOGGED", table.sql())),
            TableAction::RowSecurity { mode } if mode == "ENABLE" || mode == "DISABLE" => {
                let back = if mode == "ENABLE" { "DISABLE" } else { "ENABLE" };
                (sql_text, format!("ALTER TABLE {} {back} ROW LEVEL SECURITY", table.sql()))
            }
            TableAction::AttachPartition { partition } => {
                (sql_text, format!("ALTER TABLE {} DETACH PARTITION {}", table.sql(), partition.sql()))
            }
            _ => {
                let what = describe(&c.op.kind, &sql_text);
                (sql_text, refuse(&format!("{what}: the previous setting is unknown")))
            }
        },
        OpKind::CreateTrigger { table, name } => (sql_text, format!("DROP TRIGGER {} ON {}", quote_ident(name), table.sql())),
        OpKind::CreateDomain { name, .. } => (sql_text, format!("DROP DOMAIN {}", name.sql())),
        OpKind::AddDomainConstraint { domain, name: Some(name), .. } => {
            (sql_text, format!("ALTER DOMAIN {} DROP CONSTRAINT IF EXISTS {}", domain.sql(), quote_ident(name)))
        }
        OpKind::Extension { action, name } if action == "CREATE" => (sql_text, format!("DROP EXTENSION {}", quote_ident(name))),
        OpKind::RenameEnumValue { name, from, to } => (
            sql_text,
            format!("ALTER TYPE {} RENAME VALUE {} TO {}", name.sql(), crate::model::quote_literal(to), crate::model::quote_literal(from)),
        ),
        OpKind::AddEnumValue { idempotent_sql, .. } => {
            (idempotent_sql.clone(), refuse("enum labels cannot be removed: the label stays, unused"))
        }
        OpKind::RenameConstraint { table, from, to } => {
            (sql_text, table_alter(table, &format!("RENAME CONSTRAINT {} TO {}", quote_ident(to), quote_ident(from))))
        }
        OpKind::CreateTableAs { table, .. } => (sql_text, format!("DROP TABLE IF EXISTS {}", table.sql())),
        OpKind::LockTable { .. } => (sql_text, sqlgen::nothing("the lock ended with its step").trim_end_matches(';').to_string()),
        OpKind::Select { .. } if !c.findings.iter().any(|f| f.rule == "D05" || f.rule == "D06") => {
            (sql_text, sqlgen::nothing("a read changes nothing").trim_end_matches(';').to_string())
        }
        OpKind::DataChange { writes }
            if !writes.is_empty()
                && writes.iter().all(|w| {
                    w.seed
                        && ctx
                            .analysis
                            .ops
                            .iter()
                            .any(|o| matches!(&o.op.kind, OpKind::CreateTable { table, .. } if table.key() == w.table.key()))
                }) =>
        {
            (sql_text, sqlgen::nothing("the rows go with the table the change creates").trim_end_matches(';').to_string())
        }
        OpKind::Reindex { .. } | OpKind::Vacuum { .. } => {
            (sql_text, sqlgen::nothing("a rebuild changes no definition: nothing to undo").trim_end_matches(';').to_string())
        }
        OpKind::Catalog { .. } | OpKind::Comment { .. } | OpKind::Setting { .. } | OpKind::DropObject { .. } => {
            let down = catalog_inverse(ctx).unwrap_or_else(|| {
                let what = describe(&c.op.kind, &sql_text);
                refuse(&format!("{what} has no known inverse"))
            });
            (sql_text, down)
        }
        _ => {
            let what = describe(&c.op.kind, &sql_text);
            (sql_text, refuse(&format!("{what} has no known inverse")))
        }
    }
}

/// The rollback of a catalog statement zdm can read: the previous comment, RESET, a re-created enum, DROP
/// FUNCTION; a `refuse` no-op saying why when the previous state is not known.
fn catalog_inverse(ctx: &Ctx<'_>) -> Option<String> {
    let c = ctx.c;
    let sql_text = &c.op.sql;
    if let Some((key, _)) = sql::comment_sql(sql_text, None) {
        // The comment just before this statement: an earlier COMMENT of the change, else the schema's.
        let _ = &key;
        let earlier = ctx.earlier.comment[ctx.index].clone();
        let previous = earlier.unwrap_or_else(|| ctx.analysis.before.comments.get(&key).cloned());
        if previous.is_none() && !ctx.analysis.before.is_known() {
            return Some(sqlgen::refuse("the previous comment is not known (no schema found)"));
        }
        return sql::comment_sql(sql_text, previous.as_deref()).map(|(down, _)| down);
    }
    if let Some(inverse) = sql::set_inverse(sql_text) {
        return Some(match inverse {
            Ok(Some(reset)) => reset,
            Ok(None) => {
                sqlgen::nothing("SET LOCAL / SET TRANSACTION end with their transaction: nothing to undo").trim_end_matches(';').to_string()
            }
            Err(why) => sqlgen::refuse(&why),
        });
    }
    if let Some((names, domain, cascade)) = sql::dropped_types(sql_text) {
        if cascade {
            return Some(sqlgen::refuse("CASCADE dropped the columns and objects using the type, with their data"));
        }
        if domain {
            return Some(sqlgen::refuse("zdm does not keep domain definitions"));
        }
        let mut creates = Vec::new();
        for n in &names {
            let Some(e) = ctx.analysis.before.enums.get(&n.key()) else {
                return Some(sqlgen::refuse(&format!("the definition of type {n} is not known")));
            };
            let labels = e.values.iter().map(|v| quote_literal(v)).collect::<Vec<_>>().join(", ");
            creates.push(format!("CREATE TYPE {} AS ENUM ({labels})", n.sql()));
        }
        return Some(creates.join(";\n"));
    }
    sql::drop_of_created_function(sql_text)
}

/// `ADD COLUMN` that re-creates a dropped column (empty; NOT NULL only when a default fills it).
fn readd_column(col: &Column) -> String {
    let mut s = format!("ADD COLUMN {} {}", quote_ident(&col.name), col.type_sql);
    if let Some(d) = &col.default {
        s.push_str(&format!(" DEFAULT {d}"));
        if col.not_null {
            s.push_str(" NOT NULL");
        }
    }
    s
}

fn recreate_table(ctx: &Ctx<'_>, t: &Table) -> String {
    let key = t.name.key();
    let mut parts = vec![schema::create_table_sql(t)];
    parts.extend(ctx.analysis.before.indexes_on(&key).filter(|i| i.constraint.is_none()).map(|i| i.definition.clone()));
    parts.join(";\n")
}

/// `CREATE INDEX IF NOT EXISTS name` where `name` already exists: nothing to build, and nothing to drop on
/// rollback (the index is not the plan's).
fn existing_index(ctx: &Ctx<'_>, name: &str) -> Draft {
    let why = format!("index {name} already exists: CREATE INDEX IF NOT EXISTS does nothing, and the rollback leaves it alone");
    let mut d = draft(
        R_EXPAND,
        StepSpec {
            phase: Phase::Single,
            title: format!("keep existing index {name}"),
            slug: format!("index_{name}"),
            transaction: true,
            up: sqlgen::nothing(&why),
            down: sqlgen::nothing(&why),
            lock: LockLevel::None,
            duration: "none",
            rollback: "nothing to undo".into(),
            loss: false,
            risk: Risk::Safe,
        },
    );
    d.mergeable = false;
    let _ = ctx;
    d
}

fn concurrent_index(ctx: &Ctx<'_>) -> Draft {
    let OpKind::CreateIndex(spec) = &ctx.c.op.kind else { unreachable!("rule I01 only fires on CREATE INDEX") };
    let name = QName { schema: spec.table.schema.clone(), name: schema::index_name_of(spec) };
    draft(
        R_EXPAND,
        StepSpec {
            phase: Phase::Expand,
            title: format!("build index {} CONCURRENTLY", name.name),
            slug: format!("index_{}", name.name),
            transaction: false,
            up: format!(
                "CREATE {}INDEX CONCURRENTLY {} ON {};",
                if spec.unique { "UNIQUE " } else { "" },
                quote_ident(&name.name),
                spec.body
            ),
            down: format!("DROP INDEX CONCURRENTLY IF EXISTS {};", name.sql()),
            lock: LockLevel::ShareUpdateExclusive,
            duration: "whole build; reads & writes go on",
            rollback: format!("drop index {}", name.name),
            loss: false,
            risk: Risk::Info,
        },
    )
}

/// An index on a partitioned table, which refuses CONCURRENTLY: an invalid index `ON ONLY` each partitioned
/// table (brief), `CONCURRENTLY` on each leaf partition known from the schema (one non-transactional step
/// each), then one step attaching every partition's index to its parent's (the parent becomes valid).
fn partitioned_index(ctx: &Ctx<'_>) -> Vec<Draft> {
    let OpKind::CreateIndex(spec) = &ctx.c.op.kind else { unreachable!("only called for CREATE INDEX") };
    let parent = spec.table.clone();
    let name = schema::index_name_of(spec);
    let schema_of = |t: &QName| QName { schema: t.schema.clone(), name: String::new() };
    let qualified = |t: &QName, n: &str| QName { name: n.to_string(), ..schema_of(t) };
    // (table, index name, partitioned, parent index) in creation order, parents first.
    let mut nodes: Vec<(QName, String, bool, Option<QName>)> = vec![(parent.clone(), name.clone(), true, None)];
    let mut i = 0;
    while i < nodes.len() {
        let (table, index, partitioned, _) = nodes[i].clone();
        if partitioned {
            for child in ctx.analysis.before.tables.values().filter(|t| t.partition_of.as_ref().is_some_and(|(p, _)| *p == table.key())) {
                let child_index = schema::index_name(&child.name.name, &spec.columns, "idx");
                nodes.push((child.name.clone(), child_index, child.partitioned, Some(qualified(&table, &index))));
            }
        }
        i += 1;
    }
    let variant = |table: &QName, index: &str, only: bool, conc: bool| {
        sql::index_variant(&spec.body, spec.unique, index, table, only, conc).unwrap_or_else(|| spec.body.clone())
    };
    let mut out = Vec::new();
    for (table, index, _, _) in nodes.iter().filter(|n| n.2) {
        let q = qualified(table, index);
        out.push(draft(
            R_EXPAND,
            StepSpec {
                phase: Phase::Expand,
                title: format!("index {index} ON ONLY {table}, invalid until attached"),
                slug: format!("index_{index}_only"),
                transaction: true,
                up: ctx.tx(BRIEF, &[variant(table, index, true, false)]),
                down: ctx.tx(BRIEF, &[format!("DROP INDEX IF EXISTS {}", q.sql())]),
                lock: LockLevel::Share,
                duration: "brief",
                rollback: format!("drop index {index}"),
                loss: false,
                risk: Risk::Info,
            },
        ));
    }
    for (table, index, _, _) in nodes.iter().filter(|n| !n.2) {
        let q = qualified(table, index);
        out.push(draft(
            R_EXPAND,
            StepSpec {
                phase: Phase::Expand,
                title: format!("build index {index} CONCURRENTLY"),
                slug: format!("index_{index}"),
                transaction: false,
                up: stmt(variant(table, index, false, true)),
                down: format!("DROP INDEX CONCURRENTLY IF EXISTS {};", q.sql()),
                lock: LockLevel::ShareUpdateExclusive,
                duration: "whole build; reads & writes go on",
                rollback: format!("drop index {index}"),
                loss: false,
                risk: Risk::Info,
            },
        ));
    }
    // Attach bottom-up, so each sub-partitioned index is complete (valid) before it attaches to its parent.
    let attach: Vec<String> = nodes
        .iter()
        .rev()
        .filter_map(|(table, index, _, parent_index)| {
            parent_index.as_ref().map(|p| format!("ALTER INDEX {} ATTACH PARTITION {}", p.sql(), qualified(table, index).sql()))
        })
        .collect();
    if attach.is_empty() {
        return out;
    }
    // Attached index partitions cannot be detached: the rollback drops the whole index tree and re-creates the
    // invalid ON ONLY indexes, so the earlier steps' rollbacks find what they created.
    let mut down = vec![format!("DROP INDEX IF EXISTS {}", qualified(&parent, &name).sql())];
    down.extend(nodes.iter().filter(|n| n.2).map(|(table, index, _, _)| variant(table, index, true, false)));
    out.push(draft(
        R_EXPAND,
        StepSpec {
            phase: Phase::Expand,
            title: format!("attach {} partition index{} to {name}", attach.len(), if attach.len() == 1 { "" } else { "es" }),
            slug: format!("attach_{name}"),
            transaction: true,
            up: ctx.tx(BRIEF, &attach),
            down: ctx.tx(BRIEF, &down),
            lock: LockLevel::ShareUpdateExclusive,
            duration: "brief",
            rollback: format!("drop {name} and the attached indexes (brief), re-create it ON ONLY"),
            loss: false,
            risk: Risk::Info,
        },
    ));
    out
}

fn concurrent_drop_index(ctx: &Ctx<'_>) -> Draft {
    let OpKind::DropIndex { name, if_exists, .. } = &ctx.c.op.kind else { unreachable!("rule I02 only fires on DROP INDEX") };
    let down = match ctx.analysis.before.indexes.get(&name.name).and_then(|i| sql::concurrent_index(&i.definition)) {
        Some(def) => stmt(def),
        None => sqlgen::refuse(&format!("the definition of index {name} is unknown")),
    };
    draft(
        R_EXPAND,
        StepSpec {
            phase: Phase::Contract,
            title: format!("drop index {} CONCURRENTLY", name.name),
            slug: format!("drop_index_{}", name.name),
            transaction: false,
            up: format!("DROP INDEX CONCURRENTLY {}{};", if *if_exists { "IF EXISTS " } else { "" }, name.sql()),
            rollback: if let Some(why) = sqlgen::refused(&down) {
                format!("cannot be undone: {why}")
            } else {
                format!("rebuild {} CONCURRENTLY", name.name)
            },
            down,
            lock: LockLevel::ShareUpdateExclusive,
            duration: "waits for running queries; reads & writes go on",
            loss: false,
            risk: Risk::Info,
        },
    )
}

/// Name of zdm's NOT NULL CHECK on `table.column` (distinct for distinct columns even when truncated).
/// Free among the table's existing constraints (`…_not_null_1`, …), the same wherever it is asked for.
fn not_null_name(ctx: &Ctx<'_>, table: &QName, column: &str) -> String {
    let base = schema::zdm_name(&table.name, column, "not_null");
    let existing = ctx.analysis.before.table(table);
    let taken = |n: &str| existing.is_some_and(|t| t.constraints.iter().any(|k| k.name == n));
    let mut name = base.clone();
    let mut i = 0;
    while taken(&name) {
        i += 1;
        name = schema::zdm_name(&table.name, column, &format!("not_null_{i}"));
    }
    name
}

/// NOT NULL on `table.column` without a long ACCESS EXCLUSIVE, by version. `ranks`: check, validate, set.
fn not_null_steps(ctx: &Ctx<'_>, table: &QName, column: &str, ranks: [u32; 3]) -> Vec<Draft> {
    let pg = ctx.config.pg;
    let name = not_null_name(ctx, table, column);
    let q = quote_ident(&name);
    let col = quote_ident(column);
    let mut out = Vec::new();
    let add = if pg >= PgVersion(18) {
        format!("ADD CONSTRAINT {q} NOT NULL {col} NOT VALID")
    } else {
        format!("ADD CONSTRAINT {q} CHECK ({col} IS NOT NULL) NOT VALID")
    };
    out.push(draft(
        ranks[0],
        StepSpec {
            phase: Phase::Expand,
            title: if pg >= PgVersion(18) {
                format!("NOT NULL {table}.{column}, NOT VALID")
            } else {
                format!("CHECK {table}.{column} IS NOT NULL, NOT VALID")
            },
            slug: format!("not_null_{}_{column}", table.name),
            transaction: true,
            up: ctx.tx(BRIEF, &[table_alter(table, &add)]),
            down: ctx.tx(BRIEF, &[table_alter(table, &format!("DROP CONSTRAINT IF EXISTS {q}"))]),
            lock: LockLevel::AccessExclusive,
            duration: "brief",
            rollback: format!("drop {name}"),
            loss: false,
            risk: Risk::Info,
        },
    ));
    out.push(validate_draft(ctx, table, &name, ranks[1]));
    if pg >= PgVersion(12) && pg < PgVersion(18) {
        out.push(draft(
            ranks[2],
            StepSpec {
                phase: Phase::Contract,
                title: format!("SET NOT NULL on {table}.{column} (no scan), drop the CHECK"),
                slug: format!("set_not_null_{}_{column}", table.name),
                transaction: true,
                up: ctx.tx(
                    BRIEF,
                    &[table_alter(table, &format!("ALTER COLUMN {col} SET NOT NULL")), table_alter(table, &format!("DROP CONSTRAINT {q}"))],
                ),
                down: ctx.tx(
                    BRIEF,
                    &[
                        table_alter(table, &format!("ADD CONSTRAINT {q} CHECK ({col} IS NOT NULL) NOT VALID")),
                        table_alter(table, &format!("ALTER COLUMN {col} DROP NOT NULL")),
                    ],
                ),
                lock: LockLevel::AccessExclusive,
                duration: "brief; the validated CHECK skips the scan",
                rollback: format!("DROP NOT NULL, keep {name} as NOT VALID"),
                loss: false,
                risk: Risk::Info,
            },
        ));
    }
    out
}

fn validate_draft(ctx: &Ctx<'_>, table: &QName, name: &str, rank: u32) -> Draft {
    draft(
        rank,
        StepSpec {
            phase: Phase::Expand,
            title: format!("validate {name}"),
            slug: format!("validate_{name}"),
            transaction: true,
            up: ctx.tx(None, &[table_alter(table, &format!("VALIDATE CONSTRAINT {}", quote_ident(name)))]),
            down: sqlgen::nothing("VALIDATE only checked existing rows: nothing to undo"),
            lock: LockLevel::ShareUpdateExclusive,
            duration: "whole scan; reads & writes go on",
            rollback: "nothing to undo".into(),
            loss: false,
            risk: Risk::Info,
        },
    )
}

fn not_valid_then_validate(ctx: &Ctx<'_>) -> Vec<Draft> {
    let OpKind::AddConstraint { table, constraint } = &ctx.c.op.kind else { unreachable!("rules K01/K02 only fire on ADD CONSTRAINT") };
    let name = schema::constraint_name_of(table, constraint);
    let lock = if matches!(constraint.kind, ConstraintKind::ForeignKey { .. }) {
        LockLevel::ShareRowExclusive
    } else {
        LockLevel::AccessExclusive
    };
    let add = draft(
        R_EXPAND,
        StepSpec {
            phase: Phase::Expand,
            title: format!("add {} {name} NOT VALID (new writes checked)", constraint_word(&constraint.kind)),
            slug: format!("add_{name}"),
            transaction: true,
            up: ctx.tx(BRIEF, &[table_alter(table, &format!("ADD CONSTRAINT {} {} NOT VALID", quote_ident(&name), constraint.definition))]),
            down: ctx.tx(BRIEF, &[table_alter(table, &format!("DROP CONSTRAINT IF EXISTS {}", quote_ident(&name)))]),
            lock,
            duration: "brief",
            rollback: format!("drop {name}"),
            loss: false,
            risk: Risk::Info,
        },
    );
    vec![add, validate_draft(ctx, table, &name, R_EXPAND)]
}

fn constraint_using_index(ctx: &Ctx<'_>) -> Vec<Draft> {
    let OpKind::AddConstraint { table, constraint } = &ctx.c.op.kind else { unreachable!("rules K04/K05 only fire on ADD CONSTRAINT") };
    let name = schema::constraint_name_of(table, constraint);
    let columns = constraint.kind.columns();
    let primary = matches!(constraint.kind, ConstraintKind::PrimaryKey { .. });
    let mut out = Vec::new();
    if primary {
        for col in columns.iter().filter(|c| ctx.column(c).is_none_or(|c| !c.not_null)) {
            out.extend(not_null_steps(ctx, table, col, [R_EXPAND; 3]));
        }
    }
    let qname = QName { schema: table.schema.clone(), name: name.clone() };
    let cols = columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
    out.push(draft(
        R_EXPAND,
        StepSpec {
            phase: Phase::Expand,
            title: format!("build unique index {name} CONCURRENTLY"),
            slug: format!("index_{name}"),
            transaction: false,
            up: format!("CREATE UNIQUE INDEX CONCURRENTLY {} ON {} ({cols});", quote_ident(&name), table.sql()),
            down: format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qname.sql()),
            lock: LockLevel::ShareUpdateExclusive,
            duration: "whole build; reads & writes go on",
            rollback: format!("drop index {name}"),
            loss: false,
            risk: Risk::Info,
        },
    ));
    let kind = if primary { "PRIMARY KEY" } else { "UNIQUE" };
    out.push(draft(
        R_EXPAND,
        StepSpec {
            phase: Phase::Expand,
            title: format!("attach {name} as {kind} USING INDEX"),
            slug: format!("add_{name}"),
            transaction: true,
            up: ctx.tx(BRIEF, &[table_alter(table, &format!("ADD CONSTRAINT {q} {kind} USING INDEX {q}", q = quote_ident(&name)))]),
            down: ctx.tx(BRIEF, &[table_alter(table, &format!("DROP CONSTRAINT IF EXISTS {}", quote_ident(&name)))]),
            lock: LockLevel::AccessExclusive,
            duration: "brief",
            rollback: format!("drop constraint {name} (its index goes with it)"),
            loss: false,
            risk: Risk::Info,
        },
    ));
    out
}

/// ADD COLUMN made safe: nullable first, default for new rows, batched fill, then NOT NULL.
fn add_column_staged(ctx: &Ctx<'_>, index: usize, consumed: &mut [bool]) -> Result<Vec<Draft>, PlanError> {
    let OpKind::AddColumn { table, column, .. } = &ctx.c.op.kind else { unreachable!("rules C01-C03 only fire on ADD COLUMN") };
    if column.unique || column.references.is_some() || column.check.is_some() {
        return Err(PlanError {
            message: format!("{table}.{}: zdm stages this column but not its inline UNIQUE / REFERENCES / CHECK", column.name),
            pos: ctx.c.op.pos,
            help: Some("move them to their own ALTER TABLE … ADD CONSTRAINT statements; zdm stages those too".into()),
        });
    }
    let companion = ctx.analysis.ops.iter().enumerate().skip(index + 1).find_map(|(j, other)| match &other.op.kind {
        OpKind::Update { table: t, assignments, filter, batchable: true, .. } if t == table => {
            assignments.iter().find(|a| a.column == column.name).map(|a| (j, a.expr.clone(), filter.clone(), assignments.len()))
        }
        _ => None,
    });
    // serial and identity columns get their values from a sequence of their own while staged.
    let serial = schema::serial_base_type(&column.type_name);
    let identity = column.generated == Some(Generated::Identity);
    let sequence = (serial.is_some() || identity).then(|| QName {
        schema: table.schema.clone(),
        name: object_name(&table.name, &column.name, if identity { "zdm_seq" } else { "seq" }),
    });
    let type_sql = serial.map_or_else(|| column.type_sql.clone(), str::to_string);
    let default = match &sequence {
        Some(seq) => Some(format!("nextval({}::regclass)", quote_literal(&seq.sql()))),
        None => column.default.clone(),
    };
    let (value, filter) = match (&default, companion) {
        (_, Some((j, expr, filter, 1))) if sequence.is_none() => {
            consumed[j] = true;
            (expr, filter)
        }
        (Some(d), _) => (d.clone(), None),
        (None, _) => {
            return Err(PlanError {
                message: format!("{table}.{} is NOT NULL with no default: existing rows need a value", column.name),
                pos: ctx.c.op.pos,
                help: Some(format!(
                    "add a DEFAULT, or follow it with `UPDATE {table} SET {} = …;` in the same change (zdm runs it in batches)",
                    column.name
                )),
            });
        }
    };
    let col = quote_ident(&column.name);
    let mut expand = vec![table_alter(table, &format!("ADD COLUMN {col} {type_sql}"))];
    if let Some(seq) = &sequence {
        expand.push(format!("CREATE SEQUENCE {} AS {type_sql} OWNED BY {}.{col}", seq.sql(), table.sql()));
    }
    if let Some(d) = &default {
        expand.push(table_alter(table, &format!("ALTER COLUMN {col} SET DEFAULT {d}")));
    }
    let mut out = vec![draft(
        R_EXPAND,
        StepSpec {
            phase: Phase::Expand,
            title: format!("add {table}.{} nullable{}", column.name, if default.is_some() { " + default for new rows" } else { "" }),
            slug: format!("expand_{}_{}", table.name, column.name),
            transaction: true,
            up: ctx.tx(BRIEF, &expand),
            down: ctx.tx(BRIEF, &[table_alter(table, &format!("DROP COLUMN IF EXISTS {col}"))]),
            lock: LockLevel::AccessExclusive,
            duration: "brief",
            rollback: format!("drop {table}.{}", column.name),
            loss: true,
            risk: Risk::Info,
        },
    )];
    if default.is_none() {
        out.push(code(R_WRITERS, format!("write {table}.{} on every INSERT", column.name), Vec::new()));
    }
    out.push(backfill_draft(
        ctx,
        &Backfill { table, set: vec![(column.name.clone(), value)], filter, needs: format!("{col} IS NULL"), walk: ctx.walk(table) },
        format!("fill {table}.{} in {}-row batches", column.name, thousands(ctx.config.batch_size)),
        false,
    ));
    if column.not_null || sequence.is_some() {
        out.extend(not_null_steps(ctx, table, &column.name, [R_CHECK, R_VALIDATE, R_CONTRACT]));
    }
    if let (true, Some(seq)) = (identity, &sequence) {
        out.push(to_identity(ctx, table, &column.name, &type_sql, seq, column.identity_always));
    }
    Ok(out)
}

/// The last step of a staged identity column: the staging sequence's default becomes the identity, which
/// continues from the staging sequence's value (no scan: NOT NULL is already set).
fn to_identity(ctx: &Ctx<'_>, table: &QName, column: &str, type_sql: &str, seq: &QName, always: bool) -> Draft {
    let col = quote_ident(column);
    let kind = if always { "ALWAYS" } else { "BY DEFAULT" };
    let identity_seq = format!("pg_get_serial_sequence({}, {})", quote_literal(&table.sql()), quote_literal(column));
    let seq_lit = quote_literal(&seq.sql());
    // The staging sequence is released first: pg_get_serial_sequence must find the identity's own.
    let up = [
        table_alter(table, &format!("ALTER COLUMN {col} DROP DEFAULT")),
        format!("ALTER SEQUENCE {} OWNED BY NONE", seq.sql()),
        table_alter(table, &format!("ALTER COLUMN {col} ADD GENERATED {kind} AS IDENTITY")),
        format!("SELECT setval({identity_seq}, coalesce(pg_sequence_last_value({seq_lit}::regclass), 1))"),
        format!("DROP SEQUENCE {}", seq.sql()),
    ];
    let down = [
        format!("CREATE SEQUENCE {} AS {type_sql}", seq.sql()),
        format!("SELECT setval({seq_lit}, coalesce(pg_sequence_last_value({identity_seq}::regclass), 1))"),
        table_alter(table, &format!("ALTER COLUMN {col} DROP IDENTITY")),
        format!("ALTER SEQUENCE {} OWNED BY {}.{col}", seq.sql(), table.sql()),
        table_alter(table, &format!("ALTER COLUMN {col} SET DEFAULT nextval({seq_lit}::regclass)")),
    ];
    draft(
        R_CONTRACT,
        StepSpec {
            phase: Phase::Contract,
            title: format!("{table}.{column} becomes GENERATED {kind} AS IDENTITY"),
            slug: format!("identity_{}_{column}", table.name),
            transaction: true,
            up: ctx.tx(BRIEF, &up),
            down: ctx.tx(BRIEF, &down),
            lock: LockLevel::AccessExclusive,
            duration: "brief",
            rollback: "back to the staging sequence default".into(),
            loss: false,
            risk: Risk::Info,
        },
    )
}

fn backfill_draft(ctx: &Ctx<'_>, b: &Backfill<'_>, title: String, loss: bool) -> Draft {
    let mut d = draft(
        R_BACKFILL,
        StepSpec {
            phase: Phase::Backfill,
            title,
            slug: format!("backfill_{}_{}", b.table.name, b.set.first().map(|s| s.0.as_str()).unwrap_or("")),
            transaction: false,
            up: stmt(sqlgen::backfill(b, ctx.config)),
            down: sqlgen::nothing(if loss {
                "the previous values are not kept: restore from a backup if needed"
            } else {
                "nothing to undo: the expand step's rollback removes the data"
            }),
            lock: LockLevel::RowExclusive,
            duration: "batch by batch",
            rollback: if loss { "old values are gone".into() } else { "nothing to undo".into() },
            loss,
            risk: Risk::Info,
        },
    );
    d.backfills = Some(b.table.clone());
    d
}

fn batched_update(ctx: &Ctx<'_>) -> Draft {
    let OpKind::Update { table, assignments, filter, .. } = &ctx.c.op.kind else { unreachable!("rule H10 only fires on UPDATE") };
    let walk = ctx.walk(table);
    let key = match &walk {
        Walk::Key(k) => Some(k.as_slice()),
        Walk::Pages => None,
    };
    // Rule H10 only asks for batches when they mean the same as the statement.
    let mode = crate::rules::batch_mode(&ctx.c.op.kind, key).unwrap_or(crate::rules::BatchMode::Idempotent);
    let cols = assignments.iter().map(|a| quote_ident(&a.column)).collect::<Vec<_>>().join(", ");
    let exprs = assignments.iter().map(|a| a.expr.clone()).collect::<Vec<_>>().join(", ");
    let needs = match mode {
        crate::rules::BatchMode::Resumable => String::new(),
        crate::rules::BatchMode::Idempotent if assignments.len() == 1 => format!("{cols} IS DISTINCT FROM ({exprs})"),
        crate::rules::BatchMode::Idempotent => format!("({cols}) IS DISTINCT FROM ({exprs})"),
    };
    let b = Backfill {
        table,
        set: assignments.iter().map(|a| (a.column.clone(), a.expr.clone())).collect(),
        filter: filter.clone(),
        needs,
        walk,
    };
    let mut d = backfill_draft(ctx, &b, format!("update {table} in {}-row batches", thousands(ctx.config.batch_size)), true);
    if mode == crate::rules::BatchMode::Resumable {
        let step = progress_key(table, &ctx.c.op.sql);
        d.step.up = stmt(sqlgen::resumable_backfill(&b, ctx.config, &step));
        d.step.down = sqlgen::forget_progress(table, &step);
    }
    d.rank = R_EXPAND;
    d
}

/// The progress row of a resumable backfill: the table and a hash of the statement (FNV-1a), stable
/// across runs of the same file.
fn progress_key(table: &QName, sql_text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in sql_text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{} {h:016x}", table.key())
}

/// An index rebuilt CONCURRENTLY on `to` for each plain index on `from`; (drafts, (temporary, final) names).
fn rebuild_indexes(ctx: &Ctx<'_>, table: &QName, from: &str, to: &str, keep_names: bool) -> (Vec<Draft>, Vec<(String, String)>) {
    let key = table.key();
    let mut drafts = Vec::new();
    let mut renames = Vec::new();
    for i in ctx.analysis.before.indexes_on(&key).filter(|i| i.constraint.is_none() && i.columns.iter().any(|c| c == from)) {
        let base = if keep_names {
            object_name(&i.name, "", "zdm")
        } else if i.name.contains(from) {
            i.name.replacen(from, to, 1)
        } else {
            object_name(&i.name, to, "idx")
        };
        let new_name = swap::free_name(ctx, table.schema.as_deref(), &base);
        let Some(def) = sql::index_for_column(&i.definition, from, to, &new_name) else {
            continue;
        };
        let q = QName { schema: table.schema.clone(), name: new_name.clone() };
        drafts.push(draft(
            R_INDEX,
            StepSpec {
                phase: Phase::Expand,
                title: format!("index {new_name} on {to}, CONCURRENTLY"),
                slug: format!("index_{new_name}"),
                transaction: false,
                up: stmt(def),
                down: format!("DROP INDEX CONCURRENTLY IF EXISTS {};", q.sql()),
                lock: LockLevel::ShareUpdateExclusive,
                duration: "whole build; reads & writes go on",
                rollback: format!("drop index {new_name}"),
                loss: false,
                risk: Risk::Info,
            },
        ));
        renames.push((new_name, i.name.clone()));
    }
    (drafts, renames)
}

/// A new column that shadows an old one until contract (rename, type change).
struct Shadow<'a> {
    table: &'a QName,
    source: &'a str,
    target: &'a str,
    /// `ALTER TABLE … ADD COLUMN target …`.
    add: String,
    /// CREATE FUNCTION + CREATE TRIGGER keeping `target` in step with `source`.
    trigger: Vec<String>,
    /// The value of `target` for existing rows, in terms of the row.
    value: String,
    /// The old column is NOT NULL: the new one gets a CHECK NOT VALID + VALIDATE after the backfill.
    not_null: bool,
    expand_title: String,
    expand_slug: String,
    expand_rollback: String,
    backfill_title: String,
}

/// Expand (new column + trigger), batched backfill, and for NOT NULL columns the CHECK NOT VALID and
/// VALIDATE steps; the NOT NULL itself is set by the recipe's contract step.
fn shadow_column(ctx: &Ctx<'_>, s: &Shadow<'_>) -> Vec<Draft> {
    let target = quote_ident(s.target);
    let mut expand = vec![s.add.clone()];
    expand.extend(s.trigger.iter().cloned());
    let mut expand_down = sqlgen::drop_trigger(s.table, s.source, s.target, true);
    expand_down.push(table_alter(s.table, &format!("DROP COLUMN IF EXISTS {target}")));
    let mut out = vec![draft(
        R_EXPAND,
        StepSpec {
            phase: Phase::Expand,
            title: s.expand_title.clone(),
            slug: s.expand_slug.clone(),
            transaction: true,
            up: ctx.tx(BRIEF, &expand),
            down: ctx.tx(BRIEF, &expand_down),
            lock: LockLevel::AccessExclusive,
            duration: "brief",
            rollback: s.expand_rollback.clone(),
            loss: false,
            risk: Risk::Info,
        },
    )];
    out.push(backfill_draft(
        ctx,
        &Backfill {
            table: s.table,
            set: vec![(s.target.to_string(), s.value.clone())],
            filter: None,
            needs: format!("{target} IS DISTINCT FROM {}", s.value),
            walk: ctx.walk(s.table),
        },
        format!("{} in {}-row batches", s.backfill_title, thousands(ctx.config.batch_size)),
        false,
    ));
    if s.not_null {
        let mut checks = not_null_steps(ctx, s.table, s.target, [R_CHECK, R_VALIDATE, R_CONTRACT]);
        checks.truncate(2); // SET NOT NULL happens inside the contract step
        out.extend(checks);
    }
    out
}

fn rename_column(ctx: &Ctx<'_>) -> Result<Vec<Draft>, PlanError> {
    let OpKind::RenameColumn { table, from, to } = &ctx.c.op.kind else { unreachable!("rule C13 only fires on RENAME COLUMN") };
    let type_sql = ctx.column(from).map(|c| c.type_sql.clone());
    swap::swap(
        ctx,
        &swap::Swap {
            table,
            source: from,
            target: to.clone(),
            keep_name: false,
            add: sqlgen::add_column_like(table, to, type_sql.as_deref(), from, None),
            old_type: type_sql.clone(),
            same_type: true,
            new_type: type_sql,
            trigger: sqlgen::two_way_trigger(table, from, to),
            to_new: quote_ident(from),
            to_old: quote_ident(to),
            expand_title: format!("add {to} + sync trigger"),
            expand_slug: format!("expand_{}_{to}", table.name),
            backfill_title: format!("copy {from} → {to}"),
            deploy: format!("read & write {table}.{to}"),
            contract_title: format!("drop sync trigger + {table}.{from}"),
            contract_slug: format!("contract_{}_{from}", table.name),
            lossy_back: None,
        },
    )
}

/// A type change: the new column keeps its own name (`<column>_<type>`, or the name a RENAME of the
/// column later in the change gives it) unless `keep_column_name` asks for the same-name swap.
fn change_type(ctx: &Ctx<'_>, index: usize, consumed: &mut [bool]) -> Result<Vec<Draft>, PlanError> {
    let OpKind::AlterColumnType { table, column, type_sql, using, .. } = &ctx.c.op.kind else {
        unreachable!("rule C10 only fires on ALTER COLUMN TYPE")
    };
    let renamed = ctx.analysis.ops.iter().enumerate().skip(index + 1).find_map(|(j, o)| match &o.op.kind {
        OpKind::RenameColumn { table: t, from, to } if t == table && from == column => Some((j, to.clone())),
        _ => None,
    });
    let keep_name = renamed.is_none() && ctx.config.keep_column_name;
    let target = match &renamed {
        Some((j, to)) => {
            consumed[*j] = true;
            to.clone()
        }
        None if keep_name => swap::free_column(ctx.c.table_before.as_ref(), &object_name(column, "zdm", "new")),
        None => swap::free_column(ctx.c.table_before.as_ref(), &format!("{column}_{}", slugify(type_sql))),
    };
    let old = ctx.column(column).cloned();
    let (c, n) = (quote_ident(column), quote_ident(&target));
    let expr = using.clone().map_or_else(|| format!("{c}::{type_sql}"), |u| format!("({u})"));
    let enums = &ctx.analysis.before.enums;
    let back = old.as_ref().map_or_else(String::new, |o| {
        // Casting back goes through text when an enum is involved (enums have no casts to each other).
        let via = if enums.contains_key(&o.type_sql) || enums.contains_key(type_sql) { "::text" } else { "" };
        format!("{n}{via}::{}", o.type_sql)
    });
    let trigger = if keep_name || old.is_none() {
        sqlgen::cast_trigger(table, column, &target, &expr)
    } else {
        sqlgen::two_way_cast_trigger(table, column, &target, &expr, &back)
    };
    let (deploy, contract_title) = if keep_name {
        (format!("handle {table}.{column} as {type_sql}"), format!("drop trigger + old {column}, {target} becomes {column}"))
    } else {
        (format!("read & write {table}.{target} ({type_sql})"), format!("drop trigger + old {table}.{column}; {target} stays"))
    };
    swap::swap(
        ctx,
        &swap::Swap {
            table,
            source: column,
            target: target.clone(),
            keep_name,
            add: table_alter(table, &format!("ADD COLUMN {n} {type_sql}")),
            old_type: old.as_ref().map(|o| o.type_sql.clone()),
            same_type: false,
            new_type: Some(type_sql.clone()),
            trigger,
            to_new: expr,
            to_old: back,
            expand_title: format!("add {target} {type_sql} + {} trigger", if keep_name { "cast" } else { "sync" }),
            expand_slug: format!("expand_{}_{column}_type", table.name),
            backfill_title: format!("cast {column} → {target}"),
            deploy,
            contract_title,
            contract_slug: format!("contract_{}_{column}_type", table.name),
            lossy_back: using.as_ref().map(|_| format!("{column} gets {target} cast back: the USING expression is not undone")),
        },
    )
}

fn drop_after_deploy(ctx: &Ctx<'_>) -> Vec<Draft> {
    let c = ctx.c;
    let (what, change, up, down) = match &c.op.kind {
        OpKind::DropColumn { table, column, .. } => (
            format!("{table}.{column}"),
            CodeChange::DropColumn { table: table.name.clone(), column: column.clone() },
            // A rollback that cannot re-create the column leaves it gone: running the step again is a no-op.
            table_alter(
                table,
                &format!("DROP COLUMN {}{}", if ctx.column(column).is_none() { "IF EXISTS " } else { "" }, quote_ident(column)),
            ),
            ctx.column(column).map_or_else(
                || sqlgen::refuse(&format!("the type of {table}.{column} is unknown (no schema found): the column and its data are gone")),
                |col| ctx.tx(BRIEF, &[table_alter(table, &readd_column(col))]),
            ),
        ),
        OpKind::DropTable { table, cascade, .. } => (
            table.key(),
            CodeChange::DropTable { table: table.name.clone() },
            format!(
                "DROP TABLE {}{}{}",
                if c.table_before.is_none() { "IF EXISTS " } else { "" },
                table.sql(),
                if *cascade { " CASCADE" } else { "" }
            ),
            c.table_before.as_ref().map_or_else(
                || sqlgen::refuse(&format!("the definition of {table} is unknown (no schema found): the table and its data are gone")),
                |t| ctx.tx(BRIEF, &[recreate_table(ctx, t)]),
            ),
        ),
        _ => unreachable!("rules C14/T02 only fire on DROP COLUMN / DROP TABLE"),
    };
    vec![
        code(R_READERS, format!("stop reading & writing {what}"), vec![change]),
        draft(
            R_CONTRACT,
            StepSpec {
                phase: Phase::Contract,
                title: format!("drop {what}"),
                slug: format!("drop_{}", what.replace('.', "_")),
                transaction: true,
                up: ctx.tx(BRIEF, &[up]),
                rollback: match sqlgen::refused(&down) {
                    Some(why) => format!("cannot be undone: {why}"),
                    None => format!("re-create {what} empty; data is gone"),
                },
                down,
                lock: LockLevel::AccessExclusive,
                duration: "brief",
                loss: true,
                risk: Risk::Risky,
            },
        ),
    ]
}

fn concurrent_reindex(ctx: &Ctx<'_>) -> Draft {
    let OpKind::Reindex { target, object, .. } = &ctx.c.op.kind else { unreachable!("rule I04 only asks for CONCURRENTLY on REINDEX") };
    let name = if object == "SCHEMA" || object == "DATABASE" { quote_ident(&target.name) } else { target.sql() };
    draft(
        R_EXPAND,
        StepSpec {
            phase: Phase::Expand,
            title: format!("rebuild {} {} CONCURRENTLY", object.to_lowercase(), target),
            slug: format!("reindex_{}", target.name),
            transaction: false,
            up: format!("REINDEX {object} CONCURRENTLY {name};"),
            down: sqlgen::nothing("a rebuild changes no definition: nothing to undo"),
            lock: LockLevel::ShareUpdateExclusive,
            duration: "whole build; reads & writes go on",
            rollback: "nothing to undo".into(),
            loss: false,
            risk: Risk::Info,
        },
    )
}

fn concurrent_detach(ctx: &Ctx<'_>) -> Draft {
    let OpKind::AlterAction { table, action: TableAction::DetachPartition { partition, .. } } = &ctx.c.op.kind else {
        unreachable!("rule P01 only asks for CONCURRENTLY on DETACH PARTITION")
    };
    let bound = ctx.analysis.before.table(partition).and_then(|t| t.partition_of.as_ref()).map(|(_, b)| b.clone());
    draft(
        R_EXPAND,
        StepSpec {
            phase: Phase::Contract,
            title: format!("detach {partition} from {table} CONCURRENTLY"),
            slug: format!("detach_{}", partition.name),
            transaction: false,
            up: format!("ALTER TABLE {} DETACH PARTITION {} CONCURRENTLY;", table.sql(), partition.sql()),
            // DETACH CONCURRENTLY leaves a CHECK equal to the partition constraint on the partition: the
            // rollback re-attaches, then drops exactly that CHECK.
            down: match &bound {
                Some(b) => format!(
                    "ALTER TABLE {t} ATTACH PARTITION {p} {b};\n{drop_check};",
                    t = table.sql(),
                    p = partition.sql(),
                    drop_check = sqlgen::retag(format!(
                        "DO $zdm$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint
            WHERE conrelid = {reg}::regclass AND contype = 'c'
              AND pg_get_constraintdef(oid) = 'CHECK (' || pg_get_partition_constraintdef({reg}::regclass) || ')' LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', {reg}::regclass, c.conname);
  END LOOP;
END
$zdm$",
                        reg = crate::model::quote_literal(&partition.sql())
                    ))
                ),
                None => sqlgen::refuse(&format!("re-attaching {partition} needs its partition bound: ATTACH PARTITION … FOR VALUES …")),
            },
            lock: LockLevel::ShareUpdateExclusive,
            duration: "waits for running queries; reads & writes go on",
            rollback: if bound.is_some() {
                format!("re-attach {partition} (scans it)")
            } else {
                format!("manual: ATTACH {partition} with its bound")
            },
            loss: false,
            risk: Risk::Info,
        },
    )
}

fn domain_not_valid(ctx: &Ctx<'_>) -> Vec<Draft> {
    let OpKind::AddDomainConstraint { domain, name, definition, .. } = &ctx.c.op.kind else {
        unreachable!("rule K09 only fires on ALTER DOMAIN ADD CONSTRAINT")
    };
    let name = name.clone().unwrap_or_else(|| format!("{}_check", domain.name));
    let q = quote_ident(&name);
    let add = draft(
        R_EXPAND,
        StepSpec {
            phase: Phase::Expand,
            title: format!("add {name} to domain {domain}, NOT VALID"),
            slug: format!("add_{name}"),
            transaction: true,
            up: ctx.tx(BRIEF, &[format!("ALTER DOMAIN {} ADD CONSTRAINT {q} {definition} NOT VALID", domain.sql())]),
            down: ctx.tx(BRIEF, &[format!("ALTER DOMAIN {} DROP CONSTRAINT IF EXISTS {q}", domain.sql())]),
            lock: LockLevel::Share,
            duration: "brief",
            rollback: format!("drop {name}"),
            loss: false,
            risk: Risk::Info,
        },
    );
    let validate = draft(
        R_EXPAND,
        StepSpec {
            phase: Phase::Expand,
            title: format!("validate {name} on domain {domain}"),
            slug: format!("validate_{name}"),
            transaction: true,
            up: ctx.tx(None, &[format!("ALTER DOMAIN {} VALIDATE CONSTRAINT {q}", domain.sql())]),
            down: sqlgen::nothing("VALIDATE only checked existing rows: nothing to undo"),
            lock: LockLevel::ShareUpdateExclusive,
            duration: "scans every column of the domain",
            rollback: "nothing to undo".into(),
            loss: false,
            risk: Risk::Info,
        },
    );
    vec![add, validate]
}

/// RENAME TABLE made safe: the table takes its new name and a view keeps the old one until the code moved.
fn rename_table_with_view(ctx: &Ctx<'_>) -> Vec<Draft> {
    let OpKind::RenameTable { table, to } = &ctx.c.op.kind else { unreachable!("rule T01 only fires on RENAME TABLE") };
    let renamed = QName { schema: table.schema.clone(), name: to.clone() };
    let options = if ctx.config.pg >= PgVersion(15) { " WITH (security_invoker = true)" } else { "" };
    let view = format!("CREATE VIEW {}{options} AS SELECT * FROM {}", table.sql(), renamed.sql());
    let expand = draft(
        R_EXPAND,
        StepSpec {
            phase: Phase::Expand,
            title: format!("rename {table} → {to}, view {table} for running code"),
            slug: format!("expand_rename_{}_{to}", table.name),
            transaction: true,
            up: ctx.tx(BRIEF, &[format!("ALTER TABLE {} RENAME TO {}", table.sql(), quote_ident(to)), view.clone()]),
            down: ctx.tx(
                BRIEF,
                &[
                    format!("DROP VIEW IF EXISTS {}", table.sql()),
                    format!("ALTER TABLE {} RENAME TO {}", renamed.sql(), quote_ident(&table.name)),
                ],
            ),
            lock: LockLevel::AccessExclusive,
            duration: "brief",
            rollback: format!("drop the view, rename {to} back to {}", table.name),
            loss: false,
            risk: Risk::Info,
        },
    );
    let contract = draft(
        R_CONTRACT,
        StepSpec {
            phase: Phase::Contract,
            title: format!("drop view {table}"),
            slug: format!("contract_view_{}", table.name),
            transaction: true,
            up: ctx.tx(BRIEF, &[format!("DROP VIEW {}", table.sql())]),
            down: ctx.tx(BRIEF, &[view]),
            lock: LockLevel::AccessExclusive,
            duration: "brief; old code breaks",
            rollback: format!("re-create view {table}"),
            loss: false,
            risk: Risk::Risky,
        },
    );
    let change = CodeChange::MoveTable { from: table.name.clone(), to: to.clone() };
    vec![expand, code(R_READERS, format!("use {to} instead of {table}"), vec![change]), contract]
}
