//! dbmate (`-- migrate:up` / `-- migrate:down` sections, `transaction:false` per section) and plain SQL
//! directories, which zdm writes in dbmate's format so a real runner can apply them.

use super::naming::{next_versions, version_prefix};
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFiles, parent_dir};
use crate::plan::Plan;

/// dbmate.
pub(super) struct Dbmate;
/// A directory of numbered `.sql` files with no tool markers.
pub(super) struct RawSql;

const RAW_DIRS: &[&str] =
    &["db/migrations", "migrations", "db/migrate", "database/migrations", "sql/migrations", "sql", "schema", "database", "db"];

use common::file_name;

fn numbered_sql<'a>(files: &'a ProjectFiles, dir: &'a str) -> impl Iterator<Item = &'a crate::model::ProjectFile> + 'a {
    files.in_dir(dir).filter(|f| f.path.ends_with(".sql") && version_prefix(file_name(&f.path)).is_some())
}

fn has_up_marker(text: &str) -> bool {
    text.lines().any(|l| is_directive(l, "up"))
}

/// A dbmate section directive: `--` then optional blanks then `migrate:up` / `migrate:down`.
fn is_directive(line: &str, which: &str) -> bool {
    line.strip_prefix("--").is_some_and(|rest| {
        let rest = rest.trim_start();
        rest.strip_prefix("migrate:")
            .is_some_and(|r| r.starts_with(which) && r[which.len()..].chars().next().is_none_or(char::is_whitespace))
    })
}

/// The `up` part of a migration file: between `-- migrate:up` and `-- migrate:down` (dbmate), between
/// `-- +goose Up` and `-- +goose Down` (goose), or the whole file.
fn up_part(text: &str) -> String {
    up_lines(text).trim_matches('\n').to_string()
}

/// The `up` section with every other line blanked, so line and column numbers stay those of the file.
pub(crate) fn up_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| is_directive(l, "up") || l.trim_start().starts_with("-- +goose Up"));
    let Some(start) = start else {
        return text.to_string();
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| is_directive(l, "down") || l.trim_start().starts_with("-- +goose Down"))
        .map_or(lines.len(), |p| start + 1 + p);
    lines.iter().enumerate().map(|(i, l)| if i > start && i < end { *l } else { "" }).collect::<Vec<_>>().join("\n")
}

fn read_dir(files: &ProjectFiles, dir: &str) -> Vec<SourceMigration> {
    let mut found: Vec<(u128, String, String)> = numbered_sql(files, dir)
        .filter(|f| !f.path.ends_with(".down.sql"))
        .map(|f| {
            let name = file_name(&f.path);
            let version = version_prefix(name).and_then(|(v, _)| v.parse().ok()).unwrap_or(0);
            (version, f.path.clone(), up_part(&f.contents))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, path, up)| SourceMigration::sql(path, up)).collect()
}

fn write_dir(plan: &Plan, files: &ProjectFiles, dir: &str, now: &str) -> Result<Written, WriteError> {
    let existing: Vec<&str> = numbered_sql(files, dir).filter_map(|f| version_prefix(file_name(&f.path)).map(|(v, _)| v)).collect();
    let sep = numbered_sql(files, dir).filter_map(|f| version_prefix(file_name(&f.path)).map(|(_, s)| s)).last().unwrap_or('_');
    let steps = common::file_steps(plan);
    let versions = next_versions(&existing, now, steps.len());
    let total = plan.steps.len();
    let mut out: Vec<(String, Vec<GeneratedFile>)> = Vec::with_capacity(steps.len());
    for (step, version) in steps.iter().zip(versions) {
        let path = common::join(dir, &format!("{version}{sep}{}.sql", step.slug));
        if existing.contains(&version.as_str()) {
            return Err(WriteError {
                message: format!("{path} (or another file with version {version}) already exists; zdm never overwrites a migration"),
            });
        }
        common::ensure_free(files, &[], &path)?;
        let opt = if step.transaction { "" } else { " transaction:false" };
        let down_opt = if step.down_transaction { "" } else { " transaction:false" };
        // A line of the user's text that reads as a section marker would split the file: re-emit it.
        let marker = |l: &str| l.strip_prefix("--").is_some_and(|r| r.trim_start().starts_with("migrate:"));
        let guard = |sql: &str| crate::sql::guard_line_starts(sql.trim_end(), marker).map_err(|e| common::step_error(step, e));
        let (up, down) = (guard(&step.up)?, guard(&step.down)?);
        let contents = format!("{}-- migrate:up{opt}\n{up}\n\n-- migrate:down{down_opt}\n{down}\n", common::header(step, total));
        out.push((path.clone(), vec![GeneratedFile::new(path, contents)]));
    }
    Ok(common::written(plan, out, Vec::new()))
}

fn profile(files: &ProjectFiles, dir: &str, now: &str, raw: bool) -> Profile {
    let existing: Vec<&str> = numbered_sql(files, dir).filter_map(|f| version_prefix(file_name(&f.path)).map(|(v, _)| v)).collect();
    let next = next_versions(&existing, now, 1).pop().unwrap_or_default();
    let scheme = match super::naming::scheme(&existing) {
        super::naming::Scheme::Timestamp => "<YYYYMMDDHHMMSS>".to_string(),
        super::naming::Scheme::Sequence(w) => format!("<{w}-digit sequence>"),
    };
    Profile {
        naming: common::join(dir, &format!("{scheme}_<name>.sql")),
        next_version: next,
        down: "`-- migrate:down` section in the same file".into(),
        no_transaction: "`-- migrate:up transaction:false` (one statement per such section)".into(),
        history_table: if raw { "unknown (files written in dbmate's format)".into() } else { "schema_migrations".into() },
    }
}

impl Tool for Dbmate {
    /// `-- migrate:up transaction:false` runs the section outside a transaction.
    fn runs_in_transaction(&self, files: &ProjectFiles, m: &SourceMigration) -> bool {
        !super::file_text(files, &m.path).lines().any(|l| l.trim_start().starts_with("-- migrate:up") && l.contains("transaction:false"))
    }
    fn id(&self) -> &'static str {
        "dbmate"
    }

    fn default_dir(&self) -> &'static str {
        "db/migrations"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let mut dirs: Vec<String> = files
            .files
            .iter()
            .filter(|f| f.path.ends_with(".sql") && has_up_marker(&f.contents))
            .map(|f| parent_dir(&f.path).to_string())
            .collect();
        dirs.sort();
        dirs.dedup();
        Ok(dirs
            .into_iter()
            .map(|dir| {
                let engine = common::engine_of_dir(&dir);
                Detection::new(
                    "dbmate",
                    dir.clone(),
                    Confidence::Medium,
                    format!("{}/*.sql with `-- migrate:up` sections", if dir.is_empty() { "." } else { &dir }),
                )
                .with_engine(engine)
            })
            .collect())
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        read_dir(files, &detection.dir)
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        profile(files, &detection.dir, now, false)
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        write_dir(plan, files, &detection.dir, now)
    }
}

impl Tool for RawSql {
    /// psql and most runners send plain SQL files statement by statement, in autocommit, unless the file
    /// says `BEGIN` itself.
    fn runs_in_transaction(&self, _files: &ProjectFiles, _m: &SourceMigration) -> bool {
        false
    }
    fn id(&self) -> &'static str {
        "raw-sql"
    }

    fn default_dir(&self) -> &'static str {
        "migrations"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        Ok(RAW_DIRS
            .iter()
            .filter(|d| numbered_sql(files, d).next().is_some())
            .map(|dir| Detection::new("raw-sql", *dir, Confidence::Low, format!("numbered .sql files in {dir}/; runner unknown")))
            .collect())
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        read_dir(files, &detection.dir)
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        profile(files, &detection.dir, now, true)
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        write_dir(plan, files, &detection.dir, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_parts() {
        assert_eq!(up_part("-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;"), "CREATE TABLE a (id int);");
        assert_eq!(up_part("-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;"), "SELECT 1;");
        assert_eq!(up_part("CREATE TABLE b (id int);"), "CREATE TABLE b (id int);");
        assert!(is_directive("-- migrate:up transaction:false", "up"));
        assert!(is_directive("--migrate:down", "down"));
        assert!(!is_directive("-- migrate:upgrade", "up"));
    }

    #[test]
    fn change_text_keeps_line_numbers() {
        let text = "-- migrate:up\nALTER TABLE a ADD b int;\n\n-- migrate:down\nALTER TABLE a DROP b;\n";
        assert_eq!(up_lines(text), "\nALTER TABLE a ADD b int;\n\n\n");
        assert_eq!(up_lines("SELECT 1;"), "SELECT 1;");
    }
}
