//! # extension-change (G03)
//!
//! **What it detects:** `ALTER EXTENSION … UPDATE` or `DROP EXTENSION`.
//!
//! **Why it's risky:** an upgrade script can run arbitrary DDL (rewrites, type changes); DROP removes every object of the extension, data types included.
//!
//! **Safe strategy:** read the extension's upgrade script, test on a copy of production, and trace the locks (`zdm verify`).
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "G03",
    name: "extension-change",
    summary: "Extension upgrade or drop: effects depend on the extension",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "manual review of the extension's upgrade script",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::Extension { action, name } = &op.kind else { return None };
        let _ = ctx;
        (action != "CREATE").then(|| {
            finding(&META, op, Risk::Risky, Strategy::AsWritten, format!("{action} EXTENSION {name}: runs whatever its scripts do"), "review its upgrade script; test on a copy".into())
        })
    }
}
