//! # identifier-too-long (S07)
//!
//! **What it detects:** a table, column, index, constraint, view, type or trigger name longer than 63 bytes (quoted names included; counted in bytes, as PostgreSQL does, so 32 accented letters are too long).
//!
//! **Why it's risky:** PostgreSQL truncates it; two names can collide and later statements naming the full identifier miss.
//!
//! **Safe strategy:** keep names within 63 bytes.
//!
//! **Version notes:** advisory (design tier): no lock impact.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "S07",
    name: "identifier-too-long",
    summary: "Identifiers longer than 63 bytes are silently truncated",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "advisory",
    strategy: "keep names within 63 bytes.",
    risk: Risk::Info,
    autofix: false,
    advisory: true,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        // The parser already truncated identifiers to 63 bytes, so the check reads the statement text.
        if !matches!(
            &op.kind,
            OpKind::CreateTable { .. }
                | OpKind::AddColumn { .. }
                | OpKind::RenameColumn { .. }
                | OpKind::RenameTable { .. }
                | OpKind::CreateIndex(_)
                | OpKind::AddConstraint { .. }
                | OpKind::RenameConstraint { .. }
                | OpKind::CreateView { .. }
                | OpKind::CreateEnum { .. }
                | OpKind::CreateDomain { .. }
                | OpKind::CreateTrigger { .. }
                | OpKind::CreateTableAs { .. }
                | OpKind::RenameSchema { .. }
        ) {
            return None;
        }
        let _ = ctx;
        let long = identifiers(&op.sql).into_iter().find(|n| n.len() > 63)?;
        Some(finding(
            &META,
            op,
            Risk::Info,
            Strategy::AsWritten,
            format!("{long} is {} bytes, over 63: PostgreSQL truncates it", long.len()),
            "shorten it".into(),
        ))
    }
}

/// The identifiers of a statement as PostgreSQL reads them (quoted ones unescaped), skipping string
/// literals, dollar-quoted bodies and comments. Their length is counted in bytes, as PostgreSQL does.
fn identifiers(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = sql.as_bytes();
    let mut i = 0;
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let mut name = Vec::new();
                i += 1;
                while i < b.len() {
                    if b[i] == b'"' {
                        if b.get(i + 1) == Some(&b'"') {
                            name.push(b'"');
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    name.push(b[i]);
                    i += 1;
                }
                out.push(String::from_utf8_lossy(&name).into_owned());
                i += 1;
            }
            b'\'' => {
                i += 1;
                while i < b.len() && !(b[i] == b'\'' && b.get(i + 1) != Some(&b'\'')) {
                    i += if b[i] == b'\'' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
            }
            b'$' => {
                // `$tag$ … $tag$`: skip the body.
                let tag_end = sql[i + 1..].find('$').map(|n| i + 1 + n);
                match tag_end {
                    Some(end) if sql[i + 1..end].bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') => {
                        let tag = &sql[i..=end];
                        i = sql[end + 1..].find(tag).map_or(b.len(), |n| end + 1 + n + tag.len());
                    }
                    _ => i += 1,
                }
            }
            c if word(c) && !c.is_ascii_digit() => {
                let start = i;
                while i < b.len() && word(b[i]) {
                    i += 1;
                }
                out.push(sql[start..i].to_string());
            }
            _ => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::identifiers;

    #[test]
    fn identifiers_are_read_as_postgres_reads_them() {
        let long_quoted = format!("\"{}\"", "a b".repeat(30));
        let ids = identifiers(&format!("CREATE TABLE {long_quoted} (\"x\"\"y\" int DEFAULT 'a very long string literal that is not a name at all, no, not at all')"));
        assert_eq!(ids, ["CREATE", "TABLE", &"a b".repeat(30), "x\"y", "int", "DEFAULT"]);
        // 32 two-byte characters: 64 bytes.
        assert_eq!(identifiers(&"é".repeat(32))[0].len(), 64);
    }
}
