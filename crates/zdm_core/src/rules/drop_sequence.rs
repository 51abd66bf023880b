//! # drop-sequence (T13)
//!
//! **What it detects:** `DROP SEQUENCE`.
//!
//! **Why it's risky:** its current value is lost, and any DEFAULT nextval(...) that uses it fails.
//!
//! **Safe strategy:** check nothing uses it (`pg_depend`, column defaults, code) before dropping; back up its value.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "T13",
    name: "drop-sequence",
    summary: "DROP SEQUENCE loses its current value; defaults using it break",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "verify ownership and usage first",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "CREATE SEQUENCE probe_seq", sql: "DROP SEQUENCE probe_seq", table: "probe_seq" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::DropSequence { name } = &op.kind else { return None };
        let _ = ctx;
        Some(finding(&META, op, Risk::Risky, Strategy::AsWritten, format!("DROP SEQUENCE {name}: its value is lost, defaults using it fail"), "check pg_depend and column defaults first".into()))
    }
}
