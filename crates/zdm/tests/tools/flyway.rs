//! Flyway: its runner is Java from Maven Central, which is not reachable here (and the npm wrappers
//! `node-flywaydb`/`flywaydb-cli` download it at run time), so [`Flyway`] below applies the files the way
//! Flyway Community does on PostgreSQL. Rules followed, from flyway/flyway 13.0's source:
//! - `SqlMigrationResolver` + `CoreResourceTypeProvider`: only `V<version>__<desc>.sql` and `R__<desc>.sql`
//!   in the location (scanned recursively) run; `U…` undo files are not migrations in Community, and with
//!   `validateMigrationNaming=true` (the fixture sets it) any `.sql` name Flyway does not recognise fails
//!   the run (`ResourceNameValidator`), which this runner checks too.
//! - `MigrationVersion` / `ResolvedMigrationComparator`: versions compare part by part (`_` = `.`), then
//!   repeatables by description, re-run when their checksum changes.
//! - `ParserSqlScript.executeInTransaction` + `PostgreSQLParser.detectCanExecuteInTransaction`: a script
//!   runs in one transaction unless its `<script>.conf` says `executeInTransaction=false` or a statement
//!   is non-transactional (`CREATE/DROP [UNIQUE] INDEX CONCURRENTLY`, `VACUUM`, `REINDEX SCHEMA|DATABASE|
//!   SYSTEM`, `ALTER SYSTEM`, `DISCARD ALL`, `CREATE/DROP DATABASE|TABLESPACE|SUBSCRIPTION`); mixing both
//!   kinds fails (`mixed=false`). Statements are sent one by one (Flyway's parser splits on `;` outside
//!   strings, comments and dollar quotes — here PostgreSQL's own scanner does the split).
//! - Placeholders: `${…}` in a script fails unless `placeholderReplacement=false` (script config).
//!   Rollback (`down_one`): what each rollback file zdm wrote says — psql on the file (statement by
//!   statement, inside one transaction when it says `--single-transaction`), then the history row deleted.

use crate::harness::{self, Fixture, Runner};
use zdm_core::tools::common::statements;
use zdm_pg::Client;
use zdm_pg::runner::execute_each;
use zdm_pg::testing::TestDb;

struct Flyway {
    /// The location (`flyway.locations`), relative to the project.
    location: &'static str,
    /// `validateMigrationNaming=true`: a `.sql` file Flyway does not recognise fails the run.
    strict_naming: bool,
}

/// Flyway's version order: parts as integers, `_` = `.`, trailing zeros ignored.
fn version_key(v: &str) -> Vec<u128> {
    let mut p: Vec<u128> = v.split(['.', '_']).map(|x| x.parse().expect("numeric version part")).collect();
    while p.len() > 1 && p.last() == Some(&0) {
        p.pop();
    }
    p
}

fn non_transactional(statement: &str) -> bool {
    // Flyway matches its regexes on the statement without comments, keywords upper-cased, one space apart.
    let text: String = statement.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join(" ");
    let s = text.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_uppercase();
    ["CREATE INDEX CONCURRENTLY", "CREATE UNIQUE INDEX CONCURRENTLY", "DROP INDEX CONCURRENTLY", "DROP UNIQUE INDEX CONCURRENTLY"]
        .iter()
        .any(|p| s.starts_with(p))
        || s.starts_with("VACUUM")
        || s.starts_with("ALTER SYSTEM")
        || s.starts_with("DISCARD ALL")
        || ["REINDEX SCHEMA", "REINDEX DATABASE", "REINDEX SYSTEM", "REINDEX VERBOSE"].iter().any(|p| s.starts_with(p))
        || ["CREATE DATABASE", "DROP DATABASE", "CREATE TABLESPACE", "DROP TABLESPACE", "CREATE SUBSCRIPTION", "DROP SUBSCRIPTION"]
            .iter()
            .any(|p| s.starts_with(p))
}

fn checksum(text: &str) -> String {
    // Any stable digest does for "changed or not"; Flyway uses CRC32.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Runs one script the way Flyway does: its `.conf`, transaction or not, statement by statement.
fn run_script(c: &mut Client, path: &std::path::Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let conf = std::fs::read_to_string(format!("{}.conf", path.display())).unwrap_or_default();
    let setting = |k: &str| conf.lines().find_map(|l| l.trim().strip_prefix(k)?.trim().strip_prefix('=').map(|v| v.trim() == "true"));
    if setting("placeholderReplacement") != Some(false) {
        assert!(!text.contains("${"), "{}: Flyway would fail on an unset placeholder", path.display());
    }
    let stmts = statements(&text);
    let any_non = stmts.iter().any(|s| non_transactional(s));
    let transaction = match setting("executeInTransaction") {
        Some(t) => t,
        None => {
            assert!(
                !(any_non && stmts.iter().any(|s| !non_transactional(s))),
                "{}: Flyway refuses transactional and non-transactional statements in one migration (mixed=false)",
                path.display()
            );
            !any_non
        }
    };
    execute_each(c, &stmts, transaction).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

impl Flyway {
    fn scripts(&self, fx: &Fixture) -> Vec<(String, std::path::PathBuf)> {
        let mut out = Vec::new();
        let mut stack = vec![fx.path(self.location)];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if let Some(name) = p.file_name().and_then(|n| n.to_str()).filter(|n| n.ends_with(".sql")) {
                    out.push((name.to_string(), p.clone()));
                }
            }
        }
        out
    }

    fn history(c: &mut Client) {
        c.batch_execute("CREATE TABLE IF NOT EXISTS zdm_test_history (rank serial, version text, script text, checksum text)").unwrap();
    }
}

impl Runner for Flyway {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        let mut c = db.connect();
        Flyway::history(&mut c);
        let mut versioned = Vec::new();
        let mut repeatable = Vec::new();
        for (name, path) in self.scripts(fx) {
            let stem = name.strip_suffix(".sql").unwrap();
            let (prefix, rest) = stem.split_at(1);
            let (version, desc) = rest.split_once("__").unwrap_or_else(|| panic!("{name}: not a Flyway name (validateMigrationNaming)"));
            match prefix {
                "V" => versioned.push((version_key(version), version.to_string(), name.clone(), path)),
                "R" if version.is_empty() => repeatable.push((desc.replace('_', " "), name.clone(), path)),
                _ if self.strict_naming => panic!("{name}: not a Community migration name; validateMigrationNaming=true fails the run"),
                _ => {} // "detected but not run because they did not follow the filename convention"
            }
        }
        versioned.sort();
        repeatable.sort();
        let applied: Vec<String> =
            c.query("SELECT version FROM zdm_test_history WHERE version IS NOT NULL", &[]).unwrap().iter().map(|r| r.get(0)).collect();
        for (_, version, name, path) in versioned {
            if applied.contains(&version) {
                continue;
            }
            run_script(&mut c, &path);
            c.execute("INSERT INTO zdm_test_history (version, script) VALUES ($1, $2)", &[&version, &name]).unwrap();
        }
        for (_, name, path) in repeatable {
            let sum = checksum(&std::fs::read_to_string(&path).unwrap());
            let done =
                harness::count(&mut c, &format!("SELECT count(*) FROM zdm_test_history WHERE script = '{name}' AND checksum = '{sum}'"));
            if done == 0 {
                run_script(&mut c, &path);
                c.execute("INSERT INTO zdm_test_history (script, checksum) VALUES ($1, $2)", &[&name, &sum]).unwrap();
            }
        }
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        let mut c = db.connect();
        let row = c.query_one("SELECT version FROM zdm_test_history WHERE version IS NOT NULL ORDER BY rank DESC LIMIT 1", &[]).unwrap();
        let version: String = row.get(0);
        let dir = fx.path(self.location).parent().unwrap().join("rollback");
        let file = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&format!("U{version}__")))
            .unwrap_or_else(|| panic!("no rollback file for version {version} in {}", dir.display()));
        let text = std::fs::read_to_string(&file).unwrap();
        let how = text.lines().find(|l| l.contains("psql ")).expect("the rollback file says how to run it");
        // psql sends each statement on its own; --single-transaction wraps the file in BEGIN/COMMIT.
        execute_each(&mut c, &statements(&text), how.contains("--single-transaction"))
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let forget = text.lines().find_map(|l| l.strip_prefix("-- then ")).expect("the rollback file says how to forget the migration");
        c.batch_execute(&forget.replace("flyway_schema_history", "zdm_test_history")).unwrap();
    }
}

#[test]
fn flyway_detection_and_files() {
    let fx = Fixture::copy("flyway", "flyway-snap");
    insta::assert_snapshot!("flyway_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("flyway", &format!("snap-{name}"));
        insta::assert_snapshot!(format!("flyway_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn flyway_runs_the_files() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("flyway", name);
        let db = TestDb::new(&format!("flyway_{name}"));
        harness::roundtrip(&fx, &db, &Flyway { location: "sql", strict_naming: true }, change, check);
    }
}

/// A Spring Boot + Gradle project (flyway-core dependency, default `classpath:db/migration`), versions
/// `1_1`, `1_2`, `1_10` (1.10 runs after 1.2), an undo file and a repeatable: `plan_code` exists only if
/// the history replayed in Flyway's order.
#[test]
fn flyway_spring_boot_layout() {
    let fx = Fixture::copy("flyway-spring", "spring");
    insta::assert_snapshot!("flyway_spring_detect", fx.detect(&[]));
    let out = fx.plan("ALTER TABLE accounts RENAME COLUMN plan_code TO plan", &["--format", "json"]);
    // The plan exists at all only because `plan_code` did (the typo guard stops a rename of a missing
    // column): V1_10 replayed after V1_2, which creates the table. The undo file is not read.
    let json: serde_json::Value = serde_json::from_str(out.split("\n=====").next().unwrap()).unwrap();
    let schema = &json["schema"];
    assert_eq!((schema["files"].as_u64(), schema["tables"].as_u64()), (Some(4), Some(2)), "{schema}");
    assert!(schema["replay_failures"].as_array().unwrap().is_empty() && schema["blind_spots"].as_array().unwrap().is_empty(), "{schema}");
    let written: Vec<String> = fx.written().into_iter().map(|(p, _)| p).collect();
    assert!(written.iter().any(|p| p.starts_with("src/main/resources/db/migration/V1_11__")), "{written:?}");
    assert!(written.iter().any(|p| p.starts_with("src/main/resources/db/rollback/U1_11__")), "{written:?}");
    let db = TestDb::new("flyway_spring");
    Flyway { location: "src/main/resources/db/migration", strict_naming: false }.up(&fx, &db);
    let plan = "SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'plan'";
    assert_eq!(harness::count(&mut db.connect(), plan), 1);
}

#[test]
fn flyway_errors_name_the_file() {
    let mysql = Fixture::copy("flyway", "mysql");
    std::fs::write(mysql.path("flyway.conf"), "flyway.url=jdbc:mysql://localhost:3306/app\nflyway.locations=filesystem:sql\n").unwrap();
    let run = mysql.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("mysql") && run.stderr.contains("flyway"), "{}", run.stderr);
    assert_eq!(harness_written(&mysql), ["flyway.conf"]);

    let toml = Fixture::copy("flyway", "toml");
    std::fs::remove_file(toml.path("flyway.conf")).unwrap();
    std::fs::write(
        toml.path("flyway.toml"),
        "[environments.default]\nurl = \"jdbc:postgresql://localhost/app\"\n\n[flyway]\nlocations = [\"filesystem:sql\"\n",
    )
    .unwrap();
    let run = toml.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("flyway.toml") && run.stderr.contains("not closed"), "{}", run.stderr);
    assert_eq!(harness_written(&toml), ["flyway.toml"]);

    let two = Fixture::copy("flyway", "ambiguous");
    std::fs::create_dir_all(two.path("service/db/changelog")).unwrap();
    std::fs::write(two.path("service/liquibase.properties"), "changeLogFile=db/changelog/db.changelog-master.sql\n").unwrap();
    std::fs::write(two.path("service/db/changelog/db.changelog-master.sql"), "--liquibase formatted sql\n").unwrap();
    let run = two.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("more than one migration setup") && run.stderr.contains("liquibase"), "{}", run.stderr);
    assert_eq!(harness_written(&two), ["service/db/changelog/db.changelog-master.sql", "service/liquibase.properties"]);
}

/// The paths changed since the copy (here: only the files the test itself edited, so zdm wrote nothing).
fn harness_written(fx: &Fixture) -> Vec<String> {
    fx.written().into_iter().map(|(p, _)| p).collect()
}
