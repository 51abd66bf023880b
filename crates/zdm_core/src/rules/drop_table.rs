//! # drop-table (T02)
//!
//! **What it detects:** `DROP TABLE` of an existing table.
//!
//! **Why it's risky:** ACCESS EXCLUSIVE on the table (and, with CASCADE, on everything that references
//! it); running code that still uses it fails; the data is gone.
//!
//! **Safe strategy:** stop every use in code, deploy, then drop in a later deploy after a backup. A
//! rollback re-creates the table empty.
//!
//! **Version notes:** none.

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "T02",
    name: "drop-table",
    summary: "DROP TABLE breaks running code that still uses it and destroys its data",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "stop using it in code, deploy, drop in a later deploy after a backup",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "DROP TABLE audit_log", table: "audit_log" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::DropTable { table, cascade, .. } = &op.kind else {
            return None;
        };
        if ctx.table_is_new() {
            return None;
        }
        let views = crate::schema::views_reading(ctx.schema, &table.key());
        let extra = match (*cascade, views.is_empty()) {
            (true, false) => format!("; CASCADE also drops view{} {}", if views.len() == 1 { "" } else { "s" }, views.join(", ")),
            (true, true) => "; CASCADE also drops what depends on it".to_string(),
            (false, false) => format!("; it fails while view{} {} read{} it", if views.len() == 1 { "" } else { "s" }, views.join(", "), if views.len() == 1 { "s" } else { "" }),
            (false, true) => String::new(),
        };
        Some(finding(
            &META,
            op,
            Risk::Dangerous,
            Strategy::DropAfterDeploy,
            format!("DROP TABLE {table} breaks running code, loses its data{extra}"),
            "deploy code that no longer uses the table, back it up, then drop it".into(),
        ))
    }
}
