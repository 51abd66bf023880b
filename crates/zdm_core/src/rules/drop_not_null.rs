//! # drop-not-null (C09)
//!
//! **What it detects:** `ALTER COLUMN … DROP NOT NULL`.
//!
//! **Why it's risky:** the lock is brief and nothing is rewritten, but readers (application code, PL/pgSQL,
//! reports) that assume the column is never NULL start seeing NULLs.
//!
//! **Safe strategy:** make the readers NULL-safe first; then the statement runs as written, with a
//! lock_timeout.
//!
//! **Version notes:** none.

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C09",
    name: "drop-not-null",
    summary: "DROP NOT NULL lets NULLs reach readers that do not expect them",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "make readers NULL-safe first; brief lock with lock_timeout",
    risk: Risk::Info,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users ALTER COLUMN name DROP NOT NULL", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::DropNotNull { table, column } = &op.kind else {
            return None;
        };
        (!ctx.table_is_new()).then(|| {
            finding(
                &META,
                op,
                Risk::Info,
                Strategy::AsWritten,
                format!("{} may now be NULL: readers must cope", ctx.describe(table, column)),
                "deploy NULL-safe readers before this step".into(),
            )
        })
    }
}
