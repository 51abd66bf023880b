//! Existing names: the user's names that are taken are refused with their position; the names zdm picks
//! (defaults it makes explicit, temporary columns, triggers, constraints) are free and never collide, even
//! after PostgreSQL's 63-byte truncation; a rollback never drops what the plan did not create.

use zdm_core::model::{ProjectFile, ProjectFiles};
use zdm_core::pipeline::{self, Outcome};
use zdm_core::plan::PlanConfig;

const SETUP: &str = include_str!("../../../tests/fixtures/setup.sql");

fn run(setup: &str, change: &str) -> Result<Outcome, pipeline::Error> {
    let mut files = ProjectFiles::default();
    files.files.push(ProjectFile {
        path: "db/migrations/20260101000000_init.sql".into(),
        contents: format!("-- migrate:up\n{setup}\n-- migrate:down\nSELECT 1;\n"),
    });
    pipeline::run(pipeline::Input::new(change, &files, PlanConfig::default(), "20261125140000"))
}

fn plan_error(change: &str) -> zdm_core::plan::PlanError {
    match run(SETUP, change) {
        Err(pipeline::Error::Plan(e)) => e,
        Err(e) => panic!("not a plan error: {e}"),
        Ok(_) => panic!("planned: {change}"),
    }
}

fn all_sql(out: &Outcome) -> String {
    out.files.iter().map(|f| f.contents.as_str()).collect::<Vec<_>>().join("\n")
}

#[test]
fn taken_index_name_is_refused_at_its_statement() {
    let e = plan_error("ALTER TABLE users ADD COLUMN a int;\n  CREATE INDEX users_score_idx ON users (email);");
    assert!(e.message.contains("`users_score_idx` is already taken"), "{}", e.message);
    assert_eq!((e.pos.line, e.pos.col), (2, 16), "the caret points at the taken name");
    // A table's name is in the same namespace.
    assert!(plan_error("CREATE INDEX orders ON users (email)").message.contains("already taken"));
}

#[test]
fn second_primary_key_and_taken_constraint_names_are_refused() {
    assert!(plan_error("ALTER TABLE users ADD PRIMARY KEY (email)").message.contains("already has a primary key (users_pkey)"));
    // A CHECK name taken on the table; a UNIQUE name taken by any relation of the schema.
    assert!(plan_error("ALTER TABLE users ADD CONSTRAINT users_pkey CHECK (score > 0)").message.contains("already taken on `users`"));
    assert!(plan_error("ALTER TABLE orders ADD CONSTRAINT users_score_idx UNIQUE (total)").message.contains("or in the schema"));
}

#[test]
fn if_not_exists_on_an_existing_index_never_drops_it_on_rollback() {
    let out = run(SETUP, "CREATE INDEX IF NOT EXISTS users_score_idx ON users (score)").unwrap();
    let sql = all_sql(&out);
    assert!(!sql.lines().any(|l| l.starts_with("DROP") || l.starts_with("CREATE")), "{sql}");
}

#[test]
fn unnamed_index_and_constraint_get_the_name_postgres_would_pick() {
    let out = run(SETUP, "CREATE INDEX ON users (score)").unwrap();
    let sql = all_sql(&out);
    assert!(sql.contains("CREATE INDEX CONCURRENTLY users_score_idx1 ON"), "{sql}");
    assert!(sql.contains("DROP INDEX CONCURRENTLY IF EXISTS users_score_idx1;"), "{sql}");
    assert!(!sql.contains("users_score_idx;"), "{sql}");
    let setup = format!("{SETUP}\nALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id);");
    let out = run(&setup, "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id)").unwrap();
    let sql = all_sql(&out);
    assert!(sql.contains("DROP CONSTRAINT IF EXISTS orders_user_id_fkey1"), "{sql}");
    assert!(!sql.contains("DROP CONSTRAINT IF EXISTS orders_user_id_fkey;"), "{sql}");
}

#[test]
fn zdm_columns_take_a_free_name() {
    let setup = format!("{SETUP}\nALTER TABLE users ADD COLUMN score_bigint bigint;\nALTER TABLE users ADD COLUMN score_zdm_new int;");
    let out = run(&setup, "ALTER TABLE users ALTER COLUMN score TYPE bigint").unwrap();
    assert!(all_sql(&out).contains("ADD COLUMN score_bigint_1 bigint"));
}

#[test]
fn truncated_generated_names_stay_distinct() {
    let table = "t".repeat(55);
    let (a, b) = (format!("{}a", "c".repeat(58)), format!("{}b", "c".repeat(58)));
    let setup = format!("CREATE TABLE {table} (id bigint PRIMARY KEY, {a} int NOT NULL, {b} int NOT NULL);");
    let change = format!("ALTER TABLE {table} RENAME COLUMN {a} TO x1;\nALTER TABLE {table} RENAME COLUMN {b} TO x2;");
    let out = run(&setup, &change).unwrap();
    let names = |prefix: &str| {
        let sql = all_sql(&out);
        let mut found: Vec<String> =
            sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.starts_with(prefix)).map(str::to_string).collect();
        found.sort();
        found.dedup();
        found
    };
    let triggers = names("zdm_sync_");
    assert_eq!(triggers.len(), 2, "{triggers:?}");
    assert!(triggers.iter().all(|t| t.len() <= 63));
    let checks: Vec<String> = names(&table[..20]).into_iter().filter(|n| n.ends_with("_not_null") && n.contains("_ccc")).collect();
    assert_eq!(checks.len(), 2, "{checks:?}");
    assert!(checks.iter().all(|t| t.len() <= 63));
}

#[test]
fn zdm_check_names_avoid_existing_constraints_and_leave_them_on_rollback() {
    // A CHECK an earlier zdm plan kept (PostgreSQL 11) has the name zdm would pick.
    let setup = format!("{SETUP}\nALTER TABLE users ADD CONSTRAINT users_code_not_null CHECK (code IS NOT NULL) NOT VALID;");
    let out = run(&setup, "ALTER TABLE users ALTER COLUMN code SET NOT NULL").unwrap();
    let sql = all_sql(&out);
    assert!(sql.contains("ADD CONSTRAINT users_code_not_null_1 CHECK"), "{sql}");
    assert!(!sql.contains("DROP CONSTRAINT IF EXISTS users_code_not_null;"), "{sql}");
}
