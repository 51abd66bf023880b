//! Ecto (`ecto_sql`): each repo's migrations in `priv/<repo>/migrations/<UTC YYYYMMDDHHMMSS>_<name>.exs`
//! (`mix ecto.gen.migration`: `:calendar.universal_time()`, module `Module.concat([repo, Migrations,
//! camelize(name)])`; the repo's `priv:` option moves the folder), applied in version order, each migration
//! inside one transaction unless the module sets `@disable_ddl_transaction true` (`Ecto.Migrator`
//! `run_maybe_in_transaction`); `@disable_migration_lock true` keeps the migrator's lock on
//! `schema_migrations` (an open transaction on another connection) from holding a concurrent index build.
//!
//! `execute/1` queues a command that the runner sends at the end of `up`/`down`, one statement per call
//! (Postgrex sends each as one extended-protocol query). zdm writes one `execute(~S"""…""")` per statement:
//! the `~S` heredoc is raw (no interpolation, no escapes); every line of the SQL is indented as its closing
//! delimiter is, which Elixir strips from each line, so the text reaches PostgreSQL as written — the layout
//! `mix format` gives (calls spanning lines separated by a blank line); `'''` is the delimiter when a line
//! of the SQL starts with `"""`. A migration that runs outside
//! the transaction for one direction but needs one for the other wraps that direction in
//! `repo().transaction(fn -> repo().query!(…) end)` (queued `execute`s would run after the function
//! returns, outside it). History: `<priv>/structure.sql` when `mix ecto.dump` wrote one (replayed, then the
//! migrations it does not list), the SQL of migrations zdm wrote; any other migration is a blind spot.

use super::naming::next_versions;
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles};
use crate::plan::{CodeChange, Plan, Step};

/// Ecto.
pub(super) struct Ecto;

/// The engine an Ecto adapter (module or dependency) means.
fn engine_of_adapter(adapter: &str) -> Option<String> {
    let a = adapter.to_ascii_lowercase();
    Some(
        if a.contains("postgres") {
            "postgresql"
        } else if a.contains("myxql") || a.contains("mysql") {
            "mysql"
        } else if a.contains("sqlite") {
            "sqlite"
        } else if a.contains("tds") {
            "sqlserver"
        } else {
            return None;
        }
        .to_string(),
    )
}

/// `(version, name)` of a migration file name (`20240101120000_create_users.exs`).
fn migration_name(file: &str) -> Option<(&str, &str)> {
    let (version, name) = file.strip_suffix(".exs")?.split_once('_')?;
    (!version.is_empty() && version.bytes().all(|b| b.is_ascii_digit())).then_some((version, name))
}

fn migrations<'a>(files: &'a ProjectFiles, dir: &'a str) -> Vec<(&'a ProjectFile, &'a str, &'a str)> {
    let mut found: Vec<_> = files.in_dir(dir).filter_map(|f| migration_name(common::file_name(&f.path)).map(|(v, n)| (f, v, n))).collect();
    found.sort_by_key(|(f, v, _)| (v.parse::<u128>().unwrap_or(0), f.path.clone()));
    found
}

/// `Macro.underscore` of a module name's last part (`MyApp.OtherRepo` → `other_repo`).
fn underscore(module: &str) -> String {
    let last = module.rsplit('.').next().unwrap_or(module);
    let mut out = String::new();
    for (i, c) in last.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The repos an `ecto_repos: [A.Repo, B.Repo]` setting lists; `Err` when the list is not closed.
fn ecto_repos(text: &str) -> Option<Result<Vec<String>, String>> {
    let at = text.find("ecto_repos:")?;
    let rest = text[at + "ecto_repos:".len()..].trim_start();
    let Some(list) = rest.strip_prefix('[') else {
        return Some(Err("`ecto_repos:` is not a list of repo modules".into()));
    };
    let Some(end) = list.find(']') else {
        return Some(Err("the `ecto_repos: [` list is not closed".into()));
    };
    Some(Ok(list[..end].split(',').map(str::trim).filter(|r| !r.is_empty()).map(str::to_string).collect()))
}

/// The body of the `config :app, Repo, …` call for `repo` in a config file (to the next `config`).
fn repo_config<'a>(text: &'a str, repo: &str) -> Option<&'a str> {
    let pattern = format!(", {repo},");
    let at = text.lines().scan(0, |off, l| {
        let start = *off;
        *off += l.len() + 1;
        Some((start, l))
    });
    let (start, _) = at.filter(|(_, l)| l.trim_start().starts_with("config ") && l.contains(&pattern)).last()?;
    let body = &text[start..];
    let end = body[1..].find("\nconfig ").map_or(body.len(), |e| e + 1);
    Some(&body[..end])
}

/// The adapter a repo module declares (`use Ecto.Repo, otp_app: :my_app, adapter: Ecto.Adapters.Postgres`).
fn repo_adapter(files: &ProjectFiles, repo: &str) -> Option<String> {
    files.files.iter().filter(|f| f.path.ends_with(".ex")).find_map(|f| {
        let at = f.contents.find(&format!("defmodule {repo} do"))?;
        let body = &f.contents[at..];
        let adapter = body.split("adapter:").nth(1)?.split([',', '\n']).next()?.trim();
        engine_of_adapter(adapter)
    })
}

/// The engine the `mix.exs` dependencies name: PostgreSQL when `:postgrex` is there.
fn engine_of_mix(mix: &str) -> Option<String> {
    let deps = [(":postgrex", "postgresql"), (":myxql", "mysql"), (":ecto_sqlite3", "sqlite"), (":tds", "sqlserver")];
    deps.iter().find(|(d, _)| mix.contains(&format!("{{{d},"))).map(|(_, e)| (*e).to_string())
}

/// The repo module the migrations of `dir` belong to: the one whose folder it is (from the configs), the
/// module existing migrations name, or `<App>.Repo` from `mix.exs`.
fn repo_module(files: &ProjectFiles, dir: &str, existing: &[(&ProjectFile, &str, &str)]) -> String {
    for f in files.files.iter().filter(|f| is_config(&f.path)) {
        if let Some(Ok(repos)) = ecto_repos(&f.contents) {
            let root = crate::model::parent_dir(crate::model::parent_dir(&f.path));
            if let Some(r) = repos.into_iter().find(|r| repo_dir(files, root, r) == dir) {
                return r;
            }
        }
    }
    if let Some(m) = existing.iter().rev().find_map(|(f, _, _)| {
        let rest = f.contents.split("defmodule ").nth(1)?;
        rest.split(".Migrations.").next().filter(|m| !m.contains(char::is_whitespace)).map(str::to_string)
    }) {
        return m;
    }
    let app = common::named(files, "mix.exs").first().and_then(|m| {
        let rest = m.contents.split("app: :").nth(1)?;
        Some(rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next()?.to_string())
    });
    format!("{}.Repo", common::camelize(&app.unwrap_or_else(|| "my_app".into())))
}

fn is_config(path: &str) -> bool {
    path.ends_with(".exs") && common::file_name(crate::model::parent_dir(path)) == "config"
}

/// The migrations folder of `repo` in the app at `root`: its `priv:` option, else `priv/<repo>`.
fn repo_dir(files: &ProjectFiles, root: &str, repo: &str) -> String {
    let priv_dir = files
        .files
        .iter()
        .filter(|f| is_config(&f.path) && crate::model::parent_dir(crate::model::parent_dir(&f.path)) == root)
        .find_map(|f| repo_config(&f.contents, repo).and_then(|body| common::config_value(body, "priv")))
        .unwrap_or_else(|| format!("priv/{}", underscore(repo)));
    common::join(&common::resolve(root, &priv_dir).unwrap_or(priv_dir), "migrations")
}

/// A heredoc delimiter for the SQL: `"""`, else `'''`; one the SQL does not hold at all when it can (`mix
/// format` escapes a delimiter inside the text: the same string, written differently), else one no line
/// of the SQL starts with (Elixir closes a heredoc at the first line starting, after blanks, with it).
fn delimiter(step: &Step, sql: &str) -> Result<&'static str, WriteError> {
    const DELIMITERS: [&str; 2] = ["\"\"\"", "'''"];
    DELIMITERS
        .into_iter()
        .find(|d| !sql.contains(d))
        .or_else(|| DELIMITERS.into_iter().find(|d| !sql.lines().any(|l| l.trim_start().starts_with(d))))
        .ok_or_else(|| common::step_error(step, "a line of the SQL starts with both \"\"\" and ''' forms; Ecto cannot quote it"))
}

fn direction(step: &Step, name: &str, sql: &str, own_transaction: bool) -> Result<String, WriteError> {
    let statements = common::statements(sql);
    let mut body = String::new();
    if statements.is_empty() {
        body.extend(sql.lines().map(|l| format!("    # {}\n", l.trim_start_matches("--").trim())));
    }
    let call = if own_transaction { "repo().query!" } else { "execute" };
    let indent = if own_transaction { "      " } else { "    " };
    for (n, s) in statements.iter().enumerate() {
        let d = delimiter(step, s)?;
        let text = common::indented(s, indent);
        body.push_str(&format!("{}{indent}{call}(~S{d}\n{text}{indent}{d})\n", if n > 0 { "\n" } else { "" }));
    }
    Ok(if own_transaction && !statements.is_empty() {
        format!("  def {name} do\n    repo().transaction(fn ->\n{body}    end)\n  end\n")
    } else {
        format!("  def {name} do\n{body}  end\n")
    })
}

fn migration_file(step: &Step, total: usize, module: &str) -> Result<String, WriteError> {
    let header: String = common::header(step, total).lines().map(|l| format!("#{}\n", l.strip_prefix("--").unwrap_or(l))).collect();
    let disable = !(step.transaction && step.down_transaction);
    let attrs = if disable {
        let why = match (step.transaction, step.down_transaction) {
            (false, false) => "both directions run outside a transaction",
            (false, true) => "up runs outside a transaction; down makes its own",
            _ => "down runs outside a transaction; up makes its own",
        };
        format!("\n  # {why}\n  @disable_ddl_transaction true\n  @disable_migration_lock true\n")
    } else {
        String::new()
    };
    Ok(format!(
        "{header}defmodule {module} do\n  use Ecto.Migration\n{attrs}\n{}\n{}end\n",
        direction(step, "up", &step.up, disable && step.transaction)?,
        direction(step, "down", &step.down, disable && step.down_transaction)?,
    ))
}

/// The forward SQL of a migration zdm wrote: the heredocs of `def up`, each line where it is in the
/// file, every other line blank. `None` for any other Elixir (zdm does not read code).
fn zdm_up(text: &str) -> Option<String> {
    if !text.starts_with("# zdm: step ") {
        return None;
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut out = vec![""; lines.len()];
    let mut i = lines.iter().position(|l| l.trim() == "def up do")? + 1;
    while i < lines.len() && lines[i].trim() != "def down do" {
        let t = lines[i].trim();
        if let Some(d) = ["\"\"\"", "'''"].into_iter().find(|d| t.ends_with(&format!("(~S{d}"))) {
            let start = i + 1;
            i = start;
            while i < lines.len() && !lines[i].trim_start().starts_with(d) {
                i += 1;
            }
            // Elixir strips the closing delimiter's indentation from every line.
            let strip = lines.get(i).map_or(0, |l| l.len() - l.trim_start().len());
            for (n, line) in lines.iter().enumerate().take(i).skip(start) {
                out[n] = &line[strip.min(line.len() - line.trim_start().len())..];
            }
        }
        i += 1;
    }
    Some(out.join("\n"))
}

impl Tool for Ecto {
    /// `@disable_ddl_transaction true` runs the migration outside a transaction.
    fn runs_in_transaction(&self, files: &ProjectFiles, m: &SourceMigration) -> bool {
        !super::file_text(files, &m.path).contains("@disable_ddl_transaction true")
    }
    fn orm_changes(&self, change: &CodeChange) -> Vec<String> {
        match change {
            CodeChange::MoveColumn { table, from, to } => {
                vec![format!("Ecto, schema {}: field {}, …, source: {}", common::dq(table), common::symbol(from), common::symbol(to))]
            }
            CodeChange::DropColumn { table, column } => {
                vec![format!(
                    "Ecto, schema {}: remove field {} (only declared fields are selected)",
                    common::dq(table),
                    common::symbol(column)
                )]
            }
            CodeChange::MoveTable { from, to } => vec![format!("Ecto: schema {} becomes schema {}", common::dq(from), common::dq(to))],
            CodeChange::DropTable { table } => vec![format!("Ecto: remove schema {} and associations to it", common::dq(table))],
        }
    }

    fn id(&self) -> &'static str {
        "ecto"
    }

    fn default_dir(&self) -> &'static str {
        "priv/repo/migrations"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let mut found: Vec<Detection> = Vec::new();
        let add = |found: &mut Vec<Detection>, d: Detection| {
            if !found.iter().any(|f| f.dir == d.dir) {
                found.push(d);
            }
        };
        let mix_engine =
            |root: &str| files.files.iter().find(|f| f.path == common::join(root, "mix.exs")).and_then(|m| engine_of_mix(&m.contents));
        for cfg in files.files.iter().filter(|f| is_config(&f.path)) {
            let Some(repos) = ecto_repos(&cfg.contents) else { continue };
            let repos = repos.map_err(|e| DetectError::in_file(&cfg.path, e))?;
            let root = crate::model::parent_dir(crate::model::parent_dir(&cfg.path));
            for repo in repos {
                let engine = repo_adapter(files, &repo).or_else(|| mix_engine(root));
                let evidence = format!("{} (ecto_repos: {repo})", cfg.path);
                add(&mut found, Detection::new("ecto", repo_dir(files, root, &repo), Confidence::High, evidence).with_engine(engine));
            }
        }
        // A manifest alone names the default folder, when no config names the repos.
        let configured = !found.is_empty();
        for mix in common::named(files, "mix.exs") {
            if configured || !mix.contents.contains("{:ecto_sql,") {
                continue;
            }
            let root = crate::model::parent_dir(&mix.path);
            let dir = common::join(root, "priv/repo/migrations");
            add(
                &mut found,
                Detection::new("ecto", dir, Confidence::Medium, format!("{} depends on ecto_sql", mix.path))
                    .with_engine(engine_of_mix(&mix.contents)),
            );
        }
        for dir in common::dirs_with(files, |f| {
            let parent = crate::model::parent_dir(&f.path);
            common::file_name(parent) == "migrations"
                && common::file_name(crate::model::parent_dir(crate::model::parent_dir(parent))) == "priv"
                && migration_name(common::file_name(&f.path)).is_some()
        }) {
            let evidence = format!("{dir}/*.exs migrations");
            add(&mut found, Detection::new("ecto", dir, Confidence::Low, evidence));
        }
        Ok(found)
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        // `mix ecto.dump` writes the repo's schema to `<priv>/structure.sql`, with the versions it holds.
        let dump_path = common::join(crate::model::parent_dir(&detection.dir), "structure.sql");
        let mut out = Vec::new();
        let mut dumped = Vec::new();
        if let Some(dump) = files.files.iter().find(|f| f.path == dump_path) {
            out.push(SourceMigration::sql(dump.path.clone(), dump.contents.clone()));
            dumped = common::dumped_versions(&dump.contents);
        }
        for (f, version, _) in migrations(files, &detection.dir) {
            if dumped.iter().any(|d| d == version) {
                continue;
            }
            out.push(match zdm_up(&f.contents) {
                Some(up) => SourceMigration::sql(f.path.clone(), up),
                None => SourceMigration::unread(f.path.clone(), "an Ecto migration"),
            });
        }
        out
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let existing = migrations(files, &detection.dir);
        let versions: Vec<&str> = existing.iter().map(|(_, v, _)| *v).collect();
        let module = repo_module(files, &detection.dir, &existing);
        Profile {
            naming: common::join(&detection.dir, &format!("<YYYYMMDDHHMMSS>_<name>.exs (module {module}.Migrations.<Name>)")),
            next_version: next_versions(&versions, now, 1).pop().unwrap_or_default(),
            down: "`def down` in the same module".into(),
            no_transaction: "`@disable_ddl_transaction true` + `@disable_migration_lock true`".into(),
            history_table: "schema_migrations".into(),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        let dir = &detection.dir;
        let existing = migrations(files, dir);
        let versions: Vec<&str> = existing.iter().map(|(_, v, _)| *v).collect();
        let mut names: Vec<String> = existing.iter().map(|(_, _, n)| (*n).to_string()).collect();
        let repo = repo_module(files, dir, &existing);
        let steps = common::file_steps(plan);
        let total = plan.steps.len();
        let mut out = Vec::with_capacity(steps.len());
        for (step, version) in steps.iter().zip(next_versions(&versions, now, steps.len())) {
            // Ecto refuses two migrations of one name.
            let base = common::ident_slug(&step.slug);
            let name =
                (1..).map(|i| if i == 1 { base.clone() } else { format!("{base}_{i}") }).find(|n| !names.contains(n)).unwrap_or(base);
            names.push(name.clone());
            let path = common::join(dir, &format!("{version}_{name}.exs"));
            common::ensure_free(files, &[], &path)?;
            let contents = migration_file(step, total, &format!("{repo}.Migrations.{}", common::camelize(&name)))?;
            out.push((path.clone(), vec![GeneratedFile::new(path, contents)]));
        }
        Ok(common::written(plan, out, Vec::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_settings() {
        assert_eq!(migration_name("20240101120000_create_users.exs"), Some(("20240101120000", "create_users")));
        assert_eq!(migration_name("seeds.exs"), None);
        assert_eq!(underscore("MyApp.OtherRepo"), "other_repo");
        assert_eq!(
            ecto_repos("config :a,\n  ecto_repos: [A.Repo, A.ReadRepo],\n  x: 1"),
            Some(Ok(vec!["A.Repo".into(), "A.ReadRepo".into()]))
        );
        assert!(matches!(ecto_repos("ecto_repos: [A.Repo"), Some(Err(_))));
        assert_eq!(ecto_repos("config :a, b: 1"), None);
        let cfg = "config :a, A.Repo,\n  priv: \"priv/main\",\n  pool_size: 10\n\nconfig :a, A.Other,\n  priv: \"x\"\n";
        assert_eq!(repo_config(cfg, "A.Repo").and_then(|b| common::config_value(b, "priv")).as_deref(), Some("priv/main"));
        assert_eq!(engine_of_mix("{:ecto_sql, \"~> 3.10\"},\n{:postgrex, \">= 0.0.0\"}").as_deref(), Some("postgresql"));
        assert_eq!(engine_of_adapter("Ecto.Adapters.MyXQL").as_deref(), Some("mysql"));
    }

    #[test]
    fn sigils_are_raw_and_read_back() {
        let mut step = common::test_step(
            "SET LOCAL lock_timeout = '1s';\nALTER TABLE t ADD COLUMN c text DEFAULT E'#{x} \\\\ \n\"\"\" ''';",
            "CREATE INDEX CONCURRENTLY i ON t (c);",
            true,
            false,
        );
        step.lock = crate::model::LockLevel::AccessExclusive;
        let text = migration_file(&step, 1, "A.Repo.Migrations.T").unwrap();
        assert!(text.contains("@disable_migration_lock true") && text.contains("repo().transaction(fn ->"), "{text}");
        assert!(text.contains("repo().query!(~S'''\n"), "{text}");
        let up = zdm_up(&text).unwrap();
        assert_eq!(common::statements(&up), common::statements(&step.up));
        let mut both = step.clone();
        both.up = "SELECT '\n\"\"\"\n'''\n';".into();
        assert!(migration_file(&both, 1, "M").is_err());
    }
}
