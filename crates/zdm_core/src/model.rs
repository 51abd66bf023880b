//! Plain data shared by every stage of the pipeline: positions, lock levels, risks, versions, the schema
//! model, operations, findings and plans. This module imports nothing else from the crate.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// A position in a piece of source text: 1-based line and column (columns count characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
}

impl Pos {
    /// The position of byte offset `offset` inside `text`.
    #[must_use]
    pub fn of_byte(text: &str, offset: usize) -> Pos {
        let offset = offset.min(text.len());
        let before = &text[..floor_char_boundary(text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Pos { line, col: before[line_start..].chars().count() + 1 }
    }

    /// The position of 0-based character index `index` inside `text`.
    #[must_use]
    pub fn of_char(text: &str, index: usize) -> Pos {
        let byte = text.char_indices().nth(index).map_or(text.len(), |(b, _)| b);
        Pos::of_byte(text, byte)
    }
}

/// Line starts of a text, for turning many byte offsets into positions without rescanning the text.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text` once.
    #[must_use]
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The position of byte offset `offset`.
    #[must_use]
    pub fn pos(&self, offset: usize) -> Pos {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        let line = self.starts.partition_point(|s| *s <= offset);
        let start = self.starts[line - 1];
        Pos { line, col: self.text[start..offset].chars().count() + 1 }
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A PostgreSQL major version (11 to 18 are the ones zdm plans for).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PgVersion(pub u32);

impl PgVersion {
    /// The version assumed when nobody says otherwise.
    pub const DEFAULT: PgVersion = PgVersion(15);
    /// Oldest version zdm plans for.
    pub const MIN: u32 = 11;
    /// Newest version zdm plans for.
    pub const MAX: u32 = 18;
}

/// PostgreSQL table-level lock modes, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LockLevel {
    /// No table lock beyond what any query takes.
    None,
    /// ACCESS SHARE (plain SELECT).
    AccessShare,
    /// ROW SHARE.
    RowShare,
    /// ROW EXCLUSIVE (INSERT, UPDATE, DELETE).
    RowExclusive,
    /// SHARE UPDATE EXCLUSIVE: reads and writes continue.
    ShareUpdateExclusive,
    /// SHARE: blocks writes.
    Share,
    /// SHARE ROW EXCLUSIVE: blocks writes.
    ShareRowExclusive,
    /// EXCLUSIVE: blocks writes and row-locking reads.
    Exclusive,
    /// ACCESS EXCLUSIVE: blocks everything, and while queued blocks every later query.
    AccessExclusive,
}

impl LockLevel {
    /// The PostgreSQL name of the lock mode.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            LockLevel::None => "no table lock",
            LockLevel::AccessShare => "ACCESS SHARE",
            LockLevel::RowShare => "ROW SHARE",
            LockLevel::RowExclusive => "ROW EXCLUSIVE",
            LockLevel::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockLevel::Share => "SHARE",
            LockLevel::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockLevel::Exclusive => "EXCLUSIVE",
            LockLevel::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// The name used in `pg_locks.mode`, e.g. `AccessExclusiveLock`.
    #[must_use]
    pub fn pg_locks_mode(self) -> Option<&'static str> {
        Some(match self {
            LockLevel::None => return None,
            LockLevel::AccessShare => "AccessShareLock",
            LockLevel::RowShare => "RowShareLock",
            LockLevel::RowExclusive => "RowExclusiveLock",
            LockLevel::ShareUpdateExclusive => "ShareUpdateExclusiveLock",
            LockLevel::Share => "ShareLock",
            LockLevel::ShareRowExclusive => "ShareRowExclusiveLock",
            LockLevel::Exclusive => "ExclusiveLock",
            LockLevel::AccessExclusive => "AccessExclusiveLock",
        })
    }
}

/// How bad an operation is when run as written on a large, live table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// No blocking lock held for long, no rewrite, compatible with running code.
    Safe,
    /// Worth knowing; no action needed.
    Info,
    /// Safe only with the staged strategy zdm writes.
    Risky,
    /// Locks or rewrites a live table, loses data, or breaks running code.
    Dangerous,
    /// zdm cannot tell; treat as risky.
    Unknown,
}

impl Risk {
    /// Ordering used to pick the headline: unknown ranks between risky and dangerous.
    #[must_use]
    pub fn severity(self) -> u8 {
        match self {
            Risk::Safe => 0,
            Risk::Info => 1,
            Risk::Risky => 2,
            Risk::Unknown => 3,
            Risk::Dangerous => 4,
        }
    }
}

/// Whether an operation rewrites the table, reads all of it under its lock, or touches only the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rewrite {
    /// Catalog only.
    None,
    /// Reads every row while the lock is held (validation).
    Scan,
    /// Builds an index over every row.
    Build,
    /// Writes a new copy of the table (new relfilenode).
    Rewrite,
    /// Touches every row through DML (an UPDATE or DELETE).
    Rows,
}

/// A schema-qualified name. `schema` is `None` when the SQL did not qualify it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct QName {
    /// Schema, when written.
    pub schema: Option<String>,
    /// Object name.
    pub name: String,
}

impl QName {
    /// An unqualified name.
    #[must_use]
    pub fn bare(name: &str) -> QName {
        QName { schema: None, name: name.to_string() }
    }

    /// The key under which the schema model stores the object (`public` is implied).
    #[must_use]
    pub fn key(&self) -> String {
        match self.schema.as_deref() {
            None | Some("public") => self.name.clone(),
            Some(s) => format!("{s}.{}", self.name),
        }
    }

    /// SQL text, each part quoted only where PostgreSQL needs it.
    #[must_use]
    pub fn sql(&self) -> String {
        match &self.schema {
            Some(s) => format!("{}.{}", quote_ident(s), quote_ident(&self.name)),
            None => quote_ident(&self.name),
        }
    }
}

impl fmt::Display for QName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// Quotes an identifier the way PostgreSQL's `quote_ident` does: only when needed.
#[must_use]
pub fn quote_ident(ident: &str) -> String {
    let plain = !ident.is_empty()
        && ident.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && ident.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !crate::sql::is_reserved_keyword(ident);
    if plain { ident.to_string() } else { format!("\"{}\"", ident.replace('"', "\"\"")) }
}

/// `$tag$body$tag$` with a tag that does not occur in `body` (`base`, then `base_1`, `base_2`…), so no
/// text inside — a user's literal, an inner dollar-quoted body — can close the quote early.
#[must_use]
pub fn dollar_quote(body: &str, base: &str) -> String {
    let tag = std::iter::once(base.to_string())
        .chain((1..).map(|i| format!("{base}_{i}")))
        .find(|t| !body.contains(&format!("${t}$")) && !body.ends_with(&format!("${t}")))
        .expect("some tag is free");
    format!("${tag}${body}${tag}$")
}

/// Quotes a string literal.
#[must_use]
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A column of the schema model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Type as SQL text (`varchar(255)`, `bigint`, `status_kind`).
    pub type_sql: String,
    /// NOT NULL is declared.
    pub not_null: bool,
    /// DEFAULT expression as SQL text.
    pub default: Option<String>,
    /// A generated or identity column (no plain writes).
    pub generated: bool,
    /// An identity column (`GENERATED … AS IDENTITY`).
    pub identity: bool,
    /// The sequence this column owns (`serial` types, `OWNED BY`), whose `nextval` is its default.
    pub sequence: Option<QName>,
    /// Columns of the same table its `GENERATED ALWAYS AS (…)` expression reads.
    pub generated_reads: Vec<String>,
}

/// The kind of a table constraint.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ConstraintKind {
    /// PRIMARY KEY (columns).
    PrimaryKey {
        /// Key columns.
        columns: Vec<String>,
    },
    /// UNIQUE (columns).
    Unique {
        /// Key columns.
        columns: Vec<String>,
    },
    /// CHECK (expression).
    Check {
        /// Expression SQL.
        expr: String,
    },
    /// FOREIGN KEY (columns) REFERENCES table (columns).
    ForeignKey {
        /// Referencing columns.
        columns: Vec<String>,
        /// Referenced table.
        ref_table: QName,
        /// Referenced columns (empty: the referenced table's primary key).
        ref_columns: Vec<String>,
    },
    /// EXCLUDE and anything else zdm does not model further.
    Other,
}

/// A named table constraint in the schema model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Constraint {
    /// Constraint name.
    pub name: String,
    /// What it constrains.
    pub kind: ConstraintKind,
    /// False for a constraint added NOT VALID and not yet validated.
    pub validated: bool,
    /// The constraint's definition as it appears after `ADD CONSTRAINT name` (SQL text).
    pub definition: String,
}

impl ConstraintKind {
    /// Columns of the constrained table the constraint names (zdm does not track a CHECK's columns).
    #[must_use]
    pub fn columns(&self) -> Vec<String> {
        match self {
            ConstraintKind::PrimaryKey { columns } | ConstraintKind::Unique { columns } | ConstraintKind::ForeignKey { columns, .. } => {
                columns.clone()
            }
            ConstraintKind::Check { .. } | ConstraintKind::Other => Vec::new(),
        }
    }
}

/// An index in the schema model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Index {
    /// Index name.
    pub name: String,
    /// Indexed table key.
    pub table: String,
    /// Plain column names the index uses (expressions contribute the columns they mention).
    pub columns: Vec<String>,
    /// UNIQUE index.
    pub unique: bool,
    /// Full `CREATE INDEX` statement (without CONCURRENTLY), used to rebuild it.
    pub definition: String,
    /// Name of the constraint the index backs, if any.
    pub constraint: Option<String>,
}

/// A table in the schema model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    /// Qualified name.
    pub name: QName,
    /// Columns in order.
    pub columns: Vec<Column>,
    /// Named constraints.
    pub constraints: Vec<Constraint>,
    /// True when the table was created by the change being planned: it is new and empty.
    pub created_in_change: bool,
    /// Declared `PARTITION BY` (a partitioned parent).
    pub partitioned: bool,
    /// A partition: its parent's key and its bound clause (`FOR VALUES FROM (…) TO (…)`).
    pub partition_of: Option<(String, String)>,
}

impl Table {
    /// The column called `name`.
    #[must_use]
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The primary key columns, when there is a primary key.
    #[must_use]
    pub fn primary_key(&self) -> Option<&[String]> {
        self.constraints.iter().find_map(|c| match &c.kind {
            ConstraintKind::PrimaryKey { columns } => Some(columns.as_slice()),
            _ => None,
        })
    }
}

/// An enum type.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EnumType {
    /// Type name.
    pub name: QName,
    /// Labels in order.
    pub values: Vec<String>,
}

/// A view, with the tables and columns its definition mentions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct View {
    /// View name.
    pub name: QName,
    /// Keys of the tables the view reads.
    pub tables: Vec<String>,
    /// Column names mentioned in the definition.
    pub columns: Vec<String>,
}

/// Where the schema facts came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SchemaSource {
    /// Nothing was found: every fact is assumed.
    Unknown,
    /// Replayed from the project's migration files.
    Migrations {
        /// Directory the files were read from.
        dir: String,
        /// Number of files replayed.
        files: usize,
    },
    /// Replayed from a schema dump (`db/schema.sql`, `structure.sql`), when there are no migrations.
    Dump {
        /// The dump file.
        path: String,
    },
    /// Read from a live database (read-only session).
    Live {
        /// Where: `host:port/database` (never a password).
        database: String,
    },
}

/// The schema model: what exists before the change runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Schema {
    /// Tables by key (`name` or `schema.name`).
    pub tables: BTreeMap<String, Table>,
    /// Indexes by key.
    pub indexes: BTreeMap<String, Index>,
    /// Enum types by key.
    pub enums: BTreeMap<String, EnumType>,
    /// Views by key.
    pub views: BTreeMap<String, View>,
    /// Domains by key, with how many CHECK constraints each has.
    pub domains: BTreeMap<String, usize>,
    /// Comments set by `COMMENT ON`, by the statement that clears them (`COMMENT ON COLUMN users.email IS NULL`).
    pub comments: BTreeMap<String, String>,
    /// Where the facts came from.
    pub source: SchemaSource,
    /// What the history holds that zdm could not see into, each with what it may have changed.
    pub blind_spots: Vec<BlindSpot>,
}

/// A statement of the history zdm could not see into, and how far its effect may reach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlindSpot {
    /// The file.
    pub path: String,
    /// Line of the statement in the file.
    pub line: usize,
    /// What it is (`DO block`, `CREATE TABLE … (LIKE …)`, `file does not parse`).
    pub what: String,
    /// What it may have changed.
    pub reach: Reach,
}

/// How far an unseen statement's effect may reach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "tables")]
pub enum Reach {
    /// The columns of these tables (keys).
    Columns(Vec<String>),
    /// The columns of any table.
    AnyColumns,
    /// Which tables exist, and their columns.
    Everything,
}

impl BlindSpot {
    /// One line for notes: where, what, and what is no longer checked.
    #[must_use]
    pub fn describe(&self) -> String {
        let reach = match &self.reach {
            Reach::Columns(t) => format!("may change columns of {}: their column names are not checked", t.join(", ")),
            Reach::AnyColumns => "may change columns of any table: column names are not checked".to_string(),
            Reach::Everything => "may create or rename tables: table and column names are not checked".to_string(),
        };
        format!("{}:{}: {} zdm cannot see into {reach}", self.path, self.line, self.what)
    }
}

impl Schema {
    /// A schema about which nothing is known.
    #[must_use]
    pub fn unknown() -> Schema {
        Schema {
            tables: BTreeMap::new(),
            indexes: BTreeMap::new(),
            enums: BTreeMap::new(),
            views: BTreeMap::new(),
            domains: BTreeMap::new(),
            comments: BTreeMap::new(),
            source: SchemaSource::Unknown,
            blind_spots: Vec::new(),
        }
    }

    /// True when facts came from somewhere.
    #[must_use]
    pub fn is_known(&self) -> bool {
        !matches!(self.source, SchemaSource::Unknown)
    }

    /// True when an absent table is a typo rather than something zdm could not see.
    #[must_use]
    pub fn checks_names(&self) -> bool {
        self.is_known() && !self.blind_spots.iter().any(|b| b.reach == Reach::Everything)
    }

    /// True when names used on `table` (the table, its columns, its constraints) can be checked: the
    /// schema is known and nothing unseen in the history may have changed that table.
    #[must_use]
    pub fn checks_names_on(&self, table: &QName) -> bool {
        let key = table.key();
        self.checks_names()
            && !self.blind_spots.iter().any(|b| match &b.reach {
                Reach::Columns(tables) => tables.contains(&key),
                Reach::AnyColumns | Reach::Everything => true,
            })
    }

    /// The table with this name.
    #[must_use]
    pub fn table(&self, name: &QName) -> Option<&Table> {
        self.tables.get(&name.key())
    }

    /// Indexes on table `key`.
    pub fn indexes_on<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Index> + 'a {
        self.indexes.values().filter(move |i| i.table == key)
    }

    /// Foreign keys of any table that reference `column` of table `key` (explicitly, or through the
    /// referenced table's primary key when the foreign key names no columns): (referencing table, constraint).
    #[must_use]
    pub fn foreign_keys_to(&self, key: &str, column: &str) -> Vec<(&Table, &Constraint)> {
        let pk = self.tables.get(key).and_then(Table::primary_key).unwrap_or(&[]);
        let mut out = Vec::new();
        for t in self.tables.values() {
            for k in &t.constraints {
                if let ConstraintKind::ForeignKey { ref_table, ref_columns, .. } = &k.kind
                    && ref_table.key() == key
                    && (ref_columns.iter().any(|c| c == column) || (ref_columns.is_empty() && pk.iter().any(|c| c == column)))
                {
                    out.push((t, k));
                }
            }
        }
        out
    }

    /// True when `name` is taken in `schema`'s relation namespace (tables, indexes, views, sequences
    /// zdm knows of, and index-backed constraints).
    #[must_use]
    pub fn relation_name_taken(&self, schema: Option<&str>, name: &str) -> bool {
        let key = QName { schema: schema.map(str::to_string), name: name.to_string() }.key();
        self.tables.contains_key(&key)
            || self.views.contains_key(&key)
            || self.indexes.contains_key(name)
            // Sequences owned by columns (serial, identity, OWNED BY), whatever their names.
            || self.tables.values().flat_map(|t| &t.columns).any(|c| c.sequence.as_ref().is_some_and(|s| s.name == name))
    }

    /// Views that read `table` and mention `column`.
    pub fn views_using<'a>(&'a self, table: &'a str, column: &'a str) -> impl Iterator<Item = &'a View> + 'a {
        self.views.values().filter(move |v| v.tables.iter().any(|t| t == table) && v.columns.iter().any(|c| c == column))
    }
}

/// Live facts about one table's weight (from a database, when one is reachable, or from a hint).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TableStats {
    /// Estimated row count (0 means known empty, unless `rows_unknown`).
    pub rows: u64,
    /// Total size in bytes, indexes included.
    pub bytes: u64,
    /// The row count is a guess: the table was never analyzed and nothing else counted its rows.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub rows_unknown: bool,
    /// Where `rows` comes from (`reltuples`, `n_live_tup`, `size estimate`, `--table-size`, `zdm.toml`).
    pub rows_from: String,
    /// Average rows written per second (inserts + updates + deletes since the statistics were reset), when
    /// the statistics were readable.
    pub writes_per_sec: Option<f64>,
    /// Inserts, updates and deletes counted since the statistics were reset.
    pub writes: Option<u64>,
    /// Write statements per second seen by `pg_stat_statements`, when the extension is installed and readable.
    pub statement_writes_per_sec: Option<f64>,
}

impl TableStats {
    /// Stats from a hint (`--table-size`, `zdm.toml`): a row count and nothing else.
    #[must_use]
    pub fn hint(rows: u64, from: &str) -> TableStats {
        TableStats { rows, rows_from: from.to_string(), ..TableStats::default() }
    }

    /// True when the table is known to hold no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows == 0 && !self.rows_unknown
    }

    /// The higher of the two write rates.
    #[must_use]
    pub fn write_rate(&self) -> Option<f64> {
        match (self.writes_per_sec, self.statement_writes_per_sec) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

/// How heavy a table is, which decides whether a change to it may take the simple path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TableClass {
    /// Known to hold no rows: a change runs as written.
    Empty,
    /// Fewer rows than the `large_rows` threshold, and few writes.
    Small,
    /// At least `large_rows` rows or `large_bytes` bytes: always the staged path.
    Large,
    /// At least `hot_writes_per_sec` writes per second: always the staged path.
    Hot,
}

impl TableClass {
    /// The lowercase name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            TableClass::Empty => "empty",
            TableClass::Small => "small",
            TableClass::Large => "large",
            TableClass::Hot => "hot",
        }
    }
}

/// Where a table class stops and the next begins (`[thresholds]` of `zdm.toml`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Thresholds {
    /// Rows from which a table is large.
    pub large_rows: u64,
    /// Total bytes from which a table is large.
    pub large_bytes: u64,
    /// Writes per second from which a table is hot.
    pub hot_writes_per_sec: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { large_rows: 1_000_000, large_bytes: 1 << 30, hot_writes_per_sec: 50.0 }
    }
}

impl Thresholds {
    /// The class of a table with these stats.
    #[must_use]
    pub fn classify(&self, stats: &TableStats) -> TableClass {
        if stats.write_rate().is_some_and(|w| w >= self.hot_writes_per_sec) {
            TableClass::Hot
        } else if stats.is_empty() {
            TableClass::Empty
        } else if stats.rows_unknown || stats.rows >= self.large_rows || stats.bytes >= self.large_bytes {
            TableClass::Large
        } else {
            TableClass::Small
        }
    }
}

/// What a live database said, as plain data: the schema, each table's weight, the server's version, and
/// what the session could not read.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LiveFacts {
    /// `host:port/database` (no password).
    pub database: String,
    /// The server's major version.
    pub server_major: u32,
    /// The server's full version (`15.8`).
    pub server_version: String,
    /// The schema as the database has it (`SchemaSource::Live`).
    pub schema: Option<Schema>,
    /// Weights by table key.
    pub stats: BTreeMap<String, TableStats>,
    /// Installed extensions (`name version`).
    pub extensions: Vec<String>,
    /// Sequences by key.
    pub sequences: Vec<String>,
    /// Triggers as `table: name`.
    pub triggers: Vec<String>,
    /// Indexes whose build failed (`indisvalid` false): they exist but no query uses them.
    pub invalid_indexes: Vec<String>,
    /// Inheritance children as (child key, parent key) (partitions are in the tables).
    pub inherits: Vec<(String, String)>,
    /// What depends on what (`pg_depend`): (dependent view or object, table it depends on).
    pub dependencies: Vec<(String, String)>,
    /// Facts the session could not read, each with why.
    pub missing: Vec<String>,
}

/// `1234567` → `1,234,567`.
#[must_use]
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A generated file: where it goes and what it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GeneratedFile {
    /// Path relative to the project root, with `/` separators.
    pub path: String,
    /// Full contents.
    pub contents: String,
    /// For an update of an existing file (a tool's journal, a changelog that lists migrations): the
    /// contents zdm read and changed. The write fails, writing nothing, if the file no longer holds them.
    /// `None`: a new file, never written over an existing path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

impl GeneratedFile {
    /// A new file.
    #[must_use]
    pub fn new(path: impl Into<String>, contents: impl Into<String>) -> GeneratedFile {
        GeneratedFile { path: path.into(), contents: contents.into(), replaces: None }
    }

    /// A new version of an existing file whose current contents are `old`.
    #[must_use]
    pub fn update(path: impl Into<String>, old: impl Into<String>, contents: impl Into<String>) -> GeneratedFile {
        GeneratedFile { path: path.into(), contents: contents.into(), replaces: Some(old.into()) }
    }
}

/// A file of the user's project, as read by the CLI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectFile {
    /// Path relative to the project root, with `/` separators.
    pub path: String,
    /// Contents (text files only).
    pub contents: String,
}

/// The project files the core may look at: paths of everything relevant plus the contents of SQL files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectFiles {
    /// Files, sorted by path.
    pub files: Vec<ProjectFile>,
    /// SQL the project's own migration tool rendered for its code migrations without a database, keyed
    /// as that tool's module reads it (Alembic: the revision id, from `alembic upgrade head --sql`).
    pub rendered: std::collections::BTreeMap<String, String>,
}

impl ProjectFiles {
    /// The project made of `files` (nothing rendered).
    #[must_use]
    pub fn new(files: Vec<ProjectFile>) -> ProjectFiles {
        ProjectFiles { files, rendered: std::collections::BTreeMap::new() }
    }

    /// True when a file with exactly this path exists.
    #[must_use]
    pub fn exists(&self, path: &str) -> bool {
        self.files.iter().any(|f| f.path == path)
    }

    /// Files directly inside directory `dir` (no trailing slash; `""` is the root).
    pub fn in_dir<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a ProjectFile> + 'a {
        self.files.iter().filter(move |f| parent_dir(&f.path) == dir)
    }
}

/// The directory part of a `/`-separated path (`""` for a file at the root).
#[must_use]
pub fn parent_dir(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// The mask that replaces every secret.
pub const MASK: &str = "****";

/// Masks secrets found anywhere in `text`:
/// - the password of `scheme://user:password@host` URLs (a password may hold `/`, `:` or `@`: everything
///   from the first `:` of the user part to the last `@` of the URL goes);
/// - the value of `password=…` / `passwd=…` / `pwd=…` key/value pairs, bare, `'quoted'`, `"quoted"` or
///   `''doubled''` (a libpq value inside an SQL string literal);
/// - the literal after the SQL keyword `PASSWORD` (`CREATE ROLE … PASSWORD '…'`, `ENCRYPTED PASSWORD '…'`,
///   `OPTIONS (password '…')`), in any quoting, `'…'`, `E'…'` or `$tag$…$tag$`.
///
/// Every output of zdm (receipt, JSON, HTML report, errors) passes its text through this *before* any
/// escaping or truncation, so an escaped or cut secret cannot slip past it.
#[must_use]
pub fn mask_secrets(text: &str) -> String {
    mask_keyword_password(&mask_urls(text))
}

fn mask_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let mut end = url_end(tail);
        let user_end = tail[..end].find([':', '@', '/', '?', '#']).unwrap_or(end);
        if tail[user_end..end].starts_with(':') && !tail[user_end..end].contains('@') {
            // A quote inside the password ended the URL early: the password runs to an `@` before the
            // next whitespace.
            let word = tail.find(char::is_whitespace).unwrap_or(tail.len());
            if let Some(at) = tail[user_end..word].rfind('@') {
                end = user_end + at + 1 + url_end(&tail[user_end + at + 1..]);
            }
        }
        let url = &tail[..end];
        match (url[user_end..].starts_with(':'), url.rfind('@')) {
            (true, Some(at)) if at > user_end => {
                out.push_str(&url[..=user_end]);
                out.push_str(MASK);
                out.push_str(&url[at..]);
            }
            _ => out.push_str(url),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Where a URL starting at `tail` ends: whitespace, a double quote, a lone single quote (a doubled `''`
/// is a quote inside an SQL literal and belongs to the URL), `<`, `>` or a backslash-escaped quote.
fn url_end(tail: &str) -> usize {
    let bytes = tail.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b.is_ascii_whitespace() || matches!(b, b'\'' | b'"' | b'<' | b'>' | b'`') => return i,
            b'\\' if matches!(bytes.get(i + 1), Some(b'"' | b'\'')) => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn mask_keyword_password(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut search = 0;
    while search < text.len() {
        let Some((i, key)) = ["password", "passwd", "pwd"]
            .iter()
            .filter_map(|k| lower[search..].find(k).map(|i| (i + search, *k)))
            .min_by_key(|(i, k)| (*i, std::cmp::Reverse(k.len())))
        else {
            break;
        };
        let mut j = i + key.len();
        // The keyword may be a quoted identifier: `"password" '…'`.
        if bytes.get(j) == Some(&b'"') && i > 0 && bytes[i - 1] == b'"' {
            j += 1;
        }
        let word_start = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let ws = text[j..].len() - text[j..].trim_start().len();
        let k = j + ws;
        let span = if bytes.get(k) == Some(&b'=') {
            let v = k + 1 + (text[k + 1..].len() - text[k + 1..].trim_start().len());
            Some((v, value_end(text, v)))
        } else if word_start && key == "password" && ws > 0 {
            literal_span(text, k)
        } else {
            None
        };
        match span {
            Some((start, end)) if end > start => {
                out.push_str(&text[last..start]);
                out.push_str(MASK);
                last = end;
                search = end;
            }
            _ => search = i + key.len(),
        }
    }
    out.push_str(&text[last..]);
    out
}

/// The end of a `key=value` value starting at byte `v`.
fn value_end(text: &str, v: usize) -> usize {
    let rest = &text[v..];
    if let Some(q) = rest.strip_prefix("''") {
        // `password=''a b''` inside an SQL literal: the libpq quotes are doubled.
        return v + 2 + q.find("''").map_or(q.len(), |e| e + 2);
    }
    if rest.starts_with('\'') || rest.starts_with('"') {
        return quoted_end(text, v).unwrap_or(text.len());
    }
    v + rest.find(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | ',' | ')' | ';' | '&' | '<' | '>')).unwrap_or(rest.len())
}

/// The end (exclusive) of a quoted value opening at `start` (`'` or `"`), where a doubled or
/// backslash-escaped quote does not close it.
fn quoted_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
        } else if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return Some(i + 1);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// The SQL literal (`'…'`, `E'…'`, `$tag$…$tag$`) starting at `k`, if one does.
fn literal_span(text: &str, k: usize) -> Option<(usize, usize)> {
    let rest = &text[k..];
    let open = if rest.starts_with('\'') {
        k
    } else if (rest.starts_with("E'") || rest.starts_with("e'")) && rest.len() > 2 {
        k + 1
    } else if let Some(after) = rest.strip_prefix('$') {
        let tag_len = after.find('$')? + 2;
        let tag = &rest[..tag_len];
        if !tag[1..tag_len - 1].chars().all(|c| c.is_alphanumeric() || c == '_') {
            return None;
        }
        let close = rest[tag_len..].find(tag).map_or(text.len(), |e| k + tag_len + e + tag_len);
        return Some((k, close));
    } else {
        return None;
    };
    Some((k, quoted_end(text, open).unwrap_or(text.len())))
}

/// Masks every string inside a JSON value (keys stay), before serialization escapes anything.
pub fn mask_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            let masked = mask_secrets(s);
            if masked != *s {
                *s = masked;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(mask_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(mask_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked() {
        assert_eq!(mask_secrets("postgres://app:s3cret@db:5432/prod"), "postgres://app:****@db:5432/prod");
        assert_eq!(mask_secrets("postgres://app@db/prod"), "postgres://app@db/prod");
        assert_eq!(mask_secrets("CONNECTION 'host=db password=hunter2 dbname=x'"), "CONNECTION 'host=db password=**** dbname=x'");
        assert_eq!(mask_secrets("password = 'a b' next"), "password = **** next");
        assert_eq!(mask_secrets("no secrets here"), "no secrets here");
    }

    /// Every shape of secret zdm knows, with the secret text that must disappear.
    pub(crate) const SECRET_SHAPES: &[(&str, &str)] = &[
        ("postgres://app:s3cret@db:5432/prod", "s3cret"),
        ("postgresql://app:pa/ss@db/x", "pa/ss"),
        ("postgres://app:p@ss:w/rd@db/x?sslmode=require", "p@ss:w/rd"),
        ("'postgres://app:it''sme@db/x'", "it''sme"),
        ("CONNECTION 'host=db password=hunter2 dbname=x'", "hunter2"),
        ("CONNECTION 'host=db password=''quoted words'' dbname=x'", "quoted words"),
        ("password = 'a b' next", "a b"),
        ("PGPASSWORD=envsecret psql", "envsecret"),
        ("Server=db;Uid=app;Pwd=odbcsecret;", "odbcsecret"),
        ("CREATE ROLE app LOGIN PASSWORD 'rolesecret'", "rolesecret"),
        ("ALTER ROLE app PASSWORD 'it''s secret'", "it''s secret"),
        ("ALTER USER app WITH ENCRYPTED PASSWORD 'md5abcdef'", "md5abcdef"),
        ("CREATE USER app PASSWORD E'esc\\'aped'", "esc\\'aped"),
        ("CREATE ROLE app PASSWORD $pw$dollar secret$pw$", "dollar secret"),
        ("CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'x', password 'mapsecret')", "mapsecret"),
        ("OPTIONS (\"password\" 'quotedkey')", "quotedkey"),
    ];

    #[test]
    fn every_secret_shape_is_masked() {
        for (text, secret) in SECRET_SHAPES {
            let masked = mask_secrets(text);
            assert!(!masked.contains(secret), "{text} -> {masked}");
            assert!(masked.contains(MASK), "{text} -> {masked}");
        }
        assert_eq!(mask_secrets("postgresql://app:pa/ss@db/x"), "postgresql://app:****@db/x");
        assert_eq!(mask_secrets("ALTER ROLE app PASSWORD 'it''s secret';"), "ALTER ROLE app PASSWORD ****;");
        assert_eq!(mask_secrets("ALTER ROLE app PASSWORD NULL"), "ALTER ROLE app PASSWORD NULL");
        assert_eq!(mask_secrets("postgres://db:5432/x and postgres://app@db/x"), "postgres://db:5432/x and postgres://app@db/x");
        assert_eq!(mask_secrets("SET password_encryption = 'scram-sha-256'"), "SET password_encryption = 'scram-sha-256'");
    }

    #[test]
    fn json_strings_are_masked_before_serialization() {
        let mut v = serde_json::json!({"sql": ["postgres://app:x\"y@db"], "n": 1});
        mask_json(&mut v);
        assert_eq!(v["sql"][0], "postgres://app:****@db");
    }

    #[test]
    fn positions_count_characters() {
        assert_eq!(Pos::of_byte("ab\ncé d", 6), Pos { line: 2, col: 3 });
        assert_eq!(Pos::of_char("ab\ncé d", 5), Pos { line: 2, col: 3 });
        let idx = LineIndex::new("a\nbc\n\nd");
        assert_eq!(idx.pos(0), Pos { line: 1, col: 1 });
        assert_eq!(idx.pos(3), Pos { line: 2, col: 2 });
        assert_eq!(idx.pos(5), Pos { line: 3, col: 1 });
        assert_eq!(idx.pos(6), Pos { line: 4, col: 1 });
    }
}
