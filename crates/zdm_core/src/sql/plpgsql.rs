//! What a `DO` block runs, read with PostgreSQL's own PL/pgSQL parser (through libpg_query): the SQL
//! statements written in its body, the `EXECUTE` strings that are plain literals, and the dynamic
//! `EXECUTE` expressions zdm cannot evaluate.

use pg_query::NodeEnum;
use serde_json::Value;

/// The statements of a `DO` block's body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DoBody {
    /// SQL statements it runs, as written (static statements and literal `EXECUTE` strings), in order.
    pub statements: Vec<String>,
    /// `EXECUTE` expressions that are built at run time (`format(…)`, concatenations), as written.
    pub dynamic: Vec<String>,
}

/// Reads a `DO` statement. `None` when it is not PL/pgSQL or its body does not parse.
#[must_use]
pub fn do_block(sql: &str) -> Option<DoBody> {
    let parsed = pg_query::parse(sql, 0).ok()?;
    let node = parsed.protobuf.stmts.first()?.stmt.as_ref()?.node.as_ref()?;
    let NodeEnum::DoStmt(stmt) = node else { return None };
    let mut body = None;
    let mut language = "plpgsql".to_string();
    for arg in &stmt.args {
        let Some(NodeEnum::DefElem(d)) = arg.node.as_ref() else { continue };
        let value = match d.arg.as_deref().and_then(|a| a.node.as_ref()) {
            Some(NodeEnum::String(s)) => s.sval.clone(),
            _ => continue,
        };
        match d.defname.as_str() {
            "as" => body = Some(value),
            "language" => language = value.to_lowercase(),
            _ => {}
        }
    }
    if language != "plpgsql" {
        return None;
    }
    let function = format!("CREATE FUNCTION zdm_do() RETURNS void LANGUAGE plpgsql AS {}", crate::model::dollar_quote(&body?, "zdm_do"));
    let tree = pg_query::parse_plpgsql(&function).ok()?;
    let mut out = DoBody::default();
    walk(&tree, &mut out);
    Some(out)
}

fn expr_query(v: &Value) -> Option<&str> {
    v.get("PLpgSQL_expr")?.get("query")?.as_str()
}

fn walk(v: &Value, out: &mut DoBody) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
        Value::Object(map) => {
            for (key, value) in map {
                match key.as_str() {
                    "PLpgSQL_stmt_execsql" => {
                        if let Some(q) = value.get("sqlstmt").and_then(expr_query) {
                            out.statements.push(q.to_string());
                        }
                    }
                    "PLpgSQL_stmt_dynexecute" | "PLpgSQL_stmt_dynfors" => {
                        if let Some(q) = value.get("query").and_then(expr_query) {
                            match string_literal(q) {
                                Some(text) => out.statements.push(text),
                                None => out.dynamic.push(q.to_string()),
                            }
                        }
                    }
                    _ => {}
                }
                walk(value, out);
            }
        }
        _ => {}
    }
}

/// The value of an expression that is one string constant (`'CREATE TABLE …'`).
fn string_literal(expr: &str) -> Option<String> {
    let parsed = pg_query::parse(&format!("SELECT {expr}"), 0).ok()?;
    let NodeEnum::SelectStmt(s) = parsed.protobuf.stmts.first()?.stmt.as_ref()?.node.as_ref()? else { return None };
    let [target] = s.target_list.as_slice() else { return None };
    let Some(NodeEnum::ResTarget(r)) = target.node.as_ref() else { return None };
    match r.val.as_deref()?.node.as_ref()? {
        NodeEnum::AConst(c) => match c.val.as_ref()? {
            pg_query::protobuf::a_const::Val::Sval(s) => Some(s.sval.clone()),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_static_literal_and_dynamic_statements() {
        let body = do_block(
            "DO $$ DECLARE r record; BEGIN
               IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'mood') THEN CREATE TYPE mood AS ENUM ('a'); END IF;
               ALTER TABLE users ADD COLUMN x int;
               EXECUTE 'CREATE TABLE t2 (id int)';
               FOR r IN SELECT tablename FROM pg_tables LOOP
                 EXECUTE format('ALTER TABLE %I ADD COLUMN y int', r.tablename);
               END LOOP;
             END $$",
        )
        .unwrap();
        assert_eq!(body.statements, ["CREATE TYPE mood AS ENUM ('a')", "ALTER TABLE users ADD COLUMN x int", "CREATE TABLE t2 (id int)"]);
        assert_eq!(body.dynamic, ["format('ALTER TABLE %I ADD COLUMN y int', r.tablename)"]);
        assert_eq!(do_block("DO LANGUAGE plpython3u $$ pass $$"), None);
    }
}
