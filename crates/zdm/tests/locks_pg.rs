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

/// Statements zdm models without a rule of their own (or beyond their rule's probe): (extra setup, statement,
/// observed relation). The lock zdm's analysis claims for the statement must be the one PostgreSQL takes.
const STATEMENTS: &[(&str, &str, &str)] = &[
    ("", "COMMENT ON TABLE users IS 'people'", "users"),
    ("", "COMMENT ON COLUMN users.email IS 'mail'", "users"),
    ("", "COMMENT ON CONSTRAINT users_pkey ON users IS 'key'", "users"),
    ("", "COMMENT ON INDEX users_score_idx IS 'score'", "users_score_idx"),
    (
        "CREATE FUNCTION probe_f() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'; CREATE TRIGGER probe_tr BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION probe_f()",
        "COMMENT ON TRIGGER probe_tr ON users IS 'x'",
        "users",
    ),
    ("", "GRANT SELECT ON users TO PUBLIC", "users"),
    ("", "REVOKE SELECT ON users FROM PUBLIC", "users"),
    ("", "LOCK TABLE users", "users"),
    ("", "LOCK TABLE users IN EXCLUSIVE MODE", "users"),
    ("", "LOCK TABLE users IN ROW EXCLUSIVE MODE", "users"),
    ("", "LOCK TABLE users IN ACCESS SHARE MODE", "users"),
    ("", "INSERT INTO audit_log (msg) VALUES ('x')", "audit_log"),
    ("", "INSERT INTO audit_log (msg) SELECT name FROM users", "audit_log"),
    ("", "DELETE FROM audit_log WHERE id < 10", "audit_log"),
    ("", "MERGE INTO events e USING users u ON e.id = u.id WHEN MATCHED THEN DELETE", "events"),
    ("", "WITH d AS (DELETE FROM audit_log RETURNING *) SELECT 1", "audit_log"),
    ("", "WITH u AS (UPDATE users SET score = 1 WHERE id < 10 RETURNING id) SELECT count(*) FROM u", "users"),
    ("", "SELECT id FROM users WHERE id < 10 FOR UPDATE", "users"),
    ("", "SELECT pg_advisory_lock(7)", "users"),
    ("", "CREATE TABLE users_copy AS SELECT * FROM users", "users"),
    ("", "SELECT id INTO users_copy FROM users", "users"),
    ("", "ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_pk", "users"),
    ("CREATE VIEW probe_v AS SELECT id FROM users", "DROP VIEW probe_v", "probe_v"),
    ("CREATE VIEW probe_v AS SELECT id FROM users; CREATE VIEW probe_w AS SELECT id FROM probe_v", "DROP VIEW probe_v CASCADE", "probe_w"),
    ("CREATE MATERIALIZED VIEW probe_m AS SELECT id FROM users", "DROP MATERIALIZED VIEW probe_m", "probe_m"),
    ("CREATE TYPE probe_t AS ENUM ('a'); ALTER TABLE users ADD COLUMN probe probe_t", "DROP TYPE probe_t CASCADE", "users"),
    ("CREATE TYPE probe_t AS ENUM ('a')", "DROP TYPE probe_t", "users"),
    ("CREATE FUNCTION probe_f() RETURNS int LANGUAGE sql AS 'SELECT 1'", "DROP FUNCTION probe_f()", "users"),
    (
        "CREATE FUNCTION probe_f() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'; CREATE TRIGGER probe_tr BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION probe_f()",
        "DROP FUNCTION probe_f() CASCADE",
        "users",
    ),
    (
        "CREATE FUNCTION probe_f() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'; CREATE TRIGGER probe_tr BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION probe_f()",
        "DROP TRIGGER probe_tr ON users",
        "users",
    ),
    ("", "TRUNCATE events", "events"),
    ("", "REINDEX (CONCURRENTLY false) TABLE users", "users"),
    ("", "VACUUM (FULL false) events", "events"),
];

#[test]
fn every_modelled_statement_claims_the_lock_postgres_takes() {
    let mut mismatches = Vec::new();
    for (i, (setup, sql, table)) in STATEMENTS.iter().enumerate() {
        let out = support::plan(&format!("{SETUP}\n{setup};"), sql, 15);
        let claimed = out.analysis.ops.iter().map(|c| c.lock).max().unwrap_or(LockLevel::None);
        let db = TestDb::new(&format!("lock_stmt_{i}"));
        let mut c = db.connect();
        c.batch_execute(SETUP).unwrap();
        if !setup.is_empty() {
            c.batch_execute(setup).unwrap_or_else(|e| panic!("{sql} setup: {e}"));
        }
        let seen = observe(&db, sql, table);
        if seen.lock != claimed {
            mismatches.push(format!("`{sql}`: zdm claims {}, PostgreSQL took {} on {table}", claimed.name(), seen.lock.name()));
        }
    }
    assert!(mismatches.is_empty(), "{} statements disagree with PostgreSQL:\n{}", mismatches.len(), mismatches.join("\n"));
}
