//! What every migration tool's test shares. A tool's test copies its fixture project
//! (`tests/fixtures/tools/<name>/`), drives the `zdm` binary on it (`zdm detect`, `zdm plan`), snapshots what
//! zdm printed and wrote, and applies the written files on a real PostgreSQL through a [`Runner`]: the
//! tool's own runner where it installs here, otherwise one that follows the tool's documented rules.
//!
//! The round trip ([`roundtrip`]): history up, 10,000 users rows, zdm's files up (data checked), every
//! zdm step down in reverse (the schema fingerprint of before comes back, rows intact), up again (the same
//! schema as the first time).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use zdm_pg::Client;
use zdm_pg::testing::TestDb;

/// A change that is safe as written: one file.
pub const SAFE: &str = "ALTER TABLE users ADD COLUMN nickname text";
/// A plain index: one non-transactional file (`CREATE INDEX CONCURRENTLY`).
pub const INDEX: &str = "CREATE INDEX users_email_idx ON users (email)";
/// A rename: expand → backfill → code → contract, with a sync trigger.
pub const RENAME: &str = "ALTER TABLE users RENAME COLUMN name TO full_name";
/// A data check run after a change is applied.
pub type Check = fn(&mut Client);
/// The three changes every tool is tested with: name, change, the data check after it is applied.
pub const CASES: [(&str, &str, Check); 3] = [("safe", SAFE, added), ("index", INDEX, indexed), ("rename", RENAME, renamed)];
/// The time every test plans at (files get versions from it).
pub const NOW: &str = "2026-11-25T14:00:00Z";

/// A scratch copy of a fixture project, removed at the end of the test.
pub struct Fixture {
    /// The copy.
    pub dir: PathBuf,
    /// Every file of the copy before zdm ran, with its contents.
    before: Vec<(String, Vec<u8>)>,
}

fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(fs::DirEntry::file_name);
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            walk(&p, root, out);
        } else {
            let rel = p.strip_prefix(root).unwrap().components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            out.push((rel, fs::read(&p).unwrap()));
        }
    }
}

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// What one `zdm` run printed.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Fixture {
    /// A fresh copy of `tests/fixtures/tools/<name>` (`name` may be a path below it: `prisma/monorepo`).
    pub fn copy(name: &str, test: &str) -> Fixture {
        // The PID padded: paths, and the receipts that print them, have the same width in every run.
        let dir = std::env::temp_dir().join(format!("zdm-tool-{}-{test}-{:07}", name.replace('/', "-"), std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        zdm_pg::testing::copy_dir(&repo_root().join("tests/fixtures/tools").join(name), &dir);
        let mut before = Vec::new();
        walk(&dir, &dir, &mut before);
        Fixture { dir, before }
    }

    /// Runs `zdm <args> --dir <copy>` with the clock at [`NOW`], offline (a fixture's configured
    /// database, `alembic.ini`'s `localhost/app`, is not the test's), and no Python to render code
    /// migrations with (see [`Fixture::zdm_with`]).
    pub fn zdm(&self, args: &[&str]) -> Run {
        self.zdm_with(args, &[("ZDM_PYTHON", "/nonexistent/python")])
    }

    /// [`Fixture::zdm`] with more environment variables.
    pub fn zdm_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_zdm"))
            .args(args)
            .arg("--dir")
            .arg(&self.dir)
            .envs(env.iter().copied())
            .env("ZDM_OFFLINE", "1")
            .env("ZDM_NOW", NOW)
            .env("NO_COLOR", "1")
            .env("LC_ALL", "C.UTF-8")
            .env_remove("COLUMNS")
            .output()
            .expect("zdm runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            // The report's path is shown under --dir, a temporary directory: named the same every run.
            stdout: String::from_utf8_lossy(&out.stdout).replace(&self.dir.display().to_string(), "<project>"),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `zdm detect` (must succeed), as printed.
    pub fn detect(&self, extra: &[&str]) -> String {
        let mut args = vec!["detect"];
        args.extend(extra);
        let run = self.zdm(&args);
        assert_eq!(run.code, 0, "zdm detect failed:\n{}", run.stderr);
        run.stdout
    }

    /// `zdm plan CHANGE` (must succeed): the receipt, then every file added or changed, with contents.
    /// Reports (`.zdm/`) are left out: they are tested on their own.
    pub fn plan(&self, change: &str, extra: &[&str]) -> String {
        let mut args = vec!["plan", change];
        args.extend(extra);
        let run = self.zdm(&args);
        assert_eq!(run.code, 0, "zdm plan failed:\n{}{}", run.stdout, run.stderr);
        let mut text = run.stdout;
        for (path, contents) in self.written() {
            text.push_str(&format!("\n===== {path} =====\n{contents}"));
        }
        text
    }

    /// Files zdm added or changed (paths relative to the copy, sorted), reports left out.
    pub fn written(&self) -> Vec<(String, String)> {
        let mut now = Vec::new();
        walk(&self.dir, &self.dir, &mut now);
        now.into_iter()
            .filter(|(p, c)| !p.starts_with(".zdm/") && !self.before.iter().any(|(bp, bc)| bp == p && bc == c))
            .map(|(p, c)| (p, String::from_utf8_lossy(&c).into_owned()))
            .collect()
    }

    /// A path inside the copy.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// How a tool applies and rolls back migrations, for [`roundtrip`].
pub trait Runner {
    /// Applies every pending migration of the project (the history first time, zdm's files after).
    fn up(&self, fx: &Fixture, db: &TestDb);
    /// Rolls back the newest applied migration (for tools without down: runs the rollback file zdm wrote
    /// beside it, as the receipt tells the user to, and forgets the migration the way the tool's docs say).
    fn down_one(&self, fx: &Fixture, db: &TestDb);
}

/// Rows the round trip loads into `users` after the history is applied.
pub const ROWS: i64 = 10_000;

/// The project's history up; 10,000 users; `change` planned by the binary; zdm's files up, each zdm
/// migration down in reverse (`down_one` once per step that has a file), up again — schema and rows
/// checked at each stage.
pub fn roundtrip(fx: &Fixture, db: &TestDb, runner: &dyn Runner, change: &str, check_up: impl Fn(&mut Client)) {
    let mut c = db.connect();
    runner.up(fx, db);
    c.batch_execute(&format!(
        "INSERT INTO users (email, name) SELECT 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, {ROWS}) g"
    ))
    .expect("users rows");
    let before = fingerprint(&mut c);
    let run = fx.zdm(&["plan", change, "--format", "json"]);
    assert_eq!(run.code, 0, "zdm plan failed:\n{}{}", run.stdout, run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("zdm plan --format json prints JSON");
    let steps = json["steps"].as_array().expect("steps").iter().filter(|s| s["file"].is_string()).count();
    assert!(steps > 0, "zdm wrote no migration");
    runner.up(fx, db);
    check_up(&mut c);
    let after = fingerprint(&mut c);
    assert_ne!(before, after, "the plan changed nothing");
    for _ in 0..steps {
        runner.down_one(fx, db);
    }
    assert_eq!(fingerprint(&mut c), before, "rolling every zdm step back did not restore the schema");
    assert_eq!(count(&mut c, "SELECT count(*) FROM users"), ROWS, "rows survive the rollback");
    runner.up(fx, db);
    check_up(&mut c);
    assert_eq!(fingerprint(&mut c), after, "applying again did not reach the same schema");
}

/// Text a migration's language could mangle (quotes, backslashes, heredoc terminators, template-literal
/// syntax, `?`/`:name`/`$1`/`%s` placeholders, newlines), planned as the default of a new `users.note` (and
/// whatever else `change` holds) and applied by `runner` after the history: the default reaches PostgreSQL
/// as `note` says. The connection is returned for the test's own checks.
pub fn keeps_tricky_text(fx: &Fixture, runner: &dyn Runner, db: &TestDb, change: &str, note: &str) -> Client {
    runner.up(fx, db);
    let run = fx.zdm(&["plan", change]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    runner.up(fx, db);
    let mut c = db.connect();
    c.batch_execute("INSERT INTO users (email, name) VALUES ('a@b', 'x')").unwrap();
    let written: String = c.query_one("SELECT note FROM users", &[]).unwrap().get(0);
    assert_eq!(written, note);
    c
}

/// `zdm plan CHANGE --dry-run --format json` (must succeed), parsed.
pub fn plan_json(fx: &Fixture, change: &str) -> serde_json::Value {
    let run = fx.zdm(&["plan", change, "--dry-run", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("zdm plan --format json prints JSON")
}

/// The concurrent index zdm writes ([`INDEX`]) is read back on the next plan: dropping it plans with no
/// blind spot in the schema, and a typo in its name is caught against the read-back schema.
pub fn reads_back_own_index(fx: &Fixture) {
    let run = fx.zdm(&["plan", INDEX]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = plan_json(fx, "DROP INDEX CONCURRENTLY users_email_idx");
    assert_eq!(json["schema"]["blind_spots"], serde_json::json!([]), "{}", json["schema"]);
    let run = fx.zdm(&["plan", "DROP INDEX CONCURRENTLY users_emial_idx", "--dry-run"]);
    assert_eq!(run.code, 2, "a typo is caught against the read-back schema:\n{}{}", run.stdout, run.stderr);
}

/// A migration zdm cannot read is a blind spot (`what` names it), not a guessed table shape.
pub fn is_blind_spot(fx: &Fixture, what: &str) {
    let json = plan_json(fx, SAFE);
    assert!(json["schema"]["blind_spots"].to_string().contains(what), "{}", json["schema"]);
}

/// One bigint of a one-row query.
pub fn count(c: &mut Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}

/// The data check of [`RENAME`]: every row's `full_name` holds what `name` held.
pub fn renamed(c: &mut Client) {
    assert_eq!(count(c, "SELECT count(*) FROM users WHERE full_name = 'User ' || id"), ROWS);
}

/// The check of [`INDEX`]: the index exists and is valid.
pub fn indexed(c: &mut Client) {
    assert_eq!(count(c, "SELECT count(*) FROM pg_index WHERE indexrelid = 'users_email_idx'::regclass AND indisvalid"), 1);
}

/// The check of [`SAFE`]: the column exists, rows intact.
pub fn added(c: &mut Client) {
    assert_eq!(count(c, "SELECT count(*) FROM users WHERE nickname IS NULL"), ROWS);
}

/// The schema of `public` as sorted text: what a rollback must restore (tools' history tables left out).
pub fn fingerprint(c: &mut Client) -> String {
    zdm_pg::testing::fingerprint(c)
}
