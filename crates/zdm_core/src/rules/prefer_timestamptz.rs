//! # prefer-timestamptz (S05)
//!
//! **What it detects:** a `timestamp` (without time zone) column.
//!
//! **Why it's risky:** values are ambiguous across time zones and DST changes.
//!
//! **Safe strategy:** use `timestamptz`.
//!
//! **Version notes:** advisory (design tier): no lock impact.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::Op;

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "S05",
    name: "prefer-timestamptz",
    summary: "timestamp without time zone",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "advisory",
    strategy: "use `timestamptz`.",
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
        let hit = columns.iter().find(|(_, c)| c.type_name == "timestamp")?;
        Some(finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{}.{} is timestamp without time zone", hit.0, hit.1.name), "use timestamptz".into()))
    }
}
