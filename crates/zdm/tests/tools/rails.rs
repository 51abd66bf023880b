//! Rails ActiveRecord: the real migrator (Debian 12's `ruby-activerecord` 6.1.7 with `ruby-pg` 1.4,
//! installed by `scripts/deps --test`) applies zdm's files through `ActiveRecord::MigrationContext`, the
//! object `bin/rails db:migrate` / `db:rollback` drive, from a small Ruby script this test writes (no Rails
//! app needed): `migrate` applies every pending migration, `rollback(1)` undoes the newest one,
//! `migrations_status` lists what is applied.

use crate::harness::{self, Fixture, Runner};
use std::fs;
use std::process::Command;
use zdm_pg::testing::TestDb;

const SCRIPT: &str = r##"# ruby ar.rb (up|down|status|to|model|dump) DIR...: ActiveRecord's migrator on the database libpq's PG* variables name.
require "active_record"
ActiveRecord::Base.establish_connection(adapter: "postgresql")
ActiveRecord::Migration.verbose = false
ctx = ActiveRecord::MigrationContext.new(ARGV[1..], ActiveRecord::SchemaMigration)
case ARGV[0]
when "up" then ctx.migrate
when "down" then ctx.rollback(1)
when "status" then ctx.migrations_status.each { |s, v, n| puts "#{s} #{v} #{n}" }
when "to" then ctx.migrate(Integer(ENV.fetch("ZDM_VERSION")))
when "dump" then File.open("db/schema.rb", "w") { |f| ActiveRecord::SchemaDumper.dump(ActiveRecord::Base.connection, f) }
when "model"
  # The model as the code deploy step prints it (ZDM_MODEL), in a process that keeps its column cache
  # while the contract runs, as a running app does; inserts name every column, as Rails 7 does.
  ActiveRecord::Base.partial_writes = false
  user = Class.new(ActiveRecord::Base) { self.table_name = "users" }
  user.class_eval(ENV.fetch("ZDM_MODEL"))
  use = lambda do |tag|
    user.create!(email: "#{tag}@example.com", name: "Written #{tag}")
    found = user.find_by(name: "Written #{tag}")
    found.update!(name: "Renamed #{tag}")
    row = user.connection.select_all("SELECT * FROM users WHERE email = '#{tag}@example.com'").to_a.first
    puts "#{tag}: #{found.name} #{user.where(name: "Renamed #{tag}").count} #{row.slice("name", "full_name").to_a.sort.inspect}"
  end
  use.call("expanded")
  ctx.migrate
  use.call("contracted")
end
"##;

fn ruby() -> String {
    let ruby = std::env::var("ZDM_RUBY").unwrap_or_else(|_| "/usr/bin/ruby".to_string());
    let ok = Command::new(&ruby).args(["-e", "require 'active_record'; require 'pg'"]).output().is_ok_and(|o| o.status.success());
    assert!(ok, "{ruby} cannot load active_record and pg: run scripts/deps --test (Debian ruby-activerecord ruby-pg), or set ZDM_RUBY");
    ruby
}

struct ActiveRecord {
    dirs: &'static [&'static str],
}

impl ActiveRecord {
    fn run(&self, fx: &Fixture, db: &TestDb, command: &str) -> String {
        self.run_with(fx, db, command, &[])
    }

    fn run_with(&self, fx: &Fixture, db: &TestDb, command: &str, env: &[(&str, &str)]) -> String {
        let script = fx.path(".zdm-ar.rb");
        fs::write(&script, SCRIPT).unwrap();
        let mut cmd = Command::new(ruby());
        cmd.arg(&script).arg(command).args(self.dirs).current_dir(&fx.dir).envs(env.iter().copied());
        // libpq's variables from the test database's conninfo (`host=/socket/dir port=… user=… dbname=…`).
        for pair in db.conninfo.split_whitespace() {
            if let Some((k, v)) = pair.split_once('=') {
                let var = match k {
                    "host" => "PGHOST",
                    "port" => "PGPORT",
                    "user" => "PGUSER",
                    "dbname" => "PGDATABASE",
                    "password" => "PGPASSWORD",
                    _ => continue,
                };
                cmd.env(var, v.trim_matches('\''));
            }
        }
        let out = cmd.output().expect("ruby runs");
        fs::remove_file(&script).unwrap();
        assert!(
            out.status.success(),
            "ActiveRecord {command} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Runner for ActiveRecord {
    fn up(&self, fx: &Fixture, db: &TestDb) {
        self.run(fx, db, "up");
    }

    fn down_one(&self, fx: &Fixture, db: &TestDb) {
        self.run(fx, db, "down");
    }
}

#[test]
fn rails_detection_and_files() {
    let fx = Fixture::copy("rails/app", "rails-snap");
    insta::assert_snapshot!("rails_detect", fx.detect(&[]));
    for (name, change, _) in harness::CASES {
        let fx = Fixture::copy("rails/app", &format!("rails-snap-{name}"));
        insta::assert_snapshot!(format!("rails_{name}"), fx.plan(change, &[]));
    }
}

#[test]
fn rails_runs_the_files() {
    for (name, change, check) in harness::CASES {
        let fx = Fixture::copy("rails/app", &format!("rails-{name}"));
        let db = TestDb::new(&format!("rails_{name}"));
        let runner = ActiveRecord { dirs: &["db/migrate"] };
        harness::roundtrip(&fx, &db, &runner, change, check);
        // Every migration is applied, zdm's after the history, in version order.
        let status = runner.run(&fx, &db, "status");
        let lines: Vec<&str> = status.lines().collect();
        assert!(lines.len() > 2 && lines.iter().all(|l| l.starts_with("up ")), "{status}");
        let versions: Vec<&str> = lines.iter().map(|l| l.split(' ').nth(1).unwrap()).collect();
        let mut sorted = versions.clone();
        sorted.sort_unstable();
        assert_eq!(versions, sorted, "{status}");
        let written: Vec<String> = fx.written().into_iter().map(|(p, _)| p).filter(|p| p.ends_with(".rb")).collect();
        assert_eq!(lines.len(), 2 + written.len(), "{status}\n{written:?}");
        assert!(written.iter().all(|p| versions.iter().any(|v| p.starts_with(&format!("db/migrate/{v}_")))), "{written:?}");
    }
}

/// The code deploy's Rails edit works as printed: after the expand and backfill, a model carrying the
/// printed `ignored_columns` and `alias_attribute` lines writes and reads `name` through `full_name` while
/// the sync trigger keeps the old column filled for the old code; after the contract drops `name`, the same
/// model still works.
#[test]
fn rails_model_edit_of_a_rename_works() {
    let fx = Fixture::copy("rails/app", "rails-orm");
    let db = TestDb::new("rails_orm");
    let runner = ActiveRecord { dirs: &["db/migrate"] };
    runner.up(&fx, &db);
    let run = fx.zdm(&["plan", harness::RENAME, "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let steps = json["steps"].as_array().unwrap();
    let code = steps.iter().position(|s| s["phase"] == "code").expect("a code deploy");
    let edit: Vec<&str> = steps[code]["orm_changes"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(edit.len(), 2, "{edit:?}");
    // `Rails, model of users: <code>  (<why>)` → `<code>`.
    let model: Vec<&str> = edit
        .iter()
        .map(|l| l.split_once(": ").map_or(*l, |(_, code)| code))
        .map(|l| l.split_once("  (").map_or(l, |(code, _)| code))
        .collect();
    assert_eq!(model, ["self.ignored_columns += [\"name\"]", "alias_attribute :name, :full_name"]);
    let model = model.join("\n");
    let version = |s: &serde_json::Value| {
        let file = s["file"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
        file.split('_').next().unwrap().to_string()
    };
    runner.run_with(&fx, &db, "to", &[("ZDM_VERSION", &version(&steps[code - 1]))]);
    let out = runner.run_with(&fx, &db, "model", &[("ZDM_MODEL", &model)]);
    assert_eq!(
        out,
        "expanded: Renamed expanded 1 [[\"full_name\", \"Renamed expanded\"], [\"name\", \"Renamed expanded\"]]\n\
         contracted: Renamed contracted 1 [[\"full_name\", \"Renamed contracted\"]]\n",
        "the new code writes full_name, the trigger copies it to name until the contract drops it"
    );
}

/// A project that keeps `db/schema.rb` (dumped here by ActiveRecord's own `SchemaDumper` after its
/// migrator ran the history, as `bin/rails db:migrate` does) and no `structure.sql`: zdm reads the dump —
/// no blind spot although the history is Ruby — and knows the columns exactly, so renaming a decimal with a
/// default, NOT NULL and a CHECK constraint rolls back to the very same schema.
#[test]
fn rails_reads_schema_rb() {
    let fx = Fixture::copy("rails/app", "rails-schemarb");
    fs::remove_file(fx.path("db/structure.sql")).unwrap();
    fs::write(
        fx.path("db/migrate/20240201000000_add_profile.rb"),
        "class AddProfile < ActiveRecord::Migration[6.1]\n  def change\n    add_column :users, :nickname, :string, limit: 40\n    \
         add_column :users, :balance, :decimal, precision: 12, scale: 2, default: 0, null: false\n    \
         add_column :users, :admin, :boolean, default: false, null: false\n    add_column :users, :settings, :jsonb, default: {}, null: false\n    \
         add_column :users, :tags, :string, array: true, default: []\n    \
         add_index :users, :nickname, where: \"admin = false\", name: \"index_users_on_nickname_non_admin\"\n    \
         add_check_constraint :users, \"balance >= 0\", name: \"balance_non_negative\"\n  end\nend\n",
    )
    .unwrap();
    let db = TestDb::new("rails_schemarb");
    let runner = ActiveRecord { dirs: &["db/migrate"] };
    runner.up(&fx, &db);
    runner.run(&fx, &db, "dump");
    let dump = fs::read_to_string(fx.path("db/schema.rb")).unwrap();
    assert!(dump.contains("t.decimal \"balance\", precision: 12, scale: 2, default: \"0.0\", null: false"), "{dump}");
    let json = harness::plan_json(&fx, "ALTER TABLE users RENAME COLUMN balance TO credit");
    assert_eq!(json["schema"]["blind_spots"], serde_json::json!([]), "{}", json["schema"]);
    let typo = fx.zdm(&["plan", "ALTER TABLE users RENAME COLUMN balanse TO credit", "--dry-run"]);
    assert_eq!(typo.code, 2, "the dump was read, so a typo is caught:\n{}{}", typo.stdout, typo.stderr);
    harness::roundtrip(&fx, &db, &runner, "ALTER TABLE users RENAME COLUMN balance TO credit", |c| {
        assert_eq!(harness::count(c, "SELECT count(*) FROM users WHERE credit = 0"), harness::ROWS);
    });
}

/// A GitLab-shaped app: Rails 7.1 in `Gemfile.lock`, a multi-database `config/database.yml`, a
/// `db/post_migrate` folder beside `db/migrate`, migrations on the app's own superclass, the schema kept as
/// `db/structure.sql` listing the versions it holds. The dump is replayed (`username` exists only there),
/// the superclass follows the lock file, a name already used (`vacuum_users`) gets a suffix.
#[test]
fn rails_gitlab_layout() {
    let fx = Fixture::copy("rails/gitlab", "rails-gitlab");
    insta::assert_snapshot!("rails_gitlab_detect", fx.zdm(&["detect", "--format", "json"]).stdout);
    let plan = fx.plan("ALTER TABLE users RENAME COLUMN username TO handle", &["--migrations-dir", "db/post_migrate"]);
    assert!(plan.contains("db/post_migrate/20261125140000_expand_users_handle.rb"), "{plan}");
    assert!(plan.contains("< ActiveRecord::Migration[7.1]"), "{plan}");
    assert!(plan.contains("_vacuum_users_2.rb") && plan.contains("class VacuumUsers2 <"), "{plan}");
    let fx = Fixture::copy("rails/gitlab", "rails-gitlab-typo");
    let typo = fx.zdm(&["plan", "ALTER TABLE users RENAME COLUMN usrname TO handle"]);
    assert_eq!(typo.code, 2, "the dump was replayed, so a typo is caught:\n{}{}", typo.stdout, typo.stderr);
    assert!(fx.written().is_empty());
}

/// A migration zdm wrote is read back on the next plan: the column it added is known (no blind spot).
#[test]
fn rails_reads_back_its_own_migrations() {
    let fx = Fixture::copy("rails/app", "rails-readback");
    harness::reads_back_own_index(&fx);
    // A hand-written Ruby migration is a blind spot, not guessed.
    fs::write(fx.path("db/migrate/20270101000000_add_flags.rb"), "class AddFlags < ActiveRecord::Migration[6.1]\nend\n").unwrap();
    harness::is_blind_spot(&fx, "a Rails migration");
}

#[test]
fn rails_errors_name_the_file_and_write_nothing() {
    let fx = Fixture::copy("rails/app", "rails-mysql");
    let yml = fs::read_to_string(fx.path("config/database.yml")).unwrap().replace("adapter: postgresql", "adapter: mysql2");
    fs::write(fx.path("config/database.yml"), yml).unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("mysql, not PostgreSQL") && run.stderr.contains("config/database.yml"), "{}", run.stderr);
    assert_eq!(fx.written().len(), 1, "only the test's own edit");

    let fx = Fixture::copy("rails/app", "rails-noadapter");
    fs::write(fx.path("config/database.yml"), "development:\n  database: shop\n").unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("config/database.yml: names no `adapter:`"), "{}", run.stderr);
    assert_eq!(fx.written().len(), 1);

    let fx = Fixture::copy("rails/app", "rails-ambiguous");
    fs::create_dir_all(fx.path("prisma")).unwrap();
    fs::write(fx.path("prisma/schema.prisma"), "datasource db {\n  provider = \"postgresql\"\n  url = env(\"X\")\n}\n").unwrap();
    let run = fx.zdm(&["plan", harness::SAFE]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("more than one migration setup") && run.stderr.contains("rails in db/migrate"), "{}", run.stderr);
    assert_eq!(fx.written().len(), 1);
}

/// Text Ruby would read as code or as the heredoc's end (`#{}`, `\`, quotes, a line `SQL`, `?`, `%`)
/// reaches PostgreSQL as written, through ActiveRecord.
#[test]
fn rails_keeps_tricky_text() {
    let change = "ALTER TABLE users ADD COLUMN note text DEFAULT E'a\\nSQL\\n#{x} \\\\ '' \" ? %s';\nCREATE INDEX users_name_idx ON users (name) WHERE name <> '\n  SQL\n#{y} \\ ?';";
    let fx = Fixture::copy("rails/app", "rails-tricky");
    let db = TestDb::new("rails_tricky");
    let runner = ActiveRecord { dirs: &["db/migrate"] };
    let mut c = harness::keeps_tricky_text(&fx, &runner, &db, change, "a\nSQL\n#{x} \\ ' \" ? %s");
    assert!(fx.written().iter().any(|(_, c)| c.contains("<<~'SQL_1'")), "the terminator moved aside");
    let def: String = c.query_one("SELECT pg_get_indexdef('users_name_idx'::regclass)", &[]).unwrap().get(0);
    assert!(def.contains("'\n  SQL\n#{y} \\ ?'"), "{def}");
}
