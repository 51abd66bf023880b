//! goose (pressly): `<version>_<name>.sql` files with `-- +goose Up` / `-- +goose Down` sections, Go
//! migrations (`<version>_<name>.go`) among them, versions `20060102150405` timestamps (`goose create`,
//! UTC since v3.17: `create.go` calls `time.Now().UTC()`) or `%05v` sequences (`goose -s create`).
//!
//! How goose reads a file (`internal/sqlparser/parser.go`, `ParseSQLMigration`): every line that trims to
//! `--…` and contains `+goose` is an annotation (an unknown one, or one with leading blanks, is an error);
//! a statement ends at a line whose last word before any `--` ends in `;`, except between
//! `-- +goose StatementBegin` and `-- +goose StatementEnd`; comment and blank lines before a statement are
//! dropped. `-- +goose NO TRANSACTION` anywhere makes the whole file (both directions) run outside a
//! transaction. Each statement is one `ExecContext` (`migration_sql.go`, `runSQLMigration`), inside one
//! transaction with the `goose_db_version` row unless NO TRANSACTION.

use super::naming::{Scheme, next_versions, scheme};
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles};
use crate::plan::{Plan, Step};

/// goose.
pub(super) struct Goose;

const GO_MODULE: &str = "github.com/pressly/goose";

/// The annotation a line holds, as goose reads it (`Up`, `Down`, `StatementBegin`, …), if any.
fn annotation(line: &str) -> Option<String> {
    if !(line.trim().starts_with("--") && line.contains("+goose")) {
        return None;
    }
    Some(line.replace("--", "").replacen("+goose", "", 1).trim().to_string())
}

/// Whether a line would be read as an annotation (for guarding zdm's text).
fn is_annotation(line: &str) -> bool {
    annotation(line).is_some()
}

fn is(line: &str, which: &str) -> bool {
    annotation(line).is_some_and(|a| a.eq_ignore_ascii_case(which))
}

/// goose's version of a file name: the digits before the first `_` (`NumericComponent`), at least 1.
fn version(name: &str) -> Option<&str> {
    let (v, _) = name.split_once('_')?;
    (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) && v.parse::<u64>().is_ok_and(|n| n >= 1)).then_some(v)
}

/// The migrations of a directory goose collects (`*.sql`, and `*.go` but not `_test.go`), with versions.
fn migrations<'a>(files: &'a ProjectFiles, dir: &'a str) -> impl Iterator<Item = (&'a ProjectFile, &'a str)> + 'a {
    files.in_dir(dir).filter_map(|f| {
        let name = common::file_name(&f.path);
        let ext_ok = name.ends_with(".sql") || (name.ends_with(".go") && !name.ends_with("_test.go"));
        if !ext_ok {
            return None;
        }
        version(name).map(|v| (f, v))
    })
}

/// The `-- +goose Up` section with every other line (annotations included) blank.
pub(crate) fn up_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|l| is(l, "Up")) else {
        return common::keep_lines(text, |_, _| false);
    };
    let end = lines.iter().skip(start + 1).position(|l| is(l, "Down")).map_or(lines.len(), |p| start + 1 + p);
    common::keep_lines(text, |i, l| i > start && i < end && !is_annotation(l))
}

impl Tool for Goose {
    /// `-- +goose NO TRANSACTION` runs the file outside a transaction.
    fn runs_in_transaction(&self, files: &ProjectFiles, m: &SourceMigration) -> bool {
        !super::file_text(files, &m.path).lines().any(|l| l.trim().eq_ignore_ascii_case("-- +goose NO TRANSACTION"))
    }
    fn id(&self) -> &'static str {
        "goose"
    }

    fn default_dir(&self) -> &'static str {
        "migrations"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let go_mod = common::manifest_with(files, "go.mod", GO_MODULE);
        let dirs = common::dirs_with(files, |f| f.path.ends_with(".sql") && f.contents.lines().any(|l| is(l, "Up")));
        Ok(dirs
            .into_iter()
            .map(|dir| {
                let mut evidence = format!("{}/*.sql with `-- +goose Up` sections", common::shown(&dir));
                if let Some(m) = go_mod {
                    evidence.push_str(&format!("; {} requires {GO_MODULE}", m.path));
                }
                let engine = common::engine_of_dir(&dir);
                Detection::new("goose", dir, Confidence::Medium, evidence).with_engine(engine)
            })
            .collect())
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        let mut found: Vec<(u64, &ProjectFile)> = migrations(files, &detection.dir).map(|(f, v)| (v.parse().unwrap_or(0), f)).collect();
        found.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.path.cmp(&b.1.path)));
        found
            .into_iter()
            .map(|(_, f)| {
                if f.path.ends_with(".go") {
                    SourceMigration::unread(f.path.clone(), "a Go migration")
                } else {
                    SourceMigration::sql(f.path.clone(), up_lines(&f.contents))
                }
            })
            .collect()
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let existing: Vec<&str> = migrations(files, &detection.dir).map(|(_, v)| v).collect();
        let pattern = match scheme(&existing) {
            Scheme::Timestamp => "<YYYYMMDDHHMMSS UTC, as goose create since v3.17>".to_string(),
            Scheme::Sequence(w) => format!("<{w}-digit sequence>"),
        };
        Profile {
            naming: common::join(&detection.dir, &format!("{pattern}_<name>.sql")),
            next_version: next_versions(&existing, now, 1).pop().unwrap_or_default(),
            down: "`-- +goose Down` section in the same file".into(),
            no_transaction: "`-- +goose NO TRANSACTION` (the whole file, both directions)".into(),
            history_table: "goose_db_version".into(),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        let dir = &detection.dir;
        let existing: Vec<&str> = migrations(files, dir).map(|(_, v)| v).collect();
        let taken: Vec<u64> = existing.iter().filter_map(|v| v.parse().ok()).collect();
        let steps = common::file_steps(plan);
        let total = plan.steps.len();
        let mut out = Vec::with_capacity(steps.len());
        for (step, version) in steps.iter().zip(next_versions(&existing, now, steps.len())) {
            let path = common::join(dir, &format!("{version}_{}.sql", step.slug));
            if version.parse::<u64>().is_ok_and(|v| taken.contains(&v)) {
                return Err(WriteError { message: format!("a migration with version {version} already exists in {dir}") });
            }
            common::ensure_free(files, &[], &path)?;
            out.push((path.clone(), vec![GeneratedFile::new(path, file(step, total)?)]));
        }
        Ok(common::written(plan, out, Vec::new()))
    }
}

/// One step as a goose file. NO TRANSACTION covers both directions, so it is set when either must run
/// outside a transaction. The other direction, when it holds several statements, then goes between one
/// StatementBegin/StatementEnd pair: goose sends it as one string, which PostgreSQL runs in one implicit
/// transaction block (atomic, `SET LOCAL` scoped to it) — the same as the transaction goose would open.
fn file(step: &Step, total: usize) -> Result<String, WriteError> {
    let file_tx = step.transaction && step.down_transaction;
    let up = section(step, &step.up, step.transaction, file_tx)?;
    let down = section(step, &step.down, step.down_transaction, file_tx)?;
    // zdm's own comment lines must not read as annotations either.
    let header = common::header(step, total).replace("+goose", "+ goose");
    let no_tx = if file_tx { "" } else { "-- +goose NO TRANSACTION\n" };
    Ok(format!("{header}{no_tx}-- +goose Up\n{up}\n\n-- +goose Down\n{down}\n"))
}

fn section(step: &Step, sql: &str, transaction: bool, file_tx: bool) -> Result<String, WriteError> {
    let sql = crate::sql::guard_line_starts(sql.trim(), is_annotation).map_err(|e| common::step_error(step, e))?;
    let statements = common::statements(&sql);
    if statements.is_empty() {
        return Ok(sql);
    }
    if transaction && !file_tx && statements.len() > 1 {
        return Ok(format!("-- +goose StatementBegin\n{sql}\n-- +goose StatementEnd"));
    }
    Ok(statements
        .iter()
        .map(|s| if splits_early(s) { format!("-- +goose StatementBegin\n{s}\n-- +goose StatementEnd") } else { s.clone() })
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Whether goose would end this statement before its last line: it holds a `;` that is not its end and
/// a line before the last ends in `;` by goose's rule (`endsWithSemicolon`: the last word before any
/// word starting with `--`). A `;` inside a comment line (`-- a; b`) does not split it.
fn splits_early(statement: &str) -> bool {
    let lines: Vec<&str> = statement.lines().collect();
    let ends_with_semicolon =
        |line: &&str| line.split_whitespace().take_while(|w| !w.starts_with("--")).last().is_some_and(|w| w.ends_with(';'));
    common::has_inner_semicolon(statement) && lines[..lines.len().saturating_sub(1)].iter().any(ends_with_semicolon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_as_goose_reads_them() {
        assert!(is("-- +goose Up", "Up"));
        assert!(is("--+goose up", "Up"));
        assert!(is("-- +goose NO TRANSACTION", "no transaction"));
        assert!(!is("-- goose Up", "Up"));
        assert!(is_annotation("  -- note about +goose"));
        assert!(!is_annotation("SELECT 1; -- +goose"));
    }

    #[test]
    fn up_section_keeps_line_numbers() {
        let text = "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- +goose StatementEnd\n\n-- +goose Down\nDROP FUNCTION f();\n";
        let up = up_lines(text);
        assert_eq!(up.lines().count(), 6);
        assert_eq!(up.lines().nth(2), Some("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;"));
        assert!(!up.contains("DROP") && !up.contains("+goose"));
        assert_eq!(up_lines("SELECT 1;").trim(), "");
    }

    #[test]
    fn statements_are_wrapped_where_goose_would_split_them() {
        assert!(!splits_early("-- note (a; b)\nSET LOCAL lock_timeout = '1s';"));
        assert!(!splits_early("SELECT 'a;b' AS x;"));
        assert!(splits_early("DO $$\nBEGIN\n  PERFORM 1;\nEND\n$$;"));
        assert!(splits_early("INSERT INTO t VALUES ('a;\nb');"));
        assert!(!splits_early("SELECT 1; -- done"));
    }

    #[test]
    fn versions_and_go_migrations() {
        assert_eq!(version("00003_seed.go"), Some("00003"));
        assert_eq!(version("20250101120000_x.sql"), Some("20250101120000"));
        assert_eq!(version("0_x.sql"), None);
        assert_eq!(version("helpers.go"), None);
        let files = ProjectFiles::new(
            ["m/00002_b.go", "m/00001_a.sql", "m/00002_b_test.go", "m/main.go"]
                .iter()
                .map(|p| ProjectFile { path: (*p).into(), contents: "-- +goose Up\nSELECT 1;\n".into() })
                .collect(),
        );
        let read = Goose.read(&files, &Detection::new("goose", "m", Confidence::Medium, ""));
        assert_eq!(
            read.iter().map(|m| (m.path.as_str(), m.unread.is_some())).collect::<Vec<_>>(),
            [("m/00001_a.sql", false), ("m/00002_b.go", true)]
        );
    }
}
