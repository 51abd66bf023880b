//! Migration tools: detect which one a project uses, read its existing migrations (the `up` SQL, in
//! order) and write a plan as files in its conventions. Tools render a plan; they never change its steps
//! or decide safety. Imports `model` and `plan`.
//!
//! Adding a tool: one module here and one line in [`TOOLS`].

mod dbmate;
pub mod naming;

use crate::model::{GeneratedFile, ProjectFiles};
use crate::plan::Plan;
use serde::Serialize;
use std::fmt;

/// What detection found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Detection {
    /// Tool id (`dbmate`, `raw-sql`).
    pub tool: &'static str,
    /// Directory holding the migrations (relative, `/`-separated).
    pub dir: String,
    /// Why zdm thinks so.
    pub evidence: String,
}

/// An existing migration's forward SQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceMigration {
    /// File path.
    pub path: String,
    /// The `up` SQL.
    pub up: String,
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
    /// Stable id.
    fn id(&self) -> &'static str;
    /// Whether the project uses this tool, and where.
    fn detect(&self, files: &ProjectFiles) -> Option<Detection>;
    /// The project's existing migrations, in the order the tool applies them.
    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration>;
    /// The plan's files. `now` is the current UTC time as `YYYYMMDDHHMMSS`.
    ///
    /// # Errors
    /// When a file would overwrite an existing one.
    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Vec<GeneratedFile>, WriteError>;
}

/// The forward part of a migration file given as the change (its `-- migrate:up` or `-- +goose Up`
/// section; the whole text when it has no sections), other lines blanked so positions stay the file's.
#[must_use]
pub fn change_text(text: &str) -> String {
    dbmate::up_lines(text)
}

/// Every tool, most specific first. Detection takes the first that answers.
pub static TOOLS: &[&dyn Tool] = &[&dbmate::Dbmate, &dbmate::RawSql];

/// The project's tool, or raw SQL in `migrations/` when nothing is recognised.
#[must_use]
pub fn detect(files: &ProjectFiles) -> (&'static dyn Tool, Detection) {
    for tool in TOOLS {
        if let Some(d) = tool.detect(files) {
            return (*tool, d);
        }
    }
    (
        &dbmate::RawSql,
        Detection { tool: "raw-sql", dir: "migrations".into(), evidence: "no migration tool found; new migrations/ directory".into() },
    )
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
