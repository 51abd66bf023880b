//! Knex: the real knex CLI (npm knex 3.3.0 with pg, installed by `scripts/deps --test`) applies zdm's
//! files with `knex migrate:latest` and rolls back one file at a time with `knex migrate:down`, reading
//! the fixture's own knexfile (`connection: process.env.DATABASE_URL`).

use crate::harness::{self, Fixture, Runner};
use std::process::Command;
use zdm_pg::testing::TestDb;

fn knex() -> String {
    harness::runner("ZDM_KNEX", ".tools/node_modules/.bin/knex")
}

/// The test database's URL for Node tools. Knex parses a connection string with WHATWG `URL` first (a
/// URL with no host reads as a SQLite file name), so the test cluster is reached over TCP on 127.0.0.1
/// (the address its JDBC URL uses) rather than its unix socket.
pub(crate) fn node_url(db: &TestDb) -> String {
    let url = db.url();
    if !url.contains("socket=") {
        return url;
    }
    let jdbc = db.jdbc_url();
    let rest = jdbc.strip_prefix("jdbc:postgresql://").expect("a jdbc:postgresql URL");
    let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
    let user = query.split('&').find_map(|p| p.strip_prefix("user=")).unwrap_or("postgres");
    format!("postgres://{user}@{address}?sslmode=disable")
}

/// Runs a Node CLI in the fixture copy with `DATABASE_URL` set; its output when it succeeds.
pub(crate) fn node_cli(program: &str, fx: &Fixture, cwd: &str, db: &TestDb, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .env("DATABASE_URL", node_url(db))
        // The copy has no node_modules: the CLIs' own packages (pg, knex, sequelize, typeorm) are found here.
        .env("NODE_PATH", harness::repo_root().join(".tools/node_modules"))
        .current_dir(fx.path(cwd))
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{program} {args:?} failed:\n{text}");
    text
}

struct KnexCli {
    /// The directory holding the knexfile.
    root: &'static str,
}

impl Runner for KnexCli {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        node_cli(&knex(), fx, self.root, db, &["migrate:latest"]);
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        node_cli(&knex(), fx, self.root, db, &["migrate:down"]);
    }
}

#[test]
fn knex_detection_and_files() {
    let fx = Fixture::copy("knex/basic", "knex-snap");
    insta::assert_snapshot!("knex_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("knex/basic", &format!("knex-snap-{name}"));
        insta::assert_snapshot!(format!("knex_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn knex_runs_the_files() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("knex/basic", &format!("knex-{name}"));
        let db = TestDb::new(&format!("knex_{name}"));
        harness::roundtrip(&fx, &db, &KnexCli { root: "" }, change, check);
    }
}

/// A workspace package with a TypeScript knexfile whose directory is a `path.join(__dirname, …)`: the
/// TypeScript migration zdm wrote earlier is read back (its table is in the schema), the one written by
/// hand is a blind spot, and the new file is TypeScript with `export const config`.
#[test]
fn knex_monorepo_typescript() {
    let fx = Fixture::copy("knex/monorepo", "knex-monorepo");
    insta::assert_snapshot!("knex_monorepo_detect", fx.detect(&[]));
    let run = fx.zdm(&["plan", "ALTER TABLE customers RENAME COLUMN loyalty_tier TO tier", "--dry-run", "--format", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let schema = &json["schema"];
    assert_eq!((schema["files"].as_i64(), schema["tables"].as_i64()), (Some(1), Some(1)), "zdm's customers migration replayed: {schema}");
    let blind: Vec<&str> = schema["blind_spots"].as_array().unwrap().iter().map(|b| b["path"].as_str().unwrap()).collect();
    assert_eq!(blind, ["packages/api/src/db/migrations/20250310080000_create_products.ts"], "{schema}");
    let plan = fx.plan(harness::INDEX.replace("users", "customers").as_str(), &[]);
    assert!(plan.contains("packages/api/src/db/migrations/20261125140000_"), "{plan}");
    assert!(plan.contains("export const config = { transaction: false };"), "{plan}");
    insta::assert_snapshot!("knex_monorepo_index", plan);
}

/// Text that knex.raw would bind (`?`), template-literal syntax and backslashes reach PostgreSQL as written.
#[test]
fn knex_keeps_tricky_text() {
    let change = "ALTER TABLE users ADD COLUMN note text DEFAULT E'a ? b `${x}` \\\\ \\' \\n-- c';\nCREATE INDEX users_tags_idx ON users (email) WHERE email <> '?' AND '{\"a\":1}'::jsonb ? 'a';";
    let fx = Fixture::copy("knex/basic", "knex-tricky");
    let db = TestDb::new("knex_tricky");
    let runner = KnexCli { root: "" };
    runner.up(&fx, &db);
    let run = fx.zdm(&["plan", change]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    runner.up(&fx, &db);
    let mut c = db.connect();
    c.batch_execute("INSERT INTO users (email, name) VALUES ('a@b', 'x')").unwrap();
    let note: String = c.query_one("SELECT note FROM users", &[]).unwrap().get(0);
    assert_eq!(note, "a ? b `${x}` \\ ' \n-- c");
    let def: String = c.query_one("SELECT pg_get_indexdef('users_tags_idx'::regclass)", &[]).unwrap().get(0);
    assert!(def.contains("<> '?'::text") && def.contains("? 'a'"), "{def}");
}

#[test]
fn knex_errors_name_the_file_and_write_nothing() {
    let cases: [(&str, &str, &str, &str); 3] = [
        ("mysql", "client: 'pg'", "client: 'mysql2'", "mysql"),
        ("outside", "directory: './migrations'", "directory: '../../elsewhere'", "outside the project"),
        ("ambiguous", "", "", "more than one migration setup"),
    ];
    for (name, from, to, expected) in cases {
        let fx = Fixture::copy("knex/basic", &format!("knex-err-{name}"));
        let knexfile = std::fs::read_to_string(fx.path("knexfile.js")).unwrap();
        let mut edited = vec!["knexfile.js".to_string()];
        if name == "ambiguous" {
            std::fs::create_dir_all(fx.path("admin/migrations")).unwrap();
            std::fs::write(fx.path("admin/knexfile.js"), &knexfile).unwrap();
            std::fs::write(fx.path("admin/migrations/20240101000000_init.js"), "exports.up = () => {};\nexports.down = () => {};\n")
                .unwrap();
            edited = vec!["admin/knexfile.js".into(), "admin/migrations/20240101000000_init.js".into()];
        } else {
            std::fs::write(fx.path("knexfile.js"), knexfile.replace(from, to)).unwrap();
        }
        let run = fx.zdm(&["plan", harness::SAFE]);
        assert_eq!(run.code, 2, "{name}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("knexfile.js") && run.stderr.contains(expected), "{name}: {}", run.stderr);
        let written: Vec<String> = fx.written().into_iter().map(|(p, _)| p).collect();
        assert_eq!(written, edited, "{name}: only the test's own edits");
    }
}
