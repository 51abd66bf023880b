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
        if ctx.table_is_new() || ctx.facts.sets_lock_timeout {
            return None;
        }
        (ctx.facts.first_access_exclusive == Some(ctx.index)).then(|| {
            finding(&META, op, Risk::Info, Strategy::AsWritten, "no lock_timeout in the change: zdm adds one to every step".into(), "nothing to do".into())
        })
    }
}
