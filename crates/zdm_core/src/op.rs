//! Operations: what one statement of a change does, in zdm's own terms. The parser's AST never leaves
//! `sql`; everything downstream sees these plain values. Imports only `model`.

use crate::model::{ConstraintKind, LockLevel, Pos, QName};
use serde::Serialize;

/// One parsed statement of the change, split into the operations it performs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Statement {
    /// The statement's text as written (no trailing semicolon).
    pub sql: String,
    /// Where the statement starts in the change text.
    pub pos: Pos,
    /// What it does; an `ALTER TABLE` with several actions gives several operations.
    pub ops: Vec<Op>,
}

/// One operation: a single action on one object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Op {
    /// SQL for this operation alone (for a multi-action ALTER TABLE, the one action re-rendered).
    pub sql: String,
    /// Where its statement starts in the change text.
    pub pos: Pos,
    /// What it does.
    pub kind: OpKind,
}

impl Op {
    /// True for statements PostgreSQL refuses inside a transaction block (CONCURRENTLY, VACUUM, REINDEX
    /// SCHEMA / SYSTEM / DATABASE): they must
    /// run alone, outside one.
    #[must_use]
    pub fn runs_outside_transaction(&self) -> bool {
        let upper = self.sql.to_uppercase();
        matches!(self.kind, OpKind::CreateIndex(IndexSpec { concurrently: true, .. }) | OpKind::DropIndex { concurrently: true, .. })
            || matches!(&self.kind, OpKind::Reindex { object, .. } if matches!(object.as_str(), "SCHEMA" | "SYSTEM" | "DATABASE"))
            || upper.starts_with("VACUUM")
            || upper.contains(" CONCURRENTLY")
    }
}

/// How a generated or identity column is produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Generated {
    /// GENERATED ALWAYS AS (…) STORED.
    Stored,
    /// GENERATED ALWAYS AS (…) VIRTUAL (PostgreSQL 18).
    Virtual,
    /// GENERATED … AS IDENTITY.
    Identity,
}

/// A column as written in CREATE TABLE or ADD COLUMN.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnSpec {
    /// Column name.
    pub name: String,
    /// Type as SQL text.
    pub type_sql: String,
    /// Last part of the type name, lower case (`varchar`, `int4`, `serial`, `json`).
    pub type_name: String,
    /// NOT NULL (or PRIMARY KEY) was written.
    pub not_null: bool,
    /// DEFAULT expression as SQL text.
    pub default: Option<String>,
    /// Names of the functions the default calls (lower case, unqualified), for volatility.
    pub default_calls: Vec<String>,
    /// Inline PRIMARY KEY.
    pub primary_key: bool,
    /// Inline UNIQUE.
    pub unique: bool,
    /// Inline REFERENCES target.
    pub references: Option<QName>,
    /// Inline CHECK expression.
    pub check: Option<String>,
    /// Generated or identity column.
    pub generated: Option<Generated>,
    /// `GENERATED ALWAYS AS IDENTITY` (rather than BY DEFAULT).
    pub identity_always: bool,
    /// Columns a `GENERATED ALWAYS AS (…)` expression reads.
    pub generated_reads: Vec<String>,
    /// The full column definition as SQL (`name type constraints…`).
    pub definition: String,
}

/// A table constraint as written in ADD CONSTRAINT or CREATE TABLE.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConstraintSpec {
    /// Name, when written.
    pub name: Option<String>,
    /// What it constrains.
    pub kind: ConstraintKind,
    /// NOT VALID was written.
    pub not_valid: bool,
    /// `USING INDEX name` was written.
    pub using_index: Option<String>,
    /// Definition without the name and without NOT VALID (`FOREIGN KEY (a) REFERENCES t (id)`).
    pub definition: String,
}

/// A CREATE INDEX statement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IndexSpec {
    /// Name, when written.
    pub name: Option<String>,
    /// Indexed table.
    pub table: QName,
    /// UNIQUE.
    pub unique: bool,
    /// CONCURRENTLY.
    pub concurrently: bool,
    /// IF NOT EXISTS.
    pub if_not_exists: bool,
    /// ON ONLY (partitioned parent).
    pub only: bool,
    /// Plain columns the index uses (expression columns contribute the columns they mention).
    pub columns: Vec<String>,
    /// Everything after `ON`: `users USING btree (email) WHERE …`.
    pub body: String,
}

/// An ALTER TABLE action that is not about a column's definition or a constraint.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum TableAction {
    /// SET LOGGED.
    SetLogged,
    /// SET UNLOGGED.
    SetUnlogged,
    /// SET ACCESS METHOD.
    SetAccessMethod,
    /// SET TABLESPACE.
    SetTablespace,
    /// REPLICA IDENTITY.
    ReplicaIdentity,
    /// ENABLE / DISABLE / FORCE / NO FORCE ROW LEVEL SECURITY.
    RowSecurity {
        /// The words written, e.g. `ENABLE`.
        mode: String,
    },
    /// ATTACH PARTITION.
    AttachPartition {
        /// The partition.
        partition: QName,
    },
    /// DETACH PARTITION.
    DetachPartition {
        /// The partition.
        partition: QName,
        /// CONCURRENTLY.
        concurrently: bool,
    },
    /// ALTER COLUMN … SET EXPRESSION AS (PostgreSQL 17).
    SetExpression {
        /// Column.
        column: String,
    },
    /// SET ( storage parameters ), ALTER COLUMN SET STATISTICS / SET ( attribute options ).
    Parameters,
    /// Anything else, by the parser's name.
    Other {
        /// The action in words, e.g. `ENABLE TRIG`.
        words: String,
    },
}

impl TableAction {
    /// The action in SQL words (`SET LOGGED`, `DETACH PARTITION p`).
    #[must_use]
    pub fn words(&self) -> String {
        match self {
            TableAction::SetLogged => "SET LOGGED".into(),
            TableAction::SetUnlogged => "SET UNLOGGED".into(),
            TableAction::SetAccessMethod => "SET ACCESS METHOD".into(),
            TableAction::SetTablespace => "SET TABLESPACE".into(),
            TableAction::ReplicaIdentity => "REPLICA IDENTITY".into(),
            TableAction::RowSecurity { mode } => format!("{mode} ROW LEVEL SECURITY"),
            TableAction::AttachPartition { partition } => format!("ATTACH PARTITION {partition}"),
            TableAction::DetachPartition { partition, .. } => format!("DETACH PARTITION {partition}"),
            TableAction::SetExpression { column } => format!("ALTER COLUMN {column} SET EXPRESSION"),
            TableAction::Parameters => "SET (parameters)".into(),
            TableAction::Other { words } => words.clone(),
        }
    }
}

/// An assignment `column = expression` of an UPDATE.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assignment {
    /// Target column.
    pub column: String,
    /// Expression SQL.
    pub expr: String,
    /// What the expression reads.
    pub reads: ExprReads,
}

/// What an expression reads: columns, functions and tables (through subqueries).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExprReads {
    /// Column names it mentions (last part, also inside subqueries), sorted.
    pub columns: Vec<String>,
    /// Functions it calls (lower case, unqualified), sorted; SQL value functions count as `now`.
    pub calls: Vec<String>,
    /// Keys of the tables its subqueries read, sorted.
    pub tables: Vec<String>,
}

/// One table a data change writes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DataWrite {
    /// `INSERT`, `DELETE`, `MERGE` or `UPDATE`.
    pub verb: String,
    /// The table.
    pub table: QName,
    /// A DELETE with no WHERE (every row goes).
    pub all_rows: bool,
    /// An INSERT of constant rows (`VALUES (…)`, no SELECT, no ON CONFLICT DO UPDATE).
    pub seed: bool,
}

/// What an operation does.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "op")]
pub enum OpKind {
    /// CREATE TABLE.
    CreateTable {
        /// New table.
        table: QName,
        /// Columns.
        columns: Vec<ColumnSpec>,
        /// Table constraints.
        constraints: Vec<ConstraintSpec>,
        /// IF NOT EXISTS.
        if_not_exists: bool,
        /// PARTITION BY was written.
        partitioned: bool,
        /// `PARTITION OF parent FOR VALUES …`: the parent and the bound clause as SQL.
        partition_of: Option<(QName, String)>,
        /// INHERITS / PARTITION OF parents: their columns come first.
        inherits: Vec<QName>,
        /// LIKE or OF type: columns zdm does not see.
        like: bool,
    },
    /// DROP TABLE of one table.
    DropTable {
        /// Dropped table.
        table: QName,
        /// IF EXISTS.
        if_exists: bool,
        /// CASCADE.
        cascade: bool,
    },
    /// ALTER TABLE … RENAME TO.
    RenameTable {
        /// Old name.
        table: QName,
        /// New name.
        to: String,
    },
    /// ALTER TABLE … ADD COLUMN.
    AddColumn {
        /// Table.
        table: QName,
        /// New column.
        column: ColumnSpec,
        /// IF NOT EXISTS.
        if_not_exists: bool,
    },
    /// ALTER TABLE … DROP COLUMN.
    DropColumn {
        /// Table.
        table: QName,
        /// Column.
        column: String,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// ALTER TABLE … RENAME COLUMN.
    RenameColumn {
        /// Table.
        table: QName,
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// ALTER TABLE … ALTER COLUMN … TYPE.
    AlterColumnType {
        /// Table.
        table: QName,
        /// Column.
        column: String,
        /// New type SQL.
        type_sql: String,
        /// Last part of the new type's name, lower case.
        type_name: String,
        /// USING expression, when written.
        using: Option<String>,
    },
    /// ALTER TABLE … ALTER COLUMN … SET NOT NULL.
    SetNotNull {
        /// Table.
        table: QName,
        /// Column.
        column: String,
    },
    /// ALTER TABLE … ALTER COLUMN … DROP NOT NULL.
    DropNotNull {
        /// Table.
        table: QName,
        /// Column.
        column: String,
    },
    /// ALTER TABLE … ALTER COLUMN … SET DEFAULT.
    SetDefault {
        /// Table.
        table: QName,
        /// Column.
        column: String,
        /// Default SQL.
        expr: String,
    },
    /// ALTER TABLE … ALTER COLUMN … DROP DEFAULT.
    DropDefault {
        /// Table.
        table: QName,
        /// Column.
        column: String,
    },
    /// ALTER TABLE … ADD CONSTRAINT (or ADD PRIMARY KEY / UNIQUE / CHECK / FOREIGN KEY).
    AddConstraint {
        /// Table.
        table: QName,
        /// The constraint.
        constraint: ConstraintSpec,
    },
    /// ALTER TABLE … VALIDATE CONSTRAINT.
    ValidateConstraint {
        /// Table.
        table: QName,
        /// Constraint name.
        name: String,
    },
    /// ALTER TABLE … DROP CONSTRAINT.
    DropConstraint {
        /// Table.
        table: QName,
        /// Constraint name.
        name: String,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// CREATE INDEX.
    CreateIndex(IndexSpec),
    /// DROP INDEX of one index.
    DropIndex {
        /// Index name.
        name: QName,
        /// CONCURRENTLY.
        concurrently: bool,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// CREATE TYPE … AS ENUM.
    CreateEnum {
        /// Type name.
        name: QName,
        /// Labels.
        values: Vec<String>,
    },
    /// CREATE [OR REPLACE] VIEW.
    CreateView {
        /// View name.
        name: QName,
        /// Keys of the tables it reads.
        tables: Vec<String>,
        /// Columns it mentions.
        columns: Vec<String>,
        /// OR REPLACE.
        replace: bool,
    },
    /// UPDATE of a table (a data change).
    Update {
        /// Updated table.
        table: QName,
        /// SET list.
        assignments: Vec<Assignment>,
        /// WHERE clause SQL.
        filter: Option<String>,
        /// What the WHERE clause reads.
        filter_reads: ExprReads,
        /// No FROM, WITH, RETURNING or WHERE CURRENT OF: can be rewritten as key-range batches.
        batchable: bool,
    },
    /// ALTER TABLE actions beyond columns and constraints.
    AlterAction {
        /// Table.
        table: QName,
        /// What it does.
        action: TableAction,
    },
    /// REINDEX.
    Reindex {
        /// Index, table, schema or database name.
        target: QName,
        /// `INDEX`, `TABLE`, `SCHEMA`, `DATABASE` or `SYSTEM`.
        object: String,
        /// CONCURRENTLY.
        concurrently: bool,
    },
    /// VACUUM (FULL) or CLUSTER.
    Vacuum {
        /// VACUUM FULL or CLUSTER: rewrites under ACCESS EXCLUSIVE.
        rewrites: bool,
        /// `VACUUM FULL` or `CLUSTER`, as written.
        what: String,
        /// Tables named (empty: every table).
        tables: Vec<QName>,
    },
    /// TRUNCATE.
    Truncate {
        /// Tables.
        tables: Vec<QName>,
        /// CASCADE.
        cascade: bool,
    },
    /// DROP SCHEMA / DROP DATABASE.
    DropNamespace {
        /// `SCHEMA` or `DATABASE`.
        what: String,
        /// Name.
        name: String,
    },
    /// ALTER SCHEMA … RENAME TO.
    RenameSchema {
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// DROP SEQUENCE.
    DropSequence {
        /// Sequence.
        name: QName,
    },
    /// ALTER TYPE … ADD VALUE.
    AddEnumValue {
        /// Enum type.
        name: QName,
        /// New label.
        value: String,
        /// BEFORE / AFTER was written.
        positioned: bool,
        /// The statement with IF NOT EXISTS, so running it again is harmless.
        idempotent_sql: String,
    },
    /// ALTER TYPE … RENAME VALUE.
    RenameEnumValue {
        /// Enum type.
        name: QName,
        /// Old label.
        from: String,
        /// New label.
        to: String,
    },
    /// CREATE DOMAIN.
    CreateDomain {
        /// Domain.
        name: QName,
        /// Number of CHECK constraints.
        checks: usize,
    },
    /// ALTER DOMAIN … ADD CONSTRAINT.
    AddDomainConstraint {
        /// Domain.
        domain: QName,
        /// Constraint name, when written.
        name: Option<String>,
        /// Definition without name and NOT VALID.
        definition: String,
        /// NOT VALID.
        not_valid: bool,
    },
    /// CREATE TRIGGER.
    CreateTrigger {
        /// Table.
        table: QName,
        /// Trigger name.
        name: String,
    },
    /// CREATE / ALTER / DROP EXTENSION.
    Extension {
        /// `CREATE`, `ALTER` or `DROP`.
        action: String,
        /// Extension name.
        name: String,
    },
    /// Row-level security policies and privileges (CREATE/ALTER/DROP POLICY, GRANT, REVOKE).
    Security {
        /// What it is.
        what: String,
        /// The table, for policies.
        table: Option<QName>,
    },
    /// A DO block: arbitrary code zdm cannot see into.
    DoBlock,
    /// A statement that takes no lock on existing tables' data (comments, functions, extensions, grants…).
    Catalog {
        /// What it is, e.g. `COMMENT`.
        what: String,
    },
    /// BEGIN / COMMIT / ROLLBACK written in the change: zdm sets transactions itself.
    Transaction {
        /// The statement keyword.
        what: String,
    },
    /// INSERT, DELETE or MERGE, or any statement whose WITH clause writes (a data change). A plain UPDATE
    /// is [`OpKind::Update`].
    DataChange {
        /// Every table written, with its verb (`INSERT`, `DELETE`, `MERGE`, `UPDATE`), in statement order.
        writes: Vec<DataWrite>,
    },
    /// LOCK TABLE.
    LockTable {
        /// Tables locked.
        tables: Vec<QName>,
        /// The mode written (ACCESS EXCLUSIVE when none is).
        mode: LockLevel,
    },
    /// CREATE TABLE … AS, SELECT … INTO: a new table filled by a query.
    CreateTableAs {
        /// The new table.
        table: QName,
        /// Tables the query reads.
        reads: Vec<QName>,
        /// IF NOT EXISTS.
        if_not_exists: bool,
    },
    /// ALTER TABLE … RENAME CONSTRAINT.
    RenameConstraint {
        /// Table.
        table: QName,
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// DROP VIEW / MATERIALIZED VIEW / TYPE / DOMAIN / FUNCTION / PROCEDURE / TRIGGER / RULE … of one object.
    DropObject {
        /// The object kind in SQL words (`VIEW`, `TYPE`, `FUNCTION`, `TRIGGER`…).
        what: String,
        /// The object (for a function: its name, without the argument list).
        name: QName,
        /// The table a trigger, rule or policy is on.
        on: Option<QName>,
        /// CASCADE.
        cascade: bool,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// A SELECT that is not a plain read: row locks (FOR UPDATE / SHARE) or functions with side effects.
    Select {
        /// Tables whose rows a locking clause locks (FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE).
        locked: Vec<QName>,
        /// Lower-case names of every function it calls.
        calls: Vec<String>,
    },
    /// SET / RESET of a run-time setting.
    Setting {
        /// Setting name, lower case.
        name: String,
        /// The value as written (unquoted, lower case); None for RESET / DEFAULT.
        value: Option<String>,
    },
    /// COMMENT ON.
    Comment {
        /// The object kind in SQL words (`TABLE`, `COLUMN`, `INDEX`, `FUNCTION`…).
        what: String,
        /// The table (or view, index…) the comment is on, for objects that are relations or their columns.
        table: Option<QName>,
    },
    /// Anything zdm does not model.
    Other {
        /// The parser's name for the statement or action.
        what: String,
        /// The table it touches, when known.
        table: Option<QName>,
    },
}

impl OpKind {
    /// The table the operation acts on, when it acts on one.
    #[must_use]
    pub fn table(&self) -> Option<&QName> {
        match self {
            OpKind::CreateTable { table, .. }
            | OpKind::DropTable { table, .. }
            | OpKind::RenameTable { table, .. }
            | OpKind::AddColumn { table, .. }
            | OpKind::DropColumn { table, .. }
            | OpKind::RenameColumn { table, .. }
            | OpKind::AlterColumnType { table, .. }
            | OpKind::SetNotNull { table, .. }
            | OpKind::DropNotNull { table, .. }
            | OpKind::SetDefault { table, .. }
            | OpKind::DropDefault { table, .. }
            | OpKind::AddConstraint { table, .. }
            | OpKind::ValidateConstraint { table, .. }
            | OpKind::DropConstraint { table, .. }
            | OpKind::Update { table, .. }
            | OpKind::AlterAction { table, .. }
            | OpKind::CreateTrigger { table, .. } => Some(table),
            OpKind::Truncate { tables, .. } | OpKind::Vacuum { tables, .. } => tables.first(),
            OpKind::Reindex { target, object, .. } if object == "TABLE" => Some(target),
            OpKind::Security { table, .. } => table.as_ref(),
            OpKind::CreateIndex(spec) => Some(&spec.table),
            OpKind::Other { table, .. } => table.as_ref(),
            OpKind::DataChange { writes } => writes.first().map(|w| &w.table),
            OpKind::LockTable { tables, .. } => tables.first(),
            OpKind::Select { locked, .. } => locked.first(),
            OpKind::CreateTableAs { table, .. } | OpKind::RenameConstraint { table, .. } => Some(table),
            OpKind::DropObject { on: Some(t), .. } => Some(t),
            OpKind::DropObject { what, name, .. } if what.ends_with("VIEW") => Some(name),
            OpKind::Comment { table, .. } => table.as_ref(),
            OpKind::DropObject { .. } => None,
            OpKind::Setting { .. } => None,
            OpKind::DropIndex { .. }
            | OpKind::CreateEnum { .. }
            | OpKind::CreateView { .. }
            | OpKind::Catalog { .. }
            | OpKind::Transaction { .. }
            | OpKind::Reindex { .. }
            | OpKind::DropNamespace { .. }
            | OpKind::RenameSchema { .. }
            | OpKind::DropSequence { .. }
            | OpKind::AddEnumValue { .. }
            | OpKind::RenameEnumValue { .. }
            | OpKind::CreateDomain { .. }
            | OpKind::AddDomainConstraint { .. }
            | OpKind::Extension { .. }
            | OpKind::DoBlock => None,
        }
    }

    /// A short machine name for the kind (`add_column`, `set_not_null`…), as used in JSON output.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::CreateTable { .. } => "create_table",
            OpKind::DropTable { .. } => "drop_table",
            OpKind::RenameTable { .. } => "rename_table",
            OpKind::AddColumn { .. } => "add_column",
            OpKind::DropColumn { .. } => "drop_column",
            OpKind::RenameColumn { .. } => "rename_column",
            OpKind::AlterColumnType { .. } => "alter_column_type",
            OpKind::SetNotNull { .. } => "set_not_null",
            OpKind::DropNotNull { .. } => "drop_not_null",
            OpKind::SetDefault { .. } => "set_default",
            OpKind::DropDefault { .. } => "drop_default",
            OpKind::AddConstraint { .. } => "add_constraint",
            OpKind::ValidateConstraint { .. } => "validate_constraint",
            OpKind::DropConstraint { .. } => "drop_constraint",
            OpKind::CreateIndex(_) => "create_index",
            OpKind::DropIndex { .. } => "drop_index",
            OpKind::CreateEnum { .. } => "create_enum",
            OpKind::CreateView { .. } => "create_view",
            OpKind::Update { .. } => "update",
            OpKind::AlterAction { .. } => "alter_table_action",
            OpKind::Reindex { .. } => "reindex",
            OpKind::Vacuum { .. } => "vacuum",
            OpKind::Truncate { .. } => "truncate",
            OpKind::DropNamespace { .. } => "drop_namespace",
            OpKind::RenameSchema { .. } => "rename_schema",
            OpKind::DropSequence { .. } => "drop_sequence",
            OpKind::AddEnumValue { .. } => "add_enum_value",
            OpKind::RenameEnumValue { .. } => "rename_enum_value",
            OpKind::CreateDomain { .. } => "create_domain",
            OpKind::AddDomainConstraint { .. } => "add_domain_constraint",
            OpKind::CreateTrigger { .. } => "create_trigger",
            OpKind::Extension { .. } => "extension",
            OpKind::Security { .. } => "security",
            OpKind::DoBlock => "do_block",
            OpKind::Catalog { .. } => "catalog",
            OpKind::Transaction { .. } => "transaction",
            OpKind::DataChange { .. } => "data_change",
            OpKind::LockTable { .. } => "lock_table",
            OpKind::CreateTableAs { .. } => "create_table_as",
            OpKind::RenameConstraint { .. } => "rename_constraint",
            OpKind::DropObject { .. } => "drop_object",
            OpKind::Select { .. } => "select",
            OpKind::Setting { .. } => "setting",
            OpKind::Comment { .. } => "comment",
            OpKind::Other { .. } => "other",
        }
    }
}
