//! The `zdm` binary end to end: exit codes, located errors, nothing written on failure, dry runs, stdin,
//! JSON, the HTML report, masking, and the written files applied to PostgreSQL.

mod support;

use std::fs;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use support::SETUP;
use support::project::Project;

fn zdm(project: &Project, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zdm"))
        .arg("plan")
        .args(args)
        .arg("--dir")
        .arg(&project.0)
        .env("NO_COLOR", "1")
        .env("LANG", "C.UTF-8")
        .env_remove("COLUMNS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn plan_writes_the_files_and_prints_a_short_receipt() {
    let p = Project::with_setup("writes");
    let out = zdm(&p, &["ALTER TABLE users RENAME COLUMN name TO full_name"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let receipt = text(&out.stdout);
    assert!(receipt.lines().count() <= 40);
    assert!(receipt.starts_with("┌─ Migration: rename users.name → users.full_name"));
    assert!(receipt.contains("Deployment Sequence") && receipt.contains("Rollback") && receipt.contains("Pre-Deploy Checklist"));
    let files = p.listing();
    assert_eq!(files.len(), 1 + 6 + 1 + 1, "{files:?}");
    // The plan's manifest, for `zdm verify`.
    assert!(files.iter().any(|f| f.starts_with(".zdm/plans/") && f.ends_with("_expand_users_full_name.json")), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with("_expand_users_full_name.sql")));
    // A plan that is not safe gets its report, named on the receipt's last line.
    let report = files.iter().find(|f| f.starts_with(".zdm/reports/")).expect("a report");
    let last = receipt.lines().last().unwrap();
    assert!(last.starts_with("Report: /") && last.ends_with(report.as_str()), "absolute with an absolute --dir: {last}");
    // A second run continues the numbering: it never overwrites. A safe plan writes no report…
    let again = zdm(&p, &["ALTER TABLE users ADD COLUMN nickname text"], None);
    assert!(again.status.success());
    assert_eq!(p.listing().len(), 11);
    assert!(!text(&again.stdout).contains("Report:"), "{}", text(&again.stdout));
    // …unless asked for.
    let asked = zdm(&p, &["--report", "ALTER TABLE users ADD COLUMN nickname2 text"], None);
    assert!(asked.status.success());
    assert_eq!(p.listing().len(), 14);
    let last = text(&asked.stdout).lines().last().unwrap().to_string();
    assert!(last.contains("/.zdm/reports/") && last.ends_with(".html"), "{last}");
    // Relative to the current directory when --dir is relative; --width and --format markdown.
    let rel = Command::new(env!("CARGO_BIN_EXE_zdm"))
        .current_dir(p.0.parent().unwrap())
        .args(["plan", "--dry-run", "--width", "60", "--dir"])
        .arg(p.0.file_name().unwrap())
        .arg("ALTER TABLE users ALTER COLUMN email SET NOT NULL")
        .env("NO_COLOR", "1")
        .env("LANG", "C.UTF-8")
        .output()
        .unwrap();
    let rel = text(&rel.stdout);
    let name = p.0.file_name().unwrap().to_str().unwrap();
    assert!(rel.lines().last().unwrap().starts_with(&format!("{name}/.zdm/reports/")), "{rel}");
    assert!(rel.lines().all(|l| zdm_core::report::visible_width(l) <= 60 || l.starts_with(name)), "{rel}");
    let md = zdm(&p, &["--dry-run", "--format", "markdown", "ALTER TABLE users ALTER COLUMN email SET NOT NULL"], None);
    let md = text(&md.stdout);
    assert!(md.starts_with("### ▲ RISKY") && md.contains("| # | Step | Lock | Duration | Rollback |") && md.contains("<details>"), "{md}");
}

#[test]
fn malformed_sql_exits_2_with_a_location_and_writes_nothing() {
    let p = Project::with_setup("syntax");
    let out = zdm(&p, &["ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN b int DEFAUL 1"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.starts_with("error: syntax error at or near \"DEFAUL\""), "{err}");
    assert!(err.contains("--> <change>:2:36"), "{err}");
    assert_eq!(p.listing().len(), 1);
    assert!(out.stdout.is_empty());
}

#[test]
fn a_typo_against_the_schema_exits_2_naming_it() {
    let p = Project::with_setup("typo");
    fs::write(p.0.join("change.sql"), "-- rename\nALTER TABLE users RENAME COLUMN nmae TO full_name;\n").unwrap();
    let out = zdm(&p, &["--file", p.0.join("change.sql").to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("column `nmae` does not exist on `users`"), "{err}");
    assert!(err.contains("change.sql:2:33"), "the caret points at the unknown name: {err}");
    assert!(err.contains(&format!("2 | ALTER TABLE users RENAME COLUMN nmae TO full_name;\n  | {}^", " ".repeat(32))), "{err}");
    assert!(err.contains("help: columns of users: id, name, email, score, code"), "{err}");
    assert_eq!(p.listing().len(), 2);
}

#[test]
fn bad_flags_exit_2() {
    let p = Project::with_setup("flags");
    assert_eq!(zdm(&p, &["--pg-version", "10", "SELECT 1"], None).status.code(), Some(2));
    assert_eq!(zdm(&p, &["--lock-timeout", "forever", "SELECT 1"], None).status.code(), Some(2));
    assert_eq!(zdm(&p, &[], None).status.code(), Some(2));
    assert_eq!(p.listing().len(), 1);
}

#[test]
fn dry_run_and_stdin() {
    let p = Project::with_setup("dry");
    let out = zdm(&p, &["--dry-run", "-"], Some("CREATE INDEX ON users (email);"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("dry run: nothing written"));
    assert_eq!(p.listing().len(), 1);
}

#[test]
fn json_is_one_object_and_secrets_are_masked() {
    let p = Project::with_setup("json");
    let change = "CREATE SUBSCRIPTION s CONNECTION 'host=db password=hunter2 dbname=app' PUBLICATION p WITH (connect = false)";
    let out = zdm(&p, &["--format", "json", "--name", "subscribe", change], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("hunter2"), "the password must not be printed");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["stack"]["tool"], "dbmate");
    assert_eq!(v["operations"][0]["risk"], "unknown");
    let file = v["files"][0].as_str().unwrap();
    assert!(file.ends_with("_subscribe.sql"), "{file}");
    assert!(fs::read_to_string(p.0.join(file)).unwrap().contains("hunter2"), "the file itself must run as written");
}

#[test]
fn a_long_plan_writes_the_html_report() {
    let p = Project::with_setup("report");
    let change: String = (0..12).map(|i| format!("CREATE INDEX ON users (email, score) WHERE score > {i};\n")).collect();
    let out = zdm(&p, &[&change], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let receipt = text(&out.stdout);
    assert!(receipt.lines().count() <= 40);
    let report = p.listing().into_iter().find(|f| f.starts_with(".zdm/reports/") && f.ends_with(".html")).expect("report written");
    assert!(receipt.contains(&report), "{receipt}");
    let html = fs::read_to_string(p.0.join(&report)).unwrap();
    assert!(html.contains("CREATE INDEX CONCURRENTLY users_email_score_idx"));
}

#[test]
fn a_project_without_migrations_gets_a_migrations_dir_and_the_files_run() {
    let p = Project::new("fresh", &[]);
    let out = zdm(&p, &["ALTER TABLE users ALTER COLUMN email SET NOT NULL"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("no schema found"));
    let files: Vec<String> = p.listing().into_iter().filter(|f| !f.starts_with(".zdm/")).collect();
    assert_eq!(files.len(), 3);
    assert!(files.iter().all(|f| f.starts_with("migrations/")), "{files:?}");

    let db = zdm_pg::testing::TestDb::new("cli_fresh");
    let mut c = db.connect();
    c.batch_execute(SETUP).unwrap();
    c.batch_execute("UPDATE users SET email = 'x' WHERE email IS NULL").unwrap();
    for f in &files {
        let contents = fs::read_to_string(p.0.join(f)).unwrap();
        zdm_pg::runner::apply(&mut c, &contents, zdm_pg::runner::Direction::Up).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    assert!(support::scalar::<bool>(
        &mut c,
        "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'"
    ));
}

fn zdm_cmd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zdm")).args(args).env("LANG", "C.UTF-8").output().unwrap()
}

#[test]
fn rules_and_explain() {
    let list = zdm_cmd(&["rules"]);
    assert!(list.status.success());
    let listing = text(&list.stdout);
    for id in ["C01", "K06", "I05", "T13", "P03", "E05", "G05", "H10", "S09"] {
        assert!(listing.lines().any(|l| l.starts_with(id)), "{id} missing from `zdm rules`");
    }
    let explain = zdm_cmd(&["explain", "set-not-null"]);
    assert!(explain.status.success());
    assert!(text(&explain.stdout).contains("**Safe strategy:**"));
    let missing = zdm_cmd(&["explain", "Z99"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no rule `Z99`"));
}

#[test]
fn a_naive_migration_in_the_project_is_planned_not_replayed() {
    let p = Project::with_setup("naive");
    let naive = "db/migrations/20260201000000_rename_name.sql";
    fs::write(p.0.join(naive), "-- migrate:up\nALTER TABLE users RENAME COLUMN name TO full_name;\n\n-- migrate:down\nALTER TABLE users RENAME COLUMN full_name TO name;\n").unwrap();
    let out = zdm(&p, &["--file", p.0.join(naive).to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let receipt = text(&out.stdout);
    assert!(receipt.contains("rename users.name → users.full_name"), "{receipt}");
    let report = p.listing().into_iter().find(|f| f.starts_with(".zdm/reports/")).expect("a report");
    let html = fs::read_to_string(p.0.join(report)).unwrap();
    assert!(html.contains("is the migration being planned: delete it"), "the note is in the report");
    assert!(p.listing().iter().any(|f| f.ends_with("_contract_users_name.sql")));
}

#[test]
fn a_history_zdm_cannot_read_is_said_in_the_verdict() {
    let p = Project::new(
        "alembic",
        &[
            ("alembic.ini", "[alembic]\nscript_location = alembic\n"),
            ("alembic/versions/001_create_users.py", "def upgrade():\n    pass\n"),
            ("alembic/versions/002_add_email.py", "def upgrade():\n    pass\n"),
            ("alembic/versions/003_add_score.py", "def upgrade():\n    pass\n"),
        ],
    );
    let out = zdm(&p, &["ALTER TABLE madeup ADD COLUMN x int", "--dry-run", "--format", "json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let verdict = json["verdict"].as_str().unwrap();
    assert!(
        verdict.starts_with("Schema unknown (3 Alembic migrations (alembic/versions) zdm cannot read yet; 2 assumptions)"),
        "{verdict}"
    );
    assert_eq!(json["schema"]["source"], "unknown");
    assert_eq!(json["schema"]["assumptions"].as_array().unwrap().len(), 2);
    let receipt = text(&zdm(&p, &["ALTER TABLE madeup ADD COLUMN x int", "--dry-run"], None).stdout);
    assert!(receipt.contains("Schema unknown (3 Alembic migrations"), "{receipt}");
}

#[test]
fn prepare_transaction_exits_2_with_its_location() {
    let p = Project::with_setup("prepare");
    let out = zdm(&p, &["BEGIN;\nALTER TABLE users ADD COLUMN a int;\nPREPARE TRANSACTION 'm1';"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("PREPARE TRANSACTION would leave a prepared transaction holding its locks"), "{err}");
    assert!(err.contains("--> <change>:3:1"), "{err}");
    assert_eq!(p.listing().len(), 1);
}

/// `zdm ARGS --dir PROJECT` (any subcommand).
fn run(project: &Project, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zdm")).args(args).arg("--dir").arg(&project.0).env("NO_COLOR", "1").output().unwrap()
}

const DBMATE_INIT: &str = "-- migrate:up\nCREATE TABLE users (id bigint PRIMARY KEY, name text);\n-- migrate:down\nDROP TABLE users;\n";

#[test]
fn two_migration_setups_stop_with_the_candidates_and_how_to_choose() {
    let p = Project::new(
        "ambiguous",
        &[("api/db/migrations/20250101000000_init.sql", DBMATE_INIT), ("worker/db/migrations/20250101000000_init.sql", DBMATE_INIT)],
    );
    let before = p.listing();
    let out = run(&p, &["plan", "ALTER TABLE users ADD COLUMN nick text"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("more than one migration setup found"), "{err}");
    assert!(err.contains("dbmate in api/db/migrations") && err.contains("dbmate in worker/db/migrations"), "{err}");
    assert!(err.contains("--migrations-dir") && err.contains("nothing written"), "{err}");
    assert_eq!(p.listing(), before, "nothing written");
    let out = run(&p, &["detect"]);
    assert_eq!(out.status.code(), Some(2), "detect says the same");

    let out = run(&p, &["plan", "ALTER TABLE users ADD COLUMN nick text", "--migrations-dir", "worker/db/migrations"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let added: Vec<String> = p.listing().into_iter().filter(|f| !before.contains(f) && !f.starts_with(".zdm/")).collect();
    assert_eq!(added.len(), 1, "{added:?}");
    assert!(added[0].starts_with("worker/db/migrations/"), "{added:?}");

    // A weaker candidate (plain numbered files) loses to dbmate's markers, and the receipt says so.
    let p = Project::new("weaker", &[("db/migrations/20250101000000_init.sql", DBMATE_INIT), ("sql/001_seed.sql", "SELECT 1;\n")]);
    let out = run(&p, &["plan", "ALTER TABLE users ADD COLUMN nick text", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Tool: dbmate") && stdout.contains("not used: raw-sql in sql; see zdm detect"), "{stdout}");
}

#[test]
fn one_directory_per_engine_picks_the_postgres_one_and_another_engine_alone_is_refused() {
    let p = Project::new(
        "per-engine",
        &[("migrations/sqlite/20250101000000_init.sql", DBMATE_INIT), ("migrations/postgres/20250101000000_init.sql", DBMATE_INIT)],
    );
    let out = run(&p, &["detect", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["dir"], "migrations/postgres");
    assert_eq!(json["tool"], "dbmate");
    assert_eq!(json["candidates"][0]["engine"], "sqlite");

    let p = Project::new("sqlite-only", &[("migrations/sqlite/20250101000000_init.sql", DBMATE_INIT)]);
    let out = run(&p, &["plan", "ALTER TABLE users ADD COLUMN nick text"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("for sqlite, not PostgreSQL") && err.contains("migrations/sqlite"), "{err}");
    assert_eq!(p.listing(), ["migrations/sqlite/20250101000000_init.sql"], "nothing written");
}

#[test]
fn an_unknown_tool_name_is_refused_with_the_list() {
    let p = Project::with_setup("unknown-tool");
    let out = run(&p, &["plan", "ALTER TABLE users ADD COLUMN nick text", "--tool", "flywheel"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("unknown migration tool `flywheel`") && err.contains("dbmate"), "{err}");
}

/// `--tool`'s help names every tool zdm writes for, in detection order.
#[test]
fn tool_help_lists_every_tool() {
    let out = Command::new(env!("CARGO_BIN_EXE_zdm")).args(["plan", "--help"]).output().unwrap();
    let help = text(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    let listed = format!("({})", zdm_core::tools::ids().join(", "));
    assert!(help.contains(&listed), "{listed} not in:\n{help}");
}
