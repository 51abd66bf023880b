//! # add-column-json (C15)
//!
//! **What it detects:** a `json` column (added, in a new table, or by ALTER COLUMN TYPE).
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
    summary: "A json column (CREATE TABLE, ADD COLUMN, ALTER TYPE): equality, DISTINCT and GROUP BY fail on it",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "use jsonb",
    risk: Risk::Info,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "CREATE TABLE probe_docs (id bigint, meta json)", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let (table, name) = match &op.kind {
            OpKind::AlterColumnType { table, column, type_name, .. } if type_name == "json" => (table, column),
            _ => super::new_columns(op).into_iter().find(|(_, c)| c.type_name == "json").map(|(t, c)| (t, &c.name))?,
        };
        Some(finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{} is json: DISTINCT and = fail on it", ctx.describe(table, name)), "use jsonb".into()))
    }
}
