//! # add-column-check (K13)
//!
//! **What it detects:** `ADD COLUMN … CHECK (…)` on an existing table.
//!
//! **Why it's risky:** PostgreSQL verifies the new constraint against every row, scanning the table under
//! ACCESS EXCLUSIVE, as with `ADD CONSTRAINT … CHECK` (K01), even when the new column is all NULL.
//!
//! **Safe strategy:** add the column plain, then `ADD CONSTRAINT … CHECK (…) NOT VALID` and
//! `VALIDATE CONSTRAINT` in a later step (SHARE UPDATE EXCLUSIVE: reads and writes go on).
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "K13",
    name: "add-column-check",
    summary: "ADD COLUMN … CHECK scans the table under ACCESS EXCLUSIVE",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Scan,
    breaks_app: false,
    versions: "all versions",
    strategy: "plain ADD COLUMN, then CHECK NOT VALID and VALIDATE",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users ADD COLUMN rank int CHECK (rank > 0)", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddColumn { table, column, .. } = &op.kind else { return None };
        let check = column.check.as_ref()?;
        if ctx.table_is_new() {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::AsWritten,
            format!("{} CHECK ({check}) scans all of {table} under ACCESS EXCLUSIVE", ctx.describe(table, &column.name)),
            "add the column plain, then ADD CONSTRAINT … CHECK … NOT VALID and VALIDATE in a later step".into(),
        ))
    }
}
