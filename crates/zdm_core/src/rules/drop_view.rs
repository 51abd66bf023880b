//! # drop-view (D03)
//!
//! **What it detects:** `DROP VIEW`, `DROP MATERIALIZED VIEW`, `DROP TRIGGER`, `DROP RULE` of an object that
//! existed before the change; with CASCADE, everything else that goes with it.
//!
//! **Why it's risky:** ACCESS EXCLUSIVE on the view (or the trigger's table); running code that reads the
//! view fails at once, and writes stop running the trigger's function. CASCADE silently drops every view
//! that reads the dropped one (zdm names them when it knows the schema).
//!
//! **Safe strategy:** stop using it in the code first, deploy, then drop it in a later release, without
//! CASCADE; drop dependent views explicitly.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "D03",
    name: "drop-view",
    summary: "DROP VIEW / MATERIALIZED VIEW / TRIGGER / RULE: running code breaks; CASCADE drops more",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "stop using it, deploy, then drop it without CASCADE",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "CREATE VIEW probe_v AS SELECT id, name FROM users", sql: "DROP VIEW probe_v", table: "probe_v" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::DropObject { what, name, on, cascade, .. } = &op.kind else { return None };
        let view = what.ends_with("VIEW");
        if !view && what != "TRIGGER" && what != "RULE" {
            return None;
        }
        if let Some(t) = on
            && ctx.schema.table(t).is_some_and(|t| t.created_in_change)
        {
            return None;
        }
        let made_here = ctx.before().iter().any(|o| matches!(&o.kind, OpKind::CreateView { name: n, .. } if n.key() == name.key()));
        if *cascade {
            let known = ctx.schema.is_known() && (!view || ctx.schema.views.contains_key(&name.key()));
            let others = if view { crate::schema::views_reading(ctx.schema, &name.key()) } else { Vec::new() };
            let message = if !others.is_empty() {
                format!("DROP {what} {name} CASCADE also drops view{} {}", if others.len() == 1 { "" } else { "s" }, others.join(", "))
            } else if known && view {
                format!("DROP {what} {name} CASCADE: nothing known depends on it, but CASCADE drops whatever does")
            } else {
                format!("DROP {what} {name} CASCADE drops every view and rule that depends on it, unseen")
            };
            let risk = if others.is_empty() && known && made_here { Risk::Info } else { Risk::Dangerous };
            return Some(finding(&META, op, risk, Strategy::AsWritten, message, "drop the dependent objects explicitly, without CASCADE".into()));
        }
        if made_here {
            return None;
        }
        let breaks = if view { "running code that reads it fails" } else { "writes stop running it" };
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::AsWritten,
            format!("DROP {what} {name}{}: {breaks}; ACCESS EXCLUSIVE while it goes", on.as_ref().map(|t| format!(" ON {t}")).unwrap_or_default()),
            "stop using it in the code, deploy, then drop it".into(),
        ))
    }
}
