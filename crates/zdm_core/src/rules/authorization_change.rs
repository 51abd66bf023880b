//! # authorization-change (G04)
//!
//! **What it detects:** `ENABLE/DISABLE/FORCE ROW LEVEL SECURITY`, `CREATE/ALTER/DROP POLICY` (GRANT and REVOKE: G06 `grant-revoke`).
//!
//! **Why it's risky:** queries of running code can start returning fewer rows, or fail with permission errors; views bypass RLS unless `security_invoker` (15+).
//!
//! **Safe strategy:** review with the owners of the data; test with the application role; prefer `security_invoker` views.
//!
//! **Version notes:** security_invoker views need 15.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind, TableAction};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "G04",
    name: "authorization-change",
    summary: "RLS toggles and policies change who sees what",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "15+: security_invoker views",
    strategy: "correctness and security review; security_invoker views on 15+",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users ENABLE ROW LEVEL SECURITY", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let what = match &op.kind {
            OpKind::AlterAction { action: TableAction::RowSecurity { mode }, table } => format!("{mode} ROW LEVEL SECURITY on {table}"),
            OpKind::Security { what, .. } if what == "GRANT" || what == "REVOKE" => return None,
            OpKind::Security { what, table } => format!("{what}{}", table.as_ref().map(|t| format!(" on {t}")).unwrap_or_default()),
            _ => return None,
        };
        if ctx.table_is_new() {
            return None;
        }
        Some(finding(&META, op, Risk::Risky, Strategy::AsWritten, format!("{what}: changes what running queries see"), "review access; test with the application role".into()))
    }
}
