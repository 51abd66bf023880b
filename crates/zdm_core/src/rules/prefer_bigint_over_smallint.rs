//! # prefer-bigint-over-smallint (S02)
//!
//! **What it detects:** a `smallint` / `smallserial` primary key or `_id` column.
//!
//! **Why it's risky:** 32,767 is small; widening later rewrites the table.
//!
//! **Safe strategy:** use bigint.
//!
//! **Version notes:** advisory (design tier): no lock impact.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::Op;

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "S02",
    name: "prefer-bigint-over-smallint",
    summary: "16-bit integer key columns run out at 32,767",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "advisory",
    strategy: "use bigint.",
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
        let hit = columns.iter().find(|(_, c)| (c.primary_key || c.name.ends_with("_id")) && matches!(c.type_name.as_str(), "int2" | "smallint" | "smallserial" | "serial2"))?;
        Some(finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{}.{} is a 16-bit key", hit.0, hit.1.name), "use bigint".into()))
    }
}
