//! # add-primary-key (K05)
//!
//! **What it detects:** `ADD PRIMARY KEY` (without `USING INDEX`) on an existing table.
//!
//! **Why it's risky:** PostgreSQL builds the index under ACCESS EXCLUSIVE and, for nullable key columns,
//! also scans the table to set NOT NULL.
//!
//! **Safe strategy:** make each key column NOT NULL through a validated CHECK (C08), build the unique
//! index CONCURRENTLY, then `ADD CONSTRAINT … PRIMARY KEY USING INDEX` (brief lock).
//!
//! **Version notes:** the NOT NULL part needs PostgreSQL 12 to skip its scan.

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{ConstraintKind, LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "K05",
    name: "add-primary-key",
    summary: "ADD PRIMARY KEY builds its index (and scans for NOT NULL) under ACCESS EXCLUSIVE",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Build,
    breaks_app: false,
    versions: "12+: NOT NULL through a validated CHECK skips the scan",
    strategy: "NOT NULL via CHECK, CREATE UNIQUE INDEX CONCURRENTLY, ADD PRIMARY KEY USING INDEX",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE events ADD PRIMARY KEY (id)", table: "events" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AddConstraint { table, constraint } = &op.kind else {
            return None;
        };
        if ctx.table_is_new() || !matches!(constraint.kind, ConstraintKind::PrimaryKey { .. }) {
            return None;
        }
        if let Some(index) = &constraint.using_index {
            // The index is built already, but PostgreSQL makes its columns NOT NULL, scanning the table
            // under ACCESS EXCLUSIVE unless each column is NOT NULL already (or proven by a validated CHECK).
            let columns = ctx.schema.indexes.get(index).map(|i| i.columns.clone());
            let nullable: Vec<String> = match &columns {
                Some(cols) => cols
                    .iter()
                    .filter(|c| {
                        let not_null = ctx.table.and_then(|t| t.column(c)).is_some_and(|col| col.not_null);
                        let proven = ctx.pg.0 >= 12 && super::set_not_null::proven_by_check(ctx, c);
                        !(not_null || proven)
                    })
                    .cloned()
                    .collect(),
                None => vec!["its columns (unknown)".to_string()],
            };
            if nullable.is_empty() {
                return None;
            }
            return Some(finding(
                &META,
                op,
                Risk::Risky,
                Strategy::AsWritten,
                format!("PRIMARY KEY USING INDEX {index} on {table}: {} nullable, SET NOT NULL scans {table} under ACCESS EXCLUSIVE", nullable.join(", ")),
                "make the columns NOT NULL first (CHECK … IS NOT NULL NOT VALID, VALIDATE, SET NOT NULL), then add the key".into(),
            ));
        }
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::ConstraintUsingIndex,
            format!("PRIMARY KEY on {table} builds an index under ACCESS EXCLUSIVE"),
            "NOT NULL via CHECK, unique index CONCURRENTLY, then PRIMARY KEY USING INDEX".into(),
        ))
    }
}
