//! Every rule of the catalogue: a flagged case, a clean case, and a case on each side of each version
//! boundary it knows; its documentation; the `zdm rules` listing; the generated docs/rules.md.

use std::collections::BTreeSet;
use zdm_core::model::{PgVersion, ProjectFile, ProjectFiles};
use zdm_core::pipeline;
use zdm_core::plan::PlanConfig;
use zdm_core::report::{self, Style};
use zdm_core::rules::{self, RULES};

const SETUP: &str = include_str!("../../../tests/fixtures/setup.sql");

/// Extra schema for the rules that need domains, enums, partitions, sequences.
const EXTRA: &str = include_str!("../../../tests/fixtures/extra.sql");

/// (rule ID, PostgreSQL version, change, flagged?)
const CASES: &[(&str, u32, &str, bool)] = &[
    ("C01", 15, "ALTER TABLE users ADD COLUMN t uuid DEFAULT gen_random_uuid()", true),
    ("C01", 15, "ALTER TABLE users ADD COLUMN t timestamptz DEFAULT now()", false),
    ("C01", 15, "ALTER TABLE users ADD COLUMN t int DEFAULT my_function()", true),
    ("C02", 10, "ALTER TABLE users ADD COLUMN t int DEFAULT 0", true),
    ("C02", 11, "ALTER TABLE users ADD COLUMN t int DEFAULT 0", false),
    ("C03", 15, "ALTER TABLE users ADD COLUMN t int NOT NULL;\nUPDATE users SET t = 1", true),
    ("C03", 15, "ALTER TABLE users ADD COLUMN t int NOT NULL DEFAULT 1", false),
    ("C04", 15, "ALTER TABLE users ADD COLUMN t bigserial", true),
    ("C04", 15, "ALTER TABLE users ADD COLUMN t bigint", false),
    ("C05", 15, "ALTER TABLE users ADD COLUMN t bigint GENERATED ALWAYS AS IDENTITY", true),
    ("C05", 15, "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY)", false),
    ("C06", 15, "ALTER TABLE users ADD COLUMN t int GENERATED ALWAYS AS (score * 2) STORED", true),
    ("C06", 17, "ALTER TABLE users ADD COLUMN t int GENERATED ALWAYS AS (score * 2) VIRTUAL", true),
    ("C06", 18, "ALTER TABLE users ADD COLUMN t int GENERATED ALWAYS AS (score * 2) VIRTUAL", false),
    ("C07", 15, "ALTER TABLE users ADD COLUMN t positive_int", true),
    ("C07", 15, "ALTER TABLE users ADD COLUMN t plain_int", false),
    ("C08", 15, "ALTER TABLE users ALTER COLUMN email SET NOT NULL", true),
    ("C08", 15, "ALTER TABLE users ALTER COLUMN name SET NOT NULL", false),
    ("C08", 11, "ALTER TABLE users ALTER COLUMN email SET NOT NULL", true),
    (
        "C08",
        12,
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT c;\nALTER TABLE users ALTER COLUMN email SET NOT NULL",
        false,
    ),
    (
        "C08",
        11,
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT c;\nALTER TABLE users ALTER COLUMN email SET NOT NULL",
        true,
    ),
    ("C09", 15, "ALTER TABLE users ALTER COLUMN name DROP NOT NULL", true),
    ("C09", 15, "CREATE TABLE t (a int NOT NULL);\nALTER TABLE t ALTER COLUMN a DROP NOT NULL", false),
    ("C10", 15, "ALTER TABLE users ALTER COLUMN score TYPE bigint", true),
    ("C10", 15, "ALTER TABLE users ALTER COLUMN email TYPE text", false),
    ("C11", 15, "ALTER TABLE users ALTER COLUMN code TYPE varchar(20)", true),
    ("C11", 15, "ALTER TABLE users ALTER COLUMN score TYPE bigint", false),
    ("C12", 15, "ALTER TABLE users ALTER COLUMN email TYPE varchar(100), ALTER COLUMN email SET NOT NULL", true),
    ("C12", 15, "ALTER TABLE users ALTER COLUMN email TYPE varchar(100)", false),
    ("C13", 15, "ALTER TABLE users RENAME COLUMN name TO full_name", true),
    ("C13", 15, "CREATE TABLE t (a int);\nALTER TABLE t RENAME COLUMN a TO b", false),
    ("C14", 15, "ALTER TABLE users DROP COLUMN email", true),
    ("C14", 15, "CREATE TABLE t (a int, b int);\nALTER TABLE t DROP COLUMN b", false),
    ("C15", 15, "ALTER TABLE users ADD COLUMN meta json", true),
    ("C15", 15, "ALTER TABLE users ADD COLUMN meta jsonb", false),
    ("C16", 15, "ALTER TABLE users ALTER COLUMN score SET DEFAULT 5", true),
    ("C16", 15, "ALTER TABLE users ALTER COLUMN score TYPE integer", false),
    ("C17", 17, "ALTER TABLE users ALTER COLUMN score SET EXPRESSION AS (id * 2)", true),
    ("C17", 16, "ALTER TABLE users ALTER COLUMN score SET EXPRESSION AS (id * 2)", true),
    ("C17", 17, "ALTER TABLE users ALTER COLUMN score DROP DEFAULT", false),
    ("C18", 15, "ALTER TABLE users ALTER COLUMN email TYPE varchar(50)", true),
    ("C18", 15, "ALTER TABLE users ALTER COLUMN email TYPE text", false),
    ("K01", 15, "ALTER TABLE users ADD CHECK (score >= 0)", true),
    ("K01", 15, "ALTER TABLE users ADD CHECK (score >= 0) NOT VALID", false),
    ("K02", 15, "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id)", true),
    ("K02", 15, "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID", false),
    ("K03", 15, "ALTER TABLE orders ADD COLUMN referrer_id bigint REFERENCES users (id)", true),
    ("K03", 15, "ALTER TABLE orders ADD COLUMN referrer_id bigint", false),
    ("K04", 15, "ALTER TABLE users ADD UNIQUE (email)", true),
    ("K04", 15, "ALTER TABLE users ADD CONSTRAINT u UNIQUE USING INDEX users_score_idx", false),
    ("K05", 15, "ALTER TABLE events ADD PRIMARY KEY (id)", true),
    ("K05", 15, "CREATE TABLE t (id int);\nALTER TABLE t ADD PRIMARY KEY (id)", false),
    ("K06", 15, "ALTER TABLE events ADD EXCLUDE USING btree (id WITH =)", true),
    ("K06", 15, "ALTER TABLE events ADD UNIQUE (id)", false),
    ("K07", 15, "ALTER TABLE users ADD CONSTRAINT c CHECK (score >= 0) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT c", true),
    ("K07", 15, "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_nv", false),
    ("K08", 15, "ALTER TABLE users DROP CONSTRAINT users_pkey", true),
    ("K08", 15, "CREATE TABLE t (a int CHECK (a > 0));\nALTER TABLE t DROP CONSTRAINT t_a_check", false),
    ("K09", 15, "ALTER DOMAIN plain_int ADD CONSTRAINT p CHECK (VALUE > 0)", true),
    ("K09", 15, "ALTER DOMAIN plain_int ADD CONSTRAINT p CHECK (VALUE > 0) NOT VALID", false),
    ("K10", 15, "CREATE DOMAIN d AS int CHECK (VALUE > 0)", true),
    ("K10", 15, "CREATE DOMAIN d AS int", false),
    ("K11", 15, "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_nv", true),
    ("K11", 15, "ALTER TABLE orders ADD CHECK (total > 0) NOT VALID", false),
    ("I01", 15, "CREATE INDEX ON users (email)", true),
    ("I01", 15, "CREATE INDEX CONCURRENTLY ON users (email)", false),
    ("I02", 15, "DROP INDEX users_score_idx", true),
    ("I02", 15, "DROP INDEX CONCURRENTLY users_score_idx", false),
    ("I03", 15, "BEGIN;\nCREATE INDEX CONCURRENTLY ON users (email);\nCOMMIT", true),
    ("I03", 15, "CREATE INDEX CONCURRENTLY ON users (email)", false),
    ("I04", 15, "REINDEX TABLE users", true),
    ("I04", 11, "REINDEX TABLE users", true),
    ("I04", 15, "REINDEX TABLE CONCURRENTLY users", false),
    ("I05", 14, "CREATE INDEX CONCURRENTLY ON users (email)", true),
    ("I05", 13, "CREATE INDEX CONCURRENTLY ON users (email)", false),
    ("I05", 15, "CREATE INDEX CONCURRENTLY ON users (email)", false),
    ("I06", 15, "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID", true),
    (
        "I06",
        15,
        "CREATE INDEX CONCURRENTLY ON orders (user_id);\nALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID",
        false,
    ),
    ("I07", 15, "CREATE INDEX CONCURRENTLY ON users (name, email, score, code)", true),
    ("I07", 15, "CREATE INDEX CONCURRENTLY ON users (name, email)", false),
    ("I08", 15, "CREATE INDEX CONCURRENTLY ON users (email)", true),
    ("I08", 15, "CREATE TABLE t (a int);\nCREATE INDEX ON t (a)", false),
    ("T01", 15, "ALTER TABLE users RENAME TO people", true),
    ("T01", 15, "CREATE TABLE t (a int);\nALTER TABLE t RENAME TO t2", false),
    ("T02", 15, "DROP TABLE audit_log", true),
    ("T02", 15, "CREATE TABLE t (a int);\nDROP TABLE t", false),
    ("T03", 15, "TRUNCATE audit_log CASCADE", true),
    ("T03", 15, "CREATE TABLE t (a int);\nTRUNCATE t", false),
    ("T04", 15, "DROP SCHEMA reporting CASCADE", true),
    ("T04", 15, "CREATE SCHEMA reporting", false),
    ("T05", 15, "ALTER SCHEMA reporting RENAME TO analytics", true),
    ("T05", 15, "CREATE SCHEMA analytics", false),
    ("T06", 15, "DROP TABLE audit_log;\nCREATE TABLE audit_log (id bigint)", true),
    ("T06", 15, "CREATE TABLE audit_log2 (id bigint)", false),
    ("T07", 15, "VACUUM FULL users", true),
    ("T07", 15, "VACUUM users", false),
    ("T08", 15, "ALTER TABLE users SET UNLOGGED", true),
    ("T08", 15, "CREATE UNLOGGED TABLE t (a int)", false),
    ("T09", 15, "ALTER TABLE users SET ACCESS METHOD heap", true),
    ("T09", 15, "ALTER TABLE users SET (fillfactor = 90)", false),
    ("T10", 15, "ALTER TABLE users SET TABLESPACE archive", true),
    ("T10", 15, "ALTER TABLE users SET (autovacuum_enabled = true)", false),
    ("T11", 15, "ALTER TABLE users REPLICA IDENTITY FULL", true),
    ("T11", 15, "ALTER TABLE users SET (fillfactor = 90)", false),
    ("T12", 15, "CREATE TABLE t (flag boolean, id bigint, n integer)", true),
    ("T12", 15, "CREATE TABLE t (id bigint, n integer, flag boolean, name text)", false),
    ("T13", 15, "DROP SEQUENCE invoice_seq", true),
    ("T13", 15, "CREATE SEQUENCE s2", false),
    ("P01", 15, "ALTER TABLE measurements DETACH PARTITION measurements_2026", true),
    ("P01", 13, "ALTER TABLE measurements DETACH PARTITION measurements_2026", true),
    ("P01", 15, "ALTER TABLE measurements DETACH PARTITION measurements_2026 CONCURRENTLY", false),
    ("P02", 15, "ALTER TABLE measurements ATTACH PARTITION measurements_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')", true),
    ("P02", 15, "CREATE TABLE measurements_2028 PARTITION OF measurements FOR VALUES FROM ('2028-01-01') TO ('2029-01-01')", false),
    ("P03", 15, "CREATE INDEX ON measurements (id)", true),
    ("P03", 15, "CREATE INDEX ON ONLY measurements (id)", false),
    ("E01", 11, "ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok'", true),
    ("E01", 12, "ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok'", true),
    ("E01", 15, "CREATE TYPE m AS ENUM ('a');\nALTER TYPE m ADD VALUE 'b'", false),
    ("E02", 15, "ALTER TYPE mood ADD VALUE 'meh'", true),
    ("E02", 15, "ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok'", false),
    ("E03", 15, "ALTER TYPE mood RENAME VALUE 'ok' TO 'fine'", true),
    ("E03", 15, "ALTER TYPE mood ADD VALUE 'fine' AFTER 'ok'", false),
    ("E04", 15, "ALTER TABLE users ALTER COLUMN feeling TYPE mood2 USING feeling::text::mood2", true),
    ("E04", 15, "ALTER TABLE users ALTER COLUMN feeling TYPE mood3 USING feeling::text::mood3", true),
    ("E04", 15, "ALTER TABLE users ALTER COLUMN feeling TYPE text", false),
    ("E05", 15, "CREATE TYPE status AS ENUM ('on', 'off')", true),
    ("E05", 15, "CREATE TABLE statuses (name text PRIMARY KEY)", false),
    ("G01", 15, "CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION f()", true),
    ("G01", 15, "CREATE TABLE t (a int);\nCREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f()", false),
    ("G02", 15, "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT count(*)::int FROM users $$", true),
    ("G02", 15, "COMMENT ON TABLE users IS 'people'", false),
    ("G03", 15, "ALTER EXTENSION pg_trgm UPDATE", true),
    ("G03", 15, "CREATE EXTENSION IF NOT EXISTS pg_trgm", false),
    ("G04", 15, "ALTER TABLE users ENABLE ROW LEVEL SECURITY", true),
    ("G04", 15, "GRANT SELECT ON users TO reporting", true),
    ("G04", 15, "COMMENT ON TABLE users IS 'people'", false),
    ("G05", 15, "LOCK TABLE users IN EXCLUSIVE MODE", true),
    ("G05", 15, "DO $$ BEGIN PERFORM 1; END $$", true),
    ("G05", 15, "ALTER TABLE users ADD COLUMN n text", false),
    ("H01", 15, "ALTER TABLE users ADD COLUMN n text", true),
    ("H01", 15, "SET lock_timeout = '1s';\nALTER TABLE users ADD COLUMN n text", false),
    ("H02", 15, "ALTER TABLE users ADD COLUMN n text", true),
    ("H02", 15, "SET statement_timeout = '5s';\nALTER TABLE users ADD COLUMN n text", false),
    ("H03", 15, "BEGIN;\nALTER TABLE users ADD COLUMN n text;\nUPDATE users SET n = 'x';\nCOMMIT", true),
    ("H03", 15, "ALTER TABLE users ADD COLUMN n text;\nUPDATE users SET n = 'x'", false),
    ("H04", 15, "ALTER TABLE users ALTER COLUMN score TYPE bigint", true),
    ("H04", 15, "ALTER TABLE users ALTER COLUMN email TYPE text", false),
    ("H05", 15, "ALTER TABLE users ADD COLUMN a text;\nALTER TABLE users ADD COLUMN b text", true),
    ("H05", 15, "ALTER TABLE users ADD COLUMN a text, ADD COLUMN b text", false),
    ("H06", 15, "BEGIN;\nALTER TABLE users ADD COLUMN a text;\nCOMMIT", true),
    ("H06", 15, "ALTER TABLE users ADD COLUMN a text", false),
    ("H07", 15, "BEGIN;\nALTER TABLE users ADD COLUMN a text", true),
    ("H07", 15, "BEGIN;\nALTER TABLE users ADD COLUMN a text;\nCOMMIT", false),
    ("H08", 15, "ALTER TABLE users ADD COLUMN a text;\nCREATE INDEX CONCURRENTLY ON users (a)", true),
    ("H08", 15, "CREATE INDEX CONCURRENTLY ON users (email)", false),
    ("H09", 15, "CREATE INDEX CONCURRENTLY i ON users (email)", true),
    ("H09", 15, "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON users (email)", false),
    ("H10", 15, "UPDATE users SET email = lower(email)", true),
    ("H10", 15, "CREATE TABLE t (a int);\nUPDATE t SET a = 1", false),
    ("S01", 15, "CREATE TABLE t (id serial PRIMARY KEY)", true),
    ("S01", 15, "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY)", false),
    ("S02", 15, "CREATE TABLE t (id smallint PRIMARY KEY)", true),
    ("S02", 15, "CREATE TABLE t (id bigint PRIMARY KEY)", false),
    ("S03", 15, "CREATE TABLE t (id bigserial PRIMARY KEY)", true),
    ("S03", 15, "CREATE TABLE t (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)", false),
    ("S04", 15, "CREATE TABLE t (name varchar(40))", true),
    ("S04", 15, "CREATE TABLE t (name text)", false),
    ("S05", 15, "CREATE TABLE t (at timestamp)", true),
    ("S05", 15, "CREATE TABLE t (at timestamptz)", false),
    ("S06", 15, "CREATE TABLE t (code char(3))", true),
    ("S06", 15, "CREATE TABLE t (code text)", false),
    ("S07", 15, "CREATE TABLE t (a_column_name_that_goes_on_and_on_well_past_the_sixty_three_byte_limit int)", true),
    ("S07", 15, "CREATE TABLE t (a int)", false),
    ("S08", 15, "CREATE SCHEMA app;\nCREATE TABLE app.a (id int);\nCREATE TABLE b (id int)", true),
    ("S08", 15, "CREATE TABLE b (id int)", false),
    ("S09", 15, "UPDATE users SET score = 1, score = 2", true),
    ("S09", 15, "UPDATE users SET score = 1, email = 'x'", false),
    ("S10", 15, "CREATE TABLE \"UserEvents\" (id bigint)", true),
    ("S10", 15, "ALTER TABLE users ADD COLUMN \"order\" int", true),
    ("S10", 15, "CREATE TABLE user_events (id bigint)", false),
    ("S11", 15, "-- zdm-ignore C08: tiny table\nALTER TABLE users ADD COLUMN n text", true),
    ("S11", 15, "-- zdm-ignore-file I01: built off-peak\nALTER TABLE users ADD COLUMN n text", true),
    ("S11", 15, "-- zdm-ignore C08: tiny table\nALTER TABLE users ALTER COLUMN email SET NOT NULL", false),
];

fn project() -> ProjectFiles {
    ProjectFiles { files: vec![ProjectFile { path: "migrations/0001_init.sql".into(), contents: format!("{SETUP}\n{EXTRA}") }] }
}

fn flagged_rules(pg: u32, change: &str) -> BTreeSet<&'static str> {
    let files = project();
    let config = PlanConfig { pg: PgVersion(pg), ..PlanConfig::default() };
    let out = pipeline::run(pipeline::Input { change, files: &files, config, now: "20261125140000", name: None, change_path: None })
        .unwrap_or_else(|e| panic!("PG {pg}: {change}: {e}"));
    out.analysis.ops.iter().flat_map(|c| c.findings.iter().map(|f| f.rule)).collect()
}

#[test]
fn every_case_flags_exactly_as_expected() {
    let mut wrong = Vec::new();
    for (id, pg, change, expected) in CASES {
        let got = flagged_rules(*pg, change).contains(id);
        if got != *expected {
            wrong.push(format!("{id} on PG {pg}: expected {}flagged: {change}", if *expected { "" } else { "not " }));
        }
    }
    assert!(wrong.is_empty(), "{} cases wrong:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn every_rule_has_a_flagged_and_a_clean_case() {
    for r in RULES {
        let id = r.meta().id;
        assert!(CASES.iter().any(|c| c.0 == id && c.3), "{id} has no flagged case");
        assert!(CASES.iter().any(|c| c.0 == id && !c.3), "{id} has no clean case");
    }
}

#[test]
fn every_rule_is_documented_under_the_fixed_headings() {
    let mut ids = BTreeSet::new();
    for r in RULES {
        let m = r.meta();
        assert!(ids.insert(m.id), "duplicate id {}", m.id);
        let doc = rules::doc(*r);
        assert!(doc.starts_with(&format!("# {} ({})", m.name, m.id)), "{}: doc header is `{}`", m.id, doc.lines().next().unwrap_or(""));
        for heading in ["**What it detects:**", "**Why it's risky:**", "**Safe strategy:**", "**Version notes:**"] {
            assert!(doc.contains(heading), "{} lacks {heading}", m.id);
        }
        assert!(report::explain(m.id).is_some() && report::explain(m.name).is_some());
    }
}

#[test]
fn rule_list_snapshot() {
    let list = report::rule_list(&Style::default());
    assert!(list.lines().all(|l| l.chars().count() <= 100));
    insta::assert_snapshot!("rule_list", list);
}

#[test]
fn docs_rules_md_is_generated_from_the_rules() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rules.md");
    let current = std::fs::read_to_string(path).unwrap_or_default();
    assert!(current == report::rules_markdown(), "docs/rules.md is stale: run `cargo run -q -p zdm -- rules --markdown > docs/rules.md`");
}
