//! Django: the real Django (PyPI 5.2.8 with psycopg 3, in the venv `scripts/deps --test` makes) applies
//! zdm's migrations: `manage.py migrate`, `manage.py migrate <app> <previous>` per step, and
//! `makemigrations --check --dry-run` finds no conflict (one leaf per app) and no model change.
//! The fixture's settings read the database from `PG*` variables; the test points them at its database.

use crate::harness::{self, Fixture, Runner};
use crate::python::{self, Pg};
use std::fs;
use zdm_pg::testing::TestDb;

struct Django {
    app: &'static str,
}

impl Django {
    fn run(&self, fx: &Fixture, db: &TestDb, args: &[&str]) -> String {
        let pg = Pg::of(db);
        let mut all = vec!["manage.py"];
        all.extend(args);
        python::run(
            fx,
            &all,
            &[("PGHOST", pg.host), ("PGPORT", pg.port), ("PGUSER", pg.user), ("PGPASSWORD", pg.password), ("PGDATABASE", pg.db)],
        )
    }
}

impl Runner for Django {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        self.run(fx, db, &["migrate", "--no-input"]);
        let check = self.run(fx, db, &["makemigrations", "--check", "--dry-run"]);
        assert!(check.contains("No changes detected"), "{check}");
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        let mut c = db.connect();
        let applied: Vec<String> = c
            .query("SELECT name FROM django_migrations WHERE app = $1 ORDER BY id", &[&self.app])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let target = if applied.len() > 1 { applied[applied.len() - 2].clone() } else { "zero".into() };
        self.run(fx, db, &["migrate", self.app, &target, "--no-input"]);
    }
}

#[test]
fn django_detection_and_files() {
    let fx = Fixture::copy("django/basic", "django-snap");
    insta::assert_snapshot!("django_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("django/basic", &format!("django-snap-{name}"));
        insta::assert_snapshot!(format!("django_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn django_runs_the_files() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("django/basic", &format!("django-{name}"));
        let db = TestDb::new(&format!("django_{name}"));
        harness::roundtrip(&fx, &db, &Django { app: "accounts" }, change, check);
    }
}

/// Nasty text reaches PostgreSQL as written (RunSQL items are executed without parameters, so `%` is
/// literal), and the migrations zdm wrote are read back.
#[test]
fn django_keeps_tricky_text_and_reads_back() {
    let change = "ALTER TABLE users ADD COLUMN note text DEFAULT E'100% %s :name \"\"\" \\\\ $1 #{x} \\n''q''';\nCREATE INDEX users_name_idx ON users (name) WHERE name <> ' %% ''\"''';";
    let fx = Fixture::copy("django/basic", "django-tricky");
    let db = TestDb::new("django_tricky");
    let runner = Django { app: "accounts" };
    let mut c = harness::keeps_tricky_text(&fx, &runner, &db, change, "100% %s :name \"\"\" \\ $1 #{x} \n'q'");
    let def: String = c.query_one("SELECT pg_get_indexdef('users_name_idx'::regclass)", &[]).unwrap().get(0);
    assert!(def.contains("' %% ''\"'''"), "{def}");
    let run = fx.zdm(&["plan", "DROP INDEX CONCURRENTLY users_nmae_idx", "--dry-run"]);
    assert_eq!(run.code, 2, "a typo is caught against the read-back schema:\n{}{}", run.stdout, run.stderr);
}

/// cookiecutter-django's layout: settings package (`config/settings/`), apps below the project package,
/// tables `<app>_<model>`. The app is the one whose prefix the change names; a table no app names stops
/// with the list, and `--migrations-dir` chooses.
#[test]
fn django_cookiecutter_layout_chooses_the_app() {
    let fx = Fixture::copy("django/cookiecutter", "django-cc");
    insta::assert_snapshot!("django_cookiecutter_detect", fx.detect(&[]));
    let plan = fx.plan("CREATE INDEX orders_order_total_idx ON orders_order (total_cents)", &[]);
    assert!(plan.contains("===== shop/orders/migrations/0003_"), "{plan}");
    assert!(plan.contains("(\"orders\", \"0002_order_created_at\")"), "{plan}");
    insta::assert_snapshot!("django_cookiecutter_index", plan);

    let fx = Fixture::copy("django/cookiecutter", "django-cc-ambiguous");
    let run = fx.zdm(&["plan", "ALTER TABLE audit_log ADD COLUMN note text"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("shop/orders/migrations, shop/users/migrations") && run.stderr.contains("--migrations-dir"),
        "{}",
        run.stderr
    );
    assert!(fx.written().is_empty());
    let plan = fx.plan("ALTER TABLE audit_log ADD COLUMN note text", &["--migrations-dir", "shop/users/migrations"]);
    assert!(plan.contains("===== shop/users/migrations/0002_"), "{plan}");
}

#[test]
fn django_errors_name_the_file_and_write_nothing() {
    // Not PostgreSQL.
    let fx = Fixture::copy("django/basic", "django-mysql");
    let s = fs::read_to_string(fx.path("mysite/settings.py")).unwrap().replace("backends.postgresql", "backends.mysql");
    fs::write(fx.path("mysite/settings.py"), s).unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("mysql") && run.stderr.contains("manage.py"), "{}", run.stderr);
    assert_eq!(fx.written().len(), 1, "only the test's own edit");

    // Two leaves in the app (a conflict Django's makemigrations --merge resolves).
    let fx = Fixture::copy("django/basic", "django-leaves");
    for name in ["0002_a", "0002_b"] {
        fs::write(
            fx.path(&format!("accounts/migrations/{name}.py")),
            "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [(\"accounts\", \"0001_initial\")]\n    operations = []\n",
        )
        .unwrap();
    }
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("several leaf migrations (0002_a, 0002_b)") && run.stderr.contains("makemigrations --merge"),
        "{}",
        run.stderr
    );
    assert_eq!(fx.written().len(), 2);
}
