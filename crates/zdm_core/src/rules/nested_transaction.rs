//! # nested-transaction (H06)
//!
//! **What it detects:** `BEGIN`, `COMMIT` or `ROLLBACK` written in the change.
//!
//! **Why it's risky:** most runners already wrap each migration in a transaction; a nested BEGIN warns and a COMMIT ends the runner's transaction early.
//!
//! **Safe strategy:** leave transactions to the runner. zdm drops them and sets each step's transaction mode itself.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "H06",
    name: "nested-transaction",
    summary: "BEGIN/COMMIT written inside a migration the runner already wraps in a transaction",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "follow the runner's transaction mode",
    risk: Risk::Info,
    autofix: true,
    advisory: false,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::Transaction { what } = &op.kind else { return None };
        let _ = ctx;
        Some(finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{what} in the change: zdm decides each step's transaction"), "nothing to do".into()))
    }
}
