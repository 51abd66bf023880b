//! Sequelize CLI: the real `sequelize-cli` (npm sequelize-cli 6.6.5 with sequelize 6.37.8 and pg,
//! installed by `scripts/deps --test`) applies zdm's files with `db:migrate` and rolls back one at a
//! time with `db:migrate:undo`, reading the fixture's own config (`use_env_variable: DATABASE_URL`).

use crate::harness::{self, Fixture};
use crate::knex::{NodeCli, TRICKY, refuses_bad_setups};
use zdm_pg::testing::TestDb;

/// The sequelize CLI run in `root` (the directory holding `.sequelizerc` or `config/`).
const fn sequelize(root: &'static str) -> NodeCli {
    NodeCli { env: "ZDM_SEQUELIZE", bin: "sequelize", root, up: &["db:migrate"], down: &["db:migrate:undo"] }
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
        harness::roundtrip(&fx, &db, &sequelize(""), change, check);
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
    harness::roundtrip(&fx, &db, &sequelize("server"), harness::RENAME, harness::renamed);
}

/// Text `sequelize.query` could read as replacements or binds (`?`, `:name`, `$1`), template-literal
/// syntax and backslashes reach PostgreSQL as written.
#[test]
fn sequelize_keeps_tricky_text() {
    let db = TestDb::new("sequelize_tricky");
    let fx = Fixture::copy("sequelize/basic", "sequelize-tricky");
    harness::keeps_tricky_text(&fx, &sequelize(""), &db, TRICKY.0, TRICKY.1);
}

#[test]
fn sequelize_errors_name_the_file_and_write_nothing() {
    let edits = [
        ("\"dialect\": \"postgres\"", "\"dialect\": \"mysql\"", "mysql"),
        ("\"development\": {", "\"development\": ", "config/config.json: not valid JSON"),
    ];
    let twin = [
        ("admin/.sequelizerc", Some("module.exports = {};\n")),
        ("admin/migrations/20240101000000-init.js", Some("module.exports = { up() {}, down() {} };\n")),
    ];
    refuses_bad_setups("sequelize/basic", "config/config.json", "config/config.json", &edits, &twin);
}
