//! # mixed-transaction-modes (H08)
//!
//! **What it detects:** a change mixing statements that must run outside a transaction (CONCURRENTLY, VACUUM) with others.
//!
//! **Why it's risky:** a migration runs in one transaction (or one implicit one, for a multi-statement string), so one of them fails.
//!
//! **Safe strategy:** split into separate migrations; zdm writes each non-transactional statement alone.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::Op;

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "H08",
    name: "mixed-transaction-modes",
    summary: "Statements that cannot all run in one transaction",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "split the file: one non-transactional statement per migration",
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
        let _ = op;
        let first = ctx.change.len() >= 2 && ctx.facts.first_outside_transaction == Some(ctx.index);
        first.then(|| finding(&META, op, Risk::Info, Strategy::AsWritten, "statements here cannot share one transaction: zdm splits the files".into(), "nothing to do".into()))
    }
}
