//! # enum-remove-or-reorder (E04)
//!
//! **What it detects:** a column moved to an enum type that lacks some labels of its current enum, or orders them differently.
//!
//! **Why it's risky:** PostgreSQL cannot drop or reorder enum labels: the column must change type, which rewrites the table (C10), and rows holding a removed label fail the cast.
//!
//! **Safe strategy:** create the new type, then change the column type with the expand/contract recipe (zdm stages it as C10); map removed labels in USING.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "E04",
    name: "enum-remove-or-reorder",
    summary: "Removing or reordering enum values means a new type and a column type change",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Rewrite,
    breaks_app: true,
    versions: "all versions",
    strategy: "new type, then the C10 expand/contract type change",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AlterColumnType { table, column, type_name, .. } = &op.kind else { return None };
        let old = ctx.table.and_then(|t| t.column(column))?;
        let old_enum = ctx.schema.enums.get(old.type_sql.as_str())?;
        let new_enum = ctx.schema.enums.get(type_name.as_str())?;
        let removed: Vec<&String> = old_enum.values.iter().filter(|v| !new_enum.values.contains(v)).collect();
        let kept: Vec<&String> = new_enum.values.iter().filter(|v| old_enum.values.contains(v)).collect();
        let reordered = kept.iter().zip(old_enum.values.iter().filter(|v| new_enum.values.contains(v))).any(|(a, b)| *a != b);
        (!removed.is_empty() || reordered).then(|| {
            let what = if removed.is_empty() { "reorders labels".to_string() } else { format!("drops {}", removed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")) };
            finding(
                &META,
                op,
                Risk::Dangerous,
                Strategy::ChangeTypeExpandContract,
                format!("{} → {type_name} {what}: rows with removed labels fail the cast", ctx.describe(table, column)),
                "map removed labels in USING; zdm stages the type change".into(),
            )
        })
    }
}
