//! The code migrations zdm writes are already formatted: each language's formatter, with its default
//! settings, would change nothing — `ruff format` (Black's style) for Alembic and Django, Prettier for
//! Knex, Sequelize and TypeORM (JavaScript and TypeScript), RuboCop's layout cops for Rails, `mix format`
//! for Ecto, rustfmt for SeaORM (installed by `scripts/deps --test`; rustfmt comes with the toolchain).
//! Each project gets a safe change, a concurrent index, a rename, a type change, a dropped column and text
//! full of quotes, backslashes and heredoc terminators.

use crate::harness::{self, Fixture};
use std::path::Path;
use std::process::Command;
use zdm_pg::testing::installed_runner;

const CHANGES: &[&str] = &[
    harness::SAFE,
    harness::INDEX,
    "ALTER TABLE users ADD COLUMN note text DEFAULT E'a\\nSQL\\n#{x} \\\\ '' \" ? %s `${y}` \"\"\" r#\"';\n\
     CREATE INDEX users_note_idx ON users (note) WHERE note <> '\n  SQL\n\"\"\"\n#{y} \\ ?';",
    harness::RENAME,
    "ALTER TABLE users ALTER COLUMN email TYPE varchar(300)",
    "ALTER TABLE users DROP COLUMN nickname",
];

/// Plans every change in a copy of `fixture`; the code files zdm wrote (paths relative to the copy).
fn written(fixture: &str, ext: &[&str]) -> (Fixture, Vec<String>) {
    written_in(Fixture::copy(fixture, &format!("fmt-{}", fixture.replace('/', "-"))), ext)
}

fn written_in(fx: Fixture, ext: &[&str]) -> (Fixture, Vec<String>) {
    for change in CHANGES {
        let run = fx.zdm(&["plan", change]);
        assert_eq!(run.code, 0, "{change}:\n{}{}", run.stdout, run.stderr);
    }
    let files: Vec<String> =
        fx.written().into_iter().map(|(p, _)| p).filter(|p| ext.iter().any(|e| p.ends_with(&format!(".{e}")))).collect();
    assert!(files.len() >= CHANGES.len(), "{}: {files:?}", fx.dir.display());
    (fx, files)
}

/// Runs `program args… files…` in the copy; fails with the formatter's output when it would change a file.
fn check(fx: &Fixture, program: &str, args: &[&str], files: &[String]) {
    let out = Command::new(program)
        .args(args)
        .args(files)
        .current_dir(&fx.dir)
        .env("LANG", "C.UTF-8")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(
        out.status.success(),
        "{program} would reformat zdm's files:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn system_tool(name: &str) -> String {
    let path = format!("/usr/bin/{name}");
    assert!(Path::new(&path).exists(), "{path} is missing: run scripts/deps --test");
    path
}

#[test]
fn python_migrations_pass_ruff_format() {
    let ruff = installed_runner("ZDM_RUFF", ".tools/py/bin/ruff");
    for fixture in ["alembic/basic", "django/basic"] {
        let (fx, files) = written(fixture, &["py"]);
        check(&fx, &ruff, &["format", "--check", "--diff", "--no-cache"], &files);
    }
}

#[test]
fn javascript_and_typescript_migrations_pass_prettier() {
    let prettier = installed_runner("ZDM_PRETTIER", ".tools/node_modules/.bin/prettier");
    for fixture in ["knex/basic", "knex/monorepo", "sequelize/basic", "typeorm/basic", "typeorm/nest"] {
        let (fx, files) = written(fixture, &["js", "cjs", "mjs", "ts"]);
        check(&fx, &prettier, &["--check", "--no-config", "--no-editorconfig"], &files);
    }
}

#[test]
fn rails_migrations_pass_rubocop_layout() {
    let (fx, files) = written("rails/app", &["rb"]);
    check(&fx, &system_tool("rubocop"), &["--only", "Layout", "--force-default-config", "--cache", "false"], &files);
}

#[test]
fn ecto_migrations_pass_mix_format() {
    let (fx, files) = written("ecto/app", &["exs"]);
    check(&fx, &system_tool("mix"), &["format", "--check-formatted"], &files);
}

#[test]
fn seaorm_migrations_pass_rustfmt() {
    let (fx, files) = written("seaorm/app", &["rs"]);
    assert!(files.iter().any(|f| f.ends_with("lib.rs")), "lib.rs lists the new modules: {files:?}");
    // `lib.rs` brings in every module, the project's own as well.
    check(&fx, "rustfmt", &["--check", "--edition", "2021"], &files);
    // A list kept on one line (`vec![Box::new(…)]`) is laid out one entry per line as entries are added.
    let fx = Fixture::copy("seaorm/app", "fmt-seaorm-one-line");
    let lib = fx.path("migration/src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    let (start, end) = (text.find("vec![").unwrap(), text.find("]\n    }").unwrap());
    let one_line: String = text[start..=end].split_whitespace().collect::<Vec<_>>().join(" ").replace("[ ", "[").replace(", ]", "]");
    std::fs::write(&lib, format!("{}{one_line}{}", &text[..start], &text[end + 1..])).unwrap();
    assert!(std::fs::read_to_string(&lib).unwrap().contains("vec![Box::new(m20240110_090000_create_users::Migration), Box::new("));
    let (fx, files) = written_in(fx, &["rs"]);
    check(&fx, "rustfmt", &["--check", "--edition", "2021"], &files);
}
