//! # concurrent-build-pg14 (I05)
//!
//! **What it detects:** any concurrent index build (as written or as zdm plans it) when planning for PostgreSQL 14.
//!
//! **Why it's risky:** PostgreSQL 14.0 to 14.3 could miss rows updated during a CONCURRENTLY build: the index is silently wrong.
//!
//! **Safe strategy:** be on 14.4 or later; rebuild indexes made with CONCURRENTLY on 14.0–14.3.
//!
//! **Version notes:** zdm knows the major version only: on 14 it always warns.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, PgVersion, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "I05",
    name: "concurrent-build-pg14",
    summary: "CIC / REINDEX CONCURRENTLY on PostgreSQL 14.0–14.3 can silently corrupt the index",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "14.0–14.3 only; fixed in 14.4",
    strategy: "upgrade to 14.4+ before building concurrently, or rebuild indexes built on 14.0–14.3",
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
        if ctx.pg != PgVersion(14) || ctx.table_is_new() {
            return None;
        }
        let concurrent = match &op.kind {
            OpKind::CreateIndex(_) => true,
            OpKind::Reindex { .. } => true,
            OpKind::AddConstraint { constraint, .. } => constraint.using_index.is_none() && !constraint.kind.columns().is_empty(),
            _ => false,
        };
        concurrent.then(|| {
            finding(
                &META,
                op,
                Risk::Risky,
                Strategy::AsWritten,
                "CONCURRENTLY builds on PostgreSQL 14.0–14.3 can corrupt indexes".into(),
                "check the server is 14.4+ before running this plan".into(),
            )
        })
    }
}
