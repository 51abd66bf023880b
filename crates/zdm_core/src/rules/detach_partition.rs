//! # detach-partition (P01)
//!
//! **What it detects:** `ALTER TABLE … DETACH PARTITION` without CONCURRENTLY.
//!
//! **Why it's risky:** every query on the partitioned parent waits for ACCESS EXCLUSIVE.
//!
//! **Safe strategy:** `DETACH PARTITION … CONCURRENTLY` (PostgreSQL 14+), alone and outside a transaction; if it is interrupted, run `… FINALIZE`. Not allowed when the parent has a DEFAULT partition.
//!
//! **Version notes:** CONCURRENTLY needs 14.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, PgVersion, Rewrite, Risk};
use crate::op::{Op, OpKind, TableAction};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "P01",
    name: "detach-partition",
    summary: "DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the parent",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "14+: DETACH PARTITION … CONCURRENTLY",
    strategy: "DETACH PARTITION … CONCURRENTLY (14+), outside a transaction; FINALIZE if interrupted",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "CREATE TABLE measurements (id bigint, at date) PARTITION BY RANGE (at); CREATE TABLE measurements_2026 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')", sql: "ALTER TABLE measurements DETACH PARTITION measurements_2026", table: "measurements" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AlterAction { table, action: TableAction::DetachPartition { partition, concurrently: false } } = &op.kind else { return None };
        if ctx.table_is_new() {
            return None;
        }
        Some(if ctx.pg >= PgVersion(14) {
            finding(&META, op, Risk::Risky, Strategy::ConcurrentDetach, format!("DETACH {partition} takes ACCESS EXCLUSIVE on {table}"), "DETACH … CONCURRENTLY in its own step".into())
        } else {
            finding(&META, op, Risk::Risky, Strategy::AsWritten, format!("DETACH {partition} takes ACCESS EXCLUSIVE on {table}; no CONCURRENTLY before 14"), "run off-peak, or upgrade to 14+".into())
        })
    }
}
