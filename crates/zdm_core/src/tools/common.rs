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

/// A file the user runs by hand with `psql` (see [`psql_command`]), for tools that cannot run a step
/// themselves (no down migrations, no way out of a transaction): the header, `how` as comment lines (when
/// and how to run it), then `sql`, inside `BEGIN;` … `COMMIT;` when it must run in one transaction (psql
/// commits each statement on its own otherwise). A non-transactional step is one statement, left bare.
#[must_use]
pub fn manual_file(step: &Step, total: usize, how: &[String], sql: &str, transaction: bool) -> String {
    let how: String = how.iter().map(|l| format!("-- {l}\n")).collect();
    let sql = sql.trim_end();
    if transaction {
        format!("{}{how}BEGIN;\n{sql}\nCOMMIT;\n", header(step, total))
    } else {
        format!("{}{how}{sql}\n", header(step, total))
    }
}

/// How to run a [`manual_file`]: `psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f <path>`.
#[must_use]
pub fn psql_command(path: &str) -> String {
    format!("psql \"$DATABASE_URL\" -v ON_ERROR_STOP=1 -f {path}")
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

/// The directories holding a file for which `holds` is true, sorted, each once (where a tool's markers
/// are found).
pub fn dirs_with(files: &ProjectFiles, holds: impl Fn(&ProjectFile) -> bool) -> Vec<String> {
    let mut dirs: Vec<String> = files.files.iter().filter(|f| holds(f)).map(|f| parent_dir(&f.path).to_string()).collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// A directory as shown to the user (`.` for the project root).
#[must_use]
pub fn shown(dir: &str) -> &str {
    if dir.is_empty() { "." } else { dir }
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

/// The value of `key` inside the `{ … }` that follows `block` in a config: `migrations: { path: "…" }`
/// (TypeScript), `"prisma": {"schema": "…"}` (JSON; pass the quoted key). The first `block` followed by
/// `:` and `{` wins; the object is read to its first `}`.
#[must_use]
pub fn value_in_block(text: &str, block: &str, key: &str) -> Option<String> {
    config_value(block_body(text, block)?, key)
}

/// The text inside the `{ … }` that follows `block` and `:` (up to its first `}`), as [`value_in_block`]
/// reads it.
#[must_use]
pub fn block_body<'a>(text: &'a str, block: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(i) = text[from..].find(block).map(|i| from + i) {
        from = i + block.len();
        let rest = text[from..].trim_start_matches(['"', '\'']).trim_start();
        let Some(rest) = rest.strip_prefix(':').map(str::trim_start) else { continue };
        let Some(body) = rest.strip_prefix('{') else { continue };
        return Some(&body[..body.find('}').unwrap_or(body.len())]);
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

/// The migrations kept one folder each (`<dir>/<folder>/<file>`, as Prisma's `migration.sql`): (folder
/// name, file), sorted by folder name, the order Prisma and drizzle-kit v1 apply them in.
#[must_use]
pub fn folder_files<'a>(files: &'a ProjectFiles, dir: &str, file: &str) -> Vec<(&'a str, &'a ProjectFile)> {
    let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
    let mut found: Vec<(&str, &ProjectFile)> = files
        .files
        .iter()
        .filter_map(|f| {
            let rest = f.path.strip_prefix(&prefix)?;
            let (folder, name) = rest.split_once('/')?;
            (name == file).then_some((folder, f))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(b.0));
    found
}

/// A UUID-shaped id (version 4 layout) derived from `seed`: the same seed gives the same id, so a file
/// that needs a fresh id (a drizzle snapshot) stays reproducible. Two FNV-1a 64-bit hashes.
#[must_use]
pub fn uuid_from(seed: &str) -> String {
    let fnv = |basis: u64| seed.bytes().fold(basis, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    let (a, b) = (fnv(0xcbf2_9ce4_8422_2325), fnv(0x6c62_272e_07bb_0142));
    let hex = format!("{a:016x}{b:016x}");
    format!("{}-{}-4{}-{:x}{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], 8 | (b >> 60 & 3), &hex[17..20], &hex[20..32])
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

/// The body of TOML table `[name]` (up to the next `[…]` header), when the text has that table. Header
/// whitespace and quotes around the name are ignored (`[ migrations_directory ]`).
#[must_use]
pub fn toml_table<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let mut start = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with('[') {
            if start.is_some() {
                return start.map(|s| &text[s..offset]);
            }
            let header: String =
                t.trim_start_matches('[').split(']').next().unwrap_or("").chars().filter(|c| !c.is_whitespace() && *c != '"').collect();
            if header == name {
                start = Some(offset + line.len());
            }
        }
        offset += line.len();
    }
    start.map(|s| &text[s..])
}

/// The features a Cargo manifest asks of dependency `dep` (in any dependency table: `[dependencies]`,
/// `[dev-dependencies]`, `[workspace.dependencies]`, target tables, or its own `[dependencies.dep]`
/// table); `None` when the manifest does not depend on it. `dep = "0.8"` gives no features.
#[must_use]
pub fn cargo_dependency(text: &str, dep: &str) -> Option<Vec<String>> {
    let mut table = String::new();
    let mut found: Option<String> = None;
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim();
        i += 1;
        if t.starts_with('[') {
            table = t.trim_start_matches('[').split(']').next().unwrap_or("").chars().filter(|c| !c.is_whitespace()).collect();
            let own = table.strip_suffix(&format!(".{dep}")).or_else(|| table.strip_suffix(&format!(".\"{dep}\"")));
            if own.is_some_and(|t| t.ends_with("dependencies")) {
                let body: Vec<&str> = lines[i..].iter().copied().take_while(|l| !l.trim_start().starts_with('[')).collect();
                found.get_or_insert_with(String::new).push_str(&body.join("\n"));
            }
            continue;
        }
        if !table.ends_with("dependencies") {
            continue;
        }
        let Some((key, value)) = t.split_once('=') else { continue };
        // `dep = …`, `"dep" = …` or a dotted key (`dep.workspace = true`).
        if key.trim().split('.').next().map(|k| k.trim().trim_matches('"')) != Some(dep) {
            continue;
        }
        // An inline table may spread over lines (arrays): take lines until its braces balance.
        let mut value = value.to_string();
        let depth = |v: &str| {
            v.matches('{').count() as i64 - v.matches('}').count() as i64 + v.matches('[').count() as i64 - v.matches(']').count() as i64
        };
        while depth(&value) > 0 && i < lines.len() {
            value.push('\n');
            value.push_str(lines[i]);
            i += 1;
        }
        found.get_or_insert_with(String::new).push_str(&value);
    }
    let found = found?;
    let mut features = Vec::new();
    let mut rest = found.as_str();
    while let Some(at) = rest.find("features") {
        rest = &rest[at + "features".len()..];
        let Some(list) = rest.trim_start().trim_start_matches(['"', '\'']).trim_start().strip_prefix('=') else { continue };
        let Some(list) = list.trim_start().strip_prefix('[') else { continue };
        let list = list.split(']').next().unwrap_or("");
        features.extend(
            list.split(',').map(|f| f.trim().trim_matches(['"', '\'']).to_string()).filter(|f| !f.is_empty() && !f.starts_with('#')),
        );
    }
    Some(features)
}

/// Every `Cargo.toml` that depends on `dep`, shallowest first, with the engine its features name; a crate
/// whose features name none (`sqlx = { workspace = true }`) gets the engine another manifest's features
/// name for the same dependency.
#[must_use]
pub fn cargo_users<'a>(files: &'a ProjectFiles, dep: &str) -> Vec<(&'a ProjectFile, Option<String>)> {
    let users: Vec<(&ProjectFile, Option<String>)> = named(files, "Cargo.toml")
        .into_iter()
        .filter_map(|f| cargo_dependency(&f.contents, dep).map(|features| (f, engine_of_features(&features))))
        .collect();
    let any = users.iter().find_map(|(_, e)| e.clone());
    users.into_iter().map(|(f, e)| (f, e.or_else(|| any.clone()))).collect()
}

/// The database engine Cargo features name (`postgres`, `tokio-postgres`, `mysql_async`, `rusqlite`,
/// `tiberius`, …): PostgreSQL when any feature names it (a crate built for several engines can run on
/// PostgreSQL), else the first other engine; `None` when no feature names one.
#[must_use]
pub fn engine_of_features(features: &[String]) -> Option<String> {
    let engine = |f: &str| -> Option<&'static str> {
        let f = f.to_ascii_lowercase();
        Some(if f.contains("postgres") || f == "pg" {
            "postgresql"
        } else if f.contains("mysql") || f.contains("mariadb") {
            "mysql"
        } else if f.contains("sqlite") {
            "sqlite"
        } else if f.contains("tiberius") || f.contains("mssql") {
            "sqlserver"
        } else {
            return None;
        })
    };
    let engines: Vec<&str> = features.iter().filter_map(|f| engine(f)).collect();
    engines.iter().find(|e| **e == "postgresql").or(engines.first()).map(|e| (*e).to_string())
}

/// `text` with every line for which `keep(index, line)` is false made blank, so line numbers stay the
/// file's (the `up` part of a file with sections).
#[must_use]
pub fn keep_lines(text: &str, keep: impl Fn(usize, &str) -> bool) -> String {
    text.lines().enumerate().map(|(i, l)| if keep(i, l) { l } else { "" }).collect::<Vec<_>>().join("\n")
}

/// `text` as a Python string literal that evaluates to exactly `text`: a triple-quoted string when it
/// needs no escape (no backslash, no `"""`, no control character but newline and tab, no `"` at the
/// end), else a quoted string with `\\`, `\n`, `\r`, `\t` and `\xNN` escapes — in double quotes, or in
/// single quotes when that needs fewer escaped quotes (Black's and ruff's choice).
#[must_use]
pub fn python_literal(text: &str) -> String {
    let control = |c: char| c.is_control() && c != '\n' && c != '\t';
    if text.contains('\n') && !text.contains('\\') && !text.contains("\"\"\"") && !text.ends_with('"') && !text.chars().any(control) {
        return format!("\"\"\"{text}\"\"\"");
    }
    let quote = if text.matches('"').count() > text.matches('\'').count() { '\'' } else { '"' };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if control(c) => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A piece of Python source: code between string literals (whitespace and `#` comments removed), or a
/// string literal with the 0-based line it starts on and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PyPiece {
    /// Code, whitespace and comments removed (`op.execute(sa.DDL(`).
    Code(String),
    /// A string literal: (line, value).
    Lit(usize, String),
}

/// The Python string literals in `code` (single, double or triple quoted, no prefixes), each with the
/// 0-based line it starts on and its value; `#` comments are skipped. Reads back what
/// [`python_literal`] writes (and the usual escapes); `None` when a literal is not closed.
#[must_use]
pub fn python_literals(code: &str) -> Option<Vec<(usize, String)>> {
    Some(python_pieces(code)?.into_iter().filter_map(|p| if let PyPiece::Lit(l, v) = p { Some((l, v)) } else { None }).collect())
}

/// `code` as [`PyPiece`]s, literals decoded; `None` when a literal is not closed.
#[must_use]
pub fn python_pieces(code: &str) -> Option<Vec<PyPiece>> {
    let chars: Vec<char> = code.chars().collect();
    let (mut i, mut line, mut out) = (0, 0, Vec::new());
    let mut text = String::new();
    while i < chars.len() {
        match chars[i] {
            '\n' => line += 1,
            '#' => {
                while i + 1 < chars.len() && chars[i + 1] != '\n' {
                    i += 1;
                }
            }
            q @ ('"' | '\'') => {
                let start_line = line;
                let triple = chars.get(i + 1) == Some(&q) && chars.get(i + 2) == Some(&q);
                i += if triple { 3 } else { 1 };
                let mut value = String::new();
                loop {
                    let c = *chars.get(i)?;
                    if c == q && (!triple || (chars.get(i + 1) == Some(&q) && chars.get(i + 2) == Some(&q))) {
                        i += if triple { 2 } else { 0 };
                        break;
                    }
                    if c != '\\' {
                        line += usize::from(c == '\n');
                        value.push(c);
                        i += 1;
                        continue;
                    }
                    let e = *chars.get(i + 1)?;
                    i += 2;
                    let hex = |n: usize, i: &mut usize| -> Option<char> {
                        let h: String = chars.get(*i..*i + n)?.iter().collect();
                        *i += n;
                        char::from_u32(u32::from_str_radix(&h, 16).ok()?)
                    };
                    match e {
                        'n' => value.push('\n'),
                        'r' => value.push('\r'),
                        't' => value.push('\t'),
                        '\\' | '"' | '\'' => value.push(e),
                        '\n' => line += 1,
                        'x' => value.push(hex(2, &mut i)?),
                        'u' => value.push(hex(4, &mut i)?),
                        'U' => value.push(hex(8, &mut i)?),
                        other => {
                            value.push('\\');
                            value.push(other);
                        }
                    }
                }
                if !text.is_empty() {
                    out.push(PyPiece::Code(std::mem::take(&mut text)));
                }
                out.push(PyPiece::Lit(start_line, value));
            }
            c if c.is_whitespace() => {}
            c => text.push(c),
        }
        i += 1;
    }
    if !text.is_empty() {
        out.push(PyPiece::Code(text));
    }
    Some(out)
}

/// Whether a [`PyPiece::Code`] chunk is made only of the given pieces (in any order and number).
#[must_use]
pub fn made_of(code: &str, allowed: &[&str]) -> bool {
    let mut rest = code;
    while !rest.is_empty() {
        let Some(a) = allowed.iter().filter(|a| rest.starts_with(**a)).max_by_key(|a| a.len()) else { return false };
        rest = &rest[a.len()..];
    }
    true
}

/// SQL read back from Python literals (see [`python_literals`]), laid out so each statement starts on
/// the line its literal starts on in the file (`first_line` is where the literals' code starts in it);
/// each literal is one call to the database, so one without a final `;` gets one.
#[must_use]
pub fn lines_at(first_line: usize, literals: &[(usize, String)]) -> String {
    let mut out = String::new();
    for (line, sql) in literals {
        let have = out.matches('\n').count();
        out.push_str(&"\n".repeat((first_line + line).saturating_sub(have)));
        // Each literal is a statement of its own: end it (after a trailing `--` comment, on a new line).
        let sql = sql.trim_end();
        out.push_str(sql);
        if !sql.ends_with(';') {
            out.push_str(if sql.lines().last().is_some_and(|l| l.contains("--")) { "\n;" } else { ";" });
        }
        out.push('\n');
    }
    out
}

/// The common header (see [`header`]) as `#` comment lines (Python, Ruby, Elixir).
#[must_use]
pub fn hash_header(step: &Step, total: usize) -> String {
    header(step, total).lines().map(|l| format!("#{}\n", l.strip_prefix("--").unwrap_or(l))).collect()
}

/// A path a JavaScript config gives for `key` (quoted or not: `directory: './db/migrations'`,
/// `'migrations-path': path.resolve('db', 'migrations')`, `directory: path.join(__dirname, "migrations")`):
/// a string literal as written, a `path.join`/`path.resolve` call as its string arguments joined with `/`
/// (`__dirname` and `process.cwd()` dropped: the config's own directory). `None` when the key is absent or
/// its value is some other expression (an environment variable).
#[must_use]
pub fn js_path_value(text: &str, key: &str) -> Option<String> {
    let mut from = 0;
    while let Some(i) = text[from..].find(key).map(|i| from + i) {
        from = i + key.len();
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.') {
            continue;
        }
        let rest = text[from..].trim_start_matches(['"', '\'']).trim_start();
        let Some(rest) = rest.strip_prefix(':').map(str::trim_start) else { continue };
        if let Some(q) = rest.chars().next().filter(|c| matches!(c, '"' | '\'' | '`')) {
            return rest[1..].find(q).map(|end| rest[1..=end].to_string());
        }
        let call = ["path.join(", "path.resolve(", "join(", "resolve("].iter().find_map(|c| rest.strip_prefix(c))?;
        let args = &call[..call.find(')')?];
        let parts: Vec<&str> = args
            .split(',')
            .map(str::trim)
            .filter(|a| *a != "__dirname" && *a != "process.cwd()")
            .map(|a| a.trim_matches(['"', '\'', '`']))
            .collect();
        return Some(parts.join("/"));
    }
    None
}

/// Medium-confidence detections from npm manifests: each `package.json` that lists `package` (quoted, as
/// a dependency key) and whose `<its dir>/<subdir>` holds migrations (`has_migrations`), unless `found`
/// already has that directory.
pub fn npm_detections(
    files: &ProjectFiles,
    tool: &'static str,
    package: &str,
    subdir: &str,
    found: &mut Vec<super::Detection>,
    has_migrations: impl Fn(&str) -> bool,
) {
    for pkg in named(files, "package.json") {
        let dir = join(parent_dir(&pkg.path), subdir);
        if pkg.contents.contains(&format!("\"{package}\"")) && !found.iter().any(|d| d.dir == dir) && has_migrations(&dir) {
            let evidence = format!("{} depends on {package}", pkg.path);
            found.push(super::Detection::new(tool, dir, super::Confidence::Medium, evidence));
        }
    }
}

/// The [`header`] as JavaScript/TypeScript `//` comment lines (line separators U+2028/U+2029, which
/// would end a JavaScript comment, become spaces).
#[must_use]
pub fn js_header(step: &Step, total: usize) -> String {
    header(step, total)
        .lines()
        .map(|l| format!("//{}\n", l.strip_prefix("--").unwrap_or(l).replace(['\u{2028}', '\u{2029}'], " ")))
        .collect()
}

/// `text` as a JavaScript template literal: backslashes, backquotes and `${` escaped, carriage returns as
/// `\r`, so the string the code passes on is exactly `text`.
#[must_use]
pub fn js_template_literal(text: &str) -> String {
    let body = text.replace('\\', "\\\\").replace('`', "\\`").replace("${", "\\${").replace('\r', "\\r");
    format!("`{body}`")
}

/// Whether `.js` files in `dir` are ES modules: the nearest `package.json` above it says `"type": "module"`.
#[must_use]
pub fn is_esm(files: &ProjectFiles, dir: &str) -> bool {
    named(files, "package.json")
        .into_iter()
        .filter(|p| {
            let base = parent_dir(&p.path);
            base.is_empty() || dir == base || dir.starts_with(&format!("{base}/"))
        })
        .max_by_key(|p| p.path.len())
        .is_some_and(|p| p.contents.split_whitespace().collect::<String>().contains("\"type\":\"module\""))
}

/// The forward SQL of a JavaScript/TypeScript migration zdm wrote (it starts with `// zdm: step `): every
/// template literal ([`js_template_literal`]) between the first of `up` (where the up function begins) and
/// the first of `down` after it, unescaped, each starting on its own line of the file so line numbers stay
/// the file's. `None` for any other file: zdm does not read code.
#[must_use]
pub fn zdm_js_sql(text: &str, up: &[&str], down: &[&str]) -> Option<String> {
    if !text.starts_with("// zdm: step ") {
        return None;
    }
    let start = up.iter().filter_map(|m| text.find(m)).min()?;
    let end = down.iter().filter_map(|m| text[start..].find(m).map(|i| start + i)).min().unwrap_or(text.len());
    let mut sql = String::new();
    let mut line = text[..start].matches('\n').count();
    let mut chars = text[start..end].chars();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '`' => {
                sql.push_str(&"\n".repeat(line.saturating_sub(sql.matches('\n').count())));
                loop {
                    match chars.next()? {
                        '`' => break,
                        '\\' => match chars.next()? {
                            'r' => sql.push('\r'),
                            c => sql.push(c),
                        },
                        c => {
                            if c == '\n' {
                                line += 1;
                            }
                            sql.push(c);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Some(sql)
}

/// A step for writers' unit tests: `up`/`down` with their transaction flags, the rest fixed.
#[cfg(test)]
pub(crate) fn test_step(up: &str, down: &str, transaction: bool, down_transaction: bool) -> Step {
    Step {
        n: 1,
        phase: Phase::Expand,
        title: "t".into(),
        slug: "t".into(),
        file: None,
        transaction,
        up: up.into(),
        down: down.into(),
        down_transaction,
        reconnect: None,
        lock: crate::model::LockLevel::ShareUpdateExclusive,
        duration: "brief".into(),
        rollback: "drop".into(),
        rollback_data_loss: false,
        risk: crate::model::Risk::Safe,
        code_changes: Vec::new(),
        orm_changes: Vec::new(),
    }
}

/// The migration versions a schema dump lists as applied: the values of its `INSERT INTO
/// schema_migrations (version) VALUES …` statements (Rails' `db/structure.sql`: `('20240101000000')`, one
/// statement or one per version; Ecto's `mix ecto.dump`: `(20240101000000)`), empty when it has none.
#[must_use]
pub fn dumped_versions(dump: &str) -> Vec<String> {
    let mut versions = Vec::new();
    for (at, _) in dump.match_indices("INSERT INTO ") {
        let statement = &dump[at..at + dump[at..].find(';').unwrap_or(dump.len() - at)];
        let Some((target, values)) = statement.split_once("VALUES") else { continue };
        if target.contains("schema_migrations") && target.contains("(version)") {
            versions.extend(values.split(|c: char| !c.is_ascii_digit()).filter(|v| !v.is_empty()).map(str::to_string));
        }
    }
    versions
}

/// The CamelCase of a snake_case name, as Rails' `camelize` and Elixir's `Macro.camelize` make class and
/// module names of migration file names: each `_`-separated part capitalised, empty parts dropped
/// (`expand_users__x2` → `ExpandUsersX2`).
#[must_use]
pub fn camelize(snake: &str) -> String {
    snake
        .split('_')
        .map(|part| {
            let mut c = part.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// A migration file name's slug made of `[a-z0-9_]` only, starting with a letter (what Rails' migration
/// file pattern and Ruby, Elixir and Rust identifiers accept): other characters become `_`, a leading
/// digit gets `m_` before it.
#[must_use]
pub fn ident_slug(slug: &str) -> String {
    let s: String = slug.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if s.starts_with(|c: char| c.is_ascii_lowercase()) { s } else { format!("m_{s}") }
}

/// The first of `candidates` for which `free` holds (a heredoc terminator or string delimiter that the
/// text does not contain), else `None`.
#[must_use]
pub fn first_free(candidates: impl IntoIterator<Item = String>, free: impl Fn(&str) -> bool) -> Option<String> {
    candidates.into_iter().take(100).find(|c| free(c))
}

/// `name` as a double-quoted string literal (backslash and quote escaped): valid in Ruby, Python,
/// JavaScript, Elixir, Rust and Prisma source.
#[must_use]
pub fn dq(name: &str) -> String {
    serde_json::to_string(name).unwrap_or_else(|_| format!("\"{name}\""))
}

/// `name` as a Ruby or Elixir symbol: `:full_name`, or `:"full name"` when it is not a plain identifier.
#[must_use]
pub fn symbol(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain { format!(":{name}") } else { format!(":{}", dq(name)) }
}

/// Every line of `text` after `prefix`, each ending in a newline; empty lines stay empty (a heredoc body
/// whose indentation Ruby's `<<~` or Elixir's closing delimiter strips again).
#[must_use]
pub fn indented(text: &str, prefix: &str) -> String {
    text.lines().map(|l| if l.is_empty() { "\n".to_string() } else { format!("{prefix}{l}\n") }).collect()
}

/// Ruff's and Black's line length.
const PYTHON_LINE: usize = 88;

/// `f(g(literal))` for the `calls` `["f", "g"]`, at `indent`, laid out as `ruff format` (and Black) lay
/// it out: on one line when it fits in 88 columns; otherwise the outer call opens its own lines, and so
/// does the inner one when its line still does not fit — unless the literal spans lines (a triple-quoted
/// string hugs its call).
#[must_use]
pub fn python_call(indent: &str, calls: &[&str; 2], literal: &str) -> String {
    let [outer, inner] = calls;
    let width = |s: &str| s.chars().count();
    let one = format!("{indent}{outer}({inner}({literal}))");
    if !literal.contains('\n') && width(&one) <= PYTHON_LINE {
        return format!("{one}\n");
    }
    let hugged = format!("{indent}    {inner}({literal})");
    if literal.contains('\n') || width(&hugged) <= PYTHON_LINE {
        return format!("{indent}{outer}(\n{hugged}\n{indent})\n");
    }
    format!("{indent}{outer}(\n{indent}    {inner}(\n{indent}        {literal}\n{indent}    )\n{indent})\n")
}

/// Prettier's default print width.
const JS_LINE: usize = 80;

/// `await callee(literal);` at `indent`, laid out as Prettier (default options) lays it out: on one
/// line when it fits in 80 columns or when the literal is a template spanning lines (it hugs the call);
/// otherwise the literal on its own line with a trailing comma. `callee` has at most one `.`: Prettier
/// breaks longer member chains.
#[must_use]
pub fn js_await(indent: &str, callee: &str, literal: &str) -> String {
    let one = format!("{indent}await {callee}({literal});\n");
    if literal.contains('\n') || one.trim_end().chars().count() <= JS_LINE {
        return one;
    }
    format!("{indent}await {callee}(\n{indent}  {literal},\n{indent});\n")
}

/// `call(literal).await?;` at `indent`, laid out as rustfmt (default options: 100 columns, chains of at
/// most 60) lays it out: on one line when the chain fits in 60; `.await?` on the next line when the call
/// fits in 100; the literal on its own line, then `)` and `.await?`, when each line of the literal fits
/// there. A literal that cannot fit is a statement rustfmt leaves as written: one line.
#[must_use]
pub fn rust_await(indent: &str, call: &str, literal: &str) -> String {
    let width = |s: &str| s.chars().count();
    let one = format!("{indent}{call}({literal}).await?;\n");
    let lines: Vec<&str> = literal.lines().collect();
    if lines.len() <= 1 {
        if width(one.trim()) <= 60 && width(one.trim_end()) <= 100 {
            return one;
        }
        if width(indent) + width(call) + width(literal) + 2 <= 100 {
            return format!("{indent}{call}({literal})\n{indent}    .await?;\n");
        }
    }
    let last = lines.len().saturating_sub(1);
    let fits = lines.iter().enumerate().all(|(i, l)| {
        let prefix = if i == 0 { width(indent) + 4 } else { 0 };
        let suffix = usize::from(i == last);
        prefix + width(l) + suffix <= 100
    });
    if fits { format!("{indent}{call}(\n{indent}    {literal},\n{indent})\n{indent}.await?;\n") } else { one }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_literals_round_trip() {
        for text in ["SELECT 1;", "a\nb 'x' \"q\"", "back\\slash \"\"\" %s :x $1 #{y}", "ends with \"", "tab\tcr\r\u{1}é\u{2028}", ""] {
            let lit = python_literal(text);
            let read = python_literals(&format!("x = {lit}  # c 'not'\n")).unwrap();
            assert_eq!(read, vec![(0, text.to_string())], "{lit}");
        }
        assert_eq!(python_literal("a\nb"), "\"\"\"a\nb\"\"\"");
        assert_eq!(python_literals("r = 'a\\'b'\n'''c\n'''\n").unwrap(), vec![(0, "a'b".to_string()), (1, "c\n".to_string())]);
        assert_eq!(python_literals("x = \"open"), None);
        assert_eq!(lines_at(2, &[(1, "A;".into()), (1, "B".into()), (9, "C -- c".into())]), "\n\n\nA;\nB;\n\n\n\n\n\n\nC -- c\n;\n");
    }

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
        let ts = "export default {\n  out: './x',\n  migrations: {\n    table: 'm',\n    schema: 'public',\n  },\n}";
        assert_eq!(value_in_block(ts, "migrations", "table").as_deref(), Some("m"));
        let json = "{\"devDependencies\": {\"prisma\": \"^5\"}, \"prisma\": {\"schema\": \"db/s.prisma\"}}";
        assert_eq!(value_in_block(json, "\"prisma\"", "schema").as_deref(), Some("db/s.prisma"));
    }

    #[test]
    fn cargo_manifests() {
        let inline = "[package]\nname = \"api\"\n\n[dependencies]\nserde = \"1\"\nsqlx = { version = \"0.8\", features = [\n  \"runtime-tokio\",\n  \"postgres\", # db\n] }\n";
        assert_eq!(cargo_dependency(inline, "sqlx"), Some(vec!["runtime-tokio".to_string(), "postgres".to_string()]));
        assert_eq!(cargo_dependency(inline, "diesel"), None);
        let table = "[dependencies.diesel]\nversion = \"2\"\nfeatures = [\"mysql\"]\n[dev-dependencies]\nrefinery = \"0.8\"\n";
        assert_eq!(cargo_dependency(table, "diesel"), Some(vec!["mysql".to_string()]));
        assert_eq!(cargo_dependency(table, "refinery"), Some(vec![]));
        assert_eq!(cargo_dependency("[package]\nsqlx = 1\n", "sqlx"), None);
        assert_eq!(cargo_dependency("[dependencies]\ndiesel.workspace = true\n", "diesel"), Some(vec![]));
        let ws = "[workspace.dependencies]\nsqlx = { version = \"0.8\", default-features = false, features = [\"sqlite\"] }\n";
        assert_eq!(engine_of_features(&cargo_dependency(ws, "sqlx").unwrap()).as_deref(), Some("sqlite"));
        let both = ["mysql".to_string(), "tokio-postgres".to_string()];
        assert_eq!(engine_of_features(&both).as_deref(), Some("postgresql"));
        assert_eq!(engine_of_features(&["macros".to_string()]), None);
        let toml = "[print_schema]\nfile = \"src/schema.rs\"\n\n[ migrations_directory ]\ndir = \"db/migrations\"\n";
        assert_eq!(toml_table(toml, "migrations_directory").and_then(|t| config_value(t, "dir")).as_deref(), Some("db/migrations"));
        assert_eq!(toml_table(toml, "print_schema").map(str::trim), Some("file = \"src/schema.rs\""));
        assert_eq!(toml_table(toml, "main"), None);
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

    #[test]
    fn versions_dumped_in_schema_dumps() {
        let rails = "SET x = 1;\nINSERT INTO \"schema_migrations\" (version) VALUES\n('20240101000000'),\n('20240102000000');\n\n";
        assert_eq!(dumped_versions(rails), ["20240101000000", "20240102000000"]);
        let ecto = "INSERT INTO public.\"schema_migrations\" (version) VALUES (20240101000000);\nINSERT INTO x VALUES (1);\nINSERT INTO schema_migrations (version) VALUES ('2');";
        assert_eq!(dumped_versions(ecto), ["20240101000000", "2"]);
        assert!(dumped_versions("CREATE TABLE a ();").is_empty());
    }

    #[test]
    fn names_of_code_migrations() {
        assert_eq!(camelize("expand_users__full_name2"), "ExpandUsersFullName2");
        assert_eq!(ident_slug("Add-2fa"), "add_2fa");
        assert_eq!(ident_slug("2fa"), "m_2fa");
        assert_eq!(first_free((0..).map(|i| format!("S{i}")), |c| c != "S0").as_deref(), Some("S1"));
    }

    #[test]
    fn folders_and_ids() {
        let files = ProjectFiles::new(
            ["m/2_b/migration.sql", "m/1_a/migration.sql", "m/1_a/down.sql", "m/x/y/migration.sql", "n/3/migration.sql"]
                .iter()
                .map(|p| ProjectFile { path: (*p).to_string(), contents: String::new() })
                .collect(),
        );
        let names: Vec<&str> = folder_files(&files, "m", "migration.sql").iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["1_a", "2_b"]);
        let id = uuid_from("a");
        assert_eq!(id, uuid_from("a"));
        assert_ne!(id, uuid_from("b"));
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }

    #[test]
    fn javascript_literals_round_trip() {
        assert_eq!(js_template_literal("SELECT '`${x}`' \\ 1;"), "`SELECT '\\`\\${x}\\`' \\\\ 1;`");
        let sql = "SELECT '`${x}`' \\ 1;\r\nSELECT 2;";
        let file = format!(
            "// zdm: step 1\nexports.up = async (k) => {{\n  await k.raw({});\n  await k.raw({});\n}};\nexports.down = (k) => k.raw(`DROP`);\n",
            js_template_literal(sql),
            js_template_literal("SELECT 3;")
        );
        let up = zdm_js_sql(&file, &["exports.up ="], &["exports.down ="]).unwrap();
        assert_eq!(up, format!("\n\n{sql}\nSELECT 3;"));
        assert_eq!(zdm_js_sql("exports.up = (k) => k.raw(`SELECT 1`);", &["exports.up ="], &[]), None, "not zdm's");
    }

    #[test]
    fn javascript_config_paths() {
        assert_eq!(js_path_value("migrations: { directory: './db/migrations' }", "directory").as_deref(), Some("./db/migrations"));
        let rc = "module.exports = {\n  'config': path.resolve('config', 'database.json'),\n  'migrations-path': path.resolve('db', 'migrations'),\n};";
        assert_eq!(js_path_value(rc, "migrations-path").as_deref(), Some("db/migrations"));
        assert_eq!(js_path_value(rc, "config").as_deref(), Some("config/database.json"));
        assert_eq!(js_path_value("directory: path.join(__dirname, \"migrations\")", "directory").as_deref(), Some("migrations"));
        assert_eq!(js_path_value("directory: process.env.DIR", "directory"), None);
    }

    #[test]
    fn npm_manifests_detect_with_migrations_only() {
        let file = |path: &str, contents: &str| ProjectFile { path: path.into(), contents: contents.into() };
        let files = ProjectFiles::new(vec![
            file("a/package.json", r#"{"dependencies": {"knex": "^3"}}"#),
            file("b/package.json", r#"{"dependencies": {"knex-utils": "^1"}}"#),
            file("c/package.json", r#"{"dependencies": {"knex": "^3"}}"#),
        ]);
        let mut found = vec![super::super::Detection::new("knex", "c/migrations", super::super::Confidence::High, "c/knexfile.js")];
        npm_detections(&files, "knex", "knex", "migrations", &mut found, |d| d != "x");
        let dirs: Vec<(&str, super::super::Confidence)> = found.iter().map(|d| (d.dir.as_str(), d.confidence)).collect();
        assert_eq!(dirs, [("c/migrations", super::super::Confidence::High), ("a/migrations", super::super::Confidence::Medium)]);
        assert_eq!(found[1].evidence, "a/package.json depends on knex");
    }
}
