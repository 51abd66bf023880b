//! # side-effect-function (D06)
//!
//! **What it detects:** a `SELECT` that calls a function with effects beyond the query:
//! `pg_terminate_backend`, `pg_cancel_backend`, `setval`, `lo_unlink`, `dblink_exec`, session-level
//! `pg_advisory_lock`, `pg_sleep`, `set_config`, or a function PostgreSQL does not ship (zdm cannot see
//! into it).
//!
//! **Why it's risky:** killing or cancelling backends drops the application's connections; `setval` moves a
//! sequence outside any transaction (a lower value makes inserts collide); `lo_unlink` deletes data;
//! `dblink_exec` runs SQL on another connection zdm cannot see; a session-level advisory lock stays held
//! after the migration's transaction ends; `pg_sleep` holds every lock taken so far; `set_config` changes
//! settings such as lock_timeout.
//!
//! **Safe strategy:** keep operational actions out of migrations; review user functions by hand.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "D06",
    name: "side-effect-function",
    summary: "SELECT calling pg_terminate_backend, setval, lo_unlink, pg_advisory_lock, pg_sleep…: not a read",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "keep operational actions out of migrations; review user functions by hand",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "SELECT pg_advisory_lock(42)", table: "users" }),
};

/// What a function does beyond reading, and how bad that is; None for a plain read.
fn effect(name: &str) -> Option<(Risk, &'static str)> {
    Some(match name {
        "pg_terminate_backend" => (Risk::Dangerous, "kills other sessions: the application's connections drop"),
        "lo_unlink" => (Risk::Dangerous, "deletes a large object: its data is gone"),
        "pg_cancel_backend" => (Risk::Risky, "cancels other sessions' queries"),
        "setval" => (Risk::Risky, "moves a sequence outside any transaction: a lower value makes inserts collide"),
        "dblink_exec" | "dblink" => (Risk::Unknown, "runs SQL on another connection zdm cannot see"),
        "pg_advisory_lock" | "pg_advisory_lock_shared" | "pg_try_advisory_lock" | "pg_try_advisory_lock_shared" => {
            (Risk::Risky, "takes a session-level lock that stays held after its step")
        }
        "pg_sleep" | "pg_sleep_for" | "pg_sleep_until" => (Risk::Risky, "waits while holding every lock its step took"),
        "set_config" => (Risk::Risky, "changes a setting (lock_timeout, statement_timeout…) for the session"),
        "pg_reload_conf" | "pg_rotate_logfile" | "pg_switch_wal" | "pg_promote" | "pg_drop_replication_slot" | "pg_replication_slot_advance" => {
            (Risk::Risky, "acts on the server, not on the schema")
        }
        _ => return None,
    })
}

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::Select { calls, .. } = &op.kind else { return None };
        let _ = ctx;
        let mut hits: Vec<(Risk, String)> =
            calls.iter().filter_map(|c| effect(c).map(|(risk, why)| (risk, format!("{c}() {why}")))).collect();
        hits.extend(
            calls
                .iter()
                .filter(|c| !super::volatility::is_builtin(c))
                .map(|c| (Risk::Unknown, format!("{c}() is not a PostgreSQL function: zdm cannot see what it does"))),
        );
        let (risk, message) = hits.into_iter().max_by_key(|(r, _)| r.severity())?;
        Some(finding(&META, op, risk, Strategy::AsWritten, format!("SELECT: {message}"), "keep it out of the migration, or review it by hand".into()))
    }
}
