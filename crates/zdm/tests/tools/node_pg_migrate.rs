//! node-pg-migrate: the real `node-pg-migrate` CLI (npm, 9.0.0 with `pg`, installed by
//! `scripts/deps --test`) applies zdm's files, with its defaults (`--single-transaction`: all pending
//! migrations in one transaction, broken around a `pgm.noTransaction()` migration).

use crate::harness::{self, Fixture, Runner};
use std::fs;
use std::process::Command;
use zdm_pg::testing::TestDb;

fn node_pg_migrate() -> String {
    zdm_pg::testing::installed_runner("ZDM_NODE_PG_MIGRATE", ".tools/node_modules/.bin/node-pg-migrate")
}

struct NodePgMigrate {
    dir: &'static str,
}

impl NodePgMigrate {
    fn run(&self, fx: &Fixture, db: &TestDb, args: &[&str]) {
        let out = Command::new(node_pg_migrate())
            .args(args)
            .arg("--migrations-dir")
            .arg(fx.path(self.dir))
            // node-postgres names a unix socket directory `host=` (dbmate's URLs say `socket=`).
            .env("DATABASE_URL", db.url().replacen("?socket=", "?host=", 1))
            .current_dir(&fx.dir)
            .output()
            .expect("node-pg-migrate runs");
        assert!(
            out.status.success(),
            "node-pg-migrate {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Runner for NodePgMigrate {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        self.run(fx, db, &["up"]);
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        self.run(fx, db, &["down"]);
    }
}

#[test]
fn node_pg_migrate_detection_and_files() {
    let fx = Fixture::copy("node-pg-migrate/basic", "npm-snap");
    insta::assert_snapshot!("node_pg_migrate_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("node-pg-migrate/basic", &format!("npm-snap-{name}"));
        insta::assert_snapshot!(format!("node_pg_migrate_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn node_pg_migrate_runs_the_files() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("node-pg-migrate/basic", &format!("npm-{name}"));
        let db = TestDb::new(&format!("node_pg_migrate_{name}"));
        harness::roundtrip(&fx, &db, &NodePgMigrate { dir: "migrations" }, change, check);
    }
}

/// A monorepo package with `"type": "module"`, its directory named by `-m` in a script, 17-digit UTC
/// names, a JavaScript migration in the history: the non-transactional step becomes an ES module.
#[test]
fn node_pg_migrate_monorepo_esm() {
    let fx = Fixture::copy("node-pg-migrate/monorepo", "npm-monorepo");
    insta::assert_snapshot!("node_pg_migrate_monorepo_detect", fx.detect(&[]));
    let plan = fx.plan(harness::INDEX, &[]);
    assert!(plan.contains("packages/db/src/migrations/20261125140000000_"), "{plan}");
    assert!(plan.contains("export const up = (pgm) => {"), "{plan}");
    insta::assert_snapshot!("node_pg_migrate_monorepo_index", plan);

    let fx = Fixture::copy("node-pg-migrate/monorepo", "npm-monorepo-run");
    let db = TestDb::new("node_pg_migrate_monorepo");
    harness::roundtrip(&fx, &db, &NodePgMigrate { dir: "packages/db/src/migrations" }, harness::RENAME, harness::renamed);
}

/// SQL text that reads as node-pg-migrate's markers, template placeholders and backquotes go through as
/// written, in both the SQL and the JavaScript form.
#[test]
fn node_pg_migrate_keeps_tricky_text() {
    let change = "ALTER TABLE users ADD COLUMN note text DEFAULT E'a\\n-- Down Migration\\n{name} `${x}` \\\\';\nCREATE INDEX users_name_idx ON users (name) WHERE name <> E'\\n  -- down migration {x} ${y} `';";
    let fx = Fixture::copy("node-pg-migrate/basic", "npm-tricky");
    let db = TestDb::new("node_pg_migrate_tricky");
    let runner = NodePgMigrate { dir: "migrations" };
    let mut c = harness::keeps_tricky_text(&fx, &runner, &db, change, "a\n-- Down Migration\n{name} `${x}` \\");
    let def: String = c.query_one("SELECT pg_get_indexdef('users_name_idx'::regclass)", &[]).unwrap().get(0);
    assert!(def.contains("-- down migration {x} ${y} `"), "{def}");
    let written: Vec<String> = fx.written().into_iter().map(|(p, _)| p).collect();
    assert!(written.iter().any(|p| p.ends_with(".js")) && written.iter().any(|p| p.ends_with(".sql")), "{written:?}");
}

#[test]
fn node_pg_migrate_directory_outside_the_project_is_an_error() {
    let fx = Fixture::copy("node-pg-migrate/basic", "npm-outside");
    let pkg = fs::read_to_string(fx.path("package.json")).unwrap().replace("\"node-pg-migrate\",", "\"node-pg-migrate -m ../../db\",");
    fs::write(fx.path("package.json"), pkg).unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("package.json") && run.stderr.contains("outside the project"), "{}", run.stderr);
    assert_eq!(fx.written().into_iter().map(|(p, _)| p).collect::<Vec<_>>(), ["package.json"], "only the test's own edit");
}

/// A `.js` migration zdm wrote (a concurrent index) is read back on the next plan: the schema has the
/// index and no blind spot, so a typo in its name is still caught.
#[test]
fn node_pg_migrate_reads_back_its_own_javascript_migrations() {
    let fx = Fixture::copy("node-pg-migrate/basic", "readback");
    harness::reads_back_own_index(&fx);
    assert!(fx.written().iter().any(|(p, _)| p.ends_with(".js")), "the index step is a .js migration");
}
