//! Rails ActiveRecord: `db/migrate/<UTC YYYYMMDDHHMMSS>_<snake>.rb`, each a class named the CamelCase of
//! the file name (ActiveRecord 6.1 `MigrationProxy#load_migration`: `name.constantize`, the name taken from
//! the file by `/\A([0-9]+)_([_a-z0-9]*)\.?([_a-z0-9]*)?\.rb\z/`; two migrations of one name are refused),
//! all migration paths run together in version order, each migration in one transaction unless its class
//! says `disable_ddl_transaction!` (then every `execute` commits on its own, and `transaction do … end`
//! makes one where a direction needs it).
//!
//! zdm writes `def up` / `def down` with one `execute <<~'SQL'` per statement, as RuboCop's layout cops
//! want: a single-quoted heredoc is raw (no interpolation, no escapes), and every line of the SQL is
//! indented by the same prefix — the statement's first line starts at its left edge, so that prefix is the
//! least indentation `<<~` finds and strips, and the text reaches PostgreSQL as written (lines of
//! whitespace only, which `<<~` ignores when it measures, are prefixed as well; empty lines stay empty).
//! The terminator is one no line of the SQL equals. History: `db/structure.sql`
//! when the app keeps one (a `pg_dump`, replayed, then the migrations it does not list), the SQL of the
//! migrations zdm wrote, and a blind spot for any other Ruby migration.

use super::naming::{next_versions, version_prefix};
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles};
use crate::plan::{CodeChange, Plan, Step};

mod schema_rb;

/// Rails ActiveRecord.
pub(super) struct Rails;

/// The ActiveRecord version written when the project names none (Debian 12's `ruby-activerecord`).
const DEFAULT_AR: &str = "6.1";

/// The engine an ActiveRecord adapter name means.
fn engine_of_adapter(adapter: &str) -> String {
    match adapter.trim().trim_matches(['"', '\'']).to_ascii_lowercase().as_str() {
        "postgresql" | "postgis" | "postgres" => "postgresql".into(),
        "mysql2" | "trilogy" | "mysql" => "mysql".into(),
        "sqlite3" | "sqlite" => "sqlite".into(),
        "sqlserver" => "sqlserver".into(),
        other => other.to_string(),
    }
}

/// `(version, name)` of a Rails migration file name (`20240101120000_create_users.rb`).
fn migration_name(file: &str) -> Option<(&str, &str)> {
    let stem = file.strip_suffix(".rb")?;
    let (version, rest) = stem.split_once('_')?;
    let name = rest.split('.').next()?;
    let ok = |s: &str| s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    (!version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()) && ok(rest.replacen('.', "", 1).as_str()))
        .then_some((version, name))
}

fn contents<'a>(files: &'a ProjectFiles, path: &str) -> Option<&'a str> {
    files.files.iter().find(|f| f.path == path).map(|f| f.contents.as_str())
}

/// The app root of a migrations directory (`app/db/migrate` → `app`).
fn root_of(dir: &str) -> &str {
    let parent = crate::model::parent_dir(dir);
    if common::file_name(parent) == "db" { crate::model::parent_dir(parent) } else { parent }
}

/// Every migrations directory of the app at `root`: `db/migrate` and the other `db/*migrate` folders
/// (`db/post_migrate`), plus `dir`.
fn app_dirs(files: &ProjectFiles, root: &str, dir: &str) -> Vec<String> {
    let db = common::join(root, "db");
    let mut dirs = common::dirs_with(files, |f| {
        let parent = crate::model::parent_dir(&f.path);
        crate::model::parent_dir(parent) == db
            && common::file_name(parent).ends_with("migrate")
            && migration_name(common::file_name(&f.path)).is_some()
    });
    if !dirs.iter().any(|d| d == dir) {
        dirs.push(dir.to_string());
    }
    dirs
}

/// Every migration of the app (all its directories), in version order.
fn all_migrations<'a>(files: &'a ProjectFiles, dir: &str) -> Vec<(&'a ProjectFile, &'a str, &'a str)> {
    let mut found: Vec<_> = Vec::new();
    for d in app_dirs(files, root_of(dir), dir) {
        found.extend(
            files
                .files
                .iter()
                .filter(|f| crate::model::parent_dir(&f.path) == d)
                .filter_map(|f| migration_name(common::file_name(&f.path)).map(|(v, n)| (f, v, n))),
        );
    }
    found.sort_by(|a, b| a.1.parse::<u128>().unwrap_or(0).cmp(&b.1.parse::<u128>().unwrap_or(0)).then(a.0.path.cmp(&b.0.path)));
    found
}

/// The ActiveRecord `major.minor` the project uses: `Gemfile.lock` (`rails (7.1.3)`), the Gemfile's
/// requirement, else the newest migration's `ActiveRecord::Migration[X.Y]`, else [`DEFAULT_AR`].
fn ar_version(files: &ProjectFiles, root: &str, migrations: &[(&ProjectFile, &str, &str)]) -> String {
    let major_minor = |v: &str| -> Option<String> {
        let digits: String =
            v.trim_start_matches(|c: char| !c.is_ascii_digit()).chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
        let mut parts = digits.split('.').filter(|p| !p.is_empty());
        Some(format!("{}.{}", parts.next()?, parts.next().unwrap_or("0")))
    };
    if let Some(lock) = contents(files, &common::join(root, "Gemfile.lock")) {
        for gem in ["rails", "activerecord"] {
            if let Some(v) = lock.lines().find_map(|l| l.trim().strip_prefix(&format!("{gem} (")).and_then(major_minor)) {
                return v;
            }
        }
    }
    if let Some(gemfile) = contents(files, &common::join(root, "Gemfile")) {
        for line in gemfile.lines().map(str::trim) {
            for gem in ["rails", "activerecord"] {
                for q in ['"', '\''] {
                    if let Some(rest) = line.strip_prefix(&format!("gem {q}{gem}{q}"))
                        && let Some(v) = rest.strip_prefix(',').and_then(major_minor)
                    {
                        return v;
                    }
                }
            }
        }
    }
    migrations
        .iter()
        .rev()
        .find_map(|(f, _, _)| f.contents.split("ActiveRecord::Migration[").nth(1).and_then(|r| r.split(']').next()).map(str::to_string))
        .unwrap_or_else(|| DEFAULT_AR.to_string())
}

/// A heredoc terminator that no line of `sql` equals (Ruby ends a `<<-` heredoc at the first line that
/// is the terminator after optional blanks).
fn terminator(sql: &str) -> String {
    let candidates = std::iter::once("SQL".to_string()).chain((1..).map(|i| format!("SQL_{i}")));
    common::first_free(candidates, |t| !sql.lines().any(|l| l.trim() == t)).unwrap_or_else(|| "SQL_ZDM".into())
}

/// One direction's body: an `execute` heredoc per statement, inside `transaction do … end` when the
/// migration runs outside ActiveRecord's transaction but this direction needs one.
fn direction(name: &str, sql: &str, wrap: bool) -> String {
    let statements = common::statements(sql);
    let indent = if wrap { "      " } else { "    " };
    let mut body = String::new();
    if statements.is_empty() {
        // Only comments (a rollback that cannot undo anything): kept as Ruby comments.
        body.extend(sql.lines().map(|l| format!("{indent}# {}\n", l.trim_start_matches("--").trim())));
    }
    for s in &statements {
        let t = terminator(s);
        let text = common::indented(s, &format!("{indent}  "));
        body.push_str(&format!("{indent}execute <<~'{t}'\n{text}{indent}{t}\n"));
    }
    if wrap { format!("  def {name}\n    transaction do\n{body}    end\n  end\n") } else { format!("  def {name}\n{body}  end\n") }
}

fn migration_file(step: &Step, total: usize, class: &str, version: &str) -> String {
    let header: String = common::header(step, total).lines().map(|l| format!("#{}\n", l.strip_prefix("--").unwrap_or(l))).collect();
    let disable = !(step.transaction && step.down_transaction);
    let switch = if disable {
        let why = match (step.transaction, step.down_transaction) {
            (false, false) => "both directions run outside a transaction".to_string(),
            (false, true) => "up runs outside a transaction; down makes its own".to_string(),
            _ => "down runs outside a transaction; up makes its own".to_string(),
        };
        format!("  # {why}\n  disable_ddl_transaction!\n\n")
    } else {
        String::new()
    };
    format!(
        "{header}class {class} < ActiveRecord::Migration[{version}]\n{switch}{}\n{}end\n",
        direction("up", &step.up, disable && step.transaction),
        direction("down", &step.down, disable && step.down_transaction),
    )
}

/// The forward SQL of a migration zdm wrote: the heredocs of `def up`, each line where it is in the file,
/// every other line blank. `None` for any other Ruby (zdm does not read code).
fn zdm_up(text: &str) -> Option<String> {
    if !text.starts_with("# zdm: step ") {
        return None;
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut out = vec![""; lines.len()];
    let mut i = lines.iter().position(|l| l.trim() == "def up")? + 1;
    while i < lines.len() {
        let t = lines[i].trim();
        if t == "def down" {
            break;
        }
        let heredoc = t.strip_prefix("execute <<~'").map(|r| (r, true)).or_else(|| t.strip_prefix("execute <<-'").map(|r| (r, false)));
        if let Some((term, squiggly)) = heredoc.and_then(|(r, s)| Some((r.strip_suffix('\'')?, s))) {
            let start = i + 1;
            i = start;
            while i < lines.len() && lines[i].trim() != term {
                i += 1;
            }
            let body = &lines[start..i];
            // `<<~` strips the least indentation of the lines that hold more than blanks.
            let strip = if squiggly {
                body.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start_matches(' ').len()).min().unwrap_or(0)
            } else {
                0
            };
            for (n, l) in body.iter().enumerate() {
                out[start + n] = l.get(strip..).unwrap_or("");
            }
        }
        i += 1;
    }
    Some(out.join("\n"))
}

impl Tool for Rails {
    /// `disable_ddl_transaction!` runs the migration outside a transaction.
    fn runs_in_transaction(&self, files: &ProjectFiles, m: &SourceMigration) -> bool {
        !super::file_text(files, &m.path).contains("disable_ddl_transaction!")
    }
    fn orm_changes(&self, change: &CodeChange) -> Vec<String> {
        let model = |t: &str| format!("Rails, model of {t}:");
        match change {
            CodeChange::MoveColumn { table, from, to } => vec![
                format!("{} self.ignored_columns += [{}]", model(table), common::dq(from)),
                format!("alias_attribute {}, {}  (the code keeps calling it {from})", common::symbol(from), common::symbol(to)),
            ],
            CodeChange::DropColumn { table, column } => {
                vec![format!("{} self.ignored_columns += [{}]  (until the column is gone)", model(table), common::dq(column))]
            }
            CodeChange::MoveTable { from, to } => vec![format!("{} self.table_name = {}", model(from), common::dq(to))],
            CodeChange::DropTable { table } => vec![format!("Rails: remove the model of {table} and its associations")],
        }
    }

    fn id(&self) -> &'static str {
        "rails"
    }

    fn default_dir(&self) -> &'static str {
        "db/migrate"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let mut found: Vec<Detection> = Vec::new();
        let add = |found: &mut Vec<Detection>, d: Detection| {
            if !found.iter().any(|f| f.dir == d.dir) {
                found.push(d);
            }
        };
        let configs: Vec<&ProjectFile> =
            files.files.iter().filter(|f| f.path == "config/database.yml" || f.path.ends_with("/config/database.yml")).collect();
        for cfg in &configs {
            let root = crate::model::parent_dir(crate::model::parent_dir(&cfg.path));
            let plain = |l: &&str| !l.contains("<%") && !l.trim_start().starts_with('#');
            let adapter = cfg.contents.lines().filter(plain).find_map(|l| l.trim().strip_prefix("adapter:").map(engine_of_adapter));
            let url = cfg.contents.lines().filter(plain).find_map(|l| l.trim().strip_prefix("url:").and_then(super::engine_of_url));
            let erb = cfg.contents.contains("<%");
            if adapter.is_none() && url.is_none() && !erb {
                return Err(DetectError::in_file(&cfg.path, "names no `adapter:` (postgresql, mysql2, sqlite3, …)"));
            }
            let engine = adapter.or(url);
            let evidence = format!("{} (adapter {})", cfg.path, engine.as_deref().unwrap_or("from the environment"));
            for value in cfg.contents.lines().filter(plain).filter_map(|l| l.trim().strip_prefix("migrations_paths:")) {
                let given = value.trim().trim_matches(['"', '\'']);
                if given.is_empty() || given.starts_with('[') {
                    continue;
                }
                let Some(dir) = common::resolve(root, given) else {
                    return Err(DetectError::in_file(&cfg.path, format!("migrations_paths {given} points outside the project")));
                };
                add(
                    &mut found,
                    Detection::new("rails", dir, Confidence::High, format!("{evidence}, migrations_paths")).with_engine(engine.clone()),
                );
            }
            add(
                &mut found,
                Detection::new("rails", common::join(root, "db/migrate"), Confidence::High, evidence).with_engine(engine.clone()),
            );
        }
        for manifest in ["Gemfile.lock", "Gemfile"] {
            for f in common::named(files, manifest) {
                let gems = |g: &str| {
                    f.contents.lines().any(|l| {
                        let t = l.trim();
                        t.starts_with(&format!("{g} (")) || t.starts_with(&format!("gem \"{g}\"")) || t.starts_with(&format!("gem '{g}'"))
                    })
                };
                if !(gems("rails") || gems("activerecord")) {
                    continue;
                }
                let engine = [("pg", "postgresql"), ("mysql2", "mysql"), ("trilogy", "mysql"), ("sqlite3", "sqlite")]
                    .iter()
                    .find(|(g, _)| gems(g))
                    .map(|(_, e)| (*e).to_string());
                let root = crate::model::parent_dir(&f.path);
                add(
                    &mut found,
                    Detection::new("rails", common::join(root, "db/migrate"), Confidence::Medium, format!("{} depends on rails", f.path))
                        .with_engine(engine),
                );
            }
        }
        // Other migration folders (`db/post_migrate`) and bare `db/migrate` directories of `.rb` files.
        for dir in common::dirs_with(files, |f| {
            let parent = crate::model::parent_dir(&f.path);
            common::file_name(crate::model::parent_dir(parent)) == "db"
                && common::file_name(parent).ends_with("migrate")
                && migration_name(common::file_name(&f.path)).is_some()
        }) {
            let engine = found.iter().find(|d| root_of(&d.dir) == root_of(&dir)).and_then(|d| d.engine.clone());
            let confidence = if common::file_name(&dir) == "migrate" { Confidence::Low } else { Confidence::Medium };
            add(&mut found, Detection::new("rails", dir.clone(), confidence, format!("{dir}/*.rb migrations")).with_engine(engine));
        }
        Ok(found)
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        let root = root_of(&detection.dir);
        let mut out = Vec::new();
        let structure_path = common::join(root, "db/structure.sql");
        let schema_rb_path = common::join(root, "db/schema.rb");
        let migrations = all_migrations(files, &detection.dir);
        let dumped = match (contents(files, &structure_path), contents(files, &schema_rb_path)) {
            (Some(text), _) => {
                out.push(SourceMigration::sql(structure_path.clone(), text));
                common::dumped_versions(text)
            }
            (None, Some(text)) => {
                // `schema.rb` holds every migration up to its version (`assume_migrated_upto_version`).
                let dump = schema_rb::read(text);
                out.push(SourceMigration::sql(schema_rb_path.clone(), &dump.sql));
                if !dump.skipped.is_empty() {
                    let lines: Vec<String> = dump.skipped.iter().map(usize::to_string).collect();
                    out.push(SourceMigration::unread(
                        schema_rb_path.clone(),
                        format!("db/schema.rb line(s) {} zdm does not read", lines.join(", ")),
                    ));
                }
                let upto = dump.version.unwrap_or_default();
                migrations
                    .iter()
                    .filter(|(_, v, _)| v.len() == upto.len() && *v <= upto.as_str())
                    .map(|(_, v, _)| (*v).to_string())
                    .collect()
            }
            (None, None) => Vec::new(),
        };
        for (f, version, _) in migrations {
            if dumped.iter().any(|d| d == version) {
                continue;
            }
            out.push(match zdm_up(&f.contents) {
                Some(up) => SourceMigration::sql(f.path.clone(), up),
                None => SourceMigration::unread(f.path.clone(), "a Rails migration"),
            });
        }
        out
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let migrations = all_migrations(files, &detection.dir);
        let versions: Vec<&str> = migrations.iter().map(|(_, v, _)| *v).collect();
        let ar = ar_version(files, root_of(&detection.dir), &migrations);
        Profile {
            naming: common::join(&detection.dir, &format!("<YYYYMMDDHHMMSS>_<name>.rb (class <Name> < ActiveRecord::Migration[{ar}])")),
            next_version: next_versions(&versions, now, 1).pop().unwrap_or_default(),
            down: "`def down` in the same file".into(),
            no_transaction: "`disable_ddl_transaction!` in the migration class".into(),
            history_table: "schema_migrations (+ ar_internal_metadata)".into(),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        let dir = &detection.dir;
        let root = root_of(dir);
        let migrations = all_migrations(files, dir);
        let versions: Vec<&str> = migrations.iter().map(|(_, v, _)| *v).collect();
        let mut names: Vec<String> = migrations.iter().map(|(_, _, n)| (*n).to_string()).collect();
        let ar = ar_version(files, root, &migrations);
        let steps = common::file_steps(plan);
        let total = plan.steps.len();
        let mut out = Vec::with_capacity(steps.len());
        for (step, version) in steps.iter().zip(next_versions(&versions, now, steps.len())) {
            debug_assert!(version_prefix(&format!("{version}_x.rb")).is_some());
            // ActiveRecord refuses two migrations of one name (the class names would clash).
            let base = common::ident_slug(&step.slug);
            let name =
                (1..).map(|i| if i == 1 { base.clone() } else { format!("{base}_{i}") }).find(|n| !names.contains(n)).unwrap_or(base);
            names.push(name.clone());
            let path = common::join(dir, &format!("{version}_{name}.rb"));
            common::ensure_free(files, &[], &path)?;
            let contents = migration_file(step, total, &common::camelize(&name), &ar);
            out.push((path.clone(), vec![GeneratedFile::new(path, contents)]));
        }
        let mut notes = Vec::new();
        for dump in ["db/structure.sql", "db/schema.rb"] {
            let path = common::join(root, dump);
            if files.exists(&path) {
                notes.push(format!("{path} is regenerated by `bin/rails db:migrate`: commit it with these migrations"));
            }
        }
        Ok(common::written(plan, out, notes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_file_names() {
        assert_eq!(migration_name("20240101120000_create_users.rb"), Some(("20240101120000", "create_users")));
        assert_eq!(migration_name("20240101120000_create_users.app.rb"), Some(("20240101120000", "create_users")));
        assert_eq!(migration_name("20240101120000_CreateUsers.rb"), None);
        assert_eq!(migration_name("schema.rb"), None);
        assert_eq!(root_of("db/migrate"), "");
        assert_eq!(root_of("apps/api/db/post_migrate"), "apps/api");
    }

    #[test]
    fn heredocs_are_raw_and_their_terminator_is_free() {
        assert_eq!(terminator("SELECT 1"), "SQL");
        assert_eq!(terminator("SELECT $$\n  SQL\n$$"), "SQL_1");
        let mut step = common::test_step(
            "CREATE INDEX CONCURRENTLY i ON t (a) WHERE b <> E'#{x} \\\\ \\'\nSQL\n';",
            "SET LOCAL lock_timeout = '1s';\nDROP INDEX i;",
            false,
            true,
        );
        step.slug = "add_note".into();
        let text = migration_file(&step, 1, "AddNote", "6.1");
        assert!(text.contains("disable_ddl_transaction!") && text.contains("    transaction do\n"), "{text}");
        assert!(text.contains("execute <<~'SQL_1'\n"), "{text}");
        let up = zdm_up(&text).unwrap();
        assert_eq!(up.trim_matches('\n'), step.up);
        assert_eq!(zdm_up("class A < ActiveRecord::Migration[6.1]\nend\n"), None);
    }
}
