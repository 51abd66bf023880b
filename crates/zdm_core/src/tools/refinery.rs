//! refinery (`refinery migrate -p DIR`, `embed_migrations!`): every file below the migrations directory,
//! recursively, whose name matches `^[U|V](\d+(?:\.\d+)?)__(\w+)\.sql$` (`.rs` too when embedded), in
//! version order (refinery-core 0.10 `util.rs`). No down migrations. Each migration runs in its own
//! transaction, the SQL sent as one string (`batch_execute`), and refinery up to 0.10.1 has no switch to
//! run one outside a transaction (rust-db/refinery#277 is open): such a step is written as a file the user
//! runs with psql, and a migration that only records it.

use super::naming::next_versions;
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles};
use crate::plan::Plan;

/// refinery.
pub(super) struct Refinery;

/// refinery's history table (`refinery migrate --table-name` changes it).
const HISTORY: &str = "refinery_schema_history";
/// The table a by-hand step's file marks itself done in, so the migration that records the step can
/// refuse to run before it.
const MANUAL: &str = "zdm_manual_steps";

/// `V7__add_users.sql` → (`V`, `7`, version 7), as refinery's regex reads a name; `.rs` with `code`.
fn parse_name(name: &str, code: bool) -> Option<(char, &str, i64)> {
    let prefix = name.chars().next().filter(|c| matches!(c, 'U' | 'V'))?;
    let rest = &name[1..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (version, rest) = rest.split_at(digits);
    let rest = rest.strip_prefix("__")?;
    let stem = rest.strip_suffix(".sql").or_else(|| if code { rest.strip_suffix(".rs") } else { None })?;
    let word = !stem.is_empty() && stem.chars().all(|c| c.is_alphanumeric() || c == '_');
    (digits > 0 && word).then(|| version.parse().ok().map(|v| (prefix, version, v)))?
}

/// refinery's migrations below `dir` (SQL, and Rust ones when `code`), by version.
fn migrations<'a>(files: &'a ProjectFiles, dir: &'a str, code: bool) -> Vec<(char, &'a str, i64, &'a ProjectFile)> {
    let mut found: Vec<_> =
        common::under(files, dir).filter_map(|f| parse_name(common::file_name(&f.path), code).map(|(p, v, n)| (p, v, n, f))).collect();
    found.sort_by(|a, b| (a.2, &a.3.path).cmp(&(b.2, &b.3.path)));
    found
}

/// The engine `refinery.toml`'s `db_type` names (`Postgres`, `Mysql`, `Sqlite`, `Mssql`).
fn engine_of_config(config: &ProjectFile) -> Result<String, DetectError> {
    let main = common::toml_table(&config.contents, "main").unwrap_or(&config.contents);
    let Some(db_type) = common::config_value(main, "db_type") else {
        return Err(DetectError::in_file(&config.path, "[main] has no `db_type`"));
    };
    Ok(match db_type.to_ascii_lowercase().as_str() {
        "postgres" => "postgresql",
        "mysql" => "mysql",
        "sqlite" => "sqlite",
        "mssql" => "sqlserver",
        _ => return Err(DetectError::in_file(&config.path, format!("unknown db_type `{db_type}` (Postgres, Mysql, Sqlite or Mssql)"))),
    }
    .to_string())
}

/// The migrations root a migration file belongs to: the shallowest directory below the crate whose name
/// says migrations, else the file's own directory.
fn root_of(crate_dir: &str, path: &str) -> String {
    let inner = if crate_dir.is_empty() { path } else { &path[crate_dir.len() + 1..] };
    let mut parts: Vec<&str> = inner.split('/').collect();
    parts.pop();
    let keep = parts.iter().position(|p| p.to_ascii_lowercase().contains("migrat")).map_or(parts.len(), |i| i + 1);
    let rel = parts[..keep].join("/");
    if crate_dir.is_empty() { rel } else { common::join(crate_dir, &rel) }
}

impl Tool for Refinery {
    fn id(&self) -> &'static str {
        "refinery"
    }

    fn default_dir(&self) -> &'static str {
        "migrations"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let mut out: Vec<Detection> = Vec::new();
        let configs = common::named(files, "refinery.toml");
        let config_engines = configs.iter().map(|c| engine_of_config(c).map(|e| (*c, e))).collect::<Result<Vec<_>, _>>()?;
        for (manifest, engine) in common::cargo_users(files, "refinery") {
            let root = crate::model::parent_dir(&manifest.path);
            let config = config_engines.iter().find(|(c, _)| crate::model::parent_dir(&c.path) == root);
            let mut dirs: Vec<String> = migrations(files, root, true).iter().map(|m| root_of(root, &m.3.path)).collect();
            dirs.sort();
            dirs.dedup();
            for dir in dirs {
                // A directory below another one found is part of it (refinery reads recursively).
                if out.iter().any(|d| dir == d.dir || dir.starts_with(&format!("{}/", d.dir))) {
                    continue;
                }
                let (confidence, evidence, engine) = match config {
                    Some((c, e)) => (Confidence::High, format!("{} with {}", c.path, manifest.path), Some(e.clone())),
                    None => (Confidence::Medium, format!("{} depends on refinery; {dir}/V<n>__<name>.sql", manifest.path), engine.clone()),
                };
                out.push(Detection::new("refinery", dir, confidence, evidence).with_engine(engine));
            }
        }
        Ok(out)
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        migrations(files, &detection.dir, true)
            .into_iter()
            .map(|(_, _, _, f)| {
                if f.path.ends_with(".rs") {
                    SourceMigration::unread(f.path.clone(), "a Rust migration")
                } else {
                    SourceMigration::sql(f.path.clone(), f.contents.clone())
                }
            })
            .collect()
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let (prefix, next) = next(files, &detection.dir, now, 1);
        let width = next.first().map_or(1, String::len);
        Profile {
            naming: common::join(
                &detection.dir,
                &format!("{prefix}<{}>__<name>.sql", if width == 14 { "YYYYMMDDHHMMSS".to_string() } else { "n".to_string() }),
            ),
            next_version: next.into_iter().next().unwrap_or_default(),
            down: format!(
                "none: zdm writes the rollback beside as V<n>__<name>.down.sql (refinery skips that name); run it with psql, then `DELETE FROM {HISTORY} WHERE version = <n>`"
            ),
            no_transaction:
                "none: refinery runs each migration in a transaction; zdm writes such a step as V<n>__<name>.manual.sql to run with psql"
                    .into(),
            history_table: HISTORY.into(),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        let dir = &detection.dir;
        let steps = common::file_steps(plan);
        let taken: Vec<i64> = migrations(files, dir, true).iter().map(|m| m.2).collect();
        let (prefix, versions) = next(files, dir, now, steps.len());
        let total = plan.steps.len();
        let mut out: Vec<(String, Vec<GeneratedFile>)> = Vec::new();
        let mut notes = Vec::new();
        let number = |v: &str| v.parse::<i64>().map_or_else(|_| v.to_string(), |n| n.to_string());
        let mut previous: Option<String> = taken.iter().max().map(i64::to_string);
        for (step, version) in steps.iter().zip(versions) {
            if version.parse::<i64>().is_ok_and(|v| taken.contains(&v)) {
                return Err(WriteError { message: format!("{dir}: version {version} is taken; zdm never overwrites a migration") });
            }
            let base = common::join(dir, &format!("{prefix}{version}__{}", step.slug));
            let (path, down) = (format!("{base}.sql"), format!("{base}.down.sql"));
            let name = common::file_name(&path).to_string();
            common::ensure_free(files, &[], &path)?;
            common::ensure_free(files, &[], &down)?;
            let mut generated = Vec::new();
            let runs = if step.transaction {
                generated.push(GeneratedFile::new(path.clone(), format!("{}{}\n", common::header(step, total), step.up.trim_end())));
                path.clone()
            } else {
                // refinery cannot run it: the user runs it with psql at its place; the migration only
                // records it, so the history keeps the step's place.
                let by_hand = format!("{base}.manual.sql");
                common::ensure_free(files, &[], &by_hand)?;
                let key = common::file_name(&base).to_string();
                let stop = crate::model::quote_literal(&format!(
                    "zdm: run {by_hand} by hand first ({}), then refinery migrate again",
                    common::psql_command(&by_hand)
                ));
                // Recording the step before it ran would let the next steps run without it (a contract
                // without its backfill): the migration fails until the by-hand file has marked it done.
                let body = format!(
                    "\nBEGIN\n  IF to_regclass('{MANUAL}') IS NULL THEN\n    RAISE EXCEPTION '%', {stop};\n  END IF;\n  IF NOT EXISTS (SELECT 1 FROM {MANUAL} WHERE step = {k}) THEN\n    RAISE EXCEPTION '%', {stop};\n  END IF;\nEND\n",
                    k = crate::model::quote_literal(&key)
                );
                let record = format!(
                    "{}-- refinery runs every migration inside a transaction; this step cannot run in one.\n-- {} runs it (by hand, before this migration); this migration only records it,\n-- and stops `refinery migrate` here until that file has run.\nDO {};\n",
                    common::header(step, total),
                    common::file_name(&by_hand),
                    crate::model::dollar_quote(&body, "zdm")
                );
                let mut how = vec!["refinery runs every migration inside a transaction and this statement cannot run in one:".to_string()];
                how.push(match &previous {
                    Some(v) => format!("run this file by hand after `refinery migrate -t {v}`:"),
                    None => "run this file by hand first:".to_string(),
                });
                how.push(format!("  {}", common::psql_command(&by_hand)));
                how.push(format!("then `refinery migrate` records it ({name})."));
                generated.push(GeneratedFile::new(path.clone(), record));
                let done = format!(
                    "{}\nCREATE TABLE IF NOT EXISTS {MANUAL} (step text PRIMARY KEY, done_at timestamptz NOT NULL DEFAULT now());\nINSERT INTO {MANUAL} (step) VALUES ({}) ON CONFLICT DO NOTHING;",
                    step.up.trim_end(),
                    crate::model::quote_literal(&key)
                );
                generated.push(GeneratedFile::new(by_hand.clone(), common::manual_file(step, total, &how, &done, false)));
                notes.push(format!("step {}: refinery cannot leave its transaction; run by hand: {}", step.n, common::file_name(&by_hand)));
                by_hand
            };
            let how = [
                format!("Rollback of {name} (refinery has no down migrations). Run it by hand, newest step"),
                "first, then make refinery forget the migration:".to_string(),
                format!("  {}", common::psql_command(&down)),
                format!("  psql \"$DATABASE_URL\" -c 'DELETE FROM {HISTORY} WHERE version = {}'", number(&version)),
            ];
            let undo = if step.transaction {
                step.down.trim_end().to_string()
            } else {
                let key = crate::model::quote_literal(common::file_name(&base));
                format!("{}\nDELETE FROM {MANUAL} WHERE step = {key};", step.down.trim_end())
            };
            generated.push(GeneratedFile::new(down.clone(), common::manual_file(step, total, &how, &undo, step.down_transaction)));
            previous = Some(number(&version));
            out.push((runs, generated));
        }
        notes.push("refinery has no down migrations: each step's V<n>__<name>.down.sql says how to run it".into());
        Ok(common::written(plan, out, notes))
    }
}

/// The prefix (`V`, or `U` when the newest migration is unversioned) and `count` versions after the
/// directory's: max + 1 (a timestamp scheme continues with timestamps).
fn next(files: &ProjectFiles, dir: &str, now: &str, count: usize) -> (char, Vec<String>) {
    let found = migrations(files, dir, true);
    let prefix = found.last().map_or('V', |m| if m.0 == 'U' { 'U' } else { 'V' });
    let existing: Vec<&str> = found.iter().map(|m| m.1).collect();
    if existing.is_empty() {
        return (prefix, (1..=count).map(|i| i.to_string()).collect());
    }
    (prefix, next_versions(&existing, now, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> ProjectFiles {
        ProjectFiles::new(files.iter().map(|(p, c)| ProjectFile { path: (*p).into(), contents: (*c).into() }).collect())
    }

    #[test]
    fn names_as_refinery_matches_them() {
        assert_eq!(parse_name("V1__initial.sql", false), Some(('V', "1", 1)));
        assert_eq!(parse_name("U20240504090301__add_cars.sql", false), Some(('U', "20240504090301", 20_240_504_090_301)));
        assert_eq!(parse_name("V4__add_year.rs", false), None);
        assert_eq!(parse_name("V4__add_year.rs", true), Some(('V', "4", 4)));
        assert_eq!(parse_name("V7__add_x.down.sql", false), None);
        assert_eq!(parse_name("V7__add_x.manual.sql", false), None);
        assert_eq!(parse_name("V7_add_x.sql", false), None);
        assert_eq!(parse_name("R__views.sql", false), None);
    }

    #[test]
    fn detection_needs_the_manifest() {
        let v = [("migrations/V1__init.sql", "CREATE TABLE a (id int);")];
        assert!(Refinery.detect(&project(&v)).unwrap().is_empty());
        let mut with = v.to_vec();
        with.push(("Cargo.toml", "[dependencies]\nrefinery = { version = \"0.8\", features = [\"tokio-postgres\"] }\n"));
        with.push(("migrations/nested/V2__more.sql", ""));
        let d = Refinery.detect(&project(&with)).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].dir.as_str(), d[0].confidence, d[0].engine.as_deref()), ("migrations", Confidence::Medium, Some("postgresql")));
        with.push(("refinery.toml", "[main]\ndb_type = \"Mysql\"\n"));
        let d = Refinery.detect(&project(&with)).unwrap();
        assert_eq!((d[0].confidence, d[0].engine.as_deref()), (Confidence::High, Some("mysql")));
        with.pop();
        with.push(("refinery.toml", "[main]\ndb_host = \"x\"\n"));
        assert!(Refinery.detect(&project(&with)).unwrap_err().message.starts_with("refinery.toml:"));
    }

    #[test]
    fn versions_continue() {
        let p = project(&[("m/V1__a.sql", ""), ("m/V9__b.sql", "")]);
        assert_eq!(next(&p, "m", "20261125140000", 2), ('V', vec!["10".to_string(), "11".to_string()]));
        assert_eq!(next(&project(&[]), "m", "20261125140000", 1), ('V', vec!["1".to_string()]));
        assert_eq!(root_of("api", "api/db/migrations/v1/V1__a.sql"), "api/db/migrations");
        assert_eq!(root_of("", "sql/V1__a.sql"), "sql");
    }
}
