//! golang-migrate: `<version>_<title>.up.sql` / `.down.sql` pairs, versions any unsigned integer (UTC
//! `20060102150405` timestamps by default, `-seq` sequences of 6 digits by default).
//!
//! How its PostgreSQL driver runs a file (`database/postgres/postgres.go`, `Run` / `runStatement`): the
//! whole file is read and sent as ONE `ExecContext` without arguments (a simple-query string), with no
//! transaction of its own; whitespace-only files are skipped. PostgreSQL runs a string of several
//! statements in one implicit transaction block, so a transactional step is atomic as written (an explicit
//! `BEGIN;` would only leave the session in an aborted transaction when a statement fails), and a step that
//! must run outside a transaction holds exactly one statement, alone in its file. `x-multi-statement=true`
//! splits a file on every `;` (`database/multistmt`, no quoting rules), which breaks `DO` bodies: zdm's
//! files assume the default. The history is `schema_migrations(version bigint, dirty boolean)`, one row.

use super::naming::{Scheme, next_versions, scheme};
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles};
use crate::plan::Plan;

/// golang-migrate.
pub(super) struct GolangMigrate;

const GO_MODULE: &str = "github.com/golang-migrate/migrate";

/// `(version, title)` of `123_title.up.sql` / `123_title.down.sql` (golang-migrate's `source.Regex`,
/// `^([0-9]+)_(.*)\.(down|up)\.(.*)$`, with the `sql` extension).
fn parse_name(name: &str, direction: &str) -> Option<(u64, String)> {
    let stem = name.strip_suffix(".sql")?.strip_suffix(direction)?.strip_suffix('.')?;
    let (version, title) = stem.split_once('_')?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((version.parse().ok()?, title.to_string()))
}

fn ups<'a>(files: &'a ProjectFiles, dir: &'a str) -> impl Iterator<Item = (&'a ProjectFile, u64, &'a str)> + 'a {
    files.in_dir(dir).filter_map(|f| {
        let name = common::file_name(&f.path);
        parse_name(name, "up").map(|(v, _)| (f, v, name.split('_').next().unwrap_or("")))
    })
}

/// Directories holding at least one `.up.sql` with its `.down.sql`.
fn paired_dirs(files: &ProjectFiles) -> Vec<String> {
    common::dirs_with(files, |f| {
        parse_name(common::file_name(&f.path), "up").is_some() && files.exists(&f.path.replace(".up.sql", ".down.sql"))
    })
}

impl Tool for GolangMigrate {
    fn id(&self) -> &'static str {
        "golang-migrate"
    }

    fn default_dir(&self) -> &'static str {
        "db/migrations"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let go_mod = common::manifest_with(files, "go.mod", GO_MODULE);
        // sqlx reads the same pairs; without go.mod evidence, a Cargo.toml naming sqlx makes them its.
        if go_mod.is_none() && common::manifest_with(files, "Cargo.toml", "sqlx").is_some() {
            return Ok(Vec::new());
        }
        Ok(paired_dirs(files)
            .into_iter()
            .map(|dir| {
                let shown = common::shown(&dir);
                let (confidence, evidence) = match go_mod {
                    Some(m) => (Confidence::Medium, format!("{} requires {GO_MODULE}; {shown}/*.up.sql with .down.sql", m.path)),
                    None => (Confidence::Low, format!("{shown}/*.up.sql with .down.sql pairs")),
                };
                let engine = common::engine_of_dir(&dir);
                Detection::new("golang-migrate", dir, confidence, evidence).with_engine(engine)
            })
            .collect())
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        // Applied in numeric version order; the `.up.sql` file is all forward SQL.
        let mut found: Vec<(u64, &ProjectFile)> = ups(files, &detection.dir).map(|(f, v, _)| (v, f)).collect();
        found.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.path.cmp(&b.1.path)));
        found.into_iter().map(|(_, f)| SourceMigration::sql(f.path.clone(), f.contents.clone())).collect()
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let existing = versions(files, &detection.dir);
        let pattern = match scheme(&existing) {
            Scheme::Timestamp => "<YYYYMMDDHHMMSS UTC>".to_string(),
            Scheme::Sequence(w) => format!("<{w}-digit sequence>"),
        };
        Profile {
            naming: common::join(&detection.dir, &format!("{pattern}_<name>.up.sql + .down.sql")),
            next_version: next_versions(&existing, now, 1).pop().unwrap_or_default(),
            down: "`.down.sql` file beside the `.up.sql`".into(),
            no_transaction: "none needed: the PostgreSQL driver sends each file as one string without a transaction of its \
                             own (a non-transactional step is one statement in its own file; keep x-multi-statement off)"
                .into(),
            history_table: "schema_migrations (version bigint, dirty boolean: one row)".into(),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        let dir = &detection.dir;
        // New versions continue the directory: UTC timestamps (`migrate create` without `-seq`, `-tz`
        // defaults to UTC) or the sequence with its width kept (`-seq -digits` defaults to 6).
        let existing = versions(files, dir);
        let steps = common::file_steps(plan);
        let total = plan.steps.len();
        let taken: Vec<u64> = existing.iter().filter_map(|v| v.parse().ok()).collect();
        let mut out = Vec::with_capacity(steps.len());
        for (step, version) in steps.iter().zip(next_versions(&existing, now, steps.len())) {
            let up_path = common::join(dir, &format!("{version}_{}.up.sql", step.slug));
            let down_path = common::join(dir, &format!("{version}_{}.down.sql", step.slug));
            if version.parse::<u64>().is_ok_and(|v| taken.contains(&v)) {
                return Err(WriteError { message: format!("a migration with version {version} already exists in {dir}") });
            }
            common::ensure_free(files, &[], &up_path)?;
            common::ensure_free(files, &[], &down_path)?;
            // One string per file: a non-transactional step holds exactly one statement (the plan's
            // invariant), a transactional one runs in PostgreSQL's implicit transaction block.
            let header = common::header(step, total);
            let up = GeneratedFile::new(up_path.clone(), format!("{header}{}\n", step.up.trim_end()));
            let down = GeneratedFile::new(down_path, format!("{header}{}\n", step.down.trim_end()));
            out.push((up_path, vec![up, down]));
        }
        Ok(common::written(plan, out, Vec::new()))
    }
}

fn versions<'a>(files: &'a ProjectFiles, dir: &'a str) -> Vec<&'a str> {
    let mut v: Vec<&str> = ups(files, dir).map(|(_, _, prefix)| prefix).collect();
    v.extend(files.in_dir(dir).filter_map(|f| {
        let name = common::file_name(&f.path);
        parse_name(name, "down").map(|_| name.split('_').next().unwrap_or(""))
    }));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProjectFile;

    fn project(paths: &[(&str, &str)]) -> ProjectFiles {
        ProjectFiles::new(paths.iter().map(|(p, c)| ProjectFile { path: (*p).into(), contents: (*c).into() }).collect())
    }

    #[test]
    fn names_follow_the_source_regex() {
        assert_eq!(parse_name("000012_add_users.up.sql", "up"), Some((12, "add_users".into())));
        assert_eq!(parse_name("1_x.down.sql", "down"), Some((1, "x".into())));
        assert_eq!(parse_name("1_x.down.sql", "up"), None);
        assert_eq!(parse_name("V1__x.up.sql", "up"), None);
        assert_eq!(parse_name("20240101_x.sql", "up"), None);
    }

    #[test]
    fn reads_in_numeric_order_and_claims_pairs_only() {
        let files = project(&[
            ("db/10_b.up.sql", "B"),
            ("db/10_b.down.sql", ""),
            ("db/9_a.up.sql", "A"),
            ("db/9_a.down.sql", ""),
            ("other/1_lonely.up.sql", "X"),
        ]);
        let found = GolangMigrate.detect(&files).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].dir.as_str(), found[0].confidence), ("db", Confidence::Low));
        let read = GolangMigrate.read(&files, &found[0]);
        assert_eq!(read.iter().map(|m| m.up.as_str()).collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(next_versions(&versions(&files, "db"), "20261125140000", 1), ["11"]);
    }

    #[test]
    fn sqlx_projects_are_left_to_sqlx_without_go_mod() {
        let pairs = [("migrations/1_a.up.sql", ""), ("migrations/1_a.down.sql", "")];
        let mut with_cargo = pairs.to_vec();
        with_cargo.push(("Cargo.toml", "[dependencies]\nsqlx = \"0.8\"\n"));
        assert!(GolangMigrate.detect(&project(&with_cargo)).unwrap().is_empty());
        with_cargo.push(("go.mod", "require github.com/golang-migrate/migrate/v4 v4.18.1\n"));
        assert_eq!(GolangMigrate.detect(&project(&with_cargo)).unwrap()[0].confidence, Confidence::Medium);
    }
}
