//! # rename-schema (T05)
//!
//! **What it detects:** `ALTER SCHEMA … RENAME TO`.
//!
//! **Why it's risky:** every running query that qualifies objects with the old name fails at once.
//!
//! **Safe strategy:** create the new schema, move objects and code over in stages, drop the old one last.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "T05",
    name: "rename-schema",
    summary: "ALTER SCHEMA … RENAME breaks every query that names the schema",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "new schema, dual-write, backfill, move reads, stop writes, drop old",
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
        let OpKind::RenameSchema { from, to } = &op.kind else { return None };
        let _ = ctx;
        Some(finding(&META, op, Risk::Dangerous, Strategy::AsWritten, format!("RENAME SCHEMA {from} → {to} breaks every query naming {from}"), "stage it: new schema, move code, drop the old one last".into()))
    }
}
