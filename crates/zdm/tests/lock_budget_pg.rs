//! The lock budget: while a step waits for a lock that a long transaction holds, the application's queries
//! on that table wait no longer than the step's `lock_timeout`, because the step gives up and retries
//! (each attempt a subtransaction) instead of queueing. Measured on PostgreSQL with a reader holding
//! ACCESS SHARE in an open transaction and an application thread timing a prepared query.

mod support;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};
use support::{SETUP, scalar};
use zdm_core::plan::PlanConfig;
use zdm_pg::runner::{self, Direction};
use zdm_pg::testing::TestDb;

/// Holds ACCESS SHARE on `users` for `hold`, from its own connection; returns once the lock is held.
fn hold_access_share(conninfo: &str, hold: Duration) -> thread::JoinHandle<()> {
    let (ready, held) = mpsc::channel();
    let conninfo = conninfo.to_string();
    let handle = thread::spawn(move || {
        let mut b = zdm_pg::Client::connect(&conninfo, zdm_pg::NoTls).unwrap();
        let mut tx = b.transaction().unwrap();
        tx.query("SELECT count(*) FROM users", &[]).unwrap();
        ready.send(()).unwrap();
        thread::sleep(hold);
        tx.commit().unwrap();
    });
    held.recv().unwrap();
    handle
}

/// Runs a prepared point read on `users` in a loop for `run`; returns the slowest one.
fn app_reads(conninfo: &str, run: Duration) -> thread::JoinHandle<Duration> {
    let conninfo = conninfo.to_string();
    thread::spawn(move || {
        let mut a = zdm_pg::Client::connect(&conninfo, zdm_pg::NoTls).unwrap();
        let read = a.prepare("SELECT id, email FROM users WHERE id = $1").unwrap();
        let start = Instant::now();
        let mut slowest = Duration::ZERO;
        let mut id = 1_i64;
        while start.elapsed() < run {
            let t = Instant::now();
            a.query(&read, &[&id]).unwrap();
            slowest = slowest.max(t.elapsed());
            id = id % 12000 + 1;
            thread::sleep(Duration::from_millis(5));
        }
        slowest
    })
}

#[test]
fn a_blocked_step_retries_instead_of_stalling_the_app() {
    let db = TestDb::new("lock_budget");
    let mut c = db.connect();
    c.batch_execute(SETUP).unwrap();
    let out = support::plan(SETUP, "ALTER TABLE users ADD COLUMN nickname text", 15);
    let file = &out.files[0].contents;
    assert!(file.contains("EXCEPTION WHEN lock_not_available"), "{file}");

    let blocker = hold_access_share(&db.conninfo, Duration::from_millis(1500));
    let app = app_reads(&db.conninfo, Duration::from_millis(2500));
    let started = Instant::now();
    runner::apply(&mut c, file, Direction::Up).unwrap();
    let took = started.elapsed();
    blocker.join().unwrap();
    let slowest = app.join().unwrap();

    assert!(took >= Duration::from_millis(1200), "the step got its lock only after the reader committed ({took:?})");
    assert!(slowest < Duration::from_millis(500), "an app query waited {slowest:?}; the budget is 200ms a try");
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'nickname'"), 1);
}

#[test]
fn without_retries_the_same_wait_stalls_the_app() {
    // The contrast that shows the measurement above can fail: one long lock wait queues every reader.
    let db = TestDb::new("lock_budget_naive");
    let mut c = db.connect();
    c.batch_execute(SETUP).unwrap();
    let blocker = hold_access_share(&db.conninfo, Duration::from_millis(1500));
    let app = app_reads(&db.conninfo, Duration::from_millis(2500));
    thread::sleep(Duration::from_millis(100));
    c.batch_execute("SET lock_timeout = '5s'; ALTER TABLE users ADD COLUMN nickname text").unwrap();
    blocker.join().unwrap();
    let slowest = app.join().unwrap();
    assert!(slowest >= Duration::from_millis(800), "a reader queued behind the waiting ALTER ({slowest:?})");
}

#[test]
fn a_step_that_never_gets_its_lock_fails_and_changes_nothing() {
    let db = TestDb::new("lock_budget_gives_up");
    let mut c = db.connect();
    c.batch_execute(SETUP).unwrap();
    let config = PlanConfig { lock_retries: 3, ..PlanConfig::default() };
    let out = support::plan_with(SETUP, "ALTER TABLE users ADD COLUMN nickname text", config);
    let blocker = hold_access_share(&db.conninfo, Duration::from_millis(4000));
    let err = runner::apply(&mut c, &out.files[0].contents, Direction::Up).unwrap_err();
    blocker.join().unwrap();
    assert!(err.to_string().contains("lock timeout"), "{err}");
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'nickname'"), 0);
    runner::apply(&mut c, &out.files[0].contents, Direction::Up).unwrap();
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'nickname'"), 1);
}

#[test]
fn a_backfill_batch_waits_out_a_held_row_by_retrying() {
    let db = TestDb::new("lock_budget_backfill");
    let mut c = db.connect();
    c.batch_execute(SETUP).unwrap();
    let out = support::plan(SETUP, "UPDATE users SET code = 'x' || id", 15);
    let backfill = out.files.iter().find(|f| f.contents.contains("zdm_tries")).expect("a batched backfill");
    // An application transaction holds one row of the second batch for 1.5 s.
    let (ready, held) = mpsc::channel();
    let conninfo = db.conninfo.clone();
    let holder = thread::spawn(move || {
        let mut b = zdm_pg::Client::connect(&conninfo, zdm_pg::NoTls).unwrap();
        let mut tx = b.transaction().unwrap();
        tx.query("SELECT 1 FROM users WHERE id = 7000 FOR UPDATE", &[]).unwrap();
        ready.send(()).unwrap();
        thread::sleep(Duration::from_millis(1500));
        tx.commit().unwrap();
    });
    held.recv().unwrap();
    runner::apply(&mut c, &backfill.contents, Direction::Up).unwrap();
    holder.join().unwrap();
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE code = 'x' || id"), 12000);
}
