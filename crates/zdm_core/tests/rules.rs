//! Every rule of the catalogue: a flagged case, a clean case, and a case on each side of each version
//! boundary it knows; its documentation; the `zdm rules` listing; the generated docs/rules.md.

use std::collections::BTreeSet;
use zdm_core::model::{LockLevel, PgVersion, ProjectFile, ProjectFiles, Risk};
use zdm_core::pipeline;
use zdm_core::plan::PlanConfig;
use zdm_core::report::{self, Style};
use zdm_core::rules::{self, RULES};

const SETUP: &str = include_str!("../../../tests/fixtures/setup.sql");

/// Extra schema for the rules that need domains, enums, partitions, sequences.
const EXTRA: &str = include_str!("../../../tests/fixtures/extra.sql");

/// Views (one reading another) and a trigger, for the DROP rules.
const VIEWS: &str = "CREATE VIEW active_users AS SELECT id, name FROM users;\nCREATE VIEW active_names AS SELECT name FROM active_users;";

#[path = "common/cases.rs"]
mod cases;
use cases::CASES;

fn project() -> ProjectFiles {
    ProjectFiles::new(vec![ProjectFile { path: "migrations/0001_init.sql".into(), contents: format!("{SETUP}\n{EXTRA}\n{VIEWS}") }])
}

fn flagged_rules(pg: u32, change: &str) -> BTreeSet<&'static str> {
    let files = project();
    let config = PlanConfig { pg: PgVersion(pg), code_refs: code_refs(), ..PlanConfig::default() };
    let out =
        pipeline::run(pipeline::Input::new(change, &files, config, "20261125140000")).unwrap_or_else(|e| panic!("PG {pg}: {change}: {e}"));
    out.analysis.ops.iter().flat_map(|c| c.findings.iter().map(|f| f.rule)).collect()
}

/// What a scan of the application's code found: one model field mapped to users.email.
fn code_refs() -> Vec<zdm_core::refs::CodeRef> {
    vec![zdm_core::refs::CodeRef {
        path: "app/models/user.rb".into(),
        line: 3,
        col: 14,
        table: "users".into(),
        column: Some("email".into()),
        kind: zdm_core::refs::RefKind::OrmField,
        snippet: "validates :email".into(),
    }]
}

#[test]
fn every_case_flags_exactly_as_expected() {
    let mut wrong = Vec::new();
    for (id, pg, change, expected) in CASES {
        let got = flagged_rules(*pg, change).contains(id);
        if got != *expected {
            wrong.push(format!("{id} on PG {pg}: expected {}flagged: {change}", if *expected { "" } else { "not " }));
        }
    }
    assert!(wrong.is_empty(), "{} cases wrong:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn every_rule_has_a_flagged_and_a_clean_case() {
    for r in RULES {
        let id = r.meta().id;
        assert!(CASES.iter().any(|c| c.0 == id && c.3), "{id} has no flagged case");
        assert!(CASES.iter().any(|c| c.0 == id && !c.3), "{id} has no clean case");
    }
}

#[test]
fn every_rule_is_documented_under_the_fixed_headings() {
    let mut ids = BTreeSet::new();
    for r in RULES {
        let m = r.meta();
        assert!(ids.insert(m.id), "duplicate id {}", m.id);
        let doc = rules::doc(*r);
        assert!(doc.starts_with(&format!("# {} ({})", m.name, m.id)), "{}: doc header is `{}`", m.id, doc.lines().next().unwrap_or(""));
        for heading in ["**What it detects:**", "**Why it's risky:**", "**Safe strategy:**", "**Version notes:**"] {
            assert!(doc.contains(heading), "{} lacks {heading}", m.id);
        }
        assert!(report::explain(m.id).is_some() && report::explain(m.name).is_some());
    }
}

#[test]
fn rule_list_snapshot() {
    let list = report::rule_list(&Style::default());
    assert!(list.lines().all(|l| l.chars().count() <= 100));
    insta::assert_snapshot!("rule_list", list);
}

#[test]
fn docs_rules_md_is_generated_from_the_rules() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rules.md");
    let current = std::fs::read_to_string(path).unwrap_or_default();
    assert!(current == report::rules_markdown(), "docs/rules.md is stale: run `cargo run -q -p zdm -- rules --markdown > docs/rules.md`");
}

/// The last operation of a change planned against the fixture: its risk, its lock, and its findings' messages.
fn last_op(change: &str) -> (Risk, LockLevel, String) {
    let files = project();
    let out = pipeline::run(pipeline::Input::new(change, &files, PlanConfig::default(), "20261125140000"))
        .unwrap_or_else(|e| panic!("{change}: {e}"));
    let c = out.analysis.ops.last().expect("one operation");
    (c.risk, c.lock, c.findings.iter().map(|f| f.message.clone()).collect::<Vec<_>>().join(" | "))
}

/// (change, risk of its last operation, lock it takes, text its findings must contain)
const VERDICTS: &[(&str, Risk, LockLevel, &str)] = &[
    ("WITH d AS (DELETE FROM users RETURNING *) SELECT 1", Risk::Dangerous, LockLevel::RowExclusive, "every row"),
    ("WITH d AS (DELETE FROM users WHERE id < 5 RETURNING *) SELECT 1", Risk::Risky, LockLevel::RowExclusive, "DELETE users"),
    ("WITH u AS (UPDATE users SET score = 1 RETURNING id) SELECT count(*) FROM u", Risk::Risky, LockLevel::RowExclusive, "UPDATE users"),
    ("DELETE FROM audit_log", Risk::Dangerous, LockLevel::RowExclusive, "every row"),
    ("MERGE INTO events e USING users u ON e.id = u.id WHEN MATCHED THEN DELETE", Risk::Risky, LockLevel::RowExclusive, "MERGE events"),
    ("INSERT INTO audit_log (msg) VALUES ('x')", Risk::Info, LockLevel::RowExclusive, "rollback does not remove"),
    ("CREATE TABLE t (a int);\nINSERT INTO t VALUES (1), (2)", Risk::Safe, LockLevel::RowExclusive, ""),
    ("LOCK TABLE users", Risk::Risky, LockLevel::AccessExclusive, "ACCESS EXCLUSIVE"),
    ("LOCK TABLE users IN EXCLUSIVE MODE", Risk::Risky, LockLevel::Exclusive, "EXCLUSIVE MODE"),
    ("LOCK TABLE users IN ACCESS SHARE MODE", Risk::Safe, LockLevel::AccessShare, ""),
    ("CREATE TABLE users_copy AS SELECT * FROM users", Risk::Info, LockLevel::AccessShare, "later writes"),
    ("ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_pk", Risk::Info, LockLevel::AccessExclusive, "ON CONFLICT"),
    ("DROP TYPE mood CASCADE", Risk::Dangerous, LockLevel::AccessExclusive, "users.feeling"),
    ("DROP TYPE mood", Risk::Risky, LockLevel::None, "users.feeling"),
    ("DROP VIEW active_users CASCADE", Risk::Dangerous, LockLevel::AccessExclusive, "active_names"),
    ("DROP VIEW active_names", Risk::Risky, LockLevel::AccessExclusive, "running code"),
    ("DROP FUNCTION f(int) CASCADE", Risk::Dangerous, LockLevel::AccessExclusive, "trigger"),
    ("DROP FUNCTION f(int)", Risk::Risky, LockLevel::None, "calls it"),
    ("SELECT 1", Risk::Safe, LockLevel::None, ""),
    ("SELECT * FROM users WHERE id = 1 FOR UPDATE", Risk::Risky, LockLevel::RowShare, "users"),
    ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity", Risk::Dangerous, LockLevel::None, "connections"),
    ("SELECT setval('invoice_seq', 1)", Risk::Risky, LockLevel::None, "collide"),
    ("SELECT lo_unlink(123)", Risk::Dangerous, LockLevel::None, "data is gone"),
    ("SELECT dblink_exec('dbname=x', 'DROP TABLE users')", Risk::Unknown, LockLevel::None, "cannot see"),
    ("SELECT pg_advisory_lock(1)", Risk::Risky, LockLevel::None, "session-level"),
    ("SELECT pg_sleep(5)", Risk::Risky, LockLevel::None, "holding"),
    ("SELECT id INTO users_copy FROM users", Risk::Info, LockLevel::AccessShare, "users_copy"),
    ("SET session_replication_role = replica", Risk::Dangerous, LockLevel::None, "sync triggers"),
    ("SET lock_timeout = 0", Risk::Risky, LockLevel::None, "waits forever"),
    ("SET statement_timeout = 0", Risk::Risky, LockLevel::None, "unbounded"),
    ("COMMENT ON TABLE users IS 'people'", Risk::Safe, LockLevel::ShareUpdateExclusive, ""),
    ("COMMENT ON COLUMN users.email IS 'mail'", Risk::Safe, LockLevel::ShareUpdateExclusive, ""),
    ("COMMENT ON FUNCTION f(int) IS 'x'", Risk::Safe, LockLevel::None, ""),
    ("COMMENT ON CONSTRAINT users_pkey ON users IS 'key'", Risk::Safe, LockLevel::AccessShare, ""),
    ("GRANT SELECT ON users TO reporting", Risk::Risky, LockLevel::None, "GRANT"),
    (
        "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\nALTER TABLE users ALTER COLUMN email TYPE text COLLATE \"C\"",
        Risk::Dangerous,
        LockLevel::AccessExclusive,
        "rebuilds index users_email_idx under ACCESS EXCLUSIVE",
    ),
    ("ALTER TABLE users ADD COLUMN handle text UNIQUE", Risk::Risky, LockLevel::AccessExclusive, "builds its index"),
    ("ALTER TABLE users ADD COLUMN rank int CHECK (rank > 0)", Risk::Risky, LockLevel::AccessExclusive, "scans all of users"),
    (
        "CREATE UNIQUE INDEX CONCURRENTLY events_kind_key ON events (kind);\nALTER TABLE events ADD CONSTRAINT events_pk PRIMARY KEY USING INDEX events_kind_key",
        Risk::Risky,
        LockLevel::AccessExclusive,
        "kind nullable",
    ),
    (
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL);\nALTER TABLE users ALTER COLUMN email SET NOT NULL",
        Risk::Info,
        LockLevel::AccessExclusive,
        "second ALTER TABLE",
    ),
    ("DROP TABLE users CASCADE", Risk::Dangerous, LockLevel::AccessExclusive, "CASCADE also drops views active_names, active_users"),
    ("DROP TABLE users", Risk::Dangerous, LockLevel::AccessExclusive, "fails while views active_names, active_users read it"),
    ("TRUNCATE audit_log", Risk::Dangerous, LockLevel::AccessExclusive, "deletes all rows"),
];

#[test]
fn statements_get_the_verdict_their_effect_deserves() {
    let mut wrong = Vec::new();
    for (change, risk, lock, text) in VERDICTS {
        let (got_risk, got_lock, messages) = last_op(change);
        if got_risk != *risk || got_lock != *lock || !messages.contains(text) {
            wrong.push(format!(
                "{change}: expected {risk:?} / {} / `{text}`, got {got_risk:?} / {} / `{messages}`",
                lock.name(),
                got_lock.name()
            ));
        }
    }
    assert!(wrong.is_empty(), "{} verdicts wrong:\n{}", wrong.len(), wrong.join("\n"));
}

/// Each statement's first step: does it run in a transaction, and what does its SQL say.
fn first_step(change: &str) -> (bool, String) {
    let files = project();
    let out = pipeline::run(pipeline::Input::new(change, &files, PlanConfig::default(), "20261125140000"))
        .unwrap_or_else(|e| panic!("{change}: {e}"));
    let s = out.plan.steps.first().expect("a step");
    (s.transaction, s.up.clone())
}

#[test]
fn option_values_and_reindex_kinds_are_read_as_written() {
    // REINDEX SCHEMA / SYSTEM / DATABASE cannot run inside a transaction block.
    for change in ["REINDEX SYSTEM", "REINDEX SCHEMA public", "REINDEX DATABASE app"] {
        let (transaction, up) = first_step(change);
        assert!(!transaction, "{change} planned inside a transaction:\n{up}");
        assert!(!up.contains("CONCURRENTLY") || change != "REINDEX SYSTEM", "system catalogs cannot be reindexed concurrently:\n{up}");
    }
    // `(CONCURRENTLY false)` is not concurrent: the plan rebuilds concurrently instead.
    let (_, up) = first_step("REINDEX (CONCURRENTLY false) TABLE users");
    assert!(up.contains("CONCURRENTLY"), "{up}");
    assert_eq!(last_op("REINDEX (CONCURRENTLY false) TABLE users").1, LockLevel::Share);
    assert_eq!(last_op("VACUUM (FULL false) users").1, LockLevel::ShareUpdateExclusive);
    assert_eq!(last_op("VACUUM (FULL) users").1, LockLevel::AccessExclusive);
}

#[test]
fn set_not_null_after_a_validated_check_does_not_scan() {
    use zdm_core::model::Rewrite;
    for change in [
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL);\nALTER TABLE users ALTER COLUMN email SET NOT NULL",
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT c;\nALTER TABLE users ALTER COLUMN email SET NOT NULL",
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL AND score > 0), ALTER COLUMN email SET NOT NULL",
    ] {
        let files = project();
        let out = pipeline::run(pipeline::Input::new(change, &files, PlanConfig::default(), "20261125140000"))
            .unwrap_or_else(|e| panic!("{change}: {e}"));
        let c = out.analysis.ops.last().expect("SET NOT NULL");
        assert!(c.risk <= Risk::Info && c.rewrite == Rewrite::None, "{change}: {:?} / {:?}", c.risk, c.rewrite);
        let step = out.plan.steps.iter().find(|s| s.up.contains("SET NOT NULL")).expect("a SET NOT NULL step");
        assert_eq!(step.duration, "brief", "{change}");
        assert!(!step.up.contains("statement_timeout = 0"), "{change}: {}", step.up);
    }
}

fn plan_of(change: &str) -> Result<zdm_core::pipeline::Outcome, pipeline::Error> {
    let files = project();
    pipeline::run(pipeline::Input::new(change, &files, PlanConfig::default(), "20261125140000"))
}

/// Every forward SQL line of the plan, and its notes.
fn planned(change: &str) -> (String, String) {
    let out = plan_of(change).unwrap_or_else(|e| panic!("{change}: {e}"));
    (out.plan.steps.iter().map(|s| s.up.as_str()).collect::<Vec<_>>().join("\n"), out.plan.notes.join("\n"))
}

#[test]
fn statements_the_change_rolls_back_are_not_planned() {
    let (up, notes) = planned("BEGIN;\nALTER TABLE users ADD COLUMN x int;\nROLLBACK;\nALTER TABLE users ADD COLUMN y int;");
    assert!(!up.contains("ADD COLUMN x"), "{up}");
    assert!(up.contains("ADD COLUMN y"), "{up}");
    assert!(notes.contains("not planned, rolled back by ROLLBACK at 3:1: `ALTER TABLE users ADD COLUMN x int` (2:1)"), "{notes}");

    let (up, notes) = planned("BEGIN;\nDROP TABLE audit_log;\nABORT;\nALTER TABLE users ADD COLUMN y int;");
    assert!(!up.contains("DROP TABLE"), "{up}");
    assert!(notes.contains("rolled back by ABORT at 3:1"), "{notes}");

    let (up, notes) = planned(
        "BEGIN;\nALTER TABLE users ADD COLUMN a int;\nSAVEPOINT s;\nALTER TABLE users ADD COLUMN b int;\nROLLBACK TO SAVEPOINT s;\nALTER TABLE users ADD COLUMN c int;\nCOMMIT;",
    );
    assert!(up.contains("ADD COLUMN a") && up.contains("ADD COLUMN c") && !up.contains("ADD COLUMN b"), "{up}");
    assert!(notes.contains("rolled back by ROLLBACK TO s at 5:1: `ALTER TABLE users ADD COLUMN b int` (4:1)"), "{notes}");

    // RELEASE keeps what the savepoint covered; a ROLLBACK after COMMIT undoes nothing.
    let (up, notes) = planned("BEGIN;\nSAVEPOINT s;\nALTER TABLE users ADD COLUMN a int;\nRELEASE SAVEPOINT s;\nCOMMIT;\nROLLBACK;");
    assert!(up.contains("ADD COLUMN a"), "{up}");
    assert!(notes.contains("ROLLBACK at 6:1 has no open transaction"), "{notes}");

    // A second BEGIN is ignored by PostgreSQL: the first COMMIT ends the block and nothing is undone.
    let (up, notes) = planned("BEGIN;\nBEGIN;\nALTER TABLE users ADD COLUMN a int;\nCOMMIT;");
    assert!(up.contains("ADD COLUMN a"), "{up}");
    assert!(notes.contains("BEGIN at 2:1 is inside an open transaction"), "{notes}");
}

#[test]
fn transaction_statements_a_plan_cannot_run_are_errors_with_a_location() {
    let cases = [
        ("BEGIN;\nALTER TABLE users ADD COLUMN x int;\nROLLBACK;", "every statement of the change is rolled back", (3, 1)),
        ("BEGIN;\nALTER TABLE users ADD COLUMN x int;\nPREPARE TRANSACTION 'm1';", "PREPARE TRANSACTION", (3, 1)),
        ("ALTER TABLE users ADD COLUMN x int;\nCOMMIT PREPARED 'm1';", "COMMIT PREPARED finishes a transaction prepared elsewhere", (2, 1)),
        ("ALTER TABLE users ADD COLUMN x int;\nROLLBACK PREPARED 'm1';", "ROLLBACK PREPARED", (2, 1)),
        ("SAVEPOINT s;\nALTER TABLE users ADD COLUMN x int;", "SAVEPOINT can only be used in a transaction block", (1, 1)),
        ("BEGIN;\nALTER TABLE users ADD COLUMN x int;\nROLLBACK TO s;\nCOMMIT;", "savepoint \"s\" does not exist", (3, 1)),
    ];
    for (change, message, (line, col)) in cases {
        match plan_of(change) {
            Err(pipeline::Error::Plan(e)) => {
                assert!(e.message.contains(message), "{change}: {}", e.message);
                assert_eq!((e.pos.line, e.pos.col), (line, col), "{change}");
            }
            Err(e) => panic!("{change}: unexpected error {e}"),
            Ok(_) => panic!("{change}: planned"),
        }
    }
}

#[test]
fn dropped_views_no_longer_produce_notes() {
    let history = format!("{SETUP}\nCREATE VIEW user_names AS SELECT id, name FROM users;\nDROP VIEW user_names;");
    let files = ProjectFiles::new(vec![ProjectFile { path: "migrations/0001_init.sql".into(), contents: history.clone() }]);
    let change = "ALTER TABLE users RENAME COLUMN name TO full_name";
    let out = pipeline::run(pipeline::Input::new(change, &files, PlanConfig::default(), "20261125140000")).expect("plans");
    assert!(!out.plan.notes.iter().any(|n| n.contains("user_names")), "{:?}", out.plan.notes);
    assert!(out.schema.views.is_empty());
    // A view still there is still named: the rename refuses to leave it reading a dropped column.
    let kept = history.replace("DROP VIEW user_names;", "");
    let files = ProjectFiles::new(vec![ProjectFile { path: "migrations/0001_init.sql".into(), contents: kept }]);
    let out = pipeline::run(pipeline::Input::new(change, &files, PlanConfig::default(), "20261125140000"))
        .err()
        .expect("a view reading the renamed column is refused");
    assert!(out.to_string().contains("view user_names reads users.name"), "{out}");
}
