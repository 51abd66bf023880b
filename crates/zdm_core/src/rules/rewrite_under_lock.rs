//! # rewrite-under-lock (H04)
//!
//! **What it detects:** an operation that rewrites an existing table (what a lock trace sees as a new relfilenode under ACCESS EXCLUSIVE).
//!
//! **Why it's risky:** reads and writes stop for the whole rewrite, which takes about as long as copying the table.
//!
//! **Safe strategy:** use the staged recipe of the rule that explains the rewrite (C01, C04–C07, C10, T07–T10); `zdm verify` confirms it on a real server.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "H04",
    name: "rewrite-under-lock",
    summary: "A table or index rewritten while ACCESS EXCLUSIVE is held",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Rewrite,
    breaks_app: false,
    versions: "all versions",
    strategy: "the expand/contract recipe of C10",
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
        if ctx.table_is_new() {
            return None;
        }
        let (lock, rewrite) = super::base_effect(&op.kind);
        let rewrites = rewrite == Rewrite::Rewrite
            || matches!(&op.kind, OpKind::AlterColumnType { table, column, type_sql, using, .. }
                if using.is_some() || ctx.schema.table(table).and_then(|t| t.column(column)).is_none_or(|c| !super::change_column_type::binary_coercible(&c.type_sql, type_sql)));
        (rewrites && lock == LockLevel::AccessExclusive).then(|| {
            finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{} is rewritten under ACCESS EXCLUSIVE", op.kind.table().map(ToString::to_string).unwrap_or_default()), "see the rule that explains the rewrite".into())
        })
    }
}
