//! # index-build-load (I08)
//!
//! **What it detects:** an index build (CONCURRENTLY or not) on an existing table.
//!
//! **Why it's risky:** it reads the whole table and writes the index: CPU, IO and WAL load on the primary and replicas.
//!
//! **Safe strategy:** run off-peak; `ANALYZE` the table afterwards.
//!
//! **Version notes:** advisory.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "I08",
    name: "index-build-load",
    summary: "Any index build on a large table costs CPU and IO",
    lock: LockLevel::None,
    rewrite: Rewrite::Build,
    breaks_app: false,
    versions: "all versions",
    strategy: "build off-peak; ANALYZE afterwards",
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
        let OpKind::CreateIndex(spec) = &op.kind else { return None };
        (!ctx.table_is_new()).then(|| {
            finding(&META, op, Risk::Info, Strategy::AsWritten, format!("building an index reads all of {}", spec.table), "run off-peak, ANALYZE afterwards".into())
        })
    }
}
