//! Every rule of the catalogue: a flagged case, a clean case, and a case on each side of each version
//! boundary it knows; its documentation; the `zdm rules` listing; the generated docs/rules.md.

use std::collections::BTreeSet;
use zdm_core::model::{LockLevel, PgVersion, ProjectFile, ProjectFiles, Risk};
use zdm_core::pipeline;
use zdm_core::plan::PlanConfig;
use zdm_core::report::{self, Style};
use zdm_core::rules::{self, RULES};

const SETUP: &str = include_str!("../../../tests/fixtures/setup.sql");

/// Extra schema for the rules that need domains, enums, partitions, sequences.
const EXTRA: &str = include_str!("../../../tests/fixtures/extra.sql");

/// Views (one reading another) and a trigger, for the DROP rules.
const VIEWS: &str = "CREATE VIEW active_users AS SELECT id, name FROM users;\nCREATE VIEW active_names AS SELECT name FROM active_users;";

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
    ("C08", 15, "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL);\nALTER TABLE users ALTER COLUMN email SET NOT NULL", false),
    ("C08", 15, "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL), ALTER COLUMN email SET NOT NULL", false),
    ("C08", 15, "ALTER TABLE users ADD CHECK (email IS NOT NULL);\nALTER TABLE users ALTER COLUMN email SET NOT NULL", false),
    (
        "C08",
        15,
        "ALTER TABLE users ADD CONSTRAINT c CHECK ((email IS NOT NULL));\nALTER TABLE users ALTER COLUMN email SET NOT NULL",
        false,
    ),
    (
        "C08",
        15,
        "ALTER TABLE users ADD CONSTRAINT c CHECK (\"email\" IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT c;\nALTER TABLE users ALTER COLUMN email SET NOT NULL",
        false,
    ),
    (
        "C08",
        15,
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL AND score > 0);\nALTER TABLE users ALTER COLUMN email SET NOT NULL",
        false,
    ),
    (
        "C08",
        15,
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users ALTER COLUMN email SET NOT NULL",
        true,
    ),
    (
        "C08",
        15,
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL OR score > 0);\nALTER TABLE users ALTER COLUMN email SET NOT NULL",
        true,
    ),
    ("C09", 15, "ALTER TABLE users ALTER COLUMN name DROP NOT NULL", true),
    ("C09", 15, "CREATE TABLE t (a int NOT NULL);\nALTER TABLE t ALTER COLUMN a DROP NOT NULL", false),
    ("C10", 15, "ALTER TABLE users ALTER COLUMN score TYPE bigint", true),
    ("C10", 15, "ALTER TABLE users ALTER COLUMN email TYPE text", false),
    (
        "C10",
        15,
        "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\nALTER TABLE users ALTER COLUMN email TYPE text COLLATE \"C\"",
        true,
    ),
    ("C10", 15, "ALTER TABLE users ALTER COLUMN email TYPE text COLLATE \"C\"", false),
    ("C11", 15, "ALTER TABLE users ALTER COLUMN code TYPE varchar(20)", true),
    ("C11", 15, "ALTER TABLE users ALTER COLUMN score TYPE bigint", false),
    ("C12", 15, "ALTER TABLE users ALTER COLUMN email TYPE varchar(100), ALTER COLUMN email SET NOT NULL", true),
    ("C12", 15, "ALTER TABLE users ALTER COLUMN email TYPE varchar(100)", false),
    ("C13", 15, "ALTER TABLE users RENAME COLUMN email TO contact", true),
    ("C13", 15, "CREATE TABLE t (a int);\nALTER TABLE t RENAME COLUMN a TO b", false),
    ("C14", 15, "ALTER TABLE users DROP COLUMN email", true),
    ("C14", 15, "CREATE TABLE t (a int, b int);\nALTER TABLE t DROP COLUMN b", false),
    ("C15", 15, "ALTER TABLE users ADD COLUMN meta json", true),
    ("C15", 15, "ALTER TABLE users ADD COLUMN meta jsonb", false),
    ("C15", 15, "CREATE TABLE docs (id bigint, meta json)", true),
    ("C15", 15, "ALTER TABLE users ALTER COLUMN code TYPE json USING code::json", true),
    ("C15", 15, "CREATE TABLE docs (id bigint, meta jsonb)", false),
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
    ("K12", 15, "ALTER TABLE users ADD COLUMN handle text UNIQUE", true),
    ("K12", 15, "ALTER TABLE users ADD COLUMN handle text CONSTRAINT users_handle_key UNIQUE", true),
    ("K12", 15, "ALTER TABLE events ADD COLUMN id2 bigint PRIMARY KEY DEFAULT 1", true),
    ("K12", 15, "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int UNIQUE", false),
    ("K12", 15, "ALTER TABLE users ADD COLUMN handle text", false),
    ("K13", 15, "ALTER TABLE users ADD COLUMN rank int CHECK (rank > 0)", true),
    ("K13", 15, "ALTER TABLE users ADD COLUMN rank int DEFAULT 1 CHECK (rank > 0)", true),
    ("K13", 15, "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int CHECK (b > 0)", false),
    (
        "K05",
        15,
        "CREATE UNIQUE INDEX CONCURRENTLY events_kind_key ON events (kind);\nALTER TABLE events ADD CONSTRAINT events_pk PRIMARY KEY USING INDEX events_kind_key",
        true,
    ),
    (
        "K05",
        15,
        "CREATE UNIQUE INDEX CONCURRENTLY events_id_key ON events (id);\nALTER TABLE events ADD CONSTRAINT events_pk PRIMARY KEY USING INDEX events_id_key",
        false,
    ),
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
    ("I04", 15, "REINDEX (CONCURRENTLY false) TABLE users", true),
    ("I04", 15, "REINDEX (CONCURRENTLY) TABLE users", false),
    ("I04", 15, "REINDEX SYSTEM", true),
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
    ("T03", 15, "TRUNCATE audit_log", false),
    ("T14", 15, "TRUNCATE audit_log", true),
    ("T14", 15, "TRUNCATE audit_log CASCADE", false),
    ("T14", 15, "CREATE TABLE t (a int);\nTRUNCATE t", false),
    ("T04", 15, "DROP SCHEMA reporting CASCADE", true),
    ("T04", 15, "CREATE SCHEMA reporting", false),
    ("T05", 15, "ALTER SCHEMA reporting RENAME TO analytics", true),
    ("T05", 15, "CREATE SCHEMA analytics", false),
    ("T06", 15, "DROP TABLE audit_log;\nCREATE TABLE audit_log (id bigint)", true),
    ("T06", 15, "CREATE TABLE audit_log2 (id bigint)", false),
    ("T07", 15, "VACUUM FULL users", true),
    ("T07", 15, "VACUUM users", false),
    ("T07", 15, "VACUUM (FULL false) users", false),
    ("T07", 15, "VACUUM (FULL, ANALYZE) users", true),
    ("T07", 15, "VACUUM (FULL true) users", true),
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
    ("D01", 15, "WITH d AS (DELETE FROM users RETURNING *) SELECT 1", true),
    ("D01", 15, "WITH u AS (UPDATE users SET score = 1 RETURNING id) SELECT count(*) FROM u", true),
    ("D01", 15, "WITH i AS (INSERT INTO audit_log (msg) SELECT name FROM users RETURNING id) SELECT 1", true),
    ("D01", 15, "WITH d AS (DELETE FROM audit_log RETURNING id) UPDATE users SET score = 0 WHERE id IN (SELECT id FROM d)", true),
    ("D01", 15, "DELETE FROM audit_log WHERE id < 5", true),
    ("D01", 15, "INSERT INTO audit_log (msg) VALUES ('x')", true),
    ("D01", 15, "INSERT INTO audit_log (msg) SELECT name FROM users", true),
    ("D01", 15, "MERGE INTO events e USING users u ON e.id = u.id WHEN MATCHED THEN DELETE", true),
    ("D01", 15, "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1), (2)", false),
    ("D01", 15, "SELECT count(*) FROM users", false),
    ("D02", 15, "LOCK TABLE users", true),
    ("D02", 15, "LOCK TABLE users IN SHARE MODE", true),
    ("D02", 15, "LOCK TABLE users IN ROW EXCLUSIVE MODE", false),
    ("D02", 15, "CREATE TABLE t (a int);\nLOCK TABLE t", false),
    ("D03", 15, "DROP VIEW active_users CASCADE", true),
    ("D03", 15, "DROP VIEW active_names", true),
    ("D03", 15, "DROP TRIGGER audit ON users", true),
    ("D03", 15, "CREATE VIEW v AS SELECT 1 AS a;\nDROP VIEW v", false),
    ("D04", 15, "DROP TYPE mood CASCADE", true),
    ("D04", 15, "DROP TYPE mood", true),
    ("D04", 15, "DROP DOMAIN plain_int CASCADE", true),
    ("D04", 15, "DROP FUNCTION f(int) CASCADE", true),
    ("D04", 15, "DROP FUNCTION f(int)", true),
    ("D04", 15, "CREATE TYPE t AS ENUM ('a');\nDROP TYPE t", false),
    ("D04", 15, "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\nDROP FUNCTION f()", false),
    ("D05", 15, "SELECT * FROM users WHERE id = 1 FOR UPDATE", true),
    ("D05", 15, "SELECT u.id FROM users u JOIN orders o ON o.user_id = u.id FOR SHARE OF u", true),
    ("D05", 15, "SELECT count(*) FROM users", false),
    ("D06", 15, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()", true),
    ("D06", 15, "SELECT pg_cancel_backend(42)", true),
    ("D06", 15, "SELECT setval('invoice_seq', 1)", true),
    ("D06", 15, "SELECT lo_unlink(123)", true),
    ("D06", 15, "SELECT dblink_exec('dbname=x', 'DROP TABLE users')", true),
    ("D06", 15, "SELECT pg_advisory_lock(1)", true),
    ("D06", 15, "SELECT pg_sleep(5)", true),
    ("D06", 15, "SELECT my_maintenance()", true),
    ("D06", 15, "SELECT now(), count(*) FROM users", false),
    ("D07", 15, "SET session_replication_role = replica", true),
    ("D07", 15, "SET LOCAL session_replication_role TO 'replica'", true),
    ("D07", 15, "SET lock_timeout = 0", true),
    ("D07", 15, "SET lock_timeout TO '0s'", true),
    ("D07", 15, "RESET lock_timeout", true),
    ("D07", 15, "SET statement_timeout = 0", true),
    ("D07", 15, "SET lock_timeout = '2s'", false),
    ("D07", 15, "SET session_replication_role = origin", false),
    ("D08", 15, "CREATE TABLE users_copy AS SELECT * FROM users", true),
    ("D08", 15, "SELECT * INTO users_copy FROM users", true),
    ("D08", 15, "CREATE TABLE t AS SELECT 1 AS a", false),
    ("D09", 15, "ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_pk", true),
    ("D09", 15, "CREATE TABLE t (a int CONSTRAINT c CHECK (a > 0));\nALTER TABLE t RENAME CONSTRAINT c TO c2", false),
    ("H01", 15, "SET lock_timeout = 0;\nALTER TABLE users ADD COLUMN n text", true),
    ("H02", 15, "SET statement_timeout = 0;\nALTER TABLE users ADD COLUMN n text", true),
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
    ("G04", 15, "GRANT SELECT ON users TO reporting", false),
    ("G06", 15, "GRANT SELECT ON users TO reporting", true),
    ("G06", 15, "REVOKE SELECT ON users FROM reporting", true),
    ("G06", 15, "ALTER TABLE users ENABLE ROW LEVEL SECURITY", false),
    // The code (see `code_refs`) uses users.email.
    ("G07", 15, "ALTER TABLE users RENAME COLUMN email TO mail", true),
    ("G07", 15, "ALTER TABLE users DROP COLUMN email", true),
    ("G07", 15, "ALTER TABLE users RENAME TO members", true),
    ("G07", 15, "ALTER TABLE users DROP COLUMN code", false),
    ("G07", 15, "ALTER TABLE users ALTER COLUMN email SET DEFAULT 'x'", false),
    ("G04", 15, "COMMENT ON TABLE users IS 'people'", false),
    ("G05", 15, "CREATE MATERIALIZED VIEW mv AS SELECT id FROM users", true),
    ("G05", 15, "LOCK TABLE users IN EXCLUSIVE MODE", false),
    ("G05", 15, "INSERT INTO audit_log (msg) VALUES ('x')", false),
    ("G05", 15, "MERGE INTO events e USING users u ON e.id = u.id WHEN MATCHED THEN DELETE", false),
    ("G05", 15, "CREATE TABLE users_copy AS SELECT * FROM users", false),
    ("G05", 15, "ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_pk", false),
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
    ("S06", 15, "CREATE TABLE t (flag \"char\")", true),
    ("S06", 15, "ALTER TABLE users ADD COLUMN grade \"char\"", true),
    ("S06", 15, "ALTER TABLE users ALTER COLUMN code TYPE char(3)", true),
    ("S07", 15, "CREATE TABLE t (a_column_name_that_goes_on_and_on_well_past_the_sixty_three_byte_limit int)", true),
    ("S07", 15, "CREATE TABLE t (a int)", false),
    ("S07", 15, "CREATE TABLE \"customer order line items, with a long and descriptive quoted name\" (id int)", true),
    ("S07", 15, "CREATE VIEW \"customer order line items, with a long and descriptive quoted name\" AS SELECT 1 AS a", true),
    ("S07", 15, "CREATE TABLE t (a text DEFAULT 'a long literal is not a name, however long it grows past sixty-three bytes')", false),
    ("S08", 15, "CREATE SCHEMA app;\nCREATE TABLE app.a (id int);\nCREATE TABLE b (id int)", true),
    ("S08", 15, "CREATE TABLE b (id int)", false),
    ("S09", 15, "UPDATE users SET score = 1, score = 2", true),
    ("S09", 15, "UPDATE users SET score = 1, email = 'x'", false),
    ("S09", 15, "CREATE TABLE t (a int, b int, a text)", true),
    ("S09", 15, "CREATE TABLE t (a int, b int)", false),
    ("S10", 15, "CREATE TABLE \"UserEvents\" (id bigint)", true),
    ("S10", 15, "ALTER TABLE users ADD COLUMN \"order\" int", true),
    ("S10", 15, "CREATE TABLE user_events (id bigint)", false),
    ("S11", 15, "-- zdm-ignore C08: tiny table\nALTER TABLE users ADD COLUMN n text", true),
    ("S11", 15, "-- zdm-ignore-file I01: built off-peak\nALTER TABLE users ADD COLUMN n text", true),
    ("S11", 15, "-- zdm-ignore C08: tiny table\nALTER TABLE users ALTER COLUMN email SET NOT NULL", false),
];

fn project() -> ProjectFiles {
    ProjectFiles::new(vec![ProjectFile { path: "migrations/0001_init.sql".into(), contents: format!("{SETUP}\n{EXTRA}\n{VIEWS}") }])
}

fn flagged_rules(pg: u32, change: &str) -> BTreeSet<&'static str> {
    let files = project();
    let config = PlanConfig { pg: PgVersion(pg), code_refs: code_refs(), ..PlanConfig::default() };
    let out =
        pipeline::run(pipeline::Input::new(change, &files, config, "20261125140000")).unwrap_or_else(|e| panic!("PG {pg}: {change}: {e}"));
    out.analysis.ops.iter().flat_map(|c| c.findings.iter().map(|f| f.rule)).collect()
}

/// What a scan of the application's code found: one model field mapped to users.email.
fn code_refs() -> Vec<zdm_core::refs::CodeRef> {
    vec![zdm_core::refs::CodeRef {
        path: "app/models/user.rb".into(),
        line: 3,
        col: 14,
        table: "users".into(),
        column: Some("email".into()),
        kind: zdm_core::refs::RefKind::OrmField,
        snippet: "validates :email".into(),
    }]
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

/// The last operation of a change planned against the fixture: its risk, its lock, and its findings' messages.
fn last_op(change: &str) -> (Risk, LockLevel, String) {
    let files = project();
    let out = pipeline::run(pipeline::Input::new(change, &files, PlanConfig::default(), "20261125140000"))
        .unwrap_or_else(|e| panic!("{change}: {e}"));
    let c = out.analysis.ops.last().expect("one operation");
    (c.risk, c.lock, c.findings.iter().map(|f| f.message.clone()).collect::<Vec<_>>().join(" | "))
}

/// (change, risk of its last operation, lock it takes, text its findings must contain)
const VERDICTS: &[(&str, Risk, LockLevel, &str)] = &[
    ("WITH d AS (DELETE FROM users RETURNING *) SELECT 1", Risk::Dangerous, LockLevel::RowExclusive, "every row"),
    ("WITH d AS (DELETE FROM users WHERE id < 5 RETURNING *) SELECT 1", Risk::Risky, LockLevel::RowExclusive, "DELETE users"),
    ("WITH u AS (UPDATE users SET score = 1 RETURNING id) SELECT count(*) FROM u", Risk::Risky, LockLevel::RowExclusive, "UPDATE users"),
    ("DELETE FROM audit_log", Risk::Dangerous, LockLevel::RowExclusive, "every row"),
    ("MERGE INTO events e USING users u ON e.id = u.id WHEN MATCHED THEN DELETE", Risk::Risky, LockLevel::RowExclusive, "MERGE events"),
    ("INSERT INTO audit_log (msg) VALUES ('x')", Risk::Info, LockLevel::RowExclusive, "rollback does not remove"),
    ("CREATE TABLE t (a int);\nINSERT INTO t VALUES (1), (2)", Risk::Safe, LockLevel::RowExclusive, ""),
    ("LOCK TABLE users", Risk::Risky, LockLevel::AccessExclusive, "ACCESS EXCLUSIVE"),
    ("LOCK TABLE users IN EXCLUSIVE MODE", Risk::Risky, LockLevel::Exclusive, "EXCLUSIVE MODE"),
    ("LOCK TABLE users IN ACCESS SHARE MODE", Risk::Safe, LockLevel::AccessShare, ""),
    ("CREATE TABLE users_copy AS SELECT * FROM users", Risk::Info, LockLevel::AccessShare, "later writes"),
    ("ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_pk", Risk::Info, LockLevel::AccessExclusive, "ON CONFLICT"),
    ("DROP TYPE mood CASCADE", Risk::Dangerous, LockLevel::AccessExclusive, "users.feeling"),
    ("DROP TYPE mood", Risk::Risky, LockLevel::None, "users.feeling"),
    ("DROP VIEW active_users CASCADE", Risk::Dangerous, LockLevel::AccessExclusive, "active_names"),
    ("DROP VIEW active_names", Risk::Risky, LockLevel::AccessExclusive, "running code"),
    ("DROP FUNCTION f(int) CASCADE", Risk::Dangerous, LockLevel::AccessExclusive, "trigger"),
    ("DROP FUNCTION f(int)", Risk::Risky, LockLevel::None, "calls it"),
    ("SELECT 1", Risk::Safe, LockLevel::None, ""),
    ("SELECT * FROM users WHERE id = 1 FOR UPDATE", Risk::Risky, LockLevel::RowShare, "users"),
    ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity", Risk::Dangerous, LockLevel::None, "connections"),
    ("SELECT setval('invoice_seq', 1)", Risk::Risky, LockLevel::None, "collide"),
    ("SELECT lo_unlink(123)", Risk::Dangerous, LockLevel::None, "data is gone"),
    ("SELECT dblink_exec('dbname=x', 'DROP TABLE users')", Risk::Unknown, LockLevel::None, "cannot see"),
    ("SELECT pg_advisory_lock(1)", Risk::Risky, LockLevel::None, "session-level"),
    ("SELECT pg_sleep(5)", Risk::Risky, LockLevel::None, "holding"),
    ("SELECT id INTO users_copy FROM users", Risk::Info, LockLevel::AccessShare, "users_copy"),
    ("SET session_replication_role = replica", Risk::Dangerous, LockLevel::None, "sync triggers"),
    ("SET lock_timeout = 0", Risk::Risky, LockLevel::None, "waits forever"),
    ("SET statement_timeout = 0", Risk::Risky, LockLevel::None, "unbounded"),
    ("COMMENT ON TABLE users IS 'people'", Risk::Safe, LockLevel::ShareUpdateExclusive, ""),
    ("COMMENT ON COLUMN users.email IS 'mail'", Risk::Safe, LockLevel::ShareUpdateExclusive, ""),
    ("COMMENT ON FUNCTION f(int) IS 'x'", Risk::Safe, LockLevel::None, ""),
    ("COMMENT ON CONSTRAINT users_pkey ON users IS 'key'", Risk::Safe, LockLevel::AccessShare, ""),
    ("GRANT SELECT ON users TO reporting", Risk::Risky, LockLevel::None, "GRANT"),
    (
        "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\nALTER TABLE users ALTER COLUMN email TYPE text COLLATE \"C\"",
        Risk::Dangerous,
        LockLevel::AccessExclusive,
        "rebuilds index users_email_idx under ACCESS EXCLUSIVE",
    ),
    ("ALTER TABLE users ADD COLUMN handle text UNIQUE", Risk::Risky, LockLevel::AccessExclusive, "builds its index"),
    ("ALTER TABLE users ADD COLUMN rank int CHECK (rank > 0)", Risk::Risky, LockLevel::AccessExclusive, "scans all of users"),
    (
        "CREATE UNIQUE INDEX CONCURRENTLY events_kind_key ON events (kind);\nALTER TABLE events ADD CONSTRAINT events_pk PRIMARY KEY USING INDEX events_kind_key",
        Risk::Risky,
        LockLevel::AccessExclusive,
        "kind nullable",
    ),
    (
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL);\nALTER TABLE users ALTER COLUMN email SET NOT NULL",
        Risk::Info,
        LockLevel::AccessExclusive,
        "second ALTER TABLE",
    ),
    ("DROP TABLE users CASCADE", Risk::Dangerous, LockLevel::AccessExclusive, "CASCADE also drops views active_names, active_users"),
    ("DROP TABLE users", Risk::Dangerous, LockLevel::AccessExclusive, "fails while views active_names, active_users read it"),
    ("TRUNCATE audit_log", Risk::Dangerous, LockLevel::AccessExclusive, "deletes all rows"),
];

#[test]
fn statements_get_the_verdict_their_effect_deserves() {
    let mut wrong = Vec::new();
    for (change, risk, lock, text) in VERDICTS {
        let (got_risk, got_lock, messages) = last_op(change);
        if got_risk != *risk || got_lock != *lock || !messages.contains(text) {
            wrong.push(format!(
                "{change}: expected {risk:?} / {} / `{text}`, got {got_risk:?} / {} / `{messages}`",
                lock.name(),
                got_lock.name()
            ));
        }
    }
    assert!(wrong.is_empty(), "{} verdicts wrong:\n{}", wrong.len(), wrong.join("\n"));
}

/// Each statement's first step: does it run in a transaction, and what does its SQL say.
fn first_step(change: &str) -> (bool, String) {
    let files = project();
    let out = pipeline::run(pipeline::Input::new(change, &files, PlanConfig::default(), "20261125140000"))
        .unwrap_or_else(|e| panic!("{change}: {e}"));
    let s = out.plan.steps.first().expect("a step");
    (s.transaction, s.up.clone())
}

#[test]
fn option_values_and_reindex_kinds_are_read_as_written() {
    // REINDEX SCHEMA / SYSTEM / DATABASE cannot run inside a transaction block.
    for change in ["REINDEX SYSTEM", "REINDEX SCHEMA public", "REINDEX DATABASE app"] {
        let (transaction, up) = first_step(change);
        assert!(!transaction, "{change} planned inside a transaction:\n{up}");
        assert!(!up.contains("CONCURRENTLY") || change != "REINDEX SYSTEM", "system catalogs cannot be reindexed concurrently:\n{up}");
    }
    // `(CONCURRENTLY false)` is not concurrent: the plan rebuilds concurrently instead.
    let (_, up) = first_step("REINDEX (CONCURRENTLY false) TABLE users");
    assert!(up.contains("CONCURRENTLY"), "{up}");
    assert_eq!(last_op("REINDEX (CONCURRENTLY false) TABLE users").1, LockLevel::Share);
    assert_eq!(last_op("VACUUM (FULL false) users").1, LockLevel::ShareUpdateExclusive);
    assert_eq!(last_op("VACUUM (FULL) users").1, LockLevel::AccessExclusive);
}

#[test]
fn set_not_null_after_a_validated_check_does_not_scan() {
    use zdm_core::model::Rewrite;
    for change in [
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL);\nALTER TABLE users ALTER COLUMN email SET NOT NULL",
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT c;\nALTER TABLE users ALTER COLUMN email SET NOT NULL",
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL AND score > 0), ALTER COLUMN email SET NOT NULL",
    ] {
        let files = project();
        let out = pipeline::run(pipeline::Input::new(change, &files, PlanConfig::default(), "20261125140000"))
            .unwrap_or_else(|e| panic!("{change}: {e}"));
        let c = out.analysis.ops.last().expect("SET NOT NULL");
        assert!(c.risk <= Risk::Info && c.rewrite == Rewrite::None, "{change}: {:?} / {:?}", c.risk, c.rewrite);
        let step = out.plan.steps.iter().find(|s| s.up.contains("SET NOT NULL")).expect("a SET NOT NULL step");
        assert_eq!(step.duration, "brief", "{change}");
        assert!(!step.up.contains("statement_timeout = 0"), "{change}: {}", step.up);
    }
}

fn plan_of(change: &str) -> Result<zdm_core::pipeline::Outcome, pipeline::Error> {
    let files = project();
    pipeline::run(pipeline::Input::new(change, &files, PlanConfig::default(), "20261125140000"))
}

/// Every forward SQL line of the plan, and its notes.
fn planned(change: &str) -> (String, String) {
    let out = plan_of(change).unwrap_or_else(|e| panic!("{change}: {e}"));
    (out.plan.steps.iter().map(|s| s.up.as_str()).collect::<Vec<_>>().join("\n"), out.plan.notes.join("\n"))
}

#[test]
fn statements_the_change_rolls_back_are_not_planned() {
    let (up, notes) = planned("BEGIN;\nALTER TABLE users ADD COLUMN x int;\nROLLBACK;\nALTER TABLE users ADD COLUMN y int;");
    assert!(!up.contains("ADD COLUMN x"), "{up}");
    assert!(up.contains("ADD COLUMN y"), "{up}");
    assert!(notes.contains("not planned, rolled back by ROLLBACK at 3:1: `ALTER TABLE users ADD COLUMN x int` (2:1)"), "{notes}");

    let (up, notes) = planned("BEGIN;\nDROP TABLE audit_log;\nABORT;\nALTER TABLE users ADD COLUMN y int;");
    assert!(!up.contains("DROP TABLE"), "{up}");
    assert!(notes.contains("rolled back by ABORT at 3:1"), "{notes}");

    let (up, notes) = planned(
        "BEGIN;\nALTER TABLE users ADD COLUMN a int;\nSAVEPOINT s;\nALTER TABLE users ADD COLUMN b int;\nROLLBACK TO SAVEPOINT s;\nALTER TABLE users ADD COLUMN c int;\nCOMMIT;",
    );
    assert!(up.contains("ADD COLUMN a") && up.contains("ADD COLUMN c") && !up.contains("ADD COLUMN b"), "{up}");
    assert!(notes.contains("rolled back by ROLLBACK TO s at 5:1: `ALTER TABLE users ADD COLUMN b int` (4:1)"), "{notes}");

    // RELEASE keeps what the savepoint covered; a ROLLBACK after COMMIT undoes nothing.
    let (up, notes) = planned("BEGIN;\nSAVEPOINT s;\nALTER TABLE users ADD COLUMN a int;\nRELEASE SAVEPOINT s;\nCOMMIT;\nROLLBACK;");
    assert!(up.contains("ADD COLUMN a"), "{up}");
    assert!(notes.contains("ROLLBACK at 6:1 has no open transaction"), "{notes}");

    // A second BEGIN is ignored by PostgreSQL: the first COMMIT ends the block and nothing is undone.
    let (up, notes) = planned("BEGIN;\nBEGIN;\nALTER TABLE users ADD COLUMN a int;\nCOMMIT;");
    assert!(up.contains("ADD COLUMN a"), "{up}");
    assert!(notes.contains("BEGIN at 2:1 is inside an open transaction"), "{notes}");
}

#[test]
fn transaction_statements_a_plan_cannot_run_are_errors_with_a_location() {
    let cases = [
        ("BEGIN;\nALTER TABLE users ADD COLUMN x int;\nROLLBACK;", "every statement of the change is rolled back", (3, 1)),
        ("BEGIN;\nALTER TABLE users ADD COLUMN x int;\nPREPARE TRANSACTION 'm1';", "PREPARE TRANSACTION", (3, 1)),
        ("ALTER TABLE users ADD COLUMN x int;\nCOMMIT PREPARED 'm1';", "COMMIT PREPARED finishes a transaction prepared elsewhere", (2, 1)),
        ("ALTER TABLE users ADD COLUMN x int;\nROLLBACK PREPARED 'm1';", "ROLLBACK PREPARED", (2, 1)),
        ("SAVEPOINT s;\nALTER TABLE users ADD COLUMN x int;", "SAVEPOINT can only be used in a transaction block", (1, 1)),
        ("BEGIN;\nALTER TABLE users ADD COLUMN x int;\nROLLBACK TO s;\nCOMMIT;", "savepoint \"s\" does not exist", (3, 1)),
    ];
    for (change, message, (line, col)) in cases {
        match plan_of(change) {
            Err(pipeline::Error::Plan(e)) => {
                assert!(e.message.contains(message), "{change}: {}", e.message);
                assert_eq!((e.pos.line, e.pos.col), (line, col), "{change}");
            }
            Err(e) => panic!("{change}: unexpected error {e}"),
            Ok(_) => panic!("{change}: planned"),
        }
    }
}

#[test]
fn dropped_views_no_longer_produce_notes() {
    let history = format!("{SETUP}\nCREATE VIEW user_names AS SELECT id, name FROM users;\nDROP VIEW user_names;");
    let files = ProjectFiles::new(vec![ProjectFile { path: "migrations/0001_init.sql".into(), contents: history.clone() }]);
    let change = "ALTER TABLE users RENAME COLUMN name TO full_name";
    let out = pipeline::run(pipeline::Input::new(change, &files, PlanConfig::default(), "20261125140000")).expect("plans");
    assert!(!out.plan.notes.iter().any(|n| n.contains("user_names")), "{:?}", out.plan.notes);
    assert!(out.schema.views.is_empty());
    // A view still there is still named: the rename refuses to leave it reading a dropped column.
    let kept = history.replace("DROP VIEW user_names;", "");
    let files = ProjectFiles::new(vec![ProjectFile { path: "migrations/0001_init.sql".into(), contents: kept }]);
    let out = pipeline::run(pipeline::Input::new(change, &files, PlanConfig::default(), "20261125140000"))
        .err()
        .expect("a view reading the renamed column is refused");
    assert!(out.to_string().contains("view user_names reads users.name"), "{out}");
}
