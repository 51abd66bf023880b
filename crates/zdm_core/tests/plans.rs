//! Snapshot tests for the planning core: for each catalogue case, the receipt and every generated file.
//! (The same files are executed on PostgreSQL by the `zdm` crate's `*_pg` tests.)

use zdm_core::model::{PgVersion, ProjectFile, ProjectFiles};
use zdm_core::pipeline::{self, Outcome};
use zdm_core::plan::PlanConfig;
use zdm_core::report::{self, RECEIPT_MAX_LINES, RunInfo, Style};

const SETUP: &str = include_str!("../../../tests/fixtures/setup.sql");

fn project(setup: &str) -> ProjectFiles {
    let mut files = ProjectFiles::default();
    if !setup.is_empty() {
        files.files.push(ProjectFile {
            path: "db/migrations/20260101000000_init.sql".into(),
            contents: format!("-- migrate:up\n{setup}\n-- migrate:down\nSELECT 1;\n"),
        });
    }
    files
}

fn plan_with(setup: &str, change: &str, pg: u32) -> Result<Outcome, pipeline::Error> {
    let files = project(setup);
    let config = PlanConfig { pg: PgVersion(pg), ..PlanConfig::default() };
    pipeline::run(pipeline::Input::new(change, &files, config, "20261125140000"))
}

/// The receipt, then every file: what a user sees and what lands in their repo.
fn rendered(out: &Outcome) -> String {
    let style = Style { color: false, ascii: false };
    let mut info = RunInfo::default();
    let receipt = report::receipt(out, &style, &info).unwrap_or_else(|| {
        info.report = Some(".zdm/reports/report.html".into());
        report::receipt(out, &style, &info).expect("the short form always renders")
    });
    assert_receipt_fits(&receipt);
    let mut text = receipt;
    for f in &out.files {
        text.push_str(&format!("\n===== {} =====\n{}", f.path, f.contents));
    }
    text
}

fn assert_receipt_fits(receipt: &str) {
    assert!(receipt.lines().count() <= RECEIPT_MAX_LINES, "receipt has {} lines:\n{receipt}", receipt.lines().count());
    for line in receipt.lines() {
        assert!(line.chars().count() <= 100, "line over 100 columns: {line}");
    }
}

macro_rules! case {
    ($name:ident, $change:expr) => {
        case!($name, SETUP, $change, 15);
    };
    ($name:ident, $setup:expr, $change:expr, $pg:expr) => {
        #[test]
        fn $name() {
            let out = plan_with($setup, $change, $pg).unwrap_or_else(|e| panic!("{e}"));
            insta::assert_snapshot!(stringify!($name), rendered(&out));
        }
    };
}

case!(add_nullable_column, "ALTER TABLE users ADD COLUMN nickname text");
case!(add_column_constant_default, "ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true");
case!(add_column_default_pg11, SETUP, "ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true", 11);
case!(add_column_volatile_default, "ALTER TABLE users ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid()");
case!(add_column_required_with_update, "ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;\nUPDATE users SET tenant_id = id % 7 + 1;");
case!(create_index, "CREATE INDEX ON users (email)");
case!(drop_index, "DROP INDEX users_score_idx");
case!(drop_column, "ALTER TABLE users DROP COLUMN email");
case!(drop_table, "DROP TABLE audit_log");
case!(rename_column, "ALTER TABLE users RENAME COLUMN name TO full_name");
case!(
    rename_primary_key_carries_key_sequence_and_references,
    &format!("{SETUP}\nALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id);"),
    "ALTER TABLE users RENAME COLUMN id TO user_id",
    15
);
case!(rename_column_no_schema, "", "ALTER TABLE users RENAME COLUMN name TO full_name", 15);
case!(change_column_type, "ALTER TABLE users ALTER COLUMN score TYPE bigint");
case!(change_column_type_using, "ALTER TABLE users ALTER COLUMN code TYPE integer USING code::integer");
case!(set_not_null, "ALTER TABLE users ALTER COLUMN email SET NOT NULL");
case!(set_not_null_pg11, SETUP, "ALTER TABLE users ALTER COLUMN email SET NOT NULL", 11);
case!(set_not_null_pg18, SETUP, "ALTER TABLE users ALTER COLUMN email SET NOT NULL", 18);
case!(foreign_key, "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)");
case!(check_constraint, "ALTER TABLE users ADD CHECK (score >= 0)");
case!(unique_constraint, "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)");
case!(primary_key, "ALTER TABLE events ADD PRIMARY KEY (id)");
case!(large_update, "UPDATE users SET email = lower(email) WHERE email IS NOT NULL");
case!(
    several_safe_statements,
    "CREATE TABLE teams (id bigserial PRIMARY KEY, name text NOT NULL);\nCREATE INDEX ON teams (name);\nALTER TABLE users ADD COLUMN team_id bigint;"
);
case!(unknown_statement, "ALTER TABLE users CLUSTER ON users_pkey");
case!(set_logged, "ALTER TABLE users SET LOGGED");
case!(rename_table, "ALTER TABLE audit_log RENAME TO audit_events");
case!(add_serial_column, "ALTER TABLE users ADD COLUMN seq bigserial");
case!(add_identity_column, "ALTER TABLE users ADD COLUMN ident bigint GENERATED ALWAYS AS IDENTITY");

#[test]
fn a_change_too_big_for_40_lines_gets_the_short_form() {
    let change: String = (0..12).map(|i| format!("CREATE INDEX ON users (email, score, id) WHERE score > {i};\n")).collect();
    let out = plan_with(SETUP, &change, 15).unwrap();
    let style = Style::default();
    assert!(report::receipt(&out, &style, &RunInfo::default()).is_none(), "12 concurrent index steps do not fit");
    let info = RunInfo { dry_run: false, report: Some(".zdm/reports/x.html".into()) };
    let short = report::receipt(&out, &style, &info).unwrap();
    assert_receipt_fits(&short);
    assert!(short.contains("Top Findings") && short.contains(".zdm/reports/x.html"));
    insta::assert_snapshot!("short_form", short);
}

#[test]
fn ascii_receipts_are_pure_ascii() {
    let out = plan_with(SETUP, "ALTER TABLE users RENAME COLUMN name TO full_name", 15).unwrap();
    let receipt = report::receipt(&out, &Style { color: false, ascii: true }, &RunInfo::default()).unwrap();
    assert!(receipt.is_ascii(), "{receipt}");
    assert!(receipt.starts_with("+- Migration: rename users.name -> users.full_name"));
    assert!(receipt.contains("! RISKY"));
}

#[test]
fn the_html_report_is_self_contained_and_escaped() {
    let out = plan_with(SETUP, "ALTER TABLE users ADD COLUMN note text DEFAULT '<script>alert(1)</script>'", 15).unwrap();
    let html = report::html_report(&out, &RunInfo::default(), "2026-11-25 14:00:00 UTC");
    assert!(!html.contains("<script>"), "values must be escaped");
    assert!(html.contains("&lt;script&gt;"));
    for external in ["http://", "https://", "<link", "src="] {
        assert!(!html.contains(external), "report must not load {external}");
    }
}

#[test]
fn json_has_the_documented_fields() {
    let out = plan_with(SETUP, "ALTER TABLE users RENAME COLUMN name TO full_name", 15).unwrap();
    let v = report::json_report(&out, &RunInfo::default());
    assert_eq!(v["stack"]["tool"], "dbmate");
    assert_eq!(v["stack"]["engine"], "postgresql");
    assert_eq!(v["operations"][0]["kind"], "rename_column");
    assert_eq!(v["operations"][0]["risk"], "risky");
    assert_eq!(v["operations"][0]["rule"], "C13");
    assert_eq!(v["operations"][0]["lock"], "ACCESS EXCLUSIVE");
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps[0]["phase"], "expand");
    assert_eq!(steps.iter().filter(|s| s["phase"] == "code").count(), 1);
    assert_eq!(steps.last().unwrap()["phase"], "contract");
    assert!(steps.iter().all(|s| s["transaction"].is_boolean() && s["rollback_data_loss"].is_boolean() && s["up"].is_string()));
    assert_eq!(v["files"].as_array().unwrap().len(), steps.len() - 1);
    assert!(v["report"].is_null());
    assert!(!v["findings"].as_array().unwrap().is_empty());
}

#[test]
fn typos_against_a_known_schema_are_errors_with_a_location() {
    let err = plan_with(SETUP, "ALTER TABLE users ADD COLUMN a int;\n  ALTER TABLE users DROP COLUMN emial", 15).err().unwrap();
    let pipeline::Error::Plan(e) = err else { panic!("{err}") };
    assert_eq!(e.message, "column `emial` does not exist on `users`");
    assert_eq!((e.pos.line, e.pos.col), (2, 33), "the position of the unknown name, not of its statement");
    // Unknown schema: nothing to check against, so no error.
    assert!(plan_with("", "ALTER TABLE users DROP COLUMN emial", 15).is_ok());
}

#[test]
fn new_tables_need_no_staging() {
    let change = "CREATE TABLE t (id bigint PRIMARY KEY, a text);\nALTER TABLE t ALTER COLUMN a SET NOT NULL;\nCREATE INDEX ON t (a);\nALTER TABLE t RENAME COLUMN a TO b;";
    let out = plan_with(SETUP, change, 15).unwrap();
    assert_eq!(out.files.len(), 1);
    assert!(
        out.analysis.ops.iter().all(|c| c.risk == zdm_core::model::Risk::Safe),
        "{:#?}",
        out.analysis.ops.iter().map(|c| &c.findings).collect::<Vec<_>>()
    );
}

#[test]
fn unknown_statements_are_never_safe() {
    let out = plan_with(SETUP, "ALTER TABLE users CLUSTER ON users_pkey", 15).unwrap();
    assert_eq!(out.analysis.ops[0].risk, zdm_core::model::Risk::Unknown);
    assert_eq!(out.analysis.ops[0].findings[0].rule, "G05");
}

#[test]
fn a_waiver_runs_the_statement_as_written_and_is_reported() {
    let out =
        plan_with(SETUP, "-- zdm-ignore C08: users is 40 rows in every environment\nALTER TABLE users ALTER COLUMN email SET NOT NULL", 15)
            .unwrap();
    assert_eq!(out.files.len(), 1, "waived: runs as written");
    assert!(out.files[0].contents.contains("ALTER TABLE users ALTER COLUMN email SET NOT NULL"));
    let c08 = out.analysis.ops[0].findings.iter().find(|f| f.rule == "C08").unwrap();
    assert_eq!(c08.suppressed.as_deref(), Some("users is 40 rows in every environment"));
    assert_eq!(out.analysis.ops[0].risk, zdm_core::model::Risk::Safe);
    let json = report::json_report(&out, &RunInfo::default());
    assert!(json["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "C08" && f["suppressed"].is_string()));
}

#[test]
fn bad_waivers_are_errors() {
    for (change, message) in [
        ("-- zdm-ignore C99: because\nALTER TABLE users ADD COLUMN n text", "unknown rule `C99`"),
        ("-- zdm-ignore C08\nALTER TABLE users ADD COLUMN n text", "needs rule IDs and a reason"),
        ("-- zdm-ignore : why\nALTER TABLE users ADD COLUMN n text", "needs rule IDs and a reason"),
    ] {
        let err = plan_with(SETUP, change, 15).err().unwrap();
        let pipeline::Error::Plan(e) = err else { panic!("{err}") };
        assert!(e.message.contains(message), "{}", e.message);
        assert_eq!((e.pos.line, e.pos.col), (1, 1));
    }
}

#[test]
fn risky_statements_kept_as_written_get_their_own_file() {
    let out = plan_with(
        SETUP,
        "ALTER TABLE users ADD COLUMN a text;\nALTER TABLE audit_log SET UNLOGGED;\nALTER TABLE users ADD COLUMN b text;",
        15,
    )
    .unwrap();
    assert_eq!(out.files.len(), 3, "{:?}", out.files.iter().map(|f| &f.path).collect::<Vec<_>>());
    let rewrite = out.files.iter().find(|f| f.contents.contains("SET UNLOGGED")).unwrap();
    assert!(rewrite.contents.contains("SET LOCAL statement_timeout = 0;"), "a rewrite must not be cut off by a 30 s timeout");
}

#[test]
fn a_schema_dump_is_read_when_there_are_no_migrations() {
    let dump = include_str!("../../../tests/fixtures/schema_dump.sql");
    let files = ProjectFiles::new(vec![ProjectFile { path: "db/schema.sql".into(), contents: dump.into() }]);
    let run = |change: &str| pipeline::run(pipeline::Input::new(change, &files, PlanConfig::default(), "20261125140000"));
    let out = run("ALTER TABLE users RENAME COLUMN name TO full_name").unwrap();
    assert!(matches!(&out.schema.source, zdm_core::model::SchemaSource::Dump { path } if path == "db/schema.sql"));
    assert!(out.schema.checks_names(), "a pg_dump holds nothing zdm cannot model");
    assert_eq!(out.schema.tables["users"].primary_key(), Some(&["id".to_string()][..]));
    assert!(out.schema.indexes.contains_key("users_score_idx"));
    assert!(out.files[0].contents.contains("ALTER TABLE users ADD COLUMN full_name text"));
    assert!(run("ALTER TABLE users DROP COLUMN emial").is_err());
}

#[test]
fn a_change_without_statements_is_an_error() {
    for change in ["", "-- just a comment\n", "BEGIN; COMMIT;"] {
        let err = plan_with(SETUP, change, 15).err().unwrap_or_else(|| panic!("{change:?} planned"));
        assert!(err.to_string().contains("no SQL statement"), "{err}");
    }
}

#[test]
fn not_null_without_a_value_is_refused() {
    let err = plan_with(SETUP, "ALTER TABLE users ADD COLUMN t bigint NOT NULL", 15).err().unwrap();
    assert!(err.to_string().contains("existing rows need a value"), "{err}");
}

#[test]
fn a_do_block_in_the_history_turns_off_only_the_checks_it_may_affect() {
    let history = format!(
        "{SETUP}\nDO $$ BEGIN\n  EXECUTE 'ALTER TABLE users ADD COLUMN ' || 'legacy_flag boolean';\nEND $$;\nDO $$ BEGIN CREATE TABLE teams (id bigint PRIMARY KEY); END $$;"
    );
    // users may have columns zdm cannot see: a column it does not know is not called a typo there…
    let out = plan_with(&history, "ALTER TABLE users DROP COLUMN legacy_flag", 15).unwrap();
    assert!(
        out.plan.notes.iter().any(|n| n.contains("a DO block's dynamic EXECUTE zdm cannot see into may change columns of users")),
        "{:?}",
        out.plan.notes
    );
    // …but every other table is still checked, and the DO block's static CREATE TABLE was replayed.
    let err = plan_with(&history, "ALTER TABLE orders DROP COLUMN totl", 15).err().expect("typo on orders");
    assert!(err.to_string().contains("column `totl` does not exist on `orders`"), "{err}");
    assert!(plan_with(&history, "ALTER TABLE teams ADD COLUMN name text", 15).is_ok());
    assert!(plan_with(&history, "ALTER TABLE teams DROP COLUMN nme", 15).is_err());
}

#[test]
fn a_table_wider_than_postgresql_allows_is_an_error_at_the_statement_that_crosses_it() {
    // users has 5 columns: the 1,596th ADD COLUMN makes 1,601.
    let change: String = (0..2000).map(|i| format!("ALTER TABLE users ADD COLUMN c{i} integer;\n")).collect();
    let err = plan_with(SETUP, &change, 15).err().unwrap();
    let pipeline::Error::Plan(e) = err else { panic!("{err}") };
    assert_eq!(e.message, "`users` would have 1601 columns; PostgreSQL allows at most 1600 per table");
    assert_eq!((e.pos.line, e.pos.col), (1596, 13));
    let fits: String = (0..1595).map(|i| format!("ALTER TABLE users ADD COLUMN c{i} integer;\n")).collect();
    assert!(plan_with(SETUP, &fits, 15).is_ok());
}

#[test]
fn tables_made_from_queries_and_materialized_views_are_followed() {
    // A table the change makes from a query can be indexed in the same change: its columns are unknown,
    // not absent.
    assert!(plan_with(SETUP, "CREATE TABLE users_copy AS SELECT * FROM users;\nCREATE INDEX ON users_copy (email);", 15).is_ok());
    // A materialized view reading a column keeps a plan from swapping that column away under it.
    let history = format!("{SETUP}\nCREATE MATERIALIZED VIEW user_names AS SELECT id, name FROM users;");
    let err = plan_with(&history, "ALTER TABLE users RENAME COLUMN name TO full_name", 15).err().expect("refused");
    assert!(err.to_string().contains("user_names reads users.name"), "{err}");
    assert!(plan_with(&history, "ALTER TABLE users RENAME COLUMN email TO contact", 15).is_ok());
}

#[test]
fn a_generated_column_computed_from_a_swapped_column_is_refused() {
    let history = format!(
        "{SETUP}\nALTER TABLE users ADD COLUMN label text GENERATED ALWAYS AS (name || ' <' || email || '>') STORED;\nALTER TABLE users RENAME COLUMN email TO mail;"
    );
    for change in ["ALTER TABLE users RENAME COLUMN name TO full_name", "ALTER TABLE users ALTER COLUMN mail TYPE varchar(200)"] {
        let err = plan_with(&history, change, 15).err().unwrap_or_else(|| panic!("{change}: refused"));
        assert!(err.to_string().contains("generated column users.label is computed from"), "{err}");
    }
    assert!(plan_with(&history, "ALTER TABLE users RENAME COLUMN code TO ref", 15).is_ok());
}
