//! Liquibase (formatted SQL): the real Liquibase CLI (npm package `liquibase`, which bundles the
//! Liquibase distribution and its PostgreSQL JDBC driver; installed by `scripts/deps --test`; needs Java)
//! applies zdm's files with `update` and rolls them back with `rollback-count 1`, over TCP (pgjdbc has no
//! unix sockets: the test cluster also listens on 127.0.0.1).

use crate::harness::{self, Fixture, Runner};
use std::process::Command;
use zdm_pg::testing::TestDb;

fn liquibase() -> String {
    zdm_pg::testing::installed_runner("ZDM_LIQUIBASE", ".tools/node_modules/liquibase/dist/liquibase/liquibase")
}

struct Liquibase {
    /// The search path (classpath root), relative to the project.
    search_path: &'static str,
    /// The master changelog, relative to the search path.
    changelog: &'static str,
}

impl Liquibase {
    fn run(&self, fx: &Fixture, db: &TestDb, args: &[&str]) {
        let out = Command::new(liquibase())
            .current_dir(&fx.dir)
            .arg(format!("--url={}", db.jdbc_url()))
            .arg("--username=postgres")
            .arg(format!("--changelog-file={}", self.changelog))
            .arg(format!("--search-path={}", fx.path(self.search_path).display()))
            .args(args)
            .output()
            .expect("liquibase runs");
        assert!(
            out.status.success(),
            "liquibase {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Runner for Liquibase {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        self.run(fx, db, &["update"]);
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        self.run(fx, db, &["rollback-count", "--count=1"]);
    }
}

const MAIN: Liquibase = Liquibase { search_path: ".", changelog: "db/changelog/db.changelog-master.xml" };

#[test]
fn liquibase_detection_and_files() {
    let fx = Fixture::copy("liquibase", "liquibase-snap");
    insta::assert_snapshot!("liquibase_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("liquibase", &format!("snap-{name}"));
        insta::assert_snapshot!(format!("liquibase_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn liquibase_runs_the_files() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("liquibase", name);
        let db = TestDb::new(&format!("liquibase_{name}"));
        harness::roundtrip(&fx, &db, &MAIN, change, check);
    }
}

/// A Spring Boot + Maven project: `spring.liquibase.change-log` names a YAML master whose includes are
/// classpath paths; a changeset with a dollar-quoted function and a `/* liquibase rollback */` block; a
/// later changeset adds `orders.status`, which exists only if the history replayed in include order.
#[test]
fn liquibase_spring_boot_layout() {
    let fx = Fixture::copy("liquibase-spring", "spring");
    insta::assert_snapshot!("liquibase_spring_detect", fx.detect(&[]));
    let out = fx.plan("CREATE INDEX orders_status_idx ON orders (status)", &["--format", "json"]);
    // The index is planned only because `orders.status` exists (the typo guard stops a missing column):
    // the third changeset replayed after the second, which creates the table.
    let json: serde_json::Value = serde_json::from_str(out.split("\n=====").next().unwrap()).unwrap();
    let schema = &json["schema"];
    assert_eq!((schema["files"].as_u64(), schema["tables"].as_u64()), (Some(2), Some(2)), "{schema}");
    assert!(schema["replay_failures"].as_array().unwrap().is_empty() && schema["blind_spots"].as_array().unwrap().is_empty(), "{schema}");
    let written = fx.written();
    let master = written.iter().find(|(p, _)| p.ends_with("db.changelog-master.yaml")).expect("master updated");
    assert!(master.1.contains("file: db/changelog/changes/0003_"), "{}", master.1);
    let db = TestDb::new("liquibase_spring");
    let runner = Liquibase { search_path: "src/main/resources", changelog: "db/changelog/db.changelog-master.yaml" };
    runner.up(&fx, &db);
    let mut c = db.connect();
    assert_eq!(harness::count(&mut c, "SELECT count(*) FROM pg_index WHERE indexrelid = 'orders_status_idx'::regclass AND indisvalid"), 1);
    runner.down_one(&fx, &db);
    assert_eq!(harness::count(&mut c, "SELECT count(*) FROM pg_class WHERE relname = 'orders_status_idx'"), 0);
}

#[test]
fn liquibase_errors_name_the_file() {
    let mysql = Fixture::copy("liquibase", "mysql");
    std::fs::write(
        mysql.path("liquibase.properties"),
        "changeLogFile=db/changelog/db.changelog-master.xml\nurl=jdbc:mysql://localhost:3306/app\n",
    )
    .unwrap();
    let run = mysql.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("mysql") && run.stderr.contains("liquibase"), "{}", run.stderr);
    assert_eq!(mysql.written().into_iter().map(|(p, _)| p).collect::<Vec<_>>(), ["liquibase.properties"]);

    let missing = Fixture::copy("liquibase", "missing");
    std::fs::write(missing.path("liquibase.properties"), "changeLogFile=db/changelog/master.xml\n").unwrap();
    let run = missing.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("liquibase.properties") && run.stderr.contains("db/changelog/master.xml"), "{}", run.stderr);
    assert_eq!(missing.written().into_iter().map(|(p, _)| p).collect::<Vec<_>>(), ["liquibase.properties"]);
}
