//! The schema model: built by replaying migration files (their `up` parts) in order, then advanced
//! operation by operation while a change is analysed. Imports `model`, `op` and `sql`.

use crate::model::{BlindSpot, Column, Constraint, ConstraintKind, EnumType, Index, QName, Reach, Schema, SchemaSource, Table, View};
use crate::op::{ColumnSpec, ConstraintSpec, IndexSpec, Op, OpKind};
use crate::sql;

/// PostgreSQL's identifier limit (NAMEDATALEN - 1).
const MAX_IDENT: usize = 63;

/// A migration file that could not be replayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayWarning {
    /// File path.
    pub path: String,
    /// What went wrong, with line and column.
    pub message: String,
}

/// Replays the `up` SQL of each file, in the order given, into a schema. What zdm cannot see into (a
/// `DO` block's dynamic SQL, `CREATE TABLE … (LIKE …)`, a file that does not parse) becomes a
/// [`BlindSpot`] that turns off only the name checks it may affect.
#[must_use]
pub fn replay(dir: &str, files: &[(String, String)]) -> (Schema, Vec<ReplayWarning>) {
    let mut schema = Schema::unknown();
    schema.source = SchemaSource::Migrations { dir: dir.to_string(), files: files.len() };
    let mut warnings = Vec::new();
    for (path, up) in files {
        warnings.extend(replay_file(&mut schema, path, up, false));
    }
    (schema, warnings)
}

/// Replays one migration file into `schema` (each file starts with the default search_path). `in_change`
/// marks the tables it creates as new (and empty): `zdm check` replays the files it checks that way. A file
/// that does not parse becomes a blind spot and a warning.
pub fn replay_file(schema: &mut Schema, path: &str, up: &str, in_change: bool) -> Option<ReplayWarning> {
    match sql::parse(&without_psql_commands(up)) {
        Ok(stmts) => {
            replay_ops(schema, path, stmts.into_iter().flat_map(|s| s.ops).collect(), in_change);
            None
        }
        Err(e) => {
            schema.blind_spots.push(BlindSpot {
                path: path.to_string(),
                line: e.pos.line,
                what: "a file that does not parse".into(),
                reach: Reach::Everything,
            });
            Some(ReplayWarning { path: path.to_string(), message: e.to_string() })
        }
    }
}

/// Replays one file's parsed operations (its search_path settings resolved).
pub fn replay_ops(schema: &mut Schema, path: &str, mut ops: Vec<Op>, in_change: bool) {
    let mut resolver = crate::search_path::Resolver::needed(&ops).then(crate::search_path::Resolver::default);
    for op in &mut ops {
        if let Some(r) = resolver.as_mut() {
            r.visit(op, schema);
        }
        replay_op(schema, path, op, 0, in_change);
    }
}

/// Applies a `DO` block of the change being analysed the way replay does: the static SQL inside it (a table
/// it creates exists for the statements after it), a blind spot for what cannot be read.
pub fn apply_do_block(schema: &mut Schema, op: &Op) {
    replay_op(schema, "<change>", op, 0, true);
}

/// Applies one replayed operation, looking inside `DO` blocks (their static SQL is replayed too).
fn replay_op(schema: &mut Schema, path: &str, op: &crate::op::Op, depth: usize, in_change: bool) {
    let spot = |what: &str, reach: Reach| BlindSpot { path: path.to_string(), line: op.pos.line, what: what.to_string(), reach };
    match &op.kind {
        OpKind::DoBlock => match sql::do_block(&op.sql).filter(|_| depth < 3) {
            None => schema.blind_spots.push(spot("a DO block", Reach::Everything)),
            Some(body) => {
                for text in &body.statements {
                    match sql::parse(text) {
                        Ok(stmts) => {
                            for inner in stmts.iter().flat_map(|s| &s.ops) {
                                let inner = crate::op::Op { pos: op.pos, ..inner.clone() };
                                replay_op(schema, path, &inner, depth + 1, in_change);
                            }
                        }
                        Err(_) => schema.blind_spots.push(spot("a DO block", Reach::Everything)),
                    }
                }
                for expr in &body.dynamic {
                    if let Some(reach) = dynamic_reach(schema, expr) {
                        schema.blind_spots.push(spot("a DO block's dynamic EXECUTE", reach));
                    }
                }
            }
        },
        OpKind::CreateTable { table, like: true, .. } => {
            apply_op(schema, op, in_change);
            schema.blind_spots.push(spot("CREATE TABLE … (LIKE …)", Reach::Columns(vec![table.key()])));
        }
        // A materialized view depends on the columns it reads, like a view.
        OpKind::Other { what, .. } if what.starts_with("CREATE MATERIALIZED") => match sql::materialized_view(&op.sql) {
            Some(kind) => apply(schema, &kind, in_change),
            None => schema.blind_spots.push(spot("CREATE MATERIALIZED VIEW", Reach::AnyColumns)),
        },
        OpKind::Other { what, .. }
            if ["CREATE TABLE", "CREATE FOREIGN", "CREATE UNLOGGED", "CREATE TEMP", "SELECT", "IMPORT"]
                .iter()
                .any(|w| what.starts_with(w)) =>
        {
            schema.blind_spots.push(spot(&what.to_lowercase(), Reach::Everything));
        }
        _ => {
            let known = schema.blind_spots.len();
            apply_op(schema, op, in_change);
            // Blind spots `apply` found (a table made from a query) get this file and line.
            for b in &mut schema.blind_spots[known..] {
                b.path = path.to_string();
                b.line = op.pos.line;
            }
        }
    }
}

/// What a dynamic `EXECUTE` may change: nothing (no DDL words), tables it may create or rename, or the
/// columns of the known tables it names (of any table when it names none).
fn dynamic_reach(schema: &Schema, expr: &str) -> Option<Reach> {
    let lower = expr.to_lowercase();
    let ddl = ["alter", "create", "drop", "rename", "add ", "column"].iter().any(|w| lower.contains(w));
    if !ddl {
        return None;
    }
    if (lower.contains("create") || lower.contains("rename")) && (lower.contains("table") || lower.contains(" to ")) {
        return Some(Reach::Everything);
    }
    let words: std::collections::BTreeSet<&str> =
        lower.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.')).filter(|w| !w.is_empty()).collect();
    let named: Vec<String> = schema.tables.keys().filter(|k| words.contains(k.to_lowercase().as_str())).cloned().collect();
    Some(if named.is_empty() { Reach::AnyColumns } else { Reach::Columns(named) })
}

/// Blanks psql meta-commands (`\\restrict`, `\\connect`, …), which pg_dump writes and SQL parsers refuse;
/// line numbers stay those of the file.
pub fn without_psql_commands(text: &str) -> String {
    if !text.lines().any(|l| l.starts_with('\\')) {
        return text.to_string();
    }
    text.lines().map(|l| if l.starts_with('\\') { "" } else { l }).collect::<Vec<_>>().join("\n")
}

/// The schema dumps zdm reads when a project has no migration files to replay (dbmate, Rails, hand-kept).
pub const DUMP_PATHS: &[&str] = &["db/schema.sql", "db/structure.sql", "schema.sql", "structure.sql"];

/// Replays a schema dump (`pg_dump --schema-only` output) into a schema.
#[must_use]
pub fn replay_dump(path: &str, text: &str) -> (Schema, Vec<ReplayWarning>) {
    let (mut schema, warnings) = replay("", &[(path.to_string(), text.to_string())]);
    schema.source = SchemaSource::Dump { path: path.to_string() };
    (schema, warnings)
}

/// PostgreSQL's `makeObjectName`: `name1_name2_label`, shortened to 63 bytes the way the server does.
#[must_use]
pub fn object_name(name1: &str, name2: &str, label: &str) -> String {
    let overhead = label.len() + 1 + usize::from(!name2.is_empty());
    let avail = MAX_IDENT.saturating_sub(overhead);
    let (mut n1, mut n2) = (name1.len(), name2.len());
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let cut = |s: &str, mut n: usize| {
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s[..n].to_string()
    };
    let mut out = cut(name1, n1);
    if !name2.is_empty() {
        out.push('_');
        out.push_str(&cut(name2, n2));
    }
    out.push('_');
    out.push_str(label);
    out
}

/// A name for an object zdm itself creates: [`object_name`] when that fits in 63 bytes; otherwise the
/// shortened name carries a hash of the full parts, so two long names never shorten to the same one.
#[must_use]
pub fn zdm_name(name1: &str, name2: &str, label: &str) -> String {
    let full = object_name(name1, name2, label);
    if name1.len() + name2.len() + label.len() + 2 <= MAX_IDENT {
        return full;
    }
    // FNV-1a, 32 bits: stable across runs and platforms.
    let mut h: u32 = 0x811c_9dc5;
    for b in name1.bytes().chain([0]).chain(name2.bytes()).chain([0]).chain(label.bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    object_name(name1, name2, &format!("{h:08x}_{label}"))
}

/// The name PostgreSQL gives an unnamed index: `table_col1_col2_idx` (`_key` / `_pkey` for constraints).
#[must_use]
pub fn index_name(table: &str, columns: &[String], label: &str) -> String {
    let cols = if label == "pkey" {
        String::new()
    } else if columns.is_empty() {
        "expr".to_string()
    } else {
        columns.join("_")
    };
    object_name(table, &cols, label)
}

/// The name PostgreSQL gives an unnamed constraint of this kind.
#[must_use]
pub fn constraint_name(table: &str, kind: &ConstraintKind) -> String {
    match kind {
        ConstraintKind::PrimaryKey { columns } => index_name(table, columns, "pkey"),
        ConstraintKind::Unique { columns } => index_name(table, columns, "key"),
        ConstraintKind::ForeignKey { columns, .. } => object_name(table, &columns.join("_"), "fkey"),
        ConstraintKind::Check { expr } => object_name(table, first_identifier(expr), "check"),
        ConstraintKind::Other => object_name(table, "", "excl"),
    }
}

fn first_identifier(expr: &str) -> &str {
    let start = expr.find(|c: char| c.is_ascii_alphabetic() || c == '_').unwrap_or(expr.len());
    let rest = &expr[start..];
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
    &rest[..end]
}

/// Resolves the name a constraint will get on `table` (written or PostgreSQL's default).
#[must_use]
pub fn constraint_name_of(table: &QName, spec: &ConstraintSpec) -> String {
    spec.name.clone().unwrap_or_else(|| constraint_name(&table.name, &spec.kind))
}

/// Resolves the name an index will get (written or PostgreSQL's default).
#[must_use]
pub fn index_name_of(spec: &IndexSpec) -> String {
    spec.name.clone().unwrap_or_else(|| index_name(&spec.table.name, &spec.columns, "idx"))
}

/// `serial` → `integer` and so on; None for other types.
#[must_use]
pub fn serial_base_type(type_name: &str) -> Option<&'static str> {
    match type_name {
        "serial" | "serial4" => Some("integer"),
        "bigserial" | "serial8" => Some("bigint"),
        "smallserial" | "serial2" => Some("smallint"),
        _ => None,
    }
}

/// `nextval('seq'::regclass)` as PostgreSQL writes a serial column's default.
#[must_use]
pub fn nextval_of(seq: &QName) -> String {
    format!("nextval({}::regclass)", crate::model::quote_literal(&seq.sql()))
}

/// The model of a column as created: a `serial` column is its integer type, NOT NULL, with a default
/// taken from the sequence it owns (`table_column_seq`), as PostgreSQL makes it.
fn column_of(table: &QName, spec: &ColumnSpec) -> Column {
    let serial = serial_base_type(&spec.type_name);
    let sequence = serial.map(|_| QName { schema: table.schema.clone(), name: object_name(&table.name, &spec.name, "seq") });
    Column {
        name: spec.name.clone(),
        type_sql: serial.map_or_else(|| spec.type_sql.clone(), str::to_string),
        not_null: spec.not_null || serial.is_some(),
        default: sequence.as_ref().map(nextval_of).or_else(|| spec.default.clone()),
        generated: spec.generated.is_some(),
        identity: spec.generated == Some(crate::op::Generated::Identity),
        sequence,
        generated_reads: spec.generated_reads.clone(),
    }
}

/// A type's text in one spelling, PostgreSQL's `format_type` one, whatever alias wrote it (`int4`, `int`
/// and `integer`; `timestamptz` and `timestamp with time zone`; `varchar(20)` and `character varying(20)`):
/// the schema model keeps the spelling a migration used, a catalog keeps only the type, so comparisons
/// between the two go through this.
#[must_use]
pub fn canonical_type(type_sql: &str) -> String {
    let t = type_sql.trim().to_lowercase();
    let (base, dims) = match t.find("[]") {
        Some(i) => (t[..i].trim().to_string(), t[i..].replace(' ', "")),
        None => (t.clone(), String::new()),
    };
    let base = base.strip_prefix("pg_catalog.").unwrap_or(&base).replace(", ", ",");
    let (name, args) = match base.find('(') {
        Some(i) if !base.starts_with("time") => (base[..i].trim().to_string(), base[i..].to_string()),
        _ => (base.clone(), String::new()),
    };
    let name = match name.as_str() {
        "int" | "int4" | "integer" => "integer",
        "int8" => "bigint",
        "int2" => "smallint",
        "bool" => "boolean",
        "float8" | "float" => "double precision",
        "float4" => "real",
        "decimal" => "numeric",
        "varchar" => "character varying",
        "char" | "bpchar" => "character",
        "varbit" => "bit varying",
        "timestamptz" => "timestamp with time zone",
        "timestamp" => "timestamp without time zone",
        "timetz" => "time with time zone",
        "time" => "time without time zone",
        other => other,
    };
    let name = match (name, base.as_str()) {
        (_, b) if b.starts_with("timestamptz(") => format!("timestamp{} with time zone", &b[11..]),
        (_, b) if b.starts_with("timestamp(") && !b.contains(" with") => {
            format!("{} without time zone", b.trim_end_matches(" without time zone"))
        }
        (n, _) => n.to_string(),
    };
    format!("{name}{args}{dims}")
}

/// A default in one form: PostgreSQL stores a literal default with a cast to the column's type
/// (`'active'::status_kind`, `'x'::text`), which a migration seldom writes.
#[must_use]
pub fn canonical_default(expr: &str, type_sql: &str) -> String {
    let canon = canonical_type(type_sql);
    if let Some(i) = expr.rfind("::") {
        let (lit, cast) = (&expr[..i], &expr[i + 2..]);
        let literal =
            lit.starts_with('\'') && lit.ends_with('\'') && lit.len() >= 2 && !lit[1..lit.len() - 1].replace("''", "").contains('\'');
        if literal && canonical_type(cast.trim_matches('"')) == canon {
            return lit.to_string();
        }
    }
    expr.to_string()
}

/// The `serial` type name that creates a column of `type_sql` with its own sequence.
fn serial_of(type_sql: &str) -> Option<&'static str> {
    match type_sql {
        "integer" | "int" | "int4" => Some("serial"),
        "bigint" | "int8" => Some("bigserial"),
        "smallint" | "int2" => Some("smallserial"),
        _ => None,
    }
}

fn inline_constraints(table: &QName, spec: &ColumnSpec) -> Vec<ConstraintSpec> {
    let cols = vec![spec.name.clone()];
    let mut out = Vec::new();
    let q = |name: &str| crate::model::quote_ident(name);
    if spec.primary_key {
        out.push(ConstraintSpec {
            name: None,
            kind: ConstraintKind::PrimaryKey { columns: cols.clone() },
            not_valid: false,
            using_index: None,
            definition: format!("PRIMARY KEY ({})", q(&spec.name)),
        });
    }
    if spec.unique {
        out.push(ConstraintSpec {
            name: None,
            kind: ConstraintKind::Unique { columns: cols.clone() },
            not_valid: false,
            using_index: None,
            definition: format!("UNIQUE ({})", q(&spec.name)),
        });
    }
    if let Some(target) = &spec.references {
        let (ref_columns, options) = inline_reference(&spec.definition);
        let refs = if ref_columns.is_empty() { String::new() } else { format!("({})", quoted_list(&ref_columns)) };
        out.push(ConstraintSpec {
            name: None,
            kind: ConstraintKind::ForeignKey { columns: cols, ref_table: target.clone(), ref_columns },
            not_valid: false,
            using_index: None,
            definition: format!("FOREIGN KEY ({}) REFERENCES {}{refs}{options}", q(&spec.name), target.sql()),
        });
    }
    if let Some(expr) = &spec.check {
        out.push(ConstraintSpec {
            name: Some(object_name(&table.name, &spec.name, "check")),
            kind: ConstraintKind::Check { expr: expr.clone() },
            not_valid: false,
            using_index: None,
            definition: format!("CHECK ({expr})"),
        });
    }
    out
}

/// The referenced columns and the foreign-key options (` ON DELETE CASCADE`, …) of an inline
/// `REFERENCES t (cols) …` in a column definition.
fn inline_reference(definition: &str) -> (Vec<String>, String) {
    let upper = definition.to_uppercase();
    let Some(at) = upper.find("REFERENCES") else { return (Vec::new(), String::new()) };
    let rest = &definition[at + "REFERENCES".len()..];
    let mut words: Vec<&str> = Vec::new();
    let mut columns = Vec::new();
    let mut after = rest;
    if let (Some(open), Some(close)) = (rest.find('('), rest.find(')')) {
        let table_part = &rest[..open];
        if table_part.split_whitespace().count() <= 1 && open < close {
            columns = rest[open + 1..close].split(',').map(|c| c.trim().trim_matches('"').to_string()).filter(|c| !c.is_empty()).collect();
            after = &rest[close + 1..];
        }
    }
    if columns.is_empty() {
        after = rest.trim_start().split_once(char::is_whitespace).map_or("", |(_, r)| r);
    }
    // Foreign-key options only: stop at the next column constraint.
    let tokens: Vec<&str> = after.split_whitespace().collect();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i].to_uppercase();
        let take = match t.as_str() {
            "ON" => match tokens.get(i + 2).map(|w| w.to_uppercase()).as_deref() {
                Some("SET" | "NO") => 4,
                _ => 3,
            },
            "MATCH" => 2,
            "DEFERRABLE" => 1,
            "NOT" if tokens.get(i + 1).is_some_and(|w| w.eq_ignore_ascii_case("DEFERRABLE")) => 2,
            "INITIALLY" => 2,
            _ => 0,
        };
        if take == 0 || i + take > tokens.len() {
            break;
        }
        words.extend(&tokens[i..i + take]);
        i += take;
    }
    let options = if words.is_empty() { String::new() } else { format!(" {}", words.join(" ")) };
    (columns, options)
}

fn add_constraint(schema: &mut Schema, table: &QName, spec: &ConstraintSpec) {
    let name = constraint_name_of(table, spec);
    let key = table.key();
    let backing = match &spec.kind {
        ConstraintKind::PrimaryKey { columns } | ConstraintKind::Unique { columns } => Some(columns.clone()),
        _ => None,
    };
    if let Some(columns) = backing {
        let index_name = spec.using_index.clone().unwrap_or_else(|| name.clone());
        let unique_def =
            format!("CREATE UNIQUE INDEX {} ON {} ({})", crate::model::quote_ident(&index_name), table.sql(), quoted_list(&columns));
        let definition = schema.indexes.remove(&index_name).map_or(unique_def, |i| i.definition);
        if matches!(spec.kind, ConstraintKind::PrimaryKey { .. })
            && let Some(t) = schema.tables.get_mut(&key)
        {
            for c in t.columns.iter_mut().filter(|c| columns.contains(&c.name)) {
                c.not_null = true;
            }
        }
        // With USING INDEX the index takes the constraint's name.
        schema.indexes.insert(
            name.clone(),
            Index { name: name.clone(), table: key.clone(), columns, unique: true, definition, constraint: Some(name.clone()) },
        );
    }
    if let Some(t) = schema.tables.get_mut(&key) {
        t.constraints.retain(|c| c.name != name);
        t.constraints.push(Constraint { name, kind: spec.kind.clone(), validated: !spec.not_valid, definition: spec.definition.clone() });
    }
}

fn quoted_list(columns: &[String]) -> String {
    columns.iter().map(|c| crate::model::quote_ident(c)).collect::<Vec<_>>().join(", ")
}

/// Applies one operation to the schema, including what only its SQL tells (comments, dropped types).
pub fn apply_op(schema: &mut Schema, op: &crate::op::Op, in_change: bool) {
    if let OpKind::Catalog { .. } | OpKind::Comment { .. } = &op.kind {
        if let Some((key, text)) = sql::comment_sql(&op.sql, None) {
            match text {
                Some(t) => schema.comments.insert(key, t),
                None => schema.comments.remove(&key),
            };
        } else if let Some((names, domain, _)) = sql::dropped_types(&op.sql) {
            for n in names {
                if domain {
                    schema.domains.remove(&n.key());
                } else {
                    schema.enums.remove(&n.key());
                }
            }
        }
    }
    apply(schema, &op.kind, in_change);
}

/// Applies one operation to the schema. `in_change` marks tables created by it as new (and empty).
pub fn apply(schema: &mut Schema, kind: &OpKind, in_change: bool) {
    match kind {
        OpKind::CreateTable { table, columns, constraints, partitioned, partition_of, inherits, .. } => {
            if schema.tables.contains_key(&table.key()) {
                return;
            }
            let mut all: Vec<Column> = inherits.iter().filter_map(|p| schema.table(p)).flat_map(|p| p.columns.clone()).collect();
            for c in columns {
                if !all.iter().any(|a| a.name == c.name) {
                    all.push(column_of(table, c));
                }
            }
            schema.tables.insert(
                table.key(),
                Table {
                    name: table.clone(),
                    columns: all,
                    constraints: Vec::new(),
                    created_in_change: in_change,
                    partitioned: *partitioned,
                    partition_of: partition_of.as_ref().map(|(p, b)| (p.key(), b.clone())),
                },
            );
            for spec in columns.iter().flat_map(|c| inline_constraints(table, c)).chain(constraints.iter().cloned()) {
                add_constraint(schema, table, &spec);
            }
        }
        OpKind::DropTable { table, .. } => {
            let key = table.key();
            schema.tables.remove(&key);
            schema.indexes.retain(|_, i| i.table != key);
            // PostgreSQL refuses the drop while views read the table, unless CASCADE drops them too.
            drop_views_reading(schema, &key);
        }
        OpKind::RenameTable { table, to } => {
            let key = table.key();
            if let Some(mut t) = schema.tables.remove(&key) {
                t.name = QName { schema: table.schema.clone(), name: to.clone() };
                let new_key = t.name.key();
                for i in schema.indexes.values_mut().filter(|i| i.table == key) {
                    i.table.clone_from(&new_key);
                }
                schema.tables.insert(new_key, t);
            }
        }
        OpKind::AddColumn { table, column, .. } => {
            let Some(t) = schema.tables.get_mut(&table.key()) else {
                return;
            };
            if t.column(&column.name).is_some() {
                return;
            }
            t.columns.push(column_of(table, column));
            for spec in inline_constraints(table, column) {
                add_constraint(schema, table, &spec);
            }
        }
        OpKind::DropColumn { table, column, .. } => {
            let key = table.key();
            if let Some(t) = schema.tables.get_mut(&key) {
                t.columns.retain(|c| &c.name != column);
                t.constraints.retain(|c| !c.kind.columns().contains(column));
            }
            schema.indexes.retain(|_, i| !(i.table == key && i.columns.contains(column)));
        }
        OpKind::RenameColumn { table, from, to } => {
            let key = table.key();
            let rename = |cols: &mut Vec<String>| cols.iter_mut().filter(|c| *c == from).for_each(|c| c.clone_from(to));
            if let Some(t) = schema.tables.get_mut(&key) {
                t.columns.iter_mut().filter(|c| &c.name == from).for_each(|c| c.name.clone_from(to));
                t.columns.iter_mut().for_each(|c| rename(&mut c.generated_reads));
                for c in &mut t.constraints {
                    match &mut c.kind {
                        ConstraintKind::PrimaryKey { columns }
                        | ConstraintKind::Unique { columns }
                        | ConstraintKind::ForeignKey { columns, .. } => {
                            rename(columns);
                        }
                        _ => {}
                    }
                }
            }
            for i in schema.indexes.values_mut().filter(|i| i.table == key) {
                rename(&mut i.columns);
            }
        }
        OpKind::AlterColumnType { table, column, type_sql, .. } => {
            with_column(schema, table, column, |c| c.type_sql.clone_from(type_sql));
        }
        OpKind::SetNotNull { table, column } => with_column(schema, table, column, |c| c.not_null = true),
        OpKind::DropNotNull { table, column } => with_column(schema, table, column, |c| c.not_null = false),
        OpKind::SetDefault { table, column, expr } => with_column(schema, table, column, |c| c.default = Some(expr.clone())),
        OpKind::DropDefault { table, column } => with_column(schema, table, column, |c| c.default = None),
        OpKind::AddConstraint { table, constraint } => add_constraint(schema, table, constraint),
        OpKind::ValidateConstraint { table, name } => {
            if let Some(t) = schema.tables.get_mut(&table.key()) {
                t.constraints.iter_mut().filter(|c| &c.name == name).for_each(|c| c.validated = true);
            }
        }
        OpKind::DropConstraint { table, name, .. } => {
            if let Some(t) = schema.tables.get_mut(&table.key()) {
                t.constraints.retain(|c| &c.name != name);
            }
            schema.indexes.retain(|_, i| i.constraint.as_deref() != Some(name.as_str()));
        }
        OpKind::CreateIndex(spec) => {
            let name = index_name_of(spec);
            let definition =
                format!("CREATE {}INDEX {} ON {}", if spec.unique { "UNIQUE " } else { "" }, crate::model::quote_ident(&name), spec.body);
            schema.indexes.entry(name.clone()).or_insert(Index {
                name,
                table: spec.table.key(),
                columns: spec.columns.clone(),
                unique: spec.unique,
                definition,
                constraint: None,
            });
        }
        OpKind::DropIndex { name, .. } => {
            schema.indexes.remove(&name.name);
        }
        OpKind::CreateEnum { name, values } => {
            schema.enums.insert(name.key(), EnumType { name: name.clone(), values: values.clone() });
        }
        OpKind::CreateView { name, tables, columns, .. } => {
            schema.views.insert(name.key(), View { name: name.clone(), tables: tables.clone(), columns: columns.clone() });
        }
        OpKind::AddEnumValue { name, value, .. } => {
            if let Some(e) = schema.enums.get_mut(&name.key())
                && !e.values.contains(value)
            {
                e.values.push(value.clone());
            }
        }
        OpKind::RenameEnumValue { name, from, to } => {
            if let Some(e) = schema.enums.get_mut(&name.key()) {
                e.values.iter_mut().filter(|v| *v == from).for_each(|v| v.clone_from(to));
            }
        }
        OpKind::CreateDomain { name, checks } => {
            schema.domains.insert(name.key(), *checks);
        }
        OpKind::AddDomainConstraint { domain, .. } => {
            *schema.domains.entry(domain.key()).or_insert(0) += 1;
        }
        OpKind::CreateTableAs { table, .. } => {
            // Its columns come from a query zdm does not type: names on it are not checked.
            schema.blind_spots.push(BlindSpot {
                path: "the change".into(),
                line: 0,
                what: "CREATE TABLE … AS".into(),
                reach: Reach::Columns(vec![table.key()]),
            });
        }
        OpKind::RenameConstraint { table, from, to } => {
            if let Some(t) = schema.tables.get_mut(&table.key()) {
                t.constraints.iter_mut().filter(|c| &c.name == from).for_each(|c| c.name.clone_from(to));
            }
            // A constraint's index is renamed with it.
            if let Some(mut i) = schema.indexes.remove(from) {
                if i.constraint.as_deref() == Some(from.as_str()) {
                    i.name.clone_from(to);
                    i.constraint = Some(to.clone());
                    schema.indexes.insert(to.clone(), i);
                } else {
                    schema.indexes.insert(from.clone(), i);
                }
            }
        }
        OpKind::DropObject { what, name, cascade, .. } => drop_object(schema, what, name, *cascade),
        OpKind::DropNamespace { what, name } if what == "SCHEMA" => {
            let prefix = format!("{name}.");
            schema.tables.retain(|k, _| !k.starts_with(&prefix));
            schema.indexes.retain(|_, i| !i.table.starts_with(&prefix));
            schema.views.retain(|k, _| !k.starts_with(&prefix));
            schema.enums.retain(|k, _| !k.starts_with(&prefix));
            schema.domains.retain(|k, _| !k.starts_with(&prefix));
        }
        OpKind::DataChange { .. } | OpKind::LockTable { .. } | OpKind::Select { .. } | OpKind::Setting { .. } | OpKind::Comment { .. } => {}
        OpKind::Truncate { .. }
        | OpKind::Update { .. }
        | OpKind::Catalog { .. }
        | OpKind::Transaction { .. }
        | OpKind::Other { .. }
        | OpKind::AlterAction { .. }
        | OpKind::Reindex { .. }
        | OpKind::Vacuum { .. }
        | OpKind::DropNamespace { .. }
        | OpKind::RenameSchema { .. }
        | OpKind::DropSequence { .. }
        | OpKind::CreateTrigger { .. }
        | OpKind::Extension { .. }
        | OpKind::Security { .. }
        | OpKind::DoBlock => {}
    }
}

/// Removes every view that reads `key` (a table or view), and the views reading those, and so on.
fn drop_views_reading(schema: &mut Schema, key: &str) {
    let mut gone = vec![key.to_string()];
    while let Some(k) = gone.pop() {
        let readers: Vec<String> = schema.views.iter().filter(|(_, v)| v.tables.contains(&k)).map(|(vk, _)| vk.clone()).collect();
        for r in readers {
            schema.views.remove(&r);
            gone.push(r);
        }
    }
}

/// The columns whose type is `name` (plain or array), as (table key, column).
#[must_use]
pub fn columns_of_type(schema: &Schema, name: &QName) -> Vec<(String, String)> {
    let wanted = |t: &str| {
        let t = t.trim_end_matches("[]").trim().trim_matches('"');
        t == name.name || t == name.key() || t == name.sql()
    };
    schema
        .tables
        .iter()
        .flat_map(|(k, t)| t.columns.iter().filter(|c| wanted(&c.type_sql)).map(move |c| (k.clone(), c.name.clone())))
        .collect()
}

/// The views that read `key`, directly or through other views.
#[must_use]
pub fn views_reading(schema: &Schema, key: &str) -> Vec<String> {
    let mut copy = Schema { tables: Default::default(), indexes: Default::default(), ..schema.clone() };
    let before: Vec<String> = copy.views.keys().cloned().collect();
    drop_views_reading(&mut copy, key);
    before.into_iter().filter(|k| !copy.views.contains_key(k)).collect()
}

fn drop_object(schema: &mut Schema, what: &str, name: &QName, cascade: bool) {
    let key = name.key();
    match what {
        "VIEW" | "MATERIALIZED VIEW" => {
            schema.views.remove(&key);
            drop_views_reading(schema, &key);
        }
        "TYPE" | "DOMAIN" => {
            if cascade {
                for (table, column) in columns_of_type(schema, name) {
                    apply(schema, &OpKind::DropColumn { table: QName::bare(&table), column, if_exists: true }, false);
                }
            }
            schema.enums.remove(&key);
            schema.domains.remove(&key);
        }
        _ => {}
    }
}

fn with_column(schema: &mut Schema, table: &QName, column: &str, f: impl FnOnce(&mut Column)) {
    if let Some(c) = schema.tables.get_mut(&table.key()).and_then(|t| t.columns.iter_mut().find(|c| c.name == column)) {
        f(c);
    }
}

/// `CREATE TABLE` SQL that recreates `table` as the model knows it (columns, defaults, NOT NULL, constraints).
#[must_use]
pub fn create_table_sql(table: &Table) -> String {
    let mut lines: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            // A column that owns its sequence is re-created as serial: the sequence goes with the table.
            let serial =
                c.sequence.as_ref().filter(|s| c.default.as_deref() == Some(nextval_of(s).as_str())).and_then(|_| serial_of(&c.type_sql));
            let mut line = format!("{} {}", crate::model::quote_ident(&c.name), serial.unwrap_or(&c.type_sql));
            if let Some(d) = c.default.as_ref().filter(|_| serial.is_none()) {
                line.push_str(&format!(" DEFAULT {d}"));
            }
            if c.not_null {
                line.push_str(" NOT NULL");
            }
            line
        })
        .collect();
    lines.extend(table.constraints.iter().map(|c| format!("CONSTRAINT {} {}", crate::model::quote_ident(&c.name), c.definition)));
    format!("CREATE TABLE {} (\n  {}\n)", table.name.sql(), lines.join(",\n  "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replayed(sql: &str) -> Schema {
        replay("m", &[("m/1.sql".into(), sql.into())]).0
    }

    #[test]
    fn partitions_and_children_inherit_columns() {
        let s = replayed(
            "CREATE TABLE m (id bigint, at date) PARTITION BY RANGE (at);\nCREATE TABLE m1 PARTITION OF m FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\nCREATE TABLE c (extra int) INHERITS (m);",
        );
        let names = |t: &str| s.tables[t].columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        assert_eq!(names("m1"), ["id", "at"]);
        assert_eq!(names("c"), ["id", "at", "extra"]);
        assert_eq!(s.tables["m1"].partition_of.as_ref().map(|p| p.1.as_str()), Some("FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"));
        assert!(s.checks_names());
    }

    #[test]
    fn materialized_views_and_tables_made_from_queries_are_known() {
        let s = replayed(
            "CREATE TABLE users (id int, name text);\nCREATE MATERIALIZED VIEW names AS SELECT name FROM users;\nCREATE TABLE copy AS SELECT * FROM users;",
        );
        assert_eq!(s.views_using("users", "name").map(|v| v.name.key()).collect::<Vec<_>>(), ["names"]);
        assert!(s.checks_names_on(&QName::bare("users")) && !s.checks_names_on(&QName::bare("copy")));
        assert_eq!(
            s.blind_spots[0].describe(),
            "m/1.sql:3: CREATE TABLE … AS zdm cannot see into may change columns of copy: their column names are not checked"
        );
    }

    #[test]
    fn statements_zdm_cannot_see_into_turn_only_their_name_checks_off() {
        let a = QName::bare("a");
        let b = QName::bare("b");
        assert!(replayed("CREATE TABLE a (id int); INSERT INTO a VALUES (1); DELETE FROM a;").checks_names_on(&a));
        let like = replayed("CREATE TABLE a (id int); CREATE TABLE b (LIKE a);");
        assert!(like.checks_names_on(&a) && !like.checks_names_on(&b) && like.checks_names());
        // A DO block's static SQL and literal EXECUTEs are replayed; only dynamic SQL makes blind spots.
        let s = replayed("DO $$ BEGIN EXECUTE 'CREATE TABLE x (id int)'; CREATE TABLE y (id int); END $$;");
        assert!(s.checks_names() && s.tables.contains_key("x") && s.tables.contains_key("y"));
        let s = replayed(
            "CREATE TABLE a (id int); CREATE TABLE b (id int); DO $$ BEGIN EXECUTE 'ALTER TABLE b ADD COLUMN ' || 'x int'; END $$;",
        );
        assert!(s.checks_names_on(&a) && !s.checks_names_on(&b), "{:?}", s.blind_spots);
        assert!(
            s.blind_spots[0].describe().starts_with("m/1.sql:1: a DO block's dynamic EXECUTE zdm cannot see into may change columns of b")
        );
        let s = replayed(
            "CREATE TABLE a (id int); DO $$ DECLARE t text; BEGIN FOR t IN SELECT 1 LOOP EXECUTE format('ALTER TABLE %I ADD c int', t); END LOOP; END $$;",
        );
        assert!(s.checks_names() && !s.checks_names_on(&a));
        let s = replayed("DO $$ DECLARE n text := 'x'; BEGIN EXECUTE 'CREATE TABLE ' || n || ' (id int)'; END $$;");
        assert!(!s.checks_names());
        assert!(!replayed("DO LANGUAGE plpython3u $$ pass $$;").checks_names());
        assert!(replayed("CREATE TABLE a (id int); DO $zdm$ BEGIN UPDATE a SET id = id; END $zdm$;").checks_names_on(&a));
        let (s, warnings) =
            replay("m", &[("m/1.sql".into(), "CREATE TABLE a (id int);".into()), ("m/2.sql".into(), "CREATE TABLE (".into())]);
        assert_eq!(warnings.len(), 1);
        assert!(!s.checks_names());
    }

    #[test]
    fn inline_references_keep_columns_and_actions() {
        let s = replayed(
            "CREATE TABLE u (id bigserial PRIMARY KEY, email text UNIQUE);\nCREATE TABLE i (e text NOT NULL REFERENCES u (email) ON DELETE SET NULL UNIQUE, f bigint REFERENCES u);",
        );
        let defs: Vec<&str> = s.tables["i"].constraints.iter().map(|k| k.definition.as_str()).collect();
        assert!(defs.contains(&"FOREIGN KEY (e) REFERENCES u(email) ON DELETE SET NULL"), "{defs:?}");
        assert!(defs.contains(&"FOREIGN KEY (f) REFERENCES u"), "{defs:?}");
        assert_eq!(s.foreign_keys_to("u", "email").len(), 1);
        assert_eq!(s.foreign_keys_to("u", "id").len(), 1);
        let id = s.tables["u"].column("id").unwrap();
        assert_eq!((id.type_sql.as_str(), id.default.as_deref()), ("bigint", Some("nextval('u_id_seq'::regclass)")));
    }

    #[test]
    fn every_drop_is_replayed() {
        let s = replayed(
            "CREATE TABLE users (id int, name text, feeling text);\nCREATE TYPE mood AS ENUM ('a');\nALTER TABLE users ADD COLUMN m mood;\nCREATE VIEW v AS SELECT name FROM users;\nCREATE VIEW w AS SELECT name FROM v;\nCREATE VIEW x AS SELECT id FROM users;\nDROP VIEW v CASCADE;\nDROP TYPE mood CASCADE;\nCREATE SCHEMA app;\nCREATE TABLE app.t (id int);\nCREATE VIEW app.tv AS SELECT id FROM app.t;\nDROP SCHEMA app CASCADE;",
        );
        assert_eq!(s.views.keys().collect::<Vec<_>>(), ["x"], "v and the view reading it are gone");
        assert!(s.tables["users"].column("m").is_none(), "DROP TYPE … CASCADE drops the column");
        assert!(!s.enums.contains_key("mood"));
        assert!(!s.tables.contains_key("app.t"), "DROP SCHEMA drops its tables");
        let s = replayed("CREATE TABLE a (id int);\nCREATE VIEW av AS SELECT id FROM a;\nDROP TABLE a CASCADE;");
        assert!(s.views.is_empty(), "DROP TABLE … CASCADE drops the views reading it");
        assert!(s.checks_names());
    }

    #[test]
    fn default_names_follow_postgres() {
        assert_eq!(index_name("users", &["email".into()], "idx"), "users_email_idx");
        assert_eq!(index_name("users", &["id".into()], "pkey"), "users_pkey");
        let long = "a".repeat(40);
        let name = index_name(&long, &["b".repeat(40)], "idx");
        assert_eq!(name.len(), 63);
        assert!(name.ends_with("_idx"));
    }
}
