//! # add-foreign-key (K02)
//!
//! **What it detects:** `ADD … FOREIGN KEY` without `NOT VALID` on an existing table.
//!
//! **Why it's risky:** PostgreSQL checks every existing row while holding SHARE ROW EXCLUSIVE on both the
//! table and the referenced table: writes to both stop for the whole scan.
//!
//! **Safe strategy:** add it `NOT VALID` (brief lock; new writes are checked at once), then
//! `VALIDATE CONSTRAINT` in a separate transaction (SHARE UPDATE EXCLUSIVE on the table, ROW SHARE on the
//! referenced one). Index the referencing columns, or deletes on the parent scan the child.
//!
//! **Version notes:** PostgreSQL 18 allows NOT VALID foreign keys on partitioned tables.

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{ConstraintKind, LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "K02",
    name: "add-foreign-key",
    summary: "ADD FOREIGN KEY validates every row, blocking writes on both tables",
    lock: LockLevel::ShareRowExclusive,
    rewrite: Rewrite::Scan,
    breaks_app: false,
    versions: "all versions; VALIDATE takes SHARE UPDATE EXCLUSIVE",
    strategy: "ADD … NOT VALID, then VALIDATE CONSTRAINT in a separate step",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE orders ADD CONSTRAINT probe_fk FOREIGN KEY (user_id) REFERENCES users (id)", table: "orders" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddConstraint { table, constraint } = &op.kind else {
            return None;
        };
        let ConstraintKind::ForeignKey { ref_table, .. } = &constraint.kind else {
            return None;
        };
        if ctx.table_is_new() || constraint.not_valid {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::NotValidThenValidate,
            format!("FOREIGN KEY {table} → {ref_table} scans {table}, blocking writes on both tables"),
            "add NOT VALID, then VALIDATE CONSTRAINT in its own step".into(),
        ))
    }
}
