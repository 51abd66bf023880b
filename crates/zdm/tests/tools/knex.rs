//! Knex: the real knex CLI (npm knex 3.3.0 with pg, installed by `scripts/deps --test`) applies zdm's
//! files with `knex migrate:latest` and rolls back one file at a time with `knex migrate:down`, reading
//! the fixture's own knexfile (`connection: process.env.DATABASE_URL`).

use crate::harness::{self, Fixture, Runner};
use std::process::Command;
use zdm_pg::testing::TestDb;

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

/// Runs a Node CLI in the fixture copy (`cwd` inside it) with `DATABASE_URL` set: (succeeded, output).
pub(crate) fn node_run(program: &str, fx: &Fixture, cwd: &str, db: &TestDb, args: &[&str]) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .env("DATABASE_URL", node_url(db))
        // The copy has no node_modules: the CLIs' own packages (pg, knex, sequelize, typeorm) are found here.
        .env("NODE_PATH", harness::repo_root().join(".tools/node_modules"))
        .current_dir(fx.path(cwd))
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// A Node migration CLI from `.tools/node_modules/.bin` (`$env` overrides the path) as a [`Runner`]:
/// `up` / `down` are its arguments, run in `root` of the fixture copy; a failure stops the test with
/// the CLI's output.
pub(crate) struct NodeCli {
    pub env: &'static str,
    pub bin: &'static str,
    pub root: &'static str,
    pub up: &'static [&'static str],
    pub down: &'static [&'static str],
}

impl NodeCli {
    pub(crate) fn program(&self) -> String {
        zdm_pg::testing::installed_runner(self.env, &format!(".tools/node_modules/.bin/{}", self.bin))
    }

    fn run(&self, fx: &Fixture, db: &TestDb, args: &[&str]) {
        let (ok, text) = node_run(&self.program(), fx, self.root, db, args);
        assert!(ok, "{} {args:?} failed:\n{text}", self.bin);
    }
}

impl Runner for NodeCli {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        self.run(fx, db, self.up);
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        self.run(fx, db, self.down);
    }
}

/// The tricky default every Node tool is tested with, and what PostgreSQL must store.
pub(crate) const TRICKY: (&str, &str) =
    ("ALTER TABLE users ADD COLUMN note text DEFAULT E'a ? :b $1 `${x}` \\\\ \\' \\n-- c'", "a ? :b $1 `${x}` \\ ' \n-- c");

const KNEX: NodeCli = NodeCli { env: "ZDM_KNEX", bin: "knex", root: "", up: &["migrate:latest"], down: &["migrate:down"] };

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
        harness::roundtrip(&fx, &db, &KNEX, change, check);
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

/// Text that knex.raw would bind (`?`, also in a second statement with jsonb's `?` operator),
/// template-literal syntax and backslashes reach PostgreSQL as written.
#[test]
fn knex_keeps_tricky_text() {
    let db = TestDb::new("knex_tricky");
    let change = format!("{};\nCREATE INDEX users_tags_idx ON users (email) WHERE email <> '?' AND '{{\"a\":1}}'::jsonb ? 'a';", TRICKY.0);
    let fx = Fixture::copy("knex/basic", "knex-tricky");
    let mut c = harness::keeps_tricky_text(&fx, &KNEX, &db, &change, TRICKY.1);
    let def: String = c.query_one("SELECT pg_get_indexdef('users_tags_idx'::regclass)", &[]).unwrap().get(0);
    assert!(def.contains("<> '?'::text") && def.contains("? 'a'"), "{def}");
}

#[test]
fn knex_errors_name_the_file_and_write_nothing() {
    let edits = [
        ("client: 'pg'", "client: 'mysql2'", "mysql"),
        ("directory: './migrations'", "directory: '../../elsewhere'", "outside the project"),
    ];
    let twin = [
        ("admin/knexfile.js", None),
        ("admin/migrations/20240101000000_init.js", Some("exports.up = () => {};\nexports.down = () => {};\n")),
    ];
    refuses_bad_setups("knex/basic", "knexfile.js", "knexfile.js", &edits, &twin);
}

/// The setups a Node tool must refuse, each on a fresh copy of `fixture`: `config` edited (`from` →
/// `to`; stderr says `expected`), and `twin` files added (`None`: a copy of `config`) making a second,
/// equally strong setup. Each time `zdm plan` exits 2, stderr names `names`, and zdm writes nothing.
pub(crate) fn refuses_bad_setups(fixture: &str, config: &str, names: &str, edits: &[(&str, &str, &str)], twin: &[(&str, Option<&str>)]) {
    let cases = edits.iter().map(|&(from, to, expected)| (Some((from, to)), expected)).chain([(None, "more than one migration setup")]);
    for (i, (edit, expected)) in cases.enumerate() {
        let fx = Fixture::copy(fixture, &format!("refuses-{i}"));
        let original = std::fs::read_to_string(fx.path(config)).unwrap();
        let mut edited: Vec<String> = Vec::new();
        if let Some((from, to)) = edit {
            assert!(original.contains(from), "{config} holds {from}");
            std::fs::write(fx.path(config), original.replace(from, to)).unwrap();
            edited.push(config.to_string());
        } else {
            for (path, contents) in twin {
                std::fs::create_dir_all(fx.path(path).parent().unwrap()).unwrap();
                std::fs::write(fx.path(path), contents.unwrap_or(&original)).unwrap();
                edited.push((*path).to_string());
            }
            edited.sort();
        }
        let run = fx.zdm(&["plan", harness::SAFE]);
        assert_eq!(run.code, 2, "{expected}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(names) && run.stderr.contains(expected), "{expected}: {}", run.stderr);
        let written: Vec<String> = fx.written().into_iter().map(|(p, _)| p).collect();
        assert_eq!(written, edited, "{expected}: only the test's own edits");
    }
}
