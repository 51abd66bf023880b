//! # add-column-default-pre11 (C02)
//!
//! **What it detects:** `ADD COLUMN … DEFAULT <non-volatile expression>` on an existing table, planning for PostgreSQL 10 or older.
//!
//! **Why it's risky:** before PostgreSQL 11 every default is written into every row: a full rewrite under ACCESS EXCLUSIVE.
//!
//! **Safe strategy:** add the column without a default, `SET DEFAULT` for new rows, backfill existing rows in key-range batches.
//!
//! **Version notes:** PostgreSQL 11 stores a non-volatile default in `pg_attribute.attmissingval`: metadata only. zdm plans for 11+, so this fires only for `--pg-version` below 11 (the planner core accepts any version).

use super::{Finding, RuleCtx, RuleMeta, Strategy, Volatility, finding, volatility_of};
use crate::model::{LockLevel, PgVersion, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C02",
    name: "add-column-default-pre11",
    summary: "ADD COLUMN with a non-volatile default rewrites the table before PostgreSQL 11",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Rewrite,
    breaks_app: false,
    versions: "11+: a non-volatile default is stored as attmissingval, no rewrite",
    strategy: "add without default, SET DEFAULT, batched backfill (or upgrade to 11+)",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddColumn { table, column, .. } = &op.kind else { return None };
        let default = column.default.as_ref()?;
        if ctx.table_is_new() || ctx.pg >= PgVersion(11) || column.generated.is_some() || volatility_of(&column.default_calls) == Volatility::Volatile {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Dangerous,
            Strategy::AddColumnStaged,
            format!("{} DEFAULT {default}: PostgreSQL {} rewrites {table}", ctx.describe(table, &column.name), ctx.pg.0),
            "add without default, SET DEFAULT, backfill in batches (or upgrade to 11+)".into(),
        ))
    }
}
