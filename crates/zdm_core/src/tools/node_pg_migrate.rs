//! node-pg-migrate: one directory (`migrations/` or `--migrations-dir`/`-m`), every non-hidden file in it a
//! migration named `<prefix>_<name>.<ext>`, sorted by the numeric prefix (`Date.now()` milliseconds by
//! default, 17-digit UTC `YYYYMMDDHHmmssSSS` or a zero-padded index with `--migration-filename-format`).
//!
//! SQL migrations (`src/sqlMigration.ts`, `getActions`, v9.0.0): the up part starts at the first line
//! matching `^\s*--[\s-]*up\s+migration` (case-insensitive) and runs to the down marker, the whole file
//! when there is no up marker; each part is handed to `pgm.sql` as ONE string, so PostgreSQL runs it as
//! one simple query. The runner wraps each migration in `BEGIN;`/`COMMIT;` (`src/migration.ts`, `_apply`)
//! or, by default (`--single-transaction`), all pending ones in one transaction; only `pgm.noTransaction()`
//! in a JavaScript migration takes one out ("Need to break single transaction!"). SQL migrations have no
//! such switch, so a step that must run outside a transaction is written as a `.js` migration.

use super::naming::{epoch_millis, next_versions};
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles};
use crate::plan::{Plan, Step};

/// node-pg-migrate.
pub(super) struct NodePgMigrate;

const PACKAGE: &str = "node-pg-migrate";

/// Whether a line would match node-pg-migrate's `^\s*--[\s-]*<word>\s+migration` for `up` or `down`,
/// read conservatively (`-- up` alone counts: the regex's `\s+` reaches over the line end).
fn marker_word(line: &str) -> Option<&'static str> {
    let rest = line.trim_start().strip_prefix("--")?.trim_start_matches(|c: char| c == '-' || c.is_whitespace());
    let lower = rest.to_ascii_lowercase();
    ["up", "down"].into_iter().find(|w| lower.strip_prefix(w).is_some_and(|r| r.is_empty() || r.starts_with(char::is_whitespace)))
}

/// A full `-- Up Migration` / `-- Down Migration` line, as the runner's regex matches it within a line.
fn is_section(line: &str, which: &str) -> bool {
    marker_word(line) == Some(which) && {
        let rest = line.trim_start().trim_start_matches(|c: char| c == '-' || c.is_whitespace());
        rest[which.len()..].trim_start().to_ascii_lowercase().starts_with("migration")
    }
}

/// The up part of a SQL migration with its sections, other lines blank; `None` when it has no
/// `-- Up Migration` line (node-pg-migrate then runs the whole file).
pub(crate) fn up_lines(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| is_section(l, "up"))?;
    let end = lines.iter().position(|l| is_section(l, "down")).filter(|d| *d > start).unwrap_or(lines.len());
    Some(common::keep_lines(text, |i, _| i > start && i < end))
}

/// The leading digits of a file name, when a non-digit follows them.
fn prefix(name: &str) -> Option<&str> {
    let digits = name.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0 && digits < name.len()).then(|| &name[..digits])
}

/// The order key node-pg-migrate sorts by (`getNumericPrefix`): a 17-digit prefix is a UTC date read as
/// milliseconds, anything else its numeric value.
fn order(prefix: &str) -> u128 {
    if prefix.len() == 17 {
        u128::from(epoch_millis(&prefix[..14])) + prefix[14..].parse::<u128>().unwrap_or(0)
    } else {
        prefix.parse().unwrap_or(u128::MAX)
    }
}

fn migrations<'a>(files: &'a ProjectFiles, dir: &'a str) -> impl Iterator<Item = (&'a ProjectFile, &'a str)> + 'a {
    files.in_dir(dir).filter_map(|f| {
        let name = common::file_name(&f.path);
        if name.starts_with('.') {
            return None;
        }
        prefix(name).map(|p| (f, p))
    })
}

/// New prefixes: `Date.now()` milliseconds (the default, also for a new directory), 17-digit UTC, or the
/// index with its width kept; always after the newest existing one, one second apart.
fn next(existing: &[&str], now: &str, count: usize) -> Vec<String> {
    let step = 1000;
    match existing.iter().map(|v| v.len()).max() {
        None | Some(13) => {
            let latest = existing.iter().filter(|v| v.len() == 13).filter_map(|v| v.parse::<u64>().ok()).max();
            let start = epoch_millis(now).max(latest.map_or(0, |l| l + 1));
            (0..count as u64).map(|i| (start + i * step).to_string()).collect()
        }
        Some(17) => {
            let seconds: Vec<&str> = existing.iter().filter(|v| v.len() == 17).map(|v| &v[..14]).collect();
            next_versions(&seconds, now, count).into_iter().map(|v| format!("{v}000")).collect()
        }
        Some(_) => next_versions(existing, now, count),
    }
}

/// `-m DIR` / `--migrations-dir DIR` / `--migrations-dir=DIR` after `node-pg-migrate` in a script.
fn script_dirs(package_json: &str) -> Vec<String> {
    let mut dirs = Vec::new();
    for (i, _) in package_json.match_indices("node-pg-migrate ") {
        let script = package_json[i..].split(['"', '&', ';', '|', '\n']).next().unwrap_or("");
        let words: Vec<&str> = script.split_whitespace().collect();
        for (j, w) in words.iter().enumerate() {
            let value = match *w {
                "-m" | "--migrations-dir" => words.get(j + 1).copied(),
                _ => w.strip_prefix("--migrations-dir=").or_else(|| w.strip_prefix("-m=")),
            };
            if let Some(v) = value.map(|v| v.trim_matches('\'').to_string())
                && !dirs.contains(&v)
            {
                dirs.push(v);
            }
        }
    }
    dirs
}

impl Tool for NodePgMigrate {
    /// `pgm.noTransaction()` runs the migration outside a transaction.
    fn runs_in_transaction(&self, files: &ProjectFiles, m: &SourceMigration) -> bool {
        !super::file_text(files, &m.path).contains("pgm.noTransaction()")
    }
    fn id(&self) -> &'static str {
        "node-pg-migrate"
    }

    fn default_dir(&self) -> &'static str {
        "migrations"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let mut found: Vec<Detection> = Vec::new();
        let mut add = |dir: String, evidence: String| {
            if let Some(d) = found.iter_mut().find(|d| d.dir == dir) {
                d.evidence.push_str(&format!("; {evidence}"));
            } else {
                found
                    .push(Detection::new("node-pg-migrate", dir, Confidence::Medium, evidence).with_engine(Some("postgresql".to_string())));
            }
        };
        for pkg in common::named(files, "package.json") {
            if !pkg.contents.contains(&format!("\"{PACKAGE}\"")) {
                continue;
            }
            let base = crate::model::parent_dir(&pkg.path);
            let scripts = script_dirs(&pkg.contents);
            if scripts.is_empty() {
                add(common::join(base, "migrations"), format!("{} depends on {PACKAGE}", pkg.path));
            }
            for given in scripts {
                let Some(dir) = common::resolve(base, &given) else {
                    return Err(DetectError::in_file(&pkg.path, format!("--migrations-dir {given} points outside the project")));
                };
                add(dir, format!("{} runs {PACKAGE} -m {given}", pkg.path));
            }
        }
        for dir in common::dirs_with(files, |f| f.path.ends_with(".sql") && f.contents.lines().any(|l| is_section(l, "up"))) {
            let evidence = format!("{}/*.sql with `-- Up Migration` sections", common::shown(&dir));
            add(dir, evidence);
        }
        Ok(found)
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        let mut found: Vec<(u128, &ProjectFile)> = migrations(files, &detection.dir).map(|(f, p)| (order(p), f)).collect();
        found.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.path.cmp(&b.1.path)));
        found
            .into_iter()
            .filter_map(|(_, f)| {
                let ext = f.path.rsplit_once('.').map_or("", |(_, e)| e);
                match ext {
                    "sql" => Some(SourceMigration::sql(f.path.clone(), up_lines(&f.contents).unwrap_or_else(|| f.contents.clone()))),
                    "js" | "cjs" | "mjs" => Some(match zdm_js_up(&f.contents) {
                        Some(up) => SourceMigration::sql(f.path.clone(), up),
                        None => SourceMigration::unread(f.path.clone(), "a JavaScript migration"),
                    }),
                    "ts" | "cts" | "mts" => Some(SourceMigration::unread(f.path.clone(), "a TypeScript migration")),
                    _ => None,
                }
            })
            .collect()
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let existing: Vec<&str> = migrations(files, &detection.dir).map(|(_, p)| p).collect();
        let pattern = match existing.iter().map(|v| v.len()).max() {
            None | Some(13) => "<Date.now() milliseconds>".to_string(),
            Some(17) => "<YYYYMMDDHHmmssSSS UTC>".to_string(),
            Some(w) => format!("<{w}-digit index>"),
        };
        Profile {
            naming: common::join(&detection.dir, &format!("{pattern}_<name>.sql (.js for a step outside a transaction)")),
            next_version: next(&existing, now, 1).pop().unwrap_or_default(),
            down: "`-- Down Migration` section in the same file".into(),
            no_transaction: "none in SQL migrations: zdm writes such a step as a JavaScript migration calling \
                             `pgm.noTransaction()`"
                .into(),
            history_table: "pgmigrations".into(),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        let dir = &detection.dir;
        let existing: Vec<&str> = migrations(files, dir).map(|(_, p)| p).collect();
        let steps = common::file_steps(plan);
        let total = plan.steps.len();
        let esm = common::is_esm(files, dir);
        let mut out = Vec::with_capacity(steps.len());
        let mut js = Vec::new();
        for (step, version) in steps.iter().zip(next(&existing, now, steps.len())) {
            if existing.iter().any(|e| order(e) == order(&version)) {
                return Err(WriteError { message: format!("a migration numbered {version} already exists in {dir}") });
            }
            let (path, contents) = if step.transaction && step.down_transaction {
                (common::join(dir, &format!("{version}_{}.sql", step.slug)), sql_file(step, total)?)
            } else {
                js.push(step.n.to_string());
                (common::join(dir, &format!("{version}_{}.js", step.slug)), js_file(step, total, esm))
            };
            common::ensure_free(files, &[], &path)?;
            out.push((path.clone(), vec![GeneratedFile::new(path, contents)]));
        }
        let notes = if js.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "step{} {} → .js with pgm.noTransaction(): SQL migrations always run in a transaction",
                if js.len() == 1 { "" } else { "s" },
                js.join(", "),
            )]
        };
        Ok(common::written(plan, out, notes))
    }
}

fn guard(step: &Step, sql: &str) -> Result<String, WriteError> {
    crate::sql::guard_line_starts(sql.trim(), |l| marker_word(l).is_some()).map_err(|e| common::step_error(step, e))
}

fn sql_file(step: &Step, total: usize) -> Result<String, WriteError> {
    let (up, down) = (guard(step, &step.up)?, guard(step, &step.down)?);
    Ok(format!("{}-- Up Migration\n{up}\n\n-- Down Migration\n{down}\n", common::header(step, total)))
}

/// The forward SQL of a JavaScript migration zdm wrote ([`js_file`]): the template literal `up` passes
/// to `pgm.sql`. `None` for any other JavaScript (zdm does not read code).
fn zdm_js_up(text: &str) -> Option<String> {
    common::zdm_js_sql(text, &["exports.up = (pgm) => {", "export const up = (pgm) => {"], &["exports.down = ", "export const down = "])
}

fn js_file(step: &Step, total: usize, esm: bool) -> String {
    let header = common::js_header(step, total);
    let action = |name: &str, sql: &str, transaction: bool| {
        let head = if esm { format!("export const {name} = (pgm) => {{") } else { format!("exports.{name} = (pgm) => {{") };
        let no_tx = if transaction { "" } else { "  pgm.noTransaction();\n" };
        format!("{head}\n{no_tx}  pgm.sql({});\n}};\n", common::js_template_literal(sql.trim()))
    };
    format!(
        "{header}// node-pg-migrate's SQL migrations always run in a transaction: pgm.noTransaction() takes a direction out.\n{}\n{}",
        action("up", &step.up, step.transaction),
        action("down", &step.down, step.down_transaction)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_as_the_runner_reads_them() {
        assert!(is_section("-- Up Migration", "up"));
        assert!(is_section("  ---- down   MIGRATION here", "down"));
        assert!(!is_section("-- upgrade migration", "up"));
        assert!(!is_section("SELECT 1 -- up migration", "up"));
        assert_eq!(marker_word("-- up"), Some("up"));
        assert_eq!(marker_word("-- update the rows"), None);
    }

    #[test]
    fn up_part_by_the_first_markers() {
        let text = "-- header\n-- Up Migration\nCREATE TABLE a (id int);\n\n-- Down Migration\nDROP TABLE a;\n";
        assert_eq!(up_lines(text).unwrap(), "\n\nCREATE TABLE a (id int);\n\n\n");
        assert_eq!(up_lines("CREATE TABLE b (id int);"), None);
        // Down before up: the up part runs to the end.
        assert_eq!(up_lines("-- Down Migration\nDROP TABLE a;\n-- Up Migration\nSELECT 1;").unwrap(), "\n\n\nSELECT 1;");
    }

    #[test]
    fn prefixes_order_and_next() {
        assert_eq!(order("20200513070724505"), 1_589_353_644_505);
        assert_eq!(order("1589353644505"), 1_589_353_644_505);
        assert_eq!(next(&[], "20261125140000", 2), ["1795615200000", "1795615201000"]);
        assert_eq!(next(&["1999999999999"], "20261125140000", 1), ["2000000000000"]);
        assert_eq!(next(&["20250101000000123"], "20261125140000", 1), ["20261125140000000"]);
        assert_eq!(next(&["0007"], "20261125140000", 1), ["0008"]);
        assert_eq!(prefix("1700000000000_init.sql"), Some("1700000000000"));
        assert_eq!(prefix("README.md"), None);
    }

    #[test]
    fn scripts_name_the_directory() {
        let pkg = r#"{"scripts": {"migrate": "node-pg-migrate up -m db/migrations --no-check-order", "x": "node-pg-migrate --migrations-dir=sql up"}}"#;
        assert_eq!(script_dirs(pkg), ["db/migrations", "sql"]);
    }

    #[test]
    fn zdm_javascript_migrations_are_read_back() {
        let sql = "CREATE INDEX CONCURRENTLY i ON t (a);\nSELECT '`${x}`' \\ 1;";
        let step = common::test_step(sql, "DROP INDEX CONCURRENTLY i;", false, false);
        for esm in [false, true] {
            let js = js_file(&step, 1, esm);
            let up = zdm_js_up(&js).expect("zdm's own file is read");
            assert_eq!(up.trim_start_matches('\n'), sql);
            assert_eq!(up.lines().count(), js.lines().position(|l| l.contains("pgm.sql(")).unwrap() + 2);
        }
        assert_eq!(zdm_js_up("exports.up = (pgm) => { pgm.sql(`SELECT 1`); };"), None, "not zdm's: not read");
    }
}
