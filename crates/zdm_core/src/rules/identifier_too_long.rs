//! # identifier-too-long (S07)
//!
//! **What it detects:** a table, column, index or constraint name longer than 63 bytes.
//!
//! **Why it's risky:** PostgreSQL truncates it; two names can collide and later statements naming the full identifier miss.
//!
//! **Safe strategy:** keep names within 63 bytes.
//!
//! **Version notes:** advisory (design tier): no lock impact.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "S07",
    name: "identifier-too-long",
    summary: "Identifiers longer than 63 bytes are silently truncated",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "advisory",
    strategy: "keep names within 63 bytes.",
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
        // The parser already truncated identifiers to 63 bytes, so the check reads the statement text.
        if !matches!(
            &op.kind,
            OpKind::CreateTable { .. } | OpKind::AddColumn { .. } | OpKind::RenameColumn { .. } | OpKind::RenameTable { .. } | OpKind::CreateIndex(_) | OpKind::AddConstraint { .. }
        ) {
            return None;
        }
        let _ = ctx;
        let names = op.sql.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).map(str::to_string);
        let long = names.into_iter().find(|n| n.len() > 63)?;
        Some(finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{long} is over 63 bytes: PostgreSQL truncates it"), "shorten it".into()))
    }
}
