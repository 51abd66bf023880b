//! goose: the Go module proxy is not reachable here, so a runner emulates goose v3 (pressly/goose at
//! commit 520411a):
//! - `internal/sqlparser/parser.go` `ParseSQLMigration`, ported below line for line: annotations (a line
//!   trimming to `--…` that contains `+goose`; leading blanks or an unknown annotation are errors), the
//!   Up/Down/StatementBegin/StatementEnd states, comments and blank lines before a statement dropped, a
//!   statement ending at a line whose last word before `--` ends in `;`, the errors for a missing
//!   `-- +goose Up`, a missing StatementEnd or an unfinished statement; `NO TRANSACTION` anywhere → no
//!   transaction for the file;
//! - `migration_sql.go` `runSQLMigration`: each statement one `ExecContext` (`execute_each`), in one
//!   transaction together with the `goose_db_version` insert (up) or delete (down) unless NO TRANSACTION;
//! - `provider_collect.go`: `*.sql` and `*.go` (not `_test.go`) files whose name starts with a version and
//!   `_`, applied in version order; `internal/dialects/postgres.go` for the table. A Go migration cannot
//!   run here: its version is recorded (the fixture's Go migration only seeds a row).

use crate::harness::{self, Fixture, Runner};
use std::fs;
use zdm_pg::Client;
use zdm_pg::testing::TestDb;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Start,
    Up,
    BeginUp,
    EndUp,
    Down,
    BeginDown,
    EndDown,
}

fn ends_with_semicolon(line: &str) -> bool {
    let mut prev = "";
    for word in line.split_whitespace() {
        if word.starts_with("--") {
            break;
        }
        prev = word;
    }
    prev.ends_with(';')
}

fn extract_annotation(line: &str) -> Result<&'static str, String> {
    if line.starts_with(' ') || line.starts_with('\t') {
        return Err(format!("{line:?} contains leading whitespace"));
    }
    let cmd = line.replace("--", "").replacen("+goose", "", 1);
    if cmd.contains("+goose") {
        return Err(format!("{cmd:?} contains multiple '+goose' annotations"));
    }
    let cmd = cmd.trim();
    ["Up", "Down", "StatementBegin", "StatementEnd", "NO TRANSACTION", "ENVSUB ON", "ENVSUB OFF"]
        .into_iter()
        .find(|a| a.eq_ignore_ascii_case(cmd))
        .ok_or_else(|| format!("{cmd:?} not supported"))
}

/// goose's `ParseSQLMigration`: the statements of one direction and whether to use a transaction.
fn parse(text: &str, up: bool) -> Result<(Vec<String>, bool), String> {
    let mut state = State::Start;
    let mut use_tx = true;
    let mut buf = String::new();
    let mut stmts = Vec::new();
    for line in text.lines() {
        if state == State::Start && line.trim().is_empty() {
            continue;
        }
        if line.trim().starts_with("--") && line.contains("+goose") {
            match extract_annotation(line)? {
                "Up" => {
                    if state != State::Start {
                        return Err("duplicate '-- +goose Up' annotations".into());
                    }
                    state = State::Up;
                    continue;
                }
                "Down" => {
                    if !matches!(state, State::Up | State::EndUp) {
                        return Err("must start with '-- +goose Up' annotation".into());
                    }
                    if !buf.trim().is_empty() {
                        return Err(format!("unexpected unfinished SQL query: {:?}: missing semicolon?", buf.trim()));
                    }
                    state = State::Down;
                    continue;
                }
                "StatementBegin" => {
                    state = match state {
                        State::Up | State::EndUp => State::BeginUp,
                        State::Down | State::EndDown => State::BeginDown,
                        _ => return Err("'-- +goose StatementBegin' must be defined after '-- +goose Up' or '-- +goose Down'".into()),
                    };
                    continue;
                }
                "StatementEnd" => {
                    state = match state {
                        State::BeginUp => State::EndUp,
                        State::BeginDown => State::EndDown,
                        _ => return Err("'-- +goose StatementEnd' must be defined after '-- +goose StatementBegin'".into()),
                    };
                }
                "NO TRANSACTION" => {
                    use_tx = false;
                    continue;
                }
                _ => continue,
            }
        }
        if buf.is_empty() && (line.trim().starts_with("--") || line.is_empty()) {
            continue;
        }
        if !matches!(state, State::EndUp | State::EndDown) {
            buf.push_str(line);
            buf.push('\n');
        }
        match state {
            State::Up | State::BeginUp | State::EndUp if !up => {
                buf.clear();
                continue;
            }
            State::Down | State::BeginDown | State::EndDown if up => {
                buf.clear();
                continue;
            }
            State::Start => return Err(format!("failed to parse migration: unexpected state on line {line:?}")),
            _ => {}
        }
        match state {
            State::Up | State::Down if ends_with_semicolon(line) => {
                stmts.push(buf.trim().to_string());
                buf.clear();
            }
            State::EndUp | State::EndDown => {
                stmts.push(buf.trim().to_string());
                buf.clear();
                state = if state == State::EndUp { State::Up } else { State::Down };
            }
            _ => {}
        }
    }
    match state {
        State::Start => return Err("must start with '-- +goose Up' annotation".into()),
        State::BeginUp | State::BeginDown => return Err("missing '-- +goose StatementEnd' annotation".into()),
        _ => {}
    }
    if !buf.trim().is_empty() {
        return Err(format!("unexpected unfinished SQL query: {:?}: missing semicolon?", buf.trim()));
    }
    Ok((stmts, use_tx))
}

struct Goose {
    dir: &'static str,
}

/// `(version, path)` of every migration goose collects, by version.
fn migrations(fx: &Fixture, dir: &str) -> Vec<(i64, std::path::PathBuf)> {
    let mut found: Vec<(i64, std::path::PathBuf)> = fs::read_dir(fx.path(dir))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !(name.ends_with(".sql") || (name.ends_with(".go") && !name.ends_with("_test.go"))) {
                return None;
            }
            let version: i64 = name.split_once('_')?.0.parse().ok().filter(|v| *v >= 1)?;
            Some((version, e.path()))
        })
        .collect();
    found.sort();
    found
}

fn applied(c: &mut Client) -> Vec<i64> {
    let exists: bool = c.query_one("SELECT to_regclass('goose_db_version') IS NOT NULL", &[]).unwrap().get(0);
    if !exists {
        c.batch_execute(
            "CREATE TABLE goose_db_version (id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, version_id bigint NOT NULL, \
             is_applied boolean NOT NULL, tstamp timestamp NOT NULL DEFAULT now());
             INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true);",
        )
        .unwrap();
    }
    c.query("SELECT version_id FROM goose_db_version WHERE is_applied AND version_id > 0", &[]).unwrap().iter().map(|r| r.get(0)).collect()
}

fn run(c: &mut Client, path: &std::path::Path, version: i64, up: bool) {
    let record = if up {
        format!("INSERT INTO goose_db_version (version_id, is_applied) VALUES ({version}, true)")
    } else {
        format!("DELETE FROM goose_db_version WHERE version_id={version}")
    };
    if path.extension().is_some_and(|e| e == "go") {
        c.batch_execute(&record).unwrap();
        return;
    }
    let text = fs::read_to_string(path).unwrap();
    let (mut stmts, use_tx) = parse(&text, up).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    stmts.push(record);
    zdm_pg::runner::execute_each(c, &stmts, use_tx).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

impl Runner for Goose {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        let mut c = db.connect();
        let done = applied(&mut c);
        for (version, path) in migrations(fx, self.dir).into_iter().filter(|(v, _)| !done.contains(v)) {
            run(&mut c, &path, version, true);
        }
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        let mut c = db.connect();
        let latest = applied(&mut c).into_iter().max().expect("a migration to roll back");
        let (_, path) = migrations(fx, self.dir).into_iter().find(|(v, _)| *v == latest).expect("the applied migration's file");
        run(&mut c, &path, latest, false);
    }
}

#[test]
fn goose_parser_port_follows_goose() {
    let text = "-- +goose NO TRANSACTION\n-- +goose Up\n-- note\nSELECT 1;\n-- +goose StatementBegin\nDO $$ BEGIN PERFORM 1; END $$;\n-- +goose StatementEnd\n\n-- +goose Down\nSELECT 2; -- done\n";
    assert_eq!(parse(text, true).unwrap(), (vec!["SELECT 1;".to_string(), "DO $$ BEGIN PERFORM 1; END $$;".to_string()], false));
    assert_eq!(parse(text, false).unwrap(), (vec!["SELECT 2; -- done".to_string()], false));
    assert!(parse("-- +goose Up\n  -- +goose Down\n", true).is_err());
    assert!(parse("-- +goose Up\nSELECT 1\n-- +goose Down\n", true).is_err());
    assert!(parse("SELECT 1;\n", true).is_err());
}

#[test]
fn goose_detection_and_files() {
    let fx = Fixture::copy("goose/basic", "goose-snap");
    insta::assert_snapshot!("goose_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("goose/basic", &format!("goose-snap-{name}"));
        insta::assert_snapshot!(format!("goose_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn goose_runs_the_files() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("goose/basic", &format!("goose-{name}"));
        let db = TestDb::new(&format!("goose_{name}"));
        harness::roundtrip(&fx, &db, &Goose { dir: "db/migrations" }, change, check);
    }
}

/// Go migrations among the SQL ones, `%05d` names: the Go migration is a blind spot, the SQL history
/// replays (the column renamed in 00004 is the one planned on), the next file is 00005.
#[test]
fn goose_with_go_migrations() {
    let fx = Fixture::copy("goose/gomix", "goose-gomix");
    insta::assert_snapshot!("goose_gomix_detect", fx.detect(&[]));
    let plan = fx.plan("ALTER TABLE tasks RENAME COLUMN completed TO is_done", &[]);
    assert!(plan.contains("internal/db/migrations/00005_"), "{plan}");
    let fx = Fixture::copy("goose/gomix", "goose-gomix-json");
    let run = fx.zdm(&["plan", "ALTER TABLE tasks RENAME COLUMN completed TO is_done", "--format", "json", "--dry-run"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let spots = &json["schema"]["blind_spots"];
    assert_eq!(spots[0]["path"], "internal/db/migrations/00002_seed_admin.go", "the Go migration is a blind spot: {spots}");
    assert_eq!(spots[0]["what"], "a Go migration");
    assert_eq!(json["schema"]["tables"], 2, "the SQL history replayed (users, tasks)");
    insta::assert_snapshot!("goose_gomix_rename", plan);

    let fx = Fixture::copy("goose/gomix", "goose-gomix-run");
    let db = TestDb::new("goose_gomix");
    harness::roundtrip(&fx, &db, &Goose { dir: "internal/db/migrations" }, harness::RENAME, harness::renamed);
}

#[test]
fn goose_two_directories_are_ambiguous() {
    let fx = Fixture::copy("goose/basic", "goose-ambiguous");
    fs::create_dir_all(fx.path("tools/migrations")).unwrap();
    fs::copy(fx.path("db/migrations/20250301090000_create_users.sql"), fx.path("tools/migrations/00001_init.sql")).unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("more than one migration setup") && run.stderr.contains("tools/migrations"), "{}", run.stderr);
    assert_eq!(
        fx.written().into_iter().map(|(p, _)| p).collect::<Vec<_>>(),
        ["tools/migrations/00001_init.sql"],
        "only the test's own copy"
    );
}
