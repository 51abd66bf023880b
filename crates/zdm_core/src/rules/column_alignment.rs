//! # column-alignment (T12)
//!
//! **What it detects:** `CREATE TABLE` whose fixed-width columns are ordered so that padding is inserted between them.
//!
//! **Why it's risky:** each row carries the padding forever: a few percent to tens of percent more disk, cache and IO.
//!
//! **Safe strategy:** order columns by alignment: 8-byte types first, then 4, 2, 1, then variable-width ones.
//!
//! **Version notes:** advisory.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "T12",
    name: "column-alignment",
    summary: "A new table whose column order wastes space on alignment padding",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "order columns from widest fixed-width to variable-width",
    risk: Risk::Info,
    autofix: false,
    advisory: true,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::CreateTable { table, columns, .. } = &op.kind else { return None };
        let _ = ctx;
        let align = |t: &str| match t {
            "int8" | "bigint" | "float8" | "timestamp" | "timestamptz" | "bigserial" | "serial8" | "money" | "time" | "interval" => 8,
            "int4" | "int" | "integer" | "float4" | "date" | "serial" | "serial4" | "oid" => 4,
            "int2" | "smallint" | "smallserial" => 2,
            "bool" | "boolean" | "char" => 1,
            _ => 0,
        };
        let fixed: Vec<u32> = columns.iter().map(|c| align(&c.type_name)).take_while(|a| *a > 0).collect();
        let padded = fixed.windows(2).any(|w| w[0] < w[1]);
        padded.then(|| {
            finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{table}: column order adds alignment padding"), "put 8-byte columns first, then 4, 2, 1, then variable-width".into())
        })
    }
}
