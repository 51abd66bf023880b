//! # set-tablespace (T10)
//!
//! **What it detects:** `ALTER TABLE … SET TABLESPACE`.
//!
//! **Why it's risky:** every file of the table is copied to the new tablespace while ACCESS EXCLUSIVE is held.
//!
//! **Safe strategy:** use `pg_repack --tablespace`, which holds the lock only briefly.
//!
//! **Lock check:** a second tablespace needs a server-side directory the test cannot create portably: no probe.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind, TableAction};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "T10",
    name: "set-tablespace",
    summary: "SET TABLESPACE copies the table under ACCESS EXCLUSIVE",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Rewrite,
    breaks_app: false,
    versions: "all versions",
    strategy: "pg_repack --tablespace",
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
        let OpKind::AlterAction { table, action: TableAction::SetTablespace } = &op.kind else { return None };
        if ctx.table_is_new() {
            return None;
        }
        Some(finding(&META, op, Risk::Dangerous, Strategy::AsWritten, format!("SET TABLESPACE copies {table} under ACCESS EXCLUSIVE"), "use pg_repack --tablespace".into()))
    }
}
