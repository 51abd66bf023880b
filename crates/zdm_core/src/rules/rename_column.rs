//! # rename-column (C13)
//!
//! **What it detects:** `ALTER TABLE … RENAME COLUMN` on an existing table.
//!
//! **Why it's risky:** the lock is brief, but every running application instance still reads and writes
//! the old name and fails the moment the rename commits.
//!
//! **Safe strategy:** expand → backfill → contract: add the new column and a trigger that keeps old and
//! new in sync on every INSERT and UPDATE (so old and new code can run side by side without losing a
//! write); copy existing rows in key-range batches; deploy code that uses the new name; then drop the
//! trigger and the old column.
//!
//! **Version notes:** none; the trigger uses `EXECUTE FUNCTION` (PostgreSQL 11+).

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C13",
    name: "rename-column",
    summary: "RENAME COLUMN breaks every running instance that uses the old name",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "new column + sync trigger, batched copy, code deploy, drop old column",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users RENAME COLUMN name TO full_name", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::RenameColumn { table, from, to } = &op.kind else {
            return None;
        };
        (!ctx.table_is_new()).then(|| {
            finding(
                &META,
                op,
                Risk::Risky,
                Strategy::RenameColumnExpandContract,
                format!("RENAME {} → {to} breaks running code", ctx.describe(table, from)),
                "expand with a sync trigger, backfill, deploy code, then contract".into(),
            )
        })
    }
}
