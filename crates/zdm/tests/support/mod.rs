//! Shared helpers for the tests that run generated migrations on a real PostgreSQL.
#![allow(dead_code)] // each test binary uses a different subset

pub mod project;

use zdm_core::model::{PgVersion, ProjectFile, ProjectFiles};
use zdm_core::pipeline::{self, Outcome};
use zdm_core::plan::PlanConfig;
use zdm_pg::Client;
use zdm_pg::runner::{self, Direction};
use zdm_pg::testing::TestDb;

/// The existing schema and data every case starts from (a project's first migration).
pub const SETUP: &str = include_str!("../../../../tests/fixtures/setup.sql");

/// Project files holding `setup` as the first dbmate migration (empty `setup`: no schema at all).
pub fn project(setup: &str) -> ProjectFiles {
    let mut files = ProjectFiles::default();
    if !setup.is_empty() {
        files.files.push(ProjectFile {
            path: "db/migrations/20260101000000_init.sql".into(),
            contents: format!("-- migrate:up\n{setup}\n-- migrate:down\nSELECT 1;\n"),
        });
    }
    files
}

/// Plans `change` against a project whose history is `setup`.
pub fn plan(setup: &str, change: &str, pg: u32) -> Outcome {
    plan_with(setup, change, PlanConfig { pg: PgVersion(pg), ..PlanConfig::default() })
}

/// Plans `change` against a project whose history is `setup`, with these settings.
pub fn plan_with(setup: &str, change: &str, config: PlanConfig) -> Outcome {
    let files = project(setup);
    pipeline::run(pipeline::Input::new(change, &files, config, "20261125140000")).unwrap_or_else(|e| panic!("plan failed: {e}"))
}

/// Everything about the public schema that a rollback must restore, as sorted text.
pub fn fingerprint(c: &mut Client) -> String {
    zdm_pg::testing::fingerprint(c)
}

/// Applies every generated file in one direction (down runs in reverse order).
pub fn apply_all(c: &mut Client, out: &Outcome, direction: Direction) {
    let mut files: Vec<_> = out.files.iter().collect();
    if direction == Direction::Down {
        files.reverse();
    }
    for f in files {
        runner::apply(c, &f.contents, direction).unwrap_or_else(|e| panic!("{direction:?} {} failed: {e}\n{}", f.path, f.contents));
    }
}

/// A database loaded with `setup`, the plan for `change`, and proof that its files run all up, all down
/// (restoring the schema exactly) and all up again (reaching the same schema as the first time).
pub fn roundtrip(name: &str, setup: &str, change: &str, pg: u32) -> (TestDb, Client, Outcome) {
    let db = TestDb::new(name);
    let mut c = db.connect();
    c.batch_execute(setup).expect("setup");
    let out = plan(setup, change, pg);
    assert!(!out.files.is_empty(), "no files planned");
    let before = fingerprint(&mut c);
    apply_all(&mut c, &out, Direction::Up);
    let after = fingerprint(&mut c);
    assert_ne!(before, after, "the plan changed nothing");
    apply_all(&mut c, &out, Direction::Down);
    assert_eq!(fingerprint(&mut c), before, "rolling everything back did not restore the schema");
    apply_all(&mut c, &out, Direction::Up);
    assert_eq!(fingerprint(&mut c), after, "applying again did not reach the same schema");
    (db, c, out)
}

/// One value of a one-row, one-column query.
pub fn scalar<T: for<'a> zdm_pg::postgres_types::FromSql<'a>>(c: &mut Client, sql: &str) -> T {
    c.query_one(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}
