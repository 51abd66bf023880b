//! Raw SQL: a statement inside one string literal (or a `.sql` file) that names the table after `FROM`,
//! `JOIN`, `INTO`, `UPDATE`, `TABLE` or `TRUNCATE` references it; the touched columns count only as
//! identifiers of that same statement (not inside its `'…'` values, not qualified by another touched table).

use crate::Found;
use crate::text::{Family, Lexed, is_ident};
use regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;
use zdm_core::refs::{RefKind, RefTarget};

static TABLE_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:from|join|into|update|table|truncate)\s+(?:only\s+)?(?:"?[A-Za-z_][\w$]*"?\.)?("?)([A-Za-z_][\w$]*)"?"#)
        .expect("valid regex")
});

pub(crate) fn find(text: &str, family: Family, lexed: &Lexed, targets: &[RefTarget], found: &mut Found<'_>) {
    let whole = std::iter::once(0..text.len());
    let regions: Box<dyn Iterator<Item = Range<usize>>> =
        if family == Family::Sql { Box::new(whole) } else { Box::new(lexed.literals.iter().cloned()) };
    for region in regions {
        let mut start = region.start;
        for piece in text[region.clone()].split_inclusive(';') {
            let stmt = start..start + piece.len();
            start = stmt.end;
            statement(text, stmt, lexed, targets, found);
        }
    }
}

fn statement(text: &str, stmt: Range<usize>, lexed: &Lexed, targets: &[RefTarget], found: &mut Found<'_>) {
    let body = &text[stmt.clone()];
    if is_ddl(text, &stmt, lexed) {
        return;
    }
    let mut named: Vec<&RefTarget> = Vec::new();
    for m in TABLE_AFTER.captures_iter(body) {
        let (Some(quote), Some(name)) = (m.get(1), m.get(2)) else { continue };
        let at = stmt.start + name.start();
        if lexed.in_comment(at) {
            continue;
        }
        let quoted = !quote.as_str().is_empty();
        for t in targets.iter().filter(|t| if quoted { t.name == name.as_str() } else { t.name.eq_ignore_ascii_case(name.as_str()) }) {
            found.push(at, t, None, RefKind::Sql);
            if !named.iter().any(|n| n.key == t.key) {
                named.push(t);
            }
        }
    }
    if named.is_empty() {
        return;
    }
    for (at, ident, qualifier) in identifiers(text, stmt) {
        if lexed.in_comment(at) {
            continue;
        }
        for t in &named {
            let other_table = qualifier
                .as_deref()
                .is_some_and(|q| !q.eq_ignore_ascii_case(&t.name) && targets.iter().any(|o| o.name.eq_ignore_ascii_case(q)));
            if other_table {
                continue;
            }
            if let Some(c) = t.columns.iter().find(|c| c.eq_ignore_ascii_case(&ident)) {
                found.push(at, t, Some(c), RefKind::Sql);
            }
        }
    }
}

/// A schema definition (CREATE / ALTER / DROP / COMMENT / GRANT / REVOKE): history and dumps, not a
/// query the running code sends.
fn is_ddl(text: &str, stmt: &Range<usize>, lexed: &Lexed) -> bool {
    let mut at = stmt.start;
    let b = text.as_bytes();
    while at < stmt.end && (b[at].is_ascii_whitespace() || lexed.in_comment(at)) {
        at += 1;
    }
    let word: String = text[at..stmt.end].chars().take_while(char::is_ascii_alphabetic).collect::<String>().to_ascii_uppercase();
    matches!(word.as_str(), "CREATE" | "ALTER" | "DROP" | "COMMENT" | "GRANT" | "REVOKE")
}

/// Identifiers of a SQL statement (outside `'…'` values): offset, name (quotes removed), and the
/// identifier before a `.`, if any.
fn identifiers(text: &str, stmt: Range<usize>) -> Vec<(usize, String, Option<String>)> {
    let b = text.as_bytes();
    let mut out: Vec<(usize, String, Option<String>)> = Vec::new();
    let mut i = stmt.start;
    let mut last: Option<(usize, String)> = None;
    while i < stmt.end {
        let c = b[i];
        if c == b'\'' {
            i += 1;
            while i < stmt.end && b[i] != b'\'' {
                i += 1;
            }
            i += 1;
            last = None;
            continue;
        }
        let (start, end, name) = if c == b'"' || (c == b'\\' && b.get(i + 1) == Some(&b'"')) {
            let open = if c == b'\\' { i + 2 } else { i + 1 };
            let close = text[open..stmt.end].find('"').map_or(stmt.end, |p| open + p);
            let name = text[open..close].trim_end_matches('\\').to_string();
            (open, close + 1, name)
        } else if is_ident(c) && !c.is_ascii_digit() && (i == stmt.start || !is_ident(b[i - 1])) {
            let mut e = i;
            while e < stmt.end && is_ident(b[e]) {
                e += 1;
            }
            (i, e, text[i..e].to_string())
        } else {
            if !c.is_ascii_whitespace() && c != b'.' {
                last = None;
            }
            i += 1;
            continue;
        };
        let dotted = text[..start].trim_end_matches(['"', '\\']).ends_with('.');
        let qualifier = if dotted { last.as_ref().map(|(_, n)| n.clone()) } else { None };
        out.push((start, name.clone(), qualifier));
        last = Some((start, name));
        i = end.max(i + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::refs_in;
    use zdm_core::refs::RefTarget;

    fn users() -> Vec<RefTarget> {
        vec![RefTarget { key: "users".into(), name: "users".into(), columns: vec!["name".into()] }]
    }

    fn found(path: &str, text: &str) -> Vec<(usize, Option<String>)> {
        refs_in(path, text, &users()).into_iter().map(|r| (r.line, r.column)).collect()
    }

    #[test]
    fn sql_in_a_literal_naming_the_table() {
        assert_eq!(found("a.ts", "db.query(\"SELECT id, name FROM users WHERE id = $1\")"), [(1, Some("name".into())), (1, None)]);
        assert_eq!(found("a.rs", "sqlx::query!(\n  r#\"UPDATE \"users\"\n SET \"name\" = $1\"#\n)"), [(2, None), (3, Some("name".into()))]);
    }

    #[test]
    fn no_match_without_the_table_or_in_comments_or_values() {
        assert!(found("a.ts", "db.query(\"SELECT name FROM orders\")").is_empty());
        assert!(found("a.ts", "// SELECT name FROM users\nconst name = 'x'").is_empty());
        assert_eq!(found("a.py", "q = \"SELECT id FROM users WHERE kind = 'name'\""), [(1, None)]);
        assert_eq!(found("q.sql", "-- name\nSELECT id FROM users;\nSELECT name FROM orders;"), [(2, None)]);
        assert!(found("s.sql", "CREATE TABLE users (id int, name text);\nALTER TABLE users ADD COLUMN x int;").is_empty());
    }
}
