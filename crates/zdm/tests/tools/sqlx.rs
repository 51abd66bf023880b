//! sqlx: the real `sqlx` CLI (sqlx-cli from crates.io, built by `scripts/deps --test`) applies and reverts
//! zdm's files. Simple (non-reversible) migrations have no revert: their rollback file is run the way the
//! receipt tells the user (psql: statement by statement, the file's own BEGIN/COMMIT) and the history row
//! deleted.

use crate::harness::{self, Fixture, Runner};
use std::process::Command;
use zdm_pg::testing::TestDb;

fn sqlx() -> String {
    zdm_pg::testing::installed_runner("ZDM_SQLX", ".tools/sqlx/bin/sqlx")
}

/// The test database's URL as sqlx reads a unix socket (`host=/dir`).
pub fn socket_url(db: &TestDb) -> String {
    // sqlx wants a host in the URL; the `host=` parameter (a socket directory) then replaces it.
    db.url().replace("socket=", "host=").replace("@/", "@localhost/")
}

/// Runs a file the user runs by hand (`psql -v ON_ERROR_STOP=1 -f FILE`): each statement on its own, as
/// psql sends them; the file's own `BEGIN;`/`COMMIT;` make the transaction.
pub fn psql_file(db: &TestDb, path: &std::path::Path) {
    let sql = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let statements = zdm_core::tools::common::statements(&sql);
    zdm_pg::runner::execute_each(&mut db.connect(), &statements, false).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
}

struct Sqlx {
    dir: &'static str,
}

impl Sqlx {
    fn run(&self, fx: &Fixture, db: &TestDb, command: &str) {
        let out = Command::new(sqlx())
            .args(["migrate", command, "--source"])
            .arg(fx.path(self.dir))
            .args(["--database-url", &socket_url(db)])
            .current_dir(&fx.dir)
            .output()
            .expect("sqlx runs");
        assert!(
            out.status.success(),
            "sqlx migrate {command} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Runner for Sqlx {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        self.run(fx, db, "run");
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        let version = harness::count(&mut db.connect(), "SELECT max(version) FROM _sqlx_migrations");
        let prefix = format!("{version}_");
        let named = |dir: &std::path::Path, suffix: &str| {
            std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).find(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                name.trim_start_matches('0').starts_with(&prefix) && name.ends_with(suffix)
            })
        };
        if named(&fx.path(self.dir), ".down.sql").is_some() {
            self.run(fx, db, "revert");
        } else {
            let file = named(&fx.path(self.dir).join("rollbacks"), ".sql").unwrap_or_else(|| panic!("no rollback for version {version}"));
            psql_file(db, &file);
            db.connect().execute("DELETE FROM _sqlx_migrations WHERE version = $1", &[&version]).expect("forget the migration");
        }
    }
}

#[test]
fn sqlx_detection_and_files() {
    let fx = Fixture::copy("sqlx", "sqlx-snap");
    insta::assert_snapshot!("sqlx_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("sqlx", &format!("snap-{name}"));
        insta::assert_snapshot!(format!("sqlx_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn sqlx_runs_the_files() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("sqlx", name);
        let db = TestDb::new(&format!("sqlx_{name}"));
        harness::roundtrip(&fx, &db, &Sqlx { dir: "migrations" }, change, check);
    }
}

/// A workspace whose server crate inherits sqlx from `[workspace.dependencies]` and keeps simple,
/// sequentially numbered files (one of them `-- no-transaction`): found, replayed (the rename needs a
/// column added by the history), written as simple files plus rollbacks, run by the real sqlx.
#[test]
fn sqlx_workspace_with_simple_migrations() {
    let fx = Fixture::copy("sqlx-workspace", "detect");
    insta::assert_snapshot!("sqlx_workspace_detect", fx.detect(&[]));
    let fx = Fixture::copy("sqlx-workspace", "rename");
    insta::assert_snapshot!("sqlx_workspace_rename", fx.plan("ALTER TABLE users RENAME COLUMN last_seen_at TO seen_at", &[]));
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("sqlx-workspace", name);
        let db = TestDb::new(&format!("sqlx_ws_{name}"));
        harness::roundtrip(&fx, &db, &Sqlx { dir: "crates/server/migrations" }, change, check);
    }
}

#[test]
fn sqlx_errors_stop_before_writing() {
    // Engine from the manifest: a MySQL crate is not planned for.
    let fx = Fixture::copy("sqlx", "mysql");
    let manifest = fx.path("Cargo.toml");
    std::fs::write(&manifest, std::fs::read_to_string(&manifest).unwrap().replace("\"postgres\"", "\"mysql\"")).unwrap();
    let edited = fx.written();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("mysql") && run.stderr.contains("sqlx"), "{}", run.stderr);
    assert_eq!(fx.written(), edited, "nothing written");
    // A malformed sqlx.toml is named.
    let fx = Fixture::copy("sqlx", "badconf");
    std::fs::write(fx.path("sqlx.toml"), "[migrate]\nmigrations-dir = \"db\n").unwrap();
    let edited = fx.written();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("sqlx.toml"), "{}", run.stderr);
    assert_eq!(fx.written(), edited, "nothing written");
    // Two crates, each with its sqlx.toml and migrations: equally sure, so zdm asks which.
    let fx = Fixture::copy("sqlx", "ambiguous");
    std::fs::write(fx.path("sqlx.toml"), "[migrate]\nmigrations-dir = \"migrations\"\n").unwrap();
    std::fs::create_dir_all(fx.path("other/migrations")).unwrap();
    std::fs::write(fx.path("other/Cargo.toml"), "[dependencies]\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n").unwrap();
    std::fs::write(fx.path("other/sqlx.toml"), "[migrate]\n").unwrap();
    std::fs::write(fx.path("other/migrations/1_a.sql"), "CREATE TABLE a (id int);\n").unwrap();
    let edited = fx.written();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("more than one migration setup"), "{}", run.stderr);
    assert_eq!(fx.written(), edited, "nothing written");
}
