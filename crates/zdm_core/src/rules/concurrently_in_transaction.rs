//! # concurrently-in-transaction (I03)
//!
//! **What it detects:** `CREATE/DROP INDEX CONCURRENTLY` or `REINDEX … CONCURRENTLY` written inside `BEGIN … COMMIT`, or next to other statements.
//!
//! **Why it's risky:** PostgreSQL refuses CONCURRENTLY inside a transaction block, and a multi-statement string runs as one implicit transaction.
//!
//! **Safe strategy:** its own migration outside a transaction. zdm drops the BEGIN/COMMIT and writes the statement alone with `transaction:false`.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "I03",
    name: "concurrently-in-transaction",
    summary: "CONCURRENTLY inside a transaction block fails at run time",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "its own non-transactional migration (zdm: transaction:false, one statement)",
    risk: Risk::Info,
    autofix: true,
    advisory: false,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let concurrent = match &op.kind {
            OpKind::CreateIndex(spec) => spec.concurrently,
            OpKind::DropIndex { concurrently, .. } | OpKind::Reindex { concurrently, .. } => *concurrently,
            _ => false,
        };
        let in_block = ctx.facts.in_block[ctx.index];
        (concurrent && (in_block || ctx.change.len() > 1)).then(|| {
            finding(
                &META,
                op,
                Risk::Info,
                Strategy::AsWritten,
                "CONCURRENTLY cannot run in a transaction block: zdm gives it its own file".into(),
                "keep it alone, outside a transaction".into(),
            )
        })
    }
}
