//! # rename-table (T01)
//!
//! **What it detects:** `ALTER TABLE … RENAME TO` on an existing table.
//!
//! **Why it's risky:** the lock is brief, but every running instance still queries the old name and fails
//! the moment the rename commits.
//!
//! **Safe strategy:** rename, and create a view under the old name in the same transaction. A view over
//! one table is automatically updatable: old code keeps reading and writing through it (INSERT defaults,
//! UPDATE, DELETE and ON CONFLICT work; TRUNCATE, LOCK and ALTER TABLE on the old name do not). Deploy
//! code that uses the new name, then drop the view. The view is `security_invoker` on 15+ so row-level
//! security still applies.
//!
//! **Version notes:** views over RLS tables need `security_invoker` (PostgreSQL 15+).

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "T01",
    name: "rename-table",
    summary: "RENAME TABLE breaks every running instance that uses the old name",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "15+: security_invoker views for RLS tables",
    strategy: "rename plus an updatable view under the old name, deploy, drop the view",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE audit_log RENAME TO audit_events", table: "audit_log" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::RenameTable { table, to } = &op.kind else {
            return None;
        };
        (!ctx.table_is_new()).then(|| {
            finding(&META, op, Risk::Risky, Strategy::RenameTableWithView, format!("RENAME {table} → {to} breaks running code"), format!("keep a view named {table} until every instance uses {to}"))
        })
    }
}
