//! # naming-policy (S10)
//!
//! **What it detects:** new tables, columns, indexes and constraints whose names need double quotes:
//! upper-case letters, spaces or other characters outside `[a-z0-9_]`, a leading digit, or a reserved
//! word.
//!
//! **Why it's risky:** every query, ORM mapping and migration must quote the name exactly forever; an
//! unquoted reference folds to lower case and misses it.
//!
//! **Safe strategy:** lower_snake_case names that need no quoting (zdm's default naming policy).
//!
//! **Version notes:** advisory (design tier): no lock impact.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk, quote_ident};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "S10",
    name: "naming-policy",
    summary: "New names that need double quotes (upper case, spaces, reserved words)",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "advisory",
    strategy: "lower_snake_case names that need no quoting",
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
        let names: Vec<&str> = match &op.kind {
            OpKind::CreateTable { table, columns, .. } => std::iter::once(table.name.as_str()).chain(columns.iter().map(|c| c.name.as_str())).collect(),
            OpKind::AddColumn { column, .. } => vec![column.name.as_str()],
            OpKind::RenameColumn { to, .. } | OpKind::RenameTable { to, .. } => vec![to.as_str()],
            OpKind::CreateIndex(spec) => spec.name.iter().map(String::as_str).collect(),
            OpKind::AddConstraint { constraint, .. } => constraint.name.iter().map(String::as_str).collect(),
            _ => return None,
        };
        let quoted = names.into_iter().find(|n| quote_ident(n).starts_with('"'))?;
        Some(finding(
            &META,
            op,
            Risk::Info,
            Strategy::AsWritten,
            format!("{} must be quoted in every query", quote_ident(quoted)),
            "use a lower_snake_case name that is not a reserved word".into(),
        ))
    }
}
