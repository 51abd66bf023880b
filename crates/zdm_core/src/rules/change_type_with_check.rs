//! # change-type-with-check (C11)
//!
//! **What it detects:** a type change on a column that CHECK constraints mention.
//!
//! **Why it's risky:** every such constraint is re-verified against every row while ACCESS EXCLUSIVE is held, on top of any rewrite.
//!
//! **Safe strategy:** drop the CHECKs, change the type (staged by C10 when it rewrites), re-add them NOT VALID and VALIDATE in a later step. zdm names the constraints it does not carry over.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{ConstraintKind, LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C11",
    name: "change-type-with-check",
    summary: "ALTER COLUMN TYPE re-checks the CHECK constraints on the column under the lock",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Scan,
    breaks_app: false,
    versions: "all versions",
    strategy: "drop the checks, change the type, re-add them NOT VALID, then VALIDATE",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AlterColumnType { table, column, .. } = &op.kind else { return None };
        let t = ctx.table?;
        if t.created_in_change {
            return None;
        }
        let checks: Vec<&str> = t
            .constraints
            .iter()
            .filter(|c| matches!(&c.kind, ConstraintKind::Check { expr } if mentions(expr, column)))
            .map(|c| c.name.as_str())
            .collect();
        if checks.is_empty() {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::AsWritten,
            format!("{} is in CHECK {}: re-checked under ACCESS EXCLUSIVE", ctx.describe(table, column), checks.join(", ")),
            "drop the checks, change the type, re-add them NOT VALID and VALIDATE".into(),
        ))
    }
}

/// True when `expr` mentions `column` as a whole identifier.
fn mentions(expr: &str, column: &str) -> bool {
    expr.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '"')).any(|w| w.trim_matches('"') == column)
}
