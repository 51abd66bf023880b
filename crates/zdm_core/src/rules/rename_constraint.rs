//! # rename-constraint (D09)
//!
//! **What it detects:** `ALTER TABLE … RENAME CONSTRAINT` on an existing table.
//!
//! **Why it's risky:** a brief ACCESS EXCLUSIVE lock (it queues behind long queries, and everything queues
//! behind it); code that names the constraint (`ON CONFLICT ON CONSTRAINT`, error handling that matches the
//! name) stops working. A primary-key or unique constraint's index is renamed with it.
//!
//! **Safe strategy:** run it with a lock_timeout; update code that names the constraint in the same deploy.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "D09",
    name: "rename-constraint",
    summary: "RENAME CONSTRAINT: brief ACCESS EXCLUSIVE; code naming the constraint breaks",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "run with a lock_timeout; update code that names it",
    risk: Risk::Info,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_pk", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::RenameConstraint { table, from, to } = &op.kind else { return None };
        (!ctx.table_is_new()).then(|| {
            finding(
                &META,
                op,
                Risk::Info,
                Strategy::AsWritten,
                format!("constraint {table}.{from} → {to}: code naming it (ON CONFLICT ON CONSTRAINT) breaks"),
                "update code that names the constraint in the same deploy".into(),
            )
        })
    }
}
