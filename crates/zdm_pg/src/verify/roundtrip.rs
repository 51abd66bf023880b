//! The round trip's schema comparison: two `pg_dump --schema-only` texts compared as multisets of
//! statement lines (comments and blank lines dropped; a trailing comma ignored, so a column that came
//! back last in its table does not count as a difference).

use std::collections::BTreeMap;

fn lines(dump: &str) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for l in dump.lines() {
        let l = l.trim();
        if l.is_empty() || l.starts_with("--") {
            continue;
        }
        *out.entry(l.trim_end_matches(',').to_string()).or_insert(0) += 1;
    }
    out
}

/// Lines of `a` missing from `b` (`- …`) and lines of `b` not in `a` (`+ …`).
#[must_use]
pub fn diff(a: &str, b: &str) -> Vec<String> {
    let (la, lb) = (lines(a), lines(b));
    let mut out = Vec::new();
    for (l, n) in &la {
        for _ in 0..(n - lb.get(l).copied().unwrap_or(0)).max(0) {
            out.push(format!("- {l}"));
        }
    }
    for (l, n) in &lb {
        for _ in 0..(n - la.get(l).copied().unwrap_or(0)).max(0) {
            out.push(format!("+ {l}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn column_order_and_comments_do_not_count() {
        let a = "-- x\nCREATE TABLE t (\n    a int,\n    b text\n);\n";
        let b = "-- y\nCREATE TABLE t (\n    b text,\n    a int\n);\n";
        assert!(super::diff(a, b).is_empty());
        assert_eq!(super::diff(a, "CREATE TABLE t (\n    a int\n);"), ["- b text"]);
    }
}
