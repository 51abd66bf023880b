//! Prisma Migrate: `<schema dir>/migrations/<YYYYMMDDHHMMSS>_<name>/migration.sql` (UTC), applied in
//! folder-name order, each file sent to PostgreSQL as one simple-query string (prisma-engines,
//! `apply_migration_script` → `simple_query(script)`): several statements run in PostgreSQL's implicit
//! transaction, a single statement runs on its own. No down migrations: zdm writes `down.sql` beside.

use super::naming::{next_versions, version_prefix};
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles};
use crate::plan::{CodeChange, Plan};

mod schema_prisma;

/// Prisma Migrate.
pub(super) struct Prisma;

const LOCK: &str = "migration_lock.toml";
const CONFIGS: &[&str] = &["prisma.config.ts", "prisma.config.js", "prisma.config.mjs"];

/// The `provider` of a `datasource` block, when the text has one.
fn datasource_provider(schema: &str) -> Option<String> {
    let start = schema.lines().position(|l| l.trim_start().starts_with("datasource "))?;
    let block: Vec<&str> = schema.lines().skip(start).take_while(|l| !l.trim_start().starts_with('}')).collect();
    common::config_value(&block.join("\n"), "provider")
}

/// The Prisma schema files (`.prisma`) holding a `datasource` block.
fn datasources(files: &ProjectFiles) -> impl Iterator<Item = (&ProjectFile, Option<String>)> {
    files
        .files
        .iter()
        .filter(|f| f.path.ends_with(".prisma") && f.contents.lines().any(|l| l.trim_start().starts_with("datasource ")))
        .map(|f| (f, datasource_provider(&f.contents)))
}

/// The migrations directory of a schema path (a `.prisma` file or a schema folder): `migrations` beside
/// the file or inside the folder; for a multi-file schema in `prisma/schema/`, `prisma/migrations` when
/// that is where the migrations are.
fn migrations_dir(files: &ProjectFiles, schema: &str) -> String {
    let base = if schema.ends_with(".prisma") { crate::model::parent_dir(schema) } else { schema.trim_end_matches('/') };
    let own = common::join(base, "migrations");
    let has = |d: &str| files.exists(&common::join(d, LOCK)) || !common::folder_files(files, d, "migration.sql").is_empty();
    if !has(&own)
        && common::file_name(base) == "schema"
        && let parent = common::join(crate::model::parent_dir(base), "migrations")
        && has(&parent)
    {
        return parent;
    }
    own
}

/// The engine of a migrations directory: its `migration_lock.toml`, else the schema's datasource.
fn engine_of(files: &ProjectFiles, dir: &str, schema_provider: Option<String>) -> Option<String> {
    let lock = files.files.iter().find(|f| f.path == common::join(dir, LOCK));
    lock.and_then(|f| common::config_value(&f.contents, "provider")).or(schema_provider)
}

fn push(found: &mut Vec<Detection>, d: Detection) {
    if !found.iter().any(|f| f.dir == d.dir) {
        found.push(d);
    }
}

impl Tool for Prisma {
    fn orm_changes(&self, change: &CodeChange) -> Vec<String> {
        let generate = "; then prisma generate";
        match change {
            CodeChange::MoveColumn { table, from, to } => {
                vec![format!("Prisma, model of {table}: the field of column {from} gets @map({}){generate}", common::dq(to))]
            }
            CodeChange::DropColumn { table, column } => {
                vec![format!("Prisma, model of {table}: remove the field of column {column}{generate}")]
            }
            CodeChange::MoveTable { from, to } => vec![format!("Prisma, model of {from}: @@map({}){generate}", common::dq(to))],
            CodeChange::DropTable { table } => vec![format!("Prisma: remove the model of {table} and relations to it{generate}")],
        }
    }

    fn id(&self) -> &'static str {
        "prisma"
    }

    fn default_dir(&self) -> &'static str {
        "prisma/migrations"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let mut found = Vec::new();
        let provider_under = |schema: &str| {
            datasources(files)
                .find(|(f, _)| f.path == schema || f.path.starts_with(&format!("{}/", schema.trim_end_matches('/'))))
                .and_then(|(_, p)| p)
        };
        // prisma.config.ts: `schema` (a file or a folder) and `migrations: { path }`, relative to the config.
        for config in CONFIGS.iter().flat_map(|name| common::named(files, name)) {
            let base = crate::model::parent_dir(&config.path);
            let resolve =
                |p: &str| common::resolve(base, p).ok_or_else(|| DetectError::in_file(&config.path, format!("`{p}` leaves the project")));
            let schema = common::config_value(&config.contents, "schema").map(|s| resolve(&s)).transpose()?;
            let schema = schema.unwrap_or_else(|| common::join(base, "prisma/schema.prisma"));
            let dir = match common::value_in_block(&config.contents, "migrations", "path") {
                Some(p) => resolve(&p)?,
                None => migrations_dir(files, &schema),
            };
            let engine = engine_of(files, &dir, provider_under(&schema));
            push(&mut found, Detection::new("prisma", dir, Confidence::High, config.path.clone()).with_engine(engine));
        }
        // package.json `"prisma": {"schema": "…"}`.
        for manifest in common::named(files, "package.json") {
            let Some(schema) = common::value_in_block(&manifest.contents, "\"prisma\"", "schema") else { continue };
            let schema = common::resolve(crate::model::parent_dir(&manifest.path), &schema)
                .ok_or_else(|| DetectError::in_file(&manifest.path, format!("prisma schema `{schema}` leaves the project")))?;
            let dir = migrations_dir(files, &schema);
            let engine = engine_of(files, &dir, provider_under(&schema));
            push(
                &mut found,
                Detection::new("prisma", dir, Confidence::High, format!("{} \"prisma\".\"schema\"", manifest.path)).with_engine(engine),
            );
        }
        // Every schema file with a datasource: `migrations` beside it.
        for (schema, provider) in datasources(files) {
            if provider.is_none() {
                return Err(DetectError::in_file(&schema.path, "the `datasource` block has no `provider`"));
            }
            let dir = migrations_dir(files, &schema.path);
            let engine = engine_of(files, &dir, provider);
            push(&mut found, Detection::new("prisma", dir, Confidence::High, schema.path.clone()).with_engine(engine));
        }
        // A migrations directory with its lock file but no schema zdm saw.
        for lock in common::named(files, LOCK) {
            let Some(provider) = common::config_value(&lock.contents, "provider") else {
                return Err(DetectError::in_file(&lock.path, "no `provider = \"…\"` line"));
            };
            let dir = crate::model::parent_dir(&lock.path).to_string();
            push(&mut found, Detection::new("prisma", dir, Confidence::Medium, lock.path.clone()).with_engine(Some(provider)));
        }
        Ok(found)
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        let migrations: Vec<SourceMigration> = common::folder_files(files, &detection.dir, "migration.sql")
            .into_iter()
            .map(|(_, f)| SourceMigration::sql(f.path.clone(), f.contents.clone()))
            .collect();
        if !migrations.is_empty() {
            return migrations;
        }
        // No migrations yet (`prisma db push`): the schema the models describe, as Prisma Migrate would
        // create it. A multi-file schema is one text (models may relate across files).
        let schemas: Vec<&ProjectFile> =
            files.files.iter().filter(|f| f.path.ends_with(".prisma") && migrations_dir(files, &f.path) == detection.dir).collect();
        match schemas.as_slice() {
            [] => Vec::new(),
            [one] => vec![SourceMigration::sql(one.path.clone(), schema_prisma::ddl(&one.contents))],
            many => {
                let text: String = many.iter().map(|f| format!("{}\n", f.contents)).collect();
                vec![SourceMigration::sql(crate::model::parent_dir(&many[0].path).to_string(), schema_prisma::ddl(&text))]
            }
        }
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let existing = versions(files, &detection.dir);
        Profile {
            naming: common::join(&detection.dir, "<YYYYMMDDHHMMSS>_<name>/migration.sql"),
            next_version: next_versions(&existing, now, 1).pop().unwrap_or_default(),
            down: "none: zdm writes down.sql in the migration folder (run it with `prisma db execute`)".into(),
            no_transaction: "none: each migration.sql is sent as one string; a file of one statement runs outside a transaction".into(),
            history_table: "_prisma_migrations".into(),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        let dir = &detection.dir;
        let steps = common::file_steps(plan);
        let existing = versions(files, dir);
        let total = plan.steps.len();
        let mut out: Vec<(String, Vec<GeneratedFile>)> = Vec::with_capacity(steps.len());
        for (step, version) in steps.iter().zip(next_versions(&existing, now, steps.len())) {
            let folder = format!("{version}_{}", step.slug);
            let path = common::join(dir, &format!("{folder}/migration.sql"));
            let down_path = common::join(dir, &format!("{folder}/down.sql"));
            if existing.contains(&version.as_str()) {
                return Err(WriteError { message: format!("{dir}/{version}_* already exists; zdm never overwrites a migration") });
            }
            common::ensure_free(files, &[], &path)?;
            common::ensure_free(files, &[], &down_path)?;
            // The file is one simple-query string: a step that must run outside a transaction has to be
            // its only statement, or PostgreSQL's implicit transaction block would wrap it.
            for (sql, tx, what) in [(&step.up, step.transaction, "forward"), (&step.down, step.down_transaction, "rollback")] {
                if !tx && common::statements(sql).len() > 1 {
                    return Err(common::step_error(
                        step,
                        format!("the {what} SQL runs outside a transaction but holds several statements"),
                    ));
                }
            }
            let header = common::header(step, total);
            let up = format!("{header}{}\n", step.up.trim_end());
            let down = format!(
                "{header}-- zdm: rollback of {folder}; Prisma never runs this file. Run it with\n\
                 --   npx prisma db execute --file {down_path}   (Prisma 6: add --schema <your schema.prisma>)\n\
                 -- then mark the migration rolled back so `prisma migrate deploy` applies it again\n\
                 -- (`prisma migrate resolve --rolled-back` refuses a migration that succeeded):\n\
                 --   UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '{folder}' AND rolled_back_at IS NULL;\n\
                 {}\n",
                step.down.trim_end()
            );
            out.push((path.clone(), vec![GeneratedFile::new(path, up), GeneratedFile::new(down_path, down)]));
        }
        let mut files_out = Vec::new();
        if !files.exists(&common::join(dir, LOCK)) && common::folder_files(files, dir, "migration.sql").is_empty() {
            files_out.push(GeneratedFile::new(common::join(dir, LOCK), LOCK_FILE));
        }
        let notes = vec![
            "Prisma has no down migrations: each folder's down.sql (never run by Prisma) says how to roll back".into(),
            "Update schema.prisma to match: zdm does not edit it, and `prisma migrate dev` would see drift".into(),
        ];
        let mut written = common::written(plan, out, notes);
        written.files.extend(files_out);
        Ok(written)
    }
}

const LOCK_FILE: &str =
    "# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = \"postgresql\"\n";

/// The 14-digit versions of the existing migration folders.
fn versions<'a>(files: &'a ProjectFiles, dir: &str) -> Vec<&'a str> {
    common::folder_files(files, dir, "migration.sql").into_iter().filter_map(|(folder, _)| version_prefix(folder).map(|(v, _)| v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> ProjectFiles {
        let mut files: Vec<ProjectFile> = files.iter().map(|(p, c)| ProjectFile { path: (*p).into(), contents: (*c).into() }).collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        ProjectFiles::new(files)
    }

    const SCHEMA: &str = "generator client {\n  provider = \"prisma-client-js\"\n}\n\ndatasource db {\n  provider = \"postgresql\"\n  url      = env(\"DATABASE_URL\")\n}\n";

    #[test]
    fn provider_of_the_datasource_not_the_generator() {
        assert_eq!(datasource_provider(SCHEMA).as_deref(), Some("postgresql"));
        assert_eq!(datasource_provider("model A { id Int @id }"), None);
    }

    #[test]
    fn configs_move_the_directory() {
        let files = project(&[
            (
                "prisma.config.ts",
                "export default defineConfig({\n  schema: \"db/schema.prisma\",\n  migrations: { path: \"db/history\" },\n})",
            ),
            ("db/schema.prisma", SCHEMA),
        ]);
        let found = Prisma.detect(&files).unwrap();
        assert_eq!(found[0].dir, "db/history");
        assert_eq!(found[0].engine.as_deref(), Some("postgresql"));
        let files = project(&[
            ("package.json", "{\"dependencies\": {\"prisma\": \"^5\"}, \"prisma\": {\"schema\": \"src/db/schema.prisma\"}}"),
            ("src/db/schema.prisma", SCHEMA),
        ]);
        assert_eq!(Prisma.detect(&files).unwrap()[0].dir, "src/db/migrations");
    }

    #[test]
    fn multi_file_schema_folder() {
        let files = project(&[
            ("prisma/schema/main.prisma", SCHEMA),
            ("prisma/schema/users.prisma", "model User { id Int @id }"),
            ("prisma/migrations/migration_lock.toml", "provider = \"postgresql\""),
            ("prisma/migrations/20240101000000_init/migration.sql", "CREATE TABLE a (id int);"),
        ]);
        let found = Prisma.detect(&files).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].dir, "prisma/migrations");
    }

    #[test]
    fn folders_in_name_order_down_files_skipped() {
        let files = project(&[
            ("prisma/schema.prisma", SCHEMA),
            ("prisma/migrations/20240201000000_b/migration.sql", "SELECT 2;"),
            ("prisma/migrations/20240101000000_a/migration.sql", "SELECT 1;"),
            ("prisma/migrations/20240101000000_a/down.sql", "SELECT 0;"),
        ]);
        let d = &Prisma.detect(&files).unwrap()[0];
        let read: Vec<String> = Prisma.read(&files, d).into_iter().map(|m| m.path).collect();
        assert_eq!(read, ["prisma/migrations/20240101000000_a/migration.sql", "prisma/migrations/20240201000000_b/migration.sql"]);
        assert_eq!(versions(&files, "prisma/migrations"), ["20240101000000", "20240201000000"]);
    }

    #[test]
    fn missing_provider_is_an_error() {
        let files = project(&[("prisma/schema.prisma", "datasource db {\n  url = env(\"X\")\n}\n")]);
        assert!(Prisma.detect(&files).unwrap_err().message.starts_with("prisma/schema.prisma:"));
    }
}
