//! Flyway (`V<version>__<description>.sql` in the configured locations, `flyway_schema_history`).
//!
//! Checked in Flyway's source (flyway/flyway, 13.0): versions compare part by part as integers, `_` reads
//! as `.` (`MigrationVersion`); repeatable `R__` files run after every versioned one, ordered by
//! description (`ResolvedMigrationComparator`); Community resolves only the `V`, `R` (and `B` baseline)
//! prefixes (`CoreResourceTypeProvider`, `SqlMigrationResolver`), so an undo `U` file is never run but
//! counts as a badly named file, which fails `migrate` when `validateMigrationNaming=true`: zdm writes
//! rollbacks outside the locations. A script configuration file `<script>.sql.conf` with
//! `executeInTransaction=false` (`SqlScriptMetadata`, in flyway-core, every edition since 6.1) runs a
//! migration outside a transaction; the PostgreSQL parser detects `CREATE/DROP INDEX CONCURRENTLY` itself
//! but not a `DO` block that commits, so zdm writes the file for every non-transactional step.

use super::naming;
use super::{Confidence, DetectError, Detection, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles, parent_dir};
use crate::plan::Plan;
use std::cmp::Ordering;

/// Flyway.
pub(super) struct Flyway;

/// What a Flyway file name says.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// `V<version>__<desc>.sql`.
    Versioned(String),
    /// `B<version>__<desc>.sql` (baseline migration: replaces the versions up to it on an empty database).
    Baseline(String),
    /// `R__<desc>.sql`, with the description.
    Repeatable(String),
    /// `U<version>__<desc>.sql` (paid editions' undo).
    Undo(String),
}

/// The kind of a migration file name, `None` when Flyway would not run it.
fn kind(name: &str) -> Option<Kind> {
    let stem = name.strip_suffix(".sql")?;
    let (prefix, rest) = stem.split_at_checked(1)?;
    let (version, desc) = rest.split_once("__")?;
    let valid_version =
        version.starts_with(|c: char| c.is_ascii_digit()) && version.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '_');
    match prefix {
        "V" if valid_version => Some(Kind::Versioned(version.to_string())),
        "B" if valid_version => Some(Kind::Baseline(version.to_string())),
        "U" if valid_version => Some(Kind::Undo(version.to_string())),
        "R" if version.is_empty() => Some(Kind::Repeatable(desc.replace('_', " "))),
        _ => None,
    }
}

/// A version's parts as Flyway reads them: `_` is `.`, each part an integer, trailing zero parts dropped.
fn parts(version: &str) -> Vec<String> {
    let mut p: Vec<String> = version
        .split(['.', '_'])
        .map(|s| {
            let t = s.trim_start_matches('0');
            if t.is_empty() { "0".to_string() } else { t.to_string() }
        })
        .collect();
    while p.len() > 1 && p.last().is_some_and(|l| l == "0") {
        p.pop();
    }
    p
}

/// Flyway's version order (`1.2` < `1.10`, `1.0` = `1`).
fn cmp_versions(a: &str, b: &str) -> Ordering {
    let (pa, pb) = (parts(a), parts(b));
    for i in 0..pa.len().max(pb.len()) {
        let x = pa.get(i).map_or("0", String::as_str);
        let y = pb.get(i).map_or("0", String::as_str);
        let o = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// The next `count` versions after the highest of `existing`, in its scheme: one part → the next integer
/// (its width kept) or, for a 14-digit timestamp, max(now, latest + 1 s); several parts (`1.2`, `2_10`)
/// → the last part + 1 with the same separators (a minor bump, so nothing is skipped); none yet → `1`.
fn next_versions(existing: &[&str], now: &str, count: usize) -> Vec<String> {
    let Some(max) = existing.iter().copied().max_by(|a, b| cmp_versions(a, b)) else {
        return (1..=count).map(|i| i.to_string()).collect();
    };
    let Some(cut) = max.rfind(['.', '_']) else {
        return naming::next_versions(&[max], now, count);
    };
    let (head, last) = max.split_at(cut + 1);
    naming::next_versions(&[last], now, count).into_iter().map(|l| format!("{head}{l}")).collect()
}

/// Every `.sql` file Flyway would scan in `dir` (locations are scanned recursively).
fn scripts<'a>(files: &'a ProjectFiles, dir: &'a str) -> impl Iterator<Item = (&'a ProjectFile, Kind)> + 'a {
    common::under(files, dir).filter_map(|f| kind(common::file_name(&f.path)).map(|k| (f, k)))
}

/// Whether a file carries another tool's markers (dbmate, goose, Liquibase, refinery).
fn other_tools(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim_start().to_ascii_lowercase();
        t.starts_with("-- migrate:")
            || t.starts_with("-- +goose")
            || t.starts_with("--liquibase formatted")
            || t.starts_with("-- refinery:")
    })
}

/// The directory a location names, relative to the project: `filesystem:sql` against `base`,
/// `classpath:db/migration` (or no prefix, which Flyway reads as classpath) against `base/src/main/resources`.
/// Other schemes (`s3:`, `gcs:`) have no directory here.
fn location_dir(base: &str, location: &str) -> Option<String> {
    let location = location.trim().trim_matches(['"', '\'']);
    if let Some(path) = location.strip_prefix("filesystem:") {
        return common::resolve(base, path.trim_end_matches('/'));
    }
    if location.contains(':') && !location.starts_with("classpath:") {
        return None;
    }
    let path = location.trim_start_matches("classpath:").trim_start_matches('/');
    common::resolve(&common::join(base, "src/main/resources"), path.trim_end_matches('/'))
}

/// Checks a `flyway.conf` is `key=value` lines (comments, blanks and `\` continuations allowed).
fn check_properties(path: &str, text: &str) -> Result<(), DetectError> {
    let mut continued = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        let ok = continued || t.is_empty() || t.starts_with('#') || t.starts_with('!') || t.contains('=') || t.contains(':');
        if !ok {
            return Err(DetectError::in_file(path, format!("line {} is not `key=value`: `{t}`", i + 1)));
        }
        continued = t.ends_with('\\');
    }
    Ok(())
}

/// Checks a `flyway.toml` is TOML-shaped (`[table]`, `key = value`, arrays closed) and reads its
/// `locations` and first `url`.
fn read_toml(path: &str, text: &str) -> Result<(Option<String>, Option<String>), DetectError> {
    let mut depth = 0i32;
    let mut flyway = false;
    let mut locations = String::new();
    let mut in_locations = false;
    let mut url = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.split(" #").next().unwrap_or("").trim();
        if depth == 0 {
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            if t.starts_with('[') {
                if !t.ends_with(']') {
                    return Err(DetectError::in_file(path, format!("line {}: unclosed table header `{t}`", i + 1)));
                }
                flyway = t == "[flyway]";
                continue;
            }
            let Some((k, v)) = t.split_once('=') else {
                return Err(DetectError::in_file(path, format!("line {} is not `key = value`: `{t}`", i + 1)));
            };
            let (k, v) = (k.trim(), v.trim());
            if k == "url" && url.is_none() {
                url = Some(v.trim_matches(['"', '\'']).to_string());
            }
            in_locations = flyway && k == "locations";
            depth += v.matches('[').count() as i32 - v.matches(']').count() as i32;
            if in_locations {
                locations.push_str(v);
            }
        } else {
            depth += t.matches('[').count() as i32 - t.matches(']').count() as i32;
            if in_locations {
                locations.push_str(t);
            }
        }
    }
    if depth != 0 {
        return Err(DetectError::in_file(path, "an array is not closed (missing `]`)"));
    }
    let locations = (!locations.is_empty()).then(|| {
        locations
            .trim_matches(['[', ']'])
            .split(',')
            .map(|l| l.trim().trim_matches(['"', '\'']))
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(",")
    });
    Ok((locations, url))
}

/// The module root of a file under `src/main/resources` (`app/src/main/resources/x.yml` → `app`).
fn module_of(path: &str) -> &str {
    path.find("src/main/resources/").map_or_else(|| parent_dir(path), |i| path[..i].trim_end_matches('/'))
}

fn detections(files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
    let mut found: Vec<Detection> = Vec::new();
    let mut add = |base: &str, locations: &str, confidence: Confidence, evidence: String, engine: Option<String>| {
        for location in locations.split(',').filter(|l| !l.trim().is_empty()) {
            if let Some(dir) = location_dir(base, location) {
                found.push(Detection::new("flyway", dir, confidence, evidence.clone()).with_engine(engine.clone()));
            }
        }
    };
    for conf in common::named(files, "flyway.conf") {
        check_properties(&conf.path, &conf.contents)?;
        let dir = parent_dir(&conf.path);
        // The CLI's own `conf/flyway.conf` resolves locations against the install directory.
        let base = if common::file_name(dir) == "conf" { parent_dir(dir) } else { dir };
        let locations = common::config_value(&conf.contents, "flyway.locations").unwrap_or_else(|| "filesystem:sql".into());
        let engine = common::config_value(&conf.contents, "flyway.url").and_then(|u| super::engine_of_url(&u));
        add(base, &locations, Confidence::High, format!("{} (flyway.locations)", conf.path), engine);
    }
    for toml in common::named(files, "flyway.toml") {
        let (locations, url) = read_toml(&toml.path, &toml.contents)?;
        let engine = url.and_then(|u| super::engine_of_url(&u));
        let locations = locations.unwrap_or_else(|| "filesystem:sql".into());
        add(parent_dir(&toml.path), &locations, Confidence::High, format!("{} ([flyway] locations)", toml.path), engine);
    }
    let spring: Vec<&ProjectFile> = ["application.properties", "application.yml", "application.yaml"]
        .iter()
        .flat_map(|n| common::named(files, n))
        .filter(|f| f.path.contains("src/main/resources/"))
        .collect();
    let engine_in = |module: &str| {
        spring
            .iter()
            .filter(|f| module_of(&f.path) == module)
            .find_map(|f| {
                common::dotted_value(&f.contents, "spring.flyway.url")
                    .or_else(|| common::dotted_value(&f.contents, "spring.datasource.url"))
            })
            .and_then(|u| super::engine_of_url(&u))
    };
    for app in &spring {
        let flyway_keys = app.contents.contains("spring.flyway.")
            || common::dotted_value(&app.contents, "spring.flyway.locations").is_some()
            || common::dotted_value(&app.contents, "spring.flyway.enabled").is_some();
        if !flyway_keys || common::dotted_value(&app.contents, "spring.flyway.enabled").as_deref() == Some("false") {
            continue;
        }
        let module = module_of(&app.path);
        let locations = common::dotted_value(&app.contents, "spring.flyway.locations").unwrap_or_else(|| "classpath:db/migration".into());
        add(module, &locations, Confidence::High, format!("{} (spring.flyway.*)", app.path), engine_in(module));
    }
    for manifest in ["pom.xml", "build.gradle", "build.gradle.kts"] {
        for m in
            common::named(files, manifest).into_iter().filter(|m| m.contents.contains("flyway-core") || m.contents.contains("org.flywaydb"))
        {
            let module = parent_dir(&m.path);
            add(module, "classpath:db/migration", Confidence::Medium, format!("{} (org.flywaydb dependency)", m.path), engine_in(module));
        }
    }
    // Directory shape alone: `V1__x.sql` files (refinery names its files the same way).
    let mut dirs: Vec<&str> = scripts(files, "")
        .filter(|(f, k)| matches!(k, Kind::Versioned(_)) && !other_tools(&f.contents))
        .map(|(f, _)| parent_dir(&f.path))
        .collect();
    dirs.dedup();
    for dir in dirs {
        let shown = if dir.is_empty() { "." } else { dir };
        let d = Detection::new("flyway", dir, Confidence::Low, format!("V<version>__<name>.sql files in {shown}/"));
        found.push(d.with_engine(common::engine_of_dir(dir)));
    }
    // One detection per directory, the strongest; a directory inside a configured location is that location's.
    found.sort_by_key(|d| std::cmp::Reverse(d.confidence));
    let mut out: Vec<Detection> = Vec::new();
    for d in found {
        let covered = out.iter().any(|o| o.dir == d.dir || (d.confidence == Confidence::Low && d.dir.starts_with(&format!("{}/", o.dir))));
        if !covered {
            out.push(d);
        }
    }
    Ok(out)
}

/// The migrations Flyway runs on an empty database, in its order: the newest baseline migration (if any)
/// and the versioned ones after it by version, then repeatables by description. Undo files are skipped.
fn read(files: &ProjectFiles, dir: &str) -> Vec<SourceMigration> {
    let all: Vec<(&ProjectFile, Kind)> = scripts(files, dir).collect();
    let baseline = all
        .iter()
        .filter_map(|(f, k)| if let Kind::Baseline(v) = k { Some((*f, v.as_str())) } else { None })
        .max_by(|a, b| cmp_versions(a.1, b.1));
    let mut versioned: Vec<(&ProjectFile, &str)> = all
        .iter()
        .filter_map(|(f, k)| if let Kind::Versioned(v) = k { Some((*f, v.as_str())) } else { None })
        .filter(|(_, v)| baseline.is_none_or(|(_, b)| cmp_versions(v, b) == Ordering::Greater))
        .collect();
    versioned.sort_by(|a, b| cmp_versions(a.1, b.1).then_with(|| a.0.path.cmp(&b.0.path)));
    let mut repeatable: Vec<(&ProjectFile, &str)> =
        all.iter().filter_map(|(f, k)| if let Kind::Repeatable(d) = k { Some((*f, d.as_str())) } else { None }).collect();
    repeatable.sort_by(|a, b| a.1.cmp(b.1));
    baseline.into_iter().chain(versioned).chain(repeatable).map(|(f, _)| SourceMigration::sql(f.path.clone(), f.contents.clone())).collect()
}

/// Every version in use in the location (versioned, baseline and undo files), new ones must be above.
fn existing_versions(files: &ProjectFiles, dir: &str) -> Vec<String> {
    scripts(files, dir)
        .filter_map(|(_, k)| match k {
            Kind::Versioned(v) | Kind::Baseline(v) | Kind::Undo(v) => Some(v),
            Kind::Repeatable(_) => None,
        })
        .collect()
}

/// Where zdm puts rollback scripts: a `rollback` directory beside the location, so Flyway never scans it.
fn rollback_dir(dir: &str) -> String {
    common::join(parent_dir(dir), "rollback")
}

/// Flyway's placeholder syntax: a script holding it needs `placeholderReplacement=false`.
const PLACEHOLDER: &str = "${";

fn write(plan: &Plan, files: &ProjectFiles, dir: &str, now: &str) -> Result<Written, WriteError> {
    let steps = common::file_steps(plan);
    let existing = existing_versions(files, dir);
    let existing: Vec<&str> = existing.iter().map(String::as_str).collect();
    let versions = next_versions(&existing, now, steps.len());
    let total = plan.steps.len();
    let rollback = rollback_dir(dir);
    let mut out: Vec<(String, Vec<GeneratedFile>)> = Vec::with_capacity(steps.len());
    let mut pending: Vec<GeneratedFile> = Vec::new();
    let mut configured: Vec<String> = Vec::new();
    for (step, version) in steps.iter().zip(versions) {
        let name = format!("V{version}__{}.sql", step.slug);
        let path = common::join(dir, &name);
        common::ensure_free(files, &pending, &path)?;
        let up = step.up.trim_end();
        let mut generated = vec![GeneratedFile::new(path.clone(), format!("{}{up}\n", common::header(step, total)))];
        let mut conf = Vec::new();
        if !step.transaction {
            conf.push("executeInTransaction=false");
        }
        if up.contains(PLACEHOLDER) {
            conf.push("placeholderReplacement=false");
        }
        if !conf.is_empty() {
            let conf_path = format!("{path}.conf");
            common::ensure_free(files, &pending, &conf_path)?;
            configured.push(common::file_name(&conf_path).to_string());
            generated.push(GeneratedFile::new(conf_path, format!("{}\n", conf.join("\n"))));
        }
        let down_path = common::join(&rollback, &format!("U{version}__{}.sql", step.slug));
        common::ensure_free(files, &pending, &down_path)?;
        let single = if step.down_transaction { " --single-transaction" } else { "" };
        let down = format!(
            "{}-- rollback of {name}; Flyway Community does not run undo files: run it by hand,\n\
             -- psql \"$DATABASE_URL\" -v ON_ERROR_STOP=1{single} -f {down_path}\n\
             -- then DELETE FROM flyway_schema_history WHERE version = '{shown}';\n{}\n",
            common::header(step, total),
            step.down.trim_end(),
            shown = version.replace('_', "."),
        );
        generated.push(GeneratedFile::new(down_path, down));
        pending.extend(generated.iter().cloned());
        out.push((path, generated));
    }
    let mut notes = vec![format!("rollbacks: {rollback}/U<version>__*.sql, outside Flyway's locations; run by hand (see each)")];
    if !configured.is_empty() {
        notes.push(format!(
            "{} script config file(s) (.sql.conf, executeInTransaction=false): keep each beside its script",
            configured.len()
        ));
    }
    Ok(common::written(plan, out, notes))
}

impl Tool for Flyway {
    /// `executeInTransaction=false` in the script's `.conf` file runs it outside a transaction.
    fn runs_in_transaction(&self, files: &ProjectFiles, m: &SourceMigration) -> bool {
        !super::file_text(files, &format!("{}.conf", m.path)).replace(' ', "").contains("executeInTransaction=false")
    }
    fn id(&self) -> &'static str {
        "flyway"
    }

    fn default_dir(&self) -> &'static str {
        "src/main/resources/db/migration"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        detections(files)
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        read(files, &detection.dir)
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let dir = &detection.dir;
        let existing = existing_versions(files, dir);
        let existing: Vec<&str> = existing.iter().map(String::as_str).collect();
        let next = next_versions(&existing, now, 1).pop().unwrap_or_default();
        let scheme = match existing.iter().copied().max_by(|a, b| cmp_versions(a, b)) {
            Some(v) if v.contains(['.', '_']) => "<version, last part + 1>",
            Some(v) if v.len() == 14 => "<YYYYMMDDHHMMSS>",
            _ => "<integer>",
        };
        Profile {
            naming: common::join(dir, &format!("V{scheme}__<name>.sql")),
            next_version: next,
            down: format!("undo (`U`) files need a paid edition: zdm writes {}/U<version>__<name>.sql, run by hand", rollback_dir(dir)),
            no_transaction: "`V<version>__<name>.sql.conf` with `executeInTransaction=false` (CREATE INDEX CONCURRENTLY is also detected)"
                .into(),
            history_table: "flyway_schema_history".into(),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        write(plan, files, &detection.dir, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(kind("V1__init.sql"), Some(Kind::Versioned("1".into())));
        assert_eq!(kind("V1_2__a_b.sql"), Some(Kind::Versioned("1_2".into())));
        assert_eq!(kind("R__refresh_views.sql"), Some(Kind::Repeatable("refresh views".into())));
        assert_eq!(kind("U3__x.sql"), Some(Kind::Undo("3".into())));
        assert_eq!(kind("B5__base.sql"), Some(Kind::Baseline("5".into())));
        assert_eq!(kind("V1__x.sql.conf"), None);
        assert_eq!(kind("Vx__x.sql"), None);
        assert_eq!(kind("0001_init.sql"), None);
    }

    #[test]
    fn versions_compare_part_by_part() {
        assert_eq!(cmp_versions("1.2", "1.10"), Ordering::Less);
        assert_eq!(cmp_versions("1_2", "1.2"), Ordering::Equal);
        assert_eq!(cmp_versions("1.0", "1"), Ordering::Equal);
        assert_eq!(cmp_versions("010", "9"), Ordering::Greater);
        assert_eq!(cmp_versions("20250101120000", "3"), Ordering::Greater);
    }

    #[test]
    fn next_versions_continue_the_scheme() {
        assert_eq!(next_versions(&[], "20261125140000", 2), vec!["1", "2"]);
        assert_eq!(next_versions(&["1", "2", "10"], "20261125140000", 2), vec!["11", "12"]);
        assert_eq!(next_versions(&["001", "002"], "20261125140000", 1), vec!["003"]);
        assert_eq!(next_versions(&["1.2", "1.10"], "20261125140000", 2), vec!["1.11", "1.12"]);
        assert_eq!(next_versions(&["2_09"], "20261125140000", 1), vec!["2_10"]);
        assert_eq!(next_versions(&["20250101120000"], "20261125140000", 2), vec!["20261125140000", "20261125140001"]);
    }

    #[test]
    fn locations_and_configs() {
        assert_eq!(location_dir("", "filesystem:sql").as_deref(), Some("sql"));
        assert_eq!(location_dir("app", "classpath:db/migration").as_deref(), Some("app/src/main/resources/db/migration"));
        assert_eq!(location_dir("", "db/migration").as_deref(), Some("src/main/resources/db/migration"));
        assert_eq!(location_dir("", "s3:bucket/x"), None);
        let (loc, url) = read_toml(
            "flyway.toml",
            "[environments.default]\nurl = \"jdbc:postgresql://h/db\"\n\n[flyway]\nlocations = [\n  \"filesystem:migrations\",\n]\n",
        )
        .unwrap();
        assert_eq!((loc.as_deref(), url.as_deref()), (Some("filesystem:migrations"), Some("jdbc:postgresql://h/db")));
        assert!(read_toml("flyway.toml", "[flyway]\nlocations = [\"filesystem:sql\"\n").is_err());
        assert!(check_properties("flyway.conf", "flyway.url=jdbc:postgresql://h/db\nnonsense line\n").is_err());
        assert!(check_properties("flyway.conf", "# c\nflyway.locations=filesystem:a,\\\n  filesystem:b\n").is_ok());
    }

    #[test]
    fn reads_in_flyway_order() {
        let f = |p: &str| ProjectFile { path: p.into(), contents: format!("-- {p}") };
        let files = ProjectFiles::new(vec![
            f("m/R__b.sql"),
            f("m/R__a.sql"),
            f("m/U2__x.sql"),
            f("m/V1_10__x.sql"),
            f("m/V1_2__x.sql"),
            f("m/sub/V3__x.sql"),
        ]);
        let order: Vec<String> = read(&files, "m").into_iter().map(|m| m.path).collect();
        assert_eq!(order, ["m/V1_2__x.sql", "m/V1_10__x.sql", "m/sub/V3__x.sql", "m/R__a.sql", "m/R__b.sql"]);
        let with_baseline = ProjectFiles::new(vec![f("m/V1__a.sql"), f("m/B2__base.sql"), f("m/V2__b.sql"), f("m/V3__c.sql")]);
        let order: Vec<String> = read(&with_baseline, "m").into_iter().map(|m| m.path).collect();
        assert_eq!(order, ["m/B2__base.sql", "m/V3__c.sql"]);
    }
}
