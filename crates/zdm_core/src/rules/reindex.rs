//! # reindex (I04)
//!
//! **What it detects:** `REINDEX INDEX|TABLE|SCHEMA|DATABASE` without CONCURRENTLY.
//!
//! **Why it's risky:** writes to the table wait for the whole rebuild, and reads that use the index wait too (ACCESS EXCLUSIVE on the index).
//!
//! **Safe strategy:** `REINDEX … CONCURRENTLY` (PostgreSQL 12+) in its own non-transactional step. A failed run leaves `_ccnew` INVALID indexes to drop.
//!
//! **Version notes:** CONCURRENTLY needs 12; 14.0–14.3 could corrupt indexes built that way (I05).

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, PgVersion, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "I04",
    name: "reindex",
    summary: "REINDEX without CONCURRENTLY blocks writes (SHARE on the table, ACCESS EXCLUSIVE on the index)",
    lock: LockLevel::Share,
    rewrite: Rewrite::Build,
    breaks_app: false,
    versions: "12+: REINDEX CONCURRENTLY",
    strategy: "REINDEX … CONCURRENTLY (12+), alone, outside a transaction",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "REINDEX INDEX users_score_idx", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::Reindex { target, object, concurrently: false } = &op.kind else { return None };
        let _ = ctx;
        let system = object == "SYSTEM";
        Some(if ctx.pg >= PgVersion(12) && !system {
            finding(&META, op, Risk::Risky, Strategy::ConcurrentReindex, format!("REINDEX {object} {target} blocks writes for the rebuild"), "REINDEX CONCURRENTLY in its own step".into())
        } else {
            finding(&META, op, Risk::Risky, Strategy::AsWritten, format!("REINDEX {object} {target} blocks writes; no CONCURRENTLY here"), "run off-peak, or upgrade to 12+".into())
        })
    }
}
