//! # uncommitted-transaction (H07)
//!
//! **What it detects:** a `BEGIN` in the change with no later `COMMIT`.
//!
//! **Why it's risky:** the transaction stays open with every lock it took until the session ends.
//!
//! **Safe strategy:** add the COMMIT (zdm ignores the change's transaction statements when it writes files).
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "H07",
    name: "uncommitted-transaction",
    summary: "BEGIN without COMMIT",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "add COMMIT",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::Transaction { what } = &op.kind else { return None };
        if what != "BEGIN" && what != "START" {
            return None;
        }
        (!ctx.facts.closed_later[ctx.index]).then(|| finding(&META, op, Risk::Risky, Strategy::AsWritten, "BEGIN without COMMIT: the transaction would stay open".into(), "add COMMIT".into()))
    }
}
