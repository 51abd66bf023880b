//! # large-update (H10)
//!
//! **What it detects:** an `UPDATE` of an existing table given as part of the change (a backfill).
//!
//! **Why it's risky:** one statement locks every row it touches until it commits, bloats the table,
//! floods WAL and replicas, and on failure rolls everything back.
//!
//! **Safe strategy:** walk the primary key in ranges of a bounded size, one short transaction per range,
//! with a pause between ranges, skipping rows that already hold the new value (so a rerun is harmless).
//!
//! **Version notes:** the batched form is a `DO` block that COMMITs between batches (PostgreSQL 11+).

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "H10",
    name: "large-update",
    summary: "a single UPDATE over a large table holds row locks and bloats until it commits",
    lock: LockLevel::RowExclusive,
    rewrite: Rewrite::Rows,
    breaks_app: false,
    versions: "11+: procedures and DO blocks may COMMIT between batches",
    strategy: "key-range batches, one transaction each, with a pause",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "UPDATE users SET email = lower(email)", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::Update { table, batchable, .. } = &op.kind else {
            return None;
        };
        if ctx.table_is_new() {
            return None;
        }
        Some(if *batchable {
            finding(
                &META,
                op,
                Risk::Risky,
                Strategy::BatchedUpdate,
                format!("UPDATE {table} in one statement locks every matched row until commit"),
                "run it in key-range batches, each its own transaction".into(),
            )
        } else {
            finding(
                &META,
                op,
                Risk::Risky,
                Strategy::AsWritten,
                format!("UPDATE {table} with FROM / WITH / RETURNING: zdm cannot batch it"),
                "rewrite it as a plain UPDATE … SET … WHERE … so zdm can batch it".into(),
            )
        })
    }
}
