//! # drop-type-or-routine (D04)
//!
//! **What it detects:** `DROP TYPE`, `DROP DOMAIN`, `DROP FUNCTION` / `PROCEDURE` / `ROUTINE` /
//! `AGGREGATE` of an object that existed before the change; with CASCADE, everything else that goes with it.
//!
//! **Why it's risky:** running code that casts to the type or calls the function fails. With CASCADE,
//! PostgreSQL drops every column of that type (and its data), every default, trigger, index and view that
//! uses the object, under ACCESS EXCLUSIVE on those tables; zdm names the columns and views when it knows
//! the schema. Without CASCADE, the drop fails while anything still uses it.
//!
//! **Safe strategy:** move columns off the type and code off the function first, deploy, then drop it in
//! a later release, without CASCADE.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "D04",
    name: "drop-type-or-routine",
    summary: "DROP TYPE / DOMAIN / FUNCTION: running code breaks; CASCADE drops columns and their data",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "all versions",
    strategy: "move columns and code off it, deploy, then drop it without CASCADE",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "CREATE TYPE probe_t AS ENUM ('a')", sql: "DROP TYPE probe_t", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::DropObject { what, name, cascade, .. } = &op.kind else { return None };
        let typ = matches!(what.as_str(), "TYPE" | "DOMAIN");
        if !typ && !matches!(what.as_str(), "FUNCTION" | "PROCEDURE" | "ROUTINE" | "AGGREGATE") {
            return None;
        }
        let made_here = ctx.before().iter().any(|o| match &o.kind {
            OpKind::CreateEnum { name: n, .. } | OpKind::CreateDomain { name: n, .. } => typ && n.key() == name.key(),
            OpKind::Catalog { .. } => {
                let words: Vec<String> = o.sql.split_whitespace().take(6).map(str::to_lowercase).collect();
                let target = name.name.to_lowercase();
                words.first().is_some_and(|w| w == "create")
                    && words.iter().any(|w| w.split('(').next().is_some_and(|w| w.trim_matches('"') == target || w.ends_with(&format!(".{target}"))))
            }
            _ => false,
        });
        let columns: Vec<String> = if typ { crate::schema::columns_of_type(ctx.schema, name).into_iter().map(|(t, c)| format!("{t}.{c}")).collect() } else { Vec::new() };
        let views: Vec<String> = {
            let tables: Vec<String> = columns.iter().filter_map(|c| c.rsplit_once('.').map(|(t, _)| t.to_string())).collect();
            let mut v: Vec<String> = tables.iter().flat_map(|t| crate::schema::views_reading(ctx.schema, t)).collect();
            v.sort();
            v.dedup();
            v
        };
        let kind = what.to_lowercase();
        if *cascade {
            if made_here && columns.is_empty() {
                return None;
            }
            let message = if !columns.is_empty() {
                let mut m = format!("DROP {what} {name} CASCADE drops column{} {} and {} data", if columns.len() == 1 { "" } else { "s" }, columns.join(", "), if columns.len() == 1 { "its" } else { "their" });
                if !views.is_empty() {
                    m.push_str(&format!(", and may drop view{} {} reading {}", if views.len() == 1 { "" } else { "s" }, views.join(", "), if columns.len() == 1 { "it" } else { "them" }));
                }
                m
            } else if typ {
                format!("DROP {what} {name} CASCADE drops every column of that type with its data, and what uses them")
            } else {
                format!("DROP {what} {name} CASCADE drops every trigger, default, index and view that uses the {kind}")
            };
            return Some(finding(&META, op, Risk::Dangerous, Strategy::AsWritten, message, "move columns and code off it first; drop it without CASCADE".into()));
        }
        if made_here {
            return None;
        }
        let message = if !columns.is_empty() {
            format!("DROP {what} {name} fails: {} still use{} it", columns.join(", "), if columns.len() == 1 { "s" } else { "" })
        } else if typ {
            format!("DROP {what} {name}: running code that casts to it fails")
        } else {
            format!("DROP {what} {name}: running code that calls it fails")
        };
        Some(finding(&META, op, Risk::Risky, Strategy::AsWritten, message, "stop using it in the code, deploy, then drop it".into()))
    }
}
