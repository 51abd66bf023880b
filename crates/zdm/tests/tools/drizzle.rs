//! Drizzle Kit: the real `drizzle-kit migrate` (npm drizzle-kit 0.31.11 with drizzle-orm 0.45.4 and pg,
//! installed by `scripts/deps --test`) applies zdm's files; rolling back runs the rollback file zdm wrote
//! beside them and deletes the newest `drizzle.__drizzle_migrations` row, as that file says.

use crate::harness::{self, Fixture, Runner};
use std::process::Command;
use zdm_pg::testing::TestDb;

fn drizzle_kit() -> String {
    zdm_pg::testing::installed_runner("ZDM_DRIZZLE_KIT", ".tools/node_modules/.bin/drizzle-kit")
}

/// The test database's URL as node-postgres takes a unix socket (`host=<dir>`).
fn node_url(db: &TestDb) -> String {
    db.url().replace("?socket=", "?host=").replace("&socket=", "&host=")
}

struct DrizzleKit {
    out: &'static str,
}

impl Runner for DrizzleKit {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        // The test's own config (the fixture's imports drizzle-kit, which the copy cannot resolve).
        let config = format!(
            "export default {{\n  dialect: \"postgresql\",\n  out: \"./{}\",\n  dbCredentials: {{ url: {:?} }},\n}};\n",
            self.out,
            node_url(db)
        );
        std::fs::write(fx.path("drizzle.config.ts"), config).unwrap();
        let out = Command::new(drizzle_kit())
            .args(["migrate", "--config", "drizzle.config.ts"])
            .current_dir(&fx.dir)
            .output()
            .expect("drizzle-kit runs");
        assert!(
            out.status.success(),
            "drizzle-kit migrate failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        let mut c = db.connect();
        let row =
            c.query_one("SELECT id, created_at FROM drizzle.__drizzle_migrations ORDER BY created_at DESC LIMIT 1", &[]).expect("a row");
        let (id, when): (i32, i64) = (row.get(0), row.get(1));
        let journal: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fx.path(&format!("{}/meta/_journal.json", self.out))).unwrap()).unwrap();
        let entry = journal["entries"].as_array().unwrap().iter().find(|e| e["when"].as_i64() == Some(when)).expect("journal entry");
        let tag = entry["tag"].as_str().unwrap();
        let file = fx.path(&format!("{}/zdm-rollback/{tag}.down.sql", self.out));
        let sql = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        // As `psql -f` would: the file holds its own BEGIN/COMMIT where it needs one.
        zdm_pg::runner::execute(&mut c, &sql, false).unwrap_or_else(|e| panic!("{tag}.down.sql: {e}"));
        c.batch_execute(&format!("DELETE FROM drizzle.__drizzle_migrations WHERE id = {id}")).unwrap();
    }
}

#[test]
fn drizzle_detection_and_files() {
    let fx = Fixture::copy("drizzle/app", "drizzle-snap");
    insta::assert_snapshot!("drizzle_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("drizzle/app", &format!("drizzle-snap-{name}"));
        insta::assert_snapshot!(format!("drizzle_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn drizzle_kit_runs_the_files() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("drizzle/app", &format!("drizzle-{name}"));
        let db = TestDb::new(&format!("drizzle_{name}"));
        harness::roundtrip(&fx, &db, &DrizzleKit { out: "drizzle" }, change, check);
        // Every migration recorded once: the history (2) and zdm's files, after the second `up`.
        let mut c = db.connect();
        let files =
            std::fs::read_dir(fx.path("drizzle")).unwrap().flatten().filter(|e| e.path().extension().is_some_and(|x| x == "sql")).count();
        assert_eq!(harness::count(&mut c, "SELECT count(*) FROM drizzle.__drizzle_migrations"), files as i64);
    }
}

#[test]
fn drizzle_config_outside_the_package_replays_its_history() {
    let fx = Fixture::copy("drizzle/monorepo", "drizzle-mono");
    insta::assert_snapshot!("drizzle_monorepo_detect", fx.detect(&[]));
    let text = fx.plan("ALTER TABLE users RENAME COLUMN display_name TO full_name", &[]);
    assert!(text.contains("packages/db/migrations/0003_expand_users_full_name.sql"), "{text}");
    assert!(text.contains("DELETE FROM public.drizzle_migrations WHERE created_at = "), "the configured history table: {text}");
    let typo = fx.zdm(&["plan", "ALTER TABLE users RENAME COLUMN name TO full_name"]);
    assert_eq!(typo.code, 2, "the column `name` was renamed by the history:\n{}{}", typo.stdout, typo.stderr);
}

#[test]
fn drizzle_errors_name_the_file_and_write_nothing() {
    let fx = Fixture::copy("drizzle/badjournal", "drizzle-bad");
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("drizzle/meta/_journal.json: not valid JSON"), "{}", run.stderr);
    assert!(fx.written().is_empty());

    let fx = Fixture::copy("drizzle/mysql", "drizzle-mysql");
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("mysql, not PostgreSQL") && run.stderr.contains("drizzle.config.ts"), "{}", run.stderr);
    assert!(fx.written().is_empty());
}
