//! What `zdm backfill` runs, read from text with libpg_query: the `--table`, `--set` and `--where` flags,
//! and the batched `UPDATE` inside the `DO` block of a backfill step zdm wrote (in any tool's file).
//! Every fragment handed back is re-emitted by the deparser, so it is one expression and nothing more.

use super::{calls_in, column_refs, expr_sql, qname};
use crate::model::QName;
use pg_query::NodeEnum;
use pg_query::protobuf;

/// The parts of a backfill's `UPDATE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateParts {
    /// The table.
    pub table: QName,
    /// `column = expression` assignments, in order (the expression deparsed).
    pub set: Vec<(String, String)>,
    /// The row filter beyond the key range (conjuncts AND-ed), when any.
    pub filter: Option<String>,
    /// Functions the expressions and filter call (lower case), for volatility.
    pub calls: Vec<String>,
}

/// `column = expression` assignments and the functions they call.
pub type Assignments = (Vec<(String, String)>, Vec<String>);

fn one_statement(sql: &str, what: &str) -> Result<NodeEnum, String> {
    let parsed = pg_query::parse(sql, 0).map_err(|e| format!("{what} does not parse: {e}"))?;
    match parsed.protobuf.stmts.as_slice() {
        [one] => one.stmt.as_ref().and_then(|s| s.node.clone()).ok_or_else(|| format!("{what} is empty")),
        _ => Err(format!("{what} must be one expression (it holds several statements)")),
    }
}

/// Reads `--table`: one (optionally schema-qualified) table name.
///
/// # Errors
/// Not a table name.
pub fn parse_table(text: &str) -> Result<QName, String> {
    let bad = || format!("--table {text:?} is not a table name (schema.table or table)");
    match one_statement(&format!("SELECT FROM {text}"), "--table").map_err(|_| bad())? {
        NodeEnum::SelectStmt(s) if s.from_clause.len() == 1 && s.where_clause.is_none() => match s.from_clause[0].node.as_ref() {
            Some(NodeEnum::RangeVar(r)) if r.alias.is_none() && r.inh => Ok(qname(r)),
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

fn assignments(targets: &[pg_query::protobuf::Node]) -> Result<Assignments, String> {
    let mut set = Vec::new();
    let mut calls = Vec::new();
    for t in targets {
        let Some(NodeEnum::ResTarget(r)) = t.node.as_ref() else { continue };
        let Some(val) = r.val.as_deref() else { continue };
        if matches!(val.node, Some(NodeEnum::MultiAssignRef(_))) {
            return Err("(a, b) = (…) assignments are not supported: write a = …, b = …".into());
        }
        if !r.indirection.is_empty() {
            return Err(format!("assigning into part of {} (array element or field) is not supported", r.name));
        }
        calls.extend(calls_in(val));
        set.push((r.name.clone(), expr_sql(val)));
    }
    Ok((set, calls))
}

/// Reads `--set`: `column = expression[, column = expression…]`.
///
/// # Errors
/// It does not parse, or holds more than assignments (a WHERE, FROM, RETURNING or another statement).
pub fn parse_set(text: &str) -> Result<Assignments, String> {
    let node = one_statement(&format!("UPDATE zdm_t SET {text}"), "--set")?;
    let NodeEnum::UpdateStmt(u) = node else { return Err("--set must be column = expression".into()) };
    if u.where_clause.is_some() || !u.from_clause.is_empty() || u.returning_clause.is_some() || u.with_clause.is_some() {
        return Err("--set must hold only column = expression assignments (the row filter goes in --where)".into());
    }
    let (set, calls) = assignments(&u.target_list)?;
    if set.is_empty() {
        return Err("--set names no column".into());
    }
    Ok((set, calls))
}

/// Reads `--where`: one boolean expression over the table's columns.
///
/// # Errors
/// It does not parse or holds more than one expression.
pub fn parse_where(text: &str) -> Result<(String, Vec<String>), String> {
    let node = one_statement(&format!("SELECT FROM zdm_t WHERE {text}"), "--where")?;
    match node {
        NodeEnum::SelectStmt(s)
            if s.op == protobuf::SetOperation::SetopNone as i32
                && s.sort_clause.is_empty()
                && s.group_clause.is_empty()
                && s.having_clause.is_none()
                && s.limit_count.is_none()
                && s.locking_clause.is_empty()
                && s.from_clause.len() == 1 =>
        {
            let w = s.where_clause.ok_or("--where is empty")?;
            Ok((expr_sql(&w), calls_in(&w)))
        }
        _ => Err("--where must be one boolean expression".into()),
    }
}

/// Finds the batched `UPDATE` of a backfill step in a migration file zdm wrote: the first `DO $zdm$ … $zdm$`
/// block (before a dbmate `-- migrate:down` section) whose body runs an `UPDATE`. The key-range conditions
/// (those reading zdm's own `zdm_…` variables, or `ctid`) are dropped; the rest is the filter.
///
/// # Errors
/// No such block, or its `UPDATE` cannot be read (the message says which).
pub fn read_step(text: &str) -> Result<UpdateParts, String> {
    let up = text.split("-- migrate:down").next().unwrap_or(text);
    let mut rest = up;
    while let Some(start) = rest.find("DO $zdm$") {
        let after = &rest[start + "DO $zdm$".len()..];
        let Some(end) = after.find("$zdm$") else { break };
        let block = &rest[start..start + "DO $zdm$".len() + end + "$zdm$".len()];
        rest = &after[end + "$zdm$".len()..];
        let body = super::do_block(block).ok_or("the step's DO block does not parse as PL/pgSQL")?;
        for stmt in &body.statements {
            if let Ok(NodeEnum::UpdateStmt(u)) = one_statement(stmt, "the step's UPDATE") {
                return update_parts(&u);
            }
        }
    }
    Err("no batched backfill found: expected a DO $zdm$ … $zdm$ block with an UPDATE (a backfill step zdm wrote)".into())
}

fn update_parts(u: &protobuf::UpdateStmt) -> Result<UpdateParts, String> {
    let table = u.relation.as_ref().map(qname).ok_or("the step's UPDATE names no table")?;
    let (set, mut calls) = assignments(&u.target_list)?;
    let mut conjuncts = Vec::new();
    if let Some(w) = u.where_clause.as_deref() {
        match w.node.as_ref() {
            Some(NodeEnum::BoolExpr(b)) if b.boolop == protobuf::BoolExprType::AndExpr as i32 => conjuncts.extend(b.args.iter()),
            Some(_) => conjuncts.push(w),
            None => {}
        }
    }
    let mut kept = Vec::new();
    for c in conjuncts {
        let Some(node) = c.node.as_ref() else { continue };
        let refs = column_refs(node);
        if refs.iter().any(|r| r.starts_with("zdm_") || r == "ctid") {
            continue;
        }
        calls.extend(calls_in(c));
        kept.push(format!("({})", expr_sql(c)));
    }
    calls.sort();
    calls.dedup();
    let filter = if kept.is_empty() { None } else { Some(kept.join(" AND ")) };
    Ok(UpdateParts { table, set, filter, calls })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_where_and_table() {
        let (set, calls) = parse_set("full_name = upper(name), n = n + 1").unwrap();
        assert_eq!(set, vec![("full_name".into(), "upper(name)".into()), ("n".into(), "n + 1".into())]);
        assert_eq!(calls, vec!["upper".to_string()]);
        assert!(parse_set("a = 1 WHERE true").is_err());
        assert!(parse_set("a = 1; DROP TABLE users").is_err());
        assert!(parse_set("a = (").unwrap_err().contains("does not parse"));
        assert_eq!(parse_where("id % 2 = 0").unwrap().0, "id % 2 = 0");
        assert!(parse_where("true; DROP TABLE users").is_err());
        assert!(parse_where("true ORDER BY 1").is_err());
        assert_eq!(parse_table("app.\"Users\"").unwrap(), QName { schema: Some("app".into()), name: "Users".into() });
        assert!(parse_table("users; DROP TABLE x").is_err());
        assert!(parse_table("users u").is_err());
    }

    #[test]
    fn step_file_update() {
        let file = "-- migrate:up transaction:false
DO $zdm$
DECLARE
  zdm_batch CONSTANT integer := 10000;
  zdm_lo1 users.id%TYPE;
  zdm_up1 users.id%TYPE;
  zdm_stop1 users.id%TYPE;
  zdm_tries integer;
BEGIN
  SELECT id INTO zdm_lo1 FROM users ORDER BY id LIMIT 1;
  WHILE zdm_lo1 IS NOT NULL LOOP
    UPDATE users SET full_name = name
         WHERE (id) >= (zdm_lo1) AND (id) <= (zdm_up1) AND (full_name IS DISTINCT FROM name) AND (active);
    COMMIT;
  END LOOP;
END
$zdm$;

-- migrate:down
DO $zdm$ BEGIN UPDATE users SET name = full_name; END $zdm$;
";
        let p = read_step(file).unwrap();
        assert_eq!(p.table, QName::bare("users"));
        assert_eq!(p.set, vec![("full_name".into(), "name".into())]);
        assert_eq!(p.filter.as_deref(), Some("(full_name IS DISTINCT FROM name) AND (active)"));
        assert!(read_step("SELECT 1").is_err());
    }
}
