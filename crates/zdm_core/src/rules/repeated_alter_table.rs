//! # repeated-alter-table (H05)
//!
//! **What it detects:** more than one `ALTER TABLE` statement on the same table in one change.
//!
//! **Why it's risky:** each statement takes the lock (and any scan) again.
//!
//! **Safe strategy:** merge them into one ALTER TABLE with comma-separated actions, unless zdm stages them apart on purpose.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::Op;

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "H05",
    name: "repeated-alter-table",
    summary: "Several ALTER TABLE statements on the same table",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "one ALTER TABLE with comma-separated actions: one lock, one scan",
    risk: Risk::Info,
    autofix: false,
    advisory: false,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let table = op.kind.table()?;
        if ctx.table_is_new() {
            return None;
        }
        let earlier = ctx.facts.earlier_alters[ctx.index];
        (earlier == 1).then(|| {
            finding(&META, op, Risk::Info, Strategy::AsWritten, format!("second ALTER TABLE on {table}: each takes the lock again"), "merge actions into one ALTER TABLE where zdm runs them together".into())
        })
    }
}
