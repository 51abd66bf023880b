//! # drop-constraint (K08)
//!
//! **What it detects:** `ALTER TABLE … DROP CONSTRAINT` on an existing table.
//!
//! **Why it's risky:** the lock is brief, but bad data can get in from then on; dropping a primary key
//! removes the logical-replication identity; dropping a foreign key also locks the referenced table.
//!
//! **Safe strategy:** run it as written with a lock_timeout, once the application no longer relies on it.
//!
//! **Version notes:** none.

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "K08",
    name: "drop-constraint",
    summary: "DROP CONSTRAINT lets data in that the constraint kept out",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "brief lock with lock_timeout, once nothing relies on it",
    risk: Risk::Info,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "ALTER TABLE users ADD CONSTRAINT probe_check CHECK (score >= 0)", sql: "ALTER TABLE users DROP CONSTRAINT probe_check", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::DropConstraint { table, name, .. } = &op.kind else {
            return None;
        };
        (!ctx.table_is_new()).then(|| {
            finding(
                &META,
                op,
                Risk::Info,
                Strategy::AsWritten,
                format!("{table}.{name} stops guarding the data"),
                "confirm nothing relies on it".into(),
            )
        })
    }
}
