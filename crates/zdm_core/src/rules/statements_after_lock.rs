//! # statements-after-lock (H03)
//!
//! **What it detects:** statements that run after an ACCESS EXCLUSIVE statement inside the same explicit transaction of the change.
//!
//! **Why it's risky:** the lock is held until COMMIT, so everything after it (above all a backfill) extends the outage.
//!
//! **Safe strategy:** one ACCESS EXCLUSIVE statement per transaction, backfills outside. zdm drops the change's BEGIN/COMMIT and decides transactions itself.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::Op;

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "H03",
    name: "statements-after-lock",
    summary: "More statements run while ACCESS EXCLUSIVE is already held in the same transaction",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "one ACCESS EXCLUSIVE statement per transaction; backfill outside it",
    risk: Risk::Info,
    autofix: false,
    advisory: false,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let _ = op;
        (ctx.facts.after_lock_in_block[ctx.index] && !ctx.table_is_new()).then(|| {
            finding(&META, op, Risk::Info, Strategy::AsWritten, "runs while ACCESS EXCLUSIVE is held by an earlier statement of the transaction".into(), "zdm splits the transaction".into())
        })
    }
}
