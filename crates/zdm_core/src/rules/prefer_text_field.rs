//! # prefer-text-field (S04)
//!
//! **What it detects:** a `varchar(n)` column.
//!
//! **Why it's risky:** changing the limit later can rewrite or re-check the table (C18); a CHECK on length is cheaper to change.
//!
//! **Safe strategy:** use `text` with `CHECK (length(col) <= n)` when a limit matters.
//!
//! **Version notes:** advisory (design tier): no lock impact.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::Op;

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "S04",
    name: "prefer-text-field",
    summary: "varchar(n) instead of text",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "advisory",
    strategy: "use `text` with `CHECK (length(col) <= n)` when a limit matters.",
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
        let columns = super::new_columns(op);
        let hit = columns.iter().find(|(_, c)| c.type_name == "varchar" && c.type_sql.contains('('))?;
        Some(finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{}.{} is varchar(n)", hit.0, hit.1.name), "use text + CHECK (length(col) <= n)".into()))
    }
}
