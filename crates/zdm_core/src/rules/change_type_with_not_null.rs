//! # change-type-with-not-null (C12)
//!
//! **What it detects:** `ALTER COLUMN … TYPE` and `SET NOT NULL` on the same column in one change.
//!
//! **Why it's risky:** run together, the NOT NULL scan happens while ACCESS EXCLUSIVE is held for the type change.
//!
//! **Safe strategy:** split them: the type change (staged by C10), then NOT NULL through a validated CHECK (C08). zdm plans each operation on its own, so the split happens by itself.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C12",
    name: "change-type-with-not-null",
    summary: "ALTER COLUMN TYPE combined with SET NOT NULL scans under the same lock",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Scan,
    breaks_app: true,
    versions: "all versions",
    strategy: "split: the type change first, then NOT NULL through a validated CHECK (C08)",
    risk: Risk::Risky,
    autofix: true,
    advisory: false,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AlterColumnType { table, column, .. } = &op.kind else { return None };
        if ctx.table_is_new() {
            return None;
        }
        let paired = ctx.facts.set_not_null.contains(&(table.key(), column.clone()));
        paired.then(|| {
            finding(
                &META,
                op,
                Risk::Info,
                Strategy::AsWritten,
                format!("{}: type change and SET NOT NULL are planned as separate steps", ctx.describe(table, column)),
                "nothing to do: zdm splits them".into(),
            )
        })
    }
}
