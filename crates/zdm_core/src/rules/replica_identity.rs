//! # replica-identity (T11)
//!
//! **What it detects:** `ALTER TABLE … REPLICA IDENTITY`.
//!
//! **Why it's risky:** the lock is brief, but logical-replication and CDC consumers (Debezium, subscriptions) change what they receive for UPDATE and DELETE.
//!
//! **Safe strategy:** coordinate with every consumer first; run with a lock_timeout.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind, TableAction};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "T11",
    name: "replica-identity",
    summary: "REPLICA IDENTITY changes what logical-replication consumers receive",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "coordinate with CDC consumers first",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users REPLICA IDENTITY FULL", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AlterAction { table, action: TableAction::ReplicaIdentity } = &op.kind else { return None };
        if ctx.table_is_new() {
            return None;
        }
        Some(finding(&META, op, Risk::Risky, Strategy::AsWritten, format!("REPLICA IDENTITY of {table} changes what CDC consumers receive"), "coordinate with logical-replication consumers first".into()))
    }
}
