//! # truncate (T14)
//!
//! **What it detects:** `TRUNCATE` (without CASCADE) of a table that existed before the change.
//!
//! **Why it's risky:** every row is deleted, under ACCESS EXCLUSIVE; the rollback cannot bring them back.
//!
//! **Safe strategy:** back up first; make sure nothing needs the rows; a table created in the same change
//! is fine.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "T14",
    name: "truncate",
    summary: "TRUNCATE deletes every row of a live table under ACCESS EXCLUSIVE",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "back up first; the rollback cannot restore rows",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "TRUNCATE events", table: "events" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::Truncate { tables, cascade: false } = &op.kind else { return None };
        let live: Vec<String> =
            tables.iter().filter(|t| !ctx.schema.table(t).is_some_and(|t| t.created_in_change)).map(ToString::to_string).collect();
        if live.is_empty() && !tables.is_empty() {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Dangerous,
            Strategy::AsWritten,
            format!("TRUNCATE {} deletes all rows", live.join(", ")),
            "back up first; the rollback cannot bring rows back".into(),
        ))
    }
}
