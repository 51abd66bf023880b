//! Text of the user's that could break out of zdm's generated code: a literal holding a dbmate section
//! marker on a line of its own, and literals holding zdm's dollar-quote tags. The files must split where
//! dbmate splits them, run up, down and up on PostgreSQL, and keep the literal's exact value.

mod support;

use support::{SETUP, roundtrip, scalar};
use zdm_pg::runner;

const TRAP: &str = "a\n-- migrate:down\nDROP TABLE users;\n-- migrate:up\nb";

#[test]
fn a_literal_holding_a_section_marker_does_not_split_the_file() {
    let change = format!("ALTER TABLE users ADD COLUMN note text DEFAULT '{}'", TRAP.replace('\'', "''"));
    let (_db, mut c, out) = roundtrip("marker_literal", SETUP, &change, 15);
    for f in &out.files {
        let parsed = runner::parse(&f.contents).unwrap();
        assert!(!parsed.down.sql.contains("ADD COLUMN"), "the down section holds only the rollback:\n{}", f.contents);
        let markers = f.contents.lines().filter(|l| l.starts_with("-- migrate:")).count();
        assert_eq!(markers, 2, "{}", f.contents);
    }
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users"), 12000);
    c.batch_execute("INSERT INTO users (name) VALUES ('trap')").unwrap();
    assert_eq!(scalar::<String>(&mut c, "SELECT note FROM users WHERE name = 'trap'"), TRAP);
}

#[test]
fn literals_holding_zdm_dollar_tags_stay_literals() {
    let value = "$zdm$ $zdm_s$ $zdm_lock$ $$";
    let change = format!("ALTER TABLE users ADD COLUMN tag text DEFAULT '{value}'");
    let (_db, mut c, _) = roundtrip("dollar_literal", SETUP, &change, 15);
    c.batch_execute("INSERT INTO users (name) VALUES ('tagged')").unwrap();
    assert_eq!(scalar::<String>(&mut c, "SELECT tag FROM users WHERE name = 'tagged'"), value);
}

#[test]
fn zdm_dollar_tags_inside_backfills_and_triggers_do_not_close_them() {
    // A batched UPDATE: the literal sits inside the backfill's DO block.
    let db = zdm_pg::testing::TestDb::new("dollar_backfill");
    let mut c = db.connect();
    c.batch_execute(SETUP).unwrap();
    let out = support::plan(SETUP, "UPDATE users SET code = '$zdm$ x' WHERE id > 0", 15);
    support::apply_all(&mut c, &out, zdm_pg::runner::Direction::Up);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE code = '$zdm$ x'"), 12000);
    // A type change: the USING expression sits inside the sync trigger's function body. (Its rollback
    // casts back without undoing USING, and says so, so the values are checked after the first up.)
    let db = zdm_pg::testing::TestDb::new("dollar_trigger");
    let mut c = db.connect();
    c.batch_execute(SETUP).unwrap();
    let out = support::plan(SETUP, "ALTER TABLE users ALTER COLUMN score TYPE bigint USING score + length('$zdm$')", 15);
    assert!(out.files.iter().any(|f| f.contents.contains("$zdm_1$")), "a free tag was chosen");
    let contract = out.plan.steps.iter().find(|s| s.phase == zdm_core::plan::Phase::Contract).unwrap();
    assert!(contract.rollback_data_loss && contract.rollback.contains("USING expression is not undone"), "{}", contract.rollback);
    support::apply_all(&mut c, &out, zdm_pg::runner::Direction::Up);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE score_bigint = id % 100 + 5"), 12000);
    support::apply_all(&mut c, &out, zdm_pg::runner::Direction::Down);
    support::apply_all(&mut c, &out, zdm_pg::runner::Direction::Up);
}
