//! # create-table-as (D08)
//!
//! **What it detects:** `CREATE TABLE … AS SELECT …` and `SELECT … INTO new_table` reading existing tables.
//!
//! **Why it's risky:** the query reads every row it selects in one statement (ACCESS SHARE: reads and
//! writes go on), and the copy is a snapshot: rows written to the source afterwards are not in it. zdm does
//! not know the new table's columns, so names on it are no longer checked.
//!
//! **Safe strategy:** create the table with explicit columns, then copy in batches if the source is large
//! and live; keep it in sync with a trigger if it must stay current.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "D08",
    name: "create-table-as",
    summary: "CREATE TABLE … AS / SELECT … INTO: one long read, a snapshot copy, columns zdm cannot see",
    lock: LockLevel::AccessShare,
    rewrite: Rewrite::Scan,
    breaks_app: false,
    versions: "all versions",
    strategy: "explicit CREATE TABLE, then a batched copy",
    risk: Risk::Info,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "CREATE TABLE probe_copy AS SELECT * FROM users", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::CreateTableAs { table, reads, .. } = &op.kind else { return None };
        let live: Vec<String> =
            reads.iter().filter(|t| !ctx.schema.table(t).is_some_and(|t| t.created_in_change)).map(ToString::to_string).collect();
        if live.is_empty() {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Info,
            Strategy::AsWritten,
            format!("{table} copies {} in one statement: later writes are not in the copy", live.join(", ")),
            "create it with explicit columns and copy in batches if the source is large".into(),
        ))
    }
}
