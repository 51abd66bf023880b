//! # enum-rename-value (E03)
//!
//! **What it detects:** `ALTER TYPE … RENAME VALUE`.
//!
//! **Why it's risky:** it is catalog-only, but running code that writes or compares the old label fails or silently mismatches at once.
//!
//! **Safe strategy:** add the new label, deploy code that accepts both, backfill rows to the new label, then stop writing the old one (it cannot be removed without a new type).
//!
//! **Version notes:** the statement exists from PostgreSQL 10.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "E03",
    name: "enum-rename-value",
    summary: "ALTER TYPE … RENAME VALUE breaks code that writes or compares the old label",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "10+: RENAME VALUE exists",
    strategy: "add the new value, make the app handle both, backfill, stop using the old",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::RenameEnumValue { name, from, to } = &op.kind else { return None };
        let _ = ctx;
        Some(finding(&META, op, Risk::Dangerous, Strategy::AsWritten, format!("RENAME VALUE {from} → {to} on {name} breaks code using {from}"), "add the new value, move code and rows over, keep the old".into()))
    }
}
