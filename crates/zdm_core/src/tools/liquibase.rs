//! Liquibase with formatted-SQL changelogs (`--liquibase formatted sql`, `--changeset author:id`,
//! `--rollback …`), reached from a master changelog (XML, YAML, JSON or formatted SQL).
//!
//! Checked in Liquibase's source (liquibase/liquibase, `AbstractFormattedChangeLogParser`,
//! `InvalidFormattedSqlPatternsForOssUtil`, `StringUtil.processMultiLineSQL`, `ChangeSet.rollback`) and run
//! with Liquibase 4.28 here: changesets run in include order, then file order; `--include`/`--includeAll`
//! inside a formatted SQL file need a Pro licence, so a formatted-SQL master gets new changesets appended
//! instead; `runInTransaction` governs the forward SQL and the rollback alike; the statement splitter knows
//! no dollar quotes (it counts BEGIN/END), so a statement with an inner `;` needs `splitStatements:false`,
//! and pgjdbc then sends the text as one batch, which PostgreSQL runs as one implicit transaction; a
//! `/* liquibase rollback */` block loses its line breaks, so rollbacks are written as `--rollback` lines.

use super::naming::{next_versions, scheme, version_prefix};
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles, parent_dir};
use crate::plan::Plan;

/// Liquibase (formatted SQL).
pub(super) struct Liquibase;

const MASTER_NAMES: &[&str] = &[
    "db.changelog-master.xml",
    "db.changelog-master.yaml",
    "db.changelog-master.yml",
    "db.changelog-master.json",
    "db.changelog-master.sql",
];

/// A project's Liquibase setup.
#[derive(Clone, Debug)]
struct Setup {
    /// The master changelog, if there is one (standalone formatted-SQL files have none).
    master: Option<String>,
    /// Where include paths that are not relative to their changelog start (the search path / classpath root).
    root: String,
    /// The detection's directory.
    dir: String,
    confidence: Confidence,
    evidence: String,
    engine: Option<String>,
}

/// Whether `text` is a formatted SQL changelog: its first non-blank line is `--liquibase formatted sql`.
fn is_formatted(text: &str) -> bool {
    text.lines().find(|l| !l.trim().is_empty()).is_some_and(|l| {
        let t = l.trim_start().strip_prefix("--").map(|r| r.trim_start().to_ascii_lowercase());
        t.is_some_and(|r| r.starts_with("liquibase") && r["liquibase".len()..].trim_start().starts_with("formatted"))
    })
}

/// The directive word of a formatted-SQL comment line (`--changeset a:b` → `changeset`), lowercase.
fn directive(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix("--")?.trim_start();
    let word: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    (!word.is_empty()).then(|| word.to_ascii_lowercase())
}

/// The forward SQL of a formatted-SQL file, other lines blanked: the header, `--changeset` lines,
/// `--rollback` lines and `/* liquibase rollback */` blocks, `--ignoreLines` ranges, text before the first
/// changeset, and changesets for other databases (`dbms:`) or marked `ignore:true`.
fn up_lines(text: &str) -> String {
    if !is_formatted(text) {
        return text.to_string();
    }
    let mut out: Vec<&str> = Vec::new();
    let mut in_changeset = false;
    let mut skip = false;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let word = directive(line);
        let lower = line.to_ascii_lowercase();
        match word.as_deref() {
            Some("changeset") => {
                in_changeset = true;
                let dbms = lower.split_whitespace().find_map(|w| w.strip_prefix("dbms:")).map(str::to_string);
                skip = dbms.is_some_and(|d| !d.split(',').any(|e| e == "postgresql" || e == "all"))
                    || lower.split_whitespace().any(|w| w == "ignore:true");
                out.push("");
            }
            Some("rollback" | "liquibase" | "comment" | "preconditions" | "validchecksum" | "property") => out.push(""),
            Some(w) if w.starts_with("precondition-") => out.push(""),
            Some("ignorelines") => {
                out.push("");
                let arg = lower.split_once("ignorelines:").map(|(_, a)| a.trim().to_string()).unwrap_or_default();
                if arg == "start" {
                    for l in lines.by_ref() {
                        out.push("");
                        if directive(l).as_deref() == Some("ignorelines") && l.to_ascii_lowercase().contains("end") {
                            break;
                        }
                    }
                } else if let Ok(n) = arg.parse::<usize>() {
                    for _ in 0..n {
                        if lines.next().is_some() {
                            out.push("");
                        }
                    }
                }
            }
            _ if lower.trim_start().starts_with("/*") && lower.trim_start()[2..].trim_start().starts_with("liquibase rollback") => {
                out.push("");
                if !lower.trim_end().ends_with("*/") || lower.trim().len() <= "/* liquibase rollback".len() {
                    for l in lines.by_ref() {
                        out.push("");
                        if l.trim_end().ends_with("*/") {
                            break;
                        }
                    }
                }
            }
            _ => out.push(if in_changeset && !skip { line } else { "" }),
        }
    }
    out.join("\n")
}

/// One entry of a changelog, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Entry {
    /// `include file:` (path as written, relative to the changelog's directory?).
    Include(String, bool),
    /// `includeAll path:`.
    IncludeAll(String, bool),
    /// Changesets written in the changelog's own (XML/YAML/JSON) format.
    Inline,
}

fn truthy(v: Option<&str>) -> bool {
    v.is_some_and(|v| v.trim().trim_matches(['"', '\'']).eq_ignore_ascii_case("true"))
}

/// The value of XML attribute `name` in a tag's text.
fn xml_attr(tag: &str, name: &str) -> Option<String> {
    let mut from = 0;
    while let Some(i) = tag[from..].find(name).map(|i| from + i) {
        from = i + name.len();
        let before = tag[..i].chars().next_back();
        let rest = tag[from..].trim_start();
        if before.is_some_and(char::is_whitespace)
            && let Some(rest) = rest.strip_prefix('=')
        {
            let rest = rest.trim_start();
            let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            return rest[1..].find(q).map(|e| rest[1..1 + e].to_string());
        }
    }
    None
}

fn xml_entries(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |e| &after[e + 3..]);
            continue;
        }
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        let name: String = tag[1..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == ':').collect();
        let relative = truthy(xml_attr(tag, "relativeToChangelogFile").as_deref());
        match name.rsplit(':').next().unwrap_or("") {
            "include" => out.extend(xml_attr(tag, "file").map(|f| Entry::Include(f, relative))),
            "includeAll" => out.extend(xml_attr(tag, "path").map(|p| Entry::IncludeAll(p, relative))),
            "changeSet" => out.push(Entry::Inline),
            _ => {}
        }
        rest = &rest[end.min(rest.len())..];
        rest = rest.get(1..).unwrap_or("");
    }
    out
}

fn yaml_entries(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start().trim_start_matches("- ").trim_start();
        let (key, inline) = match t.split_once(':') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => continue,
        };
        if !matches!(key, "include" | "includeAll" | "changeSet") {
            continue;
        }
        if key == "changeSet" {
            out.push(Entry::Inline);
            continue;
        }
        // The entry's keys: on this line (`include: {file: x}`) or the more-indented lines below it.
        let indent = line.len() - line.trim_start().len();
        let mut body = inline.trim_matches(['{', '}']).replace(',', "\n");
        for l in &lines[i + 1..] {
            if l.trim().is_empty() || l.trim_start().starts_with('#') {
                continue;
            }
            if l.len() - l.trim_start().len() <= indent || l.trim_start().starts_with("- ") {
                break;
            }
            body.push('\n');
            body.push_str(l);
        }
        let value = |k: &str| common::dotted_value(&body.lines().map(str::trim).collect::<Vec<_>>().join("\n"), k);
        let relative = truthy(value("relativeToChangelogFile").as_deref());
        match key {
            "include" => out.extend(value("file").map(|f| Entry::Include(f, relative))),
            _ => out.extend(value("path").map(|p| Entry::IncludeAll(p, relative))),
        }
    }
    out
}

fn json_entries(path: &str, text: &str) -> Result<Vec<Entry>, DetectError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| DetectError::in_file(path, format!("not valid JSON: {e}")))?;
    let list = v.get("databaseChangeLog").and_then(|l| l.as_array()).cloned().unwrap_or_default();
    let s = |o: &serde_json::Value, k: &str| o.get(k).and_then(|x| x.as_str().map(str::to_string));
    let rel = |o: &serde_json::Value| {
        o.get("relativeToChangelogFile").is_some_and(|r| r.as_bool() == Some(true) || r.as_str().is_some_and(|s| s == "true"))
    };
    Ok(list
        .iter()
        .filter_map(|e| {
            if let Some(i) = e.get("include") {
                s(i, "file").map(|f| Entry::Include(f, rel(i)))
            } else if let Some(i) = e.get("includeAll") {
                s(i, "path").map(|p| Entry::IncludeAll(p, rel(i)))
            } else {
                e.get("changeSet").map(|_| Entry::Inline)
            }
        })
        .collect())
}

/// A changelog's entries by its format (`None`: a formatted SQL file, which holds its own changesets).
fn entries(path: &str, text: &str) -> Result<Option<Vec<Entry>>, DetectError> {
    let lower = path.to_ascii_lowercase();
    Ok(if lower.ends_with(".xml") {
        Some(xml_entries(text))
    } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        Some(yaml_entries(text))
    } else if lower.ends_with(".json") {
        Some(json_entries(path, text)?)
    } else {
        None
    })
}

/// The project path an include names: relative to the changelog's directory, or to the search root
/// (then the changelog's directory, then the project root, the first that exists).
fn locate(files: &ProjectFiles, setup: &Setup, changelog: &str, path: &str, relative: bool, is_dir: bool) -> Option<String> {
    let path = path.trim().trim_start_matches("classpath:").trim_start_matches("classpath*:");
    let exists = |p: &str| if is_dir { common::under(files, p).next().is_some() } else { files.exists(p) };
    let dir = parent_dir(changelog);
    let bases: Vec<&str> = if relative { vec![dir] } else { vec![setup.root.as_str(), dir, ""] };
    let candidates: Vec<String> =
        bases.iter().filter_map(|b| common::resolve(b, path.trim_start_matches('/').trim_end_matches('/'))).collect();
    candidates.iter().find(|c| exists(c)).cloned().or_else(|| candidates.first().cloned())
}

/// What the master changelog runs, in order: formatted-SQL (or plain SQL) files with their contents, and
/// what zdm cannot read.
fn walk(files: &ProjectFiles, setup: &Setup, changelog: &str, depth: usize, out: &mut Vec<SourceMigration>, seen: &mut Vec<String>) {
    if depth > 16 || seen.iter().any(|s| s == changelog) {
        return;
    }
    seen.push(changelog.to_string());
    let Some(file) = files.files.iter().find(|f| f.path == changelog) else {
        out.push(SourceMigration::unread(changelog, "a Liquibase changelog zdm could not read"));
        return;
    };
    let Ok(Some(list)) = entries(&file.path, &file.contents) else {
        if file.path.ends_with(".sql") {
            out.push(SourceMigration::sql(file.path.clone(), up_lines(&file.contents)));
        } else {
            out.push(SourceMigration::unread(changelog, "a Liquibase changelog zdm could not read"));
        }
        return;
    };
    for entry in list {
        match entry {
            Entry::Include(path, relative) => {
                if let Some(p) = locate(files, setup, changelog, &path, relative, false) {
                    walk(files, setup, &p, depth + 1, out, seen);
                }
            }
            Entry::IncludeAll(path, relative) => {
                let Some(dir) = locate(files, setup, changelog, &path, relative, true) else { continue };
                let mut found: Vec<&ProjectFile> = common::under(files, &dir).filter(|f| is_changelog_file(&f.path)).collect();
                found.sort_by(|a, b| a.path.cmp(&b.path));
                for f in found {
                    walk(files, setup, &f.path, depth + 1, out, seen);
                }
            }
            Entry::Inline => {
                if !out.iter().any(|m| m.path == changelog) {
                    out.push(SourceMigration::unread(changelog, "Liquibase changesets written as XML/YAML/JSON"));
                }
            }
        }
    }
}

fn is_changelog_file(path: &str) -> bool {
    let l = path.to_ascii_lowercase();
    [".sql", ".xml", ".yaml", ".yml", ".json"].iter().any(|e| l.ends_with(e))
}

/// The module root of a file under `src/main/resources` and that classpath root.
fn classpath_root(path: &str) -> Option<String> {
    path.find("src/main/resources/").map(|i| path[..i + "src/main/resources".len()].to_string())
}

fn setups(files: &ProjectFiles) -> Result<Vec<Setup>, DetectError> {
    let mut found: Vec<Setup> = Vec::new();
    let master_setup = |master: &str, root: String, confidence, evidence: String, engine| Setup {
        master: Some(master.to_string()),
        root,
        dir: parent_dir(master).to_string(),
        confidence,
        evidence,
        engine,
    };
    for props in common::named(files, "liquibase.properties") {
        let base = parent_dir(&props.path);
        let engine = common::config_value(&props.contents, "url").and_then(|u| super::engine_of_url(&u));
        let changelog = ["changeLogFile", "changelog-file", "liquibase.command.changelogFile", "changelogFile"]
            .iter()
            .find_map(|k| common::config_value(&props.contents, k));
        let Some(changelog) = changelog else { continue };
        let search = common::config_value(&props.contents, "searchPath").or_else(|| common::config_value(&props.contents, "search-path"));
        let roots: Vec<String> = search
            .iter()
            .flat_map(|s| s.split(',').filter_map(|p| common::resolve(base, p.trim())).collect::<Vec<_>>())
            .chain([base.to_string(), common::join(base, "src/main/resources")])
            .collect();
        let name = changelog.trim_start_matches("classpath:").trim_start_matches('/');
        let Some((root, master)) = roots.iter().find_map(|r| common::resolve(r, name).filter(|m| files.exists(m)).map(|m| (r.clone(), m)))
        else {
            return Err(DetectError::in_file(&props.path, format!("changeLogFile `{changelog}` is not in the project")));
        };
        let evidence = format!("{} (changeLogFile {master})", props.path);
        found.push(master_setup(&master, root, Confidence::High, evidence, engine));
    }
    for app in ["application.properties", "application.yml", "application.yaml"].iter().flat_map(|n| common::named(files, n)) {
        let Some(root) = classpath_root(&app.path) else { continue };
        let configured = common::dotted_value(&app.contents, "spring.liquibase.change-log");
        if common::dotted_value(&app.contents, "spring.liquibase.enabled").as_deref() == Some("false") {
            continue;
        }
        let log = configured.clone().unwrap_or_else(|| "classpath:/db/changelog/db.changelog-master.yaml".into());
        let Some(master) = common::resolve(&root, log.trim_start_matches("classpath:").trim_start_matches('/')) else { continue };
        if !files.exists(&master) {
            if configured.is_some() {
                return Err(DetectError::in_file(&app.path, format!("spring.liquibase.change-log `{log}` is not in the project")));
            }
            continue;
        }
        let engine = common::dotted_value(&app.contents, "spring.liquibase.url")
            .or_else(|| common::dotted_value(&app.contents, "spring.datasource.url"))
            .and_then(|u| super::engine_of_url(&u));
        let confidence = if configured.is_some() { Confidence::High } else { Confidence::Medium };
        found.push(master_setup(&master, root, confidence, format!("{} (spring.liquibase)", app.path), engine));
    }
    for name in MASTER_NAMES {
        for m in common::named(files, name) {
            let root = classpath_root(&m.path).unwrap_or_else(|| parent_dir(&m.path).to_string());
            found.push(master_setup(&m.path, root, Confidence::Medium, format!("master changelog {}", m.path), None));
        }
    }
    // Every master's files, to leave out of the standalone formatted-SQL directories below.
    let mut reached: Vec<String> = Vec::new();
    for s in &found {
        let mut out = Vec::new();
        walk(files, s, s.master.as_deref().unwrap_or_default(), 0, &mut out, &mut Vec::new());
        reached.extend(out.into_iter().map(|m| m.path));
    }
    let mut dirs: Vec<&str> = files
        .files
        .iter()
        .filter(|f| f.path.ends_with(".sql") && !reached.contains(&f.path) && is_formatted(&f.contents))
        .map(|f| parent_dir(&f.path))
        .collect();
    dirs.dedup();
    for dir in dirs {
        let shown = if dir.is_empty() { "." } else { dir };
        found.push(Setup {
            master: None,
            root: dir.to_string(),
            dir: dir.to_string(),
            confidence: Confidence::Medium,
            evidence: format!("{shown}/*.sql starting with `--liquibase formatted sql`, in no master changelog"),
            engine: common::engine_of_dir(dir),
        });
    }
    // One setup per directory, strongest first (a config file beats the master's name alone).
    found.sort_by_key(|d| std::cmp::Reverse(d.confidence));
    let mut out: Vec<Setup> = Vec::new();
    for s in found {
        if !out.iter().any(|o| o.dir == s.dir) {
            out.push(s);
        }
    }
    Ok(out)
}

fn setup_for(files: &ProjectFiles, detection: &Detection) -> Setup {
    setups(files).ok().and_then(|all| all.into_iter().find(|s| s.dir == detection.dir)).unwrap_or_else(|| Setup {
        master: None,
        root: detection.dir.clone(),
        dir: detection.dir.clone(),
        confidence: Confidence::Low,
        evidence: String::new(),
        engine: None,
    })
}

fn read(files: &ProjectFiles, setup: &Setup) -> Vec<SourceMigration> {
    let mut out = Vec::new();
    match &setup.master {
        Some(master) => walk(files, setup, master, 0, &mut out, &mut Vec::new()),
        None => {
            let mut found: Vec<&ProjectFile> =
                files.in_dir(&setup.dir).filter(|f| f.path.ends_with(".sql") && is_formatted(&f.contents)).collect();
            found.sort_by(|a, b| a.path.cmp(&b.path));
            out.extend(found.into_iter().map(|f| SourceMigration::sql(f.path.clone(), up_lines(&f.contents))));
        }
    }
    out
}

/// Where new changesets go and how the master learns of them.
enum Target {
    /// New files in `dir`; the master lists them with explicit includes (`relative`: relative to it).
    Include { dir: String, relative: bool },
    /// New files in `dir`, which an `includeAll` (or nothing, for standalone files) picks up.
    Directory(String),
    /// Changesets appended to a formatted-SQL master (includes are a Pro feature there).
    Append(String),
}

fn target(files: &ProjectFiles, setup: &Setup) -> Target {
    let Some(master) = &setup.master else { return Target::Directory(setup.dir.clone()) };
    let Some(file) = files.files.iter().find(|f| &f.path == master) else { return Target::Directory(setup.dir.clone()) };
    let Ok(Some(list)) = entries(&file.path, &file.contents) else { return Target::Append(master.clone()) };
    if let Some(Entry::IncludeAll(path, relative)) = list.iter().rev().find(|e| matches!(e, Entry::IncludeAll(..))) {
        return Target::Directory(locate(files, setup, master, path, *relative, true).unwrap_or_else(|| setup.dir.clone()));
    }
    let last_sql = list.iter().rev().find_map(|e| match e {
        Entry::Include(p, r) if p.ends_with(".sql") => locate(files, setup, master, p, *r, false).map(|l| (l, *r)),
        _ => None,
    });
    match last_sql {
        Some((path, relative)) => Target::Include { dir: parent_dir(&path).to_string(), relative },
        None => Target::Include { dir: common::join(&setup.dir, "changes"), relative: true },
    }
}

/// A line Liquibase's formatted-SQL parser would read as one of its own (`--changeset`, `--rollback`, …).
fn is_marker(line: &str) -> bool {
    let t = line.trim_start();
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("/*") && lower[2..].trim_start().starts_with("liquibase") {
        return true;
    }
    let Some(rest) = lower.strip_prefix('-') else { return false };
    let rest = rest.trim_start_matches('-').trim_start();
    [
        "changeset",
        "rollback",
        "comment",
        "preconditions",
        "precondition",
        "validchecksum",
        "ignorelines",
        "ignore:",
        "liquibase",
        "property",
        "include",
        "tagdatabase",
    ]
    .iter()
    .any(|w| rest.starts_with(w))
}

fn write(plan: &Plan, files: &ProjectFiles, setup: &Setup, now: &str) -> Result<Written, WriteError> {
    let steps = common::file_steps(plan);
    let total = plan.steps.len();
    let target = target(files, setup);
    let dir = match &target {
        Target::Include { dir, .. } | Target::Directory(dir) => dir.clone(),
        Target::Append(master) => parent_dir(master).to_string(),
    };
    let names: Vec<&str> = files.in_dir(&dir).filter(|f| f.path.ends_with(".sql")).map(|f| common::file_name(&f.path)).collect();
    let numbered: Vec<(&str, char)> = names.iter().filter_map(|n| version_prefix(n)).collect();
    let existing: Vec<&str> = numbered.iter().map(|(v, _)| *v).collect();
    let sep = numbered.last().map_or('-', |(_, s)| *s);
    let versions = next_versions(&existing, now, steps.len());
    let mut changesets: Vec<String> = Vec::new();
    for (step, version) in steps.iter().zip(&versions) {
        changesets.push(changeset(step, total, &format!("{version}-{}", step.slug))?);
    }
    let mut out: Vec<(String, Vec<GeneratedFile>)> = Vec::new();
    let mut notes = Vec::new();
    if let Target::Append(master) = &target {
        let old = files.files.iter().find(|f| &f.path == master).map(|f| f.contents.clone()).unwrap_or_default();
        let mut new = old.clone();
        if !new.ends_with('\n') {
            new.push('\n');
        }
        for c in &changesets {
            new.push('\n');
            new.push_str(c);
        }
        let update = GeneratedFile::update(master.clone(), old, new);
        out.extend(steps.iter().enumerate().map(|(i, _)| (master.clone(), if i == 0 { vec![update.clone()] } else { Vec::new() })));
        notes.push(format!("{master}: changesets appended (formatted-SQL includes need Liquibase Pro)"));
        return Ok(common::written(plan, out, notes));
    }
    let mut paths = Vec::new();
    for ((step, version), body) in steps.iter().zip(&versions).zip(changesets) {
        let path = common::join(&dir, &format!("{version}{sep}{}.sql", step.slug));
        common::ensure_free(files, &[], &path)?;
        paths.push(path.clone());
        out.push((path.clone(), vec![GeneratedFile::new(path, format!("--liquibase formatted sql\n\n{body}"))]));
    }
    match (&target, &setup.master) {
        (Target::Include { relative, .. }, Some(master)) => {
            let file = files.files.iter().find(|f| &f.path == master).map(|f| f.contents.clone()).unwrap_or_default();
            let shown: Vec<String> = paths
                .iter()
                .map(|p| {
                    let base = if *relative { parent_dir(master) } else { setup.root.as_str() };
                    p.strip_prefix(&format!("{base}/")).filter(|_| !base.is_empty()).unwrap_or(p).to_string()
                })
                .collect();
            let new = add_includes(master, &file, &shown, *relative).map_err(|e| WriteError { message: format!("{master}: {e}") })?;
            if let Some(last) = out.last_mut() {
                last.1.push(GeneratedFile::update(master.clone(), file, new));
            }
            notes.push(format!("{master}: includes added for the new files"));
        }
        (Target::Directory(_), None) => {
            notes.push("no master changelog found: include the new files in yours".to_string());
        }
        _ => {}
    }
    notes.push("roll back a step with `liquibase rollback-count 1` (newest first)".to_string());
    Ok(common::written(plan, out, notes))
}

/// One changeset for a step: its forward SQL and `--rollback` lines. A step whose forward or rollback
/// SQL must run outside a transaction gets `runInTransaction:false` (it governs both); the other side is
/// then sent unsplit, as one implicit transaction.
fn changeset(step: &crate::plan::Step, total: usize, id: &str) -> Result<String, WriteError> {
    let guard = |sql: &str| -> Result<String, WriteError> {
        let text = crate::sql::guard_line_starts(sql.trim_end(), is_marker).map_err(|e| common::step_error(step, e))?;
        match text.lines().find(|l| is_marker(l)) {
            Some(l) => Err(common::step_error(step, format!("a line reads as a Liquibase directive: `{}`", l.trim()))),
            None => Ok(text),
        }
    };
    let (up, down) = (guard(&step.up)?, guard(&step.down)?);
    let in_transaction = step.transaction && step.down_transaction;
    let unsplit = |sql: &str| !in_transaction || common::statements(sql).iter().any(|s| common::has_inner_semicolon(s));
    let mut attrs = String::new();
    if !in_transaction {
        attrs.push_str(" runInTransaction:false");
    }
    if unsplit(&up) {
        attrs.push_str(" splitStatements:false");
    }
    if unsplit(&down) {
        attrs.push_str(" rollbackSplitStatements:false");
    }
    let mut text = format!("--changeset zdm:{id}{attrs}\n{}", common::header(step, total));
    if step.transaction != step.down_transaction {
        let side = if step.transaction { "forward" } else { "rollback" };
        text.push_str(&format!(
            "-- runInTransaction:false is for the other direction; the {side} statements go unsplit, as one implicit transaction\n"
        ));
    }
    text.push_str(&up);
    text.push('\n');
    for line in down.lines().filter(|l| !l.trim().is_empty()) {
        text.push_str("--rollback ");
        text.push_str(line);
        text.push('\n');
    }
    Ok(text)
}

/// The master changelog with `paths` included at its end, in its own format.
fn add_includes(master: &str, text: &str, paths: &[String], relative: bool) -> Result<String, String> {
    let lower = master.to_ascii_lowercase();
    if lower.ends_with(".xml") {
        let at = text.rfind("</databaseChangeLog>").ok_or("no `</databaseChangeLog>` to add includes before")?;
        let indent = text[..at]
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with("<include"))
            .map_or("    ", |l| &l[..l.len() - l.trim_start().len()]);
        let rel = if relative { " relativeToChangelogFile=\"true\"" } else { "" };
        let lines: String = paths.iter().map(|p| format!("{indent}<include file=\"{p}\"{rel}/>\n")).collect();
        let head = text[..at].trim_end_matches([' ', '\t']);
        let head = if head.ends_with('\n') { head.to_string() } else { format!("{head}\n") };
        return Ok(format!("{head}{lines}{}", &text[at..]));
    }
    if lower.ends_with(".json") {
        let close = text.rfind(']').ok_or("no `]` closing databaseChangeLog")?;
        let head = text[..close].trim_end();
        let comma = if head.ends_with('[') { "" } else { "," };
        let items: Vec<String> = paths
            .iter()
            .map(|p| {
                let rel = if relative { ", \"relativeToChangelogFile\": true" } else { "" };
                format!("    {{ \"include\": {{ \"file\": {}{rel} }} }}", serde_json::Value::String(p.clone()))
            })
            .collect();
        return Ok(format!("{head}{comma}\n{}\n  {}", items.join(",\n"), &text[close..]));
    }
    // YAML: entries as the existing ones are indented.
    let item = text.lines().rev().find(|l| l.trim_start().starts_with("- include") || l.trim_start().starts_with("- includeAll"));
    let indent = item.map_or("  ", |l| &l[..l.len() - l.trim_start().len()]);
    let mut out = text.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    for p in paths {
        out.push_str(&format!("{indent}- include:\n{indent}    file: {p}\n"));
        if relative {
            out.push_str(&format!("{indent}    relativeToChangelogFile: true\n"));
        }
    }
    Ok(out)
}

impl Tool for Liquibase {
    /// `runInTransaction:false` on the changeset runs it outside a transaction.
    fn runs_in_transaction(&self, files: &ProjectFiles, m: &SourceMigration) -> bool {
        !super::file_text(files, &m.path).replace(' ', "").contains("runInTransaction:false")
    }
    fn id(&self) -> &'static str {
        "liquibase"
    }

    fn default_dir(&self) -> &'static str {
        "src/main/resources/db/changelog"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        Ok(setups(files)?.into_iter().map(|s| Detection::new("liquibase", s.dir, s.confidence, s.evidence).with_engine(s.engine)).collect())
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        read(files, &setup_for(files, detection))
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let setup = setup_for(files, detection);
        let (dir, naming) = match target(files, &setup) {
            Target::Append(master) => (parent_dir(&master).to_string(), format!("{master} (changesets appended)")),
            Target::Include { dir, .. } | Target::Directory(dir) => (dir.clone(), String::new()),
        };
        let sep = files.in_dir(&dir).filter_map(|f| version_prefix(common::file_name(&f.path)).map(|(_, s)| s)).last().unwrap_or('-');
        let existing: Vec<&str> = files
            .in_dir(&dir)
            .filter_map(|f| version_prefix(common::file_name(&f.path)).filter(|_| f.path.ends_with(".sql")).map(|(v, _)| v))
            .collect();
        let next = next_versions(&existing, now, 1).pop().unwrap_or_default();
        let shape = match scheme(&existing) {
            super::naming::Scheme::Timestamp => "<YYYYMMDDHHMMSS>".to_string(),
            super::naming::Scheme::Sequence(w) => format!("<{w}-digit sequence>"),
        };
        Profile {
            naming: if naming.is_empty() {
                common::join(&dir, &format!("{shape}{sep}<name>.sql (changeset zdm:<version>-<name>)"))
            } else {
                naming
            },
            next_version: next,
            down: "`--rollback` lines in each changeset (`liquibase rollback-count 1`)".into(),
            no_transaction: "`--changeset … runInTransaction:false` (one statement per such changeset)".into(),
            history_table: "databasechangelog (+ databasechangeloglock)".into(),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        write(plan, files, &setup_for(files, detection), now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatted_sql_up_lines() {
        let text = "--liquibase formatted sql\n\n--changeset a:1\nCREATE TABLE t (id int);\n--rollback DROP TABLE t;\n\
                    --changeset a:2 dbms:mysql\nCREATE TABLE m (id int);\n--changeset a:3\n--comment: x\nALTER TABLE t ADD b int;\n\
                    /* liquibase rollback\nALTER TABLE t DROP b;\n*/\n--ignoreLines:start\nSELECT 1;\n--ignoreLines:end\n";
        let up = up_lines(text);
        assert_eq!(up.split('\n').count(), text.lines().count());
        let sql: Vec<&str> = up.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(sql, ["CREATE TABLE t (id int);", "ALTER TABLE t ADD b int;"]);
        assert_eq!(up_lines("CREATE TABLE x (id int);"), "CREATE TABLE x (id int);");
        assert!(is_formatted("\n-- liquibase formatted sql\n") && !is_formatted("-- a comment\n--liquibase formatted sql"));
    }

    #[test]
    fn changelog_entries() {
        let xml = "<databaseChangeLog>\n  <!-- <include file=\"old.sql\"/> -->\n  <include file=\"changes/1.sql\" relativeToChangelogFile=\"true\"/>\n  <includeAll path=\"db/more/\"/>\n  <changeSet id=\"1\" author=\"a\"/>\n</databaseChangeLog>\n";
        assert_eq!(
            xml_entries(xml),
            [Entry::Include("changes/1.sql".into(), true), Entry::IncludeAll("db/more/".into(), false), Entry::Inline]
        );
        let yaml = "databaseChangeLog:\n  - include:\n      file: db/changelog/changes/001.sql\n  - include: { file: 002.sql, relativeToChangelogFile: true }\n  - includeAll:\n      path: db/more\n";
        assert_eq!(
            yaml_entries(yaml),
            [
                Entry::Include("db/changelog/changes/001.sql".into(), false),
                Entry::Include("002.sql".into(), true),
                Entry::IncludeAll("db/more".into(), false)
            ]
        );
        let json = "{\"databaseChangeLog\": [{\"include\": {\"file\": \"a.sql\", \"relativeToChangelogFile\": true}}]}";
        assert_eq!(json_entries("m.json", json).unwrap(), [Entry::Include("a.sql".into(), true)]);
        assert!(json_entries("m.json", "{").is_err());
    }

    #[test]
    fn includes_are_added_in_the_masters_format() {
        let xml = "<databaseChangeLog>\n    <include file=\"changes/1.sql\" relativeToChangelogFile=\"true\"/>\n</databaseChangeLog>\n";
        let new = add_includes("m.xml", xml, &["changes/2.sql".into()], true).unwrap();
        assert!(new.contains("    <include file=\"changes/1.sql\" relativeToChangelogFile=\"true\"/>\n    <include file=\"changes/2.sql\" relativeToChangelogFile=\"true\"/>\n</databaseChangeLog>"), "{new}");
        let yaml = "databaseChangeLog:\n  - include:\n      file: db/changelog/changes/001.sql\n";
        assert_eq!(
            add_includes("m.yaml", yaml, &["db/changelog/changes/002.sql".into()], false).unwrap(),
            "databaseChangeLog:\n  - include:\n      file: db/changelog/changes/001.sql\n  - include:\n      file: db/changelog/changes/002.sql\n"
        );
        let json = "{\n  \"databaseChangeLog\": [\n    {\"include\": {\"file\": \"a.sql\"}}\n  ]\n}\n";
        let new = add_includes("m.json", json, &["b.sql".into()], false).unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(&new).is_ok(), "{new}");
        assert_eq!(json_entries("m.json", &new).unwrap().len(), 2);
    }

    #[test]
    fn markers() {
        for l in ["--rollback x", "  -- changeset a:b", "--comment: x", "/* liquibase rollback", "-changeset x"] {
            assert!(is_marker(l), "{l}");
        }
        for l in ["-- zdm: step 1 of 2", "SELECT 1;", "-- lock: none"] {
            assert!(!is_marker(l), "{l}");
        }
    }
}
