//! # add-check (K01)
//!
//! **What it detects:** `ADD CONSTRAINT … CHECK (…)` without `NOT VALID` on an existing table.
//!
//! **Why it's risky:** PostgreSQL checks every existing row while holding ACCESS EXCLUSIVE.
//!
//! **Safe strategy:** add it `NOT VALID` (brief lock; new writes are checked at once), then
//! `VALIDATE CONSTRAINT` in a separate transaction under SHARE UPDATE EXCLUSIVE (reads and writes go on).
//!
//! **Version notes:** PostgreSQL 18 adds `NOT ENFORCED`, which only defers the problem.

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{ConstraintKind, LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "K01",
    name: "add-check",
    summary: "ADD CHECK validates every row under ACCESS EXCLUSIVE",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Scan,
    breaks_app: false,
    versions: "all versions; VALIDATE takes SHARE UPDATE EXCLUSIVE",
    strategy: "ADD … NOT VALID, then VALIDATE CONSTRAINT in a separate step",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users ADD CONSTRAINT probe_score CHECK (score >= 0)", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddConstraint { table, constraint } = &op.kind else {
            return None;
        };
        if ctx.table_is_new() || constraint.not_valid || !matches!(constraint.kind, ConstraintKind::Check { .. }) {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::NotValidThenValidate,
            format!("CHECK on {table} scans every row under ACCESS EXCLUSIVE"),
            "add NOT VALID, then VALIDATE CONSTRAINT in its own step".into(),
        ))
    }
}
