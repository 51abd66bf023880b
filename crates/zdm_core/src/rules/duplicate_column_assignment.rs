//! # duplicate-column-assignment (S09)
//!
//! **What it detects:** an `UPDATE … SET a = 1, a = 2`.
//!
//! **Why it's risky:** PostgreSQL rejects it at run time ("multiple assignments to same column").
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
    summary: "The same column assigned twice in one UPDATE",
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
        let OpKind::Update { assignments, .. } = &op.kind else { return None };
        let _ = ctx;
        let dup = assignments.iter().enumerate().find(|(i, a)| assignments[..*i].iter().any(|b| b.column == a.column))?;
        Some(finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{} is assigned twice: PostgreSQL rejects this", dup.1.column), "assign it once".into()))
    }
}
