//! # add-column-volatile-default (C01)
//!
//! **What it detects:** `ADD COLUMN … DEFAULT <volatile expression>` (`random()`, `gen_random_uuid()`,
//! `clock_timestamp()`, `nextval()`, or any function zdm cannot see) on an existing table.
//!
//! **Why it's risky:** a volatile default must be computed per row, so PostgreSQL rewrites the whole table
//! (new relfilenode, about twice the disk) while holding ACCESS EXCLUSIVE: no reads, no writes.
//!
//! **Safe strategy:** add the column with no default, `SET DEFAULT` (new rows only, metadata), backfill
//! existing rows in key-range batches outside the DDL transaction, then enforce NOT NULL through a
//! validated CHECK.
//!
//! **Version notes:** volatility comes from PostgreSQL's catalog (`now()` is STABLE, so it is
//! metadata-only on 11+). Unknown functions count as volatile.

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, Volatility, finding, volatility_of};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C01",
    name: "add-column-volatile-default",
    summary: "ADD COLUMN with a volatile default rewrites the table under ACCESS EXCLUSIVE",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Rewrite,
    breaks_app: false,
    versions: "all versions rewrite; STABLE/IMMUTABLE defaults are metadata-only on 11+",
    strategy: "add without default, SET DEFAULT, batched backfill, NOT NULL via validated CHECK",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddColumn { table, column, .. } = &op.kind else {
            return None;
        };
        if ctx.table_is_new() || column.default.is_none() || column.generated.is_some() {
            return None;
        }
        (volatility_of(&column.default_calls) == Volatility::Volatile).then(|| {
            finding(
                &META,
                op,
                Risk::Dangerous,
                Strategy::AddColumnStaged,
                format!("volatile DEFAULT on {} rewrites {table} under ACCESS EXCLUSIVE", ctx.describe(table, &column.name)),
                "add the column without a default, SET DEFAULT for new rows, backfill existing rows in batches".into(),
            )
        })
    }
}
