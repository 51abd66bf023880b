//! # lock-table (D02)
//!
//! **What it detects:** `LOCK TABLE` in a mode that blocks writes (SHARE or stronger; ACCESS EXCLUSIVE when
//! no mode is written) on an existing table.
//!
//! **Why it's risky:** the mode written is held until the transaction ends: ACCESS EXCLUSIVE blocks every
//! query on the table, and while it waits in the queue every later query waits behind it. zdm runs each step
//! in its own transaction, so the lock no longer covers the statements written after it.
//!
//! **Safe strategy:** drop it (zdm's steps take the locks they need, with a lock_timeout), or keep the
//! statements it protects together by hand.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "D02",
    name: "lock-table",
    summary: "LOCK TABLE takes the mode written (ACCESS EXCLUSIVE by default) until the transaction ends",
    lock: LockLevel::Share,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "drop it: zdm's steps take their own locks with a lock_timeout",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "LOCK TABLE users IN SHARE MODE", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::LockTable { tables, mode } = &op.kind else { return None };
        if *mode < LockLevel::Share || tables.iter().all(|t| ctx.schema.table(t).is_some_and(|t| t.created_in_change)) {
            return None;
        }
        let names = tables.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::AsWritten,
            format!("LOCK TABLE {names} IN {} MODE blocks {} until its step commits, and covers no later step", mode.name(), if *mode == LockLevel::AccessExclusive { "every query" } else { "writes" }),
            "drop it: each zdm step takes the locks it needs, with a lock_timeout".into(),
        ))
    }
}
