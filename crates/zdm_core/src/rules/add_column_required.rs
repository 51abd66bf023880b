//! # add-column-required (C02, C03)
//!
//! **What it detects:** `ADD COLUMN … NOT NULL` with no default on an existing table (C03), and any
//! non-volatile default before PostgreSQL 11 (C02).
//!
//! **Why it's risky:** C03 fails at once on a table with rows, and once it exists every INSERT from the
//! running application (which does not know the column) fails. C02: before PostgreSQL 11 any default
//! rewrites the table under ACCESS EXCLUSIVE.
//!
//! **Safe strategy:** add the column nullable (with `SET DEFAULT` for new rows when there is one), fill
//! existing rows in key-range batches (the value comes from the default, or from an `UPDATE … SET col = …`
//! in the same change), deploy code that writes the column, then enforce NOT NULL through a validated CHECK.
//!
//! **Version notes:** PostgreSQL 11 stores a non-volatile default as `attmissingval`: no rewrite.

use super::{Finding, RuleCtx, RuleMeta, Strategy, Volatility, finding, volatility_of};
use crate::model::{LockLevel, PgVersion, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C03",
    name: "add-column-required",
    summary: "ADD COLUMN NOT NULL without a default fails on a populated table and breaks running INSERTs",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::None,
    breaks_app: true,
    versions: "before 11 any default rewrites the table (C02)",
    strategy: "add nullable, backfill in batches, deploy writers, NOT NULL via validated CHECK",
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddColumn { table, column, .. } = &op.kind else {
            return None;
        };
        if ctx.table_is_new() || column.generated.is_some() || column.primary_key {
            return None;
        }
        let col = ctx.describe(table, &column.name);
        match &column.default {
            None if column.not_null => Some(finding(
                &META,
                op,
                Risk::Dangerous,
                Strategy::AddColumnStaged,
                format!("{col} NOT NULL, no default: breaks INSERTs"),
                "add nullable, backfill, deploy writers, then enforce NOT NULL".into(),
            )),
            Some(d)
                if ctx.pg < PgVersion(11)
                    && volatility_of(&column.default_calls) < Volatility::Volatile =>
            {
                Some(finding(
                    &META,
                    op,
                    Risk::Dangerous,
                    Strategy::AddColumnStaged,
                    format!(
                        "{col} DEFAULT {d}: PostgreSQL {} rewrites {table} under ACCESS EXCLUSIVE (C02)",
                        ctx.pg.0
                    ),
                    "add without default, SET DEFAULT, backfill in batches (or upgrade to 11+)"
                        .into(),
                ))
            }
            _ => None,
        }
    }
}
