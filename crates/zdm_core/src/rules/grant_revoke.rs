//! # grant-revoke (G06)
//!
//! **What it detects:** `GRANT` and `REVOKE` of privileges.
//!
//! **Why it's risky:** no table lock (PostgreSQL 15 takes none), but REVOKE makes running code that relies
//! on the privilege fail with `permission denied`, and GRANT widens who can read or write: a security
//! review, not a lock problem.
//!
//! **Safe strategy:** review access; test with the application role before the deploy.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "G06",
    name: "grant-revoke",
    summary: "GRANT / REVOKE: no lock, but they change who can read and write",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "security review; test with the application role",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "GRANT SELECT ON users TO PUBLIC", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::Security { what, .. } = &op.kind else { return None };
        if what != "GRANT" && what != "REVOKE" {
            return None;
        }
        let _ = ctx;
        let effect = if what == "REVOKE" { "running code relying on the privilege fails" } else { "widens who can read or write" };
        Some(finding(&META, op, Risk::Risky, Strategy::AsWritten, format!("{what}: {effect}"), "review access; test with the application role".into()))
    }
}
