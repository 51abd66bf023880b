//! # create-trigger (G01)
//!
//! **What it detects:** `CREATE TRIGGER` on an existing table.
//!
//! **Why it's risky:** SHARE ROW EXCLUSIVE blocks writes; brief once granted, but while it waits in the lock queue every later write waits too.
//!
//! **Safe strategy:** run it with a lock_timeout and retry; zdm sets one on every step.
//!
//! **Version notes:** all versions.

use super::{Finding, Probe, RuleCtx, RuleMeta, Strategy, finding};
use crate::model::{LockLevel, Rewrite, Risk};
use crate::op::{Op, OpKind};

pub(super) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "G01",
    name: "create-trigger",
    summary: "CREATE TRIGGER takes SHARE ROW EXCLUSIVE: writes wait while it is queued",
    lock: LockLevel::ShareRowExclusive,
    rewrite: Rewrite::None,
    breaks_app: false,
    versions: "all versions",
    strategy: "run with lock_timeout (zdm sets it); this is also the cost of zdm's own sync triggers",
    risk: Risk::Info,
    autofix: false,
    advisory: false,
    probe: Some(Probe { setup: "CREATE FUNCTION probe_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$", sql: "CREATE TRIGGER probe_trg BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION probe_noop()", table: "users" }),
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding> {
        let OpKind::CreateTrigger { table, name } = &op.kind else { return None };
        if ctx.table_is_new() { return None; }
        Some(finding(&META, op, Risk::Info, Strategy::AsWritten, format!("trigger {name} blocks writes to {table} while it waits for its lock"), "lock_timeout is set: retry on timeout".into()))
    }
}
