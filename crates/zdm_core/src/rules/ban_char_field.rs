//! # ban-char-field (S06)
//!
//! **What it detects:** a `char(n)` / `character(n)` or `"char"` column, in CREATE TABLE, ADD COLUMN or ALTER COLUMN TYPE.
//!
//! **Why it's risky:** char(n) values are blank-padded and compare in surprising ways, no faster than text; `"char"` is a one-byte internal type that silently keeps only the first byte.
//!
//! **Safe strategy:** use `text` (or varchar).
//!
//! **Version notes:** advisory (design tier): no lock impact.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "S06",
    name: "ban-char-field",
    summary: "char(n) pads with spaces; \"char\" is a one-byte internal type",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "advisory",
    strategy: "use `text` (or varchar).",
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
        let _ = ctx;
        // char(n) parses as `bpchar`; `"char"` is PostgreSQL's one-byte internal type.
        let padded = |t: &str| t == "bpchar" || t == "char";
        let (table, name, type_name) = match &op.kind {
            OpKind::AlterColumnType { table, column, type_name, .. } if padded(type_name) => (table, column, type_name),
            _ => super::new_columns(op).into_iter().find(|(_, c)| padded(&c.type_name)).map(|(t, c)| (t, &c.name, &c.type_name))?,
        };
        let what = if type_name == "char" { "\"char\" (one byte, an internal type)" } else { "char(n), padded with spaces" };
        Some(finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{table}.{name} is {what}"), "use text".into()))
    }
}
