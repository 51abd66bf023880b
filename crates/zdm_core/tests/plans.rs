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
    let style = Style::default();
    let info = RunInfo { dry_run: false, report: Some(".zdm/reports/report.html".into()) };
    let receipt = report::receipt(out, &style, &info);
    assert_receipt_fits(&receipt, 100);
    let mut text = receipt;
    for f in &out.files {
        text.push_str(&format!("\n===== {} =====\n{}", f.path, f.contents));
    }
    text
}

fn assert_receipt_fits(receipt: &str, width: usize) {
    assert!(receipt.lines().count() <= RECEIPT_MAX_LINES, "receipt has {} lines:\n{receipt}", receipt.lines().count());
    for line in receipt.lines() {
        assert!(report::visible_width(line) <= width, "line over {width} columns: {line}");
        assert!(!line.ends_with('…'), "a cut line: {line}");
    }
}

/// The catalogue of representative changes: (name, project history, change, PostgreSQL version).
fn catalogue() -> Vec<(&'static str, String, &'static str, u32)> {
    vec![
        ("add_nullable_column", SETUP.to_string(), "ALTER TABLE users ADD COLUMN nickname text", 15),
        ("add_column_constant_default", SETUP.to_string(), "ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true", 15),
        ("add_column_default_pg11", SETUP.to_string(), "ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true", 11),
        (
            "add_column_volatile_default",
            SETUP.to_string(),
            "ALTER TABLE users ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid()",
            15,
        ),
        (
            "add_column_required_with_update",
            SETUP.to_string(),
            "ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;\nUPDATE users SET tenant_id = id % 7 + 1;",
            15,
        ),
        ("create_index", SETUP.to_string(), "CREATE INDEX ON users (email)", 15),
        ("drop_index", SETUP.to_string(), "DROP INDEX users_score_idx", 15),
        ("drop_column", SETUP.to_string(), "ALTER TABLE users DROP COLUMN email", 15),
        ("drop_table", SETUP.to_string(), "DROP TABLE audit_log", 15),
        ("rename_column", SETUP.to_string(), "ALTER TABLE users RENAME COLUMN name TO full_name", 15),
        (
            "rename_primary_key_carries_key_sequence_and_references",
            format!("{SETUP}\nALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id);"),
            "ALTER TABLE users RENAME COLUMN id TO user_id",
            15,
        ),
        ("rename_column_no_schema", String::new(), "ALTER TABLE users RENAME COLUMN name TO full_name", 15),
        ("change_column_type", SETUP.to_string(), "ALTER TABLE users ALTER COLUMN score TYPE bigint", 15),
        ("change_column_type_using", SETUP.to_string(), "ALTER TABLE users ALTER COLUMN code TYPE integer USING code::integer", 15),
        ("set_not_null", SETUP.to_string(), "ALTER TABLE users ALTER COLUMN email SET NOT NULL", 15),
        ("set_not_null_pg11", SETUP.to_string(), "ALTER TABLE users ALTER COLUMN email SET NOT NULL", 11),
        ("set_not_null_pg18", SETUP.to_string(), "ALTER TABLE users ALTER COLUMN email SET NOT NULL", 18),
        (
            "foreign_key",
            SETUP.to_string(),
            "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)",
            15,
        ),
        ("check_constraint", SETUP.to_string(), "ALTER TABLE users ADD CHECK (score >= 0)", 15),
        ("unique_constraint", SETUP.to_string(), "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)", 15),
        ("primary_key", SETUP.to_string(), "ALTER TABLE events ADD PRIMARY KEY (id)", 15),
        ("large_update", SETUP.to_string(), "UPDATE users SET email = lower(email) WHERE email IS NOT NULL", 15),
        (
            "several_safe_statements",
            SETUP.to_string(),
            "CREATE TABLE teams (id bigserial PRIMARY KEY, name text NOT NULL);\nCREATE INDEX ON teams (name);\nALTER TABLE users ADD COLUMN team_id bigint;",
            15,
        ),
        ("unknown_statement", SETUP.to_string(), "ALTER TABLE users CLUSTER ON users_pkey", 15),
        ("set_logged", SETUP.to_string(), "ALTER TABLE users SET LOGGED", 15),
        ("rename_table", SETUP.to_string(), "ALTER TABLE audit_log RENAME TO audit_events", 15),
        ("add_serial_column", SETUP.to_string(), "ALTER TABLE users ADD COLUMN seq bigserial", 15),
        ("add_identity_column", SETUP.to_string(), "ALTER TABLE users ADD COLUMN ident bigint GENERATED ALWAYS AS IDENTITY", 15),
    ]
}

fn catalogue_case(name: &str) -> Outcome {
    let (_, setup, change, pg) = catalogue().into_iter().find(|c| c.0 == name).expect("a catalogue case");
    plan_with(&setup, change, pg).unwrap_or_else(|e| panic!("{name}: {e}"))
}

macro_rules! case {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                insta::assert_snapshot!(stringify!($name), rendered(&catalogue_case(stringify!($name))));
            }
        )*
    };
}

case!(
    add_nullable_column,
    add_column_constant_default,
    add_column_default_pg11,
    add_column_volatile_default,
    add_column_required_with_update,
    create_index,
    drop_index,
    drop_column,
    drop_table,
    rename_column,
    rename_primary_key_carries_key_sequence_and_references,
    rename_column_no_schema,
    change_column_type,
    change_column_type_using,
    set_not_null,
    set_not_null_pg11,
    set_not_null_pg18,
    foreign_key,
    check_constraint,
    unique_constraint,
    primary_key,
    large_update,
    several_safe_statements,
    unknown_statement,
    set_logged,
    rename_table,
    add_serial_column,
    add_identity_column
);

#[test]
fn a_change_too_big_for_40_lines_gets_the_short_form_with_the_deploy_shape() {
    let change: String = (0..12).map(|i| format!("CREATE INDEX ON users (email, score, id) WHERE score > {i};\n")).collect();
    let out = plan_with(SETUP, &change, 15).unwrap();
    let style = Style::default();
    assert!(report::full_receipt(&out, &style, &RunInfo::default()).is_none(), "12 concurrent index steps do not fit");
    assert!(!report::receipt_fits(&out, &style, &RunInfo::default()));
    let info = RunInfo { dry_run: false, report: Some(".zdm/reports/x.html".into()) };
    let short = report::receipt(&out, &style, &info);
    assert_receipt_fits(&short, 100);
    assert!(short.contains("Top Findings") && short.trim_end().ends_with("Report: .zdm/reports/x.html"));
    insta::assert_snapshot!("short_form", short);
    // An expand-contract plan that overflows keeps its deploy shape in three lines.
    let wide: String = (0..6).map(|i| format!("CREATE INDEX ON users (email, score, id) WHERE score > {i};\n")).collect::<String>()
        + "ALTER TABLE users RENAME COLUMN name TO full_name;";
    let out = plan_with(SETUP, &wide, 15).unwrap();
    let short = report::receipt(&out, &Style { width: 60, ..Style::default() }, &info);
    assert_receipt_fits(&short, 60);
    assert!(short.contains("→ code deploy ("), "{short}");
    insta::assert_snapshot!("short_form_expand_contract_60", short);
}

#[test]
fn ascii_receipts_are_pure_ascii() {
    let out = plan_with(SETUP, "ALTER TABLE users RENAME COLUMN name TO full_name", 15).unwrap();
    let receipt = report::receipt(&out, &Style { ascii: true, ..Style::default() }, &RunInfo::default());
    assert!(receipt.is_ascii(), "{receipt}");
    assert!(receipt.starts_with("+- Migration: rename users.name -> users.full_name"));
    assert!(receipt.contains("! RISKY"));
}

/// The receipt at a terminal width, for the width snapshots.
fn at_width(out: &Outcome, width: usize) -> String {
    let info = RunInfo { dry_run: false, report: Some(".zdm/reports/20261125140000_expand_users_full_name.html".into()) };
    let receipt = report::receipt(out, &Style { width, ..Style::default() }, &info);
    assert_receipt_fits(&receipt, width.min(report::MAX_WIDTH));
    receipt
}

#[test]
fn receipts_at_60_80_and_120_columns() {
    for name in ["rename_column", "change_column_type", "unknown_statement", "set_not_null"] {
        let out = catalogue_case(name);
        for width in [60, 80, 120] {
            insta::assert_snapshot!(format!("width_{width}_{name}"), at_width(&out, width));
        }
    }
}

#[test]
fn wide_characters_keep_the_box_aligned() {
    let setup = format!("{SETUP}\nCREATE TABLE \"用户资料\" (id bigint PRIMARY KEY, \"名字\" text);");
    let out = plan_with(&setup, "ALTER TABLE \"用户资料\" RENAME COLUMN \"名字\" TO \"全名\"", 15).unwrap();
    let receipt = at_width(&out, 60);
    let boxed: Vec<&str> =
        receipt.lines().take_while(|l| !l.starts_with('└')).chain(receipt.lines().find(|l| l.starts_with('└'))).collect();
    let widths: Vec<usize> = boxed.iter().map(|l| report::visible_width(l)).collect();
    assert!(widths.windows(2).all(|w| w[0] == w[1]), "box lines differ in display width {widths:?}:\n{receipt}");
    insta::assert_snapshot!("width_60_cjk", receipt);
}

#[test]
fn markdown_for_pull_requests() {
    let out = catalogue_case("rename_column");
    let info = RunInfo { dry_run: false, report: Some(".zdm/reports/20261125140000_expand_users_full_name.html".into()) };
    let md = report::markdown(&out, &info);
    assert_eq!(md.matches("<details>").count(), out.files.len(), "one collapsed SQL block per file");
    insta::assert_snapshot!("markdown_rename_column", md);
    insta::assert_snapshot!("markdown_unknown_statement", report::markdown(&catalogue_case("unknown_statement"), &RunInfo::default()));
}

/// Every count the receipt, the JSON and the HTML show is the same number, in every catalogue case.
#[test]
fn counts_agree_in_receipt_json_and_html() {
    for (name, setup, change, pg) in catalogue() {
        let out = plan_with(&setup, change, pg).unwrap();
        let info = RunInfo { dry_run: false, report: Some("r.html".into()) };
        let receipt = report::receipt(&out, &Style::default(), &info);
        let json = report::json_report(&out, &info);
        let html = report::html_report(&out, &info, "now");
        let steps = out.plan.steps.len();
        let code = out.plan.steps.iter().filter(|s| s.phase == zdm_core::plan::Phase::Code).count();
        let files = steps - code;
        assert!(receipt.contains(&format!("Steps: {steps} ")), "{name}: receipt steps\n{receipt}");
        let deploy_word = |n: usize| format!("{n} code deploy{}", if n == 1 { "" } else { "s" });
        if code > 0 {
            assert!(receipt.contains(&deploy_word(code)), "{name}: receipt deploys\n{receipt}");
            assert!(out.plan.verdict.contains(&deploy_word(code)), "{name}: verdict {}", out.plan.verdict);
        }
        assert!(!receipt.contains("code deploys") || code > 1, "{name}: {receipt}");
        assert_eq!(json["deploys"], code, "{name}");
        assert_eq!(json["counts"]["steps"], steps, "{name}");
        assert_eq!(json["counts"]["files"], files, "{name}");
        assert_eq!(json["steps"].as_array().unwrap().len(), steps, "{name}");
        for (id, n) in [("count-steps", steps), ("count-files", files), ("count-deploys", code)] {
            assert!(html.contains(&format!("<span id=\"{id}\">{n}</span>")), "{name}: html {id} = {n}");
        }
        assert_eq!(html.matches("<section class=\"step").count(), steps, "{name}: html steps");
        assert_eq!(html.matches("class=\"step lk-").count(), steps, "{name}: timeline blocks");
        // The deploy checklist line names only steps after the code deploy.
        for line in json["checklist"].as_array().unwrap().iter().filter_map(|c| c.as_str()) {
            assert!(!line.contains('`'), "{name}: raw backticks in {line}");
            if let Some((listed, code_step)) = line.split_once(" only after every instance runs the code of step ") {
                let code_step: usize = code_step.parse().unwrap();
                let listed = listed.trim_start_matches("Steps ").trim_start_matches("Step ");
                assert!(listed.split(", ").all(|n| n.parse::<usize>().unwrap() > code_step), "{name}: {line}");
            }
        }
        // Mark rules: never ✔ beside a lock that blocks; an unknown statement has an unknown lock.
        for s in json["steps"].as_array().unwrap() {
            if s["mark"] == "safe" {
                assert!(
                    matches!(s["lock"].as_str(), Some("no table lock" | "ROW EXCLUSIVE" | "ROW SHARE" | "ACCESS SHARE")),
                    "{name}: ✔ beside {}",
                    s["lock"]
                );
            }
            if s["estimate"]["work"] != "brief" {
                assert!(!s["estimate"]["text"].as_str().unwrap().starts_with("brief"), "{name}: {s}");
            }
        }
    }
}

#[test]
fn unknown_statements_and_manual_rollbacks_say_so() {
    let out = catalogue_case("unknown_statement");
    let receipt = report::receipt(&out, &Style::default(), &RunInfo::default());
    assert!(receipt.contains("lock unknown, unknown · duration unknown"), "{receipt}");
    assert!(!receipt.contains("? ACCESS EXCLUSIVE"), "{receipt}");
    assert!(receipt.contains("? manual") || !out.plan.steps[0].down.contains("cannot be undone"), "{receipt}");
    let out = plan_with(SETUP, "ALTER TABLE users DROP COLUMN email", 15).unwrap();
    let json = report::json_report(&out, &RunInfo::default());
    for s in json["steps"].as_array().unwrap() {
        if s["down"].as_str().unwrap().contains("cannot be undone") {
            assert_eq!(s["rollback_mark"], "manual", "{s}");
        }
    }
}

fn plan_known(setup: &str, change: &str) -> Outcome {
    let mut config = PlanConfig { pg: PgVersion(15), ..PlanConfig::default() };
    config.stats.insert("users".into(), zdm_core::model::TableStats { rows: 2_000_000, ..Default::default() });
    pipeline::run(pipeline::Input::new(change, &project(setup), config, "20261125140000")).unwrap()
}

#[test]
fn durations_come_from_rows_when_known() {
    let change = "ALTER TABLE users ALTER COLUMN score TYPE bigint";
    let unknown = plan_with(SETUP, change, 15).unwrap();
    let json = report::json_report(&unknown, &RunInfo::default());
    let backfill = json["steps"].as_array().unwrap().iter().find(|s| s["phase"] == "backfill").unwrap().clone();
    assert_eq!(backfill["estimate"]["text"], "scales with rows (size unknown)");
    let mut config = PlanConfig { pg: PgVersion(15), ..PlanConfig::default() };
    config.stats.insert("users".into(), zdm_core::model::TableStats { rows: 2_000_000, ..Default::default() });
    let files = project(SETUP);
    let known = pipeline::run(pipeline::Input::new(change, &files, config, "20261125140000")).unwrap();
    let json = report::json_report(&known, &RunInfo::default());
    let steps = json["steps"].as_array().unwrap();
    let backfill = steps.iter().find(|s| s["estimate"]["work"] == "backfill").unwrap();
    assert_eq!(backfill["estimate"]["rows"], 2_000_000);
    let rate = zdm_core::report::estimate::rates::BACKFILL;
    let (lo, hi) = (backfill["estimate"]["seconds_low"].as_f64().unwrap(), backfill["estimate"]["seconds_high"].as_f64().unwrap());
    assert!((lo - 1_000_000.0 / rate).abs() < 1e-6 && (hi - 4_000_000.0 / rate).abs() < 1e-6, "{lo} {hi}");
    let text = backfill["estimate"]["text"].as_str().unwrap();
    assert!(text.contains("2,000,000 rows at ~56k rows/s"), "{text}");
    let validate = steps.iter().find(|s| s["estimate"]["work"] == "validatescan").unwrap();
    assert!(validate["estimate"]["text"].as_str().unwrap().contains("2,000,000 rows"), "{validate}");
    let md = report::markdown(&known, &RunInfo::default());
    assert!(md.contains("2,000,000 rows at ~56k rows/s"), "{md}");
    let html = report::html_report(&known, &RunInfo::default(), "now");
    assert!(html.contains("users: 2,000,000 rows") && html.contains("2,000,000 rows at ~56k rows"));
    let receipt = report::receipt(&plan_known(SETUP, "CREATE INDEX ON users (email)"), &Style::default(), &RunInfo::default());
    assert!(receipt.contains("2,000,000 rows at ~560k rows/s"), "{receipt}");
    insta::assert_snapshot!("durations_with_rows", receipt);
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
