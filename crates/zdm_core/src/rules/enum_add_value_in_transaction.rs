//! # enum-add-value-in-transaction (E01)
//!
//! **What it detects:** `ALTER TYPE … ADD VALUE` when planning for PostgreSQL 11 (or any version, when the new value is used later in the same change).
//!
//! **Why it's risky:** before 12 the statement fails inside a transaction block; on 12+ the new value cannot be used until the transaction commits.
//!
//! **Safe strategy:** its own migration, outside a transaction; use the value in a later step. zdm writes it as a separate `transaction:false` file before 12.
//!
//! **Version notes:** PostgreSQL 12 relaxed the restriction.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, PgVersion, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "E01",
    name: "enum-add-value-in-transaction",
    summary: "ALTER TYPE … ADD VALUE cannot run in a transaction before PostgreSQL 12",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "12+: allowed in a transaction, but the value is unusable until commit",
    strategy: "its own non-transactional migration",
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
        let OpKind::AddEnumValue { name, value, .. } = &op.kind else { return None };
        let new_type = ctx.before().iter().any(|o| matches!(&o.kind, OpKind::CreateEnum { name: n, .. } if n == name));
        if new_type {
            return None;
        }
        Some(if ctx.pg < PgVersion(12) {
            finding(&META, op, Risk::Risky, Strategy::OwnNonTransactionalFile, format!("ADD VALUE {value} to {name} fails in a transaction on PostgreSQL {}", ctx.pg.0), "its own step outside a transaction".into())
        } else {
            finding(&META, op, Risk::Info, Strategy::OwnNonTransactionalFile, format!("{value} is usable only after its step commits"), "use the new value in a later step".into())
        })
    }
}
