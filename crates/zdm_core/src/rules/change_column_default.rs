//! # change-column-default (C16)
//!
//! **What it detects:** `ALTER COLUMN … SET DEFAULT` or `DROP DEFAULT` on an existing table.
//!
//! **Why it's risky:** the lock is brief and nothing is rewritten, but ORMs that cache column defaults (Rails partial writes) keep sending the old one until they restart.
//!
//! **Safe strategy:** run it as written with a lock_timeout; restart or redeploy the application afterwards.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C16",
    name: "change-column-default",
    summary: "SET / DROP DEFAULT: metadata only, but ORMs may keep inserting the old default",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "run as written with lock_timeout; redeploy code that caches defaults",
    risk: Risk::Info,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users ALTER COLUMN score SET DEFAULT 1", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let (OpKind::SetDefault { table, column, .. } | OpKind::DropDefault { table, column }) = &op.kind else { return None };
        (!ctx.table_is_new()).then(|| {
            finding(
                &META,
                op,
                Risk::Info,
                Strategy::AsWritten,
                format!("default of {} changes: ORMs may cache the old one", ctx.describe(table, column)),
                "redeploy or restart the application after this step".into(),
            )
        })
    }
}
