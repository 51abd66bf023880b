//! Ecto: `mix ecto.migrate` cannot run here (Hex is unreachable), so [`EctoMigrator`] follows ecto_sql's
//! rules: migrations in version order (`Ecto.Migrator`), each run inside one transaction unless its module
//! sets `@disable_ddl_transaction true` (`run_maybe_in_transaction`: `module.__migration__[:disable_ddl_transaction]`
//! → `fun.()`, else `repo.transaction(fun)`); `execute/1` commands queued and sent in order when `up`/`down`
//! returns (`Runner.flush`), one Postgrex extended-protocol query each (sent here with `Client::execute`,
//! the extended protocol too); `repo().transaction(fn -> repo().query!(…) end)` runs its queries at once in
//! a transaction of their own; the version recorded in `schema_migrations` (`version bigint`,
//! `inserted_at`). The SQL is taken out of the generated file the way Elixir reads it: `~S"""`/`~S'''`
//! heredocs raw up to the line starting with the delimiter, the closing delimiter's indentation stripped
//! from every line (checked against the real Elixir 1.14 compiler when writing this), and `execute("…")` strings of the hand-written history (no escapes in them).
//! A migration run outside the transaction must also set `@disable_migration_lock true`, or ecto_sql's
//! lock on `schema_migrations` (held in a transaction on another connection) would stall a concurrent index.

use crate::harness::{self, Fixture, Runner};
use std::fs;
use zdm_pg::Client;
use zdm_pg::testing::TestDb;

/// One direction of a migration module: its statements and whether they run in one transaction.
struct Direction {
    statements: Vec<String>,
    own_transaction: bool,
}

/// The SQL calls of `def <name> do` … in an Ecto migration module.
fn direction(text: &str, name: &str) -> Direction {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| l.trim() == format!("def {name} do")).unwrap_or_else(|| panic!("no def {name}:\n{text}"));
    let mut statements = Vec::new();
    let mut own_transaction = false;
    let mut i = start + 1;
    while i < lines.len() && !lines[i].trim().starts_with("def ") {
        let t = lines[i].trim();
        own_transaction |= t.starts_with("repo().transaction(fn ->");
        if let Some(d) = ["\"\"\"", "'''"].into_iter().find(|d| t.ends_with(&format!("(~S{d}"))) {
            let mut body = Vec::new();
            i += 1;
            while !lines[i].trim_start().starts_with(d) {
                body.push(lines[i]);
                i += 1;
            }
            let indent = lines[i].len() - lines[i].trim_start().len();
            let body: Vec<&str> = body.iter().map(|l| &l[indent.min(l.len() - l.trim_start().len())..]).collect();
            // A heredoc's text ends with a newline.
            statements.push(format!("{}\n", body.join("\n")));
        } else if let Some(rest) = t.strip_prefix("execute(\"") {
            statements.push(rest.strip_suffix("\")").expect("one-line execute(\"…\")").to_string());
        }
        i += 1;
    }
    Direction { statements, own_transaction }
}

struct EctoMigrator {
    dir: &'static str,
}

impl EctoMigrator {
    fn files(&self, fx: &Fixture) -> Vec<(i64, String)> {
        let mut found: Vec<(i64, String)> = fs::read_dir(fx.path(self.dir))
            .unwrap()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let version = name.strip_suffix(".exs")?.split_once('_')?.0.parse().ok()?;
                Some((version, fs::read_to_string(e.path()).unwrap()))
            })
            .collect();
        found.sort();
        found
    }

    fn run(c: &mut Client, text: &str, name: &str, version: i64) {
        let disabled = text.contains("\n  @disable_ddl_transaction true\n");
        if disabled {
            assert!(
                text.contains("\n  @disable_migration_lock true\n"),
                "a migration outside the transaction keeps the migration lock:\n{text}"
            );
        }
        let d = direction(text, name);
        let record = if name == "up" {
            format!("INSERT INTO schema_migrations (version, inserted_at) VALUES ({version}, now())")
        } else {
            format!("DELETE FROM schema_migrations WHERE version = {version}")
        };
        if disabled && !d.own_transaction {
            for s in &d.statements {
                c.execute(s.as_str(), &[]).unwrap_or_else(|e| panic!("{version} {name}: {e}\n{s}"));
            }
            c.batch_execute(&record).unwrap();
        } else {
            // The migration's transaction, or the one `repo().transaction` opens.
            let mut tx = c.transaction().unwrap();
            for s in &d.statements {
                tx.execute(s.as_str(), &[]).unwrap_or_else(|e| panic!("{version} {name}: {e}\n{s}"));
            }
            if !disabled {
                tx.batch_execute(&record).unwrap();
            }
            tx.commit().unwrap();
            if disabled {
                c.batch_execute(&record).unwrap();
            }
        }
    }
}

impl Runner for EctoMigrator {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        let mut c = db.connect();
        c.batch_execute("CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, inserted_at timestamp(0))").unwrap();
        for (version, text) in self.files(fx) {
            if harness::count(&mut c, &format!("SELECT count(*) FROM schema_migrations WHERE version = {version}")) == 0 {
                Self::run(&mut c, &text, "up", version);
            }
        }
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        let mut c = db.connect();
        let version = harness::count(&mut c, "SELECT max(version) FROM schema_migrations");
        let (_, text) = self.files(fx).into_iter().find(|(v, _)| *v == version).expect("the newest migration's file");
        Self::run(&mut c, &text, "down", version);
    }
}

#[test]
fn ecto_detection_and_files() {
    let fx = Fixture::copy("ecto/app", "ecto-snap");
    insta::assert_snapshot!("ecto_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("ecto/app", &format!("ecto-snap-{name}"));
        insta::assert_snapshot!(format!("ecto_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn ecto_files_run_as_ecto_runs_them() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("ecto/app", &format!("ecto-{name}"));
        let db = TestDb::new(&format!("ecto_{name}"));
        harness::roundtrip(&fx, &db, &EctoMigrator { dir: "priv/repo/migrations" }, change, check);
    }
}

/// Text Elixir would read as code or as the heredoc's end (`#{}`, `\`, quotes, a `"""` line) reaches
/// PostgreSQL as written.
#[test]
fn ecto_keeps_tricky_text() {
    let change = "ALTER TABLE users ADD COLUMN note text DEFAULT E'a\\n\"\"\"\\n#{x} \\\\ '' ? %s';\nCREATE INDEX users_name_idx ON users (name) WHERE name <> '\n  \"\"\" x\n#{y} \\ ?';";
    let fx = Fixture::copy("ecto/app", "ecto-tricky");
    let db = TestDb::new("ecto_tricky");
    let runner = EctoMigrator { dir: "priv/repo/migrations" };
    let mut c = harness::keeps_tricky_text(&fx, &runner, &db, change, "a\n\"\"\"\n#{x} \\ ' ? %s");
    assert!(fx.written().iter().any(|(_, c)| c.contains("execute(~S'''")), "the delimiter moved aside");
    let def: String = c.query_one("SELECT pg_get_indexdef('users_name_idx'::regclass)", &[]).unwrap().get(0);
    assert!(def.contains("'\n  \"\"\" x\n#{y} \\ ?'"), "{def}");
}

/// The dump `mix ecto.dump` wrote is replayed and zdm's own migrations read back: a typo is caught, no
/// blind spot; a hand-written migration after the dump is one.
#[test]
fn ecto_reads_the_dump_and_its_own_migrations() {
    let fx = Fixture::copy("ecto/app", "ecto-readback");
    harness::reads_back_own_index(&fx);
    let run = fx.zdm(&["plan", "ALTER TABLE posts RENAME COLUMN titel TO headline", "--dry-run"]);
    assert_eq!(run.code, 2, "a typo is caught against the dumped schema:\n{}{}", run.stdout, run.stderr);
    fs::write(fx.path("priv/repo/migrations/20270101000000_add_flags.exs"), "defmodule Shop.Repo.Migrations.AddFlags do\nend\n").unwrap();
    harness::is_blind_spot(&fx, "an Ecto migration");
}

/// An umbrella-style app with two repos: the MySQL one is dropped, the PostgreSQL one (its `priv:` moved)
/// is used, its module prefix taken from the repo.
#[test]
fn ecto_two_repos_pick_postgres() {
    let fx = Fixture::copy("ecto/umbrella", "ecto-umbrella");
    insta::assert_snapshot!("ecto_umbrella_detect", fx.zdm(&["detect", "--format", "json"]).stdout);
    let plan = fx.plan(harness::SAFE, &[]);
    assert!(plan.contains("apps/core/priv/main_repo/migrations/20261125140000_add_column_users.exs"), "{plan}");
    assert!(plan.contains("defmodule Core.MainRepo.Migrations.AddColumnUsers do"), "{plan}");
}

#[test]
fn ecto_errors_name_the_file_and_write_nothing() {
    let fx = Fixture::copy("ecto/app", "ecto-mysql");
    fs::write(fx.path("lib/shop/repo.ex"), "defmodule Shop.Repo do\n  use Ecto.Repo, otp_app: :shop, adapter: Ecto.Adapters.MyXQL\nend\n")
        .unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("mysql, not PostgreSQL") && run.stderr.contains("config/config.exs"), "{}", run.stderr);
    assert_eq!(fx.written().len(), 1, "only the test's own edit");

    let fx = Fixture::copy("ecto/app", "ecto-malformed");
    fs::write(fx.path("config/config.exs"), "import Config\nconfig :shop, ecto_repos: [Shop.Repo\n").unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("config/config.exs: the `ecto_repos: [` list is not closed"), "{}", run.stderr);
    assert_eq!(fx.written().len(), 1);

    let fx = Fixture::copy("ecto/app", "ecto-ambiguous");
    fs::create_dir_all(fx.path("prisma")).unwrap();
    fs::write(fx.path("prisma/schema.prisma"), "datasource db {\n  provider = \"postgresql\"\n  url = env(\"X\")\n}\n").unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("more than one migration setup") && run.stderr.contains("ecto in priv/repo/migrations"), "{}", run.stderr);
    assert_eq!(fx.written().len(), 1);
}
