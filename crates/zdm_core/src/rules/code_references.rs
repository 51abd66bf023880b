//! # code-references (G07)
//!
//! **What it detects:** `DROP COLUMN`, `RENAME COLUMN`, `DROP TABLE` or `RENAME TO` of a table or column
//! that the application's code still uses: raw SQL naming it, a query builder call, or an ORM model or
//! field mapped to it (zdm scans the repository for them before planning).
//!
//! **Why it's risky:** the migration itself may be safe, but the code that still reads or writes the old
//! name fails the moment the name disappears: every query built from those lines errors out.
//!
//! **Safe strategy:** update the listed references (and deploy that code) before the step that drops or
//! renames the name; the plan lists every place, and the checklist says before which step.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::Op;
use crate::refs;

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "G07",
    name: "code-references",
    summary: "A dropped or renamed table or column is still used by the application's code",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "update the listed references and deploy them before the step that removes the name",
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
        let (table, column) = refs::removed_name(&op.kind)?;
        let found = refs::about(ctx.code_refs, &table, column.as_deref());
        if found.is_empty() {
            return None;
        }
        let name = column.as_ref().map_or_else(|| table.clone(), |c| format!("{table}.{c}"));
        let n = found.len();
        let mut places: Vec<String> = found.iter().take(3).map(|r| r.location()).collect();
        if n > 3 {
            places.push(format!("and {} more", n - 3));
        }
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::AsWritten,
            format!("{name} is still used by the code in {n} place{}: {}", if n == 1 { "" } else { "s" }, places.join(", ")),
            format!("update {} reference{} to {name} in the code deploy before the step that removes it", n, if n == 1 { "" } else { "s" }),
        ))
    }
}
