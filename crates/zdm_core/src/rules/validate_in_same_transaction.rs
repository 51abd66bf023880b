//! # validate-in-same-transaction (K07)
//!
//! **What it detects:** `VALIDATE CONSTRAINT` in the same change as the `ADD CONSTRAINT … NOT VALID` it validates.
//!
//! **Why it's risky:** in one transaction the ACCESS EXCLUSIVE (or SHARE ROW EXCLUSIVE) taken by ADD is still held while VALIDATE scans: the NOT VALID split buys nothing.
//!
//! **Safe strategy:** VALIDATE in a separate migration. zdm puts it in its own file and transaction.
//!
//! **Version notes:** all versions.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "K07",
    name: "validate-in-same-transaction",
    summary: "NOT VALID and VALIDATE in one transaction hold the ADD lock through the scan",
    lock: LockLevel::AccessExclusive,
    rewrite: Rewrite::Scan,
    breaks_app: false,
    versions: "all versions",
    strategy: "VALIDATE in its own migration / transaction",
    risk: Risk::Risky,
    autofix: true,
    advisory: false,
    probe: None,
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::ValidateConstraint { table, name } = &op.kind else { return None };
        let added_here = ctx.before().iter().any(|o| {
            matches!(&o.kind, OpKind::AddConstraint { table: t, constraint } if t == table && constraint.not_valid
                && crate::schema::constraint_name_of(t, constraint) == *name)
        });
        added_here.then(|| {
            finding(
                &META,
                op,
                Risk::Info,
                Strategy::SeparateTransaction,
                format!("VALIDATE {name} follows its ADD … NOT VALID: zdm runs it in its own transaction"),
                "keep VALIDATE in a separate migration".into(),
            )
        })
    }
}
