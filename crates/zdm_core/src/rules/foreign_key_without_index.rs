//! # foreign-key-without-index (I06)
//!
//! **What it detects:** a FOREIGN KEY whose referencing columns no index starts with.
//!
//! **Why it's risky:** every DELETE or key UPDATE on the referenced table scans the referencing table.
//!
//! **Safe strategy:** index the referencing columns with CREATE INDEX CONCURRENTLY.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{ConstraintKind, LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "I06",
    name: "foreign-key-without-index",
    summary: "A foreign key whose columns have no index: deletes on the parent scan the child",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "CREATE INDEX CONCURRENTLY on the referencing columns",
    risk: Risk::Info,
    autofix: false,
    advisory: false,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddConstraint { table, constraint } = &op.kind else { return None };
        let ConstraintKind::ForeignKey { columns, ref_table, .. } = &constraint.kind else { return None };
        let key = table.key();
        let indexed = ctx.schema.indexes_on(&key).any(|i| i.columns.first() == columns.first())
            || columns.first().is_some_and(|c| ctx.facts.indexed.contains(&(key.clone(), c.clone())));
        (!indexed && ctx.schema.is_known()).then(|| {
            finding(
                &META,
                op,
                Risk::Info,
                Strategy::AsWritten,
                format!("{table}({}) has no index: deletes on {ref_table} will scan {table}", columns.join(", ")),
                format!("CREATE INDEX CONCURRENTLY ON {table} ({})", columns.join(", ")),
            )
        })
    }
}
