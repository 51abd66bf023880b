//! Live introspection against the throwaway PostgreSQL: the schema read from the database equals the one
//! replayed from the same DDL, drift is seen, weights come from the statistics.

use zdm_core::model::{ConstraintKind, Schema, SchemaSource};
use zdm_pg::introspect::{self, Limits};
use zdm_pg::testing::TestDb;

const FIXTURE: &str = include_str!("../../../tests/fixtures/live/every_kind.sql");

/// What cannot match between a catalog and a migration file, and why:
/// - the source (live vs migrations);
/// - a foreign key written `REFERENCES users` names no columns, the catalog always records them: the
///   referenced primary key is filled in;
/// - the order of constraints: files list them in the order written, the catalog in creation order
///   (which differs for inline ones): sorted by name;
/// - a type's spelling: the catalog keeps the type, not the alias a migration wrote (`timestamptz`):
///   both sides go through `schema::canonical_type`;
/// - a literal default: the catalog stores it cast to the column's type (`'active'::status_kind`):
///   both sides go through `schema::canonical_default`.
fn normalized(mut s: Schema) -> Schema {
    s.source = SchemaSource::Unknown;
    for c in s.tables.values_mut().flat_map(|t| &mut t.columns) {
        c.type_sql = zdm_core::schema::canonical_type(&c.type_sql);
        c.default = c.default.as_deref().map(|d| zdm_core::schema::canonical_default(d, &c.type_sql));
    }
    let pks: std::collections::BTreeMap<String, Vec<String>> =
        s.tables.iter().filter_map(|(k, t)| t.primary_key().map(|p| (k.clone(), p.to_vec()))).collect();
    for t in s.tables.values_mut() {
        for c in &mut t.constraints {
            if let ConstraintKind::ForeignKey { ref_table, ref_columns, .. } = &mut c.kind
                && ref_columns.is_empty()
            {
                *ref_columns = pks.get(&ref_table.key()).cloned().unwrap_or_default();
            }
        }
        t.constraints.sort_by(|a, b| a.name.cmp(&b.name));
    }
    s
}

#[test]
fn live_schema_equals_replayed_history() {
    let db = TestDb::new("introspect_every_kind");
    db.connect().batch_execute(FIXTURE).expect("fixture applies");
    let facts = introspect::introspect(&db.url(), Limits::default()).expect("introspects");
    let live = facts.schema.clone().expect("schema");
    assert!(matches!(&live.source, SchemaSource::Live { database } if !database.is_empty()));
    let (files, warnings) = zdm_core::schema::replay("db/migrations", &[("001_all.sql".into(), FIXTURE.into())]);
    assert!(warnings.is_empty(), "{warnings:?}");
    let (live, files) = (normalized(live), normalized(files));
    for (k, t) in &files.tables {
        assert_eq!(live.tables.get(k), Some(t), "table {k}");
    }
    assert_eq!(live.tables.keys().collect::<Vec<_>>(), files.tables.keys().collect::<Vec<_>>());
    for (k, i) in &files.indexes {
        assert_eq!(live.indexes.get(k), Some(i), "index {k}");
    }
    assert_eq!(live.indexes.keys().collect::<Vec<_>>(), files.indexes.keys().collect::<Vec<_>>());
    assert_eq!(live.enums, files.enums);
    assert_eq!(live.domains, files.domains);
    assert_eq!(live.views, files.views);
    assert_eq!(live.comments, files.comments);
    assert_eq!(live, files);
    // Facts the schema model has no place for.
    assert_eq!(facts.server_major, 15);
    assert!(facts.extensions.iter().any(|e| e.starts_with("pgcrypto ")), "{:?}", facts.extensions);
    assert!(facts.sequences.contains(&"order_numbers".to_string()), "{:?}", facts.sequences);
    assert!(facts.sequences.contains(&"users_id_seq".to_string()));
    assert_eq!(facts.triggers, vec!["billing.invoices: invoices_touch".to_string()]);
    assert_eq!(facts.inherits, vec![("audit_logins".to_string(), "audit_base".to_string())]);
    assert!(facts.dependencies.contains(&("active_users".to_string(), "users".to_string())), "{:?}", facts.dependencies);
    assert!(facts.dependencies.contains(&("invoice_totals".to_string(), "billing.invoices".to_string())));
    assert!(facts.invalid_indexes.is_empty());
    assert!(facts.missing.is_empty(), "{:?}", facts.missing);
    // Weights: nothing written, so every table is known empty.
    let users = &facts.stats["users"];
    assert_eq!((users.rows, users.rows_unknown), (0, false), "{users:?}");
    assert!(users.bytes > 0);
}

#[test]
fn the_session_is_read_only_and_closed() {
    let db = TestDb::new("introspect_read_only");
    db.connect().batch_execute("CREATE TABLE t (id int)").expect("setup");
    let facts = introspect::introspect(&db.url(), Limits::default()).expect("introspects");
    assert!(facts.schema.expect("schema").tables.contains_key("t"));
    // The session ends with the read (the backend exits shortly after the client hangs up).
    let mut c = db.connect();
    let open = |c: &mut zdm_pg::Client| {
        c.query_one("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'zdm'", &[]).expect("activity").get::<_, i64>(0)
    };
    let mut n = open(&mut c);
    for _ in 0..50 {
        if n == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        n = open(&mut c);
    }
    assert_eq!(n, 0);
}

mod support;

use std::process::{Command, Output};
use support::project::Project;

/// `zdm ARGS --dir PROJECT`, with no connection string in the environment.
fn zdm(project: &Project, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zdm"))
        .args(args)
        .arg("--dir")
        .arg(&project.0)
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .env_remove("RAILS_ENV")
        .env_remove("ZDM_ENV")
        .env_remove("ZDM_OFFLINE")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn dbmate(sql: &str) -> String {
    format!("-- migrate:up\n{sql}\n-- migrate:down\nSELECT 1;\n")
}

/// The history's DDL both in the project and in the database.
fn project_and_db(name: &str, sql: &str) -> (Project, TestDb) {
    let db = TestDb::new(name);
    db.connect().batch_execute(sql).expect("setup applies");
    (Project::new(name, &[("db/migrations/20260101000000_init.sql", &dbmate(sql))]), db)
}

/// Output with the test database's address (which holds a process id and socket path) replaced.
fn stable(text: &str, db: &TestDb) -> String {
    let mut c = db.connect();
    let version: String = c.query_one("SHOW server_version", &[]).unwrap().get(0);
    let version = version.split_whitespace().next().unwrap_or_default().to_string();
    text.replace(&introspect::describe(&db.url()), "HOST:PORT/DB").replace(&db.url(), "URL").replace(&version, "VERSION")
}

const ACCOUNTS: &str = "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);";
const UNIQUE_EMAIL: &str = "ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email)";

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

fn step_count(v: &serde_json::Value) -> usize {
    v["steps"].as_array().map_or(0, Vec::len)
}

#[test]
fn drift_is_reported_in_the_plan_and_in_zdm_schema() {
    let (p, db) = project_and_db("live_drift", "CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL);");
    db.connect().batch_execute("ALTER TABLE users ALTER COLUMN name DROP NOT NULL").unwrap();
    let url = db.url();
    let v = json(&zdm(&p, &["plan", "--dry-run", "--format", "json", "--database-url", &url, "ALTER TABLE users ADD COLUMN age int"]));
    let drift = v["drift"].as_array().expect("drift array");
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(drift[0]["message"], "migrations say users.name text NOT NULL; the database has it nullable");
    assert_eq!(v["schema"]["source"], "live");
    assert!(v["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().starts_with("drift: migrations say users.name")));
    let text = stdout(&zdm(&p, &["schema", "--database-url", &url]));
    assert!(text.contains("  - migrations say users.name text NOT NULL; the database has it nullable"), "{text}");
    // Without drift: none.
    db.connect().batch_execute("ALTER TABLE users ALTER COLUMN name SET NOT NULL").unwrap();
    let v = json(&zdm(&p, &["plan", "--dry-run", "--format", "json", "--database-url", &url, "ALTER TABLE users ADD COLUMN age int"]));
    assert_eq!(v["drift"], serde_json::json!([]));
}

#[test]
fn an_empty_table_takes_the_simple_path_and_a_large_one_the_staged_path_by_hint() {
    let p = Project::new("live_hints", &[("db/migrations/20260101000000_init.sql", &dbmate(ACCOUNTS))]);
    let empty = json(&zdm(&p, &["plan", "--dry-run", "--format", "json", "--table-size", "accounts=0", UNIQUE_EMAIL]));
    let large = json(&zdm(&p, &["plan", "--dry-run", "--format", "json", "--table-size", "accounts=50M", UNIQUE_EMAIL]));
    assert_eq!(empty["tables"]["accounts"]["class"], "empty");
    assert_eq!(large["tables"]["accounts"]["class"], "large");
    assert_eq!(large["tables"]["accounts"]["rows"], 50_000_000);
    assert_eq!(step_count(&empty), 1, "{empty:#}");
    assert!(step_count(&large) > 1, "{large:#}");
    assert!(
        empty["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "accounts is empty (--table-size): changes to it run as written, no staging")
    );
    // zdm.toml hints, and its thresholds.
    std::fs::write(p.0.join("zdm.toml"), "[tables]\naccounts = 0\n").unwrap();
    let toml = json(&zdm(&p, &["plan", "--dry-run", "--format", "json", UNIQUE_EMAIL]));
    assert_eq!(toml["tables"]["accounts"]["class"], "empty");
    assert_eq!(step_count(&toml), 1);
    // The flag beats the file.
    let flag = json(&zdm(&p, &["plan", "--dry-run", "--format", "json", "--table-size", "accounts=5M", UNIQUE_EMAIL]));
    assert_eq!(flag["tables"]["accounts"]["class"], "large");
    std::fs::write(p.0.join("zdm.toml"), "[tables]\naccounts = \"lots\"\n").unwrap();
    let bad = zdm(&p, &["plan", "--dry-run", UNIQUE_EMAIL]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("zdm.toml"), "{}", stderr(&bad));
}

#[test]
fn live_statistics_decide_the_class() {
    let (p, db) = project_and_db("live_stats", ACCOUNTS);
    let url = db.url();
    db.connect().batch_execute("ANALYZE accounts").unwrap();
    let empty = json(&zdm(&p, &["plan", "--dry-run", "--format", "json", "--database-url", &url, UNIQUE_EMAIL]));
    assert_eq!(empty["tables"]["accounts"]["class"], "empty", "{empty:#}");
    assert_eq!(step_count(&empty), 1);
    db.connect().batch_execute("INSERT INTO accounts SELECT g, 'u' || g FROM generate_series(1, 2000) g; ANALYZE accounts").unwrap();
    std::fs::write(p.0.join("zdm.toml"), "[thresholds]\nlarge_rows = 1000\n").unwrap();
    let large = json(&zdm(&p, &["plan", "--dry-run", "--format", "json", "--database-url", &url, UNIQUE_EMAIL]));
    assert_eq!(large["tables"]["accounts"]["class"], "large", "{large:#}");
    assert_eq!(large["tables"]["accounts"]["rows"], 2000);
    assert_eq!(large["tables"]["accounts"]["from"], "reltuples");
    assert!(step_count(&large) > 1);
    // The server's version is the default target.
    assert_eq!(large["stack"]["version"], 15);
}

#[test]
fn an_explicit_url_that_fails_stops_with_the_address_and_no_password() {
    let p = Project::new("live_fail", &[("db/migrations/20260101000000_init.sql", &dbmate(ACCOUNTS))]);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("postgres://app:hunter2@127.0.0.1:{port}/shop");
    let out = zdm(&p, &["plan", "--dry-run", "--database-url", &url, UNIQUE_EMAIL]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!("cannot read the database at 127.0.0.1:{port}/shop")), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_discovered_url_that_fails_falls_back_to_the_files_with_a_note() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let env = format!("DATABASE_URL=postgres://app:hunter2@127.0.0.1:{port}/shop\n");
    let p = Project::new("live_fallback", &[("db/migrations/20260101000000_init.sql", &dbmate(ACCOUNTS)), (".env", &env)]);
    let out = zdm(&p, &["plan", "--dry-run", UNIQUE_EMAIL]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(e.contains(&format!("cannot read the database at 127.0.0.1:{port}/shop")), "{e}");
    assert!(e.contains("URL from DATABASE_URL in .env"), "{e}");
    assert!(!o.contains("hunter2") && !e.contains("hunter2"));
    let v = json(&zdm(&p, &["plan", "--dry-run", "--format", "json", UNIQUE_EMAIL]));
    assert_eq!(v["schema"]["source"], "migrations");
    assert!(v["notes"][0].as_str().unwrap().contains("planned from the project's files"), "{v:#}");
    // --offline does not try.
    let off = zdm(&p, &["plan", "--dry-run", "--offline", UNIQUE_EMAIL]);
    assert!(off.status.success());
    assert!(!stderr(&off).contains("cannot read"), "{}", stderr(&off));
}

#[test]
fn a_server_that_never_answers_times_out() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let p = Project::new("live_timeout", &[("db/migrations/20260101000000_init.sql", &dbmate(ACCOUNTS))]);
    let url = format!("postgres://app:hunter2@127.0.0.1:{port}/shop");
    let started = std::time::Instant::now();
    let out = zdm(&p, &["plan", "--dry-run", "--connect-timeout", "1", "--database-url", &url, UNIQUE_EMAIL]);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!("127.0.0.1:{port}/shop: no answer within 1000 ms")), "{err}");
    assert!(!err.contains("hunter2"));
    drop(silent);
}

#[test]
fn a_role_without_rights_to_the_statistics_gets_the_rest() {
    let (p, db) = project_and_db("live_rights", ACCOUNTS);
    db.connect()
        .batch_execute("CREATE ROLE zdm_limited LOGIN; REVOKE SELECT ON pg_catalog.pg_stat_user_tables FROM PUBLIC; REVOKE SELECT ON pg_catalog.pg_stat_database FROM PUBLIC")
        .unwrap();
    let url = db.url().replacen("postgres@", "zdm_limited@", 1);
    let v = json(&zdm(&p, &["plan", "--dry-run", "--format", "json", "--database-url", &url, UNIQUE_EMAIL]));
    assert_eq!(v["schema"]["source"], "live");
    let notes = v["notes"].as_array().unwrap();
    assert!(notes.iter().any(|n| n.as_str().unwrap().starts_with("not read from the database: write rates (")), "{notes:?}");
    db.connect().batch_execute("DROP OWNED BY zdm_limited; DROP ROLE zdm_limited").unwrap();
}

#[test]
fn zdm_schema_snapshots() {
    let (p, db) = project_and_db(
        "live_schema",
        "CREATE TYPE mood AS ENUM ('ok', 'meh');\nCREATE TABLE users (id bigserial PRIMARY KEY, email varchar(255) NOT NULL UNIQUE, mood mood DEFAULT 'ok', created_at timestamptz NOT NULL DEFAULT now());\nCREATE TABLE posts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id), body text);\nCREATE INDEX posts_user_id_idx ON posts (user_id);",
    );
    db.connect()
        .batch_execute(
            "ALTER TABLE posts ADD COLUMN title text; INSERT INTO users (email) SELECT 'u' || g FROM generate_series(1, 10) g; ANALYZE",
        )
        .unwrap();
    let url = db.url();
    let text = zdm(&p, &["schema", "--database-url", &url]);
    assert!(text.status.success(), "{}", stderr(&text));
    // Sizes in bytes depend on the page layout of the build: the weight line is checked apart.
    let shown = stable(&stdout(&text), &db);
    assert!(shown.contains("users  [live · 10 rows · "), "{shown}");
    let bytes = regex_free_bytes(&shown);
    insta::assert_snapshot!("zdm_schema_text", bytes);
    let mut v = json(&zdm(&p, &["schema", "--database-url", &url, "--format", "json", "--table", "posts"]));
    v["source"]["database"] = "HOST:PORT/DB".into();
    v["server_version"] = "VERSION".into();
    v["tables"]["posts"]["weight"]["bytes"] = 0.into();
    v["tables"]["posts"]["weight"]["writes_per_sec"] = serde_json::Value::Null;
    insta::assert_snapshot!("zdm_schema_json", serde_json::to_string_pretty(&v).unwrap());
    let offline = zdm(&p, &["schema", "--offline", "--table", "users"]);
    insta::assert_snapshot!("zdm_schema_offline", stdout(&offline));
    let missing = zdm(&p, &["schema", "--offline", "--table", "nope"]);
    assert_eq!(missing.status.code(), Some(2));
}

/// Replaces sizes (`16 kB`) and write rates, which vary with the build and the clock.
fn regex_free_bytes(text: &str) -> String {
    text.lines()
        .map(|l| match l.find(" rows · ") {
            Some(i) if l.contains('[') => {
                let class = l.rsplit(" · ").next().unwrap_or("");
                format!("{} rows · SIZE · {class}", &l[..i])
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn an_invalid_index_is_named_and_a_never_analyzed_table_is_not_empty() {
    let db = TestDb::new("live_invalid_index");
    let mut c = db.connect();
    c.batch_execute("CREATE TABLE dup (v int); INSERT INTO dup VALUES (1), (1);").unwrap();
    assert!(c.batch_execute("CREATE UNIQUE INDEX CONCURRENTLY dup_v_key ON dup (v)").is_err());
    let facts = introspect::introspect(&db.url(), Limits::default()).expect("introspects");
    assert_eq!(facts.invalid_indexes, vec!["dup_v_key".to_string()]);
    // Never analyzed, two rows written: not known empty, whatever reltuples says.
    let s = &facts.stats["dup"];
    assert!(!s.is_empty(), "{s:?}");
}

/// TLS as `sslmode` asks, over TCP to the test cluster (which runs with `ssl=on` and a throwaway
/// self-signed certificate): `require` and `prefer` encrypt (the server's `pg_stat_ssl` says so),
/// `disable` does not, `verify-full` checks the certificate and refuses the self-signed one with the cause;
/// a whole introspection runs over TLS.
#[test]
fn tls_follows_sslmode() {
    let db = TestDb::new("tls");
    let ssl: String = db.connect().query_one("SHOW ssl", &[]).unwrap().get(0);
    if ssl != "on" {
        assert!(std::env::var("DATABASE_URL").is_ok(), "the test cluster runs with ssl=on (openssl makes its certificate)");
        eprintln!("tls_follows_sslmode: skipped, the server at DATABASE_URL has ssl off");
        return;
    }
    // jdbc:postgresql://127.0.0.1:PORT/DB?user=postgres&sslmode=disable → a libpq URL without sslmode.
    let jdbc = db.jdbc_url();
    let tcp = jdbc.replacen("jdbc:postgresql://", "postgres://", 1).replace("&sslmode=disable", "");
    let timeout = std::time::Duration::from_secs(5);
    let encrypted = |mode: &str| -> bool {
        let mut c = introspect::connect(&format!("{tcp}&sslmode={mode}"), timeout, None).unwrap_or_else(|e| panic!("{mode}: {e}"));
        c.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).unwrap().get(0)
    };
    assert!(encrypted("require"));
    assert!(encrypted("prefer"));
    assert!(!encrypted("disable"));
    let refused = introspect::connect(&format!("{tcp}&sslmode=verify-full"), timeout, None)
        .err()
        .expect("a self-signed certificate fails verify-full");
    assert!(refused.to_lowercase().contains("certificate"), "{refused}");
    let facts = introspect::introspect(&format!("{tcp}&sslmode=require"), Limits::default()).unwrap();
    assert!(facts.schema.is_some());
}
