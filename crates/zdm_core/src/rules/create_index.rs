//! # create-index (I01)
//!
//! **What it detects:** `CREATE INDEX` without `CONCURRENTLY` on an existing table.
//!
//! **Why it's risky:** the build holds SHARE on the table: every INSERT, UPDATE and DELETE waits for the
//! whole build.
//!
//! **Safe strategy:** `CREATE INDEX CONCURRENTLY` (SHARE UPDATE EXCLUSIVE: reads and writes go on), alone in
//! a step that runs outside a transaction. A failed build leaves an INVALID index: drop it with
//! `DROP INDEX CONCURRENTLY IF EXISTS` and run the step again.
//!
//! **Version notes:** PostgreSQL 14.0–14.3 could corrupt indexes built CONCURRENTLY (fixed in 14.4).
//! On a partitioned parent CONCURRENTLY is not allowed: build per partition and attach.

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "I01",
    name: "create-index",
    summary: "CREATE INDEX without CONCURRENTLY blocks writes for the whole build",
    lock: LockLevel::Share,
    rewrite: Rewrite::Build,
    breaks_app: false,
    versions: "14.0–14.3: CONCURRENTLY builds could corrupt (fixed in 14.4)",
    strategy: "CREATE INDEX CONCURRENTLY, alone, outside a transaction",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "CREATE INDEX probe_idx ON users (email)", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::CreateIndex(spec) = &op.kind else {
            return None;
        };
        if ctx.table_is_new() || spec.concurrently || spec.only {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::ConcurrentIndex,
            format!("CREATE INDEX on {} blocks writes (SHARE) for the whole build", spec.table),
            "build it CONCURRENTLY in its own non-transactional step".into(),
        ))
    }
}
