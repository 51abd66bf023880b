//! # add-column-unique (K12)
//!
//! **What it detects:** `ADD COLUMN … UNIQUE` or `ADD COLUMN … PRIMARY KEY` on an existing table.
//!
//! **Why it's risky:** the inline constraint builds its unique index over every row under ACCESS
//! EXCLUSIVE: reads and writes wait for the whole build, as with `ADD CONSTRAINT … UNIQUE` (K04). A
//! PRIMARY KEY column also needs a value in every existing row.
//!
//! **Safe strategy:** add the column plain, build the unique index CONCURRENTLY, then
//! `ADD CONSTRAINT … UNIQUE USING INDEX` (or PRIMARY KEY USING INDEX once the column is NOT NULL).
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "K12",
    name: "add-column-unique",
    summary: "ADD COLUMN … UNIQUE / PRIMARY KEY builds its index under ACCESS EXCLUSIVE",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Build,
    breaks_app: false,
    versions: "all versions",
    strategy: "plain ADD COLUMN, CREATE UNIQUE INDEX CONCURRENTLY, ADD CONSTRAINT … USING INDEX",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users ADD COLUMN handle text UNIQUE", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddColumn { table, column, .. } = &op.kind else { return None };
        if ctx.table_is_new() || !(column.unique || column.primary_key) {
            return None;
        }
        let what = if column.primary_key { "PRIMARY KEY" } else { "UNIQUE" };
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::AsWritten,
            format!("{} {what} builds its index over all of {table} under ACCESS EXCLUSIVE", ctx.describe(table, &column.name)),
            "add the column plain, CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … USING INDEX".into(),
        ))
    }
}
