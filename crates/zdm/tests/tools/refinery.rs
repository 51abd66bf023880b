//! refinery: the real `refinery` CLI (refinery_cli from crates.io, built by `scripts/deps --test`) applies
//! zdm's migrations. refinery has no down migrations and no way to run one outside a transaction, so this
//! runner does what the receipt's notes tell the user: a step written as `V<n>__<name>.manual.sql` is run
//! with psql after `refinery migrate -t <n - 1>` (then `refinery migrate` records it); a rollback is the
//! step's `.down.sql` run with psql, then `DELETE FROM refinery_schema_history WHERE version = <n>`.

use crate::harness::{self, Fixture, Runner};
use crate::sqlx::psql_file;
use std::path::{Path, PathBuf};
use std::process::Command;
use zdm_pg::testing::TestDb;

fn refinery() -> String {
    zdm_pg::testing::installed_runner("ZDM_REFINERY", ".tools/refinery/bin/refinery")
}

/// Every file below `dir` (refinery reads recursively).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            walk(&e.path(), out);
        } else {
            out.push(e.path());
        }
    }
}

/// The file of version `v` ending in `suffix` (`.manual.sql`, `.down.sql`).
fn file_of(dir: &Path, v: i64, suffix: &str) -> Option<PathBuf> {
    let mut all = Vec::new();
    walk(dir, &mut all);
    all.into_iter().find(|p| {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        name.ends_with(suffix) && name[1..].split("__").next().and_then(|n| n.parse::<i64>().ok()) == Some(v)
    })
}

struct Refinery {
    dir: &'static str,
}

impl Refinery {
    /// `refinery migrate -c <config> -p <dir> [-t <target>]`; the config names the test cluster's socket
    /// directory as a percent-encoded host (refinery builds a `postgresql://` URL from its fields).
    fn migrate(&self, fx: &Fixture, db: &TestDb, target: Option<i64>) {
        let out = self.try_migrate(fx, db, target);
        assert!(
            out.status.success(),
            "refinery migrate failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn try_migrate(&self, fx: &Fixture, db: &TestDb, target: Option<i64>) -> std::process::Output {
        let url = db.url();
        let param = |key: &str| url.split(['?', '&']).find_map(|p| p.strip_prefix(&format!("{key}="))).unwrap_or_default().to_string();
        let config = fx.path("zdm-test-refinery.toml");
        std::fs::write(
            &config,
            format!(
                "[main]\ndb_type = \"Postgres\"\ndb_host = \"{}\"\ndb_port = \"{}\"\ndb_user = \"postgres\"\ndb_name = \"{}\"\n",
                param("socket").replace('/', "%2F"),
                param("port"),
                db.name
            ),
        )
        .unwrap();
        let mut cmd = Command::new(refinery());
        cmd.arg("migrate").arg("-c").arg(&config).arg("-p").arg(fx.path(self.dir));
        if let Some(t) = target {
            cmd.args(["-t", &t.to_string()]);
        }
        let out = cmd.current_dir(&fx.dir).output().expect("refinery runs");
        std::fs::remove_file(&config).unwrap();
        out
    }

    fn applied(db: &TestDb) -> i64 {
        let mut c = db.connect();
        let exists = harness::count(&mut c, "SELECT count(*) FROM pg_tables WHERE tablename = 'refinery_schema_history'");
        if exists == 0 { 0 } else { harness::count(&mut c, "SELECT coalesce(max(version), 0)::bigint FROM refinery_schema_history") }
    }
}

impl Runner for Refinery {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        let applied = Refinery::applied(db);
        let mut all = Vec::new();
        walk(&fx.path(self.dir), &mut all);
        let mut manual: Vec<i64> = all
            .iter()
            .filter_map(|p| p.file_name()?.to_str()?.strip_suffix(".manual.sql").map(str::to_string))
            .filter_map(|n| n[1..].split("__").next()?.parse().ok())
            .filter(|v| *v > applied)
            .collect();
        manual.sort_unstable();
        for v in manual {
            self.migrate(fx, db, Some(v - 1));
            psql_file(db, &file_of(&fx.path(self.dir), v, ".manual.sql").unwrap());
        }
        self.migrate(fx, db, None);
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        let v = Refinery::applied(db);
        let down = file_of(&fx.path(self.dir), v, ".down.sql").unwrap_or_else(|| panic!("no rollback file for version {v}"));
        psql_file(db, &down);
        let v32 = i32::try_from(v).unwrap();
        db.connect().execute("DELETE FROM refinery_schema_history WHERE version = $1", &[&v32]).expect("forget the migration");
    }
}

#[test]
fn refinery_detection_and_files() {
    let fx = Fixture::copy("refinery", "refinery-snap");
    insta::assert_snapshot!("refinery_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("refinery", &format!("snap-{name}"));
        insta::assert_snapshot!(format!("refinery_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn refinery_runs_the_files() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("refinery", name);
        let db = TestDb::new(&format!("refinery_{name}"));
        harness::roundtrip(&fx, &db, &Refinery { dir: "migrations" }, change, check);
    }
}

/// Migrations in version subfolders under `db/migrations` (as refinery's own tests lay them out), a
/// refinery.toml, tokio-postgres: one directory found, the history replayed in version order across
/// folders (the rename needs a column V4 adds), run by the real refinery.
#[test]
fn refinery_nested_folders() {
    let fx = Fixture::copy("refinery-nested", "detect");
    insta::assert_snapshot!("refinery_nested_detect", fx.detect(&[]));
    let fx = Fixture::copy("refinery-nested", "rename");
    insta::assert_snapshot!("refinery_nested_rename", fx.plan("ALTER TABLE users RENAME COLUMN phone TO phone_number", &[]));
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("refinery-nested", name);
        let db = TestDb::new(&format!("refinery_nested_{name}"));
        harness::roundtrip(&fx, &db, &Refinery { dir: "db/migrations" }, change, check);
    }
}

#[test]
fn refinery_errors_stop_before_writing() {
    // refinery.toml names the engine.
    let fx = Fixture::copy("refinery-nested", "mysql");
    std::fs::write(fx.path("refinery.toml"), "[main]\ndb_type = \"Mysql\"\ndb_host = \"localhost\"\n").unwrap();
    let edited = fx.written();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("mysql") && run.stderr.contains("refinery"), "{}", run.stderr);
    assert_eq!(fx.written(), edited, "nothing written");
    // A refinery.toml without db_type is named.
    let fx = Fixture::copy("refinery-nested", "badconf");
    std::fs::write(fx.path("refinery.toml"), "[main]\ndb_host = \"localhost\"\n").unwrap();
    let edited = fx.written();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("refinery.toml") && run.stderr.contains("db_type"), "{}", run.stderr);
    assert_eq!(fx.written(), edited, "nothing written");
    // Two crates with their own refinery migrations: zdm asks which.
    let fx = Fixture::copy("refinery", "ambiguous");
    std::fs::create_dir_all(fx.path("worker/migrations")).unwrap();
    std::fs::write(fx.path("worker/Cargo.toml"), "[dependencies]\nrefinery = { version = \"0.8\", features = [\"postgres\"] }\n").unwrap();
    std::fs::write(fx.path("worker/migrations/V1__jobs.sql"), "CREATE TABLE jobs (id int);\n").unwrap();
    let edited = fx.written();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("more than one migration setup"), "{}", run.stderr);
    assert_eq!(fx.written(), edited, "nothing written");
}

/// `refinery migrate` run straight through a plan with a by-hand step stops at the migration that records
/// it (naming the file to run), instead of recording a step that never ran and going on to the next ones;
/// once the file has run, `refinery migrate` goes on.
#[test]
fn refinery_stops_at_a_step_that_must_run_by_hand() {
    let fx = Fixture::copy("refinery", "guard");
    let db = TestDb::new("refinery_guard");
    let runner = Refinery { dir: "migrations" };
    runner.migrate(&fx, &db, None);
    let mut c = db.connect();
    c.batch_execute("INSERT INTO users (email, name) SELECT 'u' || g || '@x', 'U ' || g FROM generate_series(1, 100) g").unwrap();
    let before = Refinery::applied(&db);
    let run = fx.zdm(&["plan", harness::RENAME]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Straight through: the expand step applies, then the record of the by-hand backfill refuses.
    let out = runner.try_migrate(&fx, &db, None);
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "refinery went past the by-hand step:\n{said}");
    assert!(said.contains(".manual.sql by hand first"), "the error names the file to run:\n{said}");
    assert_eq!(Refinery::applied(&db), before + 1, "only the expand step is recorded");
    assert_eq!(harness::count(&mut c, "SELECT count(*) FROM users WHERE full_name IS NULL"), 100, "no backfill ran");
    // As the notes say: the by-hand file, then refinery again (and so on for each such step).
    runner.up(&fx, &db);
    assert_eq!(harness::count(&mut c, "SELECT count(*) FROM users WHERE full_name = 'U ' || id"), 100);
}
