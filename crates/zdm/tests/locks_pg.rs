//! Every rule's claimed lock level and rewrite flag, checked against what a real PostgreSQL does: the
//! rule's probe statement runs on the test fixture while a second session reads `pg_locks`, and the table's
//! relfilenode is compared before and after. Statements that can run in a transaction are observed with
//! the transaction open (locks granted); CONCURRENTLY / VACUUM statements are observed waiting behind a
//! third session's lock (the mode they request). Any mismatch fails the test.

mod support;

use std::time::{Duration, Instant};
use support::SETUP;
use zdm_core::model::{LockLevel, Rewrite};
use zdm_core::rules::RULES;
use zdm_pg::Client;
use zdm_pg::testing::TestDb;

const LEVELS: [LockLevel; 8] = [
    LockLevel::AccessShare,
    LockLevel::RowShare,
    LockLevel::RowExclusive,
    LockLevel::ShareUpdateExclusive,
    LockLevel::Share,
    LockLevel::ShareRowExclusive,
    LockLevel::Exclusive,
    LockLevel::AccessExclusive,
];

fn level(mode: &str) -> LockLevel {
    LEVELS.into_iter().find(|l| l.pg_locks_mode() == Some(mode)).unwrap_or_else(|| panic!("unknown lock mode {mode}"))
}

fn outside_transaction(sql: &str) -> bool {
    let s = sql.to_uppercase();
    s.contains("CONCURRENTLY") || s.starts_with("VACUUM")
}

struct Observed {
    lock: LockLevel,
    rewrote: bool,
}

fn observe(db: &TestDb, sql: &str, table: &str) -> Observed {
    let mut a = db.connect();
    let mut b = db.connect();
    let oid: u32 = b.query_one(&format!("SELECT '{table}'::regclass::oid"), &[]).unwrap().get(0);
    // A rewrite is a new relfilenode that holds the rows (TRUNCATE gets an empty one, DROP none).
    let filenode = |c: &mut Client| -> (u32, i64) {
        let row = c.query_one("SELECT pg_relation_filenode($1::oid), pg_relation_size($1::oid)", &[&oid]).unwrap();
        (row.get::<_, Option<u32>>(0).unwrap_or(0), row.get::<_, Option<i64>>(1).unwrap_or(0))
    };
    let rewrote = |before: (u32, i64), after: (u32, i64)| after.0 != 0 && after.0 != before.0 && after.1 > 0;
    let before = filenode(&mut b);
    let pid: i32 = a.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
    let modes = |b: &mut Client, granted: bool| -> Vec<String> {
        b.query("SELECT mode FROM pg_locks WHERE pid = $1 AND relation = $2 AND granted = $3", &[&pid, &oid, &granted])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    if outside_transaction(sql) {
        let mut blocker = db.connect();
        // SHARE UPDATE EXCLUSIVE lets the statement's catalog look-up (ACCESS SHARE) through and stops it at
        // the lock it really needs (SHARE UPDATE EXCLUSIVE or stronger).
        blocker.batch_execute(&format!("BEGIN; LOCK TABLE {table} IN SHARE UPDATE EXCLUSIVE MODE")).unwrap();
        let statement = sql.to_string();
        let worker = std::thread::spawn(move || a.batch_execute(&statement).map_err(|e| e.to_string()));
        let deadline = Instant::now() + Duration::from_secs(10);
        let waiting = loop {
            let m = modes(&mut b, false);
            if !m.is_empty() || Instant::now() > deadline {
                break m;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        blocker.batch_execute("ROLLBACK").unwrap();
        worker.join().unwrap().unwrap_or_else(|e| panic!("{sql}: {e}"));
        let lock = waiting.iter().map(|m| level(m)).max().unwrap_or(LockLevel::None);
        let after = filenode(&mut b);
        Observed { lock, rewrote: rewrote(before, after) }
    } else {
        a.batch_execute("BEGIN").unwrap();
        a.batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let lock = modes(&mut b, true).iter().map(|m| level(m)).max().unwrap_or(LockLevel::None);
        let after = filenode(&mut a);
        a.batch_execute("ROLLBACK").unwrap();
        Observed { lock, rewrote: rewrote(before, after) }
    }
}

#[test]
fn every_rule_claims_the_lock_and_rewrite_postgres_takes() {
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for rule in RULES {
        let meta = rule.meta();
        let Some(probe) = &meta.probe else { continue };
        let db = TestDb::new(&format!("lock_{}", meta.id));
        let mut c = db.connect();
        c.batch_execute(SETUP).unwrap();
        for stmt in zdm_core::sql::parse(probe.setup).expect("probe setup parses") {
            c.batch_execute(&stmt.sql).unwrap_or_else(|e| panic!("{} setup: {e}", meta.id));
        }
        let seen = observe(&db, probe.sql, probe.table);
        checked += 1;
        let claimed_rewrite = meta.rewrite == Rewrite::Rewrite;
        if seen.lock != meta.lock || seen.rewrote != claimed_rewrite {
            mismatches.push(format!(
                "{} {}: claims {} / rewrite={claimed_rewrite}, PostgreSQL took {} / rewrite={} for `{}`",
                meta.id,
                meta.name,
                meta.lock.name(),
                seen.lock.name(),
                seen.rewrote,
                probe.sql
            ));
        }
    }
    assert!(checked >= 40, "only {checked} rules have a probe");
    assert!(mismatches.is_empty(), "{} of {checked} rules disagree with PostgreSQL:\n{}", mismatches.len(), mismatches.join("\n"));
}
