//! # drop-index (I02)
//!
//! **What it detects:** `DROP INDEX` without `CONCURRENTLY` on an existing index.
//!
//! **Why it's risky:** it takes ACCESS EXCLUSIVE on the table; while that waits behind a long query every
//! later query on the table queues too.
//!
//! **Safe strategy:** `DROP INDEX CONCURRENTLY` (one index per statement, outside a transaction). Indexes
//! that back a constraint must go with `DROP CONSTRAINT` instead.
//!
//! **Version notes:** none.

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "I02",
    name: "drop-index",
    summary: "DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "DROP INDEX CONCURRENTLY, alone, outside a transaction",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "DROP INDEX users_score_idx", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::DropIndex { name, concurrently, .. } = &op.kind else {
            return None;
        };
        if *concurrently {
            return None;
        }
        let index = ctx.schema.indexes.get(&name.name);
        if let Some(i) = index {
            if ctx.schema.tables.get(&i.table).is_some_and(|t| t.created_in_change) {
                return None;
            }
            if let Some(c) = &i.constraint {
                return Some(finding(
                    &META,
                    op,
                    Risk::Dangerous,
                    Strategy::AsWritten,
                    format!("index {name} backs constraint {c}: DROP INDEX fails"),
                    format!("drop the constraint instead: ALTER TABLE {} DROP CONSTRAINT {c}", i.table),
                ));
            }
        }
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::ConcurrentDropIndex,
            format!("DROP INDEX {name} takes ACCESS EXCLUSIVE on its table"),
            "drop it CONCURRENTLY in its own non-transactional step".into(),
        ))
    }
}
