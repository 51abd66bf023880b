//! Drizzle Kit. v0.x layout: `<out>/<NNNN>_<name>.sql` listed in `<out>/meta/_journal.json` (applied in
//! journal order), a schema snapshot per migration in `<out>/meta/<NNNN>_snapshot.json` (`id`, `prevId`);
//! v1 layout: `<out>/<YYYYMMDDHHMMSS>_<name>/migration.sql` + `snapshot.json`, no journal. Statements are
//! separated by `--> statement-breakpoint` (drizzle-orm `readMigrationFiles` splits on that text
//! wherever it appears). The PostgreSQL migrator runs every pending migration in ONE transaction
//! (drizzle-orm `PgDialect.migrate`: `session.transaction(…)` around all of them), with no switch; a step
//! that must run outside a transaction closes it (`COMMIT;`), runs alone, and opens a new one (`BEGIN;`).
//! No down migrations: zdm writes the rollback in `<out>/zdm-rollback/`, which the migrator never reads.

use super::naming::{epoch_millis, next_versions, version_prefix};
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles};
use crate::plan::{CodeChange, Plan};
use serde_json::Value;

/// Drizzle Kit.
pub(super) struct Drizzle;

const BREAKPOINT: &str = "--> statement-breakpoint";
const CONFIG_EXTENSIONS: &[&str] = &["ts", "js", "mjs", "cjs", "mts", "cts", "json"];

fn journal_path(out: &str) -> String {
    common::join(out, "meta/_journal.json")
}

/// A parsed journal: (`idx`, `tag`, `when`, `version`) per entry, in file order.
struct Journal {
    entries: Vec<(u64, String, u64, String)>,
    version: String,
}

fn parse_journal(file: &ProjectFile) -> Result<Journal, DetectError> {
    let bad = |what: &str| DetectError::in_file(&file.path, what);
    let json: Value = serde_json::from_str(&file.contents).map_err(|e| bad(&format!("not valid JSON: {e}")))?;
    let entries = json.get("entries").and_then(Value::as_array).ok_or_else(|| bad("no `entries` array"))?;
    let mut out = Vec::new();
    for e in entries {
        let (Some(idx), Some(tag), Some(when)) =
            (e.get("idx").and_then(Value::as_u64), e.get("tag").and_then(Value::as_str), e.get("when").and_then(Value::as_u64))
        else {
            return Err(bad("a journal entry lacks `idx`, `tag` or `when`"));
        };
        let version = e.get("version").and_then(Value::as_str).unwrap_or("7").to_string();
        out.push((idx, tag.to_string(), when, version));
    }
    let version = json.get("version").and_then(Value::as_str).unwrap_or("7").to_string();
    Ok(Journal { entries: out, version })
}

/// The engine a config names: `dialect`, or the legacy `driver` (`pg` → postgresql).
fn engine_of_config(text: &str) -> Option<String> {
    if let Some(d) = common::config_value(text, "dialect") {
        return Some(d);
    }
    let driver = common::config_value(text, "driver")?;
    Some(
        match driver.as_str() {
            "pg" | "aws-data-api" | "pglite" => "postgresql",
            "mysql2" => "mysql",
            "better-sqlite" | "libsql" | "turso" | "d1" | "d1-http" | "expo" | "durable-sqlite" => "sqlite",
            other => other,
        }
        .to_string(),
    )
}

/// The v1 folders (`<YYYYMMDDHHMMSS>_<name>/migration.sql`).
fn v1_folders<'a>(files: &'a ProjectFiles, out: &str) -> Vec<(&'a str, &'a ProjectFile)> {
    common::folder_files(files, out, "migration.sql")
        .into_iter()
        .filter(|(folder, _)| version_prefix(folder).is_some_and(|(v, _)| v.len() == 14))
        .collect()
}

fn is_drizzle_dir(files: &ProjectFiles, out: &str) -> bool {
    files.exists(&journal_path(out))
        || v1_folders(files, out).iter().any(|(folder, _)| files.exists(&common::join(out, &format!("{folder}/snapshot.json"))))
}

fn table_of(files: &ProjectFiles, detection: &Detection) -> String {
    let config = files.files.iter().find(|f| f.path == detection.evidence);
    let text = config.map_or("", |f| f.contents.as_str());
    let table = common::value_in_block(text, "migrations", "table").unwrap_or_else(|| "__drizzle_migrations".into());
    let schema = common::value_in_block(text, "migrations", "schema").unwrap_or_else(|| "drizzle".into());
    format!("{schema}.{table}")
}

impl Tool for Drizzle {
    fn orm_changes(&self, change: &CodeChange) -> Vec<String> {
        match change {
            CodeChange::MoveColumn { table, from, to } => {
                vec![format!(
                    "Drizzle, pgTable({}): {from}: <type>({})  (the key stays, the column moves)",
                    common::dq(table),
                    common::dq(to)
                )]
            }
            CodeChange::DropColumn { table, column } => vec![format!("Drizzle, pgTable({}): remove column {column}", common::dq(table))],
            CodeChange::MoveTable { from, to } => {
                vec![format!("Drizzle: pgTable({}, …) becomes pgTable({}, …)", common::dq(from), common::dq(to))]
            }
            CodeChange::DropTable { table } => vec![format!("Drizzle: remove pgTable({}) and relations to it", common::dq(table))],
        }
    }

    fn id(&self) -> &'static str {
        "drizzle"
    }

    fn default_dir(&self) -> &'static str {
        "drizzle"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let mut found: Vec<Detection> = Vec::new();
        let configs = files.files.iter().filter(|f| {
            let name = common::file_name(&f.path);
            name.strip_prefix("drizzle.config.").is_some_and(|ext| CONFIG_EXTENSIONS.contains(&ext))
        });
        for config in configs {
            if config.path.ends_with(".json") {
                serde_json::from_str::<Value>(&config.contents)
                    .map_err(|e| DetectError::in_file(&config.path, format!("not valid JSON: {e}")))?;
            }
            let base = crate::model::parent_dir(&config.path);
            let out = common::config_value(&config.contents, "out").unwrap_or_else(|| "./drizzle".into());
            let dir = common::resolve(base, &out)
                .ok_or_else(|| DetectError::in_file(&config.path, format!("`out: {out}` leaves the project")))?;
            let journal = files.files.iter().find(|f| f.path == journal_path(&dir));
            let journal_dialect = journal
                .and_then(|j| serde_json::from_str::<Value>(&j.contents).ok())
                .and_then(|j| j["dialect"].as_str().map(str::to_string));
            if let Some(j) = journal {
                parse_journal(j)?;
            }
            let engine = engine_of_config(&config.contents).or(journal_dialect).map(|e| if e == "pg" { "postgresql".into() } else { e });
            if !found.iter().any(|d| d.dir == dir) {
                found.push(Detection::new("drizzle", dir, Confidence::High, config.path.clone()).with_engine(engine));
            }
        }
        // A journal (or v1 folders with snapshots) with no config zdm saw: drizzle-kit's own bookkeeping.
        for journal in common::named(files, "_journal.json") {
            let meta = crate::model::parent_dir(&journal.path);
            if common::file_name(meta) != "meta" {
                continue;
            }
            let dir = crate::model::parent_dir(meta).to_string();
            parse_journal(journal)?;
            let engine = serde_json::from_str::<Value>(&journal.contents).ok().and_then(|j| j["dialect"].as_str().map(str::to_string));
            let engine = engine.map(|e| if e == "pg" { "postgresql".into() } else { e });
            if !found.iter().any(|d| d.dir == dir) {
                found.push(Detection::new("drizzle", dir, Confidence::Medium, journal.path.clone()).with_engine(engine));
            }
        }
        if found.is_empty()
            && let Some(manifest) = common::manifest_with(files, "package.json", "drizzle-kit")
        {
            let dir = common::join(crate::model::parent_dir(&manifest.path), "drizzle");
            if is_drizzle_dir(files, &dir) {
                found.push(Detection::new("drizzle", dir, Confidence::Medium, format!("{} (drizzle-kit)", manifest.path)));
            }
        }
        Ok(found)
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        let out = &detection.dir;
        let journal = files.files.iter().find(|f| f.path == journal_path(out)).and_then(|j| parse_journal(j).ok());
        let Some(journal) = journal else {
            return v1_folders(files, out).into_iter().map(|(_, f)| SourceMigration::sql(f.path.clone(), f.contents.clone())).collect();
        };
        // `--> statement-breakpoint` starts with `--`: the file parses as SQL as it is.
        journal
            .entries
            .iter()
            .map(|(_, tag, _, _)| {
                let path = common::join(out, &format!("{tag}.sql"));
                match files.files.iter().find(|f| f.path == path) {
                    Some(f) => SourceMigration::sql(path, f.contents.clone()),
                    None => SourceMigration::unread(path, "a migration meta/_journal.json lists but whose file is missing"),
                }
            })
            .collect()
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let out = &detection.dir;
        let (naming, next) = match layout(files, out) {
            Layout::V1(existing) => {
                let existing: Vec<&str> = existing.iter().map(String::as_str).collect();
                (common::join(out, "<YYYYMMDDHHMMSS>_<name>/migration.sql"), next_versions(&existing, now, 1).pop().unwrap_or_default())
            }
            Layout::V0(journal) => {
                let next = journal.entries.last().map_or(0, |e| e.0 + 1);
                (common::join(out, "<NNNN>_<name>.sql + meta/_journal.json entry + meta/<NNNN>_snapshot.json"), format!("{next:04}"))
            }
        };
        Profile {
            naming,
            next_version: next,
            down: format!("none: zdm writes the rollback to {}", common::join(out, "zdm-rollback/<tag>.down.sql")),
            no_transaction:
                "none: the migrator runs all pending migrations in one transaction; zdm ends it around such a step (`COMMIT;` … `BEGIN;`)"
                    .into(),
            history_table: table_of(files, detection),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        let out = &detection.dir;
        let steps = common::file_steps(plan);
        let total = plan.steps.len();
        let layout = layout(files, out);
        let table = table_of(files, detection);
        // Names: v0 `<NNNN>_<slug>` (journal idx + 1), v1 `<timestamp>_<slug>` folders.
        let tags: Vec<String> = match &layout {
            Layout::V0(journal) => {
                let next = journal.entries.last().map_or(0, |e| e.0 + 1);
                steps.iter().enumerate().map(|(i, s)| format!("{:04}_{}", next + i as u64, s.slug)).collect()
            }
            Layout::V1(existing) => next_versions(&existing.iter().map(String::as_str).collect::<Vec<_>>(), now, steps.len())
                .into_iter()
                .zip(&steps)
                .map(|(v, s)| format!("{v}_{}", s.slug))
                .collect(),
        };
        let whens: Vec<u64> = match &layout {
            Layout::V0(journal) => {
                let last = journal.entries.iter().map(|e| e.2).max().map_or(0, |w| w + 1);
                let start = epoch_millis(now).max(last);
                (0..steps.len() as u64).map(|i| start + i * 1000).collect()
            }
            Layout::V1(_) => vec![0; steps.len()],
        };
        let mut per_step: Vec<(String, Vec<GeneratedFile>)> = Vec::new();
        let mut hand_run: Vec<String> = Vec::new();
        for ((step, tag), when) in steps.iter().zip(&tags).zip(&whens) {
            for sql in [&step.up, &step.down] {
                if sql.contains(BREAKPOINT) {
                    return Err(common::step_error(step, format!("the SQL holds `{BREAKPOINT}`, where drizzle's migrator would split it")));
                }
            }
            let path = match layout {
                Layout::V0(_) => common::join(out, &format!("{tag}.sql")),
                Layout::V1(_) => common::join(out, &format!("{tag}/migration.sql")),
            };
            let down_path = common::join(out, &format!("zdm-rollback/{tag}.down.sql"));
            common::ensure_free(files, &[], &path)?;
            common::ensure_free(files, &[], &down_path)?;
            let header = common::header(step, total);
            let parts: Vec<String> = if step.transaction {
                common::statements(&step.up)
            } else {
                let stmts = common::statements(&step.up);
                if stmts.len() != 1 {
                    return Err(common::step_error(step, "a step outside a transaction must hold exactly one statement"));
                }
                hand_run.push(path.clone());
                let manual = match layout {
                    Layout::V0(_) => format!("INSERT INTO {table} (hash, created_at) VALUES ('zdm-manual', {when});"),
                    Layout::V1(_) => format!("record {tag} in {table} as your runner does"),
                };
                vec![
                    format!(
                        "-- zdm: drizzle-kit migrate runs all pending migrations in ONE transaction and has no switch to leave it.\n\
                         -- COMMIT ends it (earlier migrations of the run stay applied), the statement runs outside any\n\
                         -- transaction, BEGIN opens a new one for the rest of the run (this migration's history row included).\n\
                         -- This relies on drizzle-orm's node-postgres / postgres-js migrator sending each part on its own.\n\
                         -- With another runner, apply the earlier migrations, run the statement by hand\n\
                         --   psql \"$DATABASE_URL\" -v ON_ERROR_STOP=1 -f {path}\n\
                         -- then record it:  {manual}\n\
                         COMMIT;"
                    ),
                    stmts[0].clone(),
                    "BEGIN;".into(),
                ]
            };
            let up = format!("{header}{}\n", parts.join(&format!("\n{BREAKPOINT}\n")));
            let down_body = step.down.trim_end();
            let down_body = if step.down_transaction { format!("BEGIN;\n{down_body}\nCOMMIT;") } else { down_body.to_string() };
            let forget = match layout {
                Layout::V0(_) => format!("DELETE FROM {table} WHERE created_at = {when};"),
                Layout::V1(_) => format!("DELETE FROM {table} WHERE name = '{tag}';"),
            };
            let down = format!(
                "{header}-- zdm: rollback of {path}; drizzle never runs this file. Run it with\n--   psql \"$DATABASE_URL\" -v ON_ERROR_STOP=1 -f {down_path}\n-- then forget the migration so `drizzle-kit migrate` applies it again:\n--   {forget}\n{down_body}\n"
            );
            let mut generated = vec![GeneratedFile::new(path.clone(), up), GeneratedFile::new(down_path, down)];
            if let Layout::V1(_) = layout
                && let Some(snapshot) = latest_v1_snapshot(files, out)
            {
                let id = common::uuid_from(&format!("{path}\n{}", step.up));
                generated
                    .push(GeneratedFile::new(common::join(out, &format!("{tag}/snapshot.json")), next_snapshot(&snapshot.contents, &id)));
            }
            per_step.push((path, generated));
        }
        let mut extra = Vec::new();
        if let Layout::V0(journal) = &layout {
            extra.extend(v0_bookkeeping(files, out, journal, &tags, &whens, &per_step));
        }
        let mut notes = vec![format!(
            "Drizzle has no down migrations: rollbacks are in {}/zdm-rollback/ (never run by drizzle; each says how)",
            if out.is_empty() { "." } else { out }
        )];
        for path in &hand_run {
            notes.push(format!(
                "{}: `COMMIT;` … `BEGIN;` run its statement outside drizzle's one migration transaction (relies on drizzle-orm's pg migrator; the file says how to run it by hand)",
                common::file_name(path)
            ));
        }
        notes.push("Update your Drizzle schema (TS) to match; the new meta snapshots copy the previous one".into());
        let mut written = common::written(plan, per_step, notes);
        written.files.extend(extra);
        Ok(written)
    }
}

enum Layout {
    V0(Journal),
    V1(Vec<String>),
}

fn layout(files: &ProjectFiles, out: &str) -> Layout {
    if let Some(journal) = files.files.iter().find(|f| f.path == journal_path(out)).and_then(|j| parse_journal(j).ok()) {
        return Layout::V0(journal);
    }
    let folders = v1_folders(files, out);
    if folders.is_empty() {
        return Layout::V0(Journal { entries: Vec::new(), version: "7".into() });
    }
    Layout::V1(folders.iter().filter_map(|(f, _)| version_prefix(f).map(|(v, _)| v.to_string())).collect())
}

fn latest_v1_snapshot<'a>(files: &'a ProjectFiles, out: &str) -> Option<&'a ProjectFile> {
    v1_folders(files, out)
        .iter()
        .rev()
        .find_map(|(folder, _)| files.files.iter().find(|f| f.path == common::join(out, &format!("{folder}/snapshot.json"))))
}

/// The journal with the new entries and a snapshot per new migration (a copy of the latest, new `id`,
/// `prevId` the one before).
fn v0_bookkeeping(
    files: &ProjectFiles,
    out: &str,
    journal: &Journal,
    tags: &[String],
    whens: &[u64],
    per_step: &[(String, Vec<GeneratedFile>)],
) -> Vec<GeneratedFile> {
    let version = journal.entries.last().map_or(journal.version.clone(), |e| e.3.clone());
    let first = journal.entries.last().map_or(0, |e| e.0 + 1);
    let entries: Vec<String> = tags
        .iter()
        .zip(whens)
        .enumerate()
        .map(|(i, (tag, when))| {
            format!(
                "{{\n      \"idx\": {},\n      \"version\": \"{version}\",\n      \"when\": {when},\n      \"tag\": \"{tag}\",\n      \"breakpoints\": true\n    }}",
                first + i as u64
            )
        })
        .collect();
    let path = journal_path(out);
    let mut generated = Vec::new();
    match files.files.iter().find(|f| f.path == path) {
        Some(old) => {
            if let Some(new) = append_entries(&old.contents, &entries) {
                generated.push(GeneratedFile::update(path, old.contents.clone(), new));
            }
        }
        None => generated.push(GeneratedFile::new(
            path,
            format!(
                "{{\n  \"version\": \"7\",\n  \"dialect\": \"postgresql\",\n  \"entries\": [\n    {}\n  ]\n}}",
                entries.join(",\n    ")
            ),
        )),
    }
    let meta = common::join(out, "meta");
    let mut snapshots: Vec<&ProjectFile> = files.in_dir(&meta).filter(|f| f.path.ends_with("_snapshot.json")).collect();
    snapshots.sort_by(|a, b| a.path.cmp(&b.path));
    if let Some(latest) = snapshots.last() {
        let mut text = latest.contents.clone();
        for (tag, (path, _)) in tags.iter().zip(per_step) {
            let prefix = tag.split('_').next().unwrap_or(tag);
            let up = per_step.iter().find(|(p, _)| p == path).and_then(|(_, f)| f.first()).map_or("", |f| f.contents.as_str());
            let id = common::uuid_from(&format!("{path}\n{up}"));
            text = next_snapshot(&text, &id);
            generated.push(GeneratedFile::new(common::join(out, &format!("meta/{prefix}_snapshot.json")), text.clone()));
        }
    }
    generated
}

/// A snapshot's text with `id` set to `id` and `prevId` (or v1's `prevIds`) to its old `id`. Other text
/// is kept as it is.
fn next_snapshot(text: &str, id: &str) -> String {
    let json: Option<Value> = serde_json::from_str(text).ok();
    let old = json.as_ref().and_then(|j| j["id"].as_str()).unwrap_or_default().to_string();
    let mut text = replace_value(text, "id", &format!("\"{id}\""));
    if json.as_ref().is_some_and(|j| j.get("prevIds").is_some()) {
        text = replace_value(&text, "prevIds", &format!("[\"{old}\"]"));
    } else {
        text = replace_value(&text, "prevId", &format!("\"{old}\""));
    }
    text
}

/// `text` with the first value of `"key":` (a string or an array of strings) replaced by `value`.
fn replace_value(text: &str, key: &str, value: &str) -> String {
    let needle = format!("\"{key}\"");
    let Some(i) = text.find(&needle) else { return text.to_string() };
    let after = i + needle.len();
    let rest = &text[after..];
    let Some(colon) = rest.find(':') else { return text.to_string() };
    let start = after + colon + 1 + (rest[colon + 1..].len() - rest[colon + 1..].trim_start().len());
    let end = match text[start..].chars().next() {
        Some('"') => text[start + 1..].find('"').map(|e| start + 1 + e + 1),
        Some('[') => text[start..].find(']').map(|e| start + e + 1),
        _ => None,
    };
    let Some(end) = end else { return text.to_string() };
    format!("{}{value}{}", &text[..start], &text[end..])
}

/// The journal's text with `entries` (rendered objects) appended to its `entries` array, formatted as
/// drizzle-kit writes it (`JSON.stringify(journal, null, 2)`).
fn append_entries(text: &str, entries: &[String]) -> Option<String> {
    let key = text.find("\"entries\"")?;
    let open = key + text[key..].find('[')?;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut close = None;
    for (i, c) in text[open..].char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close?;
    let inner = text[open + 1..close].trim_end();
    let joined = entries.join(",\n    ");
    let body = if inner.trim().is_empty() { format!("[\n    {joined}\n  ]") } else { format!("[{inner},\n    {joined}\n  ]") };
    Some(format!("{}{body}{}", &text[..open], &text[close + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOURNAL: &str = "{\n  \"version\": \"7\",\n  \"dialect\": \"postgresql\",\n  \"entries\": [\n    {\n      \"idx\": 0,\n      \"version\": \"7\",\n      \"when\": 1700000000000,\n      \"tag\": \"0000_init\",\n      \"breakpoints\": true\n    }\n  ]\n}";

    fn project(files: &[(&str, &str)]) -> ProjectFiles {
        let mut files: Vec<ProjectFile> = files.iter().map(|(p, c)| ProjectFile { path: (*p).into(), contents: (*c).into() }).collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        ProjectFiles::new(files)
    }

    #[test]
    fn journal_entries_append_in_drizzle_kit_format() {
        let e = "{\n      \"idx\": 1,\n      \"version\": \"7\",\n      \"when\": 1,\n      \"tag\": \"0001_x\",\n      \"breakpoints\": true\n    }";
        let new = append_entries(JOURNAL, &[e.to_string()]).unwrap();
        let json: Value = serde_json::from_str(&new).unwrap();
        assert_eq!(json["entries"].as_array().unwrap().len(), 2);
        assert!(new.contains("    },\n    {\n      \"idx\": 1,"), "{new}");
        assert!(new.ends_with("  ]\n}"));
        let empty = append_entries("{\"version\":\"7\",\"dialect\":\"postgresql\",\"entries\":[]}", &[e.to_string()]).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&empty).unwrap()["entries"][0]["tag"], "0001_x");
    }

    #[test]
    fn snapshots_chain() {
        let snap = "{\n  \"id\": \"aaa\",\n  \"prevId\": \"000\",\n  \"version\": \"7\",\n  \"tables\": {\"public.users\": {\"columns\": {\"id\": {\"name\": \"id\"}}}}\n}";
        let next = next_snapshot(snap, "bbb");
        let json: Value = serde_json::from_str(&next).unwrap();
        assert_eq!((json["id"].as_str(), json["prevId"].as_str()), (Some("bbb"), Some("aaa")));
        assert!(next.contains("\"columns\": {\"id\": {\"name\": \"id\"}}"));
        let v1 = next_snapshot("{\"id\":\"aaa\",\"prevIds\":[\"000\"],\"ddl\":[]}", "bbb");
        assert_eq!(serde_json::from_str::<Value>(&v1).unwrap()["prevIds"][0], "aaa");
    }

    #[test]
    fn config_outside_the_package_root() {
        let files = project(&[
            (
                "apps/web/drizzle.config.ts",
                "export default defineConfig({\n  dialect: \"postgresql\",\n  out: \"../../packages/db/migrations\",\n});",
            ),
            ("packages/db/migrations/meta/_journal.json", JOURNAL),
            ("packages/db/migrations/0000_init.sql", "CREATE TABLE a (id int);"),
        ]);
        let found = Drizzle.detect(&files).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].dir.as_str(), found[0].confidence), ("packages/db/migrations", Confidence::High));
        assert_eq!(found[0].engine.as_deref(), Some("postgresql"));
        assert_eq!(Drizzle.read(&files, &found[0])[0].path, "packages/db/migrations/0000_init.sql");
    }

    #[test]
    fn legacy_driver_and_bad_journal() {
        assert_eq!(engine_of_config("export default { driver: 'pg', out: './x' }").as_deref(), Some("postgresql"));
        assert_eq!(engine_of_config("export default { dialect: \"mysql\" }").as_deref(), Some("mysql"));
        let files = project(&[("drizzle.config.ts", "export default {}"), ("drizzle/meta/_journal.json", "{\"entries\": [")]);
        assert!(Drizzle.detect(&files).unwrap_err().message.starts_with("drizzle/meta/_journal.json:"));
    }

    #[test]
    fn v1_folders_in_name_order() {
        let files = project(&[
            ("drizzle.config.ts", "export default { dialect: 'postgresql' }"),
            ("drizzle/20250102000000_b/migration.sql", "SELECT 2;"),
            ("drizzle/20250101000000_a/migration.sql", "SELECT 1;"),
            ("drizzle/20250101000000_a/snapshot.json", "{}"),
        ]);
        let d = &Drizzle.detect(&files).unwrap()[0];
        let read: Vec<String> = Drizzle.read(&files, d).into_iter().map(|m| m.path).collect();
        assert_eq!(read, ["drizzle/20250101000000_a/migration.sql", "drizzle/20250102000000_b/migration.sql"]);
    }
}
