//! # validate-constraint (K11)
//!
//! **What it detects:** `ALTER TABLE … VALIDATE CONSTRAINT` (the safe second half of NOT VALID).
//!
//! **Why it's risky:** not risky in itself: the scan runs under SHARE UPDATE EXCLUSIVE, but it can take long, so a short statement_timeout kills it.
//!
//! **Safe strategy:** its own step with `statement_timeout = 0`; zdm writes it that way.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "K11",
    name: "validate-constraint",
    summary: "VALIDATE CONSTRAINT scans under SHARE UPDATE EXCLUSIVE: reads and writes go on",
    lock: LockLevel::ShareUpdateExclusive,
    rewrite: Rewrite::Scan,
    breaks_app: false,
    versions: "all versions",
    strategy: "run with statement_timeout 0 (or long) in its own transaction",
    risk: Risk::Info,
    autofix: true,
    advisory: false,
    probe: Some(Probe { setup: "ALTER TABLE users ADD CONSTRAINT probe_nv CHECK (score >= 0) NOT VALID", sql: "ALTER TABLE users VALIDATE CONSTRAINT probe_nv", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::ValidateConstraint { table, name } = &op.kind else { return None };
        (!ctx.table_is_new()).then(|| {
            finding(
                &META,
                op,
                Risk::Info,
                Strategy::SeparateTransaction,
                format!("VALIDATE {name} scans {table}; reads & writes go on"),
                "own step, no statement_timeout".into(),
            )
        })
    }
}
