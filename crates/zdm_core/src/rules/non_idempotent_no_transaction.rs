//! # non-idempotent-no-transaction (H09)
//!
//! **What it detects:** CONCURRENTLY statements (which run outside a transaction) written without `IF EXISTS` / `IF NOT EXISTS`.
//!
//! **Why it's risky:** a failed run is not rolled back: a retry hits the half-done state (an INVALID index of the same name).
//!
//! **Safe strategy:** retry path: `DROP INDEX CONCURRENTLY IF EXISTS` the INVALID index, then run the step again (zdm's checklist says so). IF NOT EXISTS alone would skip the INVALID index silently.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "H09",
    name: "non-idempotent-no-transaction",
    summary: "A statement run outside a transaction that fails when retried",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "IF [NOT] EXISTS; drop INVALID indexes before retrying",
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
        let robust = match &op.kind {
            OpKind::CreateIndex(spec) if spec.concurrently => spec.if_not_exists,
            OpKind::DropIndex { concurrently: true, if_exists, .. } => *if_exists,
            _ => return None,
        };
        let _ = ctx;
        (!robust).then(|| finding(&META, op, Risk::Info, Strategy::AsWritten, "a failed CONCURRENTLY run leaves state a retry trips over".into(), "on failure: DROP INDEX CONCURRENTLY IF EXISTS the INVALID index, then retry".into()))
    }
}
