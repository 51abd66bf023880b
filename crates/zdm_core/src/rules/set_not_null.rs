//! # set-not-null (C08)
//!
//! **What it detects:** `ALTER COLUMN … SET NOT NULL` on an existing table.
//!
//! **Why it's risky:** PostgreSQL scans the whole table to prove there is no NULL, holding ACCESS EXCLUSIVE
//! for the whole scan: no reads, no writes. Running code that writes NULL starts failing.
//!
//! **Safe strategy:** `ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID` (brief lock), then
//! `VALIDATE CONSTRAINT` in its own transaction (SHARE UPDATE EXCLUSIVE: reads and writes go on), then
//! `SET NOT NULL`, which skips the scan because the validated CHECK proves it, then drop the CHECK.
//!
//! **Version notes:** the scan skip needs PostgreSQL 12; on 11 zdm keeps the validated CHECK as the
//! enforcement. PostgreSQL 18 can add the NOT NULL constraint itself NOT VALID and validate it later.

use super::{Probe, Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{ConstraintKind, LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "C08",
    name: "set-not-null",
    summary: "SET NOT NULL scans the table under ACCESS EXCLUSIVE",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Scan,
    breaks_app: true,
    versions: "12+: a validated CHECK (col IS NOT NULL) lets SET NOT NULL skip the scan; 18+: NOT NULL … NOT VALID",
    strategy: "CHECK NOT VALID, VALIDATE, SET NOT NULL (no scan), drop the CHECK",
    risk: Risk::Risky,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "UPDATE users SET email = 'x' WHERE email IS NULL", sql: "ALTER TABLE users ALTER COLUMN email SET NOT NULL", table: "users" }),
};

/// True when the table already has a validated CHECK that implies `col IS NOT NULL`: the expression
/// itself, or one of the terms of a top-level AND (PostgreSQL's implication test then skips the scan).
pub(crate) fn proven_by_check(ctx: &RuleCtx<'_>, column: &str) -> bool {
    let wanted = format!("{} IS NOT NULL", crate::model::quote_ident(column));
    ctx.table.is_some_and(|t| {
        t.constraints.iter().any(|c| {
            c.validated && matches!(&c.kind, ConstraintKind::Check { expr } if conjuncts(expr).iter().any(|term| *term == wanted))
        })
    })
}

/// `(a) AND (b AND c)` → [`a`, `b`, `c`]: the terms of top-level ANDs, each without enclosing parentheses.
fn conjuncts(expr: &str) -> Vec<&str> {
    let expr = strip_parens(expr.trim());
    let mut depth = 0usize;
    let mut quoted = false;
    let bytes = expr.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\'' | b'"' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth = depth.saturating_sub(1),
            b' ' if !quoted && depth == 0 && expr[i..].starts_with(" AND ") => {
                let mut out = conjuncts(&expr[..i]);
                out.extend(conjuncts(&expr[i + 5..]));
                return out;
            }
            _ => {}
        }
    }
    vec![expr]
}

/// Removes parentheses that enclose the whole expression: `((a))` → `a`, but `(a) OR (b)` stays.
fn strip_parens(mut expr: &str) -> &str {
    while expr.starts_with('(') && expr.ends_with(')') {
        let mut depth = 0usize;
        let closes_at_end = expr.char_indices().all(|(i, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            depth > 0 || i == expr.len() - 1
        });
        if !closes_at_end {
            break;
        }
        expr = expr[1..expr.len() - 1].trim();
    }
    expr
}

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::SetNotNull { table, column } = &op.kind else {
            return None;
        };
        if ctx.table_is_new() || ctx.table.and_then(|t| t.column(column)).is_some_and(|c| c.not_null) {
            return None;
        }
        if ctx.pg.0 >= 12 && proven_by_check(ctx, column) {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Risky,
            Strategy::NotNullViaCheck,
            format!("SET NOT NULL on {} scans {table} under ACCESS EXCLUSIVE", ctx.describe(table, column)),
            "CHECK (… IS NOT NULL) NOT VALID, VALIDATE in its own step, then SET NOT NULL without a scan".into(),
        ))
    }
}
