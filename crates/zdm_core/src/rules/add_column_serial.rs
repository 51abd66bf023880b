//! # add-column-serial (C04)
//!
//! **What it detects:** `ADD COLUMN … serial` / `bigserial` / `smallserial` on an existing table.
//!
//! **Why it's risky:** each value is computed per row, so PostgreSQL rewrites the table and all its indexes under ACCESS EXCLUSIVE: no reads, no writes until it finishes.
//!
//! **Safe strategy:** add a plain nullable column, give new rows their value (a sequence default or a trigger), backfill existing rows in key-range batches, then enforce NOT NULL through a validated CHECK. zdm writes that recipe; the column ends as bigserial would leave it: NOT NULL, DEFAULT nextval of its owned sequence.
//!
//! **Version notes:** all versions

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C04",
    name: "add-column-serial",
    summary: "ADD COLUMN serial/bigserial rewrites the table (nextval is volatile)",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Rewrite,
    breaks_app: false,
    versions: "all versions",
    strategy: "plain nullable column, sequence default or trigger, batched backfill, NOT NULL via CHECK",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users ADD COLUMN seq bigserial", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddColumn { table, column, .. } = &op.kind else { return None };
        if ctx.table_is_new() || !(matches!(column.type_name.as_str(), "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2")) {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Dangerous,
            Strategy::AddColumnStaged,
            format!("{}: serial column rewrites {table} under ACCESS EXCLUSIVE", ctx.describe(table, &column.name)),
            "plain column + sequence default, batched backfill, NOT NULL via CHECK".into(),
        ))
    }
}
