//! Plans whose meaning must equal the statement's: batched UPDATEs, rollbacks that run, partitioned
//! indexes, names resolved through `search_path`. Receipt + files as insta snapshots, plus the facts
//! each case is about as assertions. (The same files run on PostgreSQL in `zdm`'s `semantics_pg.rs`.)

use zdm_core::model::{PgVersion, ProjectFile, ProjectFiles};
use zdm_core::pipeline::{self, Outcome};
use zdm_core::plan::{PlanConfig, PlanType};
use zdm_core::report::{self, RunInfo, Style};

const SETUP: &str = include_str!("../../../tests/fixtures/setup.sql");
const EXTRA: &str = include_str!("../../../tests/fixtures/extra.sql");

fn plan(setup: &str, change: &str) -> Outcome {
    let mut files = ProjectFiles::default();
    if !setup.is_empty() {
        files.files.push(ProjectFile {
            path: "db/migrations/20260101000000_init.sql".into(),
            contents: format!("-- migrate:up\n{setup}\n-- migrate:down\nSELECT 1;\n"),
        });
    }
    let config = PlanConfig { pg: PgVersion(15), ..PlanConfig::default() };
    pipeline::run(pipeline::Input::new(change, &files, config, "20261125140000")).unwrap_or_else(|e| panic!("{e}"))
}

fn rendered(out: &Outcome) -> String {
    let style = Style::default();
    let mut text = report::receipt(out, &style, &RunInfo::default());
    for line in text.lines() {
        assert!(line.chars().count() <= 100, "line over 100 columns: {line}");
    }
    for f in &out.files {
        text.push_str(&format!("\n===== {} =====\n{}", f.path, f.contents));
    }
    text
}

fn setup() -> String {
    format!("{SETUP}\n{EXTRA}")
}

#[test]
fn self_referencing_update_resumes_instead_of_repeating() {
    let out = plan(SETUP, "UPDATE users SET score = score + 1");
    assert_eq!(out.plan.kind, PlanType::Backfill);
    let up = &out.plan.steps[0].up;
    assert!(up.contains("zdm_backfill_progress"), "{up}");
    assert!(!up.contains("IS DISTINCT FROM"), "a self-reference is never 'already done': {up}");
    assert!(out.plan.checklist.iter().all(|l| !l.starts_with("On `lock timeout` (2s): nothing changed")), "{:?}", out.plan.checklist);
    assert!(out.plan.checklist.iter().any(|l| l.contains("resumes after the last committed one")), "{:?}", out.plan.checklist);
    insta::assert_snapshot!("update_self_reference", rendered(&out));
}

#[test]
fn an_idempotent_update_skips_rows_already_done() {
    let out = plan(SETUP, "UPDATE users SET code = upper(name) WHERE code IS NOT NULL");
    assert!(out.plan.steps[0].up.contains("IS DISTINCT FROM"));
    assert!(out.plan.checklist.iter().any(|l| l.contains("rows already updated are skipped")), "{:?}", out.plan.checklist);
}

#[test]
fn updates_whose_batches_would_mean_something_else_run_as_written() {
    for (change, why) in [
        ("UPDATE users SET score = (SELECT max(score) + 1 FROM users)", "a subquery reads users itself"),
        ("UPDATE users SET code = random()::text", "random()"),
        ("UPDATE users SET code = my_func(code)", "my_func()"),
        ("UPDATE users SET id = id + 100000", "key column id"),
        ("UPDATE events SET kind = kind || 'x'", "no primary key known"),
        ("UPDATE users SET score = 1 WHERE id IN (SELECT id FROM users WHERE score > 5)", "a subquery reads users itself"),
    ] {
        let out = plan(SETUP, change);
        assert_eq!(out.plan.kind, PlanType::AsWritten, "{change}");
        assert_eq!(out.plan.steps.len(), 1, "{change}");
        let step = &out.plan.steps[0];
        assert!(step.transaction && !step.up.contains("COMMIT"), "{change}: {}", step.up);
        assert!(step.up.contains("statement_timeout = 0"), "{change}: {}", step.up);
        assert!(
            step.rollback.starts_with("cannot be undone: the previous values are not kept") && step.rollback_data_loss,
            "{change}: {}",
            step.rollback
        );
        assert!(out.plan.findings.iter().any(|f| f.rule == "H10" && f.message.contains(why)), "{change}: {:?}", out.plan.findings);
        assert!(out.plan.verdict.contains("kept as one statement"), "{change}: {}", out.plan.verdict);
    }
    // A subquery over another table does not change between batches of this one.
    let out = plan(SETUP, "UPDATE users SET code = (SELECT max(total)::text FROM orders WHERE orders.user_id = users.id)");
    assert_eq!(out.plan.kind, PlanType::Backfill);
    let _ = setup();
}

#[test]
fn no_rollback_raises() {
    let setup = format!("{}\nCOMMENT ON TABLE users IS 'people';", setup());
    for change in [
        "COMMENT ON TABLE users IS 'accounts'",
        "COMMENT ON COLUMN users.email IS 'where we write'",
        "SET search_path = public",
        "RESET search_path",
        "DROP TYPE mood3",
        "DROP TYPE mood3 CASCADE",
        "DROP DOMAIN plain_int",
        "TRUNCATE audit_log",
        "DELETE FROM audit_log",
        "ALTER TABLE users CLUSTER ON users_pkey",
        "CREATE FUNCTION f(a int, OUT b int) LANGUAGE sql AS 'SELECT a'",
        "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    ] {
        for out in [plan(&setup, change), plan("", change)] {
            for f in &out.files {
                assert!(!f.contents.contains("RAISE EXCEPTION"), "{change}: {}", f.contents);
            }
            for s in out.plan.steps.iter().filter(|s| s.down.contains("cannot be undone")) {
                assert!(s.rollback.starts_with("cannot be undone: "), "{change}: {}", s.rollback);
            }
        }
    }
}

#[test]
fn rollbacks_restore_the_previous_comment_setting_and_type() {
    let setup = format!("{}\nCOMMENT ON TABLE users IS 'people';", setup());
    let down = |change: &str| plan(&setup, change).plan.steps[0].down.clone();
    assert!(down("COMMENT ON TABLE users IS 'accounts'").contains("COMMENT ON TABLE users IS 'people'"));
    assert!(down("COMMENT ON COLUMN users.email IS 'x'").contains("COMMENT ON COLUMN users.email IS NULL"));
    let twice = plan(&setup, "COMMENT ON TABLE users IS 'a';\nCOMMENT ON TABLE users IS 'b'");
    assert!(
        twice.plan.steps[0].down.contains("IS 'a'") && twice.plan.steps[0].down.contains("IS 'people'"),
        "{}",
        twice.plan.steps[0].down
    );
    assert!(down("SET search_path = billing, public").contains("RESET search_path"));
    assert!(down("SET statement_timeout = '5s'").contains("RESET statement_timeout"));
    assert!(down("DROP TYPE mood3").contains("CREATE TYPE mood3 AS ENUM ('happy', 'ok', 'sad')"));
    assert!(down("CREATE FUNCTION f(a int, OUT b int) LANGUAGE sql AS 'SELECT a'").contains("DROP FUNCTION f(int)"));
    let label = plan(&setup, "ALTER TYPE mood ADD VALUE 'meh'");
    assert!(
        label.plan.steps[0].rollback.starts_with("cannot be undone: enum labels cannot be removed"),
        "{}",
        label.plan.steps[0].rollback
    );
    let validate = plan(&setup, "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_nv");
    assert_eq!(validate.plan.steps[0].rollback, "nothing to undo");
    let cascade = plan(&setup, "DROP TYPE mood CASCADE");
    assert!(cascade.plan.steps[0].rollback_data_loss);
    assert!(cascade.plan.steps[0].rollback.contains("CASCADE dropped the columns"), "{}", cascade.plan.steps[0].rollback);
}

#[test]
fn without_a_schema_a_dropped_column_says_the_data_is_gone() {
    let out = plan("", "ALTER TABLE users DROP COLUMN email");
    let drop = out.plan.steps.iter().find(|s| s.up.contains("DROP COLUMN")).expect("drop step");
    assert!(drop.rollback_data_loss);
    assert!(drop.rollback.contains("cannot be undone") && drop.rollback.contains("the column and its data are gone"), "{}", drop.rollback);
    assert!(!drop.down.contains("RAISE"));
    insta::assert_snapshot!("drop_column_no_schema", rendered(&out));
}

#[test]
fn a_partitioned_index_is_staged_and_assumptions_are_said() {
    let out = plan(&setup(), "CREATE INDEX ON measurements (id)");
    insta::assert_snapshot!("partitioned_index", rendered(&out));
    let none = plan("", "CREATE INDEX ON measurements (id)");
    assert!(none.plan.notes.iter().any(|n| n.contains("assumed not partitioned")), "{:?}", none.plan.notes);
    let empty = plan(&format!("{SETUP}\nCREATE TABLE m (id int, at date) PARTITION BY RANGE (at);"), "CREATE INDEX ON m (id)");
    assert!(empty.plan.notes.iter().any(|n| n.contains("no partitions known")), "{:?}", empty.plan.notes);
}

#[test]
fn search_path_picks_the_table_in_the_path() {
    let setup = format!("{SETUP}\nCREATE SCHEMA billing;\nCREATE TABLE billing.users (id bigserial PRIMARY KEY, plan text NOT NULL);");
    let out = plan(&setup, "SET search_path = billing;\nALTER TABLE users RENAME COLUMN plan TO plan2");
    assert!(out.files.iter().any(|f| f.contents.contains("ALTER TABLE billing.users ADD COLUMN plan2 text")));
    insta::assert_snapshot!("search_path_rename", rendered(&out));
    // Without the SET, `users` is public.users, which has no column plan.
    let plain = pipeline_error(&setup, "ALTER TABLE users RENAME COLUMN plan TO plan2");
    assert!(plain.contains("column `plan` does not exist on `users`"), "{plain}");
    // A table created after the SET lands in the path's first schema; the history is replayed the same way.
    let history = format!("{setup}\nSET search_path = billing;\nCREATE TABLE invoices (id bigint PRIMARY KEY, total int);");
    let out = plan(&history, "ALTER TABLE billing.invoices ALTER COLUMN total SET NOT NULL");
    assert!(out.files.iter().any(|f| f.contents.contains("ALTER TABLE billing.invoices ADD CONSTRAINT")));
    let out = plan(&setup, "SET search_path = billing, public;\nCREATE TABLE invoices (id bigint);\nCREATE INDEX ON invoices (id)");
    assert!(out.files.iter().any(|f| f.contents.contains("ON billing.invoices")), "{}", out.files[0].contents);
}

fn pipeline_error(setup: &str, change: &str) -> String {
    let mut files = ProjectFiles::default();
    files.files.push(ProjectFile {
        path: "db/migrations/20260101000000_init.sql".into(),
        contents: format!("-- migrate:up\n{setup}\n-- migrate:down\nSELECT 1;\n"),
    });
    let config = PlanConfig { pg: PgVersion(15), ..PlanConfig::default() };
    match pipeline::run(pipeline::Input::new(change, &files, config, "20261125140000")) {
        Ok(_) => String::from("planned"),
        Err(e) => e.to_string(),
    }
}
