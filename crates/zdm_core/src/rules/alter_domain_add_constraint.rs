//! # alter-domain-add-constraint (K09)
//!
//! **What it detects:** `ALTER DOMAIN … ADD CONSTRAINT` without NOT VALID.
//!
//! **Why it's risky:** every table with a column of the domain is scanned under a lock that blocks writes.
//!
//! **Safe strategy:** add it NOT VALID, then `ALTER DOMAIN … VALIDATE CONSTRAINT` in a later step; better, keep constraints on tables.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "K09",
    name: "alter-domain-add-constraint",
    summary: "ALTER DOMAIN ADD CONSTRAINT scans every column of that domain, blocking writes",
    lock: LockLevel::Share,
    rewrite: Rewrite::Scan,
    breaks_app: false,
    versions: "all versions",
    strategy: "ADD CONSTRAINT … NOT VALID on the domain, then VALIDATE CONSTRAINT",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "CREATE DOMAIN score_d AS integer; ALTER TABLE users ADD COLUMN s score_d", sql: "ALTER DOMAIN score_d ADD CONSTRAINT score_d_positive CHECK (VALUE >= 0)", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddDomainConstraint { domain, not_valid: false, .. } = &op.kind else { return None };
        let _ = ctx;
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::DomainNotValid,
            format!("CHECK on domain {domain} scans every column of that domain, blocking writes"),
            "add it NOT VALID, then VALIDATE CONSTRAINT in its own step".into(),
        ))
    }
}
