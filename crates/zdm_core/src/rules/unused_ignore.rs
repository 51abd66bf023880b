//! # unused-ignore (S11)
//!
//! **What it detects:** a `-- zdm-ignore RULE: reason` (or `-- zdm-ignore-file RULE: reason`) comment that
//! waives nothing: the rule it names does not fire on the statement it sits on (or anywhere, for the file
//! form).
//!
//! **Why it's risky:** a stale waiver hides the next real finding of that rule on that statement, and
//! tells readers a risk exists that does not.
//!
//! **Safe strategy:** delete the comment. Waivers are written `-- zdm-ignore C08, I01: reason` on the line
//! above the statement (or at the end of its first line); the reason is required, and an unknown rule ID is
//! an error.
//!
//! **Version notes:** advisory (design tier): no lock impact.

use super::{Finding, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::Op;

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "S11",
    name: "unused-ignore",
    summary: "A zdm-ignore comment that waives nothing",
    lock: LockLevel::None,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "advisory",
    strategy: "delete the comment",
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
        if ctx.unused_ignores.is_empty() {
            return None;
        }
        Some(finding(
            &META,
            op,
            Risk::Info,
            Strategy::AsWritten,
            format!("zdm-ignore {} waives nothing here", ctx.unused_ignores.join(", ")),
            "delete the stale comment".into(),
        ))
    }
}
