//! # set-access-method (T09)
//!
//! **What it detects:** `ALTER TABLE … SET ACCESS METHOD`.
//!
//! **Why it's risky:** the table is rewritten into the new access method under ACCESS EXCLUSIVE.
//!
//! **Safe strategy:** no online path: a maintenance window, or a new table and swap.
//!
//! **Lock check:** PostgreSQL 15 ships a single table access method (heap), so the statement can only be a no-op there: no probe.
//!
//! **Version notes:** the statement exists from PostgreSQL 15.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind, TableAction};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "T09",
    name: "set-access-method",
    summary: "SET ACCESS METHOD rewrites the table under ACCESS EXCLUSIVE",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Rewrite,
    breaks_app: false,
    versions: "15+: SET ACCESS METHOD",
    strategy: "maintenance window, or a new table and swap",
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
        let OpKind::AlterAction { table, action: TableAction::SetAccessMethod } = &op.kind else { return None };
        if ctx.table_is_new() {
            return None;
        }
        Some(finding(&META, op, Risk::Dangerous, Strategy::AsWritten, format!("SET ACCESS METHOD rewrites {table} under ACCESS EXCLUSIVE"), "no online path: maintenance window, or new table + swap".into()))
    }
}
