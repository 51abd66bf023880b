//! # unknown-statement (G05)
//!
//! **What it detects:** a statement zdm does not model (raw DDL it cannot analyse).
//!
//! **Why it's risky:** zdm cannot tell which lock it takes, whether it rewrites, or whether running code
//! breaks, so it is never called safe.
//!
//! **Safe strategy:** review it by hand; the plan runs it as written with a lock_timeout.
//!
//! **Version notes:** none.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind, TableAction};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "G05",
    name: "unknown-statement",
    summary: "a statement zdm cannot analyse: treat as risky",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "manual review; runs as written with lock_timeout",
    risk: Risk::Unknown,
    autofix: false,
    advisory: false,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let _ = ctx;
        let (what, table) = match &op.kind {
            OpKind::Other { what, table } => (what.clone(), table.as_ref()),
            OpKind::AlterAction { table, action: TableAction::Other { words } } => (format!("ALTER TABLE {table} {words}"), None),
            OpKind::DoBlock => ("DO block".to_string(), None),
            _ => return None,
        };
        let on = table.map(|t| format!(" on {t}")).unwrap_or_default();
        Some(finding(
            &META,
            op,
            Risk::Unknown,
            Strategy::AsWritten,
            format!("{what}{on}: zdm does not know its lock or cost"),
            "review by hand; assume ACCESS EXCLUSIVE".into(),
        ))
    }
}
