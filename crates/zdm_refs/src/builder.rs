//! Query builders: a call that names the table as its string argument (`knex('users')`, `.from("users")`,
//! `selectFrom('users')`, `.table("users")`, Ecto's `from u in "users"`, Diesel's `users::table`). The
//! touched columns count only inside that statement (from the previous `;` or blank line to the next):
//! as a string equal to the column or `table.column`, an object key or keyword `column:`, a symbol
//! `:column`, or Ecto's `binding.column`. Diesel's `users::name` is a column reference anywhere.

use crate::Found;
use crate::text::{Lexed, is_ident};
use regex::Regex;
use std::ops::Range;
use zdm_core::refs::{RefKind, RefTarget};

/// Calls whose first argument is a table name (case-sensitive: SQLAlchemy's `Table("users", …)` is a
/// model, matched in `orm`; Go builders spell `From`).
const CALLS: &str = r"knex|db|from|table|into|join|innerJoin|leftJoin|rightJoin|fullJoin|leftOuterJoin|selectFrom|insertInto|updateTable|deleteFrom|mergeInto|insert_all|update_all|delete_all|From|Into|Join|InnerJoin|LeftJoin";

pub(crate) fn find(text: &str, lexed: &Lexed, targets: &[RefTarget], found: &mut Found<'_>) {
    for t in targets {
        let name = regex::escape(&t.name);
        let call = Regex::new(&format!(r#"\b(?:{CALLS})\s*\(\s*["'`]({name})["'`]"#)).expect("valid regex");
        let ecto = Regex::new(&format!(r#"\bfrom\s*\(?\s*(\w+)\s+in\s+"({name})""#)).expect("valid regex");
        let diesel = Regex::new(&format!(r"\b{name}::(?:dsl::)?(\w+)")).expect("valid regex");
        let mut spans: Vec<(Range<usize>, Option<String>)> = Vec::new();
        for m in call.captures_iter(text) {
            let at = m.get(1).expect("group").start();
            if !lexed.in_comment(at) {
                found.push(at, t, None, RefKind::QueryBuilder);
                spans.push((statement_span(text, at), None));
            }
        }
        for m in ecto.captures_iter(text) {
            let at = m.get(2).expect("group").start();
            if !lexed.in_comment(at) {
                found.push(at, t, None, RefKind::QueryBuilder);
                spans.push((statement_span(text, at), Some(m[1].to_string())));
            }
        }
        for m in diesel.captures_iter(text) {
            let at = m.get(0).expect("match").start();
            if lexed.in_comment(at) || lexed.literal_at(at).is_some() || (at > 0 && is_ident(text.as_bytes()[at - 1])) {
                continue;
            }
            let member = &m[1];
            match t.columns.iter().find(|c| *c == member) {
                Some(c) => found.push(m.get(1).expect("group").start(), t, Some(c), RefKind::QueryBuilder),
                None if member == "table" || member == "dsl" => found.push(at, t, None, RefKind::QueryBuilder),
                None => {}
            }
        }
        for (span, binding) in spans {
            columns_in(text, span, lexed, t, binding.as_deref(), found);
        }
    }
}

/// From the previous `;` or blank line before `at` to the next one after it (at most 40 lines each way).
fn statement_span(text: &str, at: usize) -> Range<usize> {
    let before = &text[..at];
    let mut start = before.rfind(';').map_or(0, |p| p + 1);
    if let Some(p) = before.rfind("\n\n").or_else(|| before.rfind("\n\r\n")) {
        start = start.max(p + 1);
    }
    let mut lines_back = 0;
    for (i, c) in before.char_indices().rev() {
        if c == '\n' {
            lines_back += 1;
            if lines_back > 40 {
                start = start.max(i + 1);
                break;
            }
        }
    }
    let after = &text[at..];
    let mut end = after.find(';').map_or(text.len(), |p| at + p);
    if let Some(p) = after.find("\n\n").or_else(|| after.find("\n\r\n")) {
        end = end.min(at + p);
    }
    if let Some((p, _)) = after.match_indices('\n').nth(40) {
        end = end.min(at + p);
    }
    start..end
}

fn columns_in(text: &str, span: Range<usize>, lexed: &Lexed, t: &RefTarget, binding: Option<&str>, found: &mut Found<'_>) {
    for c in &t.columns {
        let col = regex::escape(c);
        let bind = binding.map(|b| format!(r"|\b{}\.({col})\b", regex::escape(b))).unwrap_or_default();
        let re = Regex::new(&format!(
            r#"["'`](?:{}\.)?({col})["'`]|(?:^|[\s{{(,])({col})\s*:[^:]|(?:^|[^:\w]):({col})\b{bind}"#,
            regex::escape(&t.name)
        ))
        .expect("valid regex");
        for m in re.captures_iter(&text[span.clone()]) {
            let Some(g) = (1..=4).find_map(|i| m.get(i)) else { continue };
            let at = span.start + g.start();
            if !lexed.in_comment(at) {
                found.push(at, t, Some(c), RefKind::QueryBuilder);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::refs_in;
    use zdm_core::refs::{RefKind, RefTarget};

    fn found(path: &str, text: &str) -> Vec<(usize, Option<String>, RefKind)> {
        let users = vec![RefTarget { key: "users".into(), name: "users".into(), columns: vec!["name".into()] }];
        refs_in(path, text, &users).into_iter().map(|r| (r.line, r.column, r.kind)).collect()
    }

    #[test]
    fn knex_chain_scopes_columns_to_the_statement() {
        let js = "const rows = await knex('users')\n  .select('id', 'name')\n  .where({ name: q });\n\nconst other = knex('orders').select('name');\n";
        let got = found("a.js", js);
        assert_eq!(
            got,
            [
                (1, None, RefKind::QueryBuilder),
                (2, Some("name".into()), RefKind::QueryBuilder),
                (3, Some("name".into()), RefKind::QueryBuilder)
            ]
        );
    }

    #[test]
    fn ecto_and_diesel() {
        let ex = "def names do\n  from(u in \"users\", select: u.name) |> Repo.all()\nend\n";
        assert_eq!(found("a.ex", ex), [(2, None, RefKind::QueryBuilder), (2, Some("name".into()), RefKind::QueryBuilder)]);
        let rs = "let v = users::table.select(users::name).load(conn)?; // orders::name\n";
        assert_eq!(found("a.rs", rs), [(1, None, RefKind::QueryBuilder), (1, Some("name".into()), RefKind::QueryBuilder)]);
    }
}
