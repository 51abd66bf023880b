//! TypeORM (0.3): a data source (`data-source.ts`, `ormconfig.*`, `typeorm.config.ts`, …) names the `type`
//! (the engine), the `migrations` globs (relative to the directory the CLI runs in, or to the file with
//! `__dirname`) and `migrationsTransactionMode` (`all`, the default, `each` or `none`). A migration is a
//! class `<Name><13-digit ms>` in `<dir>/<ms>-<Name>.ts` (or `.js`), ordered by the timestamp its name
//! ends with, recorded in `migrations`. `transaction = false` on a class is honoured only in modes `each`
//! and `none`; in mode `all` any class that sets `transaction` makes `migration:run` throw
//! `ForbiddenTransactionModeOverrideError`; `migration:revert` ignores the class flag and wraps the
//! migration in a transaction unless run with `--transaction none` (`MigrationExecutor.js`). zdm's
//! transactional steps therefore open their own transaction (`queryRunner.startTransaction`, a savepoint
//! when TypeORM already opened one), so every file is right in every mode.

use super::naming::epoch_millis;
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles};
use crate::plan::{CodeChange, Plan, Step};

/// TypeORM.
pub(super) struct TypeOrm;

const UP: &[&str] = &["    async up(queryRunner", "    public async up(queryRunner"];
const DOWN: &[&str] = &["    async down(queryRunner", "    public async down(queryRunner"];

/// Whether a file name is a TypeORM data source or legacy ormconfig zdm reads.
pub(super) fn is_data_source(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let code = [".ts", ".js", ".mjs", ".cjs", ".mts", ".cts"].iter().any(|e| lower.ends_with(e));
    (code && (lower.contains("data-source.") || lower.contains("datasource.") || lower.starts_with("typeorm.config.")))
        || (lower.starts_with("ormconfig.") && [".json", ".js", ".ts", ".yml", ".yaml"].iter().any(|e| lower.ends_with(e)))
}

/// What a data source says.
struct Source<'a> {
    file: &'a ProjectFile,
    dir: String,
    /// `ts` or `js`.
    ext: &'static str,
    engine: Option<String>,
    mode: Option<String>,
    /// The `migrations` entry names classes, not files: a new class must be added to it.
    explicit: bool,
}

/// The engine a TypeORM `type` names.
fn engine(kind: &str) -> String {
    match kind {
        "postgres" | "postgresql" => "postgresql".to_string(),
        "mysql" | "mariadb" | "aurora-mysql" => "mysql".to_string(),
        "sqlite" | "better-sqlite3" | "sqljs" | "capacitor" | "expo" | "react-native" => "sqlite".to_string(),
        "mssql" => "sqlserver".to_string(),
        "aurora-postgres" => "postgresql".to_string(),
        other => other.to_string(),
    }
}

/// The first `migrations: [ … ]` entry of a data source as (path, relative to the file's own directory).
/// `Some((None, _))` when the array names classes.
fn migrations_entry(text: &str) -> Option<(Option<String>, bool)> {
    let mut from = 0;
    while let Some(i) = text[from..].find("migrations").map(|i| from + i) {
        from = i + "migrations".len();
        if text[..i].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rest = text[from..].trim_start_matches(['"', '\'']).trim_start();
        let Some(rest) = rest.strip_prefix(':').map(str::trim_start) else { continue };
        let Some(list) = rest.strip_prefix('[') else { continue };
        let list = &list[..list.find(']').unwrap_or(list.len())];
        let first = first_entry(list);
        let relative = first.contains("__dirname");
        let mut parts = Vec::new();
        let mut chars = first.char_indices();
        while let Some((start, c)) = chars.next() {
            if matches!(c, '"' | '\'' | '`')
                && let Some(end) = first[start + 1..].find(c)
            {
                parts.push(first[start + 1..start + 1 + end].replace("${__dirname}", ""));
                for _ in 0..=end {
                    chars.next();
                }
            }
        }
        if parts.is_empty() {
            return Some((None, false));
        }
        let joined = if first.contains("join(") || first.contains("resolve(") { parts.join("/") } else { parts.concat() };
        return Some((Some(joined), relative));
    }
    None
}

/// The first entry of an array's text: up to the first `,` outside quotes and parentheses.
fn first_entry(list: &str) -> &str {
    let (mut quote, mut depth) = (None, 0);
    for (i, c) in list.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => return list[..i].trim(),
            _ => {}
        }
    }
    list.trim()
}

/// The directory part of a glob (`src/migrations/*.ts` → `src/migrations`).
fn glob_dir(glob: &str) -> &str {
    let cut = glob.find(['*', '{', '?', '[']).unwrap_or(glob.len());
    let head = &glob[..cut];
    if cut == glob.len() && !glob.ends_with('/') { crate::model::parent_dir(glob) } else { head.rsplit_once('/').map_or("", |(d, _)| d) }
}

fn source<'a>(files: &ProjectFiles, file: &'a ProjectFile) -> Result<Source<'a>, DetectError> {
    let text = &file.contents;
    let base = crate::model::parent_dir(&file.path);
    // The CLI runs where package.json is: plain globs are relative to it.
    let root = common::named(files, "package.json")
        .into_iter()
        .map(|p| crate::model::parent_dir(&p.path))
        .filter(|d| d.is_empty() || base == *d || base.starts_with(&format!("{d}/")))
        .max_by_key(|d| d.len())
        .unwrap_or(base);
    let own_ext = if file.path.ends_with(".ts") || file.path.ends_with(".mts") || file.path.ends_with(".cts") { "ts" } else { "js" };
    let (glob, explicit) = match migrations_entry(text) {
        Some((Some(glob), relative)) => (Some((glob, relative)), false),
        Some((None, _)) => (None, true),
        None => (None, false),
    };
    let (dir, ext) = match &glob {
        Some((glob, relative)) => {
            let from = if *relative { base } else { root };
            let dir = common::resolve(from, glob_dir(glob.trim_start_matches('/')))
                .ok_or_else(|| DetectError::in_file(&file.path, format!("migrations `{glob}` points outside the project")))?;
            let ext = if glob.ends_with(".js") || glob.ends_with(".cjs") || glob.ends_with(".mjs") {
                "js"
            } else if glob.ends_with(".ts") {
                "ts"
            } else {
                own_ext
            };
            (dir, ext)
        }
        None => (common::join(root, if own_ext == "ts" { "src/migrations" } else { "migrations" }), own_ext),
    };
    let kind = if file.path.ends_with(".env") { None } else { common::config_value(text, "type") };
    Ok(Source { file, dir, ext, engine: kind.map(|k| engine(&k)), mode: common::config_value(text, "migrationsTransactionMode"), explicit })
}

fn sources(files: &ProjectFiles) -> Result<Vec<Source<'_>>, DetectError> {
    files
        .files
        .iter()
        .filter(|f| is_data_source(common::file_name(&f.path)) && (f.contents.contains("DataSource") || f.path.contains("ormconfig")))
        .map(|f| source(files, f))
        .collect()
}

/// Migration files of a directory with their 13-digit timestamps, in TypeORM's order.
fn migrations<'a>(files: &'a ProjectFiles, dir: &'a str) -> Vec<(u64, &'a ProjectFile)> {
    let mut found: Vec<(u64, &ProjectFile)> = files
        .in_dir(dir)
        .filter(|f| {
            let name = common::file_name(&f.path);
            !name.ends_with(".d.ts") && [".ts", ".js", ".cjs", ".mjs"].iter().any(|e| name.ends_with(e))
        })
        .map(|f| {
            let name = common::file_name(&f.path);
            let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
            (digits.parse().unwrap_or(0), f)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.path.cmp(&b.1.path)));
    found
}

/// New timestamps: `Date.now()` at `now`, after the newest existing one, one second apart.
fn next(existing: &[u64], now: &str, count: usize) -> Vec<u64> {
    let start = epoch_millis(now).max(existing.iter().max().map_or(0, |l| l + 1));
    (0..count as u64).map(|i| start + i * 1000).collect()
}

/// `add_users_email_idx` → `AddUsersEmailIdx` (a leading digit gets an `M`, a class name cannot start
/// with one).
fn pascal(slug: &str) -> String {
    let name: String = slug
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) || name.is_empty() { format!("M{name}") } else { name }
}

impl Tool for TypeOrm {
    /// `transaction = false` on the migration class runs it outside a transaction.
    fn runs_in_transaction(&self, files: &ProjectFiles, m: &SourceMigration) -> bool {
        !super::file_text(files, &m.path).replace(' ', "").contains("transaction=false")
    }
    fn orm_changes(&self, change: &CodeChange) -> Vec<String> {
        match change {
            CodeChange::MoveColumn { table, from, to } => {
                vec![format!("TypeORM, entity of {table}: @Column({{ name: {} }}) on property {from}", common::dq(to))]
            }
            CodeChange::DropColumn { table, column } => vec![format!("TypeORM, entity of {table}: remove the @Column property {column}")],
            CodeChange::MoveTable { from, to } => vec![format!("TypeORM, entity of {from}: @Entity({})", common::dq(to))],
            CodeChange::DropTable { table } => vec![format!("TypeORM: remove the entity of {table} and relations to it")],
        }
    }

    fn id(&self) -> &'static str {
        "typeorm"
    }

    fn default_dir(&self) -> &'static str {
        "src/migrations"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let mut found: Vec<Detection> = Vec::new();
        for s in sources(files)? {
            if found.iter().any(|d| d.dir == s.dir) {
                continue;
            }
            let kind = s.engine.as_deref().map(|e| format!(" (type: {e})")).unwrap_or_default();
            found.push(Detection::new("typeorm", s.dir.clone(), Confidence::High, format!("{}{kind}", s.file.path)).with_engine(s.engine));
        }
        common::npm_detections(files, "typeorm", "typeorm", "src/migrations", &mut found, |dir| !migrations(files, dir).is_empty());
        Ok(found)
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        migrations(files, &detection.dir)
            .into_iter()
            .map(|(_, f)| match common::zdm_js_sql(&f.contents, UP, DOWN) {
                Some(up) => SourceMigration::sql(f.path.clone(), up),
                None => SourceMigration::unread(f.path.clone(), "a TypeORM migration"),
            })
            .collect()
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let dir = &detection.dir;
        let found = sources(files).ok().and_then(|s| s.into_iter().find(|s| &s.dir == dir));
        let ext = found.as_ref().map_or("ts", |s| s.ext);
        let existing: Vec<u64> = migrations(files, dir).iter().map(|(t, _)| *t).collect();
        let mode = found.as_ref().and_then(|s| s.mode.clone()).unwrap_or_else(|| "all (default)".into());
        Profile {
            naming: common::join(dir, &format!("<Date.now() ms>-<Name>.{ext} (class <Name><ms>)")),
            next_version: next(&existing, now, 1).pop().map(|v| v.to_string()).unwrap_or_default(),
            down: "`down()` in the same class (`typeorm migration:revert`)".into(),
            no_transaction: format!(
                "`transaction = false` on the class, honoured only with `--transaction each`/`none` (data source mode: {mode})"
            ),
            history_table: found
                .as_ref()
                .and_then(|s| common::config_value(&s.file.contents, "migrationsTableName"))
                .unwrap_or_else(|| "migrations".into()),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        let dir = &detection.dir;
        let found = sources(files).ok().and_then(|s| s.into_iter().find(|s| &s.dir == dir));
        let ext = found.as_ref().map_or("ts", |s| s.ext);
        let esm = ext == "js" && common::is_esm(files, dir);
        let existing: Vec<u64> = migrations(files, dir).iter().map(|(t, _)| *t).collect();
        let steps = common::file_steps(plan);
        let total = plan.steps.len();
        let mut out = Vec::with_capacity(steps.len());
        let mut classes = Vec::new();
        for (step, ms) in steps.iter().zip(next(&existing, now, steps.len())) {
            let name = pascal(&step.slug);
            let path = common::join(dir, &format!("{ms}-{name}.{ext}"));
            common::ensure_free(files, &[], &path)?;
            let class = format!("{name}{ms}");
            out.push((path.clone(), vec![GeneratedFile::new(path, migration(step, total, &class, ext, esm))]));
            classes.push(class);
        }
        Ok(common::written(plan, out, notes(&steps, found.as_ref(), &classes)))
    }
}

fn notes(steps: &[&Step], found: Option<&Source>, classes: &[String]) -> Vec<String> {
    let mut notes = Vec::new();
    let ds = found.map_or_else(|| "<data source>".to_string(), |s| s.file.path.clone());
    let outside: Vec<String> = steps.iter().filter(|s| !s.transaction || !s.down_transaction).map(|s| s.n.to_string()).collect();
    if !outside.is_empty() {
        let mode = found.and_then(|s| s.mode.as_deref());
        if mode == Some("all") {
            notes.push(format!(
                "{ds} sets migrationsTransactionMode: \"all\": `typeorm migration:run` REFUSES step(s) {} (they set `transaction = false`; \
                 ForbiddenTransactionModeOverrideError) — set it to \"each\" or run `typeorm migration:run -d {ds} --transaction each`",
                outside.join(", ")
            ));
        } else if mode != Some("each") && mode != Some("none") {
            notes.push(format!(
                "step(s) {} set `transaction = false`: run `typeorm migration:run -d {ds} --transaction each` (the default mode \"all\" \
                 refuses them with ForbiddenTransactionModeOverrideError), or set migrationsTransactionMode: \"each\"",
                outside.join(", ")
            ));
        }
        notes.push(format!(
            "to roll back step(s) {}: `typeorm migration:revert -d {ds} --transaction none` (revert ignores the class flag); \
             zdm's transactional steps open their own transaction",
            outside.join(", ")
        ));
    }
    if found.is_some_and(|s| s.explicit) {
        notes.push(format!("{ds} lists migration classes: add {} to its `migrations` array", classes.join(", ")));
    }
    notes
}

/// One direction: each statement its own `queryRunner.query`, inside a transaction zdm opens when it
/// must be atomic.
fn action(name: &str, sql: &str, transaction: bool, ts: bool) -> String {
    let head = if ts {
        format!("  public async {name}(queryRunner: QueryRunner): Promise<void> {{")
    } else {
        format!("  async {name}(queryRunner) {{")
    };
    let indent = if transaction { "      " } else { "    " };
    let body: String =
        common::statements(sql).iter().map(|s| common::js_await(indent, "queryRunner.query", &common::js_template_literal(s))).collect();
    if transaction {
        format!(
            "{head}\n    await queryRunner.startTransaction();\n    try {{\n{body}      await queryRunner.commitTransaction();\n    \
             }} catch (error) {{\n      await queryRunner.rollbackTransaction();\n      throw error;\n    }}\n  }}\n"
        )
    } else {
        format!("{head}\n{body}  }}\n")
    }
}

fn migration(step: &Step, total: usize, class: &str, ext: &str, esm: bool) -> String {
    let ts = ext == "ts";
    let mut text = common::js_header(step, total);
    let outside = !step.transaction || !step.down_transaction;
    if ts {
        text.push_str("import { MigrationInterface, QueryRunner } from \"typeorm\";\n\n");
        text.push_str(&format!("export class {class} implements MigrationInterface {{\n"));
    } else if esm {
        text.push_str(&format!("export class {class} {{\n"));
    } else {
        text.push_str(&format!("module.exports = class {class} {{\n"));
    }
    text.push_str(&format!("  name = \"{class}\";\n"));
    if outside {
        text.push_str(
            "  // Outside a transaction: run with `migration:run --transaction each`, revert with `--transaction none`.\n  transaction = false;\n",
        );
    }
    text.push('\n');
    text.push_str(&action("up", &step.up, step.transaction, ts));
    text.push('\n');
    text.push_str(&action("down", &step.down, step.down_transaction, ts));
    text.push_str(if ts || esm { "}\n" } else { "};\n" });
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_and_timestamps() {
        assert_eq!(pascal("index_users_email_idx"), "IndexUsersEmailIdx");
        assert_eq!(pascal("2fa-codes"), "M2faCodes");
        assert_eq!(next(&[], "20261125140000", 2), [1_795_615_200_000, 1_795_615_201_000]);
        assert_eq!(next(&[1_999_999_999_999], "20261125140000", 1), [2_000_000_000_000]);
    }

    #[test]
    fn migrations_globs() {
        assert_eq!(migrations_entry("migrations: [\"src/migrations/*.ts\"],"), Some((Some("src/migrations/*.ts".into()), false)));
        assert_eq!(
            migrations_entry("migrations: [__dirname + '/migrations/*{.ts,.js}'],"),
            Some((Some("/migrations/*{.ts,.js}".into()), true))
        );
        assert_eq!(
            migrations_entry("migrations: [path.join(__dirname, 'db', 'migrations', '*.js')]"),
            Some((Some("db/migrations/*.js".into()), true))
        );
        assert_eq!(migrations_entry("migrations: [`${__dirname}/migrations/*.ts`]"), Some((Some("/migrations/*.ts".into()), true)));
        assert_eq!(migrations_entry("migrations: [CreateUsers1700000000000],"), Some((None, false)));
        assert_eq!(
            migrations_entry("migrations: [__dirname + \"/db/migrations/*{.ts,.js}\", \"x\"],"),
            Some((Some("/db/migrations/*{.ts,.js}".into()), true))
        );
        assert_eq!(glob_dir("src/migrations/*.ts"), "src/migrations");
        assert_eq!(glob_dir("db/migrations/**/*{.ts,.js}"), "db/migrations");
        assert!(is_data_source("data-source.ts") && is_data_source("ormconfig.json") && !is_data_source("source.ts"));
    }
}
