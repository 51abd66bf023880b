//! # add-column-domain (C07)
//!
//! **What it detects:** `ADD COLUMN` whose type is a domain that carries CHECK constraints, on an existing table.
//!
//! **Why it's risky:** PostgreSQL must check the domain constraint for every existing row, and does so by rewriting the table under ACCESS EXCLUSIVE.
//!
//! **Safe strategy:** use the base type, and express the rule as a table CHECK added NOT VALID, then VALIDATE CONSTRAINT in a later step.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C07",
    name: "add-column-domain",
    summary: "ADD COLUMN of a domain type with CHECK constraints rewrites the table",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Rewrite,
    breaks_app: false,
    versions: "all versions",
    strategy: "base type plus a table CHECK added NOT VALID, then VALIDATE",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0)", sql: "ALTER TABLE users ADD COLUMN p positive_int", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddColumn { table, column, .. } = &op.kind else { return None };
        let checks = ctx.schema.domains.get(&column.type_name).copied().unwrap_or(0);
        if ctx.table_is_new() || checks == 0 {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Dangerous,
            Strategy::AsWritten,
            format!("{} uses domain {} with CHECK: rewrites {table}", ctx.describe(table, &column.name), column.type_name),
            "use the base type and a table CHECK (NOT VALID, then VALIDATE)".into(),
        ))
    }
}
