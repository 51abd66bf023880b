//! # large-update (H10)
//!
//! **What it detects:** an `UPDATE` of an existing table given as part of the change (a backfill).
//!
//! **Why it's risky:** one statement locks every row it touches until it commits, bloats the table,
//! floods WAL and replicas, and on failure rolls everything back.
//!
//! **Safe strategy:** walk the primary key in ranges of a bounded size, one short transaction per range,
//! with a pause between ranges — only when the batches mean the same as the statement. When the new
//! value depends only on the row's other columns and immutable functions, rows that already hold it are
//! skipped (`IS DISTINCT FROM`), so a rerun is harmless. When it reads a column the UPDATE assigns
//! (`score = score + 1`) or a stable function, each batch records its last key in
//! `zdm_backfill_progress` in its own transaction and a rerun resumes after it. A volatile function,
//! a subquery over the updated table itself, an assigned key column, or a self-reference without a key
//! to walk keep the statement as written (one transaction), with the reason.
//!
//! **Version notes:** the batched form is a `DO` block that COMMITs between batches (PostgreSQL 11+).

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, Volatility, finding, volatility_of};
use crate::model::{LockLevel, PgVersion, Rewrite, Risk, Table};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "H10",
    name: "large-update",
    summary: "a single UPDATE over a large table holds row locks and bloats until it commits",
    lock: LockLevel::RowExclusive,
    rewrite: Rewrite::Rows,
    breaks_app: false,
    versions: "11+: procedures and DO blocks may COMMIT between batches",
    strategy: "key-range batches, one transaction each, with a pause",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "UPDATE users SET email = lower(email)", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::Update { table, .. } = &op.kind else {
            return None;
        };
        if ctx.table_is_new() {
            return None;
        }
        Some(match batch_mode(&op.kind, walk_key(ctx.table, ctx.pg).as_deref()) {
            Ok(_) => finding(
                &META,
                op,
                Risk::Risky,
                Strategy::BatchedUpdate,
                format!("UPDATE {table} in one statement locks every matched row until commit"),
                "run it in key-range batches, each its own transaction".into(),
            ),
            Err(why) => finding(
                &META,
                op,
                Risk::Risky,
                Strategy::AsWritten,
                format!("UPDATE {table} kept as one statement: {why}"),
                "it runs as written, in one transaction without a statement timeout; run it off-peak".into(),
            ),
        })
    }
}

/// How a plain UPDATE runs in batches without changing what it means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchMode {
    /// Rows that already hold the new value are skipped (`IS DISTINCT FROM`): a rerun or a row seen twice
    /// is harmless.
    Idempotent,
    /// Each row must be updated exactly once: every batch records its last key in its own transaction and
    /// a rerun resumes after it (needs a key walk).
    Resumable,
}

/// The key a backfill of `table` walks: its primary key, `id` assumed before PostgreSQL 14 (no TID range
/// scans), None for a heap-page walk.
#[must_use]
pub fn walk_key(table: Option<&Table>, pg: PgVersion) -> Option<Vec<String>> {
    match table.and_then(Table::primary_key) {
        Some(key) => Some(key.to_vec()),
        None if pg >= PgVersion(14) => None,
        None => Some(vec!["id".into()]),
    }
}

/// Whether the UPDATE can run in batches with the single statement's result and a harmless rerun; `Err`
/// says why not. `key`: the key the batches walk (None: heap pages).
///
/// # Errors
/// The reason the statement must run as written.
pub fn batch_mode(kind: &OpKind, key: Option<&[String]>) -> Result<BatchMode, String> {
    let OpKind::Update { table, assignments, filter_reads, batchable, .. } = kind else {
        return Err("not an UPDATE".into());
    };
    if !batchable {
        return Err("FROM / WITH / RETURNING / WHERE CURRENT OF cannot be split into batches".into());
    }
    let reads = assignments.iter().map(|a| &a.reads).chain(std::iter::once(filter_reads));
    let calls: Vec<String> = reads.clone().flat_map(|r| r.calls.iter().cloned()).collect();
    if let Some(f) = calls.iter().find(|c| volatility_of(std::slice::from_ref(c)) == Volatility::Volatile) {
        return Err(format!("it calls {f}(), which is volatile (or unknown to zdm): each batch would compute other values"));
    }
    if reads.clone().any(|r| r.tables.iter().any(|t| *t == table.key() || *t == table.name)) {
        return Err(format!("a subquery reads {table} itself, which earlier batches would already have changed"));
    }
    let assigned: Vec<&str> = assignments.iter().map(|a| a.column.as_str()).collect();
    if let Some(k) = key.and_then(|k| k.iter().find(|k| assigned.contains(&k.as_str()))) {
        return Err(format!("it assigns the key column {k} that the batches walk"));
    }
    let self_reading = assignments.iter().flat_map(|a| &a.reads.columns).find(|c| assigned.contains(&c.as_str()));
    let stable = volatility_of(&calls) == Volatility::Stable;
    if self_reading.is_none() && !stable {
        return Ok(BatchMode::Idempotent);
    }
    if key.is_some() {
        return Ok(BatchMode::Resumable);
    }
    let what = self_reading.map_or_else(|| "a stable function".to_string(), |c| format!("{c}, which it assigns"));
    Err(format!("the new value reads {what}, and with no primary key known a rerun after a failed batch would apply it twice"))
}
