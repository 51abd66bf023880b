//! Diesel (`diesel migration run` / `embed_migrations!`): one folder per migration in `migrations/` (or
//! `diesel.toml`'s `[migrations_directory] dir`, relative to that file), `<version>_<name>/up.sql`,
//! `down.sql` and optionally `metadata.toml`. The version is the folder name up to its first `_`, dashes
//! removed, compared as a string (migrations_internals `version_from_string`); diesel_cli 2.x names
//! folders `%Y-%m-%d-%H%M%S-<4 hex>` (UTC, `-0000` unless that second is taken), older CLIs without the
//! suffix. `run_in_transaction = false` in `metadata.toml` runs up.sql and down.sql outside a transaction;
//! each file is sent as one string (`batch_execute`).

use super::naming::{add_seconds, next_versions};
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles};
use crate::plan::{CodeChange, Plan};

/// Diesel.
pub(super) struct Diesel;

/// The folder `diesel setup` creates in a PostgreSQL project.
const INITIAL_SETUP: &str = "00000000000000_diesel_initial_setup";

/// How the project names its migration folders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// `2024-01-01-120000-0000` (diesel_cli 2.x).
    DashedSub,
    /// `2024-01-01-120000` (older CLIs).
    Dashed,
    /// `20240101120000`.
    Compact,
    /// `0001`, this wide.
    Sequence(usize),
}

/// The version part of a folder name (up to the first `_`).
fn version_part(folder: &str) -> &str {
    folder.split('_').next().unwrap_or(folder)
}

fn style_of(version: &str) -> Option<Style> {
    let b = version.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let dashed =
        b.len() >= 17 && digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10) && b[10] == b'-' && digits(11..17);
    if dashed && b.len() == 17 {
        Some(Style::Dashed)
    } else if dashed && b.len() == 22 && b[17] == b'-' && b[18..].iter().all(u8::is_ascii_hexdigit) {
        Some(Style::DashedSub)
    } else if !b.is_empty() && b.iter().all(u8::is_ascii_digit) {
        Some(if b.len() == 14 { Style::Compact } else { Style::Sequence(b.len()) })
    } else {
        None
    }
}

/// A migration folder: its name and its `up.sql`.
struct Folder<'a> {
    name: String,
    up: &'a ProjectFile,
}

impl Folder<'_> {
    /// What Diesel stores and orders by: the version with dashes removed.
    fn version(&self) -> String {
        version_part(&self.name).replace('-', "")
    }
}

/// The migration folders of `dir` (those holding an `up.sql`), in Diesel's order.
fn folders<'a>(files: &'a ProjectFiles, dir: &'a str) -> Vec<Folder<'a>> {
    let mut found: Vec<Folder> = common::under(files, dir)
        .filter(|f| common::file_name(&f.path) == "up.sql")
        .filter_map(|f| {
            let folder = crate::model::parent_dir(&f.path);
            (crate::model::parent_dir(folder) == dir && !common::file_name(folder).starts_with('.'))
                .then(|| Folder { name: common::file_name(folder).to_string(), up: f })
        })
        .collect();
    found.sort_by_key(Folder::version);
    found
}

/// Folder names that only Diesel writes: the initial setup, or a dashed timestamp version.
fn diesel_shaped(folder: &Folder) -> bool {
    folder.name == INITIAL_SETUP || matches!(style_of(version_part(&folder.name)), Some(Style::Dashed | Style::DashedSub))
}

/// `diesel.toml`'s migrations directory (relative to the file), `None` when it names none.
fn configured_dir(config: &ProjectFile) -> Result<Option<String>, DetectError> {
    let Some(table) = common::toml_table(&config.contents, "migrations_directory") else { return Ok(None) };
    let Some(dir) = common::config_value(table, "dir") else {
        return Err(DetectError::in_file(&config.path, "[migrations_directory] has no `dir = \"…\"`"));
    };
    common::resolve(crate::model::parent_dir(&config.path), &dir)
        .map(Some)
        .ok_or_else(|| DetectError::in_file(&config.path, format!("`dir = \"{dir}\"` leaves the project")))
}

/// The `diesel.toml` whose migrations directory is `dir`.
fn config_of<'a>(files: &'a ProjectFiles, dir: &str) -> Option<&'a ProjectFile> {
    common::named(files, "diesel.toml")
        .into_iter()
        .find(|c| configured_dir(c).ok().flatten().unwrap_or_else(|| common::join(crate::model::parent_dir(&c.path), "migrations")) == dir)
}

fn style(files: &ProjectFiles, dir: &str) -> Style {
    folders(files, dir)
        .iter()
        .rev()
        .filter(|f| f.name != INITIAL_SETUP)
        .find_map(|f| style_of(version_part(&f.name)))
        .unwrap_or(Style::DashedSub)
}

/// `count` folder versions after the directory's, in its style: timestamps max(now, latest + 1 s) one
/// second apart, sequences latest + 1.
fn versions(files: &ProjectFiles, dir: &str, now: &str, count: usize) -> Vec<String> {
    let existing: Vec<String> = folders(files, dir).iter().filter(|f| f.name != INITIAL_SETUP).map(Folder::version).collect();
    match style(files, dir) {
        Style::Sequence(_) => next_versions(&existing.iter().map(String::as_str).collect::<Vec<_>>(), now, count),
        style => {
            // Compare on the first 14 digits (a sub-version suffix only orders within one second).
            let latest = existing.iter().filter_map(|v| v.get(..14)).filter(|v| v.bytes().all(|b| b.is_ascii_digit())).max();
            let start = latest.map(|l| add_seconds(l, 1)).filter(|l| l.as_str() > now).unwrap_or_else(|| now.to_string());
            (0..count)
                .map(|i| {
                    let t = add_seconds(&start, i as u64);
                    match style {
                        Style::Compact => t,
                        Style::Dashed => format!("{}-{}-{}-{}", &t[..4], &t[4..6], &t[6..8], &t[8..]),
                        _ => format!("{}-{}-{}-{}-0000", &t[..4], &t[4..6], &t[6..8], &t[8..]),
                    }
                })
                .collect()
        }
    }
}

impl Tool for Diesel {
    /// `run_in_transaction = false` in the migration's `metadata.toml` runs it outside a transaction.
    fn runs_in_transaction(&self, files: &ProjectFiles, m: &SourceMigration) -> bool {
        let meta = format!("{}/metadata.toml", crate::model::parent_dir(&m.path));
        !super::file_text(files, &meta).replace(' ', "").contains("run_in_transaction=false")
    }
    fn orm_changes(&self, change: &CodeChange) -> Vec<String> {
        match change {
            CodeChange::MoveColumn { table, from, to } => {
                vec![format!("Diesel, table! {table} in schema.rs: #[sql_name = {}] {from} -> …", common::dq(to))]
            }
            CodeChange::DropColumn { table, column } => {
                vec![format!("Diesel, table! {table} in schema.rs: remove {column}, and it from the structs that select it")]
            }
            CodeChange::MoveTable { from, to } => vec![format!("Diesel, table! {from} in schema.rs: #[sql_name = {}]", common::dq(to))],
            CodeChange::DropTable { table } => vec![format!("Diesel: remove table! {table} and the structs that use it")],
        }
    }

    fn id(&self) -> &'static str {
        "diesel"
    }

    fn default_dir(&self) -> &'static str {
        "migrations"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let users = common::cargo_users(files, "diesel");
        let engine = |root: &str| {
            users.iter().find(|(m, _)| crate::model::parent_dir(&m.path) == root).or(users.first()).and_then(|(_, e)| e.clone())
        };
        let mut out: Vec<Detection> = Vec::new();
        for config in common::named(files, "diesel.toml") {
            let root = crate::model::parent_dir(&config.path);
            let dir = configured_dir(config)?.unwrap_or_else(|| common::join(root, "migrations"));
            out.push(Detection::new("diesel", dir, Confidence::High, config.path.clone()).with_engine(engine(root)));
        }
        let manifests = common::named(files, "Cargo.toml").into_iter().filter(|m| {
            common::cargo_dependency(&m.contents, "diesel").or_else(|| common::cargo_dependency(&m.contents, "diesel_migrations")).is_some()
        });
        for m in manifests {
            let root = crate::model::parent_dir(&m.path);
            let dir = common::join(root, "migrations");
            if !folders(files, &dir).is_empty() && !out.iter().any(|d| d.dir == dir) {
                let evidence = format!("{} depends on diesel; {dir}/<version>_<name>/up.sql", m.path);
                out.push(Detection::new("diesel", dir, Confidence::Medium, evidence).with_engine(engine(root)));
            }
        }
        // Folders only Diesel names so: the initial setup folder, dashed timestamps.
        let mut shaped: Vec<String> = common::under(files, "")
            .filter(|f| common::file_name(&f.path) == "up.sql")
            .map(|f| crate::model::parent_dir(crate::model::parent_dir(&f.path)).to_string())
            .collect();
        shaped.sort();
        shaped.dedup();
        for dir in shaped {
            let found = folders(files, &dir);
            if out.iter().any(|d| d.dir == dir) || !found.iter().any(diesel_shaped) {
                continue;
            }
            let (confidence, evidence) = if found.iter().any(|f| f.name == INITIAL_SETUP) {
                (Confidence::Medium, format!("{dir}/{INITIAL_SETUP}"))
            } else {
                (Confidence::Low, format!("{dir}/<YYYY-MM-DD-HHMMSS>_<name>/up.sql folders"))
            };
            out.push(Detection::new("diesel", dir.clone(), confidence, evidence).with_engine(common::engine_of_dir(&dir)));
        }
        Ok(out)
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        folders(files, &detection.dir).into_iter().map(|f| SourceMigration::sql(f.up.path.clone(), f.up.contents.clone())).collect()
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let dir = &detection.dir;
        let scheme = match style(files, dir) {
            Style::DashedSub => "<YYYY-MM-DD-HHMMSS>-0000".to_string(),
            Style::Dashed => "<YYYY-MM-DD-HHMMSS>".to_string(),
            Style::Compact => "<YYYYMMDDHHMMSS>".to_string(),
            Style::Sequence(w) => format!("<{w}-digit sequence>"),
        };
        Profile {
            naming: common::join(dir, &format!("{scheme}_<name>/up.sql, down.sql[, metadata.toml]")),
            next_version: versions(files, dir, now, 1).pop().unwrap_or_default(),
            down: "down.sql in the migration folder (`diesel migration revert`)".into(),
            no_transaction: "metadata.toml `run_in_transaction = false` (up and down; one statement per such file)".into(),
            history_table: "__diesel_schema_migrations".into(),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        let dir = &detection.dir;
        let steps = common::file_steps(plan);
        let taken: Vec<String> = folders(files, dir).iter().map(Folder::version).collect();
        let total = plan.steps.len();
        let sql = |step: &crate::plan::Step, sql: &str| format!("{}{}\n", common::header(step, total), sql.trim_end());
        let mut out: Vec<(String, Vec<GeneratedFile>)> = Vec::new();
        let mut notes = Vec::new();
        for (step, version) in steps.iter().zip(versions(files, dir, now, steps.len())) {
            let folder = common::join(dir, &format!("{version}_{}", step.slug));
            if taken.contains(&version.replace('-', "")) || files.files.iter().any(|f| f.path.starts_with(&format!("{folder}/"))) {
                return Err(WriteError { message: format!("{folder}: version {version} is taken; zdm never overwrites a migration") });
            }
            let up = format!("{folder}/up.sql");
            let down = format!("{folder}/down.sql");
            common::ensure_free(files, &[], &up)?;
            let mut generated = vec![GeneratedFile::new(up.clone(), sql(step, &step.up)), GeneratedFile::new(down, sql(step, &step.down))];
            // One switch covers both files. When only one side must leave the transaction, the other
            // still runs atomically: a multi-statement string is one implicit transaction in PostgreSQL.
            if !step.transaction || !step.down_transaction {
                let comment = match (step.transaction, step.down_transaction) {
                    (false, false) => "# zdm: up.sql and down.sql run outside a transaction (one statement each, sent alone)\n",
                    (false, true) => {
                        "# zdm: up.sql runs outside a transaction (one statement, sent alone); this covers down.sql too,\n# whose statements still run as one: PostgreSQL's implicit transaction for a multi-statement string\n"
                    }
                    _ => {
                        "# zdm: down.sql runs outside a transaction (one statement, sent alone); this covers up.sql too,\n# whose statements still run as one: PostgreSQL's implicit transaction for a multi-statement string\n"
                    }
                };
                generated.push(GeneratedFile::new(format!("{folder}/metadata.toml"), format!("{comment}run_in_transaction = false\n")));
            }
            out.push((up, generated));
        }
        if let Some(schema) = config_of(files, dir)
            .and_then(|c| common::toml_table(&c.contents, "print_schema").and_then(|t| common::config_value(t, "file")).map(|f| (c, f)))
            .and_then(|(c, f)| common::resolve(crate::model::parent_dir(&c.path), &f))
        {
            notes.push(format!("`diesel migration run` rewrites {schema} ([print_schema]): commit its diff too"));
        }
        Ok(common::written(plan, out, notes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> ProjectFiles {
        ProjectFiles::new(files.iter().map(|(p, c)| ProjectFile { path: (*p).into(), contents: (*c).into() }).collect())
    }

    #[test]
    fn folder_styles() {
        assert_eq!(style_of("2024-01-01-120000-0000"), Some(Style::DashedSub));
        assert_eq!(style_of("2024-01-01-120000-00a1"), Some(Style::DashedSub));
        assert_eq!(style_of("2024-01-01-120000"), Some(Style::Dashed));
        assert_eq!(style_of("20240101120000"), Some(Style::Compact));
        assert_eq!(style_of("0003"), Some(Style::Sequence(4)));
        assert_eq!(style_of("2024-01-01"), None);
        assert_eq!(version_part("2024-01-01-120000-0000_create_users"), "2024-01-01-120000-0000");
    }

    #[test]
    fn versions_follow_the_folders() {
        let p = project(&[("migrations/00000000000000_diesel_initial_setup/up.sql", ""), ("migrations/2030-01-01-000000_a/up.sql", "")]);
        assert_eq!(versions(&p, "migrations", "20261125140000", 2), vec!["2030-01-01-000001", "2030-01-01-000002"]);
        let p = project(&[("migrations/00000000000000_diesel_initial_setup/up.sql", "")]);
        assert_eq!(versions(&p, "migrations", "20261125140000", 1), vec!["2026-11-25-140000-0000"]);
        let p = project(&[("db/0007_a/up.sql", "")]);
        assert_eq!(versions(&p, "db", "20261125140000", 1), vec!["0008"]);
    }

    #[test]
    fn detection() {
        let p =
            project(&[("diesel.toml", "[print_schema]\nfile = \"src/schema.rs\"\n\n[migrations_directory]\ndir = \"db/migrations\"\n")]);
        let d = Diesel.detect(&p).unwrap();
        assert_eq!((d[0].dir.as_str(), d[0].confidence), ("db/migrations", Confidence::High));
        let p = project(&[("api/diesel.toml", "[migrations_directory]\nfile = \"x\"\n")]);
        assert!(Diesel.detect(&p).unwrap_err().message.starts_with("api/diesel.toml:"));
        let p = project(&[("migrations/2024-01-01-120000_a/up.sql", ""), ("prisma/20240101120000_a/migration.sql", "")]);
        let d = Diesel.detect(&p).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].dir.as_str(), d[0].confidence), ("migrations", Confidence::Low));
        let p = project(&[
            ("Cargo.toml", "[dependencies]\ndiesel = { version = \"2\", features = [\"mysql\"] }\n"),
            ("migrations/0001_a/up.sql", ""),
        ]);
        let d = Diesel.detect(&p).unwrap();
        assert_eq!((d[0].confidence, d[0].engine.as_deref()), (Confidence::Medium, Some("mysql")));
    }
}
