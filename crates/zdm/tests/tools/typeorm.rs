//! TypeORM: the real `typeorm` CLI (npm typeorm 0.3.31 with pg, installed by `scripts/deps --test`)
//! applies zdm's files with `migration:run --transaction each` (the default mode `all` refuses a class
//! with `transaction = false`) and rolls back one at a time with `migration:revert --transaction none`
//! (revert ignores the class flag; zdm's transactional steps open their own transaction), reading the
//! fixture's own JavaScript data source (`url: process.env.DATABASE_URL`).

use crate::harness::{self, Fixture, Runner};
use crate::knex::{NodeCli, TRICKY, node_run, refuses_bad_setups};
use zdm_pg::testing::TestDb;

/// `migration:run --transaction each` / `migration:revert --transaction none` with the basic fixture's
/// JavaScript data source.
const BASIC: NodeCli = NodeCli {
    env: "ZDM_TYPEORM",
    bin: "typeorm",
    root: "",
    up: &["migration:run", "-d", "data-source.js", "--transaction", "each"],
    down: &["migration:revert", "-d", "data-source.js", "--transaction", "none"],
};

#[test]
fn typeorm_detection_and_files() {
    let fx = Fixture::copy("typeorm/basic", "typeorm-snap");
    insta::assert_snapshot!("typeorm_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("typeorm/basic", &format!("typeorm-snap-{name}"));
        insta::assert_snapshot!(format!("typeorm_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn typeorm_runs_the_files() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("typeorm/basic", &format!("typeorm-{name}"));
        let db = TestDb::new(&format!("typeorm_{name}"));
        harness::roundtrip(&fx, &db, &BASIC, change, check);
    }
}

/// A NestJS app: TypeScript data source in `src/` with `__dirname + "/database/migrations/*{.ts,.js}"`
/// and `migrationsTransactionMode: "all"`: files are TypeScript classes, the notes say plainly that
/// mode `all` refuses the non-transactional step, and zdm's earlier migration is read back.
#[test]
fn typeorm_nest_typescript_mode_all() {
    let fx = Fixture::copy("typeorm/nest", "typeorm-nest");
    insta::assert_snapshot!("typeorm_nest_detect", fx.detect(&[]));
    let run = fx.zdm(&["plan", harness::INDEX.replace("users", "accounts").as_str(), "--dry-run", "--format", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let schema = &json["schema"];
    assert_eq!((schema["files"].as_i64(), schema["tables"].as_i64()), (Some(1), Some(1)), "zdm's accounts migration replayed: {schema}");
    let blind: Vec<&str> = schema["blind_spots"].as_array().unwrap().iter().map(|b| b["path"].as_str().unwrap()).collect();
    assert_eq!(blind, ["src/database/migrations/1712000000000-Init.ts"], "{schema}");
    let plan = fx.plan(harness::INDEX.replace("users", "accounts").as_str(), &[]);
    assert!(plan.contains("src/database/migrations/1795615200000-IndexAccountsEmailIdx.ts"), "{plan}");
    assert!(plan.contains("export class IndexAccountsEmailIdx1795615200000 implements MigrationInterface {"), "{plan}");
    assert!(plan.contains("migrationsTransactionMode: \"all\""), "{plan}");
    insta::assert_snapshot!("typeorm_nest_index", plan);
}

/// What the notes warn about is real: in TypeORM's default mode `all`, `migration:run` refuses zdm's
/// concurrent index (the class sets `transaction = false`) and applies nothing; `migration:revert`
/// without `--transaction none` cannot drop it.
#[test]
fn typeorm_default_mode_refuses_a_step_outside_a_transaction() {
    let fx = Fixture::copy("typeorm/basic", "typeorm-all");
    let db = TestDb::new("typeorm_all");
    BASIC.up(&fx, &db);
    let plan = fx.plan(harness::INDEX, &[]);
    assert!(plan.contains("--transaction each"), "{plan}");
    let (ok, text) = node_run(&BASIC.program(), &fx, "", &db, &["migration:run", "-d", "data-source.js"]);
    assert!(!ok && text.contains("override the transaction mode"), "{text}");
    let mut c = db.connect();
    assert_eq!(harness::count(&mut c, "SELECT count(*) FROM pg_class WHERE relname = 'users_email_idx'"), 0);
    BASIC.up(&fx, &db);
    harness::indexed(&mut c);
    // And `migration:revert` wraps the revert in a transaction whatever the class says: only
    // `--transaction none` (what the notes tell) can drop the index concurrently.
    let (ok, text) = node_run(&BASIC.program(), &fx, "", &db, &["migration:revert", "-d", "data-source.js"]);
    assert!(!ok && text.contains("cannot run inside a transaction block"), "{text}");
    harness::indexed(&mut c);
    BASIC.down_one(&fx, &db);
    assert_eq!(harness::count(&mut c, "SELECT count(*) FROM pg_class WHERE relname = 'users_email_idx'"), 0);
}

/// Template-literal syntax, `$1`, `?` and backslashes reach PostgreSQL as written.
#[test]
fn typeorm_keeps_tricky_text() {
    let db = TestDb::new("typeorm_tricky");
    let fx = Fixture::copy("typeorm/basic", "typeorm-tricky");
    harness::keeps_tricky_text(&fx, &BASIC, &db, TRICKY.0, TRICKY.1);
}

#[test]
fn typeorm_errors_name_the_file_and_write_nothing() {
    let edits = [
        ("type: \"postgres\"", "type: \"mysql\"", "mysql"),
        ("\"src/migrations/*.js\"", "\"../../elsewhere/*.js\"", "outside the project"),
    ];
    let twin = [("admin/data-source.js", None), ("admin/package.json", Some("{\"name\": \"admin\"}\n"))];
    refuses_bad_setups("typeorm/basic", "data-source.js", "data-source.js", &edits, &twin);
}
