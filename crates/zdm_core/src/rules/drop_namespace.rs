//! # drop-schema-or-database (T04)
//!
//! **What it detects:** `DROP SCHEMA` or `DROP DATABASE`.
//!
//! **Why it's risky:** every object inside goes, with its data, under ACCESS EXCLUSIVE.
//!
//! **Safe strategy:** do not do it in a migration; if you must, back up and get an explicit approval.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "T04",
    name: "drop-schema-or-database",
    summary: "DROP SCHEMA / DROP DATABASE destroys everything in it",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "don't, or gate it behind an explicit approval and a backup",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "CREATE SCHEMA probe_s; CREATE TABLE probe_s.t (id int)", sql: "DROP SCHEMA probe_s CASCADE", table: "probe_s.t" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::DropNamespace { what, name } = &op.kind else { return None };
        let _ = ctx;
        Some(finding(&META, op, Risk::Dangerous, Strategy::AsWritten, format!("DROP {what} {name}: every object in it is destroyed"), "back up first; gate it behind an explicit approval".into()))
    }
}
