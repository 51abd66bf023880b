//! SQL text → statements and operations, with the real PostgreSQL grammar (libpg_query through `pg_query`).
//! This is the only module that sees the parser's AST; SQL fragments zdm re-emits (types, defaults,
//! constraint and index definitions) come from libpg_query's deparser, so quoting is the server's own.
//! Imports `model` and `op`.

pub mod backfill;
mod ffi;
mod markers;
mod plpgsql;

pub use markers::guard_line_starts;
pub use plpgsql::{DoBody, do_block};

use crate::model::LockLevel;
use crate::model::{ConstraintKind, LineIndex, Pos, QName};
use crate::op::{Assignment, ColumnSpec, ConstraintSpec, DataWrite, ExprReads, Generated, IndexSpec, Op, OpKind, Statement, TableAction};
use pg_query::protobuf::{self, AlterTableType, ConstrType, DropBehavior, ObjectType};
use pg_query::{Node, NodeEnum, NodeRef};
use std::fmt;

/// A change (or migration file) that does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// The parser's message.
    pub message: String,
    /// Where, in the text given to [`parse`].
    pub pos: Pos,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.message, self.pos)
    }
}

impl std::error::Error for SyntaxError {}

/// Parses a script of one or more statements into zdm operations.
///
/// # Errors
/// A [`SyntaxError`] with the line and column of the first problem.
pub fn parse(text: &str) -> Result<Vec<Statement>, SyntaxError> {
    // Parsed in batches of statements: the parse tree of a whole 100,000-statement change took most of
    // zdm's memory (the split parses it in C and keeps nothing).
    const BATCH: usize = 1000;
    let lines = LineIndex::new(text);
    let mut out = Vec::new();
    let pieces = match pg_query::split_with_parser(text) {
        Ok(pieces) if pieces.len() > BATCH => pieces,
        _ => {
            parse_chunk(text, 0, text.len(), &lines, &mut out)?;
            return Ok(out);
        }
    };
    let offset = |p: &str| p.as_ptr() as usize - text.as_ptr() as usize;
    let mut start = 0;
    for (n, batch) in pieces.chunks(BATCH).enumerate() {
        let last = (n + 1) * BATCH >= pieces.len();
        let end = if last { text.len() } else { batch.last().map_or(text.len(), |p| offset(p) + p.len()) };
        parse_chunk(text, start, end, &lines, &mut out)?;
        start = end;
    }
    Ok(out)
}

/// Parses `text[from..to]` (whole statements) and appends its statements, positioned in `text`.
fn parse_chunk(text: &str, from: usize, to: usize, lines: &LineIndex<'_>, out: &mut Vec<Statement>) -> Result<(), SyntaxError> {
    let chunk = &text[from..to];
    let parsed = match pg_query::parse(chunk, 0) {
        Ok(p) => p,
        Err(e) => return Err(locate_error(text, &e.to_string())),
    };
    for raw in &parsed.protobuf.stmts {
        let Some(node) = raw.stmt.as_ref().and_then(|n| n.node.as_ref()) else {
            continue;
        };
        let start = usize::try_from(raw.stmt_location).unwrap_or(0);
        let len = usize::try_from(raw.stmt_len).unwrap_or(0);
        let end = if len == 0 { chunk.len() } else { (start + len).min(chunk.len()) };
        let (offset, sql) = trim_statement(&chunk[start..end]);
        let pos = lines.pos(from + start + offset);
        let ops = convert(node, &sql, pos);
        out.push(Statement { sql, pos, ops });
    }
    Ok(())
}

fn locate_error(text: &str, fallback: &str) -> SyntaxError {
    match ffi::syntax_error(text) {
        Some((message, Some(index))) => SyntaxError { message, pos: Pos::of_char(text, index) },
        Some((message, None)) => SyntaxError { message, pos: Pos { line: 1, col: 1 } },
        None => SyntaxError { message: fallback.trim_start_matches("Error parsing query: ").to_string(), pos: Pos { line: 1, col: 1 } },
    }
}

/// Skips leading blanks and comments; returns the byte offset of the first token and the statement text.
fn trim_statement(s: &str) -> (usize, String) {
    let mut i = 0;
    let b = s.as_bytes();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if s[i..].starts_with("--") {
            i = s[i..].find('\n').map_or(s.len(), |n| i + n + 1);
        } else if s[i..].starts_with("/*") {
            i = s[i + 2..].find("*/").map_or(s.len(), |n| i + 2 + n + 2);
        } else {
            break;
        }
    }
    (i, s[i..].trim_end().trim_end_matches(';').trim_end().to_string())
}

/// A `-- zdm-ignore RULE[, RULE]: reason` comment (or `-- zdm-ignore-file …` for the whole change).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// Where the comment is.
    pub pos: Pos,
    /// Rule IDs or names, as written.
    pub rules: Vec<String>,
    /// The reason after the colon (empty when missing).
    pub reason: String,
    /// `zdm-ignore-file`: applies to every statement.
    pub file: bool,
}

/// The suppression comments of a change, in order. Only `--` comments count; a statement-scope one applies
/// to the statement on its line or to the next statement below it.
#[must_use]
pub fn suppressions(text: &str) -> Vec<Suppression> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(at) = line.find("-- zdm-ignore") else { continue };
        let rest = &line[at + "-- zdm-ignore".len()..];
        let (file, rest) = match rest.strip_prefix("-file") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        if !rest.starts_with(char::is_whitespace) {
            continue;
        }
        let (list, reason) = rest.split_once(':').unwrap_or((rest, ""));
        let rules = list.split(',').map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect();
        out.push(Suppression {
            pos: Pos { line: i + 1, col: line[..at].chars().count() + 1 },
            rules,
            reason: reason.trim().to_string(),
            file,
        });
    }
    out
}

/// True for words PostgreSQL will not take as a bare identifier (any keyword that is not unreserved).
#[must_use]
pub fn is_reserved_keyword(word: &str) -> bool {
    let Ok(scan) = pg_query::scan(word) else {
        return false;
    };
    scan.tokens.first().is_some_and(|t| {
        t.keyword_kind != protobuf::KeywordKind::NoKeyword as i32 && t.keyword_kind != protobuf::KeywordKind::UnreservedKeyword as i32
    })
}

fn convert(node: &NodeEnum, sql: &str, pos: Pos) -> Vec<Op> {
    let one = |kind| vec![Op { sql: sql.to_string(), pos, kind }];
    match node {
        NodeEnum::CreateStmt(s) => one(create_table(s)),
        NodeEnum::AlterTableStmt(s) => alter_table(s, sql, pos),
        NodeEnum::RenameStmt(s) => one(rename(s)),
        NodeEnum::IndexStmt(s) => one(OpKind::CreateIndex(index_spec(s))),
        NodeEnum::DropStmt(s) => drop(s, sql, pos),
        NodeEnum::CreateEnumStmt(s) => {
            one(OpKind::CreateEnum { name: qname_of_list(&s.type_name), values: s.vals.iter().filter_map(string_of).collect() })
        }
        NodeEnum::ViewStmt(s) => one(view(s)),
        NodeEnum::UpdateStmt(s) if s.with_clause.as_ref().is_some_and(writes_data) => one(data_change(node)),
        NodeEnum::UpdateStmt(s) => one(update(s)),
        NodeEnum::InsertStmt(_) | NodeEnum::DeleteStmt(_) | NodeEnum::MergeStmt(_) => one(data_change(node)),
        NodeEnum::SelectStmt(s) => one(select(node, s)),
        NodeEnum::LockStmt(s) => one(OpKind::LockTable { tables: range_vars(&s.relations), mode: lock_mode(s.mode) }),
        NodeEnum::CreateTableAsStmt(s) if s.objtype == ObjectType::ObjectTable as i32 => one(OpKind::CreateTableAs {
            table: s.into.as_ref().and_then(|i| i.rel.as_ref()).map(qname).unwrap_or_else(|| QName::bare("")),
            reads: s.query.as_deref().and_then(|q| q.node.as_ref()).map(tables_in).unwrap_or_default(),
            if_not_exists: s.if_not_exists,
        }),
        NodeEnum::VariableSetStmt(s) => one(setting(s)),
        NodeEnum::CommentStmt(s) => one(comment(s)),
        NodeEnum::TransactionStmt(s) => one(OpKind::Transaction { what: transaction_words(s, sql) }),
        NodeEnum::ReindexStmt(s) => one(reindex(s)),
        NodeEnum::VacuumStmt(s) => one(vacuum(s, sql)),
        NodeEnum::ClusterStmt(s) => {
            one(OpKind::Vacuum { rewrites: true, what: "CLUSTER".into(), tables: s.relation.iter().map(qname).collect() })
        }
        NodeEnum::TruncateStmt(s) => one(OpKind::Truncate {
            tables: s
                .relations
                .iter()
                .filter_map(|r| match r.node.as_ref() {
                    Some(NodeEnum::RangeVar(r)) => Some(qname(r)),
                    _ => None,
                })
                .collect(),
            cascade: s.behavior == DropBehavior::DropCascade as i32,
        }),
        NodeEnum::DropdbStmt(s) => one(OpKind::DropNamespace { what: "DATABASE".into(), name: s.dbname.clone() }),
        NodeEnum::AlterEnumStmt(s) if !s.old_val.is_empty() => {
            one(OpKind::RenameEnumValue { name: qname_of_list(&s.type_name), from: s.old_val.clone(), to: s.new_val.clone() })
        }
        NodeEnum::AlterEnumStmt(s) => one(OpKind::AddEnumValue {
            name: qname_of_list(&s.type_name),
            value: s.new_val.clone(),
            positioned: !s.new_val_neighbor.is_empty(),
            idempotent_sql: {
                let mut robust = s.clone();
                robust.skip_if_new_val_exists = true;
                deparse_stmt(NodeEnum::AlterEnumStmt(robust))
            },
        }),
        NodeEnum::CreateDomainStmt(s) => one(OpKind::CreateDomain {
            name: qname_of_list(&s.domainname),
            checks: s
                .constraints
                .iter()
                .filter(|c| matches!(c.node.as_ref(), Some(NodeEnum::Constraint(k)) if k.contype == ConstrType::ConstrCheck as i32))
                .count(),
        }),
        NodeEnum::AlterDomainStmt(s) if s.subtype == "C" => match s.def.as_deref().and_then(|d| d.node.as_ref()) {
            Some(NodeEnum::Constraint(k)) => one(OpKind::AddDomainConstraint {
                domain: qname_of_list(&s.type_name),
                name: (!k.conname.is_empty()).then(|| k.conname.clone()),
                definition: k.raw_expr.as_deref().map(|e| format!("CHECK ({})", expr_sql(e))).unwrap_or_default(),
                not_valid: k.skip_validation,
            }),
            _ => one(OpKind::Other { what: first_words(sql), table: None }),
        },
        NodeEnum::CreateTrigStmt(s) => one(OpKind::CreateTrigger {
            table: s.relation.as_ref().map(qname).unwrap_or_else(|| QName::bare("")),
            name: s.trigname.clone(),
        }),
        NodeEnum::CreateExtensionStmt(s) => one(OpKind::Extension { action: "CREATE".into(), name: s.extname.clone() }),
        NodeEnum::AlterExtensionStmt(s) => one(OpKind::Extension { action: "ALTER".into(), name: s.extname.clone() }),
        NodeEnum::CreatePolicyStmt(s) => one(OpKind::Security { what: "CREATE POLICY".into(), table: s.table.as_ref().map(qname) }),
        NodeEnum::AlterPolicyStmt(s) => one(OpKind::Security { what: "ALTER POLICY".into(), table: s.table.as_ref().map(qname) }),
        NodeEnum::GrantStmt(s) => one(OpKind::Security { what: if s.is_grant { "GRANT".into() } else { "REVOKE".into() }, table: None }),
        NodeEnum::DoStmt(_) => one(OpKind::DoBlock),
        NodeEnum::CreateFunctionStmt(_) | NodeEnum::CreateSchemaStmt(_) | NodeEnum::CreateSeqStmt(_) | NodeEnum::CompositeTypeStmt(_) => {
            one(OpKind::Catalog { what: first_words(sql) })
        }
        other => one(OpKind::Other { what: first_words(sql), table: relation_of(other) }),
    }
}

/// A transaction statement in canonical words: `BEGIN`, `START`, `COMMIT`, `END`, `ROLLBACK`, `ABORT`,
/// `COMMIT AND CHAIN`, `ROLLBACK AND CHAIN`, `SAVEPOINT s`, `RELEASE s`, `ROLLBACK TO s`,
/// `PREPARE TRANSACTION`, `COMMIT PREPARED`, `ROLLBACK PREPARED`.
fn transaction_words(s: &protobuf::TransactionStmt, sql: &str) -> String {
    use protobuf::TransactionStmtKind as K;
    let chain = if s.chain { " AND CHAIN" } else { "" };
    match K::try_from(s.kind).unwrap_or(K::Undefined) {
        K::TransStmtCommit | K::TransStmtRollback => format!("{}{chain}", first_word(sql)),
        K::TransStmtSavepoint => format!("SAVEPOINT {}", s.savepoint_name),
        K::TransStmtRelease => format!("RELEASE {}", s.savepoint_name),
        K::TransStmtRollbackTo => format!("ROLLBACK TO {}", s.savepoint_name),
        K::TransStmtPrepare => "PREPARE TRANSACTION".into(),
        K::TransStmtCommitPrepared => "COMMIT PREPARED".into(),
        K::TransStmtRollbackPrepared => "ROLLBACK PREPARED".into(),
        _ => first_word(sql),
    }
}

fn first_word(sql: &str) -> String {
    sql.split_whitespace().next().unwrap_or("").to_uppercase()
}

/// The statement's first three words, keywords upper-cased and names as written (`ANALYZE users_stats`).
fn first_words(sql: &str) -> String {
    let keywords: Vec<String> = pg_query::scan(sql)
        .map(|r| {
            r.tokens
                .iter()
                .filter(|t| t.keyword_kind != protobuf::KeywordKind::NoKeyword as i32)
                .filter_map(|t| sql.get(usize::try_from(t.start).ok()?..usize::try_from(t.end).ok()?))
                .map(str::to_lowercase)
                .collect()
        })
        .unwrap_or_default();
    let words: Vec<String> = sql
        .split_whitespace()
        .take(3)
        .enumerate()
        .map(|(i, w)| if i == 0 || keywords.iter().any(|k| k == &w.to_lowercase()) { w.to_uppercase() } else { w.to_string() })
        .collect();
    words.join(" ")
}

fn relation_of(node: &NodeEnum) -> Option<QName> {
    node.nodes().into_iter().find_map(|(n, _, _, _)| match n {
        NodeRef::RangeVar(r) => Some(qname(r)),
        _ => None,
    })
}

fn qname(r: &protobuf::RangeVar) -> QName {
    QName { schema: (!r.schemaname.is_empty()).then(|| r.schemaname.clone()), name: r.relname.clone() }
}

fn string_of(n: &Node) -> Option<String> {
    match n.node.as_ref()? {
        NodeEnum::String(s) => Some(s.sval.clone()),
        _ => None,
    }
}

fn qname_of_list(names: &[Node]) -> QName {
    let parts: Vec<String> = names.iter().filter_map(string_of).collect();
    match parts.as_slice() {
        [.., schema, name] => QName { schema: Some(schema.clone()), name: name.clone() },
        [name] => QName::bare(name),
        [] => QName::bare(""),
    }
}

fn wrap(node: NodeEnum) -> Node {
    Node { node: Some(node) }
}

/// Deparses an expression node through `SELECT <expr>`.
fn expr_sql(expr: &Node) -> String {
    let select = protobuf::SelectStmt {
        target_list: vec![wrap(NodeEnum::ResTarget(Box::new(protobuf::ResTarget {
            val: Some(Box::new(expr.clone())),
            ..Default::default()
        })))],
        limit_option: protobuf::LimitOption::Default as i32,
        op: protobuf::SetOperation::SetopNone as i32,
        ..Default::default()
    };
    deparse_stmt(NodeEnum::SelectStmt(Box::new(select))).trim_start_matches("SELECT ").to_string()
}

/// Deparses a type name through `SELECT NULL::<type>`.
fn type_sql(t: &protobuf::TypeName) -> String {
    let cast = protobuf::TypeCast {
        arg: Some(Box::new(wrap(NodeEnum::AConst(protobuf::AConst { isnull: true, ..Default::default() })))),
        type_name: Some(t.clone()),
        location: -1,
    };
    expr_sql(&wrap(NodeEnum::TypeCast(Box::new(cast)))).trim_start_matches("NULL::").to_string()
}

fn type_name_last(t: &protobuf::TypeName) -> String {
    t.names.iter().filter_map(string_of).next_back().unwrap_or_default().to_lowercase()
}

fn deparse_stmt(node: NodeEnum) -> String {
    wrap(node).deparse(pg_query::DeparseOptions::default()).unwrap_or_default()
}

/// Renders one ALTER TABLE action on its own: `ALTER TABLE <table> <action>`.
fn alter_sql(stmt: &protobuf::AlterTableStmt, cmd: &Node) -> String {
    let mut single = stmt.clone();
    single.cmds = vec![cmd.clone()];
    deparse_stmt(NodeEnum::AlterTableStmt(single))
}

/// Renders an ALTER TABLE action against a stand-in table `x` and returns the text after `prefix`.
fn action_text(cmd: protobuf::AlterTableCmd, prefix: &str) -> String {
    let stmt = protobuf::AlterTableStmt {
        relation: Some(protobuf::RangeVar { relname: "x".into(), inh: true, relpersistence: "p".into(), ..Default::default() }),
        cmds: vec![wrap(NodeEnum::AlterTableCmd(Box::new(cmd)))],
        objtype: ObjectType::ObjectTable as i32,
        missing_ok: false,
    };
    let text = deparse_stmt(NodeEnum::AlterTableStmt(stmt));
    text.strip_prefix(&format!("ALTER TABLE x {prefix}")).unwrap_or(&text).to_string()
}

fn column_spec(c: &protobuf::ColumnDef) -> ColumnSpec {
    let mut spec = ColumnSpec {
        name: c.colname.clone(),
        type_sql: c.type_name.as_ref().map(type_sql).unwrap_or_default(),
        type_name: c.type_name.as_ref().map(type_name_last).unwrap_or_default(),
        not_null: c.is_not_null,
        default: c.raw_default.as_deref().map(expr_sql),
        default_calls: c.raw_default.as_deref().map(calls_in).unwrap_or_default(),
        primary_key: false,
        unique: false,
        references: None,
        check: None,
        generated: None,
        identity_always: false,
        generated_reads: Vec::new(),
        definition: String::new(),
    };
    if !c.identity.is_empty() {
        spec.generated = Some(Generated::Identity);
    }
    for con in &c.constraints {
        let Some(NodeEnum::Constraint(k)) = con.node.as_ref() else {
            continue;
        };
        match ConstrType::try_from(k.contype).unwrap_or(ConstrType::Undefined) {
            ConstrType::ConstrNotnull => spec.not_null = true,
            ConstrType::ConstrDefault => {
                spec.default = k.raw_expr.as_deref().map(expr_sql);
                spec.default_calls = k.raw_expr.as_deref().map(calls_in).unwrap_or_default();
            }
            ConstrType::ConstrPrimary => {
                spec.primary_key = true;
                spec.not_null = true;
            }
            ConstrType::ConstrUnique => spec.unique = true,
            ConstrType::ConstrForeign => spec.references = k.pktable.as_ref().map(qname),
            ConstrType::ConstrCheck => spec.check = k.raw_expr.as_deref().map(expr_sql),
            ConstrType::ConstrIdentity => {
                spec.generated = Some(Generated::Identity);
                spec.identity_always = k.generated_when == "a";
            }
            ConstrType::ConstrGenerated => {
                spec.generated_reads = k.raw_expr.as_deref().and_then(|e| e.node.as_ref()).map(column_refs).unwrap_or_default();
                spec.generated = Some(if k.generated_kind == "v" { Generated::Virtual } else { Generated::Stored });
            }
            _ => {}
        }
    }
    let cmd = protobuf::AlterTableCmd {
        subtype: AlterTableType::AtAddColumn as i32,
        def: Some(Box::new(wrap(NodeEnum::ColumnDef(Box::new(c.clone()))))),
        behavior: DropBehavior::DropRestrict as i32,
        ..Default::default()
    };
    spec.definition = action_text(cmd, "ADD COLUMN ");
    spec
}

/// Lower-case names of every function an expression calls; SQL value functions count as `now`.
fn calls_in(expr: &Node) -> Vec<String> {
    let Some(e) = expr.node.as_ref() else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    if let NodeEnum::FuncCall(f) = e {
        names.push(func_name(f));
    }
    for (n, _, _, _) in e.nodes() {
        match n {
            NodeRef::FuncCall(f) => names.push(func_name(f)),
            NodeRef::SqlvalueFunction(_) => names.push("now".to_string()),
            _ => {}
        }
    }
    names.sort();
    names.dedup();
    names
}

fn func_name(f: &protobuf::FuncCall) -> String {
    f.funcname.iter().filter_map(string_of).next_back().unwrap_or_default().to_lowercase()
}

fn key_names(keys: &[Node]) -> Vec<String> {
    keys.iter().filter_map(string_of).collect()
}

fn constraint_spec(k: &protobuf::Constraint) -> ConstraintSpec {
    let kind = match ConstrType::try_from(k.contype).unwrap_or(ConstrType::Undefined) {
        ConstrType::ConstrPrimary => ConstraintKind::PrimaryKey { columns: key_names(&k.keys) },
        ConstrType::ConstrUnique => ConstraintKind::Unique { columns: key_names(&k.keys) },
        ConstrType::ConstrCheck => ConstraintKind::Check { expr: k.raw_expr.as_deref().map(expr_sql).unwrap_or_default() },
        ConstrType::ConstrForeign => ConstraintKind::ForeignKey {
            columns: key_names(&k.fk_attrs),
            ref_table: k.pktable.as_ref().map(qname).unwrap_or_else(|| QName::bare("")),
            ref_columns: key_names(&k.pk_attrs),
        },
        _ => ConstraintKind::Other,
    };
    let mut bare = k.clone();
    bare.conname = String::new();
    bare.skip_validation = false;
    bare.initially_valid = true;
    let cmd = protobuf::AlterTableCmd {
        subtype: AlterTableType::AtAddConstraint as i32,
        def: Some(Box::new(wrap(NodeEnum::Constraint(Box::new(bare))))),
        behavior: DropBehavior::DropRestrict as i32,
        ..Default::default()
    };
    ConstraintSpec {
        name: (!k.conname.is_empty()).then(|| k.conname.clone()),
        kind,
        not_valid: k.skip_validation,
        using_index: (!k.indexname.is_empty()).then(|| k.indexname.clone()),
        definition: action_text(cmd, "ADD "),
    }
}

fn create_table(s: &protobuf::CreateStmt) -> OpKind {
    let mut like = s.of_typename.is_some();
    let mut columns = Vec::new();
    let mut constraints = Vec::new();
    for elt in &s.table_elts {
        match elt.node.as_ref() {
            Some(NodeEnum::ColumnDef(c)) => columns.push(column_spec(c)),
            Some(NodeEnum::Constraint(k)) => constraints.push(constraint_spec(k)),
            Some(NodeEnum::TableLikeClause(_)) => like = true,
            _ => {}
        }
    }
    constraints.extend(s.constraints.iter().filter_map(|c| match c.node.as_ref() {
        Some(NodeEnum::Constraint(k)) => Some(constraint_spec(k)),
        _ => None,
    }));
    OpKind::CreateTable {
        table: s.relation.as_ref().map(qname).unwrap_or_else(|| QName::bare("")),
        columns,
        constraints,
        if_not_exists: s.if_not_exists,
        partitioned: s.partspec.is_some(),
        partition_of: partition_of(s),
        inherits: s
            .inh_relations
            .iter()
            .filter_map(|r| match r.node.as_ref() {
                Some(NodeEnum::RangeVar(r)) => Some(qname(r)),
                _ => None,
            })
            .collect(),
        like,
    }
}

/// The parent and bound of `CREATE TABLE … PARTITION OF parent FOR VALUES …` (or `DEFAULT`).
fn partition_of(s: &protobuf::CreateStmt) -> Option<(QName, String)> {
    s.partbound.as_ref()?;
    let parent = s.inh_relations.iter().find_map(|r| match r.node.as_ref() {
        Some(NodeEnum::RangeVar(r)) => Some(qname(r)),
        _ => None,
    })?;
    let text = deparse_stmt(NodeEnum::CreateStmt(s.clone()));
    let at = text.find(" FOR VALUES ").or_else(|| text.rfind(" DEFAULT"))?;
    Some((parent, text[at + 1..].to_string()))
}

fn alter_table(s: &protobuf::AlterTableStmt, sql: &str, pos: Pos) -> Vec<Op> {
    let table = s.relation.as_ref().map(qname).unwrap_or_else(|| QName::bare(""));
    if s.objtype != ObjectType::ObjectTable as i32 {
        let what = first_words(sql);
        return vec![Op { sql: sql.to_string(), pos, kind: OpKind::Other { what, table: Some(table) } }];
    }
    let several = s.cmds.len() > 1;
    s.cmds
        .iter()
        .filter_map(|node| {
            let Some(NodeEnum::AlterTableCmd(cmd)) = node.node.as_ref() else {
                return None;
            };
            let kind = alter_cmd(&table, cmd);
            let text = if several { alter_sql(s, node) } else { sql.to_string() };
            Some(Op { sql: text, pos, kind })
        })
        .collect()
}

fn alter_cmd(table: &QName, cmd: &protobuf::AlterTableCmd) -> OpKind {
    let table = table.clone();
    let column = cmd.name.clone();
    let def = cmd.def.as_deref().and_then(|d| d.node.as_ref());
    match AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined) {
        AlterTableType::AtAddColumn => match def {
            Some(NodeEnum::ColumnDef(c)) => OpKind::AddColumn { table, column: column_spec(c), if_not_exists: cmd.missing_ok },
            _ => OpKind::Other { what: "ADD COLUMN".into(), table: Some(table) },
        },
        AlterTableType::AtDropColumn => OpKind::DropColumn { table, column, if_exists: cmd.missing_ok },
        AlterTableType::AtAlterColumnType => match def {
            Some(NodeEnum::ColumnDef(c)) => OpKind::AlterColumnType {
                table,
                column,
                type_sql: c.type_name.as_ref().map(type_sql).unwrap_or_default() + &collate_sql(c),
                type_name: c.type_name.as_ref().map(type_name_last).unwrap_or_default(),
                using: c.raw_default.as_deref().map(expr_sql),
            },
            _ => OpKind::Other { what: "ALTER COLUMN TYPE".into(), table: Some(table) },
        },
        AlterTableType::AtSetNotNull => OpKind::SetNotNull { table, column },
        AlterTableType::AtDropNotNull => OpKind::DropNotNull { table, column },
        AlterTableType::AtColumnDefault => match cmd.def.as_deref() {
            Some(expr) => OpKind::SetDefault { table, column, expr: expr_sql(expr) },
            None => OpKind::DropDefault { table, column },
        },
        AlterTableType::AtAddConstraint => match def {
            Some(NodeEnum::Constraint(k)) => OpKind::AddConstraint { table, constraint: constraint_spec(k) },
            _ => OpKind::Other { what: "ADD CONSTRAINT".into(), table: Some(table) },
        },
        AlterTableType::AtValidateConstraint => OpKind::ValidateConstraint { table, name: column },
        AlterTableType::AtDropConstraint => OpKind::DropConstraint { table, name: column, if_exists: cmd.missing_ok },
        AlterTableType::AtSetLogged => OpKind::AlterAction { table, action: TableAction::SetLogged },
        AlterTableType::AtSetUnLogged => OpKind::AlterAction { table, action: TableAction::SetUnlogged },
        AlterTableType::AtSetAccessMethod => OpKind::AlterAction { table, action: TableAction::SetAccessMethod },
        AlterTableType::AtSetTableSpace => OpKind::AlterAction { table, action: TableAction::SetTablespace },
        AlterTableType::AtReplicaIdentity => OpKind::AlterAction { table, action: TableAction::ReplicaIdentity },
        AlterTableType::AtEnableRowSecurity => row_security(table, "ENABLE"),
        AlterTableType::AtDisableRowSecurity => row_security(table, "DISABLE"),
        AlterTableType::AtForceRowSecurity => row_security(table, "FORCE"),
        AlterTableType::AtNoForceRowSecurity => row_security(table, "NO FORCE"),
        AlterTableType::AtSetExpression => OpKind::AlterAction { table, action: TableAction::SetExpression { column } },
        AlterTableType::AtSetRelOptions
        | AlterTableType::AtResetRelOptions
        | AlterTableType::AtSetStatistics
        | AlterTableType::AtSetOptions
        | AlterTableType::AtResetOptions => OpKind::AlterAction { table, action: TableAction::Parameters },
        AlterTableType::AtAttachPartition | AlterTableType::AtDetachPartition | AlterTableType::AtDetachPartitionFinalize => {
            let Some(NodeEnum::PartitionCmd(p)) = def else { return OpKind::Other { what: "PARTITION".into(), table: Some(table) } };
            let partition = p.name.as_ref().map(qname).unwrap_or_else(|| QName::bare(""));
            if cmd.subtype == AlterTableType::AtAttachPartition as i32 {
                OpKind::AlterAction { table, action: TableAction::AttachPartition { partition } }
            } else {
                let concurrently = p.concurrent || cmd.subtype == AlterTableType::AtDetachPartitionFinalize as i32;
                OpKind::AlterAction { table, action: TableAction::DetachPartition { partition, concurrently } }
            }
        }
        other => OpKind::AlterAction { table, action: TableAction::Other { words: alter_type_words(other) } },
    }
}

/// ` COLLATE "C"` when the column definition names a collation (empty otherwise).
fn collate_sql(c: &protobuf::ColumnDef) -> String {
    let Some(coll) = &c.coll_clause else { return String::new() };
    let parts: Vec<String> = coll.collname.iter().filter_map(string_of).map(|p| format!("\"{}\"", p.replace('"', "\"\""))).collect();
    if parts.is_empty() { String::new() } else { format!(" COLLATE {}", parts.join(".")) }
}

fn row_security(table: QName, mode: &str) -> OpKind {
    OpKind::AlterAction { table, action: TableAction::RowSecurity { mode: mode.into() } }
}

fn reindex(s: &protobuf::ReindexStmt) -> OpKind {
    let object = match protobuf::ReindexObjectType::try_from(s.kind).unwrap_or(protobuf::ReindexObjectType::Undefined) {
        protobuf::ReindexObjectType::ReindexObjectIndex => "INDEX",
        protobuf::ReindexObjectType::ReindexObjectTable => "TABLE",
        protobuf::ReindexObjectType::ReindexObjectSchema => "SCHEMA",
        protobuf::ReindexObjectType::ReindexObjectSystem => "SYSTEM",
        _ => "DATABASE",
    };
    let target = s.relation.as_ref().map_or_else(|| QName::bare(&s.name), qname);
    OpKind::Reindex { target, object: object.into(), concurrently: option_on(&s.params, "concurrently") }
}

fn vacuum(s: &protobuf::VacuumStmt, sql: &str) -> OpKind {
    let tables = s
        .rels
        .iter()
        .filter_map(|r| match r.node.as_ref() {
            Some(NodeEnum::VacuumRelation(v)) => v.relation.as_ref().map(qname),
            _ => None,
        })
        .collect();
    let full = s.is_vacuumcmd && option_on(&s.options, "full");
    OpKind::Vacuum { rewrites: full, what: if full { "VACUUM FULL".into() } else { first_word(sql) }, tables }
}

/// `AT_SetLogged` → `SET LOGGED`: the parser's name for an ALTER TABLE action, in words.
fn alter_type_words(t: AlterTableType) -> String {
    let name = t.as_str_name().trim_start_matches("AT_");
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn rename(s: &protobuf::RenameStmt) -> OpKind {
    let table = s.relation.as_ref().map(qname);
    match ObjectType::try_from(s.rename_type).unwrap_or(ObjectType::Undefined) {
        ObjectType::ObjectColumn if s.relation_type == ObjectType::ObjectTable as i32 => {
            OpKind::RenameColumn { table: table.unwrap_or_else(|| QName::bare("")), from: s.subname.clone(), to: s.newname.clone() }
        }
        ObjectType::ObjectTable => OpKind::RenameTable { table: table.unwrap_or_else(|| QName::bare("")), to: s.newname.clone() },
        ObjectType::ObjectSchema => OpKind::RenameSchema { from: s.subname.clone(), to: s.newname.clone() },
        ObjectType::ObjectTabconstraint if s.relation.is_some() => {
            OpKind::RenameConstraint { table: table.unwrap_or_else(|| QName::bare("")), from: s.subname.clone(), to: s.newname.clone() }
        }
        other => OpKind::Other { what: format!("RENAME {}", other.as_str_name().trim_start_matches("OBJECT_")), table },
    }
}

fn index_spec(s: &protobuf::IndexStmt) -> IndexSpec {
    let table = s.relation.as_ref().map(qname).unwrap_or_else(|| QName::bare(""));
    let mut columns = Vec::new();
    for p in &s.index_params {
        let Some(NodeEnum::IndexElem(e)) = p.node.as_ref() else {
            continue;
        };
        if e.name.is_empty() {
            if let Some(expr) = e.expr.as_deref().and_then(|x| x.node.as_ref()) {
                columns.extend(column_refs(expr));
            }
        } else {
            columns.push(e.name.clone());
        }
    }
    let mut bare = s.clone();
    bare.idxname = String::new();
    bare.concurrent = false;
    bare.if_not_exists = false;
    bare.unique = false;
    let text = deparse_stmt(NodeEnum::IndexStmt(Box::new(bare)));
    let body = text.strip_prefix("CREATE INDEX ON ").unwrap_or(&text).to_string();
    IndexSpec {
        name: (!s.idxname.is_empty()).then(|| s.idxname.clone()),
        only: s.relation.as_ref().is_some_and(|r| !r.inh),
        table,
        unique: s.unique,
        concurrently: s.concurrent,
        if_not_exists: s.if_not_exists,
        columns,
        body,
    }
}

fn column_refs(expr: &NodeEnum) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |c: &protobuf::ColumnRef| {
        if let Some(name) = c.fields.iter().filter_map(string_of).next_back() {
            out.push(name);
        }
    };
    if let NodeEnum::ColumnRef(c) = expr {
        push(c);
    }
    for (n, _, _, _) in expr.nodes() {
        if let NodeRef::ColumnRef(c) = n {
            push(c);
        }
    }
    out.sort();
    out.dedup();
    out
}

fn drop(s: &protobuf::DropStmt, sql: &str, pos: Pos) -> Vec<Op> {
    let cascade = s.behavior == DropBehavior::DropCascade as i32;
    let names: Vec<QName> = s
        .objects
        .iter()
        .map(|o| match o.node.as_ref() {
            Some(NodeEnum::List(l)) => qname_of_list(&l.items),
            Some(NodeEnum::String(s)) => QName::bare(&s.sval),
            Some(NodeEnum::ObjectWithArgs(f)) => qname_of_list(&f.objname),
            Some(NodeEnum::TypeName(t)) => qname_of_list(&t.names),
            _ => QName::bare(""),
        })
        .collect();
    let object = |what: &str, name: QName| {
        // A trigger or rule (one per statement) is written `[schema.]table.name`: the last part is the
        // object, the rest its table.
        let (name, on) = if matches!(what, "TRIGGER" | "RULE") {
            let on = match s.objects.first().and_then(|o| o.node.as_ref()) {
                Some(NodeEnum::List(l)) if l.items.len() > 1 => Some(qname_of_list(&l.items[..l.items.len() - 1])),
                _ => None,
            };
            (QName::bare(&name.name), on)
        } else {
            (name, None)
        };
        OpKind::DropObject { what: what.into(), name, on, cascade, if_exists: s.missing_ok }
    };
    let kind_of = |name: QName| match ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined) {
        ObjectType::ObjectTable => OpKind::DropTable { table: name, if_exists: s.missing_ok, cascade },
        ObjectType::ObjectIndex => OpKind::DropIndex { name, concurrently: s.concurrent, if_exists: s.missing_ok },
        ObjectType::ObjectView => object("VIEW", name),
        ObjectType::ObjectMatview => object("MATERIALIZED VIEW", name),
        ObjectType::ObjectType => object("TYPE", name),
        ObjectType::ObjectDomain => object("DOMAIN", name),
        ObjectType::ObjectFunction => object("FUNCTION", name),
        ObjectType::ObjectProcedure => object("PROCEDURE", name),
        ObjectType::ObjectRoutine => object("ROUTINE", name),
        ObjectType::ObjectAggregate => object("AGGREGATE", name),
        ObjectType::ObjectTrigger => object("TRIGGER", name),
        ObjectType::ObjectRule => object("RULE", name),
        ObjectType::ObjectSequence => OpKind::DropSequence { name },
        ObjectType::ObjectSchema => OpKind::DropNamespace { what: "SCHEMA".into(), name: name.name },
        ObjectType::ObjectExtension => OpKind::Extension { action: "DROP".into(), name: name.name },
        ObjectType::ObjectPolicy => OpKind::Security { what: "DROP POLICY".into(), table: None },
        _ => OpKind::Other { what: first_words(sql), table: None },
    };
    if names.len() <= 1 {
        let name = names.into_iter().next().unwrap_or_else(|| QName::bare(""));
        return vec![Op { sql: sql.to_string(), pos, kind: kind_of(name) }];
    }
    let keyword = sql.split_whitespace().take(2).collect::<Vec<_>>().join(" ").to_uppercase();
    names
        .into_iter()
        .zip(&s.objects)
        .map(|(name, node)| {
            let kind = kind_of(name.clone());
            if matches!(kind, OpKind::DropObject { .. }) {
                // Functions carry argument lists, materialized views two keywords: the parser re-renders each.
                let mut single = s.clone();
                single.objects = vec![node.clone()];
                return Op { sql: deparse_stmt(NodeEnum::DropStmt(single)), pos, kind };
            }
            let mut text = format!("{keyword} ");
            if s.concurrent {
                text.push_str("CONCURRENTLY ");
            }
            if s.missing_ok {
                text.push_str("IF EXISTS ");
            }
            text.push_str(&name.sql());
            if cascade {
                text.push_str(" CASCADE");
            }
            Op { sql: text, pos, kind }
        })
        .collect()
}

fn view(s: &protobuf::ViewStmt) -> OpKind {
    let name = s.view.as_ref().map(qname).unwrap_or_else(|| QName::bare(""));
    view_reading(name, s.query.as_deref(), s.replace)
}

/// `CREATE MATERIALIZED VIEW` as the view it is for what it reads (its name, tables and columns), so the
/// schema model knows what depends on a column. `None` for any other statement.
#[must_use]
pub fn materialized_view(sql: &str) -> Option<OpKind> {
    let NodeEnum::CreateTableAsStmt(s) = only_statement(sql)? else { return None };
    if s.objtype != ObjectType::ObjectMatview as i32 {
        return None;
    }
    let name = s.into.as_ref().and_then(|i| i.rel.as_ref()).map(qname)?;
    Some(view_reading(name, s.query.as_deref(), false))
}

fn view_reading(name: QName, query: Option<&Node>, replace: bool) -> OpKind {
    let mut tables = Vec::new();
    let mut columns = Vec::new();
    if let Some(q) = query.and_then(|q| q.node.as_ref()) {
        for (n, _, _, _) in q.nodes() {
            match n {
                NodeRef::RangeVar(r) => tables.push(qname(r).key()),
                NodeRef::ColumnRef(c) => {
                    if let Some(col) = c.fields.iter().filter_map(string_of).next_back() {
                        columns.push(col);
                    }
                }
                _ => {}
            }
        }
    }
    tables.sort();
    tables.dedup();
    columns.sort();
    columns.dedup();
    OpKind::CreateView { name, tables, columns, replace }
}

fn update(s: &protobuf::UpdateStmt) -> OpKind {
    let table = s.relation.as_ref().map(qname).unwrap_or_else(|| QName::bare(""));
    let mut assignments = Vec::new();
    let mut plain = true;
    for t in &s.target_list {
        let Some(NodeEnum::ResTarget(r)) = t.node.as_ref() else {
            continue;
        };
        plain &= r.indirection.is_empty();
        match r.val.as_deref() {
            Some(v) if !matches!(v.node, Some(NodeEnum::MultiAssignRef(_))) => {
                assignments.push(Assignment { column: r.name.clone(), expr: expr_sql(v), reads: reads_of(v) });
            }
            _ => plain = false,
        }
    }
    let filter = s.where_clause.as_deref().map(expr_sql);
    let current_of = s.where_clause.as_deref().is_some_and(|w| matches!(w.node, Some(NodeEnum::CurrentOfExpr(_))));
    let aliased = s.relation.as_ref().is_some_and(|r| r.alias.is_some());
    OpKind::Update {
        table,
        assignments,
        filter,
        filter_reads: s.where_clause.as_deref().map(reads_of).unwrap_or_default(),
        batchable: plain && !aliased && !current_of && s.from_clause.is_empty() && s.with_clause.is_none() && s.returning_clause.is_none(),
    }
}

/// The columns, functions and (subquery) tables an expression reads.
fn reads_of(expr: &Node) -> ExprReads {
    let Some(e) = expr.node.as_ref() else {
        return ExprReads::default();
    };
    let mut tables: Vec<String> = e
        .nodes()
        .into_iter()
        .filter_map(|(n, _, _, _)| match n {
            NodeRef::RangeVar(r) => Some(qname(r).key()),
            _ => None,
        })
        .collect();
    tables.sort();
    tables.dedup();
    ExprReads { columns: column_refs(e), calls: calls_in(expr), tables }
}

/// The table one INSERT / UPDATE / DELETE / MERGE node writes.
fn write_of(node: NodeRef<'_>) -> Option<DataWrite> {
    let w = |verb: &str, rel: Option<&protobuf::RangeVar>| {
        rel.map(|r| DataWrite { verb: verb.into(), table: qname(r), all_rows: false, seed: false })
    };
    match node {
        NodeRef::InsertStmt(s) => w("INSERT", s.relation.as_ref()).map(|mut d| {
            let constant_rows = match s.select_stmt.as_deref().and_then(|n| n.node.as_ref()) {
                Some(NodeEnum::SelectStmt(v)) => !v.values_lists.is_empty() && !v.values_lists.iter().any(reads_tables),
                None => true,
                _ => false,
            };
            let updates = s.on_conflict_clause.as_ref().is_some_and(|c| c.action == protobuf::OnConflictAction::OnconflictUpdate as i32);
            d.seed = constant_rows && !updates && s.with_clause.is_none();
            d
        }),
        NodeRef::DeleteStmt(s) => w("DELETE", s.relation.as_ref()).map(|mut d| {
            d.all_rows = s.where_clause.is_none();
            d
        }),
        NodeRef::UpdateStmt(s) => w("UPDATE", s.relation.as_ref()),
        NodeRef::MergeStmt(s) => w("MERGE", s.relation.as_ref()),
        _ => None,
    }
}

fn root_ref(node: &NodeEnum) -> Option<NodeRef<'_>> {
    Some(match node {
        NodeEnum::InsertStmt(s) => NodeRef::InsertStmt(s),
        NodeEnum::DeleteStmt(s) => NodeRef::DeleteStmt(s),
        NodeEnum::UpdateStmt(s) => NodeRef::UpdateStmt(s),
        NodeEnum::MergeStmt(s) => NodeRef::MergeStmt(s),
        _ => return None,
    })
}

/// Every table a statement writes, itself first, then the data-modifying statements nested in it (WITH).
fn writes_in(node: &NodeEnum) -> Vec<DataWrite> {
    let mut out: Vec<DataWrite> = root_ref(node).and_then(write_of).into_iter().collect();
    out.extend(node.nodes().into_iter().filter_map(|(n, _, _, _)| write_of(n)));
    out
}

/// True when a WITH clause holds an INSERT, UPDATE, DELETE or MERGE.
fn writes_data(w: &protobuf::WithClause) -> bool {
    w.ctes.iter().filter_map(|c| c.node.as_ref()).any(|c| !writes_in(c).is_empty())
}

fn data_change(node: &NodeEnum) -> OpKind {
    OpKind::DataChange { writes: writes_in(node) }
}

fn reads_tables(n: &Node) -> bool {
    n.node.as_ref().is_some_and(|n| {
        matches!(n, NodeEnum::SubLink(_)) || n.nodes().iter().any(|(r, _, _, _)| matches!(r, NodeRef::RangeVar(_) | NodeRef::SubLink(_)))
    })
}

/// Every table a statement names.
fn tables_in(node: &NodeEnum) -> Vec<QName> {
    let mut out: Vec<QName> = Vec::new();
    for (n, _, _, _) in node.nodes() {
        if let NodeRef::RangeVar(r) = n {
            let q = qname(r);
            if !out.contains(&q) {
                out.push(q);
            }
        }
    }
    out
}

fn range_vars(nodes: &[Node]) -> Vec<QName> {
    nodes
        .iter()
        .filter_map(|r| match r.node.as_ref() {
            Some(NodeEnum::RangeVar(r)) => Some(qname(r)),
            _ => None,
        })
        .collect()
}

/// A SELECT: a new table (INTO), a data change (writing WITH), or a read, with its row locks and calls.
fn select(node: &NodeEnum, s: &protobuf::SelectStmt) -> OpKind {
    if let Some(into) = &s.into_clause {
        let mut query = s.clone();
        query.into_clause = None;
        return OpKind::CreateTableAs {
            table: into.rel.as_ref().map(qname).unwrap_or_else(|| QName::bare("")),
            reads: tables_in(&NodeEnum::SelectStmt(Box::new(query))),
            if_not_exists: false,
        };
    }
    let writes = writes_in(node);
    if !writes.is_empty() {
        return OpKind::DataChange { writes };
    }
    let mut locked = Vec::new();
    let mut locking = false;
    let mut calls = Vec::new();
    let mut lock_clauses = |clauses: &[Node]| {
        for c in clauses {
            if let Some(NodeEnum::LockingClause(l)) = c.node.as_ref() {
                locking = true;
                locked.extend(range_vars(&l.locked_rels));
            }
        }
    };
    lock_clauses(&s.locking_clause);
    for (n, _, _, _) in node.nodes() {
        match n {
            NodeRef::SelectStmt(sub) => lock_clauses(&sub.locking_clause),
            NodeRef::FuncCall(f) => calls.push(func_name(f)),
            _ => {}
        }
    }
    if locking && locked.is_empty() {
        // FOR UPDATE without OF locks rows of every table in FROM.
        locked = tables_in(node);
    }
    calls.sort();
    calls.dedup();
    OpKind::Select { locked, calls }
}

/// `LOCK TABLE … IN <mode> MODE`: the parser's lock mode number (AccessShareLock = 1 … AccessExclusiveLock = 8).
fn lock_mode(mode: i32) -> LockLevel {
    match mode {
        1 => LockLevel::AccessShare,
        2 => LockLevel::RowShare,
        3 => LockLevel::RowExclusive,
        4 => LockLevel::ShareUpdateExclusive,
        5 => LockLevel::Share,
        6 => LockLevel::ShareRowExclusive,
        7 => LockLevel::Exclusive,
        _ => LockLevel::AccessExclusive,
    }
}

/// A constant's text: `0`, `on`, `replica`, `1s`.
fn const_text(n: &Node) -> Option<String> {
    use protobuf::a_const::Val;
    match n.node.as_ref()? {
        NodeEnum::AConst(c) => Some(match c.val.as_ref()? {
            Val::Ival(i) => i.ival.to_string(),
            Val::Fval(f) => f.fval.clone(),
            Val::Boolval(b) => b.boolval.to_string(),
            Val::Sval(s) => s.sval.clone(),
            Val::Bsval(b) => b.bsval.clone(),
        }),
        NodeEnum::String(s) => Some(s.sval.clone()),
        NodeEnum::Integer(i) => Some(i.ival.to_string()),
        NodeEnum::Float(f) => Some(f.fval.clone()),
        NodeEnum::Boolean(b) => Some(b.boolval.to_string()),
        NodeEnum::TypeCast(t) => t.arg.as_deref().and_then(const_text),
        _ => None,
    }
}

fn setting(s: &protobuf::VariableSetStmt) -> OpKind {
    use protobuf::VariableSetKind as K;
    let value = match K::try_from(s.kind).unwrap_or(K::Undefined) {
        K::VarSetValue => {
            let parts: Vec<String> = s.args.iter().filter_map(const_text).collect();
            Some(parts.join(", ").to_lowercase())
        }
        K::VarSetMulti => Some(String::new()),
        _ => None,
    };
    OpKind::Setting { name: s.name.to_lowercase(), value }
}

fn comment(s: &protobuf::CommentStmt) -> OpKind {
    let objtype = ObjectType::try_from(s.objtype).unwrap_or(ObjectType::Undefined);
    let what = objtype.as_str_name().trim_start_matches("OBJECT_").replace('_', " ");
    let parts = match s.object.as_deref().and_then(|o| o.node.as_ref()) {
        Some(NodeEnum::List(l)) => l.items.clone(),
        _ => Vec::new(),
    };
    let table = match objtype {
        ObjectType::ObjectTable
        | ObjectType::ObjectView
        | ObjectType::ObjectMatview
        | ObjectType::ObjectIndex
        | ObjectType::ObjectSequence
        | ObjectType::ObjectForeignTable => Some(qname_of_list(&parts)),
        ObjectType::ObjectColumn
        | ObjectType::ObjectTabconstraint
        | ObjectType::ObjectTrigger
        | ObjectType::ObjectRule
        | ObjectType::ObjectPolicy
            if parts.len() > 1 =>
        {
            Some(qname_of_list(&parts[..parts.len() - 1]))
        }
        _ => None,
    };
    OpKind::Comment { what, table }
}

/// True when the option is written and on: `(CONCURRENTLY)`, `(FULL true)`, `(FULL 1)`; false for
/// `(CONCURRENTLY false)`, `(FULL off)` or when absent.
fn option_on(params: &[Node], name: &str) -> bool {
    params.iter().any(|p| match p.node.as_ref() {
        Some(NodeEnum::DefElem(d)) if d.defname == name => match d.arg.as_deref().and_then(const_text) {
            None => true,
            Some(v) => !matches!(v.to_lowercase().as_str(), "false" | "off" | "0" | "no"),
        },
        _ => false,
    })
}

/// Rewrites a `CREATE INDEX` definition so it indexes column `to` instead of `from`, named `new_name`
/// and built CONCURRENTLY. `None` when `from` appears inside an expression or predicate (zdm does not
/// rewrite expressions) or the text is not a CREATE INDEX.
#[must_use]
pub fn index_for_column(definition: &str, from: &str, to: &str, new_name: &str) -> Option<String> {
    let parsed = pg_query::parse(definition, 0).ok()?;
    let raw = parsed.protobuf.stmts.first()?;
    let Some(NodeEnum::IndexStmt(stmt)) = raw.stmt.as_ref()?.node.as_ref() else {
        return None;
    };
    let mut stmt = stmt.clone();
    if stmt.where_clause.as_deref().and_then(|w| w.node.as_ref()).is_some_and(|w| column_refs(w).iter().any(|c| c == from)) {
        return None;
    }
    for p in stmt.index_params.iter_mut().chain(stmt.index_including_params.iter_mut()) {
        let Some(NodeEnum::IndexElem(e)) = p.node.as_mut() else {
            continue;
        };
        if let Some(expr) = e.expr.as_deref().and_then(|x| x.node.as_ref())
            && column_refs(expr).iter().any(|c| c == from)
        {
            return None;
        }
        if e.name == from {
            e.name = to.to_string();
        }
    }
    stmt.idxname = new_name.to_string();
    stmt.concurrent = true;
    stmt.if_not_exists = false;
    Some(deparse_stmt(NodeEnum::IndexStmt(stmt)))
}

fn only_statement(text: &str) -> Option<NodeEnum> {
    let parsed = pg_query::parse(text, 0).ok()?;
    if parsed.protobuf.stmts.len() != 1 {
        return None;
    }
    parsed.protobuf.stmts.first()?.stmt.as_ref()?.node.clone()
}

/// For a `COMMENT ON … IS …` statement: the same statement setting `text` instead (None: `IS NULL`), and the
/// comment it sets. `comment_sql(sql, None)` also names the commented object (the key of `Schema::comments`).
#[must_use]
pub fn comment_sql(sql: &str, text: Option<&str>) -> Option<(String, Option<String>)> {
    let Some(NodeEnum::CommentStmt(c)) = only_statement(sql) else {
        return None;
    };
    let written = (!c.comment.is_empty()).then(|| c.comment.clone());
    let mut other = c.clone();
    other.comment = text.unwrap_or_default().to_string();
    let out = deparse_stmt(NodeEnum::CommentStmt(other));
    // The deparser writes an empty comment as `''`; PostgreSQL treats '' as NULL as well.
    let out = if text.is_none() { out.strip_suffix("IS ''").map_or(out.clone(), |head| format!("{head}IS NULL")) } else { out };
    Some((out, written))
}

/// For `SET` / `RESET` statements: the statement that undoes it (`RESET name` after a session-level SET),
/// `Ok(None)` when there is nothing to undo (SET LOCAL ends with its transaction), `Err(why)` when the
/// previous value is unknown (RESET, RESET ALL).
///
/// # Errors
/// Why the setting cannot be restored.
pub fn set_inverse(sql: &str) -> Option<Result<Option<String>, String>> {
    let Some(NodeEnum::VariableSetStmt(v)) = only_statement(sql) else {
        return None;
    };
    use protobuf::VariableSetKind as K;
    let kind = K::try_from(v.kind).unwrap_or(K::Undefined);
    Some(match kind {
        _ if v.is_local => Ok(None),
        K::VarSetMulti if v.name.starts_with("TRANSACTION") || v.name.starts_with("SESSION CHARACTERISTICS") => Ok(None),
        K::VarSetValue | K::VarSetDefault | K::VarSetCurrent => Ok(Some(match v.name.as_str() {
            "role" => "RESET ROLE".to_string(),
            "session_authorization" => "RESET SESSION AUTHORIZATION".to_string(),
            "timezone" => "RESET TIME ZONE".to_string(),
            name => format!("RESET {}", crate::model::quote_ident(name)),
        })),
        _ => Err(format!("the value before `{}` is not known", sql.split_whitespace().take(3).collect::<Vec<_>>().join(" "))),
    })
}

/// For `DROP TYPE` / `DROP DOMAIN`: each dropped name, whether it is a domain, and CASCADE.
#[must_use]
pub fn dropped_types(sql: &str) -> Option<(Vec<QName>, bool, bool)> {
    let Some(NodeEnum::DropStmt(s)) = only_statement(sql) else {
        return None;
    };
    let domain = match ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined) {
        ObjectType::ObjectType => false,
        ObjectType::ObjectDomain => true,
        _ => return None,
    };
    let names = s
        .objects
        .iter()
        .filter_map(|o| match o.node.as_ref() {
            Some(NodeEnum::TypeName(t)) => Some(qname_of_list(&t.names)),
            Some(NodeEnum::List(l)) => Some(qname_of_list(&l.items)),
            _ => None,
        })
        .collect();
    Some((names, domain, s.behavior == DropBehavior::DropCascade as i32))
}

/// For `CREATE FUNCTION` / `CREATE PROCEDURE` without OR REPLACE: the `DROP` that removes exactly it.
#[must_use]
pub fn drop_of_created_function(sql: &str) -> Option<String> {
    let Some(NodeEnum::CreateFunctionStmt(f)) = only_statement(sql) else {
        return None;
    };
    if f.replace {
        return None;
    }
    let mut args = Vec::new();
    for p in &f.parameters {
        let Some(NodeEnum::FunctionParameter(p)) = p.node.as_ref() else { continue };
        use protobuf::FunctionParameterMode as M;
        match M::try_from(p.mode).unwrap_or(M::Undefined) {
            M::FuncParamOut | M::FuncParamTable => continue,
            _ => args.push(p.arg_type.as_ref().map(type_sql)?),
        }
    }
    let what = if f.is_procedure { "PROCEDURE" } else { "FUNCTION" };
    Some(format!("DROP {what} {}({})", qname_of_list(&f.funcname).sql(), args.join(", ")))
}

/// `CREATE INDEX ON <body>` (an [`IndexSpec`] body) rewritten for another table: named `name`, on `table`
/// (`ON ONLY` when `only`), CONCURRENTLY when `concurrently` — the pieces of an index on a partitioned table.
#[must_use]
pub fn index_variant(body: &str, unique: bool, name: &str, table: &QName, only: bool, concurrently: bool) -> Option<String> {
    let Some(NodeEnum::IndexStmt(mut stmt)) = only_statement(&format!("CREATE INDEX ON {body}")) else {
        return None;
    };
    let relation = stmt.relation.as_mut()?;
    relation.relname.clone_from(&table.name);
    relation.schemaname = table.schema.clone().unwrap_or_default();
    relation.inh = !only;
    stmt.idxname = name.to_string();
    stmt.unique = unique;
    stmt.concurrent = concurrently;
    Some(deparse_stmt(NodeEnum::IndexStmt(stmt)))
}

/// For `SET [LOCAL] search_path …`, `RESET search_path` and `SELECT set_config('search_path', '…', …)` with a
/// literal: `Some(Some(schemas))` for the new path in order, `Some(None)` back to the default; None for any
/// other statement.
#[must_use]
pub fn search_path_of(sql: &str) -> Option<Option<Vec<String>>> {
    let sval = |n: &Node| match n.node.as_ref() {
        Some(NodeEnum::AConst(protobuf::AConst { val: Some(protobuf::a_const::Val::Sval(s)), .. })) => Some(s.sval.clone()),
        _ => None,
    };
    match only_statement(sql)? {
        NodeEnum::VariableSetStmt(v) if v.name == "search_path" => {
            use protobuf::VariableSetKind as K;
            match K::try_from(v.kind).unwrap_or(K::Undefined) {
                K::VarSetValue => Some(Some(v.args.iter().filter_map(sval).collect())),
                K::VarSetDefault | K::VarReset | K::VarResetAll => Some(None),
                _ => None,
            }
        }
        NodeEnum::VariableSetStmt(v) if v.kind == protobuf::VariableSetKind::VarResetAll as i32 => Some(None),
        NodeEnum::SelectStmt(sel) => {
            let [target] = sel.target_list.as_slice() else { return None };
            let Some(NodeEnum::ResTarget(r)) = target.node.as_ref() else { return None };
            let Some(NodeEnum::FuncCall(f)) = r.val.as_deref().and_then(|v| v.node.as_ref()) else { return None };
            if func_name(f) != "set_config" || f.args.len() != 3 || sval(&f.args[0]).as_deref() != Some("search_path") {
                return None;
            }
            let value = sval(&f.args[1])?;
            Some(Some(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        p.strip_prefix('"').and_then(|q| q.strip_suffix('"')).map_or_else(|| p.to_lowercase(), |q| q.replace("\"\"", "\""))
                    })
                    .collect(),
            ))
        }
        _ => None,
    }
}

/// An [`IndexSpec`] body (`users USING btree (email)`) with its table named `table`.
#[must_use]
pub fn index_body_on(body: &str, table: &QName) -> Option<String> {
    let Some(NodeEnum::IndexStmt(mut stmt)) = only_statement(&format!("CREATE INDEX ON {body}")) else {
        return None;
    };
    stmt.relation.as_mut()?.schemaname = table.schema.clone().unwrap_or_default();
    deparse_stmt(NodeEnum::IndexStmt(stmt)).strip_prefix("CREATE INDEX ON ").map(str::to_string)
}

/// A `DROP …` statement with IF EXISTS, so running it again after a rollback that could not re-create the
/// object is a no-op. None for other statements.
#[must_use]
pub fn drop_if_exists(sql: &str) -> Option<String> {
    let Some(NodeEnum::DropStmt(mut s)) = only_statement(sql) else {
        return None;
    };
    s.missing_ok = true;
    Some(deparse_stmt(NodeEnum::DropStmt(s)))
}

/// The same `CREATE INDEX` definition, built CONCURRENTLY (for re-creating a dropped index online).
#[must_use]
pub fn concurrent_index(definition: &str) -> Option<String> {
    let parsed = pg_query::parse(definition, 0).ok()?;
    let Some(NodeEnum::IndexStmt(stmt)) = parsed.protobuf.stmts.first()?.stmt.as_ref()?.node.as_ref() else {
        return None;
    };
    let mut stmt = stmt.clone();
    stmt.concurrent = true;
    Some(deparse_stmt(NodeEnum::IndexStmt(stmt)))
}

#[cfg(test)]
mod tests;
