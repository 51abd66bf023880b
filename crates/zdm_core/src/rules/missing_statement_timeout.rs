//! # missing-statement-timeout (H02)
//!
//! **What it detects:** a change that sets no `statement_timeout`.
//!
//! **Why it's risky:** a statement that unexpectedly scans or rewrites keeps its lock for as long as it runs.
//!
//! **Safe strategy:** set a statement_timeout per step; zdm uses 30 s for brief steps and none for VALIDATE and backfills (which bound each batch instead).
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::Op;

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "H02",
    name: "missing-statement-timeout",
    summary: "No statement_timeout in the change",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "statement_timeout per step; 0 for VALIDATE and concurrent builds",
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
        if ctx.facts.sets_statement_timeout || ctx.index != 0 || !ctx.facts.touches_tables {
            return None;
        }
        Some(finding(&META, op, Risk::Info, Strategy::AsWritten, "no statement_timeout set: zdm plan sets one in every step".into(), "nothing to do".into()))
    }
}
