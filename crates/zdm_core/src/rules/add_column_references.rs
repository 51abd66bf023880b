//! # add-column-references (K03)
//!
//! **What it detects:** `ADD COLUMN … REFERENCES other (…)` on an existing table.
//!
//! **Why it's risky:** the new column is all NULL, so the check is trivial, but SHARE ROW EXCLUSIVE is taken on both tables and the column has no index: deletes on the referenced table will scan this one.
//!
//! **Safe strategy:** fine with a lock_timeout; build an index on the new column CONCURRENTLY.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "K03",
    name: "add-column-references",
    summary: "ADD COLUMN … REFERENCES: brief SHARE ROW EXCLUSIVE on both tables; index the new column",
    lock: LockLevel::ShareRowExclusive,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "add the column, then FK NOT VALID, VALIDATE, and an index built CONCURRENTLY",
    risk: Risk::Info,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE orders ADD COLUMN referrer_id bigint REFERENCES users (id)", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddColumn { table, column, .. } = &op.kind else { return None };
        let target = column.references.as_ref()?;
        (!ctx.table_is_new()).then(|| {
            finding(
                &META,
                op,
                Risk::Info,
                Strategy::AsWritten,
                format!("{} REFERENCES {target}: locks both tables briefly", ctx.describe(table, &column.name)),
                format!("index {}.{} (CREATE INDEX CONCURRENTLY) so deletes on {target} do not scan it", table, column.name),
            )
        })
    }
}
