//! Sequelize CLI: the real `sequelize-cli` (npm sequelize-cli 6.6.5 with sequelize 6.37.8 and pg,
//! installed by `scripts/deps --test`) applies zdm's files with `db:migrate` and rolls back one at a
//! time with `db:migrate:undo`, reading the fixture's own config (`use_env_variable: DATABASE_URL`).

use crate::harness::{self, Fixture, Runner};
use crate::knex::node_cli;
use zdm_pg::testing::TestDb;

fn sequelize() -> String {
    harness::runner("ZDM_SEQUELIZE", ".tools/node_modules/.bin/sequelize")
}

struct SequelizeCli {
    /// The directory the CLI runs in (holding `.sequelizerc` or `config/`).
    root: &'static str,
}

impl Runner for SequelizeCli {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        node_cli(&sequelize(), fx, self.root, db, &["db:migrate"]);
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        node_cli(&sequelize(), fx, self.root, db, &["db:migrate:undo"]);
    }
}

#[test]
fn sequelize_detection_and_files() {
    let fx = Fixture::copy("sequelize/basic", "sequelize-snap");
    insta::assert_snapshot!("sequelize_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("sequelize/basic", &format!("sequelize-snap-{name}"));
        insta::assert_snapshot!(format!("sequelize_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn sequelize_runs_the_files() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("sequelize/basic", &format!("sequelize-{name}"));
        let db = TestDb::new(&format!("sequelize_{name}"));
        harness::roundtrip(&fx, &db, &SequelizeCli { root: "" }, change, check);
    }
}

/// An app in `server/` of ES modules whose hidden `.sequelizerc` moves the migrations to `db/migrations`
/// and the config to `config/database.json`: zdm's earlier `.cjs` migration is read back, new files are
/// `.cjs` (the CLI `require`s them), and the real CLI applies them there.
#[test]
fn sequelize_sequelizerc_esm_package() {
    let fx = Fixture::copy("sequelize/sequelizerc", "sequelize-rc");
    insta::assert_snapshot!("sequelize_sequelizerc_detect", fx.detect(&[]));
    let run = fx.zdm(&["plan", "DROP INDEX CONCURRENTLY users_email_idx", "--dry-run"]);
    assert_eq!(run.code, 2, "the history replayed: users has no such index\n{}{}", run.stdout, run.stderr);
    let plan = fx.plan(harness::INDEX, &[]);
    assert!(plan.contains("server/db/migrations/20261125140000-index-users-email-idx.cjs"), "{plan}");
    insta::assert_snapshot!("sequelize_sequelizerc_index", plan);

    let fx = Fixture::copy("sequelize/sequelizerc", "sequelize-rc-run");
    let db = TestDb::new("sequelize_rc");
    harness::roundtrip(&fx, &db, &SequelizeCli { root: "server" }, harness::RENAME, harness::renamed);
}

/// Text `sequelize.query` could read as replacements or binds (`?`, `:name`, `$1`), template-literal
/// syntax and backslashes reach PostgreSQL as written.
#[test]
fn sequelize_keeps_tricky_text() {
    let change = "ALTER TABLE users ADD COLUMN note text DEFAULT E'a ? :b $1 `${x}` \\\\ \\' \\n-- c';";
    let fx = Fixture::copy("sequelize/basic", "sequelize-tricky");
    let db = TestDb::new("sequelize_tricky");
    let runner = SequelizeCli { root: "" };
    runner.up(&fx, &db);
    let run = fx.zdm(&["plan", change]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    runner.up(&fx, &db);
    let mut c = db.connect();
    c.batch_execute("INSERT INTO users (email, name) VALUES ('a@b', 'x')").unwrap();
    let note: String = c.query_one("SELECT note FROM users", &[]).unwrap().get(0);
    assert_eq!(note, "a ? :b $1 `${x}` \\ ' \n-- c");
}

#[test]
fn sequelize_errors_name_the_file_and_write_nothing() {
    let cases: [(&str, &str, &str, &str); 3] = [
        ("mysql", "\"dialect\": \"postgres\"", "\"dialect\": \"mysql\"", "config/config.json"),
        ("malformed", "\"development\": {", "\"development\": ", "config/config.json: not valid JSON"),
        ("ambiguous", "", "", "more than one migration setup"),
    ];
    for (name, from, to, expected) in cases {
        let fx = Fixture::copy("sequelize/basic", &format!("sequelize-err-{name}"));
        let config = std::fs::read_to_string(fx.path("config/config.json")).unwrap();
        let mut edited = vec!["config/config.json".to_string()];
        if name == "ambiguous" {
            std::fs::create_dir_all(fx.path("admin/migrations")).unwrap();
            std::fs::write(fx.path("admin/.sequelizerc"), "module.exports = {};\n").unwrap();
            std::fs::write(fx.path("admin/migrations/20240101000000-init.js"), "module.exports = { up() {}, down() {} };\n").unwrap();
            edited = vec!["admin/.sequelizerc".into(), "admin/migrations/20240101000000-init.js".into()];
        } else {
            std::fs::write(fx.path("config/config.json"), config.replace(from, to)).unwrap();
        }
        let run = fx.zdm(&["plan", harness::SAFE]);
        assert_eq!(run.code, 2, "{name}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(expected), "{name}: {}", run.stderr);
        let written: Vec<String> = fx.written().into_iter().map(|(p, _)| p).collect();
        assert_eq!(written, edited, "{name}: only the test's own edits");
    }
}
