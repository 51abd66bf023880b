//! The staged recipes added for the wider catalogue, executed on a real PostgreSQL: all up, all down
//! (schema restored exactly), all up again, with rows, data checked.

mod support;

use support::{SETUP, roundtrip, scalar};
use zdm_core::plan::Phase;

const EXTRA: &str = include_str!("../../../tests/fixtures/extra.sql");

fn setup() -> String {
    format!("{SETUP}\n{EXTRA}\nINSERT INTO measurements SELECT g, date '2026-01-01' + g % 300 FROM generate_series(1, 1000) g;")
}

#[test]
fn reindex_runs_concurrently() {
    let (_db, _c, out) = roundtrip_allowing_same_schema("reindex", "REINDEX TABLE users", 15);
    assert!(out.files[0].contents.contains("REINDEX TABLE CONCURRENTLY users;"));
    assert!(!out.plan.steps[0].transaction);
}

#[test]
fn detach_partition_runs_concurrently_and_reattaches_on_rollback() {
    let (_db, mut c, out) = roundtrip("detach", &setup(), "ALTER TABLE measurements DETACH PARTITION measurements_2026", 15);
    assert!(out.files[0].contents.contains("DETACH PARTITION measurements_2026 CONCURRENTLY"));
    assert!(out.files[0].contents.contains("ATTACH PARTITION measurements_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"));
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM measurements"), 0);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM measurements_2026"), 1000);
}

#[test]
fn domain_constraint_is_added_not_valid_then_validated() {
    let change =
        "ALTER TABLE users ADD COLUMN amount plain_int;\nALTER DOMAIN plain_int ADD CONSTRAINT plain_int_positive CHECK (VALUE > 0)";
    let (_db, mut c, out) = roundtrip("domain", &setup(), change, 15);
    assert!(out.files.iter().any(|f| f.contents.contains("ALTER DOMAIN plain_int VALIDATE CONSTRAINT plain_int_positive")));
    assert!(scalar::<bool>(&mut c, "SELECT convalidated FROM pg_constraint WHERE conname = 'plain_int_positive'"));
}

#[test]
fn enum_value_gets_its_own_non_transactional_file_before_12() {
    let (_db, mut c, out) = roundtrip_allowing_same_schema("enum_add", "ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok'", 11);
    assert!(!out.plan.steps[0].transaction);
    assert!(out.files[0].contents.contains("ADD VALUE IF NOT EXISTS 'meh' AFTER 'ok'"));
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM pg_enum WHERE enumlabel = 'meh'"), 1);
}

#[test]
fn validate_after_not_valid_runs_in_its_own_transaction() {
    let change = "ALTER TABLE users ADD CONSTRAINT score_ok CHECK (score >= 0) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT score_ok";
    let (_db, mut c, out) = roundtrip("k07", &setup(), change, 15);
    assert_eq!(out.files.len(), 2, "ADD and VALIDATE must not share a transaction");
    assert!(scalar::<bool>(&mut c, "SELECT convalidated FROM pg_constraint WHERE conname = 'score_ok'"));
}

#[test]
fn shrinking_a_varchar_is_staged_like_a_type_change() {
    let setup = format!("{}\nALTER TABLE users ALTER COLUMN email TYPE varchar(200);", setup());
    let (_db, mut c, out) = roundtrip("shrink", &setup, "ALTER TABLE users ALTER COLUMN email TYPE varchar(60)", 15);
    assert!(out.plan.steps.iter().any(|s| s.phase == Phase::Backfill));
    assert_eq!(
        scalar::<String>(
            &mut c,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email_varchar_60'"
        ),
        "character varying(60)"
    );
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE email_varchar_60 = 'User' || id || '@Example.com'"), 12000);
}

#[test]
fn enum_type_change_maps_labels_with_using() {
    let setup = format!("{}\nUPDATE users SET feeling = CASE WHEN id % 2 = 0 THEN 'sad'::mood ELSE 'happy'::mood END;", setup());
    let change = "ALTER TABLE users ALTER COLUMN feeling TYPE mood2 USING feeling::text::mood2";
    let (_db, mut c, out) = roundtrip("enum_change", &setup, change, 15);
    assert!(out.analysis.ops[0].findings.iter().any(|f| f.rule == "E04"));
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE feeling_mood2 = 'sad'::mood2"), 6000);
}

#[test]
fn as_written_changes_roll_back_exactly() {
    for (name, change) in [
        ("set_unlogged", "ALTER TABLE audit_log SET UNLOGGED"),
        (
            "trigger",
            "CREATE FUNCTION audit_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\nCREATE TRIGGER audit_t BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_noop()",
        ),
        ("set_default", "ALTER TABLE users ALTER COLUMN score SET DEFAULT 7"),
        ("drop_not_null", "ALTER TABLE users ALTER COLUMN name DROP NOT NULL"),
        ("drop_constraint", "ALTER TABLE users DROP CONSTRAINT users_code_check"),
        ("rls", "ALTER TABLE users ENABLE ROW LEVEL SECURITY"),
        ("attach", "ALTER TABLE measurements ATTACH PARTITION measurements_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')"),
    ] {
        let (_db, _c, out) = roundtrip(name, &setup(), change, 15);
        assert_eq!(out.files.len(), 1, "{name}");
    }
}

/// `roundtrip` for plans whose forward pass leaves the schema fingerprint as it was (rebuilds, enum labels).
fn roundtrip_allowing_same_schema(
    name: &str,
    change: &str,
    pg: u32,
) -> (zdm_pg::testing::TestDb, zdm_pg::Client, zdm_core::pipeline::Outcome) {
    use zdm_pg::runner::Direction;
    let db = zdm_pg::testing::TestDb::new(name);
    let mut c = db.connect();
    let setup = setup();
    c.batch_execute(&setup).unwrap();
    let out = support::plan(&setup, change, pg);
    for direction in [Direction::Up, Direction::Down, Direction::Up] {
        support::apply_all(&mut c, &out, direction);
    }
    (db, c, out)
}

#[test]
fn backfills_walk_composite_primary_keys() {
    let setup = format!(
        "{}\nCREATE TABLE memberships (org_id bigint, user_id bigint, role text, PRIMARY KEY (org_id, user_id));\n\
         INSERT INTO memberships SELECT g % 37, g, 'member' FROM generate_series(1, 12000) g;",
        setup()
    );
    let db = zdm_pg::testing::TestDb::new("composite");
    let mut c = db.connect();
    c.batch_execute(&setup).unwrap();
    let out = support::plan(&setup, "UPDATE memberships SET role = upper(role)", 15);
    assert!(out.files[0].contents.contains("(org_id, user_id) >= (zdm_lo1, zdm_lo2)"));
    support::apply_all(&mut c, &out, zdm_pg::runner::Direction::Up);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM memberships WHERE role = 'MEMBER'"), 12000);
}

#[test]
fn rename_table_keeps_a_writable_view_for_running_code() {
    use zdm_pg::runner::{self, Direction};
    let (db, mut c, out) = roundtrip("rename_table", &setup(), "ALTER TABLE audit_log RENAME TO audit_events", 15);
    assert_eq!(out.plan.deploys, 1);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM audit_events"), 100);
    // Between expand and contract, old code keeps writing through the old name.
    let live = zdm_pg::testing::TestDb::new("rename_table_live");
    let mut fresh = live.connect();
    fresh.batch_execute(&setup()).unwrap();
    runner::apply(&mut fresh, &out.files[0].contents, Direction::Up).unwrap();
    fresh.batch_execute("INSERT INTO audit_log (msg) VALUES ('old code'); UPDATE audit_log SET msg = 'old update' WHERE id = 1;").unwrap();
    runner::apply(&mut fresh, &out.files[1].contents, Direction::Up).unwrap();
    assert_eq!(scalar::<i64>(&mut fresh, "SELECT count(*) FROM audit_events WHERE msg IN ('old code', 'old update')"), 2);
    assert_eq!(scalar::<i64>(&mut fresh, "SELECT count(*) FROM pg_class WHERE relname = 'audit_log'"), 0);
    drop(db);
}

#[test]
fn serial_and_identity_columns_are_staged_with_a_sequence() {
    let (_db, mut c, out) = roundtrip("serial", &setup(), "ALTER TABLE users ADD COLUMN seq bigserial", 15);
    assert!(out.plan.steps.iter().any(|s| s.phase == Phase::Backfill));
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(DISTINCT seq) FROM users"), 12000);
    assert_eq!(scalar::<String>(&mut c, "SELECT pg_get_serial_sequence('users', 'seq')"), "public.users_seq_seq");
    c.batch_execute("INSERT INTO users (name) VALUES ('after')").unwrap();
    assert!(scalar::<bool>(&mut c, "SELECT seq > 12000 FROM users WHERE name = 'after'"));

    let (_db, mut c, _) = roundtrip("identity", &setup(), "ALTER TABLE users ADD COLUMN ident bigint GENERATED ALWAYS AS IDENTITY", 15);
    assert_eq!(
        scalar::<String>(&mut c, "SELECT attidentity::text FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'ident'"),
        "a"
    );
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(DISTINCT ident) FROM users"), 12000);
    c.batch_execute("INSERT INTO users (name) VALUES ('after')").unwrap();
    assert!(scalar::<bool>(&mut c, "SELECT ident > (SELECT max(ident) FROM users WHERE name <> 'after') FROM users WHERE name = 'after'"));
}
