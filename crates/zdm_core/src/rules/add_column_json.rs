//! # add-column-json (C15)
//!
//! **What it detects:** a `json` column (added, or in a new table).
//!
//! **Why it's risky:** `json` has no equality operator: `SELECT DISTINCT`, `GROUP BY` and `UNION` over the table start failing in code that worked.
//!
//! **Safe strategy:** use `jsonb`.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C15",
    name: "add-column-json",
    summary: "ADD COLUMN of type json: equality, DISTINCT and GROUP BY fail on it",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "use jsonb",
    risk: Risk::Info,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users ADD COLUMN meta json", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let (table, column) = match &op.kind {
            OpKind::AddColumn { table, column, .. } => (table, column),
            _ => return None,
        };
        (column.type_name == "json").then(|| {
            finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{} is json: DISTINCT and = fail on it", ctx.describe(table, &column.name)), "use jsonb".into())
        })
    }
}
