//! What a renamed or re-typed column carries (primary key, sequence, foreign keys both ways, unique
//! constraints, CHECKs) survives the plan, up, down and up again, with rows; what zdm cannot carry is refused.

mod support;

use support::{SETUP, roundtrip, scalar};

/// The fixture plus a foreign key orders.user_id → users.id, a unique and a CHECK constraint.
fn setup() -> String {
    format!(
        "{SETUP}
ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE users ADD CONSTRAINT users_code_key UNIQUE (code);
ALTER TABLE users ADD CONSTRAINT users_score_check CHECK (score >= 0);"
    )
}

fn constraint(c: &mut zdm_pg::Client, name: &str) -> String {
    scalar(
        c,
        &format!(
            "SELECT conrelid::regclass::text || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated FROM pg_constraint WHERE conname = '{name}'"
        ),
    )
}

#[test]
fn renaming_the_primary_key_keeps_key_sequence_and_referencing_foreign_key() {
    let setup = setup();
    let (_db, mut c, out) = roundtrip("carry_pk_rename", &setup, "ALTER TABLE users RENAME COLUMN id TO user_id", 15);
    assert!(out.plan.notes.iter().all(|n| !n.contains("not carried over")), "{:?}", out.plan.notes);
    assert_eq!(constraint(&mut c, "users_pkey"), "users PRIMARY KEY (user_id) true");
    assert_eq!(constraint(&mut c, "orders_user_id_fkey"), "orders FOREIGN KEY (user_id) REFERENCES users(user_id) ON DELETE CASCADE true");
    assert_eq!(scalar::<String>(&mut c, "SELECT pg_get_serial_sequence('users', 'user_id')"), "public.users_id_seq");
    // The sequence continues: a new row gets a fresh key.
    let id: i64 = scalar(&mut c, "INSERT INTO users (name) VALUES ('after') RETURNING user_id");
    assert!(id > 12000, "{id}");
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE name = 'user ' || user_id"), 12000);
    // The carried foreign key still guards integrity.
    assert!(c.batch_execute("INSERT INTO orders (user_id, total) VALUES (99999999, 1)").is_err());
}

#[test]
fn retyping_a_foreign_key_column_keeps_the_foreign_key() {
    let setup = setup();
    let (_db, mut c, out) = roundtrip("carry_fk_type", &setup, "ALTER TABLE orders ALTER COLUMN user_id TYPE integer", 15);
    assert!(out.plan.risk >= zdm_core::model::Risk::Risky);
    assert_eq!(constraint(&mut c, "orders_user_id_fkey"), "orders FOREIGN KEY (user_id_int) REFERENCES users(id) ON DELETE CASCADE true");
    assert!(c.batch_execute("INSERT INTO orders (user_id_int, total) VALUES (99999999, 1)").is_err());
}

#[test]
fn retyping_the_primary_key_keeps_key_default_and_referencing_foreign_key() {
    let setup = setup();
    let (_db, mut c, _out) = roundtrip("carry_pk_type", &setup, "ALTER TABLE users ALTER COLUMN id TYPE integer", 15);
    assert_eq!(constraint(&mut c, "users_pkey"), "users PRIMARY KEY (id_int) true");
    assert_eq!(constraint(&mut c, "orders_user_id_fkey"), "orders FOREIGN KEY (user_id) REFERENCES users(id_int) ON DELETE CASCADE true");
    let id: i32 = scalar(&mut c, "INSERT INTO users (name) VALUES ('after') RETURNING id_int");
    assert!(id > 12000, "{id}");
}

#[test]
fn same_name_type_change_of_the_primary_key_rolls_back() {
    let setup = setup();
    let db = zdm_pg::testing::TestDb::new("carry_pk_type_same_name");
    let mut c = db.connect();
    c.batch_execute(&setup).unwrap();
    let files = support::project(&setup);
    let config = zdm_core::plan::PlanConfig { keep_column_name: true, ..Default::default() };
    let out = zdm_core::pipeline::run(zdm_core::pipeline::Input {
        change: "ALTER TABLE users ALTER COLUMN id TYPE integer",
        files: &files,
        config,
        now: "20261125140000",
        name: None,
        change_path: None,
        choice: Default::default(),
    })
    .unwrap();
    let before = support::fingerprint(&mut c);
    support::apply_all(&mut c, &out, zdm_pg::runner::Direction::Up);
    let after = support::fingerprint(&mut c);
    assert_eq!(constraint(&mut c, "users_pkey"), "users PRIMARY KEY (id) true");
    support::apply_all(&mut c, &out, zdm_pg::runner::Direction::Down);
    assert_eq!(support::fingerprint(&mut c), before);
    support::apply_all(&mut c, &out, zdm_pg::runner::Direction::Up);
    assert_eq!(support::fingerprint(&mut c), after);
    let id: i32 = scalar(&mut c, "INSERT INTO users (name) VALUES ('after') RETURNING id");
    assert!(id > 12000, "{id}");
    let step = out.plan.steps.iter().find(|s| s.reconnect.is_some()).expect("the swap step says which connections to recycle");
    assert!(out.plan.checklist.iter().any(|l| l.contains(&format!("step {}", step.n)) && l.contains("0A000")), "{:?}", out.plan.checklist);
}

#[test]
fn renaming_a_unique_checked_column_keeps_both_constraints() {
    let setup = setup();
    let (_db, mut c, _out) = roundtrip(
        "carry_unique_check",
        &setup,
        "ALTER TABLE users RENAME COLUMN code TO ref; ALTER TABLE users RENAME COLUMN score TO points",
        15,
    );
    assert_eq!(constraint(&mut c, "users_code_key"), "users UNIQUE (ref) true");
    assert_eq!(constraint(&mut c, "users_score_check"), "users CHECK ((points >= 0)) true");
    assert!(c.batch_execute("UPDATE users SET points = -1 WHERE id = 1").is_err());
}

#[test]
fn what_cannot_be_carried_is_refused_with_the_reason() {
    let setup = format!(
        "{SETUP}\nCREATE VIEW user_names AS SELECT id, name FROM users;\nCREATE INDEX users_lower_email ON users (lower(email));\nCREATE TABLE things (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, x int);"
    );
    let files = support::project(&setup);
    let run = |change: &str| {
        zdm_core::pipeline::run(zdm_core::pipeline::Input {
            change,
            files: &files,
            config: Default::default(),
            now: "20261125140000",
            name: None,
            change_path: None,
            choice: Default::default(),
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
    };
    assert!(run("ALTER TABLE users RENAME COLUMN name TO full_name").contains("view user_names"));
    assert!(run("ALTER TABLE users RENAME COLUMN email TO mail").contains("users_lower_email"));
    assert!(run("ALTER TABLE things ALTER COLUMN id TYPE integer").contains("identity column"));
}

#[test]
fn type_change_then_rename_is_one_expand_contract_to_the_new_name() {
    let change = "ALTER TABLE users ALTER COLUMN score TYPE bigint;\nALTER TABLE users RENAME COLUMN score TO score_v2;";
    let (_db, mut c, out) = roundtrip("carry_type_rename", SETUP, change, 15);
    assert_eq!(out.plan.steps.iter().filter(|s| s.phase == zdm_core::plan::Phase::Contract).count(), 1);
    assert_eq!(
        scalar::<String>(
            &mut c,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'score_v2'"
        ),
        "bigint"
    );
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE score_v2 = id % 100"), 12000);
}

#[test]
fn the_rename_contract_rollback_copies_back_in_batches_outside_one_transaction() {
    let (_db, mut c, out) = roundtrip("carry_rollback_batches", SETUP, "ALTER TABLE users RENAME COLUMN name TO full_name", 15);
    let contract = out.plan.steps.iter().find(|s| s.phase == zdm_core::plan::Phase::Contract).unwrap();
    assert!(!contract.down_transaction);
    let file = out.files.iter().find(|f| Some(&f.path) == contract.file.as_ref()).unwrap();
    assert!(file.contents.contains("-- migrate:down transaction:false\nDO $zdm_rollback$"), "{}", file.contents);
    let down = &file.contents[file.contents.find("-- migrate:down").unwrap()..];
    assert!(down.contains("LOOP") && down.matches("COMMIT;").count() >= 3, "{down}");
    // One rollback of the contract alone, then forward again: every name is back in place.
    zdm_pg::runner::apply(&mut c, &file.contents, zdm_pg::runner::Direction::Down).unwrap();
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM users WHERE name = full_name"), 12000);
    zdm_pg::runner::apply(&mut c, &file.contents, zdm_pg::runner::Direction::Up).unwrap();
}

#[test]
fn existing_names_are_left_alone_and_generated_names_stay_distinct() {
    // PostgreSQL names the unnamed index users_score_idx1; the rollback drops that one, not the project's.
    let (_db, mut c, _) = roundtrip("names_unnamed_index", SETUP, "CREATE INDEX ON users (score, email)", 15);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM pg_indexes WHERE indexname IN ('users_score_idx', 'users_score_email_idx')"), 2);
    let (_db, mut c, _) =
        roundtrip("names_unnamed_index_taken", SETUP, "CREATE INDEX ON users (score);\nALTER TABLE users ADD COLUMN x int", 15);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM pg_indexes WHERE indexname IN ('users_score_idx', 'users_score_idx1')"), 2);
    // IF NOT EXISTS on an existing index: up, down and up leave it in place.
    let (_db, mut c, _) = roundtrip(
        "names_if_not_exists",
        SETUP,
        "CREATE INDEX IF NOT EXISTS users_score_idx ON users (score);\nALTER TABLE users ADD COLUMN x int",
        15,
    );
    let down_all = |c: &mut zdm_pg::Client| scalar::<i64>(c, "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_score_idx'");
    assert_eq!(down_all(&mut c), 1);
    // Two renames of 59-byte columns on a 55-byte table: distinct triggers, functions and checks.
    let table = "t".repeat(55);
    let (a, b) = (format!("{}a", "c".repeat(58)), format!("{}b", "c".repeat(58)));
    let setup = format!(
        "CREATE TABLE {table} (id bigint PRIMARY KEY, {a} int NOT NULL, {b} int NOT NULL);\nINSERT INTO {table} SELECT g, g, -g FROM generate_series(1, 3000) g;"
    );
    let change = format!("ALTER TABLE {table} RENAME COLUMN {a} TO x1;\nALTER TABLE {table} RENAME COLUMN {b} TO x2;");
    let (_db, mut c, _) = roundtrip("names_truncated", &setup, &change, 15);
    assert_eq!(scalar::<i64>(&mut c, &format!("SELECT count(*) FROM {table} WHERE x1 = -x2")), 3000);
}

#[test]
fn a_foreign_key_to_a_plain_unique_index_follows_the_renamed_column() {
    let setup = format!(
        "{SETUP}
CREATE UNIQUE INDEX users_email_uniq ON users (email);
CREATE TABLE invites (id bigserial PRIMARY KEY, email text REFERENCES users (email));
INSERT INTO invites (email) SELECT email FROM users WHERE id <= 500;"
    );
    let (_db, mut c, _) = roundtrip("carry_fk_unique_index", &setup, "ALTER TABLE users RENAME COLUMN email TO mail", 15);
    assert_eq!(constraint(&mut c, "invites_email_fkey"), "invites FOREIGN KEY (email) REFERENCES users(mail) true");
    assert!(c.batch_execute("INSERT INTO invites (email) VALUES ('nobody@example.com')").is_err());
}

#[test]
fn a_self_referencing_foreign_key_follows_the_renamed_key() {
    let setup = format!(
        "{SETUP}
ALTER TABLE users ADD COLUMN manager_id bigint;
UPDATE users SET manager_id = id - 1 WHERE id > 1;
ALTER TABLE users ADD CONSTRAINT users_manager_id_fkey FOREIGN KEY (manager_id) REFERENCES users (id);"
    );
    let (_db, mut c, _) = roundtrip("carry_self_fk", &setup, "ALTER TABLE users RENAME COLUMN id TO user_id", 15);
    assert_eq!(constraint(&mut c, "users_manager_id_fkey"), "users FOREIGN KEY (manager_id) REFERENCES users(user_id) true");
    assert_eq!(constraint(&mut c, "users_pkey"), "users PRIMARY KEY (user_id) true");
    assert!(c.batch_execute("UPDATE users SET manager_id = 99999999 WHERE user_id = 5").is_err());
}

#[test]
fn the_pg11_path_carries_the_key_too() {
    // PostgreSQL 11 keeps the NOT NULL CHECK instead of SET NOT NULL; its files run on 15 as well.
    let setup = setup();
    let (_db, mut c, _) = roundtrip("carry_pk_rename_11", &setup, "ALTER TABLE users RENAME COLUMN id TO user_id", 11);
    assert_eq!(constraint(&mut c, "users_pkey"), "users PRIMARY KEY (user_id) true");
    assert_eq!(constraint(&mut c, "orders_user_id_fkey"), "orders FOREIGN KEY (user_id) REFERENCES users(user_id) ON DELETE CASCADE true");
}

#[test]
fn set_not_null_next_to_a_check_of_the_same_name_keeps_it() {
    let setup = format!("{SETUP}\nALTER TABLE users ADD CONSTRAINT users_code_not_null CHECK (code IS NOT NULL) NOT VALID;");
    let (_db, mut c, _) = roundtrip("names_not_null_taken", &setup, "ALTER TABLE users ALTER COLUMN code SET NOT NULL", 15);
    assert_eq!(constraint(&mut c, "users_code_not_null"), "users CHECK ((code IS NOT NULL)) NOT VALID false");
}
