//! Every catalogue case of the planning core, executed on a real PostgreSQL: all steps up, all down in
//! reverse, all up again, with rows in the tables, and the data checked at the end.

mod support;

use support::{SETUP, roundtrip, scalar};
use zdm_core::model::Risk;
use zdm_core::plan::{Phase, PlanType};

#[test]
fn add_nullable_column_is_one_safe_file() {
    let (_db, mut c, out) = roundtrip("add_nullable", SETUP, "ALTER TABLE users ADD COLUMN nickname text", 15);
    assert_eq!(out.plan.kind, PlanType::Safe);
    assert_eq!(out.files.len(), 1);
    assert_eq!(out.analysis.ops[0].risk, Risk::Safe);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE nickname IS NULL"), 12000);
}

#[test]
fn add_not_null_column_with_constant_default_is_safe_on_15() {
    let (_db, mut c, out) = roundtrip("add_default", SETUP, "ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true", 15);
    assert_eq!(out.plan.kind, PlanType::Safe);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE active"), 12000);
}

#[test]
fn add_not_null_column_with_default_before_11_is_staged() {
    let (_db, mut c, out) = roundtrip("add_default_pg10", SETUP, "ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true", 11);
    assert_eq!(out.plan.kind, PlanType::Safe, "11 stores the default without a rewrite");
    drop(c);
    let out10 = support::plan(SETUP, "ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true", 10);
    assert!(out10.plan.steps.iter().any(|s| s.phase == Phase::Backfill), "PostgreSQL 10 rewrites: staged");
    c = _db.connect();
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE active"), 12000);
}

#[test]
fn add_column_with_volatile_default_is_staged_and_filled() {
    let change = "ALTER TABLE users ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid()";
    let (_db, mut c, out) = roundtrip("add_volatile", SETUP, change, 15);
    assert_eq!(out.analysis.ops[0].findings[0].rule, "C01");
    assert!(out.plan.steps.iter().any(|s| s.phase == Phase::Backfill));
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(DISTINCT token) FROM users"), 12000);
    assert!(scalar::<bool>(&mut c, "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'token'"));
    c.batch_execute("INSERT INTO users (name) VALUES ('new')").unwrap();
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE token IS NULL"), 0);
}

#[test]
fn add_not_null_column_without_default_takes_its_value_from_the_update() {
    let change = "ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;\nUPDATE users SET tenant_id = id % 7 + 1;";
    let (_db, mut c, out) = roundtrip("add_required", SETUP, change, 15);
    assert_eq!(out.analysis.ops[0].findings[0].rule, "C03");
    assert_eq!(out.plan.deploys, 1, "writers deploy before the backfill");
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE tenant_id = id % 7 + 1"), 12000);
    assert!(scalar::<bool>(&mut c, "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'tenant_id'"));
}

#[test]
fn create_index_runs_concurrently() {
    let (_db, mut c, out) = roundtrip("add_index", SETUP, "CREATE INDEX ON users (email)", 15);
    assert_eq!(out.files.len(), 1);
    assert!(!out.plan.steps[0].transaction);
    assert!(out.files[0].contents.contains("CREATE INDEX CONCURRENTLY users_email_idx ON users"));
    assert!(scalar::<bool>(&mut c, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_idx'::regclass"));
}

#[test]
fn drop_index_runs_concurrently_and_rolls_back_to_the_same_index() {
    let (_db, mut c, out) = roundtrip("drop_index", SETUP, "DROP INDEX users_score_idx", 15);
    assert!(out.files[0].contents.contains("DROP INDEX CONCURRENTLY users_score_idx"));
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM pg_class WHERE relname = 'users_score_idx'"), 0);
}

#[test]
fn drop_column_waits_for_a_code_deploy() {
    let (_db, mut c, out) = roundtrip("drop_column", SETUP, "ALTER TABLE users DROP COLUMN email", 15);
    assert_eq!(out.plan.kind, PlanType::ExpandContract);
    assert_eq!(out.plan.steps[0].phase, Phase::Code);
    assert!(out.plan.steps[1].rollback_data_loss);
    assert_eq!(
        scalar::<i64>(&mut c, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email'"),
        0
    );
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users"), 12000);
}

#[test]
fn drop_table_waits_for_a_code_deploy_and_rollback_recreates_it() {
    let (_db, mut c, out) = roundtrip("drop_table", SETUP, "DROP TABLE audit_log", 15);
    assert_eq!(out.plan.steps.len(), 2);
    assert!(out.plan.steps[1].rollback_data_loss);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM pg_class WHERE relname = 'audit_log'"), 0);
}

#[test]
fn rename_column_keeps_the_old_values() {
    let (_db, mut c, out) = roundtrip("rename", SETUP, "ALTER TABLE users RENAME COLUMN name TO full_name", 15);
    assert_eq!(out.plan.kind, PlanType::ExpandContract);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE full_name = 'user ' || id"), 12000);
    assert!(scalar::<bool>(&mut c, "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'full_name'"));
}

#[test]
fn change_column_type_moves_to_a_new_column_with_cast_values_index_default_and_not_null() {
    let (_db, mut c, out) = roundtrip("change_type", SETUP, "ALTER TABLE users ALTER COLUMN score TYPE bigint", 15);
    assert_eq!(out.analysis.ops[0].findings[0].rule, "C10");
    assert_eq!(
        scalar::<String>(
            &mut c,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'score_bigint'"
        ),
        "bigint"
    );
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE score_bigint = id % 100"), 12000);
    assert!(scalar::<bool>(&mut c, "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'score_bigint'"));
    assert_eq!(
        scalar::<String>(&mut c, "SELECT indexdef FROM pg_indexes WHERE indexname = 'users_score_bigint_idx'"),
        "CREATE INDEX users_score_bigint_idx ON public.users USING btree (score_bigint)"
    );
    c.batch_execute("INSERT INTO users (name) VALUES ('d')").unwrap();
    assert_eq!(scalar::<i64>(&mut c, "SELECT score_bigint FROM users WHERE name = 'd'"), 0);
}

#[test]
fn change_column_type_with_using_casts_every_row() {
    let (_db, mut c, _) = roundtrip("change_type_using", SETUP, "ALTER TABLE users ALTER COLUMN code TYPE integer USING code::integer", 15);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE code_int = id * 7"), 12000);
}

#[test]
fn binary_coercible_type_change_is_one_safe_file() {
    let setup =
        format!("{SETUP}\nCREATE TABLE tags (id bigserial PRIMARY KEY, label varchar(20));\nINSERT INTO tags (label) VALUES ('a'), ('b');");
    let (_db, mut c, out) = roundtrip("coercible", &setup, "ALTER TABLE tags ALTER COLUMN label TYPE varchar(80)", 15);
    assert_eq!(out.plan.kind, PlanType::Safe);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM tags"), 2);
}

#[test]
fn set_not_null_goes_through_a_validated_check() {
    let setup = format!("{SETUP}\nUPDATE users SET email = 'x' WHERE email IS NULL;");
    let (_db, mut c, out) = roundtrip("set_not_null", &setup, "ALTER TABLE users ALTER COLUMN email SET NOT NULL", 15);
    assert_eq!(out.plan.steps.len(), 3);
    assert!(out.files[1].contents.contains("VALIDATE CONSTRAINT users_email_not_null"));
    assert!(scalar::<bool>(&mut c, "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'"));
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM pg_constraint WHERE conname = 'users_email_not_null'"), 0);
}

#[test]
fn set_not_null_on_11_keeps_the_validated_check() {
    let (_db, mut c, out) = roundtrip("set_not_null_11", SETUP, "ALTER TABLE users ALTER COLUMN email SET NOT NULL", 11);
    assert_eq!(out.plan.steps.len(), 2);
    assert!(scalar::<bool>(&mut c, "SELECT convalidated FROM pg_constraint WHERE conname = 'users_email_not_null'"));
}

#[test]
fn foreign_key_is_added_not_valid_then_validated() {
    let change = "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)";
    let (_db, mut c, out) = roundtrip("fk", SETUP, change, 15);
    assert_eq!(out.plan.steps.len(), 2);
    assert!(out.files[0].contents.contains("NOT VALID"));
    assert!(scalar::<bool>(&mut c, "SELECT convalidated FROM pg_constraint WHERE conname = 'orders_user_fk'"));
}

#[test]
fn check_constraint_is_added_not_valid_then_validated() {
    let (_db, mut c, _) = roundtrip("check", SETUP, "ALTER TABLE users ADD CHECK (score >= 0)", 15);
    assert!(scalar::<bool>(&mut c, "SELECT convalidated FROM pg_constraint WHERE conname = 'users_score_check'"));
}

#[test]
fn unique_constraint_uses_a_concurrent_index() {
    let (_db, mut c, out) = roundtrip("unique", SETUP, "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)", 15);
    assert!(out.files[0].contents.contains("CREATE UNIQUE INDEX CONCURRENTLY users_email_key"));
    assert_eq!(scalar::<String>(&mut c, "SELECT contype::text FROM pg_constraint WHERE conname = 'users_email_key'"), "u");
}

#[test]
fn primary_key_sets_not_null_then_attaches_a_concurrent_index() {
    let (_db, mut c, out) = roundtrip("pk", SETUP, "ALTER TABLE events ADD PRIMARY KEY (id)", 15);
    assert!(out.files.iter().any(|f| f.contents.contains("PRIMARY KEY USING INDEX events_pkey")));
    assert_eq!(scalar::<String>(&mut c, "SELECT contype::text FROM pg_constraint WHERE conname = 'events_pkey'"), "p");
}

#[test]
fn large_update_runs_in_batches() {
    let change = "UPDATE users SET email = lower(email) WHERE email IS NOT NULL";
    let db = zdm_pg::testing::TestDb::new("update");
    let mut c = db.connect();
    c.batch_execute(SETUP).unwrap();
    let out = support::plan(SETUP, change, 15);
    assert_eq!(out.plan.kind, PlanType::Backfill);
    assert!(out.files[0].contents.contains("COMMIT;"));
    support::apply_all(&mut c, &out, zdm_pg::runner::Direction::Up);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE email = lower(email)"), 12000);
    support::apply_all(&mut c, &out, zdm_pg::runner::Direction::Down);
    support::apply_all(&mut c, &out, zdm_pg::runner::Direction::Up);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE email LIKE 'user%@example.com'"), 12000);
}

#[test]
fn several_safe_statements_share_one_file() {
    let change = "CREATE TABLE teams (id bigserial PRIMARY KEY, name text NOT NULL);\nCREATE INDEX ON teams (name);\nALTER TABLE users ADD COLUMN team_id bigint;";
    let (_db, mut c, out) = roundtrip("multi_safe", SETUP, change, 15);
    assert_eq!(out.files.len(), 1);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM pg_indexes WHERE indexname = 'teams_name_idx'"), 1);
}

#[test]
fn without_a_schema_the_plan_still_runs() {
    // No migration history: types are copied at run time and the backfill walks heap pages.
    let db = zdm_pg::testing::TestDb::new("no_schema");
    let mut c = db.connect();
    c.batch_execute(SETUP).unwrap();
    let out = support::plan("", "ALTER TABLE users RENAME COLUMN email TO contact", 15);
    assert!(out.plan.notes.iter().any(|n| n.contains("no schema found")));
    let before = support::fingerprint(&mut c);
    support::apply_all(&mut c, &out, zdm_pg::runner::Direction::Up);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE contact = 'User' || id || '@Example.com'"), 12000);
    support::apply_all(&mut c, &out, zdm_pg::runner::Direction::Down);
    assert_eq!(support::fingerprint(&mut c), before);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE email = 'User' || id || '@Example.com'"), 12000);
}
