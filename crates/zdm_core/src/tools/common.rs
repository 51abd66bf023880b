//! What every tool module shares: which steps get files, the header comment each file starts with,
//! splitting a step's SQL into statements, checking a path is free, reading a value out of a config file,
//! finding a dependency in a manifest. A tool module keeps only what is its own.

use super::{WriteError, Written};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles, parent_dir};
use crate::plan::{Phase, Plan, Step};

/// The steps that become files (every step but the application deploys), in order.
#[must_use]
pub fn file_steps(plan: &Plan) -> Vec<&Step> {
    plan.steps.iter().filter(|s| s.phase != Phase::Code).collect()
}

/// The phase as a word (`expand`, `backfill`, `contract`, …).
#[must_use]
pub fn phase_word(step: &Step) -> String {
    serde_json::to_value(step.phase).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// The comment lines a generated file starts with: which step of how many, the phase, the title, the
/// lock and how long it is held. `--` comments, one per line, each ending in a newline.
#[must_use]
pub fn header(step: &Step, total: usize) -> String {
    format!(
        "-- zdm: step {n} of {total} ({phase}): {title}\n-- lock: {lock}, {duration}\n",
        n = step.n,
        phase = phase_word(step),
        title = one_line(&step.title),
        lock = step.lock.name(),
        duration = one_line(&step.duration),
    )
}

/// `text` on one line (newlines become spaces), for comments and names.
#[must_use]
pub fn one_line(text: &str) -> String {
    text.split(['\n', '\r']).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Fails when `path` exists in the project, or is already among `pending` (two steps, one name).
///
/// # Errors
/// A [`WriteError`] naming the path.
pub fn ensure_free(files: &ProjectFiles, pending: &[GeneratedFile], path: &str) -> Result<(), WriteError> {
    if files.exists(path) || pending.iter().any(|f| f.path == path) {
        return Err(WriteError { message: format!("{path} already exists; zdm never overwrites a migration") });
    }
    Ok(())
}

/// A [`WriteError`] about one step.
#[must_use]
pub fn step_error(step: &Step, what: impl std::fmt::Display) -> WriteError {
    WriteError { message: format!("step {} ({}): {what}", step.n, step.title) }
}

/// `dir/name`, or `name` when `dir` is the project root.
#[must_use]
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") }
}

/// The last path component.
#[must_use]
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The statements of generated SQL, each with its terminating `;`, comments before a statement kept with
/// it. Splits with PostgreSQL's own scanner, so a `;` inside a string, a dollar-quoted body or a comment
/// never splits. A trailing comment with no statement after it is dropped.
#[must_use]
pub fn statements(sql: &str) -> Vec<String> {
    let Ok(parts) = pg_query::split_with_scanner(sql) else {
        return vec![sql.trim().to_string()];
    };
    parts.into_iter().map(str::trim).filter(|p| !p.is_empty() && !only_comments(p)).map(|p| format!("{p};")).collect()
}

fn only_comments(text: &str) -> bool {
    use pg_query::protobuf::Token;
    pg_query::scan(text).is_ok_and(|s| s.tokens.iter().all(|t| t.token == Token::SqlComment as i32 || t.token == Token::CComment as i32))
}

/// Whether the text holds a `;` that does not end a statement (a function or `DO` body, a string), so a
/// tool that splits on `;` at line end must be told where the statement begins and ends.
#[must_use]
pub fn has_inner_semicolon(statement: &str) -> bool {
    statement.trim_end().trim_end_matches(';').contains(';')
}

/// Assembles [`Written`] from one entry per file step: the file that runs it and every file it needs.
#[must_use]
pub fn written(plan: &Plan, per_step: Vec<(String, Vec<GeneratedFile>)>, notes: Vec<String>) -> Written {
    let mut main = per_step.iter().map(|(p, _)| p.clone());
    let step_files = plan.steps.iter().map(|s| if s.phase == Phase::Code { None } else { main.next() }).collect();
    Written { files: per_step.into_iter().flat_map(|(_, f)| f).collect(), step_files, notes }
}

/// The files of one directory, recursively (`dir` `""` is the whole project).
pub fn under<'a>(files: &'a ProjectFiles, dir: &'a str) -> impl Iterator<Item = &'a ProjectFile> + 'a {
    files.files.iter().filter(move |f| dir.is_empty() || f.path.starts_with(&format!("{dir}/")))
}

/// Files with this exact name anywhere in the project (`package.json`), shallowest first.
pub fn named<'a>(files: &'a ProjectFiles, name: &'a str) -> Vec<&'a ProjectFile> {
    let mut found: Vec<&ProjectFile> = files.files.iter().filter(|f| file_name(&f.path) == name).collect();
    found.sort_by_key(|f| (f.path.matches('/').count(), f.path.clone()));
    found
}

/// The manifest (`package.json`, `go.mod`, `Cargo.toml`, …) nearest the root that names `dependency`.
#[must_use]
pub fn manifest_with<'a>(files: &'a ProjectFiles, manifest: &'a str, dependency: &str) -> Option<&'a ProjectFile> {
    named(files, manifest).into_iter().find(|f| mentions_dependency(&f.contents, dependency))
}

fn mentions_dependency(text: &str, dependency: &str) -> bool {
    text.match_indices(dependency).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + dependency.len()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        (edge(before) || before == Some('/')) && (edge(after) || after == Some('/'))
    })
}

/// The value of `key` in a config file of any of the usual shapes: `key = "v"` (TOML, properties),
/// `key: "v"` / `key: 'v'` (TypeScript, YAML), `"key": "v"` (JSON), `key=v` (bare, to the end of line).
/// Comment lines (`#`, `//`, `--`) are skipped. The first occurrence wins.
#[must_use]
pub fn config_value(text: &str, key: &str) -> Option<String> {
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with('#') || t.starts_with("//") || t.starts_with("--") || t.starts_with('!') {
            continue;
        }
        let mut from = 0;
        while let Some(i) = t[from..].find(key).map(|i| from + i) {
            from = i + key.len();
            let before = t[..i].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-') {
                continue;
            }
            let rest = t[i + key.len()..].trim_start_matches(['"', '\'']).trim_start();
            let Some(rest) = rest.strip_prefix('=').or_else(|| rest.strip_prefix(':')) else { continue };
            let rest = rest.trim_start();
            if let Some(q) = rest.chars().next().filter(|c| matches!(c, '"' | '\'' | '`')) {
                let body = &rest[1..];
                return body.find(q).map(|end| body[..end].to_string());
            }
            let value = rest.split([',', '#', '}']).next().unwrap_or("").trim();
            return (!value.is_empty()).then(|| value.to_string());
        }
    }
    None
}

/// The value of a dotted key (`spring.flyway.locations`) in a Java properties file or a YAML file, where
/// YAML may nest it (`spring:` / `  flyway:` / `    locations: x`) or spell it flat. Quotes are removed; a
/// YAML list (`- a` items or `[a, b]`) and a properties list (`a,b`) come back joined with `,`. `None`
/// when the key is absent.
#[must_use]
pub fn dotted_value(text: &str, key: &str) -> Option<String> {
    let unquote = |v: &str| v.trim().trim_matches(['"', '\'']).to_string();
    // (indent, key part) of the YAML keys enclosing the current line.
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') || t.starts_with('!') || t == "---" {
            continue;
        }
        let indent = line.len() - t.len();
        let Some(i) = t.find([':', '=']) else { continue };
        let (k, v) = (t[..i].trim(), t[i + 1..].trim());
        path.retain(|(d, _)| *d < indent);
        let full = path.iter().map(|(_, p)| p.as_str()).chain([k]).collect::<Vec<_>>().join(".");
        if full == key {
            let v = v.split(" #").next().unwrap_or("").trim();
            if let Some(list) = v.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                return Some(list.split(',').map(unquote).collect::<Vec<_>>().join(","));
            }
            if v.is_empty() {
                let mut items = Vec::new();
                while let Some(next) = lines.peek() {
                    let Some(item) = next.trim_start().strip_prefix("- ") else { break };
                    items.push(unquote(item));
                    lines.next();
                }
                return (!items.is_empty()).then(|| items.join(","));
            }
            return Some(unquote(v));
        }
        if v.is_empty() && t.as_bytes()[i] == b':' {
            path.push((indent, k.to_string()));
        }
    }
    None
}

/// `path` relative to `base_dir` resolved against it: `./drizzle` in `apps/web/drizzle.config.ts` is
/// `apps/web/drizzle`. `..` steps up; a path leaving the project is `None`.
#[must_use]
pub fn resolve(base_dir: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = if path.starts_with('/') { Vec::new() } else { base_dir.split('/').filter(|p| !p.is_empty()).collect() };
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The engine a directory's name says, for projects that keep one directory per engine
/// (`migrations/postgres`, `migrations/sqlite`).
#[must_use]
pub fn engine_of_dir(dir: &str) -> Option<String> {
    dir.split('/').rev().find_map(|part| {
        let p = part.to_ascii_lowercase();
        Some(
            match p.as_str() {
                "postgres" | "postgresql" | "pg" | "psql" => "postgresql",
                "mysql" | "mariadb" => "mysql",
                "sqlite" | "sqlite3" => "sqlite",
                "mssql" | "sqlserver" => "sqlserver",
                "clickhouse" => "clickhouse",
                _ => return None,
            }
            .to_string(),
        )
    })
}

/// The directory part of a path (re-exported for tool modules).
#[must_use]
pub fn dir_of(path: &str) -> &str {
    parent_dir(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_like_postgres() {
        let sql = "SET LOCAL lock_timeout = '1s';\n-- note\nDO $$ BEGIN PERFORM 1; END $$;\nSELECT ';' AS x;\n-- trailing\n";
        let s = statements(sql);
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(s[1].starts_with("-- note\nDO $$") && s[1].ends_with("$$;"), "{s:?}");
        assert!(has_inner_semicolon(&s[1]) && has_inner_semicolon(&s[2]) && !has_inner_semicolon(&s[0]));
    }

    #[test]
    fn config_values_in_every_shape() {
        assert_eq!(
            config_value("export default defineConfig({\n  out: \"./drizzle\",\n  dialect: 'postgresql',\n})", "out").as_deref(),
            Some("./drizzle")
        );
        assert_eq!(config_value("[migrations_directory]\ndir = \"db/migrations\"\n", "dir").as_deref(), Some("db/migrations"));
        assert_eq!(
            config_value("flyway.locations=filesystem:sql/migrations\n", "flyway.locations").as_deref(),
            Some("filesystem:sql/migrations")
        );
        assert_eq!(config_value("{\"prisma\": {\"schema\": \"db/schema.prisma\"}}", "schema").as_deref(), Some("db/schema.prisma"));
        assert_eq!(config_value("# out: x\nlayout: y", "out"), None);
        assert_eq!(config_value("stdout: 1\nout: z", "out").as_deref(), Some("z"));
    }

    #[test]
    fn dotted_values_in_properties_and_yaml() {
        assert_eq!(dotted_value("spring.flyway.locations=classpath:db/x\n", "spring.flyway.locations").as_deref(), Some("classpath:db/x"));
        let yaml = "spring:\n  datasource:\n    url: jdbc:postgresql://h/db\n  flyway:\n    locations:\n      - classpath:a\n      - 'filesystem:b'\n";
        assert_eq!(dotted_value(yaml, "spring.datasource.url").as_deref(), Some("jdbc:postgresql://h/db"));
        assert_eq!(dotted_value(yaml, "spring.flyway.locations").as_deref(), Some("classpath:a,filesystem:b"));
        assert_eq!(dotted_value("spring:\n  liquibase:\n    enabled: false\n", "spring.flyway.enabled"), None);
        assert_eq!(dotted_value("locations = [\"filesystem:sql\", \"x\"]", "locations").as_deref(), Some("filesystem:sql,x"));
    }

    #[test]
    fn paths_and_dependencies() {
        assert_eq!(resolve("apps/web", "./drizzle").as_deref(), Some("apps/web/drizzle"));
        assert_eq!(resolve("apps/web", "../../db").as_deref(), Some("db"));
        assert_eq!(resolve("", "../x"), None);
        assert!(mentions_dependency("require github.com/pressly/goose/v3 v3.20.0", "github.com/pressly/goose"));
        assert!(mentions_dependency("\"drizzle-kit\": \"^0.31\"", "drizzle-kit"));
        assert!(!mentions_dependency("\"drizzle-kit-extra\": \"1\"", "drizzle-kit"));
        assert_eq!(engine_of_dir("backend/resources/migrations/sqlite").as_deref(), Some("sqlite"));
        assert_eq!(engine_of_dir("db/migrations"), None);
    }
}
