//! Plans whose meaning must equal the statement's, executed on a real PostgreSQL with rows: batched
//! UPDATEs interrupted and rerun, rollbacks that run, partitioned indexes, names resolved through
//! `search_path`.

mod support;

use support::{SETUP, apply_all, scalar};
use zdm_core::model::{PgVersion, ProjectFiles};
use zdm_core::pipeline::{self, Outcome};
use zdm_core::plan::{PlanConfig, PlanType};
use zdm_pg::runner::{self, Direction};
use zdm_pg::testing::TestDb;

const EXTRA: &str = include_str!("../../../tests/fixtures/extra.sql");

fn setup() -> String {
    format!("{SETUP}\n{EXTRA}\nINSERT INTO measurements SELECT g, date '2026-01-01' + g % 300 FROM generate_series(1, 1000) g;")
}

/// Plans with a short lock timeout, so a held row lock stops a batch quickly.
fn plan(files: &ProjectFiles, change: &str) -> Outcome {
    let config = PlanConfig { pg: PgVersion(15), lock_timeout: "300ms".into(), ..PlanConfig::default() };
    pipeline::run(pipeline::Input::new(change, files, config, "20261125140000")).unwrap_or_else(|e| panic!("plan failed: {e}"))
}

/// Runs every file up, down, up (the data change has no automatic inverse: down leaves the values).
fn up_down_up(c: &mut zdm_pg::Client, out: &Outcome) {
    for d in [Direction::Up, Direction::Down, Direction::Up] {
        apply_all(c, out, d);
    }
}

#[test]
fn a_batched_self_referencing_update_interrupted_by_a_lock_timeout_resumes_on_rerun() {
    let db = TestDb::new("update_resume");
    let mut c = db.connect();
    c.batch_execute(SETUP).unwrap();
    let out = plan(&support::project(SETUP), "UPDATE users SET score = score + 1");
    assert_eq!(out.plan.kind, PlanType::Backfill);
    let file = &out.files[0].contents;
    // Another session holds a row of the second batch: the step stops there with a lock timeout.
    let mut other = db.connect();
    let mut held = other.transaction().unwrap();
    held.batch_execute("SELECT 1 FROM users WHERE id = 7000 FOR UPDATE").unwrap();
    let err = runner::apply(&mut c, file, Direction::Up).expect_err("the held row stops batch 2");
    assert!(err.to_string().contains("lock timeout"), "{err}");
    held.rollback().unwrap();
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE score = id % 100 + 1"), 5000, "batch 1 committed");
    // Rerun, as the checklist says: rows of batch 1 are not incremented twice.
    assert!(out.plan.checklist.iter().any(|l| l.contains("rerun: resumes after the last committed one")), "{:?}", out.plan.checklist);
    runner::apply(&mut c, file, Direction::Up).unwrap();
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE score = id % 100 + 1"), 12000);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM pg_class WHERE relname = 'zdm_backfill_progress'"), 0);
    // A rollback after a failed run forgets its progress: the next run starts from the first row.
    c.batch_execute("CREATE TABLE zdm_backfill_progress (step text PRIMARY KEY, stop text[], done text[]);").unwrap();
    let step = out.files[0].contents.split("WHERE step = '").nth(1).and_then(|r| r.split('\'').next()).unwrap().to_string();
    c.batch_execute(&format!("INSERT INTO zdm_backfill_progress VALUES ('{step}', ARRAY['12000'], ARRAY['5000'])")).unwrap();
    runner::apply(&mut c, file, Direction::Down).unwrap();
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM pg_class WHERE relname = 'zdm_backfill_progress'"), 0);
    // Down keeps the values (the previous ones are not kept); up again applies the statement once more, to
    // every row (the stale progress row is gone).
    runner::apply(&mut c, file, Direction::Up).unwrap();
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE score = id % 100 + 2"), 12000);
}

#[test]
fn an_update_reading_its_own_table_keeps_the_single_statements_meaning() {
    let db = TestDb::new("update_subquery");
    let mut c = db.connect();
    c.batch_execute(SETUP).unwrap();
    let out = plan(&support::project(SETUP), "UPDATE users SET score = (SELECT max(score) + 1 FROM users)");
    assert_eq!(out.plan.kind, PlanType::AsWritten);
    up_down_up(&mut c, &out);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(DISTINCT score) FROM users"), 1, "one statement gives one value");
    assert_eq!(scalar::<i32>(&mut c, "SELECT min(score) FROM users"), 101);
}

#[test]
fn an_idempotent_batched_update_rerun_after_a_lock_timeout_skips_done_rows() {
    let db = TestDb::new("update_idempotent");
    let mut c = db.connect();
    c.batch_execute(SETUP).unwrap();
    let out = plan(&support::project(SETUP), "UPDATE users SET code = name || '!'");
    let file = &out.files[0].contents;
    assert!(file.contains("IS DISTINCT FROM"));
    let mut other = db.connect();
    let mut held = other.transaction().unwrap();
    held.batch_execute("SELECT 1 FROM users WHERE id = 7000 FOR UPDATE").unwrap();
    runner::apply(&mut c, file, Direction::Up).expect_err("the held row stops batch 2");
    held.rollback().unwrap();
    runner::apply(&mut c, file, Direction::Up).unwrap();
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE code = name || '!'"), 12000);
    let _ = setup();
}

#[test]
fn comment_set_drop_type_and_function_rollbacks_run_and_restore() {
    let setup = format!("{}\nCOMMENT ON TABLE users IS 'people';", setup());
    let files = support::project(&setup);
    for (name, change, check_up, check_down) in [
        (
            "comment",
            "COMMENT ON TABLE users IS 'accounts'",
            "SELECT obj_description('users'::regclass) = 'accounts'",
            "SELECT obj_description('users'::regclass) = 'people'",
        ),
        (
            "comment_col",
            "COMMENT ON COLUMN users.email IS 'contact'",
            "SELECT col_description('users'::regclass, 3) = 'contact'",
            "SELECT col_description('users'::regclass, 3) IS NULL",
        ),
        ("set", "SET work_mem = '7MB'", "SELECT current_setting('work_mem') = '7MB'", "SELECT current_setting('work_mem') <> '7MB'"),
        ("drop_type", "DROP TYPE mood3", "SELECT to_regtype('mood3') IS NULL", "SELECT enum_range(NULL::mood3)::text = '{happy,ok,sad}'"),
        (
            "function",
            "CREATE FUNCTION plus1(a int, OUT b int) LANGUAGE sql AS 'SELECT a + 1'",
            "SELECT to_regprocedure('plus1(int)') IS NOT NULL",
            "SELECT to_regprocedure('plus1(int)') IS NULL",
        ),
        // Gone for good: the down is a no-op that says so, the rollback of the project goes on, the drop reruns.
        ("drop_type_cascade", "DROP TYPE mood3 CASCADE", "SELECT to_regtype('mood3') IS NULL", "SELECT to_regtype('mood3') IS NULL"),
        ("drop_domain", "DROP DOMAIN plain_int", "SELECT to_regtype('plain_int') IS NULL", "SELECT to_regtype('plain_int') IS NULL"),
        ("truncate", "TRUNCATE audit_log", "SELECT count(*) = 0 FROM audit_log", "SELECT count(*) = 0 FROM audit_log"),
    ] {
        let db = TestDb::new(name);
        let mut c = db.connect();
        c.batch_execute(&setup).unwrap();
        let out = plan(&files, change);
        for (direction, check) in [(Direction::Up, check_up), (Direction::Down, check_down), (Direction::Up, check_up)] {
            apply_all(&mut c, &out, direction);
            assert!(scalar::<bool>(&mut c, check), "{name} {direction:?}: {check}\n{}", out.files[0].contents);
        }
    }
}

#[test]
fn without_a_schema_a_dropped_columns_rollback_runs_and_says_the_data_is_gone() {
    let db = TestDb::new("drop_no_schema");
    let mut c = db.connect();
    c.batch_execute(SETUP).unwrap();
    let out = plan(&ProjectFiles::default(), "ALTER TABLE users DROP COLUMN email");
    up_down_up(&mut c, &out);
    assert!(out.plan.steps.iter().any(|s| s.rollback.contains("the column and its data are gone")));
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users"), 12000);
}

#[test]
fn an_index_on_a_partitioned_table_is_built_per_partition_and_attached() {
    let setup = format!(
        "{}\nCREATE TABLE measurements_2028 PARTITION OF measurements FOR VALUES FROM ('2028-01-01') TO ('2029-01-01') PARTITION BY RANGE (at);\n\
         CREATE TABLE measurements_2028a PARTITION OF measurements_2028 FOR VALUES FROM ('2028-01-01') TO ('2028-07-01');\n\
         INSERT INTO measurements SELECT g, date '2028-01-01' + g % 150 FROM generate_series(1, 500) g;",
        setup()
    );
    for change in ["CREATE INDEX ON measurements (id)", "CREATE INDEX CONCURRENTLY measurements_id_idx ON measurements (id)"] {
        let (_db, mut c, out) = support::roundtrip("partitioned_index", &setup, change, 15);
        let all: String = out.files.iter().map(|f| f.contents.as_str()).collect();
        assert!(all.contains("CREATE INDEX measurements_id_idx ON ONLY measurements"), "{all}");
        assert!(all.contains("CREATE INDEX CONCURRENTLY measurements_2026_id_idx ON measurements_2026"), "{all}");
        assert!(all.contains("CREATE INDEX CONCURRENTLY measurements_2028a_id_idx ON measurements_2028a"), "{all}");
        assert!(all.contains("ALTER INDEX measurements_id_idx ATTACH PARTITION measurements_2028_id_idx"), "{all}");
        assert!(out.plan.steps.iter().all(|s| !(s.up.contains("CONCURRENTLY") && s.up.contains("ON measurements ("))));
        assert!(scalar::<bool>(&mut c, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'measurements_id_idx'::regclass"));
        assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'measurements_id_idx'::regclass"), 2);
        assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM measurements"), 1500);
    }
}

#[test]
fn names_after_set_search_path_resolve_in_that_path() {
    let setup = format!(
        "{SETUP}\nCREATE SCHEMA billing;\nCREATE TABLE billing.users (id bigserial PRIMARY KEY, plan text NOT NULL);\n\
         INSERT INTO billing.users (plan) SELECT 'p' || g FROM generate_series(1, 3000) g;"
    );
    let db = TestDb::new("search_path");
    let mut c = db.connect();
    c.batch_execute(&setup).unwrap();
    let public_before = support::fingerprint(&mut c);
    let columns = "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns \
                   WHERE table_schema = 'billing' AND table_name = 'users'";
    for change in [
        "SET search_path = billing;\nALTER TABLE users RENAME COLUMN plan TO plan2",
        "SELECT set_config('search_path', 'billing, public', false);\nALTER TABLE users RENAME COLUMN plan TO plan2",
    ] {
        let out = plan(&support::project(&setup), change);
        let all: String = out.files.iter().map(|f| f.contents.as_str()).collect();
        assert!(all.contains("ALTER TABLE billing.users ADD COLUMN plan2 text"), "{all}");
        for (direction, expect) in [(Direction::Up, "id,plan2"), (Direction::Down, "id,plan"), (Direction::Up, "id,plan2")] {
            apply_all(&mut c, &out, direction);
            // The fingerprint prints names relative to the session's path.
            c.batch_execute("RESET search_path").unwrap();
            assert_eq!(scalar::<String>(&mut c, columns), expect, "{change} {direction:?}");
            assert_eq!(support::fingerprint(&mut c), public_before, "public.users must not change");
        }
        assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM billing.users WHERE plan2 = 'p' || id"), 3000);
        apply_all(&mut c, &out, Direction::Down);
        c.batch_execute("RESET search_path").unwrap();
    }
}

#[test]
fn a_statement_kept_as_written_after_set_local_search_path_runs_in_that_path() {
    let setup = format!("{SETUP}\nCREATE SCHEMA billing;\nCREATE TABLE billing.users (id bigserial PRIMARY KEY, plan text NOT NULL);");
    let db = TestDb::new("search_path_local");
    let mut c = db.connect();
    c.batch_execute(&setup).unwrap();
    let change = "SET LOCAL search_path = billing;\nCOMMENT ON TABLE users IS 'billing users';\nALTER TABLE users ALTER COLUMN plan SET DEFAULT 'free'";
    let out = plan(&support::project(&setup), change);
    for (direction, comment, default) in [(Direction::Up, true, true), (Direction::Down, false, false), (Direction::Up, true, true)] {
        // Each file in a fresh session, as a rerun after a failure would be.
        for f in if direction == Direction::Up { out.files.iter().collect::<Vec<_>>() } else { out.files.iter().rev().collect() } {
            c.batch_execute("RESET search_path").unwrap();
            runner::apply(&mut c, &f.contents, direction).unwrap_or_else(|e| panic!("{e}\n{}", f.contents));
        }
        assert_eq!(scalar::<bool>(&mut c, "SELECT obj_description('billing.users'::regclass) IS NOT NULL"), comment, "{direction:?}");
        assert!(scalar::<bool>(&mut c, "SELECT obj_description('public.users'::regclass) IS NULL"));
        assert_eq!(
            scalar::<bool>(
                &mut c,
                "SELECT column_default IS NOT NULL FROM information_schema.columns WHERE table_schema = 'billing' AND column_name = 'plan'"
            ),
            default
        );
    }
}
