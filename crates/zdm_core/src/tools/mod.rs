//! Migration tools: detect which one a project uses, read its existing migrations (the `up` SQL, in the
//! tool's own order) and write a plan as files in its conventions. Tools render a plan; they never change
//! its steps or decide safety. Imports `model`, `plan` and `sql`.
//!
//! Adding a tool: one module here and one line in [`TOOLS`]. What every writer shares (which steps get
//! files, the header comment, statement splitting, free paths) lives in [`common`]; a tool module holds
//! only what is its own.

mod alembic;
pub mod common;
mod dbmate;
mod diesel;
mod django;
mod drizzle;
mod ecto;
mod flyway;
mod golang_migrate;
mod goose;
mod knex;
mod liquibase;
pub mod naming;
mod node_pg_migrate;
mod prisma;
mod rails;
mod refinery;
mod seaorm;
mod sequelize;
mod sqlx;
mod typeorm;

use crate::model::{GeneratedFile, ProjectFiles};
use crate::plan::{CodeChange, Plan};
use serde::Serialize;
use std::fmt;

/// How sure detection is, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Directory shape alone.
    Low,
    /// In-file markers or a dependency manifest.
    Medium,
    /// The tool's own configuration file.
    High,
}

/// What detection found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Detection {
    /// Tool id (`prisma`, `goose`, `dbmate`, `raw-sql`, …).
    pub tool: &'static str,
    /// Directory holding the migrations (relative, `/`-separated; `""` is the project root).
    pub dir: String,
    /// Why zdm thinks so (the files that told).
    pub evidence: String,
    /// How sure.
    pub confidence: Confidence,
    /// Database engine as the tool's configuration names it (`postgresql`, `mysql`, `sqlite`, …), when it
    /// does. zdm writes PostgreSQL only.
    pub engine: Option<String>,
}

impl Detection {
    /// A detection with no engine stated.
    #[must_use]
    pub fn new(tool: &'static str, dir: impl Into<String>, confidence: Confidence, evidence: impl Into<String>) -> Detection {
        Detection { tool, dir: dir.into(), evidence: evidence.into(), confidence, engine: None }
    }

    /// The same detection with an engine.
    #[must_use]
    pub fn with_engine(mut self, engine: Option<String>) -> Detection {
        self.engine = engine;
        self
    }

    fn is_postgres(&self) -> bool {
        self.engine.as_deref().is_none_or(is_postgres_engine)
    }

    fn describe(&self) -> String {
        let dir = if self.dir.is_empty() { "." } else { &self.dir };
        let engine = self.engine.as_deref().map(|e| format!(", {e}")).unwrap_or_default();
        format!("{} in {dir}{engine} ({} confidence: {})", self.tool, confidence_word(self.confidence), self.evidence)
    }
}

fn confidence_word(c: Confidence) -> &'static str {
    match c {
        Confidence::Low => "low",
        Confidence::Medium => "medium",
        Confidence::High => "high",
    }
}

/// Whether an engine name (as a tool's configuration spells it) is PostgreSQL or speaks its protocol
/// and SQL (`postgresql`, `postgres`, `pg`, `pgx`, `postgis`, `cockroachdb` is not).
#[must_use]
pub fn is_postgres_engine(engine: &str) -> bool {
    let e = engine.to_ascii_lowercase();
    matches!(e.as_str(), "postgresql" | "postgres" | "pg" | "pgx" | "pgx5" | "postgis" | "pglite" | "neon" | "supabase")
        || e.starts_with("postgres")
}

/// The engine a connection URL or JDBC URL names (`postgres://…` → `postgresql`, `jdbc:mysql:` →
/// `mysql`), when it names one. Only the scheme is read; nothing of the URL is kept.
#[must_use]
pub fn engine_of_url(url: &str) -> Option<String> {
    let url = url.trim().trim_matches(['"', '\'']);
    let url = url.strip_prefix("jdbc:").unwrap_or(url);
    let scheme = url.split([':', '+']).next()?.to_ascii_lowercase();
    let engine = match scheme.as_str() {
        "postgres" | "postgresql" | "pgx" | "pgx5" => "postgresql",
        "mysql" | "mariadb" => "mysql",
        "sqlite" | "sqlite3" | "file" => "sqlite",
        "sqlserver" | "mssql" => "sqlserver",
        "cockroachdb" | "cockroach" => "cockroachdb",
        "clickhouse" => "clickhouse",
        _ => return None,
    };
    Some(engine.to_string())
}

/// What the user said about the tool (`--tool`, `--migrations-dir`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Choice {
    /// Tool id.
    pub tool: Option<String>,
    /// Migrations directory, relative to the project root.
    pub dir: Option<String>,
}

/// The tool a plan follows, with the other candidates detection saw.
#[derive(Clone)]
pub struct Detected {
    /// The tool.
    pub tool: &'static dyn Tool,
    /// Where and why.
    pub detection: Detection,
    /// Other candidates (other tools, other directories), strongest first.
    pub others: Vec<Detection>,
}

/// Why detection could not settle on one tool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetectError {
    /// What is wrong, naming the files.
    pub message: String,
    /// How to settle it.
    pub help: Option<String>,
}

impl DetectError {
    /// An error about one file.
    #[must_use]
    pub fn in_file(path: &str, what: impl fmt::Display) -> DetectError {
        DetectError { message: format!("{path}: {what}"), help: None }
    }
}

impl fmt::Display for DetectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DetectError {}

/// An existing migration's forward SQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceMigration {
    /// File path.
    pub path: String,
    /// The `up` SQL. Lines that are not part of it are blank, so line numbers stay the file's.
    pub up: String,
    /// `Some(what)` for a migration the tool runs that zdm cannot read (a Go migration among goose's SQL
    /// files): the schema gets a blind spot there instead of a replay.
    pub unread: Option<String>,
}

impl SourceMigration {
    /// A migration whose forward SQL zdm read.
    #[must_use]
    pub fn sql(path: impl Into<String>, up: impl Into<String>) -> SourceMigration {
        SourceMigration { path: path.into(), up: up.into(), unread: None }
    }

    /// A migration the tool runs that zdm cannot read (`what`: `a Go migration`).
    #[must_use]
    pub fn unread(path: impl Into<String>, what: impl Into<String>) -> SourceMigration {
        SourceMigration { path: path.into(), up: String::new(), unread: Some(what.into()) }
    }
}

/// What a tool can tell about its conventions in a project (`zdm detect`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Profile {
    /// How new files are named (`<dir>/<YYYYMMDDHHMMSS>_<name>/migration.sql`).
    pub naming: String,
    /// The version the next file gets.
    pub next_version: String,
    /// Whether and how the tool rolls back (`-- migrate:down section`, `none: zdm writes down.sql beside`).
    pub down: String,
    /// The switch that runs a migration outside a transaction, or why there is none.
    pub no_transaction: String,
    /// The table the tool records applied migrations in.
    pub history_table: String,
}

/// A plan as files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Every file to write (new files, and updates of bookkeeping files such as a journal).
    pub files: Vec<GeneratedFile>,
    /// For each step of the plan (by index), the file that runs it, if any.
    pub step_files: Vec<Option<String>>,
    /// What the user must know about these files (rollback files the tool does not run, steps to run by
    /// hand, bookkeeping updated).
    pub notes: Vec<String>,
}

/// Why files could not be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteError {
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WriteError {}

/// A migration tool zdm can read and write.
pub trait Tool: Sync {
    /// Stable id (`stack.tool` in the JSON).
    fn id(&self) -> &'static str;
    /// The directory a project without migrations yet would use.
    fn default_dir(&self) -> &'static str;
    /// Every place in the project this tool is used (several for a monorepo), strongest evidence first.
    ///
    /// # Errors
    /// When the tool's configuration is unreadable or malformed (the error names the file).
    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError>;
    /// The project's existing migrations, in the order the tool applies them.
    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration>;
    /// The tool's conventions as this project uses them. `now` is the current UTC time, `YYYYMMDDHHMMSS`.
    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile;
    /// The plan's files. `now` is the current UTC time as `YYYYMMDDHHMMSS`.
    ///
    /// # Errors
    /// When a file would overwrite an existing one, or a step cannot be written in the tool's form.
    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError>;
    /// Whether the tool runs this migration's `up` inside a transaction it opens (its no-transaction switch,
    /// read from the file or its configuration): `zdm check` judges CONCURRENTLY and lock-then-slow-work by
    /// it. Most tools wrap each migration in one; a multi-statement string sent at once is one implicit
    /// transaction too.
    fn runs_in_transaction(&self, _files: &ProjectFiles, _migration: &SourceMigration) -> bool {
        true
    }
    /// A code deploy's change as an edit of the project's ORM models (one line each), where it is
    /// mechanical: a moved column mapped under its old attribute name, a dropped column hidden from the
    /// ORM first. Empty for tools without a model layer.
    fn orm_changes(&self, _change: &CodeChange) -> Vec<String> {
        Vec::new()
    }
    /// A command of the project's own tool that prints the SQL of its code migrations without a database
    /// (Alembic's offline mode), when the history holds migrations zdm cannot otherwise read.
    fn offline_command(&self, _files: &ProjectFiles, _detection: &Detection) -> Option<OfflineCommand> {
        None
    }
    /// Each migration's SQL in that command's output, keyed as `read` looks it up in
    /// `ProjectFiles::rendered`.
    fn offline_sql(&self, _output: &str) -> std::collections::BTreeMap<String, String> {
        std::collections::BTreeMap::new()
    }
}

/// A tool command that renders code migrations as SQL offline: `python <args>` run in `dir`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfflineCommand {
    /// Directory to run in, relative to the project root.
    pub dir: String,
    /// Arguments after the Python interpreter (`-m alembic -c alembic.ini upgrade head --sql`).
    pub python_args: Vec<String>,
    /// The command as the user would type it, for messages.
    pub shown: String,
}

/// The forward part of a migration file given as the change (its `-- migrate:up`, `-- +goose Up` or
/// `-- Up Migration` section; the whole text when it has no sections), other lines blanked so positions
/// stay the file's.
#[must_use]
pub fn change_text(text: &str) -> String {
    node_pg_migrate::up_lines(text).unwrap_or_else(|| dbmate::up_lines(text))
}

/// Every tool, most specific first: when two tools claim one directory with the same confidence, the
/// earlier wins.
pub static TOOLS: &[&dyn Tool] = &[
    &prisma::Prisma,
    &drizzle::Drizzle,
    &liquibase::Liquibase,
    &sqlx::Sqlx,
    &diesel::Diesel,
    &refinery::Refinery,
    &flyway::Flyway,
    &golang_migrate::GolangMigrate,
    &goose::Goose,
    &typeorm::TypeOrm,
    &knex::Knex,
    &sequelize::Sequelize,
    &node_pg_migrate::NodePgMigrate,
    &alembic::Alembic,
    &django::Django,
    &rails::Rails,
    &ecto::Ecto,
    &seaorm::SeaOrm,
    &dbmate::Dbmate,
    &dbmate::RawSql,
];

/// The text of the project file at `path` (empty when it was not read).
#[must_use]
pub fn file_text<'a>(files: &'a ProjectFiles, path: &str) -> &'a str {
    // Files are sorted by path; a list that is not falls back to a scan.
    let found = match files.files.binary_search_by(|f| f.path.as_str().cmp(path)) {
        Ok(i) => Some(&files.files[i]),
        Err(_) => files.files.iter().find(|f| f.path == path),
    };
    found.map_or("", |f| f.contents.as_str())
}

/// The tool with this id.
#[must_use]
pub fn by_id(id: &str) -> Option<&'static dyn Tool> {
    TOOLS.iter().copied().find(|t| t.id() == id)
}

/// The ids of every tool, for help texts.
#[must_use]
pub fn ids() -> Vec<&'static str> {
    TOOLS.iter().map(|t| t.id()).collect()
}

/// Whether the CLI should read this file's contents (besides `.sql` files): the configuration files,
/// manifests and bookkeeping files detection and writers look at. Paths are relative, `/`-separated.
#[must_use]
pub fn wants_contents(path: &str) -> bool {
    let name = common::file_name(path);
    let lower = name.to_ascii_lowercase();
    const NAMES: &[&str] = &[
        "package.json",
        "go.mod",
        "cargo.toml",
        "diesel.toml",
        "refinery.toml",
        "sqlx.toml",
        "flyway.conf",
        "flyway.toml",
        "liquibase.properties",
        "migration_lock.toml",
        "metadata.toml",
        "_journal.json",
        "prisma.config.ts",
        "prisma.config.js",
        "prisma.config.mjs",
        ".pgmigraterc",
        ".pgmigraterc.json",
        "application.properties",
        "application.yml",
        "application.yaml",
        "pom.xml",
        "build.gradle",
        "build.gradle.kts",
        "alembic.ini",
        "env.py",
        "manage.py",
        "settings.py",
        "models.py",
        "knexfile.js",
        "knexfile.ts",
        "knexfile.cjs",
        "knexfile.mjs",
        ".sequelizerc",
        "database.yml",
        "schema.rb",
        "gemfile",
        "gemfile.lock",
        "mix.exs",
    ];
    NAMES.contains(&lower.as_str())
        || typeorm::is_data_source(name)
        || (crate::model::parent_dir(path).rsplit('/').next() == Some("config") && (lower.ends_with(".json") || lower.ends_with(".js")))
        || lower.ends_with(".prisma")
        || (lower.ends_with(".exs") && crate::model::parent_dir(path).rsplit('/').next() == Some("config"))
        || lower.ends_with("repo.ex")
        || lower.ends_with("_snapshot.json")
        || (lower == "snapshot.json"
            && crate::model::parent_dir(path)
                .rsplit('/')
                .next()
                .is_some_and(|d| d.len() > 14 && d.as_bytes()[..14].iter().all(u8::is_ascii_digit)))
        || lower.ends_with(".sql.conf")
        || (path.contains("/settings/") && lower.ends_with(".py"))
        || (lower.starts_with("drizzle.config.")
            && [".ts", ".js", ".mjs", ".cjs", ".json", ".mts", ".cts"].iter().any(|e| lower.ends_with(e)))
        || (path.to_ascii_lowercase().contains("changelog") && [".xml", ".yaml", ".yml", ".json"].iter().any(|e| lower.ends_with(e)))
}

/// The project's tool: what `choice` names, else the strongest candidate detection finds.
///
/// Candidates for another engine are dropped when a PostgreSQL one exists; when only other engines are
/// found, or two candidates are equally strong, this stops with an error naming them and how to choose.
/// Nothing found: raw SQL in `migrations/` (or `choice.dir`), written in dbmate's format.
///
/// # Errors
/// A [`DetectError`] naming the files.
pub fn detect(files: &ProjectFiles, choice: &Choice) -> Result<Detected, DetectError> {
    if let Some(id) = &choice.tool
        && by_id(id).is_none()
    {
        return Err(DetectError {
            message: format!("unknown migration tool `{id}`"),
            help: Some(format!("--tool takes one of: {}", ids().join(", "))),
        });
    }
    let mut all: Vec<(usize, Detection)> = Vec::new();
    for (i, tool) in TOOLS.iter().enumerate() {
        if choice.tool.as_deref().is_some_and(|t| t != tool.id()) {
            continue;
        }
        all.extend(tool.detect(files)?.into_iter().map(|d| (i, d)));
    }
    let chosen_dir = choice.dir.as_deref().map(|d| d.trim_start_matches("./").trim_end_matches('/'));
    if let Some(dir) = chosen_dir {
        all.retain(|(_, d)| d.dir == dir);
    }
    // One directory, one tool: the strongest claim (then the most specific tool) wins.
    all.sort_by(|(ia, a), (ib, b)| b.confidence.cmp(&a.confidence).then(ia.cmp(ib)).then(a.dir.cmp(&b.dir)));
    let mut seen: Vec<String> = Vec::new();
    all.retain(|(_, d)| {
        let fresh = !seen.contains(&d.dir);
        seen.push(d.dir.clone());
        fresh
    });
    let (postgres, other): (Vec<_>, Vec<_>) = all.into_iter().partition(|(_, d)| d.is_postgres());
    if postgres.is_empty()
        && let Some((_, d)) = other.first()
    {
        let engine = d.engine.clone().unwrap_or_default();
        return Err(DetectError {
            message: format!(
                "this project's migrations are for {engine}, not PostgreSQL: {}; zdm writes PostgreSQL only",
                other.iter().map(|(_, d)| d.describe()).collect::<Vec<_>>().join("; ")
            ),
            help: Some("point zdm at a PostgreSQL project, or name its directory with --migrations-dir DIR".into()),
        });
    }
    let Some((first_i, first)) = postgres.first().cloned() else {
        let tool = choice.tool.as_deref().and_then(by_id).unwrap_or(&dbmate::RawSql);
        let dir = chosen_dir.unwrap_or(tool.default_dir()).to_string();
        let evidence = if choice.tool.is_some() { "named by --tool; no migrations yet" } else { "no migration tool found; new directory" };
        return Ok(Detected { tool, detection: Detection::new(tool.id(), dir, Confidence::Low, evidence), others: Vec::new() });
    };
    let rivals: Vec<&Detection> = postgres.iter().skip(1).map(|(_, d)| d).filter(|d| d.confidence == first.confidence).collect();
    if !rivals.is_empty() {
        let mut list = vec![first.describe()];
        list.extend(rivals.iter().map(|d| d.describe()));
        return Err(DetectError {
            message: format!("more than one migration setup found:\n  - {}", list.join("\n  - ")),
            help: Some("choose with --tool NAME and/or --migrations-dir DIR (`zdm detect` lists them)".into()),
        });
    }
    let others = postgres.iter().skip(1).chain(other.iter()).map(|(_, d)| d.clone()).collect();
    Ok(Detected { tool: TOOLS[first_i], detection: first, others })
}

/// Migration files zdm cannot read yet (code migrations, SQL in per-migration folders): the largest group,
/// as `27 Alembic migrations (alembic/versions)`. `None` when there are none.
#[must_use]
pub fn unreadable_migrations(files: &ProjectFiles) -> Option<String> {
    let kind = |path: &str| -> Option<&'static str> {
        let dir = crate::model::parent_dir(path);
        let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
        let in_migrations = dir.split('/').any(|d| d.contains("migrat"));
        Some(match ext {
            "py" if dir.ends_with("versions") => "Alembic",
            "py" if in_migrations && !path.ends_with("__init__.py") => "Django",
            "rb" if dir.ends_with("db/migrate") || in_migrations => "Rails",
            "js" | "ts" | "cjs" | "mjs" if in_migrations => "JavaScript/TypeScript",
            "exs" if in_migrations => "Ecto",
            "go" if in_migrations => "Go",
            "rs" if in_migrations && !path.ends_with("lib.rs") && !path.ends_with("main.rs") => "SeaORM",
            "sql" if in_migrations && (path.ends_with("/migration.sql") || path.ends_with("/up.sql")) => "SQL-folder",
            _ => return None,
        })
    };
    let mut groups: std::collections::BTreeMap<(&str, &str), usize> = std::collections::BTreeMap::new();
    for f in &files.files {
        if let Some(k) = kind(&f.path) {
            let dir = crate::model::parent_dir(&f.path);
            let dir = if k == "SQL-folder" { crate::model::parent_dir(dir) } else { dir };
            *groups.entry((k, dir)).or_default() += 1;
        }
    }
    let ((kind, dir), n) = groups.into_iter().max_by_key(|(_, n)| *n)?;
    let what = if kind == "SQL-folder" { "SQL".to_string() } else { kind.to_string() };
    Some(format!("{n} {what} migration{} ({dir}) zdm cannot read yet", if n == 1 { "" } else { "s" }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_from_urls() {
        assert_eq!(engine_of_url("postgres://u:p@h/db").as_deref(), Some("postgresql"));
        assert_eq!(engine_of_url("jdbc:postgresql://h/db").as_deref(), Some("postgresql"));
        assert_eq!(engine_of_url("mysql+pymysql://h/db").as_deref(), Some("mysql"));
        assert_eq!(engine_of_url("\"sqlite:app.db\"").as_deref(), Some("sqlite"));
        assert_eq!(engine_of_url("env(\"DATABASE_URL\")"), None);
        assert!(is_postgres_engine("postgresql") && is_postgres_engine("pg") && !is_postgres_engine("mysql"));
    }

    #[test]
    fn change_text_reads_every_tools_up_section() {
        assert_eq!(change_text("-- Up Migration\nSELECT 1;\n-- Down Migration\nSELECT 2;\n"), "\nSELECT 1;\n\n");
        assert_eq!(change_text("-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;"), "\nSELECT 1;\n\n");
        assert_eq!(change_text("SELECT 3;"), "SELECT 3;");
    }

    #[test]
    fn config_files_are_read() {
        for p in
            ["package.json", "x/diesel.toml", "drizzle.config.ts", "prisma/schema.prisma", "db/changelog/master.yaml", "V1__a.sql.conf"]
        {
            assert!(wants_contents(p), "{p}");
        }
        for p in ["config/database.yml", "Gemfile.lock", "mix.exs", "config/dev.exs", "lib/shop/repo.ex"] {
            assert!(wants_contents(p), "{p}");
        }
        for p in ["src/main.ts", "README.md", "data.json", "lib/shop/user.ex", "test/test_helper.exs"] {
            assert!(!wants_contents(p), "{p}");
        }
    }
}
