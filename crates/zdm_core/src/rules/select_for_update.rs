//! # select-for-update (D05)
//!
//! **What it detects:** `SELECT … FOR UPDATE / FOR NO KEY UPDATE / FOR SHARE / FOR KEY SHARE` on an
//! existing table.
//!
//! **Why it's risky:** it locks every row it returns until its step commits: writers of those rows wait,
//! and without a WHERE that is every row. In a migration the lock protects nothing after its step.
//!
//! **Safe strategy:** drop it; if rows must not change during a data fix, do the fix in one statement.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "D05",
    name: "select-for-update",
    summary: "SELECT … FOR UPDATE / SHARE locks the rows it reads until the step commits",
    lock: LockLevel::RowShare,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "drop it; do a data fix in one statement",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "SELECT id FROM users WHERE id < 10 FOR UPDATE", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::Select { locked, .. } = &op.kind else { return None };
        let live: Vec<String> =
            locked.iter().filter(|t| !ctx.schema.table(t).is_some_and(|t| t.created_in_change)).map(ToString::to_string).collect();
        if live.is_empty() {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::AsWritten,
            format!("SELECT … FOR UPDATE/SHARE locks rows of {} until its step commits: their writers wait", live.join(", ")),
            "drop it; the lock protects nothing after its step".into(),
        ))
    }
}
