//! `zdm check` on every catalogue case (the flagged and clean SQL of `common/cases.rs`) and on the parity
//! fixtures (`fixtures/parity/*.sql`: one case per squawk rule, strong_migrations check and eugene rule,
//! each naming the zdm rule that must fire). Snapshots of all cases in every output format; the SARIF
//! validated against the official SARIF 2.1.0 schema.

#[path = "common/cases.rs"]
mod cases;

use cases::CASES;
use zdm_core::check::{self, CheckConfig, CheckFinding, CheckReport};
use zdm_core::model::{PgVersion, Risk, Schema};

const SETUP: &str = include_str!("../../../tests/fixtures/setup.sql");
const EXTRA: &str = include_str!("../../../tests/fixtures/extra.sql");
const VIEWS: &str = "CREATE VIEW active_users AS SELECT id, name FROM users;\nCREATE VIEW active_names AS SELECT name FROM active_users;";

/// Rules `zdm check` cannot fire on a migration file alone: G07 needs the application's code scanned.
const PLAN_ONLY: &[&str] = &["G07"];

fn history() -> Schema {
    let (schema, warnings) =
        zdm_core::schema::replay("migrations", &[("migrations/0001_init.sql".into(), format!("{SETUP}\n{EXTRA}\n{VIEWS}"))]);
    assert!(warnings.is_empty(), "{warnings:?}");
    schema
}

/// Every case checked on its own against the history: path, text, findings.
fn run_cases() -> (Vec<(String, String)>, Vec<CheckFinding>) {
    let base = history();
    let mut files = Vec::new();
    let mut findings = Vec::new();
    let mut n = std::collections::BTreeMap::new();
    for (id, pg, sql, flagged) in CASES {
        let k = n.entry(*id).or_insert(0);
        *k += 1;
        let path = format!("cases/{id}-{k}-{}-pg{pg}.sql", if *flagged { "flagged" } else { "clean" });
        let config = CheckConfig { pg: PgVersion(*pg), ..CheckConfig::default() };
        let mut schema = base.clone();
        findings.extend(check::check_file(&mut schema, &path, sql, false, true, &config));
        files.push((path, (*sql).to_string()));
    }
    (files, findings)
}

fn report(files: &[(String, String)], findings: Vec<CheckFinding>) -> CheckReport {
    CheckReport {
        tool: "dbmate".into(),
        dir: "cases".into(),
        pg: 15,
        files: files.iter().map(|f| f.0.clone()).collect(),
        findings,
        fail_on: Risk::Risky,
    }
}

#[test]
fn every_case_is_flagged_by_check_as_by_plan() {
    let (files, findings) = run_cases();
    let mut wrong = Vec::new();
    for ((path, sql), (id, _, _, flagged)) in files.iter().zip(CASES) {
        if PLAN_ONLY.contains(id) {
            continue;
        }
        let got = findings.iter().any(|f| &f.path == path && f.rule == *id);
        if got != *flagged {
            wrong.push(format!("{path}: expected {}flagged: {sql}", if *flagged { "" } else { "not " }));
        }
    }
    assert!(wrong.is_empty(), "{} cases wrong:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn every_format_snapshot() {
    let (files, findings) = run_cases();
    let r = report(&files, findings);
    let source = |p: &str| files.iter().find(|f| f.0 == p).map(|f| f.1.clone());
    insta::assert_snapshot!("check_text", check::text::text(&r, false));
    insta::assert_snapshot!("check_github", check::github::github(&r));
    insta::assert_snapshot!("check_gitlab", serde_json::to_string_pretty(&check::gitlab::gitlab(&r)).unwrap());
    insta::assert_snapshot!("check_json", serde_json::to_string_pretty(&check::json::json(&r)).unwrap());
    insta::assert_snapshot!("check_sarif", serde_json::to_string_pretty(&check::sarif::sarif(&r, &source)).unwrap());
}

#[test]
fn sarif_validates_against_the_2_1_0_schema_and_github_subset() {
    let (files, findings) = run_cases();
    let r = report(&files, findings);
    let source = |p: &str| files.iter().find(|f| f.0 == p).map(|f| f.1.clone());
    let log = check::sarif::sarif(&r, &source);
    let schema: serde_json::Value = serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator.iter_errors(&log).take(10).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "SARIF invalid:\n{}", errors.join("\n"));
    // A broken log is refused: the validation can fail.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken));
    // GitHub's required fields, non-empty; at most 10 tags; one location; never a security severity.
    let run = &log["runs"][0];
    for rule in run["tool"]["driver"]["rules"].as_array().unwrap() {
        for f in ["shortDescription", "fullDescription", "help"] {
            let t = rule[f]["text"].as_str().unwrap_or_default();
            assert!(!t.is_empty() && (f == "help" || t.chars().count() <= 1024), "{}: {f}", rule["id"]);
        }
        assert!(rule["properties"]["tags"].as_array().unwrap().len() <= 10);
        assert!(rule["properties"].get("security-severity").is_none());
    }
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for res in results {
        assert_eq!(res["locations"].as_array().unwrap().len(), 1);
        assert!(!res["message"]["text"].as_str().unwrap().is_empty());
        assert!(res["partialFingerprints"]["zdm/v1"].as_str().unwrap().len() == 32);
    }
}

#[test]
fn gitlab_fingerprints_are_unique_and_survive_moved_lines() {
    let base = history();
    let config = CheckConfig::default();
    let sql = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\nCREATE INDEX a ON users (name);\nCREATE INDEX a2 ON users (name);\n";
    let one = check::check_file(&mut base.clone(), "m.sql", sql, false, true, &config);
    let moved = check::check_file(&mut base.clone(), "m.sql", &format!("\n\n-- moved\n{sql}"), false, true, &config);
    let prints = |f: &[CheckFinding]| f.iter().map(|f| f.fingerprint.clone()).collect::<Vec<_>>();
    assert_eq!(prints(&one), prints(&moved));
    assert_ne!(one[0].line, moved[0].line);
    let mut unique = prints(&one);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), one.len(), "{one:?}");
}

#[test]
fn transactions_the_tool_opens_count() {
    let base = history();
    let config = CheckConfig::default();
    let sql = "CREATE INDEX CONCURRENTLY users_name_idx ON users (name);\n";
    let inside = check::check_file(&mut base.clone(), "m.sql", sql, true, true, &config);
    let outside = check::check_file(&mut base.clone(), "m.sql", sql, false, true, &config);
    assert!(inside.iter().any(|f| f.rule == "I03" && f.risk == Risk::Dangerous), "{inside:?}");
    assert!(outside.iter().all(|f| f.rule != "I03"), "{outside:?}");
    // A strong lock, then slow work in the same transaction.
    let slow = "ALTER TABLE users ADD COLUMN n text;\nUPDATE users SET score = 0;\n";
    let f = check::check_file(&mut base.clone(), "m.sql", slow, true, true, &config);
    assert!(f.iter().any(|f| f.rule == "H03"), "{f:?}");
    // lock_timeout set first: no H01.
    let timed = "SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n";
    let f = check::check_file(&mut base.clone(), "m.sql", timed, true, true, &config);
    assert!(f.iter().all(|f| f.rule != "H01") && f.iter().any(|f| f.rule == "C08"), "{f:?}");
}

/// A table a DO block creates exists for the files after it (its static SQL is replayed as the walk goes),
/// and once its file is deployed it is an existing table like any other: no "does not exist" false alarm,
/// and the later ALTER is judged as on an existing table (H01).
#[test]
fn a_table_created_in_a_do_block_exists_afterwards() {
    let mut schema = history();
    let config = CheckConfig::default();
    let created = "DO $$ BEGIN CREATE TABLE foo (id int PRIMARY KEY); END $$;\n";
    let first = check::check_file(&mut schema, "a.sql", created, true, false, &config);
    assert!(first.iter().all(|f| f.rule != "invalid-migration"), "{first:?}");
    let later = check::check_file(&mut schema, "b.sql", "ALTER TABLE foo ADD COLUMN x int;\n", true, false, &config);
    assert!(later.iter().all(|f| f.rule != "invalid-migration"), "{later:?}");
    assert!(later.iter().any(|f| f.rule == "H01"), "{later:?}");
}

#[test]
fn parity_fixtures_fire_the_rule_they_name() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/parity");
    let base = history();
    let mut wrong = Vec::new();
    let mut count = 0;
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let text = std::fs::read_to_string(&p).unwrap();
        // `-- parity: <source> <their rule> -> <zdm rule or "none">`
        let head = text.lines().next().unwrap_or_default();
        let expect = head.rsplit("-> ").next().unwrap_or_default().trim();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        assert!(head.starts_with("-- parity: "), "{name}: first line must be `-- parity: SOURCE RULE -> ZDM`");
        let in_tx = text.contains("-- in-transaction");
        let f = check::check_file(&mut base.clone(), &name, &text, in_tx, true, &CheckConfig::default());
        let ok = if expect == "none" {
            f.iter().all(|f| f.suppressed.is_some() || f.level == check::Level::Note)
        } else {
            f.iter().any(|f| f.rule == expect || f.name == expect)
        };
        if !ok {
            wrong.push(format!("{name}: expected {expect}, got {:?}", f.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>()));
        }
        count += 1;
    }
    assert!(count > 0);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
