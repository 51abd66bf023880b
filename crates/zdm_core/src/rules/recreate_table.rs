//! # recreate-table (T06)
//!
//! **What it detects:** a change that drops a table and creates one of the same name (what Rails `create_table force: true` does).
//!
//! **Why it's risky:** the old rows are destroyed and running code sees an empty table.
//!
//! **Safe strategy:** alter the existing table instead, or drop it explicitly in a later deploy after a backup.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "T06",
    name: "recreate-table",
    summary: "DROP TABLE then CREATE TABLE of the same name: the data is gone",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "don't force-recreate; alter the table, or drop explicitly after a backup",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::CreateTable { table, .. } = &op.kind else { return None };
        let dropped = ctx.facts.first_drop.get(&table.key()).is_some_and(|&i| i < ctx.index);
        dropped.then(|| {
            finding(&META, op, Risk::Dangerous, Strategy::AsWritten, format!("{table} is dropped and re-created: its rows are gone"), "alter the table instead of re-creating it".into())
        })
    }
}
