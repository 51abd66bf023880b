//! # add-unique (K04)
//!
//! **What it detects:** `ADD … UNIQUE` (without `USING INDEX`) on an existing table.
//!
//! **Why it's risky:** PostgreSQL builds the unique index while holding ACCESS EXCLUSIVE: no reads, no
//! writes for the whole build.
//!
//! **Safe strategy:** `CREATE UNIQUE INDEX CONCURRENTLY` in its own non-transactional step, then
//! `ADD CONSTRAINT … UNIQUE USING INDEX` (brief lock). De-duplicate first: the build fails on duplicates
//! and leaves an INVALID index to drop before retrying.
//!
//! **Version notes:** none.

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{ConstraintKind, LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "K04",
    name: "add-unique",
    summary: "ADD UNIQUE builds its index under ACCESS EXCLUSIVE",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Build,
    breaks_app: false,
    versions: "all versions",
    strategy: "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … USING INDEX",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users ADD CONSTRAINT probe_email_key UNIQUE (email)", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddConstraint { table, constraint } = &op.kind else {
            return None;
        };
        if ctx.table_is_new() || constraint.using_index.is_some() || !matches!(constraint.kind, ConstraintKind::Unique { .. }) {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::ConstraintUsingIndex,
            format!("UNIQUE on {table} builds an index under ACCESS EXCLUSIVE"),
            "build the unique index CONCURRENTLY, then attach it with USING INDEX".into(),
        ))
    }
}
