//! # ban-char-field (S06)
//!
//! **What it detects:** a `char(n)` / `character(n)` column.
//!
//! **Why it's risky:** values are blank-padded and compare in surprising ways; no faster than text.
//!
//! **Safe strategy:** use `text` (or varchar).
//!
//! **Version notes:** advisory (design tier): no lock impact.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::Op;

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "S06",
    name: "ban-char-field",
    summary: "char(n) pads with spaces",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "advisory",
    strategy: "use `text` (or varchar).",
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
        let hit = columns.iter().find(|(_, c)| c.type_name == "bpchar")?;
        Some(finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{}.{} is char(n)", hit.0, hit.1.name), "use text".into()))
    }
}
