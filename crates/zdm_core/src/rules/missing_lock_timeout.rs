//! # missing-lock-timeout (H01)
//!
//! **What it detects:** a change that takes ACCESS EXCLUSIVE on an existing table without setting `lock_timeout` first.
//!
//! **Why it's risky:** a queued ACCESS EXCLUSIVE blocks every later query on the table for as long as it waits, even for "instant" DDL.
//!
//! **Safe strategy:** set `lock_timeout` (about 1–5 s) and retry on timeout; zdm puts `SET LOCAL lock_timeout` at the top of every transactional step.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::Op;

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "H01",
    name: "missing-lock-timeout",
    summary: "No lock_timeout before a statement that takes ACCESS EXCLUSIVE",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "SET lock_timeout (1–5 s) and retry; zdm writes it at the top of every step",
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
        // A timeout set after the lock is taken does not bound the wait for it.
        if ctx.table_is_new() || ctx.facts.first_lock_timeout.is_some_and(|i| i < ctx.index) {
            return None;
        }
        (ctx.facts.first_access_exclusive == Some(ctx.index)).then(|| {
            let table = op.kind.table().map_or_else(String::new, |t| format!(" on {t}"));
            let why = format!("ACCESS EXCLUSIVE{table} with no lock_timeout set before it: zdm plan sets one in every step");
            finding(&META, op, Risk::Info, Strategy::AsWritten, why, "nothing to do".into())
        })
    }
}
