//! # session-safety (D07)
//!
//! **What it detects:** `SET session_replication_role = replica` (or `local`), and `SET lock_timeout = 0`,
//! `SET statement_timeout = 0` (or RESET / DEFAULT, which mean 0 unless the server sets them).
//!
//! **Why it's risky:** `session_replication_role = replica` stops ordinary triggers and foreign-key checks
//! for the session: zdm's sync triggers stop copying writes (a backfill then loses them) and orphan rows
//! get in. `lock_timeout = 0` lets a blocked ALTER wait forever while every later query queues behind it.
//! `statement_timeout = 0` lets a statement run unbounded.
//!
//! **Safe strategy:** drop the SET: zdm sets `lock_timeout` and `statement_timeout` on every step itself
//! (unlimited only for scans and builds that run while reads and writes go on).
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "D07",
    name: "session-safety",
    summary: "SET session_replication_role = replica, lock_timeout = 0, statement_timeout = 0 turn safety off",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "drop the SET; zdm sets timeouts on every step",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: None,
};

/// True when a timeout value means "no timeout": 0 in any unit, or RESET / DEFAULT.
#[must_use]
pub(crate) fn disables(value: Option<&str>) -> bool {
    value.is_none_or(|v| {
        let v = v.trim().trim_matches('\'').trim().to_lowercase();
        let digits = v.trim_end_matches(|c: char| c.is_ascii_alphabetic()).trim();
        v == "default" || digits.parse::<f64>().is_ok_and(|n| n == 0.0)
    })
}

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::Setting { name, value } = &op.kind else { return None };
        let _ = ctx;
        let (risk, message, help) = match name.as_str() {
            "session_replication_role" if value.as_deref().is_some_and(|v| v.trim_matches('\'') != "origin") => (
                Risk::Dangerous,
                "session_replication_role = replica turns off triggers and foreign-key checks: zdm's sync triggers stop, writes are lost".to_string(),
                "drop it; load data with triggers on".to_string(),
            ),
            "lock_timeout" if disables(value.as_deref()) => (
                Risk::Risky,
                "lock_timeout = 0 turns off the lock timeout: a blocked ALTER waits forever and every later query queues behind it".to_string(),
                "drop it; zdm sets lock_timeout on every step".to_string(),
            ),
            "statement_timeout" if disables(value.as_deref()) => (
                Risk::Risky,
                "statement_timeout = 0 turns off the statement timeout: a statement holding a lock runs unbounded".to_string(),
                "drop it; zdm sets statement_timeout on every step (unlimited only for online scans and builds)".to_string(),
            ),
            _ => return None,
        };
        Some(finding(&META, op, risk, Strategy::AsWritten, format!("SET {message}"), help))
    }
}
