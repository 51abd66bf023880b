//! `zdm backfill` against the throwaway PostgreSQL: the acceptance tests B1–B12 of the design notes
//! (shared/reference/backfill-verify.md §5) that a single cluster can run, the refusals, and `--step` on a
//! plan's own backfill file.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};
use support::scalar;
use zdm_pg::Client;
use zdm_pg::testing::TestDb;

fn zdm(db: &TestDb, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zdm"));
    c.arg("backfill").arg("--database-url").arg(db.url()).args(args).env("LANG", "C.UTF-8");
    c
}

fn run(db: &TestDb, args: &[&str]) -> Output {
    zdm(db, args).output().expect("zdm runs")
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "zdm failed: {:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn spawn(db: &TestDb, args: &[&str]) -> Child {
    zdm(db, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("zdm starts")
}

/// `users(id, name, full_name, hits)` with `n` rows; `full_name` to be backfilled as `upper(name)`.
fn users(c: &mut Client, n: i64) {
    c.batch_execute(&format!(
        "CREATE TABLE users (id bigint PRIMARY KEY, name text, full_name text, hits int NOT NULL DEFAULT 0);
         INSERT INTO users (id, name) SELECT g, 'user ' || g FROM generate_series(1, {n}) g;
         ANALYZE users;"
    ))
    .unwrap();
}

fn hash(c: &mut Client, table: &str) -> String {
    scalar(c, &format!("SELECT md5(string_agg(id::text || ':' || coalesce(full_name, '∅'), ',' ORDER BY id)) FROM {table}"))
}

fn wrong(c: &mut Client) -> i64 {
    scalar(c, "SELECT count(*) FROM users WHERE full_name IS DISTINCT FROM upper(name)")
}

const SET: &str = "full_name = upper(name)";

/// Held by the tests whose assertions are about time (batch times, rates, pauses) and by the one that loads
/// the machine most (B1), so they never run beside each other on a 2-core machine.
fn timing() -> std::sync::MutexGuard<'static, ()> {
    static TIMING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TIMING.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// B1: one million rows; the result equals a one-shot UPDATE of a clone; a rerun changes nothing.
#[test]
fn b1_million_rows_equal_the_one_shot_update() {
    let _alone = timing();
    let db = TestDb::new("bf_b1");
    let mut c = db.connect();
    users(&mut c, 1_000_000);
    c.batch_execute("CREATE TABLE clone AS TABLE users; ALTER TABLE clone ADD PRIMARY KEY (id); UPDATE clone SET full_name = upper(name);")
        .unwrap();
    let s = json(&run(&db, &["--table", "users", "--set", SET, "--format", "json"]));
    assert_eq!(s["status"], "done");
    assert_eq!(s["rows_scanned"], 1_000_000);
    assert_eq!(s["rows_changed"], 1_000_000);
    assert_eq!(s["remaining"], 0);
    assert!(s["plan"].as_str().unwrap().contains("Index Scan using users_pkey"), "{s}");
    assert_eq!(hash(&mut c, "users"), hash(&mut c, "clone"));
    let again = json(&run(&db, &["--table", "users", "--set", SET, "--format", "json"]));
    assert_eq!(again["rows_changed"], 0);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM pg_tables WHERE tablename = 'zdm_backfill_progress'"), 0);
}

/// B2: SIGKILL three times at random points under light writes (a sync trigger covers them, as the plan's
/// expand step installs), resume: the result is right, no row was changed twice, a 4th run changes 0.
#[test]
fn b2_killed_three_times_then_resumed() {
    let _alone = timing();
    let db = TestDb::new("bf_b2");
    let mut c = db.connect();
    users(&mut c, 60_000);
    c.batch_execute(
        "CREATE FUNCTION sync() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN IF current_setting('application_name') <> 'zdm' THEN NEW.full_name := upper(NEW.name); END IF; RETURN NEW; END $$;
         CREATE TRIGGER sync BEFORE INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION sync();
         CREATE TABLE audit (id bigint);
         CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN IF current_setting('application_name') = 'zdm' THEN INSERT INTO audit VALUES (NEW.id); END IF; RETURN NULL; END $$;
         CREATE TRIGGER audit AFTER UPDATE ON users FOR EACH ROW
           WHEN (OLD.full_name IS DISTINCT FROM NEW.full_name) EXECUTE FUNCTION audit();",
    )
    .unwrap();
    let needing = wrong(&mut c);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, mut w) = (Arc::clone(&stop), db.connect());
        thread::spawn(move || {
            let mut i = 0i64;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                w.execute("UPDATE users SET name = name || '!' WHERE id = $1", &[&((i * 7919) % 60_000 + 1)]).unwrap();
                thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let args = ["--table", "users", "--set", SET, "--batch-size", "500", "--max-rows-per-sec", "15000"];
    let seed = u64::from(std::process::id()) ^ u64::from(std::time::SystemTime::now().elapsed().map_or(7, |d| d.subsec_nanos()));
    for k in 0..3u64 {
        let mut child = spawn(&db, &args);
        let delay = 300 + (seed.wrapping_mul(2_654_435_761).wrapping_add(k * 97) % 700);
        thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    let done: i64 = scalar(&mut c, "SELECT rows_scanned FROM zdm_backfill_progress");
    assert!(done > 0 && done < 60_000, "the kills left a partial checkpoint: {done}");
    let s = json(&run(&db, &[&args[..], &["--format", "json"]].concat()));
    assert_eq!(s["resumed"], true);
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    assert_eq!(wrong(&mut c), 0);
    let twice: i64 = scalar(&mut c, "SELECT count(*) FROM (SELECT id FROM audit GROUP BY id HAVING count(*) > 1) d");
    assert_eq!(twice, 0, "a row was changed twice");
    let changed: i64 = scalar(&mut c, "SELECT count(*) FROM audit");
    assert!(changed <= needing && changed > 0, "{changed} of {needing}");
    let fourth = json(&run(&db, &[&args[..], &["--format", "json"]].concat()));
    assert_eq!(fourth["rows_changed"], 0);
}

/// B3: flat-out inserts during the backfill (new rows set by the default path): it finishes and walks
/// only the frozen range.
#[test]
fn b3_finishes_under_inserts() {
    let db = TestDb::new("bf_b3");
    let mut c = db.connect();
    users(&mut c, 50_000);
    c.batch_execute(
        "CREATE FUNCTION fill() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.full_name := upper(NEW.name); RETURN NEW; END $$;
         CREATE TRIGGER fill BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION fill();",
    )
    .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let inserter = {
        let (stop, mut w) = (Arc::clone(&stop), db.connect());
        thread::spawn(move || {
            let mut next = 50_001i64;
            while !stop.load(Ordering::SeqCst) {
                w.execute("INSERT INTO users (id, name) SELECT g, 'new ' || g FROM generate_series($1::bigint, $1 + 999) g", &[&next])
                    .unwrap();
                next += 1000;
            }
            next - 50_001
        })
    };
    let s = json(&run(&db, &["--table", "users", "--set", SET, "--format", "json"]));
    stop.store(true, Ordering::SeqCst);
    let inserted = inserter.join().unwrap();
    assert!(inserted > 0);
    let end: i64 = s["range_end"][0].as_str().unwrap().parse().unwrap();
    assert!(end >= 50_000, "{s}");
    let in_range: i64 = scalar(&mut c, &format!("SELECT count(*) FROM users WHERE id <= {end}"));
    assert_eq!(s["rows_scanned"].as_i64().unwrap(), in_range, "walked past the frozen range: {s}");
    assert!(scalar::<i64>(&mut c, "SELECT count(*) FROM users") > in_range, "no row was inserted after the range froze");
    assert_eq!(s["remaining"], 0);
    assert_eq!(wrong(&mut c), 0);
}

/// Application writes on other rows of the table, counted: errors and successful increments.
fn app(db: &TestDb, stop: &Arc<AtomicBool>) -> thread::JoinHandle<(u64, u64)> {
    let (stop, mut w) = (Arc::clone(stop), db.connect());
    thread::spawn(move || {
        let (mut ok, mut errors) = (0u64, 0u64);
        let mut i = 0i64;
        while !stop.load(Ordering::SeqCst) {
            i += 1;
            match w.execute("UPDATE users SET hits = hits + 1 WHERE id = $1", &[&(15_000 + (i % 4000))]) {
                Ok(_) => ok += 1,
                Err(_) => errors += 1,
            }
            thread::sleep(Duration::from_millis(5));
        }
        (ok, errors)
    })
}

/// B4 and the concurrent writers: 100 rows held `FOR UPDATE` mid-range twice; the backfill retries, names
/// the holder and completes; the application sees no error and keeps every write.
#[test]
fn b4_row_locks_are_retried_and_writers_keep_their_writes() {
    let db = TestDb::new("bf_b4");
    let mut c = db.connect();
    users(&mut c, 20_000);
    let stop = Arc::new(AtomicBool::new(false));
    let writes = app(&db, &stop);
    let held = Arc::new(AtomicU64::new(0));
    let holder = {
        let (mut h, held) = (db.connect(), Arc::clone(&held));
        thread::spawn(move || {
            for round in 0..2 {
                let mut tx = h.transaction().unwrap();
                let pid: i32 = tx.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
                tx.query(
                    "SELECT id FROM users WHERE id BETWEEN 10000 + $1::bigint AND 10099 + $1::bigint FOR UPDATE",
                    &[&(round * 3000i64)],
                )
                .unwrap();
                held.store(u64::try_from(pid).unwrap(), Ordering::SeqCst);
                thread::sleep(Duration::from_millis(1500));
                tx.commit().unwrap();
                thread::sleep(Duration::from_millis(200));
            }
        })
    };
    while held.load(Ordering::SeqCst) == 0 {
        assert!(!holder.is_finished(), "the lock holder failed");
        thread::sleep(Duration::from_millis(10));
    }
    let pid = held.load(Ordering::SeqCst);
    let out = run(&db, &["--table", "users", "--set", SET, "--lock-timeout-ms", "100", "--max-rows-per-sec", "20000", "--format", "json"]);
    holder.join().unwrap();
    stop.store(true, Ordering::SeqCst);
    let (ok, errors) = writes.join().unwrap();
    let s = json(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(s["retries"]["55P03"].as_u64().unwrap_or(0) >= 1, "{s}\n{stderr}");
    assert!(stderr.contains(&format!("pid {pid}")), "the blocker is not named: {stderr}");
    assert_eq!(errors, 0);
    assert_eq!(scalar::<i64>(&mut c, "SELECT sum(hits)::bigint FROM users"), i64::try_from(ok).unwrap());
    assert_eq!(wrong(&mut c), 0);
}

/// B5: a table lock (SHARE) held for a while: retried, completes.
#[test]
fn b5_table_lock_is_retried() {
    let db = TestDb::new("bf_b5");
    let mut c = db.connect();
    users(&mut c, 12_000);
    let child =
        spawn(&db, &["--table", "users", "--set", SET, "--lock-timeout-ms", "100", "--max-rows-per-sec", "4000", "--format", "json"]);
    while checkpoint_rows(&mut c) <= 0 {
        thread::sleep(Duration::from_millis(20));
    }
    let mut h = db.connect();
    let mut tx = h.transaction().unwrap();
    tx.batch_execute("LOCK TABLE users IN SHARE MODE").unwrap();
    thread::sleep(Duration::from_millis(1200));
    tx.commit().unwrap();
    let out = child.wait_with_output().unwrap();
    let s = json(&out);
    assert!(s["retries"]["55P03"].as_u64().unwrap_or(0) >= 1, "{s}");
    assert_eq!(wrong(&mut c), 0);
}

/// B6: an application transaction locks rows in descending key order while the backfill walks them in
/// ascending order: the deadlock the backfill hits is retried; the application's transaction commits.
#[test]
fn b6_deadlock_is_retried() {
    let _alone = timing();
    let db = TestDb::new("bf_b6");
    let mut c = db.connect();
    users(&mut c, 5000);
    let mut a = db.connect();
    a.batch_execute("SET deadlock_timeout = '20s'").unwrap();
    let mut tx = a.transaction().unwrap();
    tx.execute("UPDATE users SET hits = hits + 1 WHERE id = 900", &[]).unwrap();
    let child = spawn(&db, &["--table", "users", "--set", SET, "--batch-size", "2000", "--lock-timeout-ms", "10000", "--format", "json"]);
    let waited = Instant::now();
    while scalar::<i64>(&mut c, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'zdm' AND wait_event_type = 'Lock'") == 0 {
        assert!(waited.elapsed() < Duration::from_secs(30), "the backfill never waited on row 900");
        thread::sleep(Duration::from_millis(20));
    }
    // Row 100 is locked by the backfill's batch: this closes the cycle; the backfill's deadlock check
    // (deadlock_timeout 1 s) fires first, it rolls back, this update goes through.
    tx.execute("UPDATE users SET hits = hits + 1 WHERE id = 100", &[]).expect("the application's write succeeds");
    tx.commit().unwrap();
    let s = json(&child.wait_with_output().unwrap());
    assert!(s["retries"]["40P01"].as_u64().unwrap_or(0) >= 1, "{s}");
    assert_eq!(scalar::<i64>(&mut c, "SELECT sum(hits)::bigint FROM users"), 2);
    assert_eq!(wrong(&mut c), 0);
}

fn checkpoint_rows(c: &mut Client) -> i64 {
    if !scalar::<bool>(c, "SELECT to_regclass('zdm_backfill_progress') IS NOT NULL") {
        return -1;
    }
    scalar(c, "SELECT coalesce((SELECT rows_scanned FROM zdm_backfill_progress), -1)")
}

fn sigint(child: &Child) {
    #[allow(unsafe_code)]
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(i32::try_from(child.id()).unwrap(), libc::SIGINT);
    }
}

/// B9: a pause file pauses within a batch and resumes when removed; SIGINT stops after committing the
/// batch with the resumable exit code 3; a rerun finishes.
#[test]
fn b9_pause_file_and_sigint() {
    let db = TestDb::new("bf_b9");
    let mut c = db.connect();
    users(&mut c, 30_000);
    let pause = std::env::temp_dir().join(format!("zdm-bf-pause-{}", std::process::id()));
    let _ = std::fs::remove_file(&pause);
    let child = spawn(&db, &["--table", "users", "--set", SET, "--max-rows-per-sec", "5000", "--pause-file", pause.to_str().unwrap()]);
    thread::sleep(Duration::from_millis(1000));
    std::fs::write(&pause, "").unwrap();
    thread::sleep(Duration::from_millis(600));
    let a = checkpoint_rows(&mut c);
    thread::sleep(Duration::from_millis(1000));
    assert_eq!(checkpoint_rows(&mut c), a, "still running while paused");
    std::fs::remove_file(&pause).unwrap();
    thread::sleep(Duration::from_millis(800));
    assert!(checkpoint_rows(&mut c) > a, "did not resume");
    sigint(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("paused"));
    assert_eq!(scalar::<String>(&mut c, "SELECT status FROM zdm_backfill_progress"), "paused");
    let left = wrong(&mut c);
    assert_eq!(left, 30_000 - checkpoint_rows(&mut c), "the checkpoint is exactly as far as the committed batches");
    let s = json(&run(&db, &["--table", "users", "--set", SET, "--format", "json"]));
    assert_eq!(s["resumed"], true);
    assert_eq!(s["rows_changed"].as_i64().unwrap(), left);
    assert_eq!(wrong(&mut c), 0);
}

/// B10: the batch UPDATE is an index range scan on the key (single and composite keys), not a join over a
/// sequential scan.
#[test]
fn b10_batches_are_index_range_scans() {
    let db = TestDb::new("bf_b10");
    let mut c = db.connect();
    users(&mut c, 100_000);
    c.batch_execute(
        "CREATE TABLE lines (order_id int, line int, qty int, total int, PRIMARY KEY (order_id, line));
         INSERT INTO lines SELECT o, l, o % 7, NULL FROM generate_series(1, 20000) o, generate_series(1, 5) l; ANALYZE lines;",
    )
    .unwrap();
    let job = zdm_core::backfill::Job::from_flags("users", SET, None, false).unwrap();
    let plan = zdm_pg::backfill::explain(&mut c, &job, 1000).unwrap();
    assert!(plan.contains("Index Scan using users_pkey on users"), "{plan}");
    assert!(!plan.contains("Seq Scan") && !plan.contains("Hash"), "{plan}");
    let job = zdm_core::backfill::Job::from_flags("lines", "total = qty * 10", None, false).unwrap();
    let plan = zdm_pg::backfill::explain(&mut c, &job, 1000).unwrap();
    assert!(plan.contains("Index Scan using lines_pkey") || plan.contains("Index Scan on lines_pkey"), "{plan}");
    assert!(!plan.contains("Seq Scan") && !plan.contains("Hash"), "{plan}");
    // The composite key walks correctly too.
    let s = json(&run(&db, &["--table", "lines", "--set", "total = qty * 10", "--batch-size", "300", "--format", "json"]));
    assert_eq!(s["rows_changed"], 100_000);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM lines WHERE total IS DISTINCT FROM qty * 10"), 0);
}

/// B11: resuming with another SET is refused (exit 2, naming the table and both expressions) unless
/// `--restart`.
#[test]
fn b11_other_set_on_resume_is_refused_unless_restart() {
    let db = TestDb::new("bf_b11");
    let mut c = db.connect();
    users(&mut c, 20_000);
    let child = spawn(&db, &["--table", "users", "--set", SET, "--max-rows-per-sec", "3000"]);
    thread::sleep(Duration::from_millis(800));
    sigint(&child);
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(3));
    let out = run(&db, &["--table", "users", "--set", "full_name = lower(name)"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("users") && err.contains("upper(name)") && err.contains("lower(name)") && err.contains("--restart"), "{err}");
    let s = json(&run(&db, &["--table", "users", "--set", "full_name = lower(name)", "--restart", "--format", "json"]));
    assert_eq!(s["resumed"], false);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE full_name IS DISTINCT FROM lower(name)"), 0);
}

/// B12: `--max-rows-per-sec` holds the average rate within ±5%.
#[test]
fn b12_rate_limit_holds() {
    let _alone = timing();
    let db = TestDb::new("bf_b12");
    let mut c = db.connect();
    users(&mut c, 20_000);
    let s = json(&run(&db, &["--table", "users", "--set", SET, "--max-rows-per-sec", "5000", "--format", "json"]));
    let rate = s["rows_per_sec"].as_f64().unwrap();
    assert!((4750.0..=5250.0).contains(&rate), "{rate} rows/s");
    assert_eq!(wrong(&mut c), 0, "{s}");
}

/// Refusals: exit 2, naming the table or column, nothing changed.
#[test]
fn refusals_name_the_problem() {
    let db = TestDb::new("bf_refuse");
    let mut c = db.connect();
    users(&mut c, 100);
    c.batch_execute("CREATE TABLE nokey (a int, b text); INSERT INTO nokey SELECT g, 'x' FROM generate_series(1, 10) g;").unwrap();
    let cases: [(&[&str], &str); 7] = [
        (&["--table", "nokey", "--set", "b = 'y'"], "table nokey has no primary key or unique NOT NULL key"),
        (&["--table", "users", "--set", "full_name = upper(name"], "--set does not parse"),
        (&["--table", "users", "--set", "fullname = upper(name)"], "column users.fullname does not exist"),
        (&["--table", "users", "--set", "full_name = upper(nam)"], "column \"nam\" does not exist"),
        (&["--table", "users", "--set", "full_name = md5(random()::text)"], "random"),
        (&["--table", "missing", "--set", "a = 1"], "table missing does not exist"),
        (&["--table", "users", "--set", SET, "--resume"], "no interrupted backfill of users"),
    ];
    for (args, want) in cases {
        let out = run(&db, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("secret"), "{err}");
    }
    assert!(
        String::from_utf8_lossy(&run(&db, &["--table", "nokey", "--set", "b = 'y'"]).stderr).contains("CREATE UNIQUE INDEX CONCURRENTLY")
    );
    assert_eq!(wrong(&mut c), 100);
}

/// `--step`: the backfill file of a rename plan (dbmate), run by zdm backfill after the expand step.
#[test]
fn step_file_of_a_rename_plan() {
    let setup = "CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL);";
    let out = support::plan(setup, "ALTER TABLE accounts RENAME COLUMN name TO full_name", 15);
    let db = TestDb::new("bf_step");
    let mut c = db.connect();
    c.batch_execute(setup).unwrap();
    c.batch_execute("INSERT INTO accounts SELECT g, 'a' || g FROM generate_series(1, 5000) g").unwrap();
    let step = out.files.iter().position(|f| f.path.contains("backfill")).expect("a backfill file");
    for f in &out.files[..step] {
        zdm_pg::runner::apply(&mut c, &f.contents, zdm_pg::runner::Direction::Up).unwrap();
    }
    let dir = std::env::temp_dir().join(format!("zdm-bf-step-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(Path::new(&out.files[step].path).file_name().unwrap());
    std::fs::write(&file, &out.files[step].contents).unwrap();
    let s = json(&run(&db, &["--step", file.to_str().unwrap(), "--format", "json"]));
    assert_eq!(s["table"], "accounts");
    assert_eq!(s["rows_changed"], 5000);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM accounts WHERE full_name IS DISTINCT FROM name"), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The password never shows, in errors included.
#[test]
fn password_is_masked() {
    let out = Command::new(env!("CARGO_BIN_EXE_zdm"))
        .args([
            "backfill",
            "--table",
            "users",
            "--set",
            SET,
            "--database-url",
            "postgres://u:secret@127.0.0.1:1/x",
            "--connect-timeout",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains("secret") && all.contains("cannot connect"), "{all}");
}

/// Polls `sql` (one boolean) on `c` every 100 ms until true, for at most `secs`.
fn wait_until(c: &mut Client, sql: &str, secs: u64) {
    let end = Instant::now() + Duration::from_secs(secs);
    while !scalar::<bool>(c, sql) {
        assert!(Instant::now() < end, "timed out waiting for: {sql}");
        thread::sleep(Duration::from_millis(100));
    }
}

/// B8: a streaming standby on a cluster of its own. With the standby caught up and a pg_receivewal client
/// attached (it streams but replays nothing), the backfill never pauses. With the standby's replay paused
/// for 5 s, the backfill pauses once the replay lag passes `--max-replica-lag 1` and goes on once the
/// standby has caught up: the time it spent throttled is the pause less the lag limit, within 2 s either
/// way, and it logs why.
#[test]
fn b8_replica_lag_pauses_and_resumes() {
    use zdm_pg::cluster::Cluster;
    let _alone = timing();
    let primary = Cluster::start().expect("a primary");
    let standby = primary.standby().expect("a streaming standby");
    let (socket, port) = primary.socket();
    let wal = socket.join("receivewal");
    std::fs::create_dir_all(&wal).unwrap();
    #[allow(unsafe_code)]
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        assert!(Command::new("chown").arg("postgres:postgres").arg(&wal).status().unwrap().success());
    }
    let mut receivewal = primary
        .command("pg_receivewal")
        .arg("-D")
        .arg(&wal)
        .arg("-h")
        .arg(socket)
        .args(["-p", &port.to_string(), "-U", "postgres", "--no-sync", "--no-loop"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pg_receivewal starts");
    let mut admin = Client::connect(&primary.conninfo("postgres"), zdm_pg::NoTls).unwrap();
    admin.batch_execute("CREATE DATABASE bf_b8").unwrap();
    let mut c = Client::connect(&primary.conninfo("bf_b8"), zdm_pg::NoTls).unwrap();
    users(&mut c, 60_000);
    wait_until(&mut c, "SELECT count(*) = 2 FROM pg_stat_replication", 20);
    let caught_up = "SELECT bool_and(replay_lsn = pg_current_wal_lsn()) FROM pg_stat_replication WHERE replay_lsn IS NOT NULL";
    wait_until(&mut c, caught_up, 20);
    let backfill = |set: &str, rate: &str| {
        Command::new(env!("CARGO_BIN_EXE_zdm"))
            .args(["backfill", "--database-url", &primary.url("bf_b8"), "--table", "users", "--set", set])
            .args(["--max-replica-lag", "1", "--max-rows-per-sec", rate, "--format", "json"])
            .env("LANG", "C.UTF-8")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("zdm starts")
    };

    // Caught up, with the WAL receiver attached: no pause.
    let out = backfill(SET, "30000").wait_with_output().unwrap();
    let s = json(&out);
    assert_eq!(s["throttled_ms"], 0, "{s}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(wrong(&mut c), 0);

    // Replay paused for 5 s while a 6-second backfill runs.
    let mut replica = Client::connect(&standby.conninfo("bf_b8"), zdm_pg::NoTls).unwrap();
    let child = backfill("full_name = lower(name)", "10000");
    thread::sleep(Duration::from_millis(1000));
    replica.batch_execute("SELECT pg_wal_replay_pause()").unwrap();
    thread::sleep(Duration::from_secs(5));
    replica.batch_execute("SELECT pg_wal_replay_resume()").unwrap();
    let out = child.wait_with_output().unwrap();
    let s = json(&out);
    let log = String::from_utf8_lossy(&out.stderr);
    let throttled = s["throttled_ms"].as_u64().unwrap();
    eprintln!("B8: throttled {throttled} ms; log:\n{log}");
    assert!((2000..=6000).contains(&throttled), "paused {throttled} ms for a 5 s replay pause: {s}\n{log}");
    assert!(log.contains("throttled: replica lag"), "{log}");
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE full_name IS DISTINCT FROM lower(name)"), 0);
    assert_eq!(receivewal.try_wait().unwrap(), None, "pg_receivewal stayed attached");
    let _ = receivewal.kill();
    let _ = receivewal.wait();
}

/// B7: the batch size follows the cost of a row. The first 150,000 rows are narrow; the last 90,000 carry
/// 1.9 KB of text (inline, not TOASTed) and five partial indexes on the backfilled column that only they
/// pay for (a batch costs about 4× as much). From `--trace`: 10 batches after the change to wide rows the
/// size is at most 60% of what it was on narrow rows (after their 20-batch ramp), and from then on no batch
/// takes more than 5× the 30 ms target and the p90 stays under 1.5× it: the row locks are held about as
/// long as asked. (That the p90 settles within ±30% of the target is asserted on the controller's maths in
/// `zdm_core::backfill`: on a shared 2-core machine one batch's time varies by more than that.)
#[test]
fn b7_batch_size_follows_the_cost_of_a_row() {
    let _alone = timing();
    let db = TestDb::new("bf_b7");
    let mut c = db.connect();
    c.batch_execute(
        "CREATE TABLE t (id bigint PRIMARY KEY, n bigint, pad text);
         INSERT INTO t (id) SELECT g FROM generate_series(1, 150000) g;
         INSERT INTO t (id, pad)
           SELECT g, (SELECT string_agg(md5(g::text || ':' || i), '') FROM generate_series(1, 59) i)
             FROM generate_series(150001, 240000) g;
         CREATE INDEX t_n1 ON t (n) WHERE id > 150000;
         CREATE INDEX t_n2 ON t (n, id) WHERE id > 150000;
         CREATE INDEX t_n3 ON t (n DESC) WHERE id > 150000;
         CREATE INDEX t_n4 ON t (id, n) WHERE id > 150000;
         CREATE INDEX t_n5 ON t ((n % 7)) WHERE id > 150000;",
    )
    .unwrap();
    c.batch_execute("VACUUM ANALYZE t").unwrap();
    let trace = std::env::temp_dir().join(format!("zdm-bf-b7-{:07}.csv", std::process::id()));
    let s = json(&run(
        &db,
        &["--table", "t", "--set", "n = id * 2", "--target-batch-ms", "30", "--format", "json", "--trace", trace.to_str().unwrap()],
    ));
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM t WHERE n IS DISTINCT FROM id * 2"), 0, "{s}");
    let csv = std::fs::read_to_string(&trace).unwrap();
    let _ = std::fs::remove_file(&trace);
    // (last key, ms) per batch.
    let batches: Vec<(i64, f64)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].trim_matches('"').parse().unwrap(), f[5].parse().unwrap())
        })
        .collect();
    let target = 30.0;
    let narrow: Vec<f64> = batches.iter().filter(|b| b.0 <= 150_000).map(|b| b.1).collect();
    let wide: Vec<f64> = batches.iter().filter(|b| b.0 > 150_000).map(|b| b.1).collect();
    let trace_text = format!("{s}\n{csv}");
    let sizes: Vec<(i64, u64)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].trim_matches('"').parse().unwrap(), f[4].parse().unwrap())
        })
        .collect();
    let first_wide = sizes.iter().position(|b| b.0 > 150_000).unwrap();
    assert!(first_wide >= 25 && sizes.len() >= first_wide + 20, "too few batches to judge: {trace_text}");
    let median = |v: &[(i64, u64)]| {
        let mut v: Vec<u64> = v.iter().map(|b| b.1).collect();
        v.sort_unstable();
        v[v.len() / 2]
    };
    let narrow_size = median(&sizes[20..first_wide]);
    let wide_size = median(&sizes[first_wide + 10..]);
    assert!(wide_size * 10 <= narrow_size * 6, "batch size {narrow_size} on narrow rows, {wide_size} on wide ones: {trace_text}");
    for (part, ms) in [("narrow", &narrow[20..]), ("wide", &wide[10..])] {
        let p = zdm_core::backfill::p(ms, 0.9).unwrap();
        assert!(p <= 1.5 * target, "{part}: p90 {p:.1} ms for a {target} ms target: {trace_text}");
        let max = ms.iter().copied().fold(0.0, f64::max);
        assert!(max <= 5.0 * target, "{part}: a batch took {max:.1} ms: {trace_text}");
    }
}
