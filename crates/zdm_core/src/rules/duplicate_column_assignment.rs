//! # duplicate-column-assignment (S09)
//!
//! **What it detects:** an `UPDATE … SET a = 1, a = 2`, and a `CREATE TABLE` that names a column twice.
//!
//! **Why it's risky:** PostgreSQL rejects it at run time ("multiple assignments to same column", "column
//! specified more than once").
//!
//! **Safe strategy:** assign each column once.
//!
//! **Version notes:** advisory (design tier): no lock impact.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "S09",
    name: "duplicate-column-assignment",
    summary: "The same column assigned twice in one UPDATE, or declared twice in CREATE TABLE",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "advisory",
    strategy: "assign each column once.",
    risk: Risk::Info,
    autofix: false,
    advisory: true,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let _ = ctx;
        if let OpKind::CreateTable { table, columns, .. } = &op.kind {
            let dup = columns.iter().enumerate().find(|(i, c)| columns[..*i].iter().any(|b| b.name == c.name))?;
            return Some(finding(
                &META,
                op,
                Risk::Info,
                Strategy::AsWritten,
                format!("{table}.{} is declared twice: PostgreSQL rejects this", dup.1.name),
                "declare it once".into(),
            ));
        }
        let OpKind::Update { assignments, .. } = &op.kind else { return None };
        let dup = assignments.iter().enumerate().find(|(i, a)| assignments[..*i].iter().any(|b| b.column == a.column))?;
        Some(finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{} is assigned twice: PostgreSQL rejects this", dup.1.column), "assign it once".into()))
    }
}
