//! # function-dependencies (G02)
//!
//! **What it detects:** `CREATE FUNCTION` / `CREATE PROCEDURE` (and `DO` blocks) whose bodies reference tables and columns.
//!
//! **Why it's risky:** PostgreSQL does not record what a function body uses: renaming or dropping a column it reads breaks it at call time, not at migration time.
//!
//! **Safe strategy:** create functions after the DDL they rely on, and re-check bodies that mention renamed or dropped objects.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "G02",
    name: "function-dependencies",
    summary: "Functions and procedures whose bodies depend on objects zdm cannot track",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "order them after the DDL they use; re-check their bodies",
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
        let OpKind::Catalog { what } = &op.kind else { return None };
        if !what.starts_with("CREATE FUNCTION") && !what.starts_with("CREATE OR REPLACE") && !what.starts_with("CREATE PROCEDURE") { return None; }
        let _ = ctx;
        Some(finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{} body dependencies are invisible to PostgreSQL", what.to_lowercase()), "re-check the body when the objects it uses change".into()))
    }
}
