//! zdm's files applied by the real dbmate binary (not zdm's own runner): `dbmate up`, then `dbmate rollback`
//! once per file, then `dbmate up` again, on a real PostgreSQL with rows. `scripts/test` installs dbmate
//! and sets ZDM_DBMATE; without it these tests fail and say how to get it.

mod support;

use std::fs;
use std::process::Command;
use support::{SETUP, fingerprint, scalar};
use zdm_pg::testing::TestDb;

fn dbmate() -> String {
    let path =
        std::env::var("ZDM_DBMATE").unwrap_or_else(|_| format!("{}/../../.tools/node_modules/.bin/dbmate", env!("CARGO_MANIFEST_DIR")));
    assert!(
        std::path::Path::new(&path).exists(),
        "dbmate not found at {path}: run scripts/deps --test (or scripts/test), or set ZDM_DBMATE"
    );
    path
}

fn run_dbmate(url: &str, dir: &std::path::Path, args: &[&str]) {
    let out = Command::new(dbmate())
        .args(["--url", url, "--migrations-dir"])
        .arg(dir.join("db/migrations"))
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

/// Plans `change`, writes the project as dbmate would see it, and drives dbmate through up / rollback / up.
fn with_dbmate(name: &str, change: &str, check: impl Fn(&mut zdm_pg::Client)) {
    let out = support::plan(SETUP, change, 15);
    let dir = std::env::temp_dir().join(format!("zdm-dbmate-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("db/migrations")).unwrap();
    let existing = support::project(SETUP).files.into_iter().map(|f| (f.path, f.contents));
    for (path, contents) in existing.chain(out.files.iter().map(|f| (f.path.clone(), f.contents.clone()))) {
        fs::write(dir.join(path), contents).unwrap();
    }
    let db = TestDb::new(name);
    let mut c = db.connect();
    let url = db.url();

    run_dbmate(&url, &dir, &["up"]);
    check(&mut c);
    let planned = fingerprint(&mut c);
    for _ in &out.files {
        run_dbmate(&url, &dir, &["rollback"]);
    }
    let rolled_back = fingerprint(&mut c);
    assert!(!rolled_back.contains("zdm_sync"), "rollback leaves no zdm trigger behind");
    run_dbmate(&url, &dir, &["up"]);
    assert_eq!(fingerprint(&mut c), planned);
    check(&mut c);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn dbmate_applies_a_rename() {
    with_dbmate("rename", "ALTER TABLE users RENAME COLUMN name TO full_name", |c| {
        assert_eq!(scalar::<i64>(c, "SELECT count(*) FROM users WHERE full_name = 'user ' || id"), 12000);
    });
}

#[test]
fn dbmate_applies_a_type_change() {
    with_dbmate("type", "ALTER TABLE users ALTER COLUMN score TYPE bigint", |c| {
        assert_eq!(scalar::<i64>(c, "SELECT count(*) FROM users WHERE score = id % 100"), 12000);
    });
}

#[test]
fn dbmate_applies_concurrent_index_builds_and_backfills() {
    let change = "CREATE INDEX ON users (email);\nALTER TABLE users ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid();\nALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);";
    with_dbmate("cic", change, |c| {
        assert!(scalar::<bool>(c, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_idx'::regclass"));
        assert_eq!(scalar::<i64>(c, "SELECT count(DISTINCT token) FROM users"), 12000);
        assert!(scalar::<bool>(c, "SELECT convalidated FROM pg_constraint WHERE conname = 'orders_user_fk'"));
    });
}
