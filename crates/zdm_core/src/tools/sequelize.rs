//! Sequelize CLI (sequelize-cli 6): `.sequelizerc` may move `migrations-path` (default `migrations`) and
//! `config` (default `config/config.json`, one object per environment with a `dialect`, or
//! `use_env_variable`); paths are relative to the directory the CLI runs in, the one holding
//! `.sequelizerc`. Migrations are `<YYYYMMDDHHmmss>-<name>.js` (UTC) modules with `up`/`down`
//! (`queryInterface`, `Sequelize`), loaded by umzug with the pattern `/^(?!.*\.d\.ts$).*\.(cjs|js|cts|ts)$/`
//! (`lib/core/migrator.js`) in file-name order, recorded in `SequelizeMeta`. The CLI runs them WITHOUT a
//! transaction, so a step that must be atomic opens one itself: `queryInterface.sequelize.transaction`
//! with `{ transaction }` on each query. `sequelize.query` without `replacements`/`bind` leaves `?`,
//! `:name` and `$1` alone.

use super::naming::{next_versions, version_prefix};
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles};
use crate::plan::{CodeChange, Plan, Step};

/// Sequelize CLI.
pub(super) struct Sequelize;

const UP: &[&str] = &["  async up(queryInterface"];
const DOWN: &[&str] = &["  async down(queryInterface"];

/// The files umzug loads from a directory, sorted by name.
fn migrations<'a>(files: &'a ProjectFiles, dir: &'a str) -> Vec<&'a ProjectFile> {
    let mut found: Vec<&ProjectFile> = files
        .in_dir(dir)
        .filter(|f| {
            let name = common::file_name(&f.path);
            !name.ends_with(".d.ts") && [".js", ".cjs", ".ts", ".cts"].iter().any(|e| name.ends_with(e))
        })
        .collect();
    found.sort_by(|a, b| common::file_name(&a.path).cmp(common::file_name(&b.path)));
    found
}

fn versions<'a>(files: &'a ProjectFiles, dir: &'a str) -> Vec<&'a str> {
    migrations(files, dir).into_iter().filter_map(|f| version_prefix(common::file_name(&f.path)).map(|(v, _)| v)).collect()
}

/// The dialect of a Sequelize config: `development`'s, else the first environment's that names one.
/// `Ok(None)` when it reads the URL from the environment (`use_env_variable`) or names none.
fn dialect(file: &ProjectFile) -> Result<Option<String>, DetectError> {
    if !file.path.ends_with(".json") {
        return Ok(common::config_value(&file.contents, "dialect"));
    }
    let json: serde_json::Value =
        serde_json::from_str(&file.contents).map_err(|e| DetectError::in_file(&file.path, format!("not valid JSON: {e}")))?;
    let Some(envs) = json.as_object() else {
        return Err(DetectError::in_file(&file.path, "expected an object with one entry per environment"));
    };
    let named = |env: &serde_json::Value| env.get("dialect").and_then(|d| d.as_str()).map(str::to_string);
    Ok(envs.get("development").and_then(named).or_else(|| envs.values().find_map(named)))
}

/// The engine a Sequelize dialect names.
fn engine(dialect: &str) -> String {
    match dialect {
        "postgres" | "postgresql" => "postgresql".to_string(),
        "mariadb" => "mysql".to_string(),
        "mssql" => "sqlserver".to_string(),
        other => other.to_string(),
    }
}

/// One Sequelize setup: (migrations directory, config file path, how it was found).
fn setups(files: &ProjectFiles) -> Result<Vec<(String, String, String)>, DetectError> {
    let mut found = Vec::new();
    for rc in common::named(files, ".sequelizerc") {
        let base = crate::model::parent_dir(&rc.path);
        let path = |key: &str, default: &str| -> Result<String, DetectError> {
            let given = common::js_path_value(&rc.contents, key).unwrap_or_else(|| default.to_string());
            common::resolve(base, &given)
                .ok_or_else(|| DetectError::in_file(&rc.path, format!("{key} `{given}` points outside the project")))
        };
        found.push((path("migrations-path", "migrations")?, path("config", "config/config.json")?, rc.path.clone()));
    }
    for pkg in common::named(files, "package.json") {
        let base = crate::model::parent_dir(&pkg.path);
        if !pkg.contents.contains("\"sequelize-cli\"") || found.iter().any(|(_, _, rc)| crate::model::parent_dir(rc) == base) {
            continue;
        }
        found.push((common::join(base, "migrations"), common::join(base, "config/config.json"), pkg.path.clone()));
    }
    Ok(found)
}

impl Tool for Sequelize {
    /// The Sequelize CLI runs migrations without a transaction unless the migration opens one.
    fn runs_in_transaction(&self, files: &ProjectFiles, m: &SourceMigration) -> bool {
        super::file_text(files, &m.path).contains(".transaction(")
    }
    fn orm_changes(&self, change: &CodeChange) -> Vec<String> {
        match change {
            CodeChange::MoveColumn { table, from, to } => {
                vec![format!("Sequelize, model of {table}: attribute {from} gets field: {}", common::dq(to))]
            }
            CodeChange::DropColumn { table, column } => {
                vec![format!("Sequelize, model of {table}: remove attribute {column} (inserts name every attribute)")]
            }
            CodeChange::MoveTable { from, to } => vec![format!("Sequelize, model of {from}: tableName: {}", common::dq(to))],
            CodeChange::DropTable { table } => vec![format!("Sequelize: remove the model of {table} and associations to it")],
        }
    }

    fn id(&self) -> &'static str {
        "sequelize"
    }

    fn default_dir(&self) -> &'static str {
        "migrations"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let mut found = Vec::new();
        for (dir, config, source) in setups(files)? {
            let config_file = files.files.iter().find(|f| f.path == config);
            let engine = match config_file {
                Some(f) => dialect(f)?.map(|d| engine(&d)),
                None => None,
            };
            let confidence = if source.ends_with(".sequelizerc") || config_file.is_some() { Confidence::High } else { Confidence::Medium };
            let mut evidence = if source.ends_with("package.json") { format!("{source} depends on sequelize-cli") } else { source };
            if config_file.is_some() {
                evidence.push_str(&format!("; {config}"));
            }
            found.push(Detection::new("sequelize", dir, confidence, evidence).with_engine(engine));
        }
        Ok(found)
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        migrations(files, &detection.dir)
            .into_iter()
            .map(|f| match common::zdm_js_sql(&f.contents, UP, DOWN) {
                Some(up) => SourceMigration::sql(f.path.clone(), up),
                None => SourceMigration::unread(f.path.clone(), "a Sequelize migration"),
            })
            .collect()
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let dir = &detection.dir;
        let ext = if common::is_esm(files, dir) { "cjs" } else { "js" };
        Profile {
            naming: common::join(dir, &format!("<YYYYMMDDHHmmss UTC>-<name>.{ext}")),
            next_version: next_versions(&versions(files, dir), now, 1).pop().unwrap_or_default(),
            down: "`down` in the same file (`sequelize db:migrate:undo`)".into(),
            no_transaction: "none needed: sequelize-cli runs migrations without a transaction; zdm's transactional steps open \
                             their own (`queryInterface.sequelize.transaction`)"
                .into(),
            history_table: "SequelizeMeta".into(),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        let dir = &detection.dir;
        let existing = versions(files, dir);
        // A package of ES modules: the CLI `require`s migrations, so they must be CommonJS `.cjs`.
        let ext = if common::is_esm(files, dir) { "cjs" } else { "js" };
        let steps = common::file_steps(plan);
        let total = plan.steps.len();
        let mut out = Vec::with_capacity(steps.len());
        for (step, version) in steps.iter().zip(next_versions(&existing, now, steps.len())) {
            let path = common::join(dir, &format!("{version}-{}.{ext}", step.slug.replace('_', "-")));
            if existing.contains(&version.as_str()) {
                return Err(WriteError { message: format!("a migration numbered {version} already exists in {dir}") });
            }
            common::ensure_free(files, &[], &path)?;
            out.push((path.clone(), vec![GeneratedFile::new(path, migration(step, total))]));
        }
        let mut notes = Vec::new();
        if steps.iter().any(|s| s.transaction || s.down_transaction) {
            notes.push(
                "sequelize-cli runs migrations without a transaction: zdm's steps that must be atomic open one themselves \
                 (queryInterface.sequelize.transaction)"
                    .to_string(),
            );
        }
        Ok(common::written(plan, out, notes))
    }
}

/// One direction: each statement its own `sequelize.query`, all inside one transaction when it must be
/// atomic.
fn action(name: &str, sql: &str, transaction: bool) -> String {
    // One-identifier calls (`query(…)`, `sequelize.query(…)`): Prettier lays them out the same way
    // whatever the SQL (a member chain or a trailing options object would be re-broken).
    let (indent, call) = if transaction { ("      ", "query") } else { ("    ", "sequelize.query") };
    let mut body: String =
        common::statements(sql).iter().map(|s| common::js_await(indent, call, &common::js_template_literal(s))).collect();
    if transaction {
        body = format!(
            "    await sequelize.transaction(async (transaction) => {{\n      \
             const query = (sql) => sequelize.query(sql, {{ transaction }});\n{body}    }});\n"
        );
    }
    format!("  async {name}(queryInterface) {{\n    const {{ sequelize }} = queryInterface;\n{body}  }},\n")
}

fn migration(step: &Step, total: usize) -> String {
    let why = if step.transaction && step.down_transaction {
        "// sequelize-cli runs migrations without a transaction: this one opens its own.\n"
    } else {
        "// sequelize-cli runs migrations without a transaction, as this one needs (PostgreSQL refuses it inside one).\n"
    };
    format!(
        "{}\"use strict\";\n\n{why}/** @type {{import('sequelize-cli').Migration}} */\nmodule.exports = {{\n{}\n{}}};\n",
        common::js_header(step, total),
        action("up", &step.up, step.transaction),
        action("down", &step.down, step.down_transaction),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialects_from_config() {
        let file = |c: &str| ProjectFile { path: "config/config.json".into(), contents: c.into() };
        let config = r#"{"development": {"use_env_variable": "DATABASE_URL"}, "test": {"dialect": "mysql"}}"#;
        assert_eq!(dialect(&file(config)).unwrap().as_deref(), Some("mysql"));
        let config = r#"{"development": {"dialect": "postgres"}, "test": {"dialect": "sqlite"}}"#;
        assert_eq!(dialect(&file(config)).unwrap().as_deref(), Some("postgres"));
        assert!(dialect(&file("{ development: ")).unwrap_err().message.starts_with("config/config.json: not valid JSON"));
        assert_eq!(engine("postgres"), "postgresql");
    }

    #[test]
    fn transactional_steps_open_a_transaction_and_are_read_back() {
        let step = common::test_step("SET LOCAL lock_timeout = '1s';\nSELECT '`${x}` ? :a $1';", "SELECT 2;", true, false);
        let text = migration(&step, 3);
        assert!(
            text.contains(
                "await sequelize.transaction(async (transaction) => {\n      const query = (sql) => sequelize.query(sql, { transaction });\n      \
                 await query(`SET LOCAL lock_timeout = '1s';`);"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "  async down(queryInterface) {\n    const { sequelize } = queryInterface;\n    await sequelize.query(`SELECT 2;`);\n  },"
            ),
            "{text}"
        );
        assert_eq!(common::zdm_js_sql(&text, UP, DOWN).unwrap().trim(), step.up);
    }
}
