//! Django: `manage.py` marks a project; its apps keep migrations in `<app>/migrations/` (a package:
//! `__init__.py`) as `NNNN_<name>.py` modules, each a `Migration` class whose `dependencies` name the
//! migrations it follows (`("app", "0002_x")`). The engine is `DATABASES[…]["ENGINE"]` in the settings
//! (`settings.py` or a `settings/` package): `django.db.backends.postgresql`, `…postgis`, `…mysql`, ….
//!
//! Detection: the project (the `manage.py` directory, high) and each app's migrations directory (low; so
//! `--migrations-dir <app>/migrations` chooses one). With several apps the writer takes the app whose
//! tables the plan's SQL names (`db_table`, or the `<app>_<model>` prefix), else stops with the list.
//! zdm writes one migration per step: `dependencies` = the app's leaf, chained; `RunSQL(sql=[…],
//! reverse_sql=[…])` with one list item per statement (Django then executes each on its own); `atomic =
//! False` when a direction must run outside a transaction — a transactional direction of such a migration
//! is wrapped in `BEGIN;` … `COMMIT;` items so it still runs as one transaction. Migrations made only of
//! `RunSQL` with literal SQL (zdm's own, hand-written SQL ones) are read; others are code zdm does not read.

use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles};
use crate::plan::{CodeChange, Plan, Step};

/// Django.
pub(super) struct Django;

/// The engine a settings file's `ENGINE` names; PostgreSQL when any of its databases is PostgreSQL.
fn engine_of_settings(text: &str) -> Option<String> {
    let engines: Vec<String> = text
        .match_indices("ENGINE")
        .filter_map(|(i, _)| common::config_value(&text[i..], "ENGINE"))
        .filter_map(|e| {
            let e = e.to_ascii_lowercase();
            Some(
                if e.contains("postgis") {
                    "postgis"
                } else if e.contains("postgres") {
                    "postgresql"
                } else if e.contains("mysql") {
                    "mysql"
                } else if e.contains("sqlite") {
                    "sqlite"
                } else if e.contains("oracle") {
                    "oracle"
                } else {
                    return None;
                }
                .to_string(),
            )
        })
        .collect();
    engines.iter().find(|e| super::is_postgres_engine(e)).or(engines.first()).cloned()
}

/// A numbered migration module (`0001_initial.py`).
fn is_migration(path: &str) -> bool {
    let name = common::file_name(path);
    name.ends_with(".py") && name.len() > 7 && name.as_bytes()[..4].iter().all(u8::is_ascii_digit) && name.as_bytes()[4] == b'_'
}

/// The apps' migration directories below `root` (a package: `__init__.py` beside numbered modules or alone).
fn app_dirs(files: &ProjectFiles, root: &str) -> Vec<String> {
    common::dirs_with(files, |f| {
        f.path.ends_with("/migrations/__init__.py") && (root.is_empty() || f.path.starts_with(&format!("{root}/")))
    })
}

/// The `manage.py` directories.
fn projects(files: &ProjectFiles) -> Vec<&str> {
    common::named(files, "manage.py").into_iter().map(|f| crate::model::parent_dir(&f.path)).collect()
}

/// The project a directory belongs to (the deepest `manage.py` above it), or `dir` itself.
fn project_of<'a>(files: &'a ProjectFiles, dir: &'a str) -> &'a str {
    projects(files)
        .into_iter()
        .filter(|p| p.is_empty() || dir == *p || dir.starts_with(&format!("{p}/")))
        .max_by_key(|p| p.len())
        .unwrap_or(dir)
}

/// The engine the settings name (`settings.py`, or any module of a `settings/` package): PostgreSQL when
/// any of them names it (a `test.py` on SQLite does not make the project SQLite), else the first named.
fn settings_engine(files: &ProjectFiles, root: &str) -> Option<String> {
    let engines: Vec<String> = common::under(files, root)
        .filter(|f| f.path.ends_with("settings.py") || (f.path.ends_with(".py") && f.path.contains("/settings/")))
        .filter_map(|f| engine_of_settings(&f.contents))
        .collect();
    engines.iter().find(|e| super::is_postgres_engine(e)).or(engines.first()).cloned()
}

/// App label of a migrations directory (`accounts/migrations` → `accounts`).
fn label(dir: &str) -> &str {
    common::file_name(crate::model::parent_dir(dir))
}

/// One migration: its app, name and the (app, name) pairs it depends on.
struct Migration<'a> {
    file: &'a ProjectFile,
    app: String,
    name: String,
    deps: Vec<(String, String)>,
}

/// The text inside the brackets after `key` (`dependencies = [ … ]`), strings skipped when matching.
fn bracketed<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let at = text.find(key)?;
    let open = at + text[at..].find('[')?;
    let mut depth = 0;
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in text[open..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q && prev != '\\' => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[open + 1..open + i]);
                }
            }
            _ => {}
        }
        prev = if prev == '\\' && c == '\\' { ' ' } else { c };
    }
    None
}

fn migrations<'a>(files: &'a ProjectFiles, root: &'a str) -> Vec<Migration<'a>> {
    app_dirs(files, root)
        .into_iter()
        .flat_map(|dir| {
            let app = label(&dir).to_string();
            let found: Vec<&ProjectFile> = files.files.iter().filter(|f| crate::model::parent_dir(&f.path) == dir).collect();
            found
                .into_iter()
                .filter(|f| is_migration(&f.path))
                .map(|f| {
                    let lits = bracketed(&f.contents, "dependencies").and_then(common::python_literals).unwrap_or_default();
                    let deps = lits.chunks(2).filter(|p| p.len() == 2).map(|p| (p[0].1.clone(), p[1].1.clone())).collect();
                    let name = common::file_name(&f.path).trim_end_matches(".py").to_string();
                    Migration { file: f, app: app.clone(), name, deps }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The app's leaves: its migrations no other migration of the app depends on.
fn leaves(all: &[Migration<'_>], app: &str) -> Vec<String> {
    let mut leaves: Vec<String> = all
        .iter()
        .filter(|m| m.app == app && !all.iter().any(|o| o.app == app && o.deps.iter().any(|(a, n)| a == app && *n == m.name)))
        .map(|m| m.name.clone())
        .collect();
    leaves.sort();
    leaves
}

/// The order `migrate` applies them in: each after what it depends on (ties by app, then name).
fn ordered<'a, 'b>(all: &'b [Migration<'a>]) -> Vec<&'b Migration<'a>> {
    let mut rest: Vec<&Migration<'_>> = all.iter().collect();
    rest.sort_by(|a, b| (&a.app, &a.name).cmp(&(&b.app, &b.name)));
    let mut done: Vec<(&str, &str)> = Vec::new();
    let mut out = Vec::new();
    while !rest.is_empty() {
        let known = |a: &str, n: &str| all.iter().any(|m| m.app == a && m.name == n);
        let i = rest.iter().position(|m| m.deps.iter().all(|(a, n)| done.contains(&(a.as_str(), n.as_str())) || !known(a, n))).unwrap_or(0);
        let m = rest.remove(i);
        done.push((&m.app, &m.name));
        out.push(m);
    }
    out
}

/// The tables an app declares: `db_table = "…"` / `"db_table": "…"` in its models and migrations.
fn declared_tables(files: &ProjectFiles, app_dir: &str) -> Vec<String> {
    common::under(files, app_dir)
        .filter(|f| f.path.ends_with(".py"))
        .flat_map(|f| {
            let mut tables: Vec<String> =
                f.contents.match_indices("db_table").filter_map(|(i, _)| common::config_value(&f.contents[i..], "db_table")).collect();
            // Tables the app's SQL migrations create.
            let words = identifiers(&sql_up(&f.contents).unwrap_or_default());
            for (i, w) in words.iter().enumerate() {
                if w == "create" && words.get(i + 1).is_some_and(|t| t == "table") {
                    let name = words[i + 2..].iter().find(|w| !matches!(w.as_str(), "if" | "not" | "exists" | "public"));
                    tables.extend(name.cloned());
                }
            }
            tables
        })
        .map(|t| t.to_ascii_lowercase())
        .collect()
}

/// The identifiers in SQL text, lowercased (quotes dropped).
fn identifiers(sql: &str) -> Vec<String> {
    sql.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// The app a plan belongs to: the only app, the app whose declared tables the SQL names, else the one
/// whose `<app>_` prefix names a table. `Err` lists the candidates.
fn choose_app(files: &ProjectFiles, apps: &[String], plan: &Plan) -> Result<String, WriteError> {
    if let [only] = apps {
        return Ok(only.clone());
    }
    let words: Vec<String> = plan.steps.iter().flat_map(|s| identifiers(&s.up)).collect();
    let by_table: Vec<&String> =
        apps.iter().filter(|d| declared_tables(files, crate::model::parent_dir(d)).iter().any(|t| words.contains(t))).collect();
    let by_prefix: Vec<&String> = apps.iter().filter(|d| words.iter().any(|w| w.starts_with(&format!("{}_", label(d))))).collect();
    for found in [by_table, by_prefix] {
        if let [one] = found.as_slice() {
            return Ok((*one).clone());
        }
    }
    Err(WriteError {
        message: format!(
            "several Django apps could hold this migration ({}) and none alone declares the tables it changes; choose one with \
             --migrations-dir <app>/migrations",
            apps.join(", ")
        ),
    })
}

impl Tool for Django {
    /// `atomic = False` on the Migration runs it outside a transaction.
    fn runs_in_transaction(&self, files: &ProjectFiles, m: &SourceMigration) -> bool {
        !super::file_text(files, &m.path).lines().any(|l| l.trim().replace(' ', "") == "atomic=False")
    }
    fn orm_changes(&self, change: &CodeChange) -> Vec<String> {
        let state_only = |op: &str| format!("makemigrations, then wrap its {op} in SeparateDatabaseAndState(state_operations=[…])");
        match change {
            CodeChange::MoveColumn { table, from, to } => {
                vec![format!("Django, model of {table}: field {from} gets db_column={}", common::dq(to)), state_only("AlterField")]
            }
            CodeChange::DropColumn { table, column } => {
                vec![format!("Django, model of {table}: remove field {column}"), state_only("RemoveField")]
            }
            CodeChange::MoveTable { from, to } => {
                vec![format!("Django, model of {from}: class Meta: db_table = {}", common::dq(to)), state_only("AlterModelTable")]
            }
            CodeChange::DropTable { table } => vec![format!("Django: remove the model of {table}"), state_only("DeleteModel")],
        }
    }

    fn id(&self) -> &'static str {
        "django"
    }

    fn default_dir(&self) -> &'static str {
        "migrations"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let mut found = Vec::new();
        for root in projects(files) {
            let engine = settings_engine(files, root);
            let apps = app_dirs(files, root);
            if apps.is_empty() && engine.is_none() {
                continue;
            }
            let evidence = format!(
                "{} with {} app{} with migrations{}",
                common::join(root, "manage.py"),
                apps.len(),
                if apps.len() == 1 { "" } else { "s" },
                if apps.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", apps.iter().map(|a| label(a)).collect::<Vec<_>>().join(", "))
                }
            );
            found.push(Detection::new("django", root, Confidence::High, evidence).with_engine(engine.clone()));
            for app in apps {
                let evidence = format!("{app}/__init__.py (Django app {})", label(&app));
                found.push(Detection::new("django", app, Confidence::Low, evidence).with_engine(engine.clone()));
            }
        }
        // Apps outside any project with manage.py: numbered modules defining a Migration.
        for app in app_dirs(files, "") {
            let is_django = files.in_dir(&app).any(|f| is_migration(&f.path) && f.contents.contains("migrations.Migration"));
            if is_django && !found.iter().any(|d| d.dir == app) {
                let evidence = format!("{app}/NNNN_*.py Django migrations");
                found.push(Detection::new("django", app, Confidence::Low, evidence));
            }
        }
        Ok(found)
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        let root = project_of(files, &detection.dir);
        let all = migrations(files, root);
        ordered(&all)
            .into_iter()
            .map(|m| match sql_up(&m.file.contents) {
                Some(up) => SourceMigration::sql(m.file.path.clone(), up),
                None => SourceMigration::unread(m.file.path.clone(), "a Django migration"),
            })
            .collect()
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, _now: &str) -> Profile {
        let root = project_of(files, &detection.dir);
        let all = migrations(files, root);
        let apps = if app_dirs(files, root).contains(&detection.dir) { vec![detection.dir.clone()] } else { app_dirs(files, root) };
        let next: Vec<String> = apps
            .iter()
            .map(|a| {
                let app = label(a);
                format!("{}/{:04}_<name>.py after {}", a, next_number(&all, app), leaves(&all, app).join(" + "))
            })
            .collect();
        Profile {
            naming: "<app>/migrations/<NNNN>_<name>.py".into(),
            next_version: if next.is_empty() { "0001 in a new app".into() } else { next.join("; ") },
            down: "reverse_sql of the same RunSQL".into(),
            no_transaction: "`atomic = False` on the Migration (the step gets a migration of its own)".into(),
            history_table: "django_migrations".into(),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, _now: &str) -> Result<Written, WriteError> {
        let root = project_of(files, &detection.dir);
        let apps = app_dirs(files, root);
        let dir = if apps.contains(&detection.dir) {
            detection.dir.clone()
        } else if apps.is_empty() {
            return Err(WriteError {
                message: format!(
                    "no Django app with a migrations/ package under {}; create one, or name it with --migrations-dir",
                    common::shown(root)
                ),
            });
        } else {
            choose_app(files, &apps, plan)?
        };
        let app = label(&dir).to_string();
        let all = migrations(files, root);
        let mut previous = match leaves(&all, &app).as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            many => {
                return Err(WriteError {
                    message: format!(
                        "Django app {app} has several leaf migrations ({}): merge them first (`python manage.py makemigrations --merge {app}`)",
                        many.join(", ")
                    ),
                });
            }
        };
        let total = plan.steps.len();
        let mut out = Vec::new();
        for (number, step) in (next_number(&all, &app)..).zip(common::file_steps(plan)) {
            let slug: String = step.slug.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
            let name = format!("{number:04}_{slug}");
            let path = common::join(&dir, &format!("{name}.py"));
            common::ensure_free(files, &[], &path)?;
            if all.iter().any(|m| m.app == app && m.name.starts_with(&format!("{number:04}_"))) {
                return Err(common::step_error(step, format!("a migration numbered {number:04} already exists in {dir}")));
            }
            out.push((path.clone(), vec![GeneratedFile::new(path, migration_file(step, total, &app, previous.as_deref()))]));
            previous = Some(name);
        }
        let notes =
            vec![format!("written for Django app {app} ({dir}); RunSQL leaves Django's model state alone: update its models to match")];
        Ok(common::written(plan, out, notes))
    }
}

fn next_number(all: &[Migration<'_>], app: &str) -> u32 {
    all.iter().filter(|m| m.app == app).filter_map(|m| m.name[..4].parse::<u32>().ok()).max().map_or(1, |n| n + 1)
}

/// One direction as list items: each statement a literal; a transactional direction of a non-atomic
/// migration with several statements between `BEGIN;` and `COMMIT;`.
fn items(sql: &str, transaction: bool, atomic: bool) -> String {
    let mut stmts = common::statements(sql);
    if !atomic && transaction && stmts.len() > 1 {
        stmts.insert(0, "BEGIN;".into());
        stmts.push("COMMIT;".into());
    }
    stmts.iter().map(|s| format!("                {},\n", common::python_literal(s))).collect()
}

fn migration_file(step: &Step, total: usize, app: &str, previous: Option<&str>) -> String {
    let atomic = step.transaction && step.down_transaction;
    let deps = previous.map_or(String::new(), |p| format!("        ({}, {}),\n", common::python_literal(app), common::python_literal(p)));
    format!(
        "{header}from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n{atomic_line}\
         {blank}    dependencies = [\n{deps}    ]\n\n    operations = [\n        migrations.RunSQL(\n            sql=[\n{up}            ],\n\
         \x20           reverse_sql=[\n{down}            ],\n        ),\n    ]\n",
        header = common::hash_header(step, total),
        blank = if atomic { "" } else { "\n" },
        atomic_line =
            if atomic { "" } else { "    # A step outside a transaction: Django runs each statement in autocommit.\n    atomic = False\n" },
        up = items(&step.up, step.transaction, atomic),
        down = items(&step.down, step.down_transaction, atomic),
    )
}

/// The forward SQL of a migration whose `operations` are only `migrations.RunSQL` with literal SQL (what
/// zdm writes, and hand-written SQL migrations): the `sql` items (first argument or `sql=`), `BEGIN;` /
/// `COMMIT;` items zdm adds dropped; `None` for any other migration (code zdm does not read).
fn sql_up(text: &str) -> Option<String> {
    use common::PyPiece;
    let ops = bracketed(text, "operations =").or_else(|| bracketed(text, "operations:"))?;
    let start = (ops.as_ptr() as usize) - (text.as_ptr() as usize);
    const CODE: &[&str] = &["migrations.RunSQL(", "migrations.RunSQL.noop", "reverse_sql=", "sql=", "[", "]", "(", ")", ","];
    let (mut depth, mut arg, mut forward) = (0usize, 0usize, false);
    let mut literals = Vec::new();
    for piece in common::python_pieces(ops)? {
        match piece {
            PyPiece::Code(c) => {
                if !common::made_of(&c, CODE) {
                    return None;
                }
                let mut rest = c.as_str();
                while let Some(ch) = rest.chars().next() {
                    let word = ["migrations.RunSQL(", "reverse_sql=", "sql="].into_iter().find(|w| rest.starts_with(*w));
                    match word {
                        Some("migrations.RunSQL(") => (depth, arg, forward) = (1, 0, true),
                        Some("reverse_sql=") => forward = false,
                        Some(_) => forward = true,
                        None => match ch {
                            '[' | '(' => depth += 1,
                            ']' | ')' => depth = depth.saturating_sub(1),
                            ',' if depth == 1 => {
                                arg += 1;
                                forward = false;
                            }
                            _ => {}
                        },
                    }
                    rest = &rest[word.map_or(ch.len_utf8(), str::len)..];
                }
            }
            PyPiece::Lit(line, sql) if forward && depth >= 1 && arg <= 1 => {
                if sql != "BEGIN;" && sql != "COMMIT;" {
                    literals.push((line, sql));
                }
            }
            PyPiece::Lit(..) => {}
        }
    }
    Some(common::lines_at(text[..start].matches('\n').count(), &literals))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> ProjectFiles {
        ProjectFiles::new(list.iter().map(|(p, c)| ProjectFile { path: (*p).into(), contents: (*c).into() }).collect())
    }

    #[test]
    fn engines_from_settings() {
        let s = "DATABASES = {\n    'default': {\n        'ENGINE': 'django.db.backends.sqlite3',\n    },\n    \"pg\": {\"ENGINE\": \"django.contrib.gis.db.backends.postgis\"},\n}\n";
        assert_eq!(engine_of_settings(s).as_deref(), Some("postgis"));
        assert_eq!(engine_of_settings("'ENGINE': 'django.db.backends.mysql'").as_deref(), Some("mysql"));
        assert_eq!(engine_of_settings("DATABASES = {'default': env.db()}"), None);
        let fs = files(&[
            ("config/settings/base.py", "'ENGINE': 'django.db.backends.postgresql'"),
            ("config/settings/a_test.py", "'ENGINE': 'django.db.backends.sqlite3'"),
        ]);
        assert_eq!(settings_engine(&fs, "").as_deref(), Some("postgresql"));
    }

    #[test]
    fn dependencies_leaves_and_order() {
        let fs = files(&[
            ("a/migrations/__init__.py", ""),
            ("a/migrations/0001_initial.py", "dependencies = []\n"),
            ("a/migrations/0002_x.py", "dependencies = [\n    ('a', '0001_initial'),\n    (\"b\", \"0001_initial\"),\n]\n"),
            ("b/migrations/__init__.py", ""),
            ("b/migrations/0001_initial.py", "dependencies = [\n    migrations.swappable_dependency(settings.AUTH_USER_MODEL),\n]\n"),
        ]);
        let all = migrations(&fs, "");
        assert_eq!(leaves(&all, "a"), ["0002_x"]);
        assert_eq!(next_number(&all, "a"), 3);
        let order: Vec<String> = ordered(&all).iter().map(|m| format!("{}.{}", m.app, m.name)).collect();
        assert_eq!(order, ["a.0001_initial", "b.0001_initial", "a.0002_x"]);
        assert_eq!(bracketed("x = [1, ']', [2]]", "x"), Some("1, ']', [2]"));
    }

    #[test]
    fn items_wrap_a_transaction_in_a_non_atomic_migration() {
        let t = items("SET LOCAL lock_timeout = '1s';\nALTER TABLE t ADD c int;", true, false);
        assert!(t.contains("\"BEGIN;\"") && t.contains("\"COMMIT;\""), "{t}");
        assert!(!items("SELECT 1;\nSELECT 2;", true, true).contains("BEGIN"));
        let text =
            format!("# zdm: step 1\n    operations = [migrations.RunSQL(\n    sql=[\n{t}    ],\n    reverse_sql=[\n  'DROP x'  ]\n)]\n");
        assert_eq!(sql_up(&text).unwrap(), "\n\n\n\nSET LOCAL lock_timeout = '1s';\nALTER TABLE t ADD c int;\n");
        let hand = "operations = [\n    migrations.RunSQL('CREATE TABLE a (id int)', 'DROP TABLE a'),\n    migrations.RunSQL(\"SELECT 1\", migrations.RunSQL.noop),\n]\n";
        assert_eq!(sql_up(hand).unwrap(), "\nCREATE TABLE a (id int);\nSELECT 1;\n");
        assert_eq!(sql_up("operations = [migrations.CreateModel(name='A', fields=[])]"), None, "code: not read");
    }
}
