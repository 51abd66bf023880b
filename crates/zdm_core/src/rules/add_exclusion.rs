//! # add-exclusion (K06)
//!
//! **What it detects:** `ADD … EXCLUDE` on an existing table.
//!
//! **Why it's risky:** PostgreSQL builds the index and checks every row under ACCESS EXCLUSIVE.
//!
//! **Safe strategy:** none in place: exclusion constraints have no NOT VALID and no USING INDEX. Copy into
//! a new table and swap, or schedule a maintenance window. zdm keeps the statement as written and says so.
//!
//! **Version notes:** none.

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{ConstraintKind, LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "K06",
    name: "add-exclusion",
    summary: "ADD EXCLUDE builds and checks under ACCESS EXCLUSIVE; no online path exists",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Build,
    breaks_app: false,
    versions: "all versions",
    strategy: "no in-place safe path: new table and swap, or a maintenance window",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "CREATE TABLE bookings (id int, during tsrange); INSERT INTO bookings SELECT g, tsrange(timestamp '2026-01-01' + g * interval '1 hour', timestamp '2026-01-01' + (g + 1) * interval '1 hour') FROM generate_series(1, 100) g", sql: "ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&)", table: "bookings" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddConstraint { table, constraint } = &op.kind else {
            return None;
        };
        if ctx.table_is_new() || !matches!(constraint.kind, ConstraintKind::Other) {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Dangerous,
            Strategy::AsWritten,
            format!("EXCLUDE on {table}: index build and check under ACCESS EXCLUSIVE, no online path"),
            "schedule a maintenance window, or copy into a new table and swap".into(),
        ))
    }
}
