//! sqlx (`sqlx migrate run` / `sqlx::migrate!()`): files directly in the crate's `migrations/` (or
//! `sqlx.toml`'s `[migrate] migrations-dir`), named `<VERSION>_<DESCRIPTION>.sql` (simple, no rollback) or
//! `<VERSION>_<DESCRIPTION>.up.sql` + `.down.sql` (reversible), VERSION an i64. A file whose first bytes
//! are `-- no-transaction` runs outside a transaction; sqlx sends a file as one string (sqlx-core 0.9
//! `migrate/source.rs`, sqlx-postgres `migrate.rs`). Only claimed with a Cargo manifest depending on sqlx:
//! `.up.sql` pairs alone are golang-migrate's shape too.

use super::naming::next_versions;
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles};
use crate::plan::Plan;

/// sqlx.
pub(super) struct Sqlx;

/// The first bytes that make sqlx run a file outside a transaction.
const NO_TRANSACTION: &str = "-- no-transaction";
/// Where zdm puts the rollbacks of simple migrations (sqlx reads files directly in the directory only).
const ROLLBACKS: &str = "rollbacks";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Simple,
    Up,
    Down,
}

/// `20240101120000_add_users.up.sql` → (`20240101120000`, version, kind), as sqlx splits it: at the first
/// `_`, the rest ending in `.sql`, the prefix an i64.
fn parse_name(name: &str) -> Option<(&str, i64, Kind)> {
    let (version, rest) = name.split_once('_')?;
    if !rest.ends_with(".sql") {
        return None;
    }
    let n = version.parse::<i64>().ok()?;
    let kind = if rest.ends_with(".up.sql") {
        Kind::Up
    } else if rest.ends_with(".down.sql") {
        Kind::Down
    } else {
        Kind::Simple
    };
    Some((version, n, kind))
}

/// sqlx's migration files in `dir` (not below it), by version.
fn migrations<'a>(files: &'a ProjectFiles, dir: &'a str) -> Vec<(&'a str, i64, Kind, &'a ProjectFile)> {
    let mut found: Vec<_> =
        files.in_dir(dir).filter_map(|f| parse_name(common::file_name(&f.path)).map(|(v, n, k)| (v, n, k, f))).collect();
    found.sort_by(|a, b| (a.1, a.3.path.as_str()).cmp(&(b.1, b.3.path.as_str())));
    found
}

/// Another tool's section markers (dbmate, goose) in the directory: not sqlx's.
fn foreign(files: &ProjectFiles, dir: &str) -> bool {
    files.in_dir(dir).filter(|f| f.path.ends_with(".sql")).any(|f| {
        f.contents.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("-- migrate:") || l.starts_with("-- +goose")
        })
    })
}

/// `sqlx.toml`'s `[migrate]` table (and `[migrate.defaults]`) beside a manifest.
struct Config<'a> {
    path: String,
    migrate: &'a str,
    defaults: &'a str,
}

fn config<'a>(files: &'a ProjectFiles, crate_dir: &str) -> Option<Config<'a>> {
    let path = common::join(crate_dir, "sqlx.toml");
    let f = files.files.iter().find(|f| f.path == path)?;
    Some(Config {
        path,
        migrate: common::toml_table(&f.contents, "migrate").unwrap_or(""),
        defaults: common::toml_table(&f.contents, "migrate.defaults").unwrap_or(""),
    })
}

/// A key of a config table that is there but has no readable value.
fn malformed(table: &str, key: &str) -> bool {
    table.lines().any(|l| l.trim_start().starts_with(key)) && common::config_value(table, key).is_none()
}

/// The crate root whose `migrations` (or configured) directory is `dir`, and its `sqlx.toml`.
fn owner<'a>(files: &'a ProjectFiles, dir: &str) -> Option<Config<'a>> {
    common::cargo_users(files, "sqlx").into_iter().find_map(|(m, _)| {
        let c = config(files, crate::model::parent_dir(&m.path))?;
        let d = common::config_value(c.migrate, "migrations-dir").unwrap_or_else(|| "migrations".into());
        (common::resolve(crate::model::parent_dir(&m.path), &d).as_deref() == Some(dir)).then_some(c)
    })
}

/// Whether new migrations are reversible: `sqlx.toml`'s `migration-type`, else the newest migration's kind
/// (what `sqlx migrate add` infers); a directory without migrations gets reversible ones (zdm's plans
/// have rollbacks).
fn reversible(files: &ProjectFiles, dir: &str) -> bool {
    match owner(files, dir).and_then(|c| common::config_value(c.defaults, "migration-type")).as_deref() {
        Some("simple") => false,
        Some("reversible") => true,
        _ => migrations(files, dir).last().is_none_or(|m| m.2 != Kind::Simple),
    }
}

/// `count` versions after the directory's, continuing its scheme (or `sqlx.toml`'s `migration-versioning`).
fn versions(files: &ProjectFiles, dir: &str, now: &str, count: usize) -> Vec<String> {
    let found = migrations(files, dir);
    let existing: Vec<&str> = found.iter().map(|m| m.0).collect();
    let forced = owner(files, dir).and_then(|c| common::config_value(c.defaults, "migration-versioning"));
    match forced.as_deref() {
        Some("sequential") if existing.iter().all(|v| v.len() == 14) => {
            // `sqlx migrate add --sequential`: latest + 1, four digits (`{:04}`).
            let max = found.iter().map(|m| m.1).max().unwrap_or(0);
            (1..=count as i64).map(|i| format!("{:04}", max + i)).collect()
        }
        Some("timestamp") => next_versions(&existing.iter().copied().filter(|v| v.len() == 14).collect::<Vec<_>>(), now, count),
        _ => next_versions(&existing, now, count),
    }
}

fn naming(files: &ProjectFiles, dir: &str, now: &str) -> String {
    let v = versions(files, dir, now, 1).pop().unwrap_or_default();
    let scheme = if v.len() == 14 { "<YYYYMMDDHHMMSS>".to_string() } else { format!("<{}-digit sequence>", v.len()) };
    let files = if reversible(files, dir) { "_<name>.up.sql + .down.sql" } else { "_<name>.sql" };
    common::join(dir, &format!("{scheme}{files}"))
}

impl Tool for Sqlx {
    /// A first line `-- no-transaction` runs the file outside a transaction.
    fn runs_in_transaction(&self, files: &ProjectFiles, m: &SourceMigration) -> bool {
        super::file_text(files, &m.path).lines().next().is_none_or(|l| l.trim() != "-- no-transaction")
    }
    fn id(&self) -> &'static str {
        "sqlx"
    }

    fn default_dir(&self) -> &'static str {
        "migrations"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let mut out: Vec<Detection> = Vec::new();
        for (manifest, engine) in common::cargo_users(files, "sqlx") {
            let root = crate::model::parent_dir(&manifest.path);
            let config = config(files, root);
            let (dir, confidence, evidence) = match &config {
                Some(c) => {
                    if malformed(c.migrate, "migrations-dir") {
                        return Err(DetectError::in_file(&c.path, "`migrations-dir` in [migrate] has no readable value"));
                    }
                    let d = common::config_value(c.migrate, "migrations-dir").unwrap_or_else(|| "migrations".into());
                    let Some(dir) = common::resolve(root, &d) else {
                        return Err(DetectError::in_file(&c.path, format!("`migrations-dir = \"{d}\"` leaves the project")));
                    };
                    (dir, Confidence::High, format!("{} with {}", c.path, manifest.path))
                }
                None => (common::join(root, "migrations"), Confidence::Medium, format!("{} depends on sqlx", manifest.path)),
            };
            if (config.is_none() && migrations(files, &dir).is_empty()) || foreign(files, &dir) || out.iter().any(|d| d.dir == dir) {
                continue;
            }
            out.push(Detection::new("sqlx", dir, confidence, evidence).with_engine(engine));
        }
        out.sort_by_key(|d| std::cmp::Reverse(d.confidence));
        Ok(out)
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        migrations(files, &detection.dir)
            .into_iter()
            .filter(|m| m.2 != Kind::Down)
            .map(|(_, _, _, f)| SourceMigration::sql(f.path.clone(), f.contents.clone()))
            .collect()
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let dir = &detection.dir;
        let table = owner(files, dir).and_then(|c| common::config_value(c.migrate, "table-name"));
        Profile {
            naming: naming(files, dir, now),
            next_version: versions(files, dir, now, 1).pop().unwrap_or_default(),
            down: if reversible(files, dir) {
                "`.down.sql` file of the reversible pair (`sqlx migrate revert`)".into()
            } else {
                format!("none for simple migrations: zdm writes the rollback to {}", common::join(dir, &format!("{ROLLBACKS}/")))
            },
            no_transaction: format!("`{NO_TRANSACTION}` as the file's first line (one statement per such file)"),
            history_table: table.unwrap_or_else(|| "_sqlx_migrations".into()),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        let dir = &detection.dir;
        let steps = common::file_steps(plan);
        let taken: Vec<i64> = migrations(files, dir).iter().map(|m| m.1).collect();
        let reversible = reversible(files, dir);
        let total = plan.steps.len();
        // The switch must be the file's very first bytes, so it comes before zdm's header.
        let file = |step: &crate::plan::Step, sql: &str, transaction: bool| {
            let switch = if transaction { String::new() } else { format!("{NO_TRANSACTION}\n") };
            format!("{switch}{}{}\n", common::header(step, total), sql.trim_end())
        };
        let mut out: Vec<(String, Vec<GeneratedFile>)> = Vec::new();
        let mut simple = false;
        for (step, version) in steps.iter().zip(versions(files, dir, now, steps.len())) {
            let base = common::join(dir, &format!("{version}_{}", step.slug));
            if version.parse::<i64>().is_ok_and(|v| taken.contains(&v)) {
                return Err(WriteError { message: format!("{base}: version {version} is taken; zdm never overwrites a migration") });
            }
            let mut generated = Vec::new();
            let up_path = if reversible { format!("{base}.up.sql") } else { format!("{base}.sql") };
            common::ensure_free(files, &[], &up_path)?;
            generated.push(GeneratedFile::new(up_path.clone(), file(step, &step.up, step.transaction)));
            if reversible {
                let down = format!("{base}.down.sql");
                common::ensure_free(files, &[], &down)?;
                generated.push(GeneratedFile::new(down, file(step, &step.down, step.down_transaction)));
            } else {
                let down = common::join(dir, &format!("{ROLLBACKS}/{version}_{}.sql", step.slug));
                common::ensure_free(files, &[], &down)?;
                let how = [
                    format!("Rollback of {} (sqlx cannot revert a simple migration). Run it by hand,", common::file_name(&up_path)),
                    "newest step first, then make sqlx forget the migration:".to_string(),
                    format!("  {}", common::psql_command(&down)),
                    format!(
                        "  psql \"$DATABASE_URL\" -c 'DELETE FROM _sqlx_migrations WHERE version = {}'",
                        version.parse::<i64>().unwrap_or_default()
                    ),
                ];
                generated.push(GeneratedFile::new(down, common::manual_file(step, total, &how, &step.down, step.down_transaction)));
                simple = true;
            }
            out.push((up_path, generated));
        }
        let mut notes = Vec::new();
        if simple {
            notes.push(format!(
                "sqlx cannot revert simple migrations; each rollback says how to run it: {}",
                common::join(dir, &format!("{ROLLBACKS}/"))
            ));
        }
        Ok(common::written(plan, out, notes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_sqlx_splits_them() {
        assert_eq!(parse_name("20240101120000_add_users.up.sql"), Some(("20240101120000", 20_240_101_120_000, Kind::Up)));
        assert_eq!(parse_name("0002_add_posts.down.sql"), Some(("0002", 2, Kind::Down)));
        assert_eq!(parse_name("3_x.sql"), Some(("3", 3, Kind::Simple)));
        assert_eq!(parse_name("schema.sql"), None);
        assert_eq!(parse_name("V1__init.sql"), None);
        assert_eq!(parse_name("0001_notes.md"), None);
    }

    fn project(files: &[(&str, &str)]) -> ProjectFiles {
        ProjectFiles::new(files.iter().map(|(p, c)| ProjectFile { path: (*p).into(), contents: (*c).into() }).collect())
    }

    #[test]
    fn detection_needs_a_manifest() {
        let pairs = [("migrations/1_a.up.sql", "SELECT 1;"), ("migrations/1_a.down.sql", "SELECT 1;")];
        assert!(Sqlx.detect(&project(&pairs)).unwrap().is_empty());
        let mut with = pairs.to_vec();
        with.push(("Cargo.toml", "[dependencies]\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n"));
        let d = Sqlx.detect(&project(&with)).unwrap();
        assert_eq!((d[0].dir.as_str(), d[0].confidence, d[0].engine.as_deref()), ("migrations", Confidence::Medium, Some("postgresql")));
        with.push(("sqlx.toml", "[migrate]\nmigrations-dir = \"db\"\n"));
        let d = Sqlx.detect(&project(&with)).unwrap();
        assert_eq!((d[0].dir.as_str(), d[0].confidence), ("db", Confidence::High));
        with.pop();
        with.push(("sqlx.toml", "[migrate]\nmigrations-dir = \"db\n"));
        assert!(Sqlx.detect(&project(&with)).unwrap_err().message.starts_with("sqlx.toml:"));
    }

    #[test]
    fn style_and_versions_follow_the_directory() {
        let cargo = ("Cargo.toml", "[dependencies]\nsqlx = \"0.8\"\n");
        let seq = project(&[cargo, ("migrations/0001_a.sql", ""), ("migrations/0002_b.sql", "")]);
        assert!(!reversible(&seq, "migrations"));
        assert_eq!(versions(&seq, "migrations", "20261125140000", 2), vec!["0003", "0004"]);
        assert!(reversible(&project(&[cargo]), "migrations"));
        let conf =
            project(&[cargo, ("sqlx.toml", "[migrate.defaults]\nmigration-versioning = \"sequential\"\nmigration-type = \"simple\"\n")]);
        assert_eq!(versions(&conf, "migrations", "20261125140000", 1), vec!["0001"]);
        assert!(!reversible(&conf, "migrations"));
    }
}
