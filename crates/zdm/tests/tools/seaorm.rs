//! SeaORM: its migrator would have to be compiled from crates.io into the project's migration crate
//! (`sea-orm-migration`), which these tests do not do, so [`SeaMigrator`] follows sea-orm-migration 2.0's
//! rules: the migrations in the order `Migrator::migrations()` lists them (`src/lib.rs`), each inside its
//! own transaction on PostgreSQL unless `use_transaction` returns `Some(false)`, the version (module name)
//! recorded in `seaql_migrations (version, applied_at)`; `execute_unprepared` sends its string with no
//! parameters, which sqlx sends as a simple query (`batch_execute` here: several statements in one string
//! share PostgreSQL's implicit transaction). The SQL is taken out of the generated file: raw strings
//! `r#"…"#` (any number of `#`) as Rust reads them, and the plain `"…"` strings of the hand-written
//! history (no escapes in them).

use crate::harness::{self, Fixture, Runner};
use std::fs;
use zdm_pg::Client;
use zdm_pg::testing::TestDb;

/// The string literals passed to `execute_unprepared` in `async fn <name>(`.
fn strings(text: &str, name: &str) -> Vec<String> {
    let start = text.find(&format!("async fn {name}(")).unwrap_or_else(|| panic!("no fn {name}:\n{text}"));
    let end = text[start + 10..].find("async fn ").map_or(text.len(), |e| start + 10 + e);
    let mut out = Vec::new();
    let mut at = start;
    while let Some(i) = text[at..end].find("execute_unprepared(").map(|i| at + i + "execute_unprepared(".len()) {
        // rustfmt may put the literal on the next line.
        let i = i + text[i..].len() - text[i..].trim_start().len();
        let rest = &text[i..];
        let (open, close) = if let Some(raw) = rest.strip_prefix('r') {
            let hashes = raw.bytes().take_while(|b| *b == b'#').count();
            let open = i + 1 + hashes + 1;
            (open, format!("\"{}", "#".repeat(hashes)))
        } else {
            (i + 1, "\"".to_string())
        };
        let len = text[open..].find(&close).expect("closed string");
        out.push(text[open..open + len].to_string());
        at = open + len;
    }
    out
}

struct SeaMigrator {
    dir: &'static str,
}

impl SeaMigrator {
    fn modules(&self, fx: &Fixture) -> Vec<String> {
        let lib = fs::read_to_string(fx.path(&format!("{}/lib.rs", self.dir))).unwrap();
        lib.match_indices("Box::new(").map(|(i, _)| lib[i + 9..].split("::Migration").next().unwrap().trim().to_string()).collect()
    }

    fn run(&self, fx: &Fixture, c: &mut Client, module: &str, name: &str) {
        let text = fs::read_to_string(fx.path(&format!("{}/{module}.rs", self.dir))).unwrap();
        let transaction = !text.contains("fn use_transaction(&self) -> Option<bool> {\n        Some(false)");
        let record = if name == "up" {
            format!("INSERT INTO seaql_migrations (version, applied_at) VALUES ('{module}', extract(epoch FROM now())::bigint)")
        } else {
            format!("DELETE FROM seaql_migrations WHERE version = '{module}'")
        };
        let mut sql = strings(&text, name);
        sql.push(record);
        zdm_pg::runner::execute_each(c, &sql, transaction).unwrap_or_else(|e| panic!("{module} {name}: {e}"));
    }
}

impl Runner for SeaMigrator {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        let mut c = db.connect();
        c.batch_execute("CREATE TABLE IF NOT EXISTS seaql_migrations (version varchar PRIMARY KEY, applied_at bigint NOT NULL)").unwrap();
        for module in self.modules(fx) {
            if harness::count(&mut c, &format!("SELECT count(*) FROM seaql_migrations WHERE version = '{module}'")) == 0 {
                self.run(fx, &mut c, &module, "up");
            }
        }
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        let mut c = db.connect();
        let applied: Vec<String> = c.query("SELECT version FROM seaql_migrations", &[]).unwrap().iter().map(|r| r.get(0)).collect();
        let module = self.modules(fx).into_iter().rev().find(|m| applied.contains(m)).expect("an applied migration");
        self.run(fx, &mut c, &module, "down");
    }
}

#[test]
fn seaorm_detection_and_files() {
    let fx = Fixture::copy("seaorm/app", "seaorm-snap");
    insta::assert_snapshot!("seaorm_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("seaorm/app", &format!("seaorm-snap-{name}"));
        insta::assert_snapshot!(format!("seaorm_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn seaorm_files_run_as_sea_orm_runs_them() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("seaorm/app", &format!("seaorm-{name}"));
        let db = TestDb::new(&format!("seaorm_{name}"));
        harness::roundtrip(&fx, &db, &SeaMigrator { dir: "migration/src" }, change, check);
    }
}

/// sea-orm-migration 1.x runs every migration in one transaction: the concurrent index is written for
/// psql, with a note, and no migration is registered for it.
#[test]
fn seaorm_before_2_writes_concurrent_steps_for_psql() {
    let fx = Fixture::copy("seaorm/app", "seaorm-v1");
    let toml = fs::read_to_string(fx.path("migration/Cargo.toml")).unwrap().replace("2.0.0-rc.37", "1.1.0");
    fs::write(fx.path("migration/Cargo.toml"), toml).unwrap();
    let plan = fx.plan(harness::INDEX, &[]);
    assert!(plan.contains("migration/manual/m20261125_140000_index_users_email_idx.up.sql"), "{plan}");
    assert!(plan.contains("psql \"$DATABASE_URL\" -v ON_ERROR_STOP=1 -f migration/manual/"), "{plan}");
    assert!(!plan.contains("===== migration/src/lib.rs"), "nothing registered:\n{plan}");
}

/// The fixture's history is migrations zdm wrote (a project that planned its tables with zdm): they are
/// read back, so is the index a plan adds, and a typo is caught; a hand-written migration is a blind spot.
#[test]
fn seaorm_reads_back_its_own_migrations() {
    let fx = Fixture::copy("seaorm/app", "seaorm-readback");
    harness::reads_back_own_index(&fx);
    let lib = fs::read_to_string(fx.path("migration/src/lib.rs")).unwrap();
    let lib = lib.replace("mod m20240112_143000_create_posts;", "mod m20240112_143000_create_posts;\nmod m20240113_000000_seed;").replace(
        "Box::new(m20240112_143000_create_posts::Migration),",
        "Box::new(m20240112_143000_create_posts::Migration),\n            Box::new(m20240113_000000_seed::Migration),",
    );
    fs::write(fx.path("migration/src/lib.rs"), lib).unwrap();
    fs::write(fx.path("migration/src/m20240113_000000_seed.rs"), "use sea_orm_migration::prelude::*;\n").unwrap();
    harness::is_blind_spot(&fx, "a SeaORM migration");
}

#[test]
fn seaorm_errors_name_the_file_and_write_nothing() {
    let fx = Fixture::copy("seaorm/app", "seaorm-mysql");
    let toml = fs::read_to_string(fx.path("migration/Cargo.toml")).unwrap().replace("sqlx-postgres", "sqlx-mysql");
    fs::write(fx.path("migration/Cargo.toml"), toml).unwrap();
    let toml = fs::read_to_string(fx.path("Cargo.toml")).unwrap().replace("sqlx-postgres", "sqlx-mysql");
    fs::write(fx.path("Cargo.toml"), toml).unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("mysql, not PostgreSQL") && run.stderr.contains("migration/Cargo.toml"), "{}", run.stderr);
    assert_eq!(fx.written().len(), 2, "only the test's own edits");

    let fx = Fixture::copy("seaorm/app", "seaorm-ambiguous");
    fs::create_dir_all(fx.path("prisma")).unwrap();
    fs::write(fx.path("prisma/schema.prisma"), "datasource db {\n  provider = \"postgresql\"\n  url = env(\"X\")\n}\n").unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("more than one migration setup") && run.stderr.contains("seaorm in migration/src"), "{}", run.stderr);
    assert_eq!(fx.written().len(), 1);
}
