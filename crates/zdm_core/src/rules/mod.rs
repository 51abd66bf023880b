//! The classification catalogue. One rule per file; each states the lock it takes, whether it rewrites
//! or scans, whether running code breaks, the versions where that changes and the safe strategy, and
//! decides for one operation whether it applies. Rules never know about migration tools; the planner
//! turns the [`Strategy`] a finding names into steps. Imports `model`, `op` and `schema`.
//!
//! Adding a rule: one file here and one line in [`RULES`].

mod add_check;
mod add_column_required;
mod add_column_rewrite;
mod add_column_volatile_default;
mod add_exclusion;
mod add_foreign_key;
mod add_primary_key;
mod add_unique;
mod change_column_type;
mod create_index;
mod drop_column;
mod drop_constraint;
mod drop_index;
mod drop_not_null;
mod drop_table;
mod large_update;
mod rename_column;
mod rename_table;
mod set_not_null;
mod unknown_statement;
mod volatility;
mod volatility_table;

pub use volatility::{Volatility, volatility_of};

use crate::model::{LockLevel, PgVersion, Pos, Rewrite, Risk, Schema, Table, TableStats};
use crate::op::{Op, OpKind};
use serde::Serialize;

/// What a rule says about itself: the facts behind its findings and its documentation.
#[derive(Debug, Serialize)]
pub struct RuleMeta {
    /// Catalogue ID (`C08`), stable across releases.
    pub id: &'static str,
    /// Kebab-case name of the risky pattern (`set-not-null`).
    pub name: &'static str,
    /// One line: what it detects.
    pub summary: &'static str,
    /// Lock the operation takes when run as written.
    pub lock: LockLevel,
    /// Rewrite / scan behaviour when run as written.
    pub rewrite: Rewrite,
    /// Whether application code that is still running breaks.
    pub breaks_app: bool,
    /// Version notes.
    pub versions: &'static str,
    /// The safe strategy, in one line.
    pub strategy: &'static str,
}

/// The staged recipe the planner should use for an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Run the statement as written (it is safe, or nothing better exists).
    AsWritten,
    /// `CREATE INDEX CONCURRENTLY`, alone, outside a transaction.
    ConcurrentIndex,
    /// `DROP INDEX CONCURRENTLY`, alone, outside a transaction.
    ConcurrentDropIndex,
    /// CHECK (col IS NOT NULL) NOT VALID → VALIDATE → SET NOT NULL → drop the CHECK.
    NotNullViaCheck,
    /// ADD CONSTRAINT … NOT VALID, then VALIDATE CONSTRAINT in a later step.
    NotValidThenValidate,
    /// Unique index built concurrently, then ADD CONSTRAINT … USING INDEX.
    ConstraintUsingIndex,
    /// Add the column nullable, backfill, deploy writers, then enforce NOT NULL.
    AddColumnStaged,
    /// New column + sync trigger, batched copy, code deploy, drop the old column.
    RenameColumnExpandContract,
    /// New column of the new type + sync trigger, batched cast copy, swap names.
    ChangeTypeExpandContract,
    /// Code stops using it first; drop in a later deploy.
    DropAfterDeploy,
    /// Key-range batches, each its own transaction, with a pause.
    BatchedUpdate,
}

/// One thing a rule found about one operation.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// The rule's ID.
    pub rule: &'static str,
    /// The rule's name.
    pub name: &'static str,
    /// How bad it is in this context.
    pub risk: Risk,
    /// What is wrong, naming the object, the lock and the cost.
    pub message: String,
    /// What zdm does about it (or what to do).
    pub help: String,
    /// The recipe the planner should use.
    pub strategy: Strategy,
    /// Where the statement is in the change.
    pub pos: Pos,
}

/// What a rule may look at besides the operation.
pub struct RuleCtx<'a> {
    /// The schema just before this operation.
    pub schema: &'a Schema,
    /// The operation's table as it is just before the operation (None when absent or unknown).
    pub table: Option<&'a Table>,
    /// Target PostgreSQL version.
    pub pg: PgVersion,
    /// Live weight of the table, when known.
    pub stats: Option<&'a TableStats>,
    /// Every operation of the change, in order (for rules that look for a companion statement).
    pub change: &'a [Op],
}

impl RuleCtx<'_> {
    /// True when the table is new in this change or known to be empty: no staged path is needed.
    #[must_use]
    pub fn table_is_new(&self) -> bool {
        self.table.is_some_and(|t| t.created_in_change) || self.stats.is_some_and(|s| s.rows == 0)
    }

    /// `schema.table.column` for messages.
    #[must_use]
    pub fn describe(&self, table: &crate::model::QName, column: &str) -> String {
        format!("{}.{column}", table.key())
    }
}

/// A classification rule.
pub trait Rule: Sync {
    /// The rule's facts and docs.
    fn meta(&self) -> &'static RuleMeta;
    /// The finding for `op`, if the rule applies to it.
    fn check(&self, op: &Op, ctx: &RuleCtx<'_>) -> Option<Finding>;
}

/// Builds a finding from a rule's metadata.
pub(crate) fn finding(
    meta: &'static RuleMeta,
    op: &Op,
    risk: Risk,
    strategy: Strategy,
    message: String,
    help: String,
) -> Finding {
    Finding {
        rule: meta.id,
        name: meta.name,
        risk,
        message,
        help,
        strategy,
        pos: op.pos,
    }
}

/// Every rule, in catalogue order. This is the only registration point.
pub static RULES: &[&dyn Rule] = &[
    &add_column_volatile_default::Rule,
    &add_column_rewrite::Rule,
    &add_column_required::Rule,
    &set_not_null::Rule,
    &drop_not_null::Rule,
    &change_column_type::Rule,
    &rename_column::Rule,
    &drop_column::Rule,
    &add_check::Rule,
    &add_foreign_key::Rule,
    &add_unique::Rule,
    &add_primary_key::Rule,
    &add_exclusion::Rule,
    &drop_constraint::Rule,
    &create_index::Rule,
    &drop_index::Rule,
    &drop_table::Rule,
    &rename_table::Rule,
    &large_update::Rule,
    &unknown_statement::Rule,
];

/// The rule with this ID or name.
#[must_use]
pub fn rule(id_or_name: &str) -> Option<&'static dyn Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.meta().id.eq_ignore_ascii_case(id_or_name) || r.meta().name == id_or_name)
}

/// The lock and rewrite an operation takes as written, before any rule looks at it.
#[must_use]
pub fn base_effect(kind: &OpKind) -> (LockLevel, Rewrite) {
    use LockLevel as L;
    match kind {
        OpKind::CreateTable { .. }
        | OpKind::CreateEnum { .. }
        | OpKind::Catalog { .. }
        | OpKind::Transaction { .. } => (L::None, Rewrite::None),
        OpKind::CreateView { .. } => (L::AccessExclusive, Rewrite::None),
        OpKind::CreateIndex(spec) if spec.concurrently => (L::ShareUpdateExclusive, Rewrite::Build),
        OpKind::CreateIndex(_) => (L::Share, Rewrite::Build),
        OpKind::DropIndex {
            concurrently: true, ..
        } => (L::ShareUpdateExclusive, Rewrite::None),
        OpKind::ValidateConstraint { .. } => (L::ShareUpdateExclusive, Rewrite::Scan),
        OpKind::AddConstraint { constraint, .. } => match constraint.kind {
            crate::model::ConstraintKind::ForeignKey { .. } => (
                L::ShareRowExclusive,
                if constraint.not_valid {
                    Rewrite::None
                } else {
                    Rewrite::Scan
                },
            ),
            _ if constraint.not_valid || constraint.using_index.is_some() => {
                (L::AccessExclusive, Rewrite::None)
            }
            crate::model::ConstraintKind::Check { .. } => (L::AccessExclusive, Rewrite::Scan),
            _ => (L::AccessExclusive, Rewrite::Build),
        },
        OpKind::SetNotNull { .. } => (L::AccessExclusive, Rewrite::Scan),
        OpKind::Update { .. } => (L::RowExclusive, Rewrite::Rows),
        OpKind::Other { .. } => (L::AccessExclusive, Rewrite::None),
        OpKind::DropTable { .. }
        | OpKind::RenameTable { .. }
        | OpKind::AddColumn { .. }
        | OpKind::DropColumn { .. }
        | OpKind::RenameColumn { .. }
        | OpKind::AlterColumnType { .. }
        | OpKind::DropNotNull { .. }
        | OpKind::SetDefault { .. }
        | OpKind::DropDefault { .. }
        | OpKind::DropConstraint { .. }
        | OpKind::DropIndex { .. } => (L::AccessExclusive, Rewrite::None),
    }
}

/// Runs every rule on `op`; findings come most severe first.
#[must_use]
pub fn check_all(op: &Op, ctx: &RuleCtx<'_>) -> Vec<Finding> {
    let mut findings: Vec<Finding> = RULES.iter().filter_map(|r| r.check(op, ctx)).collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.risk.severity()));
    findings
}

/// The metadata of the rule a finding came from.
#[must_use]
pub fn meta_of(f: &Finding) -> &'static RuleMeta {
    rule(f.rule)
        .map(Rule::meta)
        .expect("findings carry a registered rule id")
}
