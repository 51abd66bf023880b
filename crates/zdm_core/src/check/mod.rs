//! `zdm check`: lints migration files that already exist. The history before them is replayed, the files
//! checked are walked through the planner's own analysis ([`crate::plan::walk`]: the same rules, waivers and
//! typo guard as `zdm plan`), each inside the transaction its tool opens for it
//! ([`crate::tools::Tool::runs_in_transaction`]), and the tables they create count as new and empty. The
//! findings render as text, JSON, SARIF 2.1.0, GitHub workflow annotations or a GitLab Code Quality report,
//! one module per format. Pure: the CLI reads the files, git and `zdm.toml`.

pub mod github;
pub mod gitlab;
pub mod json;
pub mod sarif;
pub mod text;

use crate::model::{BlindSpot, PgVersion, Pos, ProjectFiles, Reach, Risk, Schema, SchemaSource};
use crate::plan::{self, PlanConfig};
use crate::rules;
use crate::schema;
use crate::sql;
use crate::tools::{self, Choice, DetectError, Detected};
use serde::Serialize;
use std::collections::BTreeSet;

/// The pseudo-rule of a file that does not parse (not in the catalogue: nothing can be classified).
pub const SYNTAX_ERROR: &str = "syntax-error";
/// The pseudo-rule of a file PostgreSQL would refuse: it names a table, column, index or constraint the
/// history lacks, or its `zdm-ignore` comment has no reason or names an unknown rule.
pub const INVALID_MIGRATION: &str = "invalid-migration";

/// Rules whose finding means PostgreSQL refuses the file as its tool runs it (CONCURRENTLY inside a
/// transaction block): errors in a checked file.
pub const REFUSED: &[&str] = &["I03", "H08"];

/// How `zdm check` judges (flags and `zdm.toml` `[check]`).
#[derive(Clone, Debug)]
pub struct CheckConfig {
    /// Target PostgreSQL major version.
    pub pg: PgVersion,
    /// The lowest risk that fails the run.
    pub fail_on: Risk,
    /// Rules (IDs or names) never reported.
    pub exclude: Vec<String>,
    /// Overrides the tools' own transaction switches: every checked file runs inside a transaction
    /// (`Some(true)`) or outside one (`Some(false)`).
    pub assume_in_transaction: Option<bool>,
    /// Settings for the files under some paths.
    pub overrides: Vec<PathOverride>,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            pg: PgVersion::DEFAULT,
            fail_on: Risk::Risky,
            exclude: Vec::new(),
            assume_in_transaction: None,
            overrides: Vec::new(),
        }
    }
}

/// `[[check.overrides]]`: settings for the files whose path starts with `path` (a directory or a file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathOverride {
    /// Path prefix, relative to the project root.
    pub path: String,
    /// More rules not reported there.
    pub exclude: Vec<String>,
    /// Transaction assumption there.
    pub assume_in_transaction: Option<bool>,
}

impl CheckConfig {
    fn overrides_for<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a PathOverride> + 'a {
        self.overrides.iter().filter(move |o| {
            let p = o.path.trim_end_matches('/');
            path == p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')) || p.is_empty() || p == "."
        })
    }

    fn excluded(&self, path: &str, rule: &str, name: &str) -> bool {
        let hit = |list: &[String]| list.iter().any(|r| r.eq_ignore_ascii_case(rule) || r == name);
        hit(&self.exclude) || self.overrides_for(path).any(|o| hit(&o.exclude))
    }

    fn in_transaction(&self, path: &str, tool_says: bool) -> bool {
        self.overrides_for(path).filter_map(|o| o.assume_in_transaction).last().or(self.assume_in_transaction).unwrap_or(tool_says)
    }

    /// Rule names in `exclude` lists that no rule answers to.
    #[must_use]
    pub fn unknown_rules(&self) -> Vec<String> {
        let known = |r: &str| rules::rule(r).is_some() || r == SYNTAX_ERROR || r == INVALID_MIGRATION;
        self.exclude.iter().chain(self.overrides.iter().flat_map(|o| &o.exclude)).filter(|r| !known(r)).cloned().collect()
    }
}

/// SARIF / GitHub level of a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Worth knowing.
    Note,
    /// Safe only rewritten.
    Warning,
    /// Locks or rewrites a live table, fails at run time, loses data or breaks running code.
    Error,
}

impl Level {
    /// The level of a risk.
    #[must_use]
    pub fn of(risk: Risk) -> Level {
        match risk {
            Risk::Safe | Risk::Info => Level::Note,
            Risk::Risky => Level::Warning,
            Risk::Dangerous | Risk::Unknown => Level::Error,
        }
    }
}

/// One finding in one file.
#[derive(Clone, Debug, Serialize)]
pub struct CheckFinding {
    /// Path relative to the project root, `/` separators.
    pub path: String,
    /// 1-based line of the statement.
    pub line: usize,
    /// 1-based column of the statement, in characters.
    pub col: usize,
    /// Catalogue ID (`I01`), or `syntax-error` / `invalid-migration`.
    pub rule: String,
    /// Kebab-case rule name.
    pub name: String,
    /// Risk in this file's context.
    pub risk: Risk,
    /// Its level.
    pub level: Level,
    /// What is wrong, one line.
    pub message: String,
    /// The safe alternative.
    pub help: String,
    /// The command that writes the safe rewrite, when the planner has one.
    pub fix: Option<String>,
    /// The reason of the `-- zdm-ignore` that waives it.
    pub suppressed: Option<String>,
    /// Stable id: rule, path, normalized statement and the occurrence of that pair in the file (no line).
    pub fingerprint: String,
}

/// What `zdm check` found.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// The migration tool followed.
    pub tool: String,
    /// Its migrations directory.
    pub dir: String,
    /// PostgreSQL major version checked for.
    pub pg: u32,
    /// The files checked, in the tool's order.
    pub files: Vec<String>,
    /// Findings in file order (waived ones included, with their reason).
    pub findings: Vec<CheckFinding>,
    /// The lowest risk that fails the run.
    pub fail_on: Risk,
}

impl CheckReport {
    /// Findings that count: not waived.
    pub fn active(&self) -> impl Iterator<Item = &CheckFinding> {
        self.findings.iter().filter(|f| f.suppressed.is_none())
    }

    /// True when an active finding is at or above `fail_on`.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.active().any(|f| f.risk.severity() >= self.fail_on.severity())
    }
}

/// Checks `targets` (project-relative paths; `None`: every migration) against the history the project's
/// tool reads: every earlier migration is replayed, each target walked through the planner's analysis. A
/// target the tool does not list as a migration (a loose `.sql` file) is checked after the whole history,
/// as plain SQL.
///
/// # Errors
/// The project's migration tool is ambiguous or not for PostgreSQL.
pub fn check(files: &ProjectFiles, targets: Option<&[String]>, choice: &Choice, config: &CheckConfig) -> Result<CheckReport, DetectError> {
    let Detected { tool, detection, .. } = tools::detect(files, choice)?;
    let history = tool.read(files, &detection);
    let all = targets.is_none();
    let targets = targets.unwrap_or_default();
    let wanted: BTreeSet<&str> = targets.iter().map(String::as_str).collect();
    // What to do with each file, in the tool's order: (path, text, Some(in transaction) to check it, None
    // to replay it). `Err` marks a migration zdm cannot read.
    let mut jobs: Vec<(String, Result<String, String>, Option<bool>)> = Vec::with_capacity(history.len());
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for m in &history {
        if let Some(what) = &m.unread {
            jobs.push((m.path.clone(), Err(what.clone()), None));
        } else if all || wanted.contains(m.path.as_str()) {
            let in_tx = config.in_transaction(&m.path, tool.runs_in_transaction(files, m));
            // A SQL file's own text keeps its line numbers; a code migration's SQL is what the tool read.
            let own = tools::file_text(files, &m.path);
            let up = if m.path.ends_with(".sql") && !own.is_empty() { tools::change_text(own) } else { m.up.clone() };
            jobs.push((m.path.clone(), Ok(schema::without_psql_commands(&up)), Some(in_tx)));
            seen.insert(&m.path);
        } else {
            jobs.push((m.path.clone(), Ok(schema::without_psql_commands(&m.up)), None));
        }
    }
    for t in targets {
        if seen.contains(t.as_str()) || !t.ends_with(".sql") {
            continue;
        }
        let text = tools::change_text(tools::file_text(files, t));
        jobs.push((t.clone(), Ok(schema::without_psql_commands(&text)), Some(config.in_transaction(t, false))));
        seen.insert(t);
    }
    let mut schema = base_schema(files, &detection.dir, history.is_empty());
    let mut out = Vec::new();
    let mut checked = Vec::new();
    // Parsing (libpg_query) runs on a second thread, ahead of the walk, which must go in order. Files go
    // across in chunks: one hand-over per file cost more in thread wake-ups than the walk of a small file.
    std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel(16);
        let texts: Vec<Option<&str>> = jobs.iter().map(|j| j.1.as_deref().ok()).collect();
        scope.spawn(move || {
            for chunk in texts.chunks(64) {
                let parsed: Vec<_> = chunk.iter().map(|t| t.map(sql::parse)).collect();
                if send.send(parsed).is_err() {
                    break;
                }
            }
        });
        for ((path, text, check_it), parsed) in jobs.iter().zip(receive.into_iter().flatten()) {
            match (text, parsed, check_it) {
                (Err(what), _, _) => {
                    schema.blind_spots.push(BlindSpot { path: path.clone(), line: 1, what: what.clone(), reach: Reach::Everything });
                }
                (Ok(text), Some(parsed), Some(in_tx)) => {
                    out.extend(check_parsed(&mut schema, path, text, parsed, *in_tx, !all, config));
                    checked.push(path.clone());
                }
                (Ok(_), Some(Ok(statements)), None) => {
                    schema::replay_ops(&mut schema, path, statements.into_iter().flat_map(|s| s.ops).collect(), false);
                }
                (Ok(_), Some(Err(e)), None) => {
                    schema.blind_spots.push(BlindSpot {
                        path: path.clone(),
                        line: e.pos.line,
                        what: "a file that does not parse".into(),
                        reach: Reach::Everything,
                    });
                }
                (Ok(_), None, _) => {}
            }
        }
    });
    Ok(CheckReport {
        tool: tool.id().to_string(),
        dir: detection.dir,
        pg: config.pg.0,
        files: checked,
        findings: out,
        fail_on: config.fail_on,
    })
}

/// The schema before the first migration: empty (known) when the tool has migrations, else a dump's.
fn base_schema(files: &ProjectFiles, dir: &str, no_history: bool) -> Schema {
    let dump = schema::DUMP_PATHS.iter().find_map(|p| files.files.iter().find(|f| f.path == *p));
    match dump {
        Some(d) if no_history => schema::replay_dump(&d.path, &d.contents).0,
        _ => {
            let mut s = Schema::unknown();
            s.source = SchemaSource::Migrations { dir: dir.to_string(), files: 0 };
            s
        }
    }
}

/// Checks one file's `up` SQL and advances `schema` past it. The tables it creates are new and empty
/// within it, and after it too when `stays_new` (a change set deployed together); checking a whole history,
/// each file meets the earlier ones as deployed.
#[must_use]
pub fn check_file(
    schema: &mut Schema,
    path: &str,
    up: &str,
    in_transaction: bool,
    stays_new: bool,
    config: &CheckConfig,
) -> Vec<CheckFinding> {
    let text = schema::without_psql_commands(up);
    let parsed = sql::parse(&text);
    check_parsed(schema, path, &text, parsed, in_transaction, stays_new, config)
}

/// [`check_file`] of a text already parsed.
fn check_parsed(
    schema: &mut Schema,
    path: &str,
    text: &str,
    parsed: Result<Vec<crate::op::Statement>, sql::SyntaxError>,
    in_transaction: bool,
    stays_new: bool,
    config: &CheckConfig,
) -> Vec<CheckFinding> {
    let mut found = Vec::new();
    let statements = match parsed {
        Ok(s) => s,
        Err(e) => {
            schema.blind_spots.push(BlindSpot {
                path: path.into(),
                line: e.pos.line,
                what: "a file that does not parse".into(),
                reach: Reach::Everything,
            });
            let f = raw(
                path,
                e.pos,
                SYNTAX_ERROR,
                "syntax-error",
                Risk::Dangerous,
                e.message.clone(),
                "fix the SQL: PostgreSQL refuses this file".into(),
            );
            found.push(f);
            return finish(found, config, path);
        }
    };
    let ignores = sql::suppressions(text);
    let created: Vec<String> = if stays_new {
        Vec::new()
    } else {
        statements
            .iter()
            .flat_map(|s| &s.ops)
            .filter_map(|o| match &o.kind {
                crate::op::OpKind::CreateTable { table, .. } => Some(table.key()),
                _ => None,
            })
            .collect()
    };
    // A DO block may create tables too (the walk replays its static SQL): then every new table is reset.
    let has_do = !stays_new && statements.iter().flat_map(|s| &s.ops).any(|o| matches!(o.kind, crate::op::OpKind::DoBlock));
    let plan_config = PlanConfig { pg: config.pg, in_transaction, ..PlanConfig::default() };
    match plan::walk(statements, &ignores, schema, &plan_config) {
        Ok((_, ops, _)) => {
            let mut autofixed = Vec::new();
            for c in ops {
                let stmt = normalize(&c.op.sql);
                for f in c.findings {
                    let meta = rules::meta_of(&f);
                    let fix = (f.strategy != rules::Strategy::AsWritten || meta.autofix).then(|| format!("zdm plan --file {path}"));
                    // zdm plan fixes what autofix rules find; a file checked as written says the strategy.
                    let help = if meta.autofix { meta.strategy.to_string() } else { f.help };
                    autofixed.push(meta.autofix);
                    found.push(CheckFinding {
                        path: path.to_string(),
                        line: f.pos.line,
                        col: f.pos.col,
                        rule: f.rule.to_string(),
                        name: f.name.to_string(),
                        risk: f.risk,
                        level: Level::of(f.risk),
                        message: f.message,
                        help,
                        fix,
                        suppressed: f.suppressed,
                        fingerprint: stmt.clone(),
                    });
                }
            }
            // What zdm plan would fix by itself (timeouts, transaction splits) counts as risky in a file that
            // also does something risky, since nobody fixes it there; what PostgreSQL refuses is an error.
            let risky =
                found.iter().zip(&autofixed).any(|(f, a)| !a && f.suppressed.is_none() && f.risk.severity() >= Risk::Risky.severity());
            for (f, a) in found.iter_mut().zip(&autofixed) {
                if REFUSED.contains(&f.rule.as_str()) {
                    f.risk = Risk::Dangerous;
                } else if *a && risky && f.risk.severity() < Risk::Risky.severity() {
                    f.risk = Risk::Risky;
                }
                f.level = Level::of(f.risk);
            }
        }
        Err(e) => {
            schema.blind_spots.push(BlindSpot {
                path: path.into(),
                line: e.pos.line,
                what: "a migration that fails".into(),
                reach: Reach::Everything,
            });
            let help = e.help.unwrap_or_else(|| "fix the migration: PostgreSQL would refuse it".into());
            found.push(raw(path, e.pos, INVALID_MIGRATION, INVALID_MIGRATION, Risk::Dangerous, e.message, help));
        }
    }
    for key in created {
        if let Some(t) = schema.tables.get_mut(&key) {
            t.created_in_change = false;
        }
    }
    if has_do {
        for t in schema.tables.values_mut() {
            t.created_in_change = false;
        }
    }
    let lines: Vec<&str> = text.lines().collect();
    for f in &mut found {
        (f.line, f.col) = first_token(&lines, f.line, f.col);
    }
    finish(found, config, path)
}

/// Where the statement starting at (`line`, `col`) really begins: PostgreSQL's statement location starts
/// after the previous semicolon, so blank lines and `--` comments (a tool's section marker, a waiver) are
/// skipped.
fn first_token(lines: &[&str], line: usize, col: usize) -> (usize, usize) {
    let mut skip = col.saturating_sub(1);
    for (i, l) in lines.iter().enumerate().skip(line.saturating_sub(1)) {
        let rest: String = l.chars().skip(skip).collect();
        let trimmed = rest.trim_start();
        if !trimmed.is_empty() && !trimmed.starts_with("--") {
            return (i + 1, skip + rest.chars().count() - trimmed.chars().count() + 1);
        }
        skip = 0;
    }
    (line, col)
}

fn raw(path: &str, pos: Pos, rule: &str, name: &str, risk: Risk, message: String, help: String) -> CheckFinding {
    CheckFinding {
        path: path.into(),
        line: pos.line,
        col: pos.col,
        rule: rule.into(),
        name: name.into(),
        risk,
        level: Level::of(risk),
        message,
        help,
        fix: None,
        suppressed: None,
        fingerprint: String::new(),
    }
}

/// Drops excluded rules and turns each finding's normalized statement into its fingerprint.
fn finish(found: Vec<CheckFinding>, config: &CheckConfig, path: &str) -> Vec<CheckFinding> {
    let mut seen: std::collections::BTreeMap<(String, String), usize> = std::collections::BTreeMap::new();
    found
        .into_iter()
        .filter(|f| !config.excluded(path, &f.rule, &f.name))
        .map(|mut f| {
            let n = seen.entry((f.rule.clone(), f.fingerprint.clone())).or_default();
            f.fingerprint = fingerprint(&f.rule, path, &f.fingerprint, *n);
            *n += 1;
            f
        })
        .collect()
}

/// A statement's text with whitespace runs collapsed and case folded outside nothing: edits that only
/// move or re-indent it keep its fingerprint.
fn normalize(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// SHA-256 of (rule, path, statement, occurrence), 32 hex characters. No line numbers: a finding keeps its
/// fingerprint when lines above it move.
#[must_use]
pub fn fingerprint(rule: &str, path: &str, statement: &str, occurrence: usize) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for part in [rule, path, statement, &occurrence.to_string()] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Findings sorted for display: file order as checked, then line, then rule.
#[must_use]
pub fn sorted(report: &CheckReport) -> Vec<&CheckFinding> {
    let index: std::collections::HashMap<&str, usize> = report.files.iter().enumerate().map(|(i, f)| (f.as_str(), i)).collect();
    let order = |p: &str| index.get(p).copied().unwrap_or(usize::MAX);
    let mut v: Vec<&CheckFinding> = report.findings.iter().collect();
    v.sort_by_cached_key(|f| (order(&f.path), f.line, f.col, f.rule.clone()));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_lines_and_tell_occurrences_apart() {
        let a = fingerprint("I01", "db/1.sql", "CREATE INDEX i ON t (a)", 0);
        assert_eq!(a.len(), 32);
        assert_eq!(a, fingerprint("I01", "db/1.sql", "CREATE INDEX i ON t (a)", 0));
        assert_ne!(a, fingerprint("I01", "db/1.sql", "CREATE INDEX i ON t (a)", 1));
        assert_ne!(a, fingerprint("I01", "db/2.sql", "CREATE INDEX i ON t (a)", 0));
    }

    #[test]
    fn a_table_created_earlier_in_the_file_raises_nothing() {
        let mut s = Schema::unknown();
        s.source = SchemaSource::Migrations { dir: "db".into(), files: 0 };
        let f = check_file(
            &mut s,
            "db/1.sql",
            "CREATE TABLE t (id bigint PRIMARY KEY, a text);\nCREATE INDEX t_a ON t (a);\n",
            true,
            false,
            &CheckConfig::default(),
        );
        assert!(f.iter().all(|f| f.rule != "I01"), "{f:?}");
        let f = check_file(&mut s, "db/2.sql", "CREATE INDEX t_a2 ON t (a);\n", true, false, &CheckConfig::default());
        assert!(f.iter().any(|f| f.rule == "I01"), "{f:?}");
    }
}
