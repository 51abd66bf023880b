//! # require-table-schema (S08)
//!
//! **What it detects:** a new table not qualified with a schema.
//!
//! **Why it's risky:** which schema it lands in depends on the search_path of the session that runs the migration.
//!
//! **Safe strategy:** qualify new objects (`public.users`) when several schemas are in use.
//!
//! **Version notes:** advisory (design tier): no lock impact.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "S08",
    name: "require-table-schema",
    summary: "Objects not qualified with a schema",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "advisory",
    strategy: "qualify new objects (`public.users`) when several schemas are in use.",
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
        let OpKind::CreateTable { table, .. } = &op.kind else { return None };
        // From facts computed once: scanning every table for every CREATE TABLE was quadratic.
        let multi_schema = ctx.facts.other_schemas_before || ctx.facts.first_other_schema_table.is_some_and(|i| i < ctx.index);
        (table.schema.is_none() && multi_schema).then(|| {
            finding(&META, op, Risk::Info, Strategy::AsWritten, format!("{table} is not schema-qualified: it lands in the search_path's first schema"), "qualify it".into())
        })
    }
}
