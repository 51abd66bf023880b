//! # truncate-cascade (T03)
//!
//! **What it detects:** `TRUNCATE … CASCADE` (a plain TRUNCATE is T14 `truncate`).
//!
//! **Why it's risky:** ACCESS EXCLUSIVE on every table reached; CASCADE silently empties tables you did not name.
//!
//! **Safe strategy:** name every table to truncate explicitly, without CASCADE; back up first.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "T03",
    name: "truncate-cascade",
    summary: "TRUNCATE … CASCADE empties every table that references it",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "truncate the tables you mean explicitly, without CASCADE",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "TRUNCATE audit_log CASCADE", table: "audit_log" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::Truncate { tables, cascade: true } = &op.kind else { return None };
        let _ = ctx;
        let names: Vec<String> = tables.iter().map(ToString::to_string).collect();
        Some(finding(
            &META,
            op,
            Risk::Dangerous,
            Strategy::AsWritten,
            format!("TRUNCATE {} CASCADE empties every referencing table", names.join(", ")),
            "truncate the tables you mean, without CASCADE".into(),
        ))
    }
}
