//! # index-many-columns (I07)
//!
//! **What it detects:** a non-unique index with more than three key columns.
//!
//! **Why it's risky:** wide indexes are large, slow to build and rarely used past their leading columns.
//!
//! **Safe strategy:** keep the most selective columns first and drop the rest.
//!
//! **Version notes:** advisory.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "I07",
    name: "index-many-columns",
    summary: "A non-unique index on more than three columns",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "lead with the most selective columns; fewer columns",
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
        let _ = ctx;
        (!spec.unique && spec.columns.len() > 3).then(|| {
            finding(&META, op, Risk::Info, Strategy::AsWritten, format!("index on {} has {} columns", spec.table, spec.columns.len()), "keep the most selective leading columns".into())
        })
    }
}
