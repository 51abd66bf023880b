//! # prefer-bigint-over-int (S01)
//!
//! **What it detects:** an `integer` / `serial` primary key or `_id` column.
//!
//! **Why it's risky:** 2,147,483,647 arrives sooner than expected; widening later rewrites the table (C10).
//!
//! **Safe strategy:** use bigint / bigserial / identity bigint.
//!
//! **Version notes:** advisory (design tier): no lock impact.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::Op;

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "S01",
    name: "prefer-bigint-over-int",
    summary: "32-bit integer key columns run out at 2.1 billion",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "advisory",
    strategy: "use bigint / bigserial / identity bigint.",
    risk: Risk::Info,
    autofix: false,
    advisory: true,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let _ = ctx;
        let columns = super::new_columns(op);
        let hit = columns.iter().find(|(_, c)| c.primary_key && matches!(c.type_name.as_str(), "int4" | "int" | "integer" | "serial" | "serial4") || (c.name.ends_with("_id") && matches!(c.type_name.as_str(), "int4" | "int" | "integer")))?;
        Some(finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{}.{} is a 32-bit key", hit.0, hit.1.name), "use bigint".into()))
    }
}
