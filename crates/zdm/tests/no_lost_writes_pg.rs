//! The no-lost-writes promise: while a rename is in transition (after expand, before contract), old code
//! writing the old column and new code writing the new one run side by side, even during the backfill, and
//! after contract every write is in the new column.

mod support;

use std::thread;
use support::{SETUP, scalar};
use zdm_core::plan::Phase;
use zdm_pg::runner::{self, Direction};
use zdm_pg::testing::TestDb;

#[test]
fn rename_loses_no_write_between_expand_and_contract() {
    let db = TestDb::new("no_lost_writes");
    let mut c = db.connect();
    c.batch_execute(SETUP).unwrap();
    let out = support::plan(SETUP, "ALTER TABLE users RENAME COLUMN name TO full_name", 15);
    let file_of = |n: usize| out.files.iter().find(|f| Some(&f.path) == out.plan.steps[n - 1].file.as_ref()).expect("file step");
    assert_eq!(out.plan.steps[0].phase, Phase::Expand);
    runner::apply(&mut c, &file_of(1).contents, Direction::Up).unwrap();

    // Before the backfill: one write of each kind.
    c.batch_execute(
        "INSERT INTO users (id, name) VALUES (100001, 'old insert');
         INSERT INTO users (id, full_name) VALUES (100002, 'new insert');
         UPDATE users SET name = 'old update' WHERE id = 1;
         UPDATE users SET full_name = 'new update' WHERE id = 2;",
    )
    .unwrap();

    // During the backfill: old and new code keep writing from two other sessions.
    let writers: Vec<_> = [("name", 1000_i64..1600), ("full_name", 1600_i64..2200)]
        .into_iter()
        .map(|(column, ids)| {
            let conninfo = db.conninfo.clone();
            thread::spawn(move || {
                let mut w = zdm_pg::Client::connect(&conninfo, zdm_pg::NoTls).unwrap();
                for id in ids {
                    w.execute(&format!("UPDATE users SET {column} = 'via {column} ' || id WHERE id = $1"), &[&id]).unwrap();
                    w.execute(&format!("INSERT INTO users (id, {column}) VALUES ($1::bigint + 200000, 'ins via {column}')"), &[&id])
                        .unwrap();
                }
            })
        })
        .collect();
    for step in out.plan.steps.iter().filter(|s| s.phase == Phase::Backfill) {
        runner::apply(&mut c, &file_of(step.n).contents, Direction::Up).unwrap();
    }
    for w in writers {
        w.join().unwrap();
    }
    // Remaining steps up to and including contract (the code deploy has no file).
    for step in out.plan.steps.iter().filter(|s| s.file.is_some() && !matches!(s.phase, Phase::Backfill) && s.n > 1) {
        runner::apply(&mut c, &file_of(step.n).contents, Direction::Up).unwrap();
    }

    assert_eq!(
        scalar::<i64>(&mut c, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'"),
        0
    );
    assert_eq!(scalar::<String>(&mut c, "SELECT full_name FROM users WHERE id = 100001"), "old insert");
    assert_eq!(scalar::<String>(&mut c, "SELECT full_name FROM users WHERE id = 100002"), "new insert");
    assert_eq!(scalar::<String>(&mut c, "SELECT full_name FROM users WHERE id = 1"), "old update");
    assert_eq!(scalar::<String>(&mut c, "SELECT full_name FROM users WHERE id = 2"), "new update");
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE id BETWEEN 1000 AND 1599 AND full_name = 'via name ' || id"), 600);
    assert_eq!(
        scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE id BETWEEN 1600 AND 2199 AND full_name = 'via full_name ' || id"),
        600
    );
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE id BETWEEN 201000 AND 201599 AND full_name = 'ins via name'"), 600);
    assert_eq!(
        scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE id BETWEEN 201600 AND 202199 AND full_name = 'ins via full_name'"),
        600
    );
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE id BETWEEN 3 AND 999 AND full_name = 'user ' || id"), 997);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE full_name IS NULL"), 0);
}
