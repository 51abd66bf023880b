//! The classification catalogue. One rule per file; each states the lock it takes, whether it rewrites
//! or scans, whether running code breaks, the versions where that changes and the safe strategy, and
//! decides for one operation whether it applies. Rules never know about migration tools; the planner
//! turns the [`Strategy`] a finding names into steps. Imports `model`, `op` and `schema`.
//!
//! Adding a rule: one file here and one line in [`RULES`].

mod volatility;
mod volatility_table;

pub use large_update::{BatchMode, batch_mode, walk_key};
pub use volatility::{Volatility, volatility_of};

use crate::model::{LockLevel, PgVersion, Pos, Rewrite, Risk, Schema, Table, TableStats};
use crate::op::{Op, OpKind, TableAction};
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
    /// Default severity (listings, `zdm rules`).
    pub risk: Risk,
    /// Design advice (no lock impact): reported, never raises an operation's risk.
    pub advisory: bool,
    /// zdm's plan always fixes what this rule finds (timeouts, transaction splits): its findings are kept for
    /// the record but do not raise the operation's risk.
    pub autofix: bool,
    /// A statement that shows the rule's lock and rewrite on a real PostgreSQL 15 (None: not observable there).
    pub probe: Option<Probe>,
}

/// A statement to run on the test fixture (`tests/fixtures/setup.sql`) to observe a rule's lock and rewrite.
#[derive(Debug, Serialize)]
pub struct Probe {
    /// Extra setup after the fixture.
    pub setup: &'static str,
    /// The statement.
    pub sql: &'static str,
    /// The relation whose lock and relfilenode are observed.
    pub table: &'static str,
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
    /// `REINDEX … CONCURRENTLY`, alone, outside a transaction.
    ConcurrentReindex,
    /// `DETACH PARTITION … CONCURRENTLY`, alone, outside a transaction.
    ConcurrentDetach,
    /// As written, alone in a file that runs outside a transaction.
    OwnNonTransactionalFile,
    /// As written, alone in its own transaction (never merged with other statements).
    SeparateTransaction,
    /// `ALTER DOMAIN … ADD CONSTRAINT … NOT VALID`, then `VALIDATE CONSTRAINT`.
    DomainNotValid,
    /// Rename plus an updatable view under the old name; drop the view after the code deploy.
    RenameTableWithView,
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
    /// The reason of the `-- zdm-ignore` comment that waives it, if one does: a waived finding counts for
    /// nothing (risk, strategy, verdict) but stays in the JSON and the report.
    pub suppressed: Option<String>,
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
    /// Position of the operation being checked in `change`.
    pub index: usize,
    /// Facts about the whole change, computed once (so no rule rescans the change per operation).
    pub facts: &'a ChangeFacts,
    /// `-- zdm-ignore` rules on this statement that waived nothing (filled for a second pass of S11).
    pub unused_ignores: &'a [String],
    /// Places in the application's code that use the tables and columns the change touches.
    pub code_refs: &'a [crate::refs::CodeRef],
}

/// Facts about a whole change that rules would otherwise recompute for every operation.
#[derive(Debug, Default)]
pub struct ChangeFacts {
    /// The change sets `lock_timeout` itself.
    pub sets_lock_timeout: bool,
    /// First operation that sets `lock_timeout` (to something other than 0).
    pub first_lock_timeout: Option<usize>,
    /// The change sets `statement_timeout` itself.
    pub sets_statement_timeout: bool,
    /// Some operation names a table.
    pub touches_tables: bool,
    /// First operation that takes ACCESS EXCLUSIVE on a table.
    pub first_access_exclusive: Option<usize>,
    /// First operation that must run outside a transaction (CONCURRENTLY, VACUUM).
    pub first_outside_transaction: Option<usize>,
    /// Per operation: inside a BEGIN … COMMIT written in the change.
    pub in_block: Vec<bool>,
    /// Per operation: inside such a block after a statement that took ACCESS EXCLUSIVE on a table.
    pub after_lock_in_block: Vec<bool>,
    /// Per operation: how many earlier ALTER TABLE statements name the same table.
    pub earlier_alters: Vec<usize>,
    /// Per operation: a COMMIT / END / ROLLBACK follows it.
    pub closed_later: Vec<bool>,
    /// (table key, column) pairs that get SET NOT NULL in the change.
    pub set_not_null: std::collections::BTreeSet<(String, String)>,
    /// (table key, first column) of every index the change creates.
    pub indexed: std::collections::BTreeSet<(String, String)>,
    /// Table key → index of the first operation that drops it.
    pub first_drop: std::collections::BTreeMap<String, usize>,
    /// Index of the first operation that creates a table outside `public`.
    pub first_other_schema_table: Option<usize>,
    /// The schema before the change has a table outside `public` (set by the planner, which knows it).
    pub other_schemas_before: bool,
}

impl ChangeFacts {
    /// One pass over the change.
    #[must_use]
    pub fn new(change: &[Op]) -> ChangeFacts {
        ChangeFacts::new_in(change, false)
    }

    /// One pass over a change that starts inside a transaction (`open`: the migration tool wraps it in one).
    #[must_use]
    pub fn new_in(change: &[Op], open: bool) -> ChangeFacts {
        let mut f = ChangeFacts::default();
        let mut open = open;
        let mut locked = false;
        let mut alters: std::collections::BTreeMap<String, Vec<crate::model::Pos>> = std::collections::BTreeMap::new();
        for (i, op) in change.iter().enumerate() {
            let lower = op.sql.to_lowercase();
            // `SET lock_timeout = 0` (or RESET) turns the timeout off: it does not count as setting one.
            let off = matches!(&op.kind, OpKind::Setting { value, .. } if session_safety::disables(value.as_deref()));
            if lower.contains("lock_timeout") && !off {
                f.sets_lock_timeout = true;
                f.first_lock_timeout.get_or_insert(i);
            }
            f.sets_statement_timeout |= lower.contains("statement_timeout") && !off;
            f.touches_tables |= op.kind.table().is_some();
            let (lock, _) = base_effect(&op.kind);
            if lock == LockLevel::AccessExclusive && op.kind.table().is_some() && f.first_access_exclusive.is_none() {
                f.first_access_exclusive = Some(i);
            }
            if op.runs_outside_transaction() && f.first_outside_transaction.is_none() {
                f.first_outside_transaction = Some(i);
            }
            if let OpKind::Transaction { what } = &op.kind {
                match what.as_str() {
                    "BEGIN" | "START" => open = true,
                    "COMMIT" | "END" | "ROLLBACK" | "ABORT" | "COMMIT AND CHAIN" | "ROLLBACK AND CHAIN" | "END AND CHAIN"
                    | "ABORT AND CHAIN" => {
                        open = what.ends_with("CHAIN");
                        locked = false;
                    }
                    // SAVEPOINT, RELEASE and ROLLBACK TO keep the block open.
                    _ => {}
                }
            }
            f.in_block.push(open);
            f.after_lock_in_block.push(open && locked);
            locked |= open && lock == LockLevel::AccessExclusive && op.kind.table().is_some();
            let earlier = match op.kind.table() {
                Some(t) if lower.trim_start().starts_with("alter table") => {
                    // The operations of one statement are consecutive and share its position: counting
                    // statements needs only the last one seen (a scan of all of them was quadratic).
                    let seen = alters.entry(t.key()).or_default();
                    let n = seen.len() - usize::from(seen.last() == Some(&op.pos));
                    if seen.last() != Some(&op.pos) {
                        seen.push(op.pos);
                    }
                    n
                }
                _ => 0,
            };
            f.earlier_alters.push(earlier);
            match &op.kind {
                OpKind::SetNotNull { table, column } => {
                    f.set_not_null.insert((table.key(), column.clone()));
                }
                OpKind::CreateIndex(spec) => {
                    if let Some(first) = spec.columns.first() {
                        f.indexed.insert((spec.table.key(), first.clone()));
                    }
                }
                OpKind::DropTable { table, .. } => {
                    f.first_drop.entry(table.key()).or_insert(i);
                }
                OpKind::CreateTable { table, .. } if table.schema.as_deref().is_some_and(|s| s != "public") => {
                    f.first_other_schema_table.get_or_insert(i);
                }
                _ => {}
            }
        }
        let mut closed = false;
        f.closed_later = vec![false; change.len()];
        for (i, op) in change.iter().enumerate().rev() {
            f.closed_later[i] = closed;
            if matches!(&op.kind, OpKind::Transaction { what } if matches!(what.as_str(), "COMMIT" | "END" | "ROLLBACK" | "ABORT")) {
                closed = true;
            }
        }
        f
    }
}

impl RuleCtx<'_> {
    /// True when the table is new in this change or known to be empty (live statistics or a hint say 0
    /// rows; a table never analyzed is not known empty): no staged path is needed.
    #[must_use]
    pub fn table_is_new(&self) -> bool {
        self.table.is_some_and(|t| t.created_in_change) || self.stats.is_some_and(TableStats::is_empty)
    }

    /// The operations of the change before the one being checked.
    #[must_use]
    pub fn before(&self) -> &[Op] {
        &self.change[..self.index.min(self.change.len())]
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

/// The columns an operation creates (a new table's, an added one), each with its table.
pub(crate) fn new_columns(op: &Op) -> Vec<(&crate::model::QName, &crate::op::ColumnSpec)> {
    match &op.kind {
        OpKind::CreateTable { table, columns, .. } => columns.iter().map(|c| (table, c)).collect(),
        OpKind::AddColumn { table, column, .. } => vec![(table, column)],
        _ => Vec::new(),
    }
}

/// Builds a finding from a rule's metadata.
pub(crate) fn finding(meta: &'static RuleMeta, op: &Op, risk: Risk, strategy: Strategy, message: String, help: String) -> Finding {
    Finding { rule: meta.id, name: meta.name, risk, message, help, strategy, pos: op.pos, suppressed: None }
}

/// Declares every rule module and registers it, in catalogue order, in [`RULES`] (with its source, for
/// `zdm explain`). This list is the only registration point.
macro_rules! rules {
    ($($module:ident),* $(,)?) => {
        $(mod $module;)*

        /// Every rule, in catalogue order.
        pub static RULES: &[&dyn Rule] = &[$(&$module::Rule),*];

        /// Each rule's source file, in the order of [`RULES`] (its `//!` header is the rule's documentation).
        static SOURCES: &[&str] = &[$(include_str!(concat!(stringify!($module), ".rs"))),*];
    };
}

rules! {
    add_column_volatile_default,
    add_column_default_pre11,
    add_column_required,
    add_column_serial,
    add_column_identity,
    add_column_stored_generated,
    add_column_domain,
    set_not_null,
    drop_not_null,
    change_column_type,
    change_type_with_check,
    change_type_with_not_null,
    rename_column,
    drop_column,
    add_column_json,
    change_column_default,
    set_generated_expression,
    shrink_varchar,
    add_check,
    add_foreign_key,
    add_column_references,
    add_column_unique,
    add_column_check,
    add_unique,
    add_primary_key,
    add_exclusion,
    validate_in_same_transaction,
    drop_constraint,
    alter_domain_add_constraint,
    create_domain_with_check,
    validate_constraint,
    create_index,
    drop_index,
    concurrently_in_transaction,
    reindex,
    concurrent_build_pg14,
    foreign_key_without_index,
    index_many_columns,
    index_build_load,
    rename_table,
    drop_table,
    truncate_cascade,
    truncate,
    drop_namespace,
    rename_schema,
    recreate_table,
    vacuum_full,
    set_logged,
    set_access_method,
    set_tablespace,
    replica_identity,
    column_alignment,
    drop_sequence,
    data_change,
    lock_table,
    drop_view,
    drop_type_or_routine,
    select_for_update,
    side_effect_function,
    session_safety,
    create_table_as,
    rename_constraint,
    detach_partition,
    attach_partition,
    partitioned_table_ddl,
    enum_add_value_in_transaction,
    enum_value_unordered,
    enum_rename_value,
    enum_remove_or_reorder,
    create_enum,
    create_trigger,
    function_dependencies,
    extension_change,
    authorization_change,
    grant_revoke,
    unknown_statement,
    missing_lock_timeout,
    missing_statement_timeout,
    statements_after_lock,
    rewrite_under_lock,
    repeated_alter_table,
    nested_transaction,
    uncommitted_transaction,
    mixed_transaction_modes,
    non_idempotent_no_transaction,
    large_update,
    prefer_bigint_over_int,
    prefer_bigint_over_smallint,
    prefer_identity,
    prefer_text_field,
    prefer_timestamptz,
    ban_char_field,
    identifier_too_long,
    require_table_schema,
    duplicate_column_assignment,
    naming_policy,
    unused_ignore,
    code_references,
}

/// A rule's documentation: the `//!` header of its file, as Markdown.
#[must_use]
pub fn doc(rule: &dyn Rule) -> String {
    let i = RULES.iter().position(|r| r.meta().id == rule.meta().id).expect("registered rule");
    SOURCES[i]
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| l.trim_start_matches("//!").strip_prefix(' ').unwrap_or(l.trim_start_matches("//!")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The rule with this ID or name.
#[must_use]
pub fn rule(id_or_name: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.meta().id.eq_ignore_ascii_case(id_or_name) || r.meta().name == id_or_name)
}

/// The lock and rewrite an operation takes as written, before any rule looks at it.
#[must_use]
pub fn base_effect(kind: &OpKind) -> (LockLevel, Rewrite) {
    use LockLevel as L;
    match kind {
        OpKind::CreateTable { .. } | OpKind::CreateEnum { .. } | OpKind::Catalog { .. } | OpKind::Transaction { .. } => {
            (L::None, Rewrite::None)
        }
        OpKind::CreateView { .. } => (L::AccessExclusive, Rewrite::None),
        OpKind::CreateIndex(spec) if spec.concurrently => (L::ShareUpdateExclusive, Rewrite::Build),
        OpKind::CreateIndex(_) => (L::Share, Rewrite::Build),
        OpKind::DropIndex { concurrently: true, .. } => (L::ShareUpdateExclusive, Rewrite::None),
        OpKind::ValidateConstraint { .. } => (L::ShareUpdateExclusive, Rewrite::Scan),
        OpKind::AddConstraint { constraint, .. } => match constraint.kind {
            crate::model::ConstraintKind::ForeignKey { .. } => {
                (L::ShareRowExclusive, if constraint.not_valid { Rewrite::None } else { Rewrite::Scan })
            }
            _ if constraint.not_valid || constraint.using_index.is_some() => (L::AccessExclusive, Rewrite::None),
            crate::model::ConstraintKind::Check { .. } => (L::AccessExclusive, Rewrite::Scan),
            _ => (L::AccessExclusive, Rewrite::Build),
        },
        OpKind::SetNotNull { .. } => (L::AccessExclusive, Rewrite::Scan),
        OpKind::Update { .. } => (L::RowExclusive, Rewrite::Rows),
        OpKind::AlterAction { action, .. } => match action {
            TableAction::SetLogged
            | TableAction::SetUnlogged
            | TableAction::SetAccessMethod
            | TableAction::SetTablespace
            | TableAction::SetExpression { .. } => (L::AccessExclusive, Rewrite::Rewrite),
            TableAction::AttachPartition { .. } => (L::ShareUpdateExclusive, Rewrite::Scan),
            TableAction::DetachPartition { concurrently: true, .. } | TableAction::Parameters => (L::ShareUpdateExclusive, Rewrite::None),
            TableAction::ReplicaIdentity
            | TableAction::RowSecurity { .. }
            | TableAction::DetachPartition { .. }
            | TableAction::Other { .. } => (L::AccessExclusive, Rewrite::None),
        },
        OpKind::Reindex { concurrently: true, .. } => (L::ShareUpdateExclusive, Rewrite::Build),
        OpKind::Reindex { .. } => (L::Share, Rewrite::Build),
        OpKind::Vacuum { rewrites: true, .. } => (L::AccessExclusive, Rewrite::Rewrite),
        OpKind::Vacuum { .. } => (L::ShareUpdateExclusive, Rewrite::None),
        OpKind::Truncate { .. } | OpKind::DropNamespace { .. } | OpKind::RenameSchema { .. } | OpKind::DropSequence { .. } => {
            (L::AccessExclusive, Rewrite::None)
        }
        OpKind::AddEnumValue { .. } | OpKind::RenameEnumValue { .. } | OpKind::CreateDomain { .. } | OpKind::Extension { .. } => {
            (L::None, Rewrite::None)
        }
        OpKind::AddDomainConstraint { not_valid: false, .. } => (L::Share, Rewrite::Scan),
        OpKind::AddDomainConstraint { .. } => (L::Share, Rewrite::None),
        OpKind::CreateTrigger { .. } => (L::ShareRowExclusive, Rewrite::None),
        OpKind::Security { table: Some(_), .. } => (L::AccessExclusive, Rewrite::None),
        OpKind::Security { .. } => (L::None, Rewrite::None),
        OpKind::Other { .. } | OpKind::DoBlock => (L::AccessExclusive, Rewrite::None),
        OpKind::DataChange { .. } => (L::RowExclusive, Rewrite::Rows),
        OpKind::LockTable { mode, .. } => (*mode, Rewrite::None),
        OpKind::CreateTableAs { .. } => (L::AccessShare, Rewrite::Scan),
        OpKind::RenameConstraint { .. } => (L::AccessExclusive, Rewrite::None),
        // A view, trigger or rule lives on a relation; CASCADE reaches the tables that use the object.
        OpKind::DropObject { what, cascade, .. }
            if *cascade || matches!(what.as_str(), "VIEW" | "MATERIALIZED VIEW" | "TRIGGER" | "RULE") =>
        {
            (L::AccessExclusive, Rewrite::None)
        }
        OpKind::DropObject { .. } | OpKind::Setting { .. } | OpKind::Comment { table: None, .. } => (L::None, Rewrite::None),
        OpKind::Select { locked, .. } if !locked.is_empty() => (L::RowShare, Rewrite::None),
        OpKind::Select { .. } => (L::None, Rewrite::None),
        // PostgreSQL 15: SHARE UPDATE EXCLUSIVE on a commented relation or its column; ACCESS SHARE on the
        // table of a commented constraint, trigger, rule or policy.
        OpKind::Comment { what, .. } if matches!(what.as_str(), "TABCONSTRAINT" | "TRIGGER" | "RULE" | "POLICY") => {
            (L::AccessShare, Rewrite::None)
        }
        OpKind::Comment { .. } => (L::ShareUpdateExclusive, Rewrite::None),
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

/// The lock and rewrite an operation takes as written, in its context: [`base_effect`], without the scan
/// that PostgreSQL skips (SET NOT NULL proven by a validated CHECK on 12+).
#[must_use]
pub fn effect(op: &Op, ctx: &RuleCtx<'_>) -> (LockLevel, Rewrite) {
    let (lock, rewrite) = base_effect(&op.kind);
    match &op.kind {
        OpKind::SetNotNull { column, .. } if ctx.pg.0 >= 12 && set_not_null::proven_by_check(ctx, column) => (lock, Rewrite::None),
        _ => (lock, rewrite),
    }
}

/// Runs every rule on `op`; findings come most severe first.
#[must_use]
pub fn check_all(op: &Op, ctx: &RuleCtx<'_>) -> Vec<Finding> {
    let mut findings: Vec<Finding> = RULES.iter().filter_map(|r| r.check(op, ctx)).collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.risk.severity()));
    findings
}

/// True when a finding raises its operation's risk (not advisory, not something every plan fixes).
#[must_use]
pub fn counts(f: &Finding) -> bool {
    let meta = meta_of(f);
    !meta.autofix && !meta.advisory && f.suppressed.is_none()
}

/// The metadata of the rule a finding came from.
#[must_use]
pub fn meta_of(f: &Finding) -> &'static RuleMeta {
    rule(f.rule).map(Rule::meta).expect("findings carry a registered rule id")
}
