//! # enum-value-unordered (E02)
//!
//! **What it detects:** `ALTER TYPE … ADD VALUE` without BEFORE or AFTER.
//!
//! **Why it's risky:** enum values compare by position; appended values sort last, which queries using `<` or ORDER BY may not expect.
//!
//! **Safe strategy:** state the position explicitly.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "E02",
    name: "enum-value-unordered",
    summary: "ADD VALUE without BEFORE/AFTER appends: ordering comparisons may change meaning",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "say where the value goes: BEFORE / AFTER",
    risk: Risk::Info,
    autofix: false,
    advisory: false,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddEnumValue { name, value, positioned: false, .. } = &op.kind else { return None };
        let _ = ctx;
        Some(finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{value} is appended to {name}: it sorts last"), "add BEFORE / AFTER to place it".into()))
    }
}
