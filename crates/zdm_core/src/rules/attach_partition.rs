//! # attach-partition (P02)
//!
//! **What it detects:** `ALTER TABLE … ATTACH PARTITION`.
//!
//! **Why it's risky:** the partition is scanned under ACCESS EXCLUSIVE to prove every row fits the bound (and the DEFAULT partition, if any, to prove none belong).
//!
//! **Safe strategy:** first add to the partition a CHECK equivalent to the bound, NOT VALID then VALIDATE; ATTACH then skips the scan; drop the CHECK afterwards.
//!
//! **Version notes:** before 12 ATTACH also took ACCESS EXCLUSIVE on the parent.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind, TableAction};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "P02",
    name: "attach-partition",
    summary: "ATTACH PARTITION scans the new partition (and the default one) unless a CHECK proves the bound",
    lock: LockLevel::ShareUpdateExclusive,
    rewrite: Rewrite::Scan,
    breaks_app: false,
    versions: "12+: SHARE UPDATE EXCLUSIVE on the parent (before: ACCESS EXCLUSIVE)",
    strategy: "add a CHECK matching the bound (NOT VALID, VALIDATE), ATTACH, drop the CHECK",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "CREATE TABLE measurements (id bigint, at date) PARTITION BY RANGE (at); CREATE TABLE measurements_2026 (id bigint, at date); INSERT INTO measurements_2026 SELECT g, date '2026-01-01' + g % 300 FROM generate_series(1, 1000) g", sql: "ALTER TABLE measurements ATTACH PARTITION measurements_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')", table: "measurements" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AlterAction { table: _, action: TableAction::AttachPartition { partition } } = &op.kind else { return None };
        if ctx.table_is_new() {
            return None;
        }
        Some(finding(&META, op, Risk::Risky, Strategy::AsWritten, format!("ATTACH {partition} scans it under ACCESS EXCLUSIVE unless a CHECK proves the bound"), "add a CHECK matching the bound (NOT VALID, VALIDATE) first".into()))
    }
}
