//! dbmate: the real `dbmate` binary (npm, installed by `scripts/deps --test`) applies zdm's files.

use crate::harness::{self, Fixture, Runner};
use std::process::Command;
use zdm_pg::testing::TestDb;

fn dbmate() -> String {
    zdm_pg::testing::installed_runner("ZDM_DBMATE", ".tools/node_modules/.bin/dbmate")
}

struct Dbmate;

impl Dbmate {
    fn run(fx: &Fixture, db: &TestDb, args: &[&str]) {
        let out = Command::new(dbmate())
            .args(["--url", &db.url(), "--migrations-dir"])
            .arg(fx.path("db/migrations"))
            .arg("--no-dump-schema")
            .args(args)
            .output()
            .expect("dbmate runs");
        assert!(
            out.status.success(),
            "dbmate {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Runner for Dbmate {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        Dbmate::run(fx, db, &["up"]);
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        Dbmate::run(fx, db, &["rollback"]);
    }
}

#[test]
fn dbmate_detection_and_files() {
    let fx = Fixture::copy("dbmate", "dbmate-snap");
    insta::assert_snapshot!("dbmate_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("dbmate", &format!("snap-{name}"));
        insta::assert_snapshot!(format!("dbmate_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn dbmate_runs_the_files() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("dbmate", name);
        let db = TestDb::new(&format!("dbmate_{name}"));
        harness::roundtrip(&fx, &db, &Dbmate, change, check);
    }
}
