//! Prisma Migrate: its runner cannot run here (`prisma migrate deploy` downloads its schema engine from the
//! internet), so [`PrismaDeploy`] follows what prisma-engines does: migration folders in name order, each
//! `migration.sql` sent as ONE simple-query string with no BEGIN/COMMIT around it
//! (`schema-engine/connectors/sql-schema-connector/src/flavour/postgres/connection.rs`,
//! `apply_migration_script` → `client.simple_query(script)`: several statements then share PostgreSQL's
//! implicit transaction, one statement runs on its own), each recorded in `_prisma_migrations` (started,
//! then finished). Rolling back is what zdm's down.sql says: the file sent the way `prisma db execute`
//! sends a script, then `rolled_back_at` set, which is what `prisma migrate resolve --rolled-back` records
//! (`mark_migration_rolled_back_by_id`) and what makes `migrate deploy` apply the folder again.

use crate::harness::{self, Fixture, Runner};
use std::fs;
use zdm_pg::testing::TestDb;

struct PrismaDeploy {
    dir: &'static str,
}

const TABLE: &str = "CREATE TABLE IF NOT EXISTS _prisma_migrations (
    id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL,
    logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)";

impl Runner for PrismaDeploy {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        let mut c = db.connect();
        c.batch_execute(TABLE).expect("history table");
        let mut folders: Vec<String> = std::fs::read_dir(fx.path(self.dir))
            .unwrap()
            .flatten()
            .filter(|e| e.path().join("migration.sql").exists())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        folders.sort();
        for name in folders {
            let applied = harness::count(
                &mut c,
                &format!(
                    "SELECT count(*) FROM _prisma_migrations WHERE migration_name = '{name}' AND finished_at IS NOT NULL AND rolled_back_at IS NULL"
                ),
            );
            if applied > 0 {
                continue;
            }
            let sql = std::fs::read_to_string(fx.path(&format!("{}/{name}/migration.sql", self.dir))).unwrap();
            c.batch_execute(&format!(
                "INSERT INTO _prisma_migrations (id, checksum, migration_name) VALUES (md5(random()::text)::uuid::text, md5('{name}'), '{name}')"
            ))
            .unwrap();
            zdm_pg::runner::execute(&mut c, &sql, false).unwrap_or_else(|e| panic!("{name}/migration.sql: {e}"));
            c.batch_execute(&format!(
                "UPDATE _prisma_migrations SET finished_at = now(), applied_steps_count = 1 WHERE migration_name = '{name}' AND finished_at IS NULL"
            ))
            .unwrap();
        }
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        let mut c = db.connect();
        let row = c
            .query_one(
                "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name DESC LIMIT 1",
                &[],
            )
            .expect("an applied migration");
        let name: String = row.get(0);
        let down = fx.path(&format!("{}/{name}/down.sql", self.dir));
        let sql = std::fs::read_to_string(&down).unwrap_or_else(|e| panic!("{}: {e}", down.display()));
        zdm_pg::runner::execute(&mut c, &sql, false).unwrap_or_else(|e| panic!("{name}/down.sql: {e}"));
        c.batch_execute(&format!(
            "UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '{name}' AND rolled_back_at IS NULL"
        ))
        .unwrap();
    }
}

#[test]
fn prisma_detection_and_files() {
    let fx = Fixture::copy("prisma/app", "prisma-snap");
    insta::assert_snapshot!("prisma_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("prisma/app", &format!("prisma-snap-{name}"));
        insta::assert_snapshot!(format!("prisma_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn prisma_files_run_as_prisma_runs_them() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("prisma/app", &format!("prisma-{name}"));
        let db = TestDb::new(&format!("prisma_{name}"));
        harness::roundtrip(&fx, &db, &PrismaDeploy { dir: "prisma/migrations" }, change, check);
    }
}

#[test]
fn prisma_monorepo_replays_its_history() {
    let fx = Fixture::copy("prisma/monorepo", "prisma-mono");
    insta::assert_snapshot!("prisma_monorepo_detect", fx.detect(&[]));
    // `display_name` exists only if the history replayed (a later migration renamed `name` to it).
    let text = fx.plan("ALTER TABLE users RENAME COLUMN display_name TO full_name", &[]);
    assert!(text.contains("packages/prisma/migrations/20261125140000_expand_users_full_name/migration.sql"), "{text}");
    let typo = fx.zdm(&["plan", "ALTER TABLE users RENAME COLUMN name TO full_name"]);
    assert_eq!(typo.code, 2, "the column `name` was renamed by the history:\n{}{}", typo.stdout, typo.stderr);
}

#[test]
fn prisma_errors_name_the_file_and_write_nothing() {
    let fx = Fixture::copy("prisma/mysql", "prisma-mysql");
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("mysql, not PostgreSQL") && run.stderr.contains("prisma/schema.prisma"), "{}", run.stderr);
    assert!(fx.written().is_empty());

    let fx = Fixture::copy("prisma/app", "prisma-noprovider");
    std::fs::write(fx.path("prisma/schema.prisma"), "datasource db {\n  url = env(\"DATABASE_URL\")\n}\n").unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("prisma/schema.prisma: the `datasource` block has no `provider`"), "{}", run.stderr);
    assert_eq!(fx.written().len(), 1, "only the edited schema differs: {:?}", fx.written().iter().map(|w| &w.0).collect::<Vec<_>>());

    // Prisma and dbmate in one project, equally sure of themselves: ambiguity, nothing written.
    let fx = Fixture::copy("prisma/app", "prisma-ambiguous");
    std::fs::create_dir_all(fx.path("db")).unwrap();
    std::fs::write(fx.path("db/schema.prisma"), "datasource db {\n  provider = \"postgresql\"\n  url = env(\"X\")\n}\n").unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("more than one migration setup"), "{}", run.stderr);
    assert_eq!(fx.written().len(), 1);
}

/// A project that has no migrations yet (`prisma db push`): the schema comes from `schema.prisma`, read as
/// the DDL Prisma Migrate would write for it — the very schema the fixture's migrations (Prisma's own
/// output for these models) build: tables, columns, types, defaults, keys, indexes, foreign keys.
#[test]
fn prisma_schema_without_migrations() {
    // Dropping a table plans a rollback that re-creates it from the schema zdm believes: every column,
    // default, key, index and foreign key, both ways.
    let drop = "DROP TABLE posts; DROP TABLE users";
    let history = Fixture::copy("prisma/app", "prisma-push-history");
    let fx = Fixture::copy("prisma/app", "prisma-push");
    fs::remove_dir_all(fx.path("prisma/migrations")).unwrap();
    let (from_history, from_models) = (harness::plan_json(&history, drop), harness::plan_json(&fx, drop));
    assert_eq!(from_models["schema"]["tables"], 2);
    assert_eq!(from_models["schema"]["blind_spots"], serde_json::json!([]));
    let rollbacks = |j: &serde_json::Value| j["steps"].as_array().unwrap().iter().map(|s| s["down"].to_string()).collect::<Vec<_>>();
    let rollback = rollbacks(&from_models).join("\n");
    assert!(rollback.contains("created_at timestamp(3) DEFAULT current_timestamp NOT NULL"), "{rollback}");
    assert!(rollback.contains("posts_user_id_fkey"), "{rollback}");
    assert_eq!(rollbacks(&from_models), rollbacks(&from_history));
    let typo = fx.zdm(&["plan", "ALTER TABLE users RENAME COLUMN nmae TO full_name", "--dry-run"]);
    assert_eq!(typo.code, 2, "the models were read, so a typo is caught:\n{}{}", typo.stdout, typo.stderr);
}
