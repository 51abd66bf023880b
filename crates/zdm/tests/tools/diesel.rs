//! Diesel: the real `diesel` CLI (diesel_cli from crates.io, built by `scripts/deps --test`) runs and
//! reverts zdm's migration folders, from the project directory so it reads diesel.toml (and regenerates
//! the schema file its `[print_schema]` names, as it does for users).

use crate::harness::{self, Fixture, Runner};
use std::process::Command;
use zdm_pg::testing::TestDb;

fn diesel() -> String {
    zdm_pg::testing::installed_runner("ZDM_DIESEL", ".tools/diesel/bin/diesel")
}

struct Diesel {
    dir: &'static str,
}

impl Diesel {
    fn run(&self, fx: &Fixture, db: &TestDb, command: &str) {
        // libpq reads a unix socket directory from `host=`.
        let out = Command::new(diesel())
            .args(["migration", command, "--migration-dir"])
            .arg(fx.path(self.dir))
            .args(["--database-url", &db.url().replace("socket=", "host=")])
            .current_dir(&fx.dir)
            .output()
            .expect("diesel runs");
        assert!(
            out.status.success(),
            "diesel migration {command} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Runner for Diesel {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        self.run(fx, db, "run");
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        self.run(fx, db, "revert");
    }
}

#[test]
fn diesel_detection_and_files() {
    let fx = Fixture::copy("diesel", "diesel-snap");
    insta::assert_snapshot!("diesel_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("diesel", &format!("snap-{name}"));
        insta::assert_snapshot!(format!("diesel_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn diesel_runs_the_files() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("diesel", name);
        let db = TestDb::new(&format!("diesel_{name}"));
        harness::roundtrip(&fx, &db, &Diesel { dir: "migrations" }, change, check);
    }
}

/// A workspace laid out like real Diesel projects: diesel.toml at the root moves the migrations into a
/// crate, diesel_cli 2.x folder names with the `-0000` sub-version, the PostgreSQL initial setup whose
/// functions a later migration calls, a `run_in_transaction = false` index. Found, replayed (the rename
/// needs a column the history adds), written with the suffix, run by the real diesel.
#[test]
fn diesel_workspace_with_suffixed_folders() {
    let fx = Fixture::copy("diesel-workspace", "detect");
    insta::assert_snapshot!("diesel_workspace_detect", fx.detect(&[]));
    let fx = Fixture::copy("diesel-workspace", "rename");
    insta::assert_snapshot!("diesel_workspace_rename", fx.plan("ALTER TABLE users RENAME COLUMN display_name TO nickname", &[]));
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("diesel-workspace", name);
        let db = TestDb::new(&format!("diesel_ws_{name}"));
        harness::roundtrip(&fx, &db, &Diesel { dir: "crates/db/migrations" }, change, check);
    }
}

#[test]
fn diesel_errors_stop_before_writing() {
    // A MySQL crate is not planned for.
    let fx = Fixture::copy("diesel", "mysql");
    let manifest = fx.path("Cargo.toml");
    std::fs::write(&manifest, std::fs::read_to_string(&manifest).unwrap().replace("\"postgres\"", "\"mysql\"")).unwrap();
    let edited = fx.written();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("mysql") && run.stderr.contains("diesel"), "{}", run.stderr);
    assert_eq!(fx.written(), edited, "nothing written");
    // A diesel.toml whose [migrations_directory] has no dir is named.
    let fx = Fixture::copy("diesel", "badconf");
    std::fs::write(fx.path("diesel.toml"), "[migrations_directory]\nfile = \"migrations\"\n").unwrap();
    let edited = fx.written();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("diesel.toml") && run.stderr.contains("migrations_directory"), "{}", run.stderr);
    assert_eq!(fx.written(), edited, "nothing written");
    // Two diesel.toml files, two directories: zdm asks which.
    let fx = Fixture::copy("diesel", "ambiguous");
    std::fs::create_dir_all(fx.path("admin")).unwrap();
    std::fs::write(fx.path("admin/diesel.toml"), "[migrations_directory]\ndir = \"migrations\"\n").unwrap();
    let edited = fx.written();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("more than one migration setup"), "{}", run.stderr);
    assert_eq!(fx.written(), edited, "nothing written");
}
