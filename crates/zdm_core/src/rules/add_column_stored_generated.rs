//! # add-column-stored-generated (C06)
//!
//! **What it detects:** a stored generated column added to an existing table (and, before PostgreSQL 18, a VIRTUAL one, which does not exist there).
//!
//! **Why it's risky:** each value is computed per row, so PostgreSQL rewrites the table and all its indexes under ACCESS EXCLUSIVE: no reads, no writes until it finishes.
//!
//! **Safe strategy:** add a plain nullable column, give new rows their value (a sequence default or a trigger), backfill existing rows in key-range batches, then enforce NOT NULL through a validated CHECK. zdm keeps the statement as written and marks it dangerous: that recipe is not automated yet.
//!
//! **Version notes:** 18+: VIRTUAL generated columns (the default kind) add without a rewrite

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, PgVersion, Rewrite, Risk};
use crate::op::{Generated, Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C06",
    name: "add-column-stored-generated",
    summary: "ADD COLUMN … GENERATED ALWAYS AS (…) STORED rewrites the table",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Rewrite,
    breaks_app: false,
    versions: "18+: VIRTUAL generated columns (the default kind) add without a rewrite",
    strategy: "plain nullable column, sequence default or trigger, batched backfill, NOT NULL via CHECK",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users ADD COLUMN score2 integer GENERATED ALWAYS AS (score * 2) STORED", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddColumn { table, column, .. } = &op.kind else { return None };
        if ctx.table_is_new() || !(column.generated == Some(Generated::Stored) || (column.generated == Some(Generated::Virtual) && ctx.pg < PgVersion(18))) {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Dangerous,
            Strategy::AsWritten,
            format!("{}: stored generated column rewrites {table} under ACCESS EXCLUSIVE", ctx.describe(table, &column.name)),
            "no staged recipe yet: maintenance window, or a plain column + backfill".into(),
        ))
    }
}
