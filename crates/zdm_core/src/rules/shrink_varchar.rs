//! # shrink-varchar (C18)
//!
//! **What it detects:** `ALTER COLUMN … TYPE varchar(n)` that shortens the limit or adds one to text / unbounded varchar.
//!
//! **Why it's risky:** every value must be checked against the new limit and the table is rewritten under ACCESS EXCLUSIVE; writers of longer values start failing.
//!
//! **Safe strategy:** keep `text` and add `CHECK (length(col) <= n)` NOT VALID, then VALIDATE in a later step. zdm stages the type change itself as C10 (new column, cast trigger, batched copy, swap).
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C18",
    name: "shrink-varchar",
    summary: "varchar length decrease (or a new limit) rewrites / re-checks the table",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Rewrite,
    breaks_app: true,
    versions: "all versions",
    strategy: "text plus CHECK (length(col) <= n) added NOT VALID, then VALIDATE",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users ALTER COLUMN email TYPE varchar(200)", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AlterColumnType { table, column, type_name, type_sql, .. } = &op.kind else { return None };
        if ctx.table_is_new() || type_name != "varchar" {
            return None;
        }
        let new_len: Option<u32> = type_sql.split('(').nth(1).and_then(|r| r.trim_end_matches(')').parse().ok());
        let old = ctx.table.and_then(|t| t.column(column))?;
        let old_len: Option<u32> = old.type_sql.split('(').nth(1).and_then(|r| r.trim_end_matches(')').parse().ok());
        let shrinks = match (old_len, new_len) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(o), Some(n)) => n < o,
        };
        shrinks.then(|| {
            finding(
                &META,
                op,
                Risk::Dangerous,
                Strategy::ChangeTypeExpandContract,
                format!("{} {} → {type_sql}: every value re-checked, longer writes fail", ctx.describe(table, column), old.type_sql),
                "prefer text + CHECK (length(col) <= n) NOT VALID, then VALIDATE".into(),
            )
        })
    }
}
