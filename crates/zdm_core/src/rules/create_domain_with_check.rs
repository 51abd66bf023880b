//! # create-domain-with-check (K10)
//!
//! **What it detects:** `CREATE DOMAIN` with a CHECK constraint.
//!
//! **Why it's risky:** harmless today, but adding a column of the domain rewrites the table (C07) and changing the constraint scans every user (K09).
//!
//! **Safe strategy:** prefer the base type plus a table CHECK.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "K10",
    name: "create-domain-with-check",
    summary: "CREATE DOMAIN … CHECK: later changes to it rescan or rewrite every user",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "base type plus a table CHECK",
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
        let OpKind::CreateDomain { name, checks } = &op.kind else { return None };
        let _ = ctx;
        (*checks > 0).then(|| {
            finding(&META, op, Risk::Info, Strategy::AsWritten, format!("domain {name} has a CHECK: later columns of it rewrite their table"), "prefer the base type + a table CHECK".into())
        })
    }
}
