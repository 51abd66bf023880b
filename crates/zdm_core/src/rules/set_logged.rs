//! # set-logged (T08)
//!
//! **What it detects:** `ALTER TABLE … SET LOGGED` or `SET UNLOGGED`.
//!
//! **Why it's risky:** the table is rewritten (and, for LOGGED, written to WAL in full) under ACCESS EXCLUSIVE.
//!
//! **Safe strategy:** no online path: a maintenance window, or a new table filled in batches and swapped in.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind, TableAction};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "T08",
    name: "set-logged",
    summary: "SET LOGGED / UNLOGGED rewrites the table under ACCESS EXCLUSIVE",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Rewrite,
    breaks_app: false,
    versions: "all versions",
    strategy: "maintenance window, or a new table and swap",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "ALTER TABLE audit_log SET UNLOGGED", sql: "ALTER TABLE audit_log SET LOGGED", table: "audit_log" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AlterAction { table, action: TableAction::SetLogged | TableAction::SetUnlogged } = &op.kind else { return None };
        if ctx.table_is_new() {
            return None;
        }
        Some(finding(&META, op, Risk::Dangerous, Strategy::AsWritten, format!("SET LOGGED/UNLOGGED rewrites {table} under ACCESS EXCLUSIVE"), "no online path: maintenance window, or new table + swap".into()))
    }
}
