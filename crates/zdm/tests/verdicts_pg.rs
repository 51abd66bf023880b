//! Plans for the statements zdm models beyond its staged recipes (seed data, RENAME CONSTRAINT, CREATE
//! TABLE AS, LOCK TABLE, plain reads, statements the change rolls back), run on a real PostgreSQL: all up,
//! all down (schema restored exactly), all up again.

mod support;

use support::{SETUP, roundtrip, scalar};

#[test]
fn seed_rows_into_a_new_table_run_up_down_up() {
    let (_db, mut c, out) = roundtrip(
        "v_seed",
        SETUP,
        "CREATE TABLE plans (id bigint PRIMARY KEY, name text NOT NULL);\nINSERT INTO plans VALUES (1, 'free'), (2, 'pro')",
        15,
    );
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM plans"), 2);
    assert_eq!(out.plan.risk, zdm_core::model::Risk::Safe);
}

#[test]
fn rename_constraint_runs_up_down_up() {
    let (_db, mut c, _) = roundtrip("v_rename_con", SETUP, "ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_pk", 15);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM pg_constraint WHERE conname = 'users_pk'"), 1);
}

#[test]
fn create_table_as_runs_up_down_up() {
    let (_db, mut c, _) = roundtrip("v_ctas", SETUP, "CREATE TABLE user_names AS SELECT id, name FROM users", 15);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM user_names"), 12000);
}

#[test]
fn lock_table_and_plain_reads_run_up_down_up() {
    roundtrip(
        "v_lock",
        SETUP,
        "ALTER TABLE users ADD COLUMN nickname text;\nLOCK TABLE users IN SHARE MODE;\nSELECT count(*) FROM users",
        15,
    );
}

#[test]
fn statements_rolled_back_in_the_change_never_run() {
    let (_db, mut c, _) = roundtrip(
        "v_rolled_back",
        SETUP,
        "BEGIN;\nALTER TABLE users ADD COLUMN x int;\nROLLBACK;\nBEGIN;\nALTER TABLE users ADD COLUMN y int;\nSAVEPOINT s;\nDROP TABLE audit_log;\nROLLBACK TO SAVEPOINT s;\nCOMMIT;",
        15,
    );
    let columns = |c: &mut zdm_pg::Client, name: &str| {
        scalar::<i64>(c, &format!("SELECT count(*) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = '{name}'"))
    };
    assert_eq!(columns(&mut c, "x"), 0);
    assert_eq!(columns(&mut c, "y"), 1);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM audit_log"), 100);
}

#[test]
fn a_collation_change_on_an_indexed_column_runs_up_down_up() {
    let setup = format!("{SETUP}\nCREATE INDEX users_email_idx ON users (email);");
    let db = zdm_pg::testing::TestDb::new("v_collate");
    let mut c = db.connect();
    c.batch_execute(&setup).expect("setup");
    let out = support::plan(&setup, "ALTER TABLE users ALTER COLUMN email TYPE text COLLATE \"C\"", 15);
    assert!(out.plan.steps.len() > 1, "staged, not one ALTER under ACCESS EXCLUSIVE");
    // The plan moves the app to a new column (a same-name swap would break prepared statements).
    let collation = |c: &mut zdm_pg::Client| {
        scalar::<String>(
            c,
            "SELECT string_agg(attname || ':' || l.collname, ',' ORDER BY attname) FROM pg_attribute a JOIN pg_collation l ON l.oid = a.attcollation
              WHERE attrelid = 'users'::regclass AND attname LIKE 'email%' AND NOT attisdropped",
        )
    };
    let before = support::fingerprint(&mut c);
    support::apply_all(&mut c, &out, zdm_pg::runner::Direction::Up);
    let after = collation(&mut c);
    assert!(after.ends_with(":C") && !after.contains(','), "{after}");
    let column = after.trim_end_matches(":C").to_string();
    assert_eq!(scalar::<i64>(&mut c, &format!("SELECT count(*) FROM users WHERE {column} IS NOT NULL")), 12000);
    support::apply_all(&mut c, &out, zdm_pg::runner::Direction::Down);
    assert_eq!(collation(&mut c), "email:default");
    assert_eq!(support::fingerprint(&mut c), before);
    support::apply_all(&mut c, &out, zdm_pg::runner::Direction::Up);
    assert_eq!(collation(&mut c), after);
}
