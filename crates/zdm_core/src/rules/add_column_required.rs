//! # add-column-required (C03)
//!
//! **What it detects:** `ADD COLUMN … NOT NULL` with no default on an existing table.
//!
//! **Why it's risky:** C03 fails at once on a table with rows, and once it exists every INSERT from the
//! running application (which does not know the column) fails.
//!
//! **Safe strategy:** add the column nullable (with `SET DEFAULT` for new rows when there is one), fill
//! existing rows in key-range batches (the value comes from the default, or from an `UPDATE … SET col = …`
//! in the same change), deploy code that writes the column, then enforce NOT NULL through a validated CHECK.
//!
//! **Version notes:** all versions; with a non-volatile DEFAULT instead, 11+ adds the column without a rewrite.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C03",
    name: "add-column-required",
    summary: "ADD COLUMN NOT NULL without a default fails on a populated table and breaks running INSERTs",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "add nullable, backfill in batches, deploy writers, NOT NULL via validated CHECK",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "CREATE TABLE probe_empty (id int)", sql: "ALTER TABLE probe_empty ADD COLUMN x int NOT NULL", table: "probe_empty" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddColumn { table, column, .. } = &op.kind else {
            return None;
        };
        if ctx.table_is_new() || column.generated.is_some() || column.primary_key {
            return None;
        }
        let col = ctx.describe(table, &column.name);
        match &column.default {
            None if column.not_null => Some(finding(
                &META,
                op,
                Risk::Dangerous,
                Strategy::AddColumnStaged,
                format!("{col} NOT NULL, no default: breaks INSERTs"),
                "add nullable, backfill, deploy writers, then enforce NOT NULL".into(),
            )),
            _ => None,
        }
    }
}
