//! # partitioned-table-ddl (P03)
//!
//! **What it detects:** `CREATE INDEX`, `SET NOT NULL` or `ADD FOREIGN KEY` on a partitioned table.
//!
//! **Why it's risky:** the work (and the lock) covers every partition in one statement, and CREATE INDEX CONCURRENTLY is not allowed on the parent.
//!
//! **Safe strategy:** `CREATE INDEX … ON ONLY parent` (an invalid shell), `CREATE INDEX CONCURRENTLY` on each partition, `ALTER INDEX parent_idx ATTACH PARTITION` each; NOT NULL and FKs partition by partition.
//!
//! **Version notes:** all versions with declarative partitioning.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "P03",
    name: "partitioned-table-ddl",
    summary: "Index / NOT NULL / FK on a partitioned parent works on every partition at once",
    lock: LockLevel::Share,
    rewrite: Rewrite::Build,
    breaks_app: false,
    versions: "CIC is not allowed on a partitioned parent",
    strategy: "CREATE INDEX ON ONLY parent, CIC per partition, ATTACH each; per-partition NOT NULL / FK",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "CREATE TABLE measurements (id bigint, at date) PARTITION BY RANGE (at); CREATE TABLE measurements_2026 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')", sql: "CREATE INDEX measurements_id_idx ON measurements (id)", table: "measurements" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let table = match &op.kind {
            OpKind::CreateIndex(spec) if !spec.only => &spec.table,
            OpKind::SetNotNull { table, .. } => table,
            OpKind::AddConstraint { table, .. } => table,
            _ => return None,
        };
        let t = ctx.table?;
        if t.created_in_change || !t.partitioned {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::AsWritten,
            format!("{table} is partitioned: this locks every partition, and CONCURRENTLY is not allowed on it"),
            "ON ONLY parent, CONCURRENTLY per partition, then ATTACH".into(),
        ))
    }
}
