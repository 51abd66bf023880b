//! # change-column-type (C10)
//!
//! **What it detects:** `ALTER COLUMN … TYPE` that is not binary-coercible, on an existing table.
//!
//! **Why it's risky:** PostgreSQL rewrites the table and every index on it while holding ACCESS EXCLUSIVE;
//! running code may also choke on the new client type.
//!
//! **Safe strategy:** expand → backfill → contract: add a column of the new type and a trigger that keeps
//! it equal to the cast of the old one on every write; fill existing rows in key-range batches; deploy code
//! that copes with the new type; then, in one short transaction, drop the trigger and the old column and
//! give the new column the old name (NOT NULL and the default carried over).
//!
//! **Version notes:** binary-coercible changes rewrite nothing: varchar(n) to a longer varchar, to
//! unbounded varchar or text; text to unbounded varchar; numeric with more precision at the same scale
//! or unconstrained; more precision on timestamp/timestamptz/time/interval; cidr to inet. Indexes on the
//! column may still be rebuilt.

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C10",
    name: "change-column-type",
    summary: "ALTER COLUMN TYPE rewrites the table and its indexes under ACCESS EXCLUSIVE",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Rewrite,
    breaks_app: true,
    versions: "binary-coercible changes (varchar widening, varchar→text, …) skip the rewrite",
    strategy: "new column + sync trigger, batched cast copy, code deploy, swap names",
    risk: Risk::Dangerous,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "", sql: "ALTER TABLE users ALTER COLUMN score TYPE bigint", table: "users" }),
};

/// Splits `text COLLATE "C"` into (`text`, Some(`"C"`)).
fn split_collate(t: &str) -> (&str, Option<&str>) {
    match t.find(" COLLATE ") {
        Some(i) => (t[..i].trim(), Some(t[i + " COLLATE ".len()..].trim())),
        None => (t.trim(), None),
    }
}

/// Splits `varchar(20)` into (`varchar`, [20]); `numeric(10,2)` into (`numeric`, [10, 2]).
fn split_type(t: &str) -> (String, Vec<u32>) {
    let t = t.trim().to_lowercase();
    match t.find('(') {
        Some(i) if t.ends_with(')') => {
            let args = t[i + 1..t.len() - 1].split(',').filter_map(|a| a.trim().parse().ok()).collect();
            (t[..i].trim().to_string(), args)
        }
        _ => (t, Vec::new()),
    }
}

fn canonical(name: &str) -> &str {
    match name {
        "character varying" => "varchar",
        "timestamp without time zone" => "timestamp",
        "timestamp with time zone" => "timestamptz",
        "time without time zone" => "time",
        "decimal" => "numeric",
        "int" | "integer" | "int4" => "int4",
        "bigint" | "int8" => "int8",
        "smallint" | "int2" => "int2",
        other => other,
    }
}

/// True when changing `old` to `new` needs no table rewrite.
#[must_use]
pub(crate) fn binary_coercible(old: &str, new: &str) -> bool {
    let (o, oa) = split_type(old);
    let (n, na) = split_type(new);
    let (o, n) = (canonical(&o), canonical(&n));
    if o == n && oa == na {
        return true;
    }
    match (o, n) {
        ("varchar", "varchar") => na.is_empty() || (!oa.is_empty() && na[0] >= oa[0]),
        ("varchar" | "text", "text") | ("text", "varchar") => na.is_empty(),
        ("numeric", "numeric") => na.is_empty() || (oa.len() == 2 && na.len() == 2 && na[1] == oa[1] && na[0] >= oa[0]),
        ("timestamp", "timestamp") | ("timestamptz", "timestamptz") | ("time", "time") | ("interval", "interval") => {
            na.is_empty() || oa.first().is_some_and(|p| na[0] >= *p)
        }
        ("cidr", "inet") => true,
        _ => false,
    }
}

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::AlterColumnType { table, column, type_sql, using, .. } = &op.kind else {
            return None;
        };
        if ctx.table_is_new() {
            return None;
        }
        let old = ctx.table.and_then(|t| t.column(column)).map(|c| c.type_sql.clone());
        // A new collation keeps the data as it is but makes every index on the column invalid: PostgreSQL
        // rebuilds them under ACCESS EXCLUSIVE.
        let (base, collate) = split_collate(type_sql);
        let (old_base, old_collate) = old.as_deref().map_or(("", None), split_collate);
        let key = table.key();
        let indexes: Vec<&str> = if collate.is_some() && collate != old_collate {
            ctx.schema.indexes_on(&key).filter(|i| i.columns.iter().any(|c| c == column)).map(|i| i.name.as_str()).collect()
        } else {
            Vec::new()
        };
        if using.is_none() && old.is_some() && binary_coercible(old_base, base) {
            if indexes.is_empty() {
                return None;
            }
            return Some(finding(
                &META,
                op,
                Risk::Dangerous,
                Strategy::ChangeTypeExpandContract,
                format!("{} → {type_sql} rebuilds index {} under ACCESS EXCLUSIVE", ctx.describe(table, column), indexes.join(", ")),
                "a new collation invalidates the indexes on the column: new column + sync trigger, indexes built CONCURRENTLY, then swap".into(),
            ));
        }
        let from = old.unwrap_or_else(|| "its current type (unknown)".to_string());
        Some(finding(
            &META,
            op,
            Risk::Dangerous,
            Strategy::ChangeTypeExpandContract,
            format!("{} {from} → {type_sql} rewrites all of {table}", ctx.describe(table, column)),
            "rewrites the table and every index on it; new column + sync trigger, batched backfill, then swap".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::binary_coercible;

    #[test]
    fn coercible_changes() {
        assert!(binary_coercible("varchar(20)", "varchar(40)"));
        assert!(binary_coercible("varchar(20)", "text"));
        assert!(binary_coercible("varchar(20)", "varchar"));
        assert!(binary_coercible("text", "varchar"));
        assert!(binary_coercible("numeric(10,2)", "numeric(12,2)"));
        assert!(binary_coercible("numeric(10,2)", "numeric"));
        assert!(binary_coercible("timestamp(3)", "timestamp(6)"));
        assert!(binary_coercible("cidr", "inet"));
        assert!(binary_coercible("int", "integer"));
    }

    #[test]
    fn rewriting_changes() {
        assert!(!binary_coercible("varchar(40)", "varchar(20)"));
        assert!(!binary_coercible("text", "varchar(20)"));
        assert!(!binary_coercible("int", "bigint"));
        assert!(!binary_coercible("numeric(10,2)", "numeric(12,3)"));
        assert!(!binary_coercible("text", "int"));
        assert!(!binary_coercible("timestamp", "timestamptz"));
    }
}
