//! # drop-column (C14)
//!
//! **What it detects:** `ALTER TABLE … DROP COLUMN` on an existing table.
//!
//! **Why it's risky:** the lock is brief, but running code (and ORMs that cache the column list) fails as
//! soon as the column is gone, and the data is gone for good.
//!
//! **Safe strategy:** deploy code that no longer reads or writes the column (ORM ignore list) first; drop
//! the column in a later deploy; take a backup first. A rollback re-creates the column empty.
//!
//! **Version notes:** none; the space is reclaimed only as rows are rewritten.

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C14",
    name: "drop-column",
    summary: "DROP COLUMN breaks running code that still uses it and destroys its data",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "stop using it in code, deploy, drop in a later deploy",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users DROP COLUMN email", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::DropColumn { table, column, .. } = &op.kind else {
            return None;
        };
        (!ctx.table_is_new()).then(|| {
            finding(
                &META,
                op,
                Risk::Risky,
                Strategy::DropAfterDeploy,
                format!("DROP {} breaks running code, loses its data", ctx.describe(table, column)),
                "deploy code that no longer uses the column, then drop it".into(),
            )
        })
    }
}
