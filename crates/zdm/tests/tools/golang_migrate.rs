//! golang-migrate: the Go module proxy is not reachable here, so a runner emulates its PostgreSQL driver
//! (golang-migrate v4 at commit 18966c7, `migrate.go` `runMigrations`, `database/postgres/postgres.go`
//! `Run`/`runStatement`/`SetVersion`/`ensureVersionTable`):
//! - migrations are `^([0-9]+)_(.*)\.(down|up)\.(.*)$` files (`source/parse.go`), applied in version order;
//! - before a file runs, `SetVersion(target, dirty=true)`: TRUNCATE `schema_migrations` and INSERT the one
//!   row (version, dirty) in a transaction; after it, the same with dirty=false (a target of -1, no version,
//!   leaves the table empty);
//! - the file is read whole and sent as ONE `ExecContext` without arguments (a simple-query string), no
//!   transaction of golang-migrate's own; a whitespace-only file is skipped;
//! - `down 1` runs the current version's `.down.sql` with the previous version as target.

use crate::harness::{self, Fixture, Runner};
use std::fs;
use zdm_pg::Client;
use zdm_pg::testing::TestDb;

struct GolangMigrate {
    dir: &'static str,
}

/// `(version, up path, down path)` of the directory, by version.
fn migrations(fx: &Fixture, dir: &str) -> Vec<(i64, std::path::PathBuf, std::path::PathBuf)> {
    let mut found: Vec<(i64, std::path::PathBuf, std::path::PathBuf)> = fs::read_dir(fx.path(dir))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".up.sql")?;
            let (version, _) = stem.split_once('_')?;
            let version: i64 = version.parse().ok()?;
            Some((version, e.path(), e.path().with_file_name(format!("{stem}.down.sql"))))
        })
        .collect();
    found.sort();
    found
}

fn current(c: &mut Client) -> Option<i64> {
    c.batch_execute("CREATE TABLE IF NOT EXISTS schema_migrations (version bigint not null primary key, dirty boolean not null)").unwrap();
    let row = c.query_opt("SELECT version, dirty FROM schema_migrations LIMIT 1", &[]).unwrap()?;
    assert!(!row.get::<_, bool>(1), "database is dirty at version {}", row.get::<_, i64>(0));
    Some(row.get(0))
}

fn set_version(c: &mut Client, version: i64, dirty: bool) {
    let mut tx = c.transaction().unwrap();
    tx.batch_execute("TRUNCATE schema_migrations").unwrap();
    if version >= 0 || dirty {
        tx.execute("INSERT INTO schema_migrations (version, dirty) VALUES ($1, $2)", &[&version, &dirty]).unwrap();
    }
    tx.commit().unwrap();
}

fn run_file(c: &mut Client, path: &std::path::Path) {
    let body = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if body.trim().is_empty() {
        return;
    }
    zdm_pg::runner::execute(c, &body, false).unwrap_or_else(|e| panic!("{}: migration failed: {e}", path.display()));
}

impl Runner for GolangMigrate {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        let mut c = db.connect();
        let from = current(&mut c).unwrap_or(-1);
        for (version, up, _) in migrations(fx, self.dir).into_iter().filter(|(v, _, _)| *v > from) {
            set_version(&mut c, version, true);
            run_file(&mut c, &up);
            set_version(&mut c, version, false);
        }
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        let mut c = db.connect();
        let now = current(&mut c).expect("a version to roll back");
        let all = migrations(fx, self.dir);
        let i = all.iter().position(|(v, _, _)| *v == now).expect("the current version's files");
        let target = if i == 0 { -1 } else { all[i - 1].0 };
        set_version(&mut c, target, true);
        run_file(&mut c, &all[i].2);
        set_version(&mut c, target, false);
    }
}

#[test]
fn golang_migrate_detection_and_files() {
    let fx = Fixture::copy("golang-migrate/basic", "gm-snap");
    insta::assert_snapshot!("golang_migrate_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("golang-migrate/basic", &format!("gm-snap-{name}"));
        insta::assert_snapshot!(format!("golang_migrate_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn golang_migrate_runs_the_files() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("golang-migrate/basic", &format!("gm-{name}"));
        let db = TestDb::new(&format!("golang_migrate_{name}"));
        harness::roundtrip(&fx, &db, &GolangMigrate { dir: "db/migrations" }, change, check);
    }
}

/// pocket-id's layout: `backend/go.mod`, one migrations directory per engine; the PostgreSQL one is chosen
/// and its history replayed (the column renamed in its third migration is the one planned on).
#[test]
fn golang_migrate_per_engine_directories() {
    let fx = Fixture::copy("golang-migrate/pocket-id", "gm-pocket-id");
    insta::assert_snapshot!("golang_migrate_pocket_id_detect", fx.detect(&[]));
    let plan = fx.plan("ALTER TABLE oidc_clients RENAME COLUMN redirect_urls TO redirect_uris", &[]);
    assert!(plan.contains("backend/resources/migrations/postgres/20261125140000_"), "{plan}");
    assert!(!plan.contains("migrations/sqlite/2026"), "{plan}");
    insta::assert_snapshot!("golang_migrate_pocket_id_rename", plan);

    let fx = Fixture::copy("golang-migrate/pocket-id", "gm-pocket-id-run");
    let db = TestDb::new("golang_migrate_pocket_id");
    harness::roundtrip(&fx, &db, &GolangMigrate { dir: "backend/resources/migrations/postgres" }, harness::INDEX, harness::indexed);
}

#[test]
fn golang_migrate_sqlite_only_is_refused() {
    let fx = Fixture::copy("golang-migrate/pocket-id", "gm-sqlite-only");
    fs::remove_dir_all(fx.path("backend/resources/migrations/postgres")).unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("sqlite, not PostgreSQL") && run.stderr.contains("backend/resources/migrations/sqlite"), "{}", run.stderr);
    assert!(fx.written().is_empty());
}

/// Why transactional steps need no `BEGIN;` in their file: golang-migrate sends the file as one string,
/// and PostgreSQL runs such a string as one implicit transaction — `SET LOCAL` holds for the rest of it,
/// and a failing statement takes the earlier ones back with it.
#[test]
fn golang_migrate_one_string_is_one_transaction() {
    let db = TestDb::new("golang_migrate_implicit_tx");
    let mut c = db.connect();
    zdm_pg::runner::execute(
        &mut c,
        "SET LOCAL lock_timeout = '1234ms';\nSELECT set_config('zdm.seen', current_setting('lock_timeout'), false);",
        false,
    )
    .unwrap();
    let seen: String = c.query_one("SELECT current_setting('zdm.seen')", &[]).unwrap().get(0);
    assert_eq!(seen, "1234ms", "SET LOCAL applies inside the string");
    let lock_timeout: String = c.query_one("SHOW lock_timeout", &[]).unwrap().get(0);
    assert_eq!(lock_timeout, "0", "and ends with it");
    assert!(zdm_pg::runner::execute(&mut c, "CREATE TABLE zdm_t (id int);\nSELECT 1 / 0;", false).is_err());
    let exists: bool = c.query_one("SELECT to_regclass('zdm_t') IS NOT NULL", &[]).unwrap().get(0);
    assert!(!exists, "the failed string left nothing behind");
}
