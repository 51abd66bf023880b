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
