//! # vacuum-full (T07)
//!
//! **What it detects:** `VACUUM FULL` or `CLUSTER`.
//!
//! **Why it's risky:** the table is copied to new files while ACCESS EXCLUSIVE blocks every read and write; about twice the disk.
//!
//! **Safe strategy:** use pg_repack or pg_squeeze, which hold the lock only briefly; on PostgreSQL 19+ `REPACK (CONCURRENTLY)`. No online path in core SQL: zdm keeps the statement and says so.
//!
//! **Version notes:** REPACK (CONCURRENTLY) is expected in PostgreSQL 19.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "T07",
    name: "vacuum-full",
    summary: "VACUUM FULL / CLUSTER rewrite the table under ACCESS EXCLUSIVE",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Rewrite,
    breaks_app: false,
    versions: "19 (devel): REPACK (CONCURRENTLY)",
    strategy: "pg_repack or pg_squeeze; REPACK (CONCURRENTLY) on 19+",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "VACUUM FULL users", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::Vacuum { rewrites: true, what, tables } = &op.kind else { return None };
        let _ = ctx;
        Some(finding(&META, op, Risk::Dangerous, Strategy::AsWritten, format!("{what} {} rewrites under ACCESS EXCLUSIVE", tables.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")), "use pg_repack / pg_squeeze instead".into()))
    }
}
