//! # data-change (D01)
//!
//! **What it detects:** `INSERT`, `DELETE`, `MERGE`, and statements whose WITH clause writes
//! (`WITH d AS (DELETE FROM users RETURNING *) SELECT 1`, `WITH … UPDATE …`) on existing tables.
//!
//! **Why it's risky:** rows change under ROW EXCLUSIVE with row locks that block other writers of the same
//! rows until the step commits; a large one is one long transaction; the rollback cannot bring deleted or
//! overwritten rows back. A DELETE without WHERE empties the table. Seed rows inserted into a table created
//! earlier in the same change are fine.
//!
//! **Safe strategy:** back up the rows first; keep data changes small or run them in key-range batches;
//! seed new tables in the change that creates them.
//!
//! **Version notes:** MERGE is PostgreSQL 15+.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "D01",
    name: "data-change",
    summary: "INSERT / DELETE / MERGE or a writing WITH clause on an existing table: rows cannot be rolled back",
    lock: LockLevel::RowExclusive,
    rewrite: Rewrite::Rows,
    breaks_app: false,
    versions: "all versions (MERGE: 15+)",
    strategy: "back up first; small batches; seed only tables created in the same change",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "WITH d AS (DELETE FROM audit_log WHERE id < 10 RETURNING *) SELECT count(*) FROM d", table: "audit_log" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::DataChange { writes } = &op.kind else { return None };
        let new = |t: &crate::model::QName| ctx.schema.table(t).is_some_and(|t| t.created_in_change);
        let live: Vec<_> = writes.iter().filter(|w| !new(&w.table)).collect();
        if live.is_empty() && !writes.is_empty() {
            return None;
        }
        let nested = writes.len() > 1 || op.sql.trim_start().to_uppercase().starts_with("WITH");
        let what = live.iter().map(|w| format!("{} {}", w.verb, w.table)).collect::<Vec<_>>().join(", ");
        let what = if what.is_empty() { "a data change".to_string() } else { what };
        let inside = if nested { " (inside a WITH clause)" } else { "" };
        if let Some(w) = live.iter().find(|w| w.all_rows) {
            return Some(finding(
                &META,
                op,
                Risk::Dangerous,
                Strategy::AsWritten,
                format!("DELETE FROM {} without WHERE{inside} deletes every row", w.table),
                "back up first; the rollback cannot bring rows back".into(),
            ));
        }
        if live.iter().all(|w| w.seed) && !live.is_empty() {
            return Some(finding(
                &META,
                op,
                Risk::Info,
                Strategy::AsWritten,
                format!("{what}: adds rows to a live table; the rollback does not remove them"),
                "make it idempotent (ON CONFLICT DO NOTHING) so a rerun is harmless".into(),
            ));
        }
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::AsWritten,
            format!("{what}{inside}: changes rows of a live table under row locks; the rollback cannot restore them"),
            "back up the rows first; batch large changes by key range".into(),
        ))
    }
}
