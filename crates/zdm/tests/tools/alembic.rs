//! Alembic: the real `alembic` (PyPI 1.16.5 with SQLAlchemy 2.0.44 and psycopg 3, in the venv
//! `scripts/deps --test` makes) applies zdm's revisions: `alembic upgrade head`, `alembic downgrade -1`
//! per step, and `alembic heads` shows one head after zdm chained its revisions.

use crate::harness::{self, Fixture, Runner};
use crate::python::{self, Pg};
use std::fs;
use zdm_pg::testing::TestDb;

/// A generic `env.py` (Alembic's own template, URL from `DATABASE_URL`), for projects whose `env.py`
/// needs their application (Flask-Migrate's).
const ENV_PY: &str = "tests/fixtures/tools/alembic/basic/alembic/env.py";

struct Alembic {
    /// The alembic.ini to use (relative), or a script directory for which the test writes one.
    ini: &'static str,
    script: Option<&'static str>,
}

impl Alembic {
    fn run(&self, fx: &Fixture, db: &TestDb, args: &[&str]) -> String {
        let ini = match self.script {
            // Flask-Migrate sets the script location itself: the test writes an ini (hidden: zdm skips it).
            Some(script) => {
                let basic = fs::read_to_string(harness::repo_root().join("tests/fixtures/tools/alembic/basic/alembic.ini")).unwrap();
                let ini = basic.replace("script_location = %(here)s/alembic", &format!("script_location = {}", fx.path(script).display()));
                fs::write(fx.path(".alembic-test.ini"), ini).unwrap();
                fs::copy(harness::repo_root().join(ENV_PY), fx.path(&format!("{script}/env.py"))).unwrap();
                fx.path(".alembic-test.ini")
            }
            None => fx.path(self.ini),
        };
        let mut all = vec!["-m", "alembic", "-c", ini.to_str().unwrap()];
        all.extend(args);
        python::run(fx, &all, &[("DATABASE_URL", Pg::of(db).sqlalchemy_url())])
    }
}

impl Runner for Alembic {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        self.run(fx, db, &["upgrade", "head"]);
        let heads = self.run(fx, db, &["heads"]);
        assert_eq!(heads.matches("(head)").count(), 1, "one head after zdm's revisions:\n{heads}");
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        self.run(fx, db, &["downgrade", "-1"]);
    }
}

const BASIC: Alembic = Alembic { ini: "alembic.ini", script: None };

#[test]
fn alembic_detection_and_files() {
    let fx = Fixture::copy("alembic/basic", "alembic-snap");
    insta::assert_snapshot!("alembic_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("alembic/basic", &format!("alembic-snap-{name}"));
        insta::assert_snapshot!(format!("alembic_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn alembic_runs_the_files() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("alembic/basic", &format!("alembic-{name}"));
        let db = TestDb::new(&format!("alembic_{name}"));
        harness::roundtrip(&fx, &db, &BASIC, change, check);
    }
}

/// Flask-Migrate: `migrations/alembic.ini` with no script_location, a dated `file_template`, a history
/// of `op.create_table` code (not read: a blind spot). The test runs it with a generic env.py and ini.
#[test]
fn alembic_flask_migrate_layout() {
    let fx = Fixture::copy("alembic/flask", "alembic-flask");
    let detect = fx.detect(&[]);
    assert!(detect.contains("Flask-Migrate"), "{detect}");
    insta::assert_snapshot!("alembic_flask_detect", detect);
    let plan = fx.plan(harness::INDEX, &[]);
    assert!(plan.contains("===== migrations/versions/2026_11_25_1400-"), "file_template followed:\n{plan}");
    assert!(plan.contains("down_revision = \"5e6f7a8b9c0d\""), "{plan}");
    insta::assert_snapshot!("alembic_flask_index", plan);

    let fx = Fixture::copy("alembic/flask", "alembic-flask-run");
    let db = TestDb::new("alembic_flask");
    harness::roundtrip(&fx, &db, &Alembic { ini: "", script: Some("migrations") }, harness::INDEX, harness::indexed);
}

/// Nasty text (quotes, backslashes, `%`, `:name`, `$`, `#{}`, newlines) reaches PostgreSQL as written, and
/// the revisions zdm wrote are read back: a later plan knows the column and the index.
#[test]
fn alembic_keeps_tricky_text_and_reads_back() {
    let change = "ALTER TABLE users ADD COLUMN note text DEFAULT E'100% :name \"\"\" \\\\ $1 #{x} \\n''q''';\nCREATE INDEX users_name_idx ON users (name) WHERE name <> ' :x %s ''\"''';";
    let fx = Fixture::copy("alembic/basic", "alembic-tricky");
    let db = TestDb::new("alembic_tricky");
    let mut c = harness::keeps_tricky_text(&fx, &BASIC, &db, change, "100% :name \"\"\" \\ $1 #{x} \n'q'");
    let def: String = c.query_one("SELECT pg_get_indexdef('users_name_idx'::regclass)", &[]).unwrap().get(0);
    assert!(def.contains("' :x %s ''\"'''"), "{def}");

    let run = fx.zdm(&["plan", "ALTER TABLE users RENAME COLUMN note TO remark", "--dry-run", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = fx.zdm(&["plan", "DROP INDEX CONCURRENTLY users_nmae_idx", "--dry-run"]);
    assert_eq!(run.code, 2, "a typo is caught against the read-back schema:\n{}{}", run.stdout, run.stderr);
}

#[test]
fn alembic_errors_name_the_file_and_write_nothing() {
    // Two heads.
    let fx = Fixture::copy("alembic/basic", "alembic-heads");
    fs::write(
        fx.path("alembic/versions/c0ffee000001_branch.py"),
        "\"\"\"branch\"\"\"\nrevision = 'c0ffee000001'\ndown_revision = '4f2a9c1b7d3e'\n\ndef upgrade():\n    pass\n\ndef downgrade():\n    pass\n",
    )
    .unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("several Alembic heads (b81e3d5a0c97, c0ffee000001)") && run.stderr.contains("alembic merge heads"),
        "{}",
        run.stderr
    );
    assert_eq!(fx.written().len(), 1, "only the test's own file");

    // Not PostgreSQL.
    let fx = Fixture::copy("alembic/basic", "alembic-mysql");
    let ini = fs::read_to_string(fx.path("alembic.ini")).unwrap().replace("postgresql+psycopg://", "mysql+pymysql://");
    fs::write(fx.path("alembic.ini"), ini).unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("mysql") && run.stderr.contains("alembic.ini"), "{}", run.stderr);
    assert_eq!(fx.written().len(), 1);

    // No script_location (and no script directory beside the ini).
    let fx = Fixture::copy("alembic/basic", "alembic-bad");
    let ini = fs::read_to_string(fx.path("alembic.ini")).unwrap().replace("script_location = %(here)s/alembic", "");
    fs::write(fx.path("alembic.ini"), ini).unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("alembic.ini: [alembic] has no script_location"), "{}", run.stderr);
    assert_eq!(fx.written().len(), 1);
}

/// A revision written with Alembic's operations (`op.add_column`, `op.create_index`) is read through
/// Alembic's own offline mode (`alembic upgrade head --sql`, no database) when the project's Python can run
/// it: its columns are known, a typo is caught, no blind spot. With `--no-tool-exec`, or with no Python
/// that has Alembic, it stays a blind spot, and zdm says why.
#[test]
fn alembic_offline_mode_reads_code_revisions() {
    let fx = Fixture::copy("alembic/basic", "alembic-offline");
    fs::write(
        fx.path("alembic/versions/c3d4e5f6a7b8_add_nickname.py"),
        "\"\"\"add nickname\n\nRevision ID: c3d4e5f6a7b8\nRevises: b81e3d5a0c97\n\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\n\
         revision = \"c3d4e5f6a7b8\"\ndown_revision = \"b81e3d5a0c97\"\nbranch_labels = None\ndepends_on = None\n\n\n\
         def upgrade() -> None:\n    op.add_column(\"users\", sa.Column(\"nickname\", sa.String(40), nullable=True))\n    \
         op.create_index(\"users_nickname_idx\", \"users\", [\"nickname\"])\n\n\n\
         def downgrade() -> None:\n    op.drop_index(\"users_nickname_idx\", table_name=\"users\")\n    op.drop_column(\"users\", \"nickname\")\n",
    )
    .unwrap();
    let python = python::python();
    let with_python = [("ZDM_PYTHON", python.as_str())];
    let rename = ["plan", "ALTER TABLE users RENAME COLUMN nickname TO handle", "--dry-run", "--format", "json"];
    let run = fx.zdm_with(&rename, &with_python);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("read 3 migration(s) as the SQL `alembic -c alembic.ini upgrade head --sql` prints"), "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["schema"]["blind_spots"], serde_json::json!([]), "{}", json["schema"]);
    // The index Alembic created on the column is known, so the rename rebuilds it.
    assert!(run.stdout.contains("users_nickname_idx"), "{}", run.stdout);
    let typo = fx.zdm_with(&["plan", "ALTER TABLE users RENAME COLUMN nicknmae TO handle", "--dry-run"], &with_python);
    assert_eq!(typo.code, 2, "{}{}", typo.stdout, typo.stderr);

    let mut skipped = rename.to_vec();
    skipped.push("--no-tool-exec");
    let run = fx.zdm_with(&skipped, &with_python);
    assert!(run.stdout.contains("an Alembic migration") && !run.stderr.contains("upgrade head --sql"), "{}{}", run.stdout, run.stderr);
    let run = fx.zdm(&rename);
    assert!(run.stdout.contains("an Alembic migration"), "{}", run.stdout);
    assert!(run.stderr.contains("could not run `alembic -c alembic.ini upgrade head --sql` with /nonexistent/python"), "{}", run.stderr);
}
