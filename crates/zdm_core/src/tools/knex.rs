//! Knex (knex 3): a `knexfile.{js,ts,cjs,mjs}` names the `client` (the engine) and `migrations.directory`
//! (default `./migrations`, relative to the knexfile); migrations are `<YYYYMMDDHHmmss>_<name>.<ext>`
//! (UTC) modules exporting `up`/`down`, applied in file-name order (`fs-migrations.js` sorts the names),
//! recorded in `knex_migrations`. Each migration runs in a transaction unless its module exports
//! `config = { transaction: false }` (`Migrator._useTransaction`: a per-file boolean wins over the global
//! `disableTransactions`); `migrate:latest` puts the whole batch in one transaction when no pending file
//! opts out. The PostgreSQL client turns every `?` of a query into a `$n` placeholder unless a backslash
//! precedes it (`positionBindings`), so zdm writes `\\?` in the source for a literal `?`.

use super::naming::{next_versions, version_prefix};
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles};
use crate::plan::{Plan, Step};

/// Knex.
pub(super) struct Knex;

const KNEXFILES: &[&str] = &["knexfile.js", "knexfile.ts", "knexfile.cjs", "knexfile.mjs"];
const EXTENSIONS: &[&str] = &["js", "cjs", "mjs", "ts"];
const UP: &[&str] = &["exports.up = ", "export const up = "];
const DOWN: &[&str] = &["exports.down = ", "export const down = "];

/// The engine a knex `client` names.
fn engine(client: &str) -> String {
    match client.to_ascii_lowercase().as_str() {
        "pg" | "postgres" | "postgresql" | "pgnative" | "pg-native" => "postgresql",
        "mysql" | "mysql2" => "mysql",
        "sqlite3" | "sqlite" | "better-sqlite3" => "sqlite",
        "mssql" | "tedious" => "sqlserver",
        "oracledb" | "oracle" => "oracle",
        "cockroachdb" => "cockroachdb",
        other => return other.to_string(),
    }
    .to_string()
}

/// Migration files of a directory (knex's default load extensions that are JavaScript or TypeScript,
/// declaration files left out), sorted by name as knex sorts them.
fn migrations<'a>(files: &'a ProjectFiles, dir: &'a str) -> Vec<&'a ProjectFile> {
    let mut found: Vec<&ProjectFile> = files
        .in_dir(dir)
        .filter(|f| {
            let name = common::file_name(&f.path);
            !name.starts_with('.') && !name.ends_with(".d.ts") && name.rsplit_once('.').is_some_and(|(_, e)| EXTENSIONS.contains(&e))
        })
        .collect();
    found.sort_by(|a, b| common::file_name(&a.path).cmp(common::file_name(&b.path)));
    found
}

fn versions<'a>(files: &'a ProjectFiles, dir: &'a str) -> Vec<&'a str> {
    migrations(files, dir).into_iter().filter_map(|f| version_prefix(common::file_name(&f.path)).map(|(v, _)| v)).collect()
}

/// The knexfile that configures `dir`, if any.
fn knexfile<'a>(files: &'a ProjectFiles, dir: &str) -> Option<&'a ProjectFile> {
    KNEXFILES.iter().flat_map(|n| common::named(files, n)).find(|f| config(f).is_ok_and(|(d, _)| d == dir))
}

/// (migrations directory, client) of a knexfile.
fn config(file: &ProjectFile) -> Result<(String, Option<String>), DetectError> {
    let base = crate::model::parent_dir(&file.path);
    let migrations = common::block_body(&file.contents, "migrations")
        .and_then(|body| common::js_path_value(body, "directory"))
        .unwrap_or_else(|| "./migrations".to_string());
    let dir = common::resolve(base, &migrations)
        .ok_or_else(|| DetectError::in_file(&file.path, format!("migrations.directory `{migrations}` points outside the project")))?;
    Ok((dir, common::config_value(&file.contents, "client")))
}

/// The extension new files get: `migrations.extension`, else the newest migration's, else `ts` for a
/// TypeScript knexfile, else `js`.
fn extension(files: &ProjectFiles, dir: &str) -> String {
    let config = knexfile(files, dir);
    if let Some(ext) = config.and_then(|f| common::value_in_block(&f.contents, "migrations", "extension")) {
        return ext;
    }
    if let Some(last) = migrations(files, dir).last() {
        return last.path.rsplit_once('.').map_or("js", |(_, e)| e).to_string();
    }
    if config.is_some_and(|f| f.path.ends_with(".ts")) { "ts" } else { "js" }.to_string()
}

impl Tool for Knex {
    /// `exports.config = { transaction: false }` runs the migration outside a transaction.
    fn runs_in_transaction(&self, files: &ProjectFiles, m: &SourceMigration) -> bool {
        !super::file_text(files, &m.path).replace(' ', "").contains("transaction:false")
    }
    fn id(&self) -> &'static str {
        "knex"
    }

    fn default_dir(&self) -> &'static str {
        "migrations"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let mut found: Vec<Detection> = Vec::new();
        for file in KNEXFILES.iter().flat_map(|n| common::named(files, n)) {
            let (dir, client) = config(file)?;
            if found.iter().any(|d| d.dir == dir) {
                continue;
            }
            let evidence = match &client {
                Some(c) => format!("{} (client `{c}`)", file.path),
                None => file.path.clone(),
            };
            found.push(Detection::new("knex", dir, Confidence::High, evidence).with_engine(client.as_deref().map(engine)));
        }
        common::npm_detections(files, "knex", "knex", "migrations", &mut found, |dir| !migrations(files, dir).is_empty());
        Ok(found)
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        migrations(files, &detection.dir)
            .into_iter()
            .map(|f| match common::zdm_js_sql(&f.contents, UP, DOWN) {
                // zdm wrote `\?` for each `?` (and refuses a backslash before one).
                Some(up) => SourceMigration::sql(f.path.clone(), up.replace("\\?", "?")),
                None => SourceMigration::unread(f.path.clone(), "a Knex migration"),
            })
            .collect()
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let dir = &detection.dir;
        let table = knexfile(files, dir).and_then(|f| common::value_in_block(&f.contents, "migrations", "tableName"));
        Profile {
            naming: common::join(dir, &format!("<YYYYMMDDHHmmss UTC>_<name>.{}", extension(files, dir))),
            next_version: next_versions(&versions(files, dir), now, 1).pop().unwrap_or_default(),
            down: "`down` exported by the same file (`knex migrate:down`)".into(),
            no_transaction: "`config = { transaction: false }` exported by the migration".into(),
            history_table: table.unwrap_or_else(|| "knex_migrations".into()),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        let dir = &detection.dir;
        let existing = versions(files, dir);
        let ext = extension(files, dir);
        let style = if ext == "ts" {
            Style::TypeScript
        } else if ext == "mjs" || (ext == "js" && common::is_esm(files, dir)) {
            Style::Esm
        } else {
            Style::CommonJs
        };
        let steps = common::file_steps(plan);
        let total = plan.steps.len();
        let mut out = Vec::with_capacity(steps.len());
        for (step, version) in steps.iter().zip(next_versions(&existing, now, steps.len())) {
            let path = common::join(dir, &format!("{version}_{}.{ext}", step.slug));
            if existing.contains(&version.as_str()) {
                return Err(WriteError { message: format!("a migration numbered {version} already exists in {dir}") });
            }
            common::ensure_free(files, &[], &path)?;
            out.push((path.clone(), vec![GeneratedFile::new(path, migration(step, total, style)?)]));
        }
        Ok(common::written(plan, out, Vec::new()))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    CommonJs,
    Esm,
    TypeScript,
}

/// `sql` as the source of a `knex.raw` argument: a template literal with every `?` escaped.
fn raw_literal(step: &Step, sql: &str) -> Result<String, WriteError> {
    if sql.contains("\\?") {
        return Err(common::step_error(step, "a backslash right before `?` cannot pass through knex.raw (knex drops it)"));
    }
    Ok(common::js_template_literal(&sql.replace('?', "\\?")))
}

/// One direction: each statement its own `knex.raw` call, inside `knex.transaction` when the direction
/// must be atomic but the file runs outside knex's transaction.
fn action(step: &Step, style: Style, name: &str, sql: &str, transaction: bool, file_tx: bool) -> Result<String, WriteError> {
    let head = match style {
        Style::CommonJs => format!("exports.{name} = async (knex) => {{"),
        Style::Esm => format!("export const {name} = async (knex) => {{"),
        Style::TypeScript => format!("export const {name} = async (knex: Knex): Promise<void> => {{"),
    };
    let own_tx = transaction && !file_tx;
    let (indent, target) = if own_tx { ("    ", "trx") } else { ("  ", "knex") };
    let mut body = String::new();
    for statement in common::statements(sql) {
        body.push_str(&common::js_await(indent, &format!("{target}.raw"), &raw_literal(step, &statement)?));
    }
    if own_tx {
        let trx = if style == Style::TypeScript { "trx: Knex.Transaction" } else { "trx" };
        body = format!("  await knex.transaction(async ({trx}) => {{\n{body}  }});\n");
    }
    Ok(format!("{head}\n{body}}};\n"))
}

fn migration(step: &Step, total: usize, style: Style) -> Result<String, WriteError> {
    let file_tx = step.transaction && step.down_transaction;
    let mut text = common::js_header(step, total);
    if style == Style::TypeScript {
        text.push_str("import type { Knex } from \"knex\";\n\n");
    }
    let config = if style == Style::CommonJs { "exports.config" } else { "export const config" };
    if file_tx {
        text.push_str(&format!("{config} = {{ transaction: true }};\n\n"));
    } else {
        text.push_str(&format!(
            "// Runs outside a transaction (knex would otherwise wrap it, and PostgreSQL refuses this there).\n{config} = {{ transaction: false }};\n\n"
        ));
    }
    text.push_str(&action(step, style, "up", &step.up, step.transaction, file_tx)?);
    text.push('\n');
    text.push_str(&action(step, style, "down", &step.down, step.down_transaction, file_tx)?);
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(transaction: bool, down_transaction: bool) -> Step {
        let up = "SET LOCAL lock_timeout = '1s';\nSELECT '{\"a\":1}'::jsonb ? 'a', '`${x}`';";
        common::test_step(up, "SELECT 2;", transaction, down_transaction)
    }

    #[test]
    fn clients_name_engines() {
        assert_eq!(engine("pg"), "postgresql");
        assert_eq!(engine("mysql2"), "mysql");
        assert_eq!(engine("better-sqlite3"), "sqlite");
    }

    #[test]
    fn question_marks_are_escaped_and_read_back() {
        let s = step(true, true);
        let text = migration(&s, 1, Style::CommonJs).unwrap();
        assert!(text.contains("exports.config = { transaction: true };"), "{text}");
        assert!(text.contains("::jsonb \\\\? 'a', '\\`\\${x}\\`';`"), "{text}");
        let up = common::zdm_js_sql(&text, UP, DOWN).unwrap().replace("\\?", "?");
        assert_eq!(up.trim(), s.up);
        let mut bad = step(true, true);
        bad.up = "SELECT E'\\\\?';".into();
        assert!(migration(&bad, 1, Style::CommonJs).is_err());
    }

    #[test]
    fn a_transactional_direction_of_a_file_outside_the_transaction_opens_one() {
        let text = migration(&step(true, false), 1, Style::TypeScript).unwrap();
        assert!(text.contains("export const config = { transaction: false };"), "{text}");
        assert!(text.contains("await knex.transaction(async (trx: Knex.Transaction) => {\n    await trx.raw(`SET LOCAL"), "{text}");
        assert!(text.contains("export const down = async (knex: Knex): Promise<void> => {\n  await knex.raw(`SELECT 2;`);"), "{text}");
    }

    #[test]
    fn knexfile_directory() {
        let file = |contents: &str| ProjectFile { path: "api/knexfile.js".into(), contents: contents.into() };
        let (dir, client) = config(&file("module.exports = { client: 'pg', migrations: { directory: './db/migrations' } };")).unwrap();
        assert_eq!((dir.as_str(), client.as_deref()), ("api/db/migrations", Some("pg")));
        let (dir, _) = config(&file("module.exports = { client: 'pg' };")).unwrap();
        assert_eq!(dir, "api/migrations");
        assert!(config(&file("module.exports = { migrations: { directory: '../../x' } };")).is_err());
    }
}
