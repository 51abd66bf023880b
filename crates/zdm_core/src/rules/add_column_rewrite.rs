//! # add-column-rewrite (C04, C05, C06)
//!
//! **What it detects:** `ADD COLUMN` of a `serial`/`bigserial` column (C04), an identity column (C05) or a
//! stored generated column (C06) on an existing table.
//!
//! **Why it's risky:** each value is computed per row (`nextval()`, the generation expression), so
//! PostgreSQL rewrites the table and all its indexes under ACCESS EXCLUSIVE.
//!
//! **Safe strategy:** C04/C05: a plain nullable `bigint`, then a sequence default, then a batched backfill,
//! then NOT NULL through a validated CHECK. C06: a plain column filled by a trigger plus a batched backfill;
//! on PostgreSQL 18 a VIRTUAL generated column costs no rewrite. zdm does not write these recipes yet: the
//! plan keeps the statement as written and marks it dangerous.
//!
//! **Version notes:** PostgreSQL 18 makes VIRTUAL the default kind of generated column (no rewrite).

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, PgVersion, Rewrite, Risk};
use crate::op::{Generated, Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C04",
    name: "add-column-rewrite",
    summary: "ADD COLUMN serial / identity / stored generated rewrites the table under ACCESS EXCLUSIVE",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Rewrite,
    breaks_app: false,
    versions: "PG 18: VIRTUAL generated columns (the default kind there) do not rewrite",
    strategy: "plain column + sequence default or trigger, batched backfill, NOT NULL via CHECK",
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddColumn { table, column, .. } = &op.kind else {
            return None;
        };
        if ctx.table_is_new() {
            return None;
        }
        let what = match column.generated {
            _ if matches!(
                column.type_name.as_str(),
                "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
            ) =>
            {
                "serial column (C04)"
            }
            Some(Generated::Identity) => "identity column (C05)",
            Some(Generated::Stored) => "stored generated column (C06)",
            Some(Generated::Virtual) if ctx.pg < PgVersion(18) => {
                "generated column (VIRTUAL needs PostgreSQL 18; C06)"
            }
            _ => return None,
        };
        Some(finding(
            &META,
            op,
            Risk::Dangerous,
            Strategy::AsWritten,
            format!("{}: {what} rewrites {table} and its indexes under ACCESS EXCLUSIVE", ctx.describe(table, &column.name)),
            "no staged recipe yet: run in a maintenance window, or add a plain column and backfill it".into(),
        ))
    }
}
