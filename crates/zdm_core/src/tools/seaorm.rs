//! SeaORM (`sea-orm-migration`): a migration crate (`migration/`) whose `src/lib.rs` lists every migration
//! in `Migrator::migrations()` (`Box::new(m20240101_120000_name::Migration)`), applied in that order; each
//! migration is a module `src/m<YYYYMMDD>_<HHMMSS>_<name>.rs` named by `DeriveMigrationName` after its
//! module, recorded in `seaql_migrations`.
//!
//! Transactions: since 2.0 each migration runs in its own transaction on PostgreSQL unless
//! `MigrationTrait::use_transaction` returns `Some(false)`; before 2.0 every pending migration ran in one
//! transaction with no way out, so zdm writes a step that must run outside one as a file to run by hand
//! with `psql` (a note says so) and registers no migration for it.
//!
//! zdm writes one `execute_unprepared(r#"…"#)` per statement (a raw string: no escapes; more `#`s when
//! the SQL holds `"#`). `execute_unprepared` sends its text with no parameters, so sqlx uses PostgreSQL's
//! simple query protocol: a string of several statements runs in one implicit transaction. A migration
//! that needs no transaction for one direction (`use_transaction` `Some(false)`) therefore sends the other
//! direction as ONE string. History: the SQL of migrations zdm wrote; any other migration is a blind spot.

use super::naming::next_versions;
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles};
use crate::plan::{CodeChange, Plan, Step};

/// SeaORM.
pub(super) struct SeaOrm;

const DEP: &str = "sea-orm-migration";

/// `m20240101_120000_name` → (`20240101120000`, `name`).
fn module_version(module: &str) -> Option<(String, &str)> {
    let rest = module.strip_prefix('m')?;
    let (date, rest) = rest.split_once('_')?;
    let (time, name) = rest.split_once('_')?;
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    (digits(date, 8) && digits(time, 6)).then(|| (format!("{date}{time}"), name))
}

/// The modules `Migrator::migrations()` lists, in order (`Box::new(<module>::Migration)`).
fn listed(lib: &str) -> Vec<&str> {
    lib.match_indices("Box::new(").filter_map(|(i, _)| lib[i + 9..].split("::Migration").next()).map(str::trim).collect()
}

fn lib_rs<'a>(files: &'a ProjectFiles, dir: &str) -> Option<&'a ProjectFile> {
    files.files.iter().find(|f| f.path == common::join(dir, "lib.rs"))
}

/// The major version a `sea-orm-migration` requirement names (`"1.1.0"`, `{ version = "2.0.0-rc.37" }`).
fn major(manifest: &str) -> Option<u32> {
    let version = if let Some(table) = common::toml_table(manifest, &format!("dependencies.{DEP}")) {
        common::config_value(table, "version")?
    } else {
        let value = manifest.lines().find(|l| l.trim_start().starts_with(DEP))?.split_once('=')?.1;
        common::config_value(value, "version").unwrap_or_else(|| value.trim().trim_matches('"').to_string())
    };
    version.trim_start_matches(['^', '~', '=', ' ']).split('.').next()?.parse().ok()
}

/// Whether this project's SeaORM can take a migration out of the transaction (`use_transaction`, 2.0+).
fn per_migration_transactions(files: &ProjectFiles, dir: &str) -> bool {
    let manifest = common::join(crate::model::parent_dir(dir), "Cargo.toml");
    files.files.iter().find(|f| f.path == manifest).and_then(|f| major(&f.contents)).is_some_and(|m| m >= 2)
}

/// A raw string literal holding `text`: `r#"…"#`, with more `#`s when the text holds the closing form.
fn raw_string(text: &str) -> String {
    let hashes = (1..).map(|n| "#".repeat(n)).find(|h| !text.contains(&format!("\"{h}"))).unwrap_or_default();
    format!("r{hashes}\"{text}\"{hashes}")
}

fn direction(name: &str, sql: &str, one_string: bool) -> String {
    let statements = common::statements(sql);
    let mut body = String::new();
    if statements.is_empty() {
        body.extend(sql.lines().map(|l| format!("        // {}\n", l.trim_start_matches("--").trim())));
    } else if one_string {
        body.push_str("        // One string: PostgreSQL runs its statements in one implicit transaction.\n");
        body.push_str(&common::rust_await("        ", "db.execute_unprepared", &raw_string(&statements.join("\n"))));
    } else {
        for s in &statements {
            body.push_str(&common::rust_await("        ", "db.execute_unprepared", &raw_string(s)));
        }
    }
    let db = if statements.is_empty() { "_manager" } else { "manager" };
    let conn = if statements.is_empty() { String::new() } else { "        let db = manager.get_connection();\n".to_string() };
    format!("    async fn {name}(&self, {db}: &SchemaManager) -> Result<(), DbErr> {{\n{conn}{body}        Ok(())\n    }}\n")
}

fn migration_file(step: &Step, total: usize) -> String {
    let header: String = common::header(step, total).lines().map(|l| format!("//{}\n", l.strip_prefix("--").unwrap_or(l))).collect();
    let outside = !(step.transaction && step.down_transaction);
    let switch = if outside {
        "    // One direction must run outside a transaction: none is opened for this migration.\n    fn use_transaction(&self) -> Option<bool> {\n        Some(false)\n    }\n\n"
    } else {
        ""
    };
    format!(
        "{header}use sea_orm_migration::prelude::*;\n\n#[derive(DeriveMigrationName)]\npub struct Migration;\n\n#[async_trait::async_trait]\nimpl MigrationTrait for Migration {{\n{switch}{}\n{}}}\n",
        direction("up", &step.up, outside && step.transaction),
        direction("down", &step.down, outside && step.down_transaction),
    )
}

/// The forward SQL of a migration zdm wrote: the raw strings of `async fn up`, each line where it is in
/// the file, every other line blank. `None` for any other Rust.
fn zdm_up(text: &str) -> Option<String> {
    if !text.starts_with("// zdm: step ") {
        return None;
    }
    let start = text.find("async fn up(")?;
    let end = text.find("async fn down(").unwrap_or(text.len());
    let mut bodies = Vec::new();
    let mut at = start;
    // `execute_unprepared(r#"`, or the literal on the next line when rustfmt's layout put it there.
    while let Some(i) = text[at..end].find("execute_unprepared(").map(|i| at + i + "execute_unprepared(".len()) {
        let i = i + text[i..].len() - text[i..].trim_start().len();
        let i = i + text[i..].strip_prefix('r').map(|_| 1)?;
        let hashes = text[i..].bytes().take_while(|b| *b == b'#').count();
        let open = i + hashes + 1;
        let close = open + text[open..].find(&format!("\"{}", "#".repeat(hashes)))?;
        bodies.push(open..close);
        at = close;
    }
    // The raw strings' text where it is in the file; everything else blank (newlines kept).
    let kept: String = text.char_indices().map(|(i, c)| if c == '\n' || bodies.iter().any(|r| r.contains(&i)) { c } else { ' ' }).collect();
    Some(kept.lines().map(str::trim_end).collect::<Vec<_>>().join("\n"))
}

impl Tool for SeaOrm {
    fn orm_changes(&self, change: &CodeChange) -> Vec<String> {
        match change {
            CodeChange::MoveColumn { table, from, to } => {
                vec![format!("SeaORM, entity of {table}: #[sea_orm(column_name = {})] on field {from}", common::dq(to))]
            }
            CodeChange::DropColumn { table, column } => vec![format!("SeaORM, entity of {table}: remove field {column} from Model")],
            CodeChange::MoveTable { from, to } => vec![format!("SeaORM, entity of {from}: #[sea_orm(table_name = {})]", common::dq(to))],
            CodeChange::DropTable { table } => vec![format!("SeaORM: remove the entity of {table} and relations to it")],
        }
    }

    fn id(&self) -> &'static str {
        "seaorm"
    }

    fn default_dir(&self) -> &'static str {
        "migration/src"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let mut found = Vec::new();
        for (manifest, engine) in common::cargo_users(files, DEP) {
            let dir = common::join(crate::model::parent_dir(&manifest.path), "src");
            let Some(lib) = lib_rs(files, &dir) else { continue };
            let (confidence, evidence) = if lib.contents.contains("MigratorTrait") {
                (Confidence::High, format!("{} depends on {DEP}; {} implements MigratorTrait", manifest.path, lib.path))
            } else {
                (Confidence::Medium, format!("{} depends on {DEP}", manifest.path))
            };
            found.push(Detection::new("seaorm", dir, confidence, evidence).with_engine(engine));
        }
        Ok(found)
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        let Some(lib) = lib_rs(files, &detection.dir) else { return Vec::new() };
        listed(&lib.contents)
            .into_iter()
            .map(|module| {
                let path = common::join(&detection.dir, &format!("{module}.rs"));
                match files.files.iter().find(|f| f.path == path).and_then(|f| zdm_up(&f.contents)) {
                    Some(up) => SourceMigration::sql(path, up),
                    None => SourceMigration::unread(path, "a SeaORM migration"),
                }
            })
            .collect()
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let modules = lib_rs(files, &detection.dir).map(|l| listed(&l.contents)).unwrap_or_default();
        let versions: Vec<String> = modules.iter().filter_map(|m| module_version(m).map(|(v, _)| v)).collect();
        let versions: Vec<&str> = versions.iter().map(String::as_str).collect();
        let next = next_versions(&versions, now, 1).pop().unwrap_or_default();
        let per_migration = per_migration_transactions(files, &detection.dir);
        Profile {
            naming: common::join(&detection.dir, "m<YYYYMMDD>_<HHMMSS>_<name>.rs (listed in lib.rs migrations())"),
            next_version: if next.len() == 14 { format!("m{}_{}", &next[..8], &next[8..]) } else { next },
            down: "`async fn down` in the same module".into(),
            no_transaction: if per_migration {
                "`fn use_transaction(&self) -> Option<bool> { Some(false) }`".into()
            } else {
                "none before sea-orm-migration 2.0 (one transaction for all): zdm writes such a step for psql".into()
            },
            history_table: "seaql_migrations".into(),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        let dir = &detection.dir;
        let lib = lib_rs(files, dir)
            .ok_or_else(|| WriteError { message: format!("{}: not found; zdm registers migrations there", common::join(dir, "lib.rs")) })?;
        let modules = listed(&lib.contents);
        let Some(last) = modules.last().copied() else {
            return Err(WriteError {
                message: format!("{}: no `Box::new(…::Migration)` in migrations(); zdm appends after the last one", lib.path),
            });
        };
        let versions: Vec<String> = modules.iter().filter_map(|m| module_version(m).map(|(v, _)| v)).collect();
        let versions: Vec<&str> = versions.iter().map(String::as_str).collect();
        let per_migration = per_migration_transactions(files, dir);
        let steps = common::file_steps(plan);
        let total = plan.steps.len();
        let mut out = Vec::with_capacity(steps.len());
        let mut new_modules = Vec::new();
        let mut manual = Vec::new();
        for (step, version) in steps.iter().zip(next_versions(&versions, now, steps.len())) {
            let module = format!("m{}_{}_{}", &version[..8], &version[8..], common::ident_slug(&step.slug));
            let in_transaction = step.transaction && step.down_transaction;
            if !per_migration && !in_transaction {
                // Before 2.0 SeaORM runs every migration inside one transaction: this step is run by hand.
                let base = common::join(&common::join(crate::model::parent_dir(dir), "manual"), &module);
                let (up, down) = (format!("{base}.up.sql"), format!("{base}.down.sql"));
                let how = |what: &str, path: &str| vec![format!("{what}: run by hand, outside SeaORM: {}", common::psql_command(path))];
                let mut pending = Vec::new();
                for (path, text) in [
                    (&up, common::manual_file(step, total, &how("apply", &up), &step.up, step.transaction)),
                    (&down, common::manual_file(step, total, &how("roll back", &down), &step.down, step.down_transaction)),
                ] {
                    common::ensure_free(files, &pending, path)?;
                    pending.push(GeneratedFile::new(path.clone(), text));
                }
                manual.push(format!(
                    "step {}: {} (sea-orm-migration < 2.0 runs every migration in one transaction)",
                    step.n,
                    common::psql_command(&up)
                ));
                out.push((up, pending));
                continue;
            }
            let path = common::join(dir, &format!("{module}.rs"));
            common::ensure_free(files, &[], &path)?;
            out.push((path.clone(), vec![GeneratedFile::new(path, migration_file(step, total))]));
            new_modules.push(module);
        }
        if !new_modules.is_empty() {
            let mut text = lib.contents.clone();
            let mods: String = new_modules.iter().map(|m| format!("mod {m};\n")).collect();
            let mod_at = text.find(&format!("mod {last};")).map(|i| i + text[i..].find('\n').map_or(text.len() - i, |n| n + 1));
            let Some(mod_at) = mod_at else {
                return Err(WriteError { message: format!("{}: no `mod {last};` line; zdm adds its modules after it", lib.path) });
            };
            text.insert_str(mod_at, &mods);
            let entry = format!("Box::new({last}::Migration)");
            let at = text.find(&entry).expect("listed") + entry.len();
            // A list on one line (`vec![Box::new(a::Migration)]`) is laid out one entry per line first, as
            // rustfmt lays out a list longer than 60 columns; entries are then added the same way.
            let open = text[..at].rfind("vec![").filter(|&o| !text[o..at].contains('\n'));
            if let Some((open, close)) = open.and_then(|o| Some((o, at + text[at..].find(']')?))) {
                let line_start = text[..open].rfind('\n').map_or(0, |n| n + 1);
                let indent: String = text[line_start..].chars().take_while(|c| c.is_whitespace()).collect();
                let entries: String = text[open + 5..close]
                    .split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(|e| format!("{indent}    {e},\n"))
                    .collect();
                text.replace_range(open..=close, &format!("vec![\n{entries}{indent}]"));
            }
            let at = text.find(&entry).expect("listed") + entry.len();
            let comma = text[at..].trim_start().starts_with(',');
            let indent = {
                let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
                text[line_start..].chars().take_while(|c| c.is_whitespace()).collect::<String>()
            };
            let boxes: String = new_modules.iter().map(|m| format!("\n{indent}Box::new({m}::Migration),")).collect();
            let insert_at = if comma { at + text[at..].find(',').expect("comma") + 1 } else { at };
            let boxes = if comma { boxes } else { format!(",{}", boxes.trim_end_matches(',')) };
            text.insert_str(insert_at, &boxes);
            out.push((lib.path.clone(), vec![GeneratedFile::update(lib.path.clone(), lib.contents.clone(), text)]));
        }
        // The lib.rs update rides with the last step's files.
        let mut per_step: Vec<(String, Vec<GeneratedFile>)> = Vec::new();
        for (path, f) in out {
            if path == lib.path {
                if let Some(last) = per_step.last_mut() {
                    last.1.extend(f);
                }
            } else {
                per_step.push((path, f));
            }
        }
        let mut notes = manual;
        if !new_modules.is_empty() {
            notes.push(format!("{} registers the new migrations (mod + migrations())", lib.path));
        }
        Ok(common::written(plan, per_step, notes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_versions_and_raw_strings() {
        assert_eq!(module_version("m20240101_120000_create_users"), Some(("20240101120000".to_string(), "create_users")));
        assert_eq!(module_version("m20240101_create"), None);
        let lib = "pub use sea_orm_migration::prelude::*;\nmod m1;\nimpl MigratorTrait for Migrator {\n    fn migrations() -> Vec<Box<dyn MigrationTrait>> {\n        vec![\n            Box::new(m20240101_000001_a::Migration),\n            Box::new(m20240102_000001_b::Migration),\n        ]\n    }\n}\n";
        assert_eq!(listed(lib), ["m20240101_000001_a", "m20240102_000001_b"]);
        assert_eq!(raw_string("SELECT 1"), "r#\"SELECT 1\"#");
        assert_eq!(raw_string("SELECT '\"#' "), "r##\"SELECT '\"#' \"##");
        assert_eq!(major("[dependencies]\nsea-orm-migration = { version = \"1.1.0\", features = [\"sqlx-postgres\"] }\n"), Some(1));
        assert_eq!(major("sea-orm-migration = \"2.0.0-rc.37\"\n"), Some(2));
        assert_eq!(major("[dependencies.sea-orm-migration]\nversion = \"~2.0.0\"\nfeatures = []\n"), Some(2));
    }

    #[test]
    fn zdm_migrations_are_read_back() {
        let mut step = common::test_step(
            "SET LOCAL lock_timeout = '1s';\nALTER TABLE t ADD COLUMN c text DEFAULT '\"#x';",
            "ALTER TABLE t DROP COLUMN c;",
            true,
            true,
        );
        step.lock = crate::model::LockLevel::AccessExclusive;
        let text = migration_file(&step, 1);
        assert!(text.contains("r##\"ALTER TABLE") && !text.contains("use_transaction"), "{text}");
        let up = zdm_up(&text).unwrap();
        assert_eq!(common::statements(&up), common::statements(&step.up));
        let line_of = |t: &str| t.lines().position(|l| l.contains("ALTER TABLE t ADD COLUMN"));
        assert_eq!(line_of(&up), line_of(&text), "the statement stays on its line:\n{up}");
    }
}
