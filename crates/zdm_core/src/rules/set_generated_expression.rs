//! # set-generated-expression (C17)
//!
//! **What it detects:** `ALTER TABLE … ALTER COLUMN … SET EXPRESSION AS (…)`.
//!
//! **Why it's risky:** a stored generated column is recomputed for every row: a rewrite under ACCESS EXCLUSIVE.
//!
//! **Safe strategy:** as for C06: a plain column filled by a trigger plus a batched backfill, then swap. zdm keeps the statement as written and marks it dangerous.
//!
//! **Version notes:** the statement exists from PostgreSQL 17; zdm reports an error-to-be for older targets.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, PgVersion, Rewrite, Risk};
use crate::op::{Op, OpKind, TableAction};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C17",
    name: "set-generated-expression",
    summary: "ALTER COLUMN … SET EXPRESSION rewrites a stored generated column (PostgreSQL 17+)",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Rewrite,
    breaks_app: false,
    versions: "17+: SET EXPRESSION exists; it rewrites STORED columns",
    strategy: "treat like C06: plain column + trigger + batched backfill",
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
        let OpKind::AlterAction { table, action: TableAction::SetExpression { column } } = &op.kind else { return None };
        if ctx.table_is_new() {
            return None;
        }
        let older = if ctx.pg < PgVersion(17) { format!("; PostgreSQL {} has no SET EXPRESSION", ctx.pg.0) } else { String::new() };
        Some(finding(
            &META,
            op,
            Risk::Dangerous,
            Strategy::AsWritten,
            format!("SET EXPRESSION on {} rewrites {table}{older}", ctx.describe(table, column)),
            "plain column + trigger + batched backfill, then swap".into(),
        ))
    }
}
