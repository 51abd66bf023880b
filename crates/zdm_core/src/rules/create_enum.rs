//! # create-enum (E05)
//!
//! **What it detects:** `CREATE TYPE … AS ENUM`.
//!
//! **Why it's risky:** labels can only be appended or renamed; removing or reordering one later means a new type and a table rewrite (E04).
//!
//! **Safe strategy:** consider a lookup table with a foreign key.
//!
//! **Version notes:** advisory.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "E05",
    name: "create-enum",
    summary: "CREATE TYPE … AS ENUM: values can be added, never removed or reordered",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "a lookup table with a foreign key",
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
        let OpKind::CreateEnum { name, .. } = &op.kind else { return None };
        let _ = ctx;
        Some(finding(&META, op, Risk::Info, Strategy::AsWritten, format!("enum {name}: labels can never be removed"), "consider a lookup table + foreign key".into()))
    }
}
