//! Alembic (SQLAlchemy): `alembic.ini` names the script directory (`[alembic] script_location`, `%(here)s`
//! is the ini's directory; Flask-Migrate's `migrations/alembic.ini` has none and is the directory itself);
//! revisions are Python modules in `<script_location>/versions/` chained by `revision` / `down_revision`
//! (a tuple is a merge), named by `file_template` (default `%%(rev)s_%%(slug)s`, alembic
//! `script/base.py` `_rev_path`). The engine is the `sqlalchemy.url` scheme (or a URL literal in `env.py`).
//!
//! zdm writes one revision per step, `down_revision` the current head (several heads: refused), each
//! statement its own `op.execute(sa.DDL(…))` — a `DDL` element is not scanned for `:name` bind parameters
//! as `text()` is; its `%` must be doubled (`visit_ddl` formats the statement with `%`). A step outside a
//! transaction runs inside `with op.get_context().autocommit_block():`. Revisions whose `upgrade()` only
//! runs SQL literals (zdm's own, hand-written SQL revisions) are read; others are code zdm does not read.

use super::{Confidence, DetectError, Detection, OfflineCommand, Profile, SourceMigration, Tool, WriteError, Written, common};
use crate::model::{GeneratedFile, ProjectFile, ProjectFiles};
use crate::plan::{CodeChange, Plan, Step};

/// Alembic.
pub(super) struct Alembic;

const DEFAULT_TEMPLATE: &str = "%(rev)s_%(slug)s";

/// What an `alembic.ini` says.
struct Ini<'a> {
    file: &'a ProjectFile,
    /// The versions directory.
    versions: String,
    file_template: String,
    engine: Option<String>,
    flask: bool,
}

/// A configparser value: `%%` is `%`, `%(here)s` the ini's directory.
fn ini_value(section: &str, key: &str) -> Option<String> {
    common::config_value(section, key).map(|v| v.replace("%%", "%"))
}

fn here(ini_dir: &str, value: &str) -> Option<String> {
    match value.strip_prefix("%(here)s") {
        Some(rest) => common::resolve(ini_dir, rest.trim_start_matches('/')),
        None => common::resolve(ini_dir, value),
    }
}

fn parse_ini<'a>(files: &'a ProjectFiles, file: &'a ProjectFile) -> Result<Ini<'a>, DetectError> {
    let dir = crate::model::parent_dir(&file.path);
    let Some(section) = common::toml_table(&file.contents, "alembic") else {
        return Err(DetectError::in_file(&file.path, "no [alembic] section"));
    };
    let has =
        |p: &str| files.files.iter().any(|f| f.path.starts_with(&format!("{}/", common::join(dir, p))) || f.path == common::join(dir, p));
    let (script, flask) = match ini_value(section, "script_location") {
        Some(s) => (
            here(dir, &s).ok_or_else(|| DetectError::in_file(&file.path, format!("script_location {s} points outside the project")))?,
            false,
        ),
        // Flask-Migrate keeps alembic.ini inside the script directory and sets the location itself.
        None if has("env.py") || has("versions") => (dir.to_string(), true),
        None => return Err(DetectError::in_file(&file.path, "[alembic] has no script_location")),
    };
    let versions = match ini_value(section, "version_locations") {
        Some(v) => {
            let first = v.split([' ', ',', ';', ':']).find(|p| !p.is_empty() && *p != "%(here)s").unwrap_or("").to_string();
            here(dir, &first)
                .ok_or_else(|| DetectError::in_file(&file.path, format!("version_locations {v} points outside the project")))?
        }
        None => common::join(&script, "versions"),
    };
    let engine = ini_value(section, "sqlalchemy.url").and_then(|u| super::engine_of_url(&u)).or_else(|| {
        let env = files.files.iter().find(|f| f.path == common::join(&script, "env.py"))?;
        env.contents.split(['"', '\'']).filter(|t| t.contains("://")).find_map(super::engine_of_url)
    });
    let file_template = ini_value(section, "file_template").unwrap_or_else(|| DEFAULT_TEMPLATE.to_string());
    Ok(Ini { file, versions, file_template, engine, flask })
}

fn inis(files: &ProjectFiles) -> Result<Vec<Ini<'_>>, DetectError> {
    common::named(files, "alembic.ini").into_iter().map(|f| parse_ini(files, f)).collect()
}

/// One revision file: its id and the ids it revises.
struct Revision<'a> {
    file: &'a ProjectFile,
    id: String,
    down: Vec<String>,
}

/// The right-hand side of a module-level assignment `name = …` or `name: Type = …`.
fn assignment<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?;
        let rest = if let Some(typed) = rest.strip_prefix(':') { &typed[typed.find('=')?..] } else { rest.trim_start() };
        rest.strip_prefix('=').filter(|r| !r.starts_with('=')).map(str::trim)
    })
}

fn revisions<'a>(files: &'a ProjectFiles, dir: &'a str) -> Vec<Revision<'a>> {
    files
        .in_dir(dir)
        .filter(|f| f.path.ends_with(".py") && !f.path.ends_with("__init__.py"))
        .filter_map(|f| {
            let id = assignment(&f.contents, "revision").and_then(|r| common::python_literals(r)?.into_iter().next())?.1;
            let down = assignment(&f.contents, "down_revision")
                .and_then(common::python_literals)
                .map(|l| l.into_iter().map(|(_, v)| v).collect())
                .unwrap_or_default();
            Some(Revision { file: f, id, down })
        })
        .collect()
}

/// The revisions no other revision revises, sorted.
fn heads(revs: &[Revision<'_>]) -> Vec<String> {
    let mut heads: Vec<String> = revs.iter().filter(|r| !revs.iter().any(|o| o.down.contains(&r.id))).map(|r| r.id.clone()).collect();
    heads.sort();
    heads
}

/// Revisions in the order `alembic upgrade` applies them: each after every revision it revises (ties by id).
fn ordered<'a, 'b>(revs: &'b [Revision<'a>]) -> Vec<&'b Revision<'a>> {
    let mut done: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    let mut rest: Vec<&Revision<'_>> = revs.iter().collect();
    rest.sort_by(|a, b| a.id.cmp(&b.id));
    while !rest.is_empty() {
        let ready = rest.iter().position(|r| r.down.iter().all(|d| done.contains(&d.as_str()) || !revs.iter().any(|o| &o.id == d)));
        // A cycle (never valid in Alembic): the rest in id order.
        let i = ready.unwrap_or(0);
        let r = rest.remove(i);
        done.push(&r.id);
        out.push(r);
    }
    out
}

/// Alembic's slug (`_slug_re = \w+` joined by `_`, lowercased, cut at 40 on a word boundary).
fn slug(text: &str) -> String {
    let words: Vec<String> =
        text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    let slug = words.join("_");
    if slug.chars().count() > 40 {
        let cut: String = slug.chars().take(40).collect();
        format!("{}_", cut.rsplit_once('_').map_or(cut.as_str(), |(a, _)| a))
    } else {
        slug
    }
}

/// A file name from `file_template` (`%(rev)s`, `%(slug)s`, `%(epoch)s`, `%(year)d`, `%(month).2d`, …).
fn file_from_template(template: &str, rev: &str, slug: &str, now: &str) -> Result<String, String> {
    let num = |a: usize, b: usize| now.get(a..b).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    let epoch = super::naming::epoch_millis(now) / 1000;
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('%') {
            out.push('%');
            rest = r;
            continue;
        }
        let Some(body) = rest.strip_prefix('(') else { return Err(format!("file_template {template}: `%` without a name")) };
        let close = body.find(')').ok_or_else(|| format!("file_template {template}: unclosed %("))?;
        let name = &body[..close];
        let spec_end =
            body[close + 1..].find(|c: char| c.is_ascii_alphabetic()).ok_or_else(|| format!("file_template {template}: no conversion"))?;
        let spec = &body[close + 1..close + 1 + spec_end];
        rest = &body[close + 1 + spec_end + 1..];
        let width: usize = spec.trim_start_matches(['.', '0']).parse().unwrap_or(0);
        let value = match name {
            "rev" => rev.to_string(),
            "slug" => slug.to_string(),
            "epoch" => epoch.to_string(),
            "year" => num(0, 4).to_string(),
            "month" => num(4, 6).to_string(),
            "day" => num(6, 8).to_string(),
            "hour" => num(8, 10).to_string(),
            "minute" => num(10, 12).to_string(),
            "second" => num(12, 14).to_string(),
            other => return Err(format!("file_template {template}: unknown token %({other})")),
        };
        out.push_str(&format!("{value:0>width$}"));
    }
    out.push_str(rest);
    Ok(format!("{out}.py"))
}

/// A 12-hex-digit revision id derived from `seed` (Alembic's are the last 12 of a uuid4).
fn rev_id(seed: &str) -> String {
    let uuid = common::uuid_from(seed).replace('-', "");
    uuid[uuid.len() - 12..].to_string()
}

fn ini_for<'a>(inis: &'a [Ini<'a>], dir: &str) -> Option<&'a Ini<'a>> {
    inis.iter().find(|i| i.versions == dir)
}

impl Tool for Alembic {
    /// `autocommit_block()` runs what it wraps outside the revision's transaction.
    fn runs_in_transaction(&self, files: &ProjectFiles, m: &SourceMigration) -> bool {
        !super::file_text(files, &m.path).contains("autocommit_block()")
    }
    fn orm_changes(&self, change: &CodeChange) -> Vec<String> {
        match change {
            CodeChange::MoveColumn { table, from, to } => vec![format!(
                "SQLAlchemy, model of {table}: {from} = mapped_column({}, …)  (or Column({}, …))",
                common::dq(to),
                common::dq(to)
            )],
            CodeChange::DropColumn { table, column } => {
                vec![format!("SQLAlchemy, model of {table}: remove attribute {column} (only mapped columns are queried)")]
            }
            CodeChange::MoveTable { from, to } => vec![format!("SQLAlchemy, model of {from}: __tablename__ = {}", common::dq(to))],
            CodeChange::DropTable { table } => vec![format!("SQLAlchemy: remove the model of {table} and relationships to it")],
        }
    }

    fn id(&self) -> &'static str {
        "alembic"
    }

    fn default_dir(&self) -> &'static str {
        "alembic/versions"
    }

    fn detect(&self, files: &ProjectFiles) -> Result<Vec<Detection>, DetectError> {
        let mut found: Vec<Detection> = Vec::new();
        for ini in inis(files)? {
            let evidence = if ini.flask { format!("{}, Flask-Migrate layout", ini.file.path) } else { ini.file.path.clone() };
            found.push(Detection::new("alembic", ini.versions.clone(), Confidence::High, evidence).with_engine(ini.engine.clone()));
        }
        // Revision files without a config (the ini kept elsewhere): directory shape only.
        for dir in common::dirs_with(files, |f| {
            f.path.ends_with(".py")
                && crate::model::parent_dir(&f.path).ends_with("versions")
                && assignment(&f.contents, "down_revision").is_some()
        }) {
            if !found.iter().any(|d| d.dir == dir) {
                let evidence = format!("{dir}/*.py with revision / down_revision");
                found.push(Detection::new("alembic", dir, Confidence::Low, evidence));
            }
        }
        Ok(found)
    }

    fn offline_command(&self, files: &ProjectFiles, detection: &Detection) -> Option<OfflineCommand> {
        let revs = revisions(files, &detection.dir);
        if revs.iter().all(|r| sql_up(&r.file.contents).is_some()) {
            return None;
        }
        let inis = inis(files).ok()?;
        // Flask-Migrate's env.py needs the Flask app (`flask db upgrade --sql`): not run.
        let ini = ini_for(&inis, &detection.dir).filter(|i| !i.flask)?;
        let name = common::file_name(&ini.file.path).to_string();
        Some(OfflineCommand {
            dir: crate::model::parent_dir(&ini.file.path).to_string(),
            python_args: ["-m", "alembic", "-c", &name, "upgrade", "head", "--sql"].map(str::to_string).to_vec(),
            shown: format!("alembic -c {name} upgrade head --sql"),
        })
    }

    fn offline_sql(&self, output: &str) -> std::collections::BTreeMap<String, String> {
        offline_sql(output)
    }

    fn read(&self, files: &ProjectFiles, detection: &Detection) -> Vec<SourceMigration> {
        let revs = revisions(files, &detection.dir);
        ordered(&revs)
            .into_iter()
            .map(|r| match (sql_up(&r.file.contents), files.rendered.get(&r.id)) {
                (Some(up), _) => SourceMigration::sql(r.file.path.clone(), up),
                // What Alembic itself printed for the revision (`alembic upgrade head --sql`).
                (None, Some(sql)) => SourceMigration::sql(r.file.path.clone(), sql.clone()),
                (None, None) => SourceMigration::unread(r.file.path.clone(), "an Alembic migration"),
            })
            .collect()
    }

    fn profile(&self, files: &ProjectFiles, detection: &Detection, now: &str) -> Profile {
        let inis = inis(files).unwrap_or_default();
        let template = ini_for(&inis, &detection.dir).map_or(DEFAULT_TEMPLATE, |i| i.file_template.as_str()).to_string();
        let revs = revisions(files, &detection.dir);
        let heads = heads(&revs);
        let next = file_from_template(&template, "<rev>", "<slug>", now).unwrap_or_default();
        Profile {
            naming: common::join(&detection.dir, &template.replace("%(rev)s", "<rev>").replace("%(slug)s", "<slug>")) + ".py",
            next_version: match heads.as_slice() {
                [] => format!("{next} (first revision)"),
                [h] => format!("{next} revising {h}"),
                many => format!("none until the heads {} are merged (`alembic merge heads`)", many.join(", ")),
            },
            down: "downgrade() in the same file".into(),
            no_transaction: "`with op.get_context().autocommit_block():` around the step's op.execute".into(),
            history_table: "alembic_version".into(),
        }
    }

    fn write(&self, plan: &Plan, files: &ProjectFiles, detection: &Detection, now: &str) -> Result<Written, WriteError> {
        let dir = &detection.dir;
        let inis = inis(files).map_err(|e| WriteError { message: e.message })?;
        let template = ini_for(&inis, dir).map_or(DEFAULT_TEMPLATE, |i| i.file_template.as_str());
        let revs = revisions(files, dir);
        let mut down = match heads(&revs).as_slice() {
            [] => None,
            [h] => Some(h.clone()),
            many => {
                return Err(WriteError {
                    message: format!(
                        "{dir} has several Alembic heads ({}): merge them first (`alembic merge heads -m merge`), then plan again",
                        many.join(", ")
                    ),
                });
            }
        };
        let steps = common::file_steps(plan);
        let total = plan.steps.len();
        let mut out = Vec::with_capacity(steps.len());
        for step in steps {
            let rev = rev_id(&format!("{}/{}/{}/{}", down.as_deref().unwrap_or(""), step.slug, step.up, step.down));
            if revs.iter().any(|r| r.id == rev) {
                return Err(common::step_error(step, format!("revision {rev} already exists in {dir}")));
            }
            let name = file_from_template(template, &rev, &slug(&step.slug), now).map_err(|e| common::step_error(step, e))?;
            let path = common::join(dir, &name);
            common::ensure_free(files, &[], &path)?;
            let contents = revision_file(step, total, &rev, down.as_deref(), now);
            out.push((path.clone(), vec![GeneratedFile::new(path, contents)]));
            down = Some(rev);
        }
        Ok(common::written(plan, out, Vec::new()))
    }
}

/// `op.execute` calls, one per statement, inside an autocommit block when not transactional.
fn body(sql: &str, transaction: bool) -> String {
    let indent = if transaction { "    " } else { "        " };
    let calls: String = common::statements(sql)
        .iter()
        .map(|s| common::python_call(indent, &["op.execute", "sa.DDL"], &common::python_literal(&s.replace('%', "%%"))))
        .collect();
    let calls = if calls.is_empty() { format!("{indent}pass\n") } else { calls };
    if transaction { calls } else { format!("    with op.get_context().autocommit_block():\n{calls}") }
}

fn revision_file(step: &Step, total: usize, rev: &str, down: Option<&str>, now: &str) -> String {
    let message = common::one_line(&step.title).replace(['\\', '"'], "'");
    let date = format!("{}-{}-{} {}:{}:{}", &now[0..4], &now[4..6], &now[6..8], &now[8..10], &now[10..12], &now[12..14]);
    let down_lit = down.map_or("None".to_string(), common::python_literal);
    format!(
        "{header}\"\"\"{message}\n\nRevision ID: {rev}\nRevises: {revises}\nCreate Date: {date}\n\n\"\"\"\n\n\
         from alembic import op\nimport sqlalchemy as sa\n\n\
         # revision identifiers, used by Alembic.\nrevision = {rev_lit}\ndown_revision = {down_lit}\nbranch_labels = None\ndepends_on = None\n\n\n\
         def upgrade() -> None:\n{up}\n\ndef downgrade() -> None:\n{downgrade}",
        header = common::hash_header(step, total),
        revises = down.unwrap_or(""),
        rev_lit = common::python_literal(rev),
        up = body(&step.up, step.transaction),
        downgrade = body(&step.down, step.down_transaction),
    )
}

/// The forward SQL of a revision whose `upgrade()` only runs SQL literals (`op.execute("…")`,
/// `op.execute(sa.text("…"))`, `op.execute(sa.DDL("…"))`, inside `autocommit_block()` or not) — what zdm
/// writes, and what hand-written SQL revisions look like — statements on their lines; `None` for any other
/// revision (code zdm does not read).
fn sql_up(text: &str) -> Option<String> {
    use common::PyPiece;
    let start = text.find("\ndef upgrade(")? + 1;
    let body = start + text[start..].find(":\n")? + 2;
    let end = text[body..].find("\ndef ").map_or(text.len(), |e| body + e);
    let pieces = common::python_pieces(&text[body..end])?;
    const CODE: &[&str] = &["op.execute(", "sa.DDL(", "sa.text(", "text(", ")", "withop.get_context().autocommit_block():", "pass"];
    let mut literals = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            PyPiece::Code(c) if common::made_of(c, CODE) => {}
            PyPiece::Code(_) => return None,
            // The docstring.
            PyPiece::Lit(..) if i == 0 => {}
            PyPiece::Lit(line, sql) => match &pieces[i - 1] {
                PyPiece::Code(c) if c.ends_with("sa.DDL(") => literals.push((*line, sql.replace("%%", "%"))),
                PyPiece::Code(c) if c.ends_with("op.execute(") || c.ends_with("text(") => literals.push((*line, sql.clone())),
                _ => return None,
            },
        }
    }
    Some(common::lines_at(text[..body].matches('\n').count(), &literals))
}

/// Each revision's SQL from the output of `alembic upgrade head --sql` (offline mode), by revision id: the
/// text after its `-- Running upgrade <from> -> <id>` line up to the next, without Alembic's bookkeeping
/// (`alembic_version` statements) and transaction lines, which zdm's replay needs neither of.
#[must_use]
pub fn offline_sql(output: &str) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("-- Running upgrade ") {
            out.extend(current.take().map(|(id, lines)| (id, lines.join("\n"))));
            let id = rest.rsplit("-> ").next().unwrap_or("").split([',', ' ']).next().unwrap_or("").to_string();
            current = Some((id, Vec::new()));
            continue;
        }
        let Some((_, lines)) = current.as_mut() else { continue };
        let bookkeeping = line.contains("alembic_version")
            && (line.starts_with("INSERT INTO ") || line.starts_with("UPDATE ") || line.starts_with("DELETE FROM "));
        let transaction = matches!(line.trim(), "BEGIN;" | "COMMIT;");
        lines.push(if bookkeeping || transaction { "" } else { line });
    }
    out.extend(current.map(|(id, lines)| (id, lines.join("\n"))));
    out.retain(|id, _| !id.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_and_chains() {
        let a = "revision = 'a1'\ndown_revision = None\n";
        let b = "revision: str = \"b2\"\ndown_revision: Union[str, None] = \"a1\"\n";
        let m = "revision = \"m3\"\ndown_revision = (\"b2\", \"c4\")\n";
        assert_eq!(assignment(b, "down_revision"), Some("\"a1\""));
        assert_eq!(assignment("revision == 1", "revision"), None);
        let files = ProjectFiles::new(
            [("v/1_a.py", a), ("v/2_b.py", b), ("v/3_c.py", "revision = 'c4'\ndown_revision = 'a1'\n"), ("v/4_m.py", m)]
                .iter()
                .map(|(p, c)| ProjectFile { path: (*p).into(), contents: (*c).into() })
                .collect(),
        );
        let revs = revisions(&files, "v");
        assert_eq!(heads(&revs), ["m3"]);
        assert_eq!(ordered(&revs).iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["a1", "b2", "c4", "m3"]);
        assert_eq!(heads(&revs[..3]), ["b2", "c4"]);
    }

    #[test]
    fn offline_output_by_revision() {
        let output = "BEGIN;\n\nCREATE TABLE alembic_version (\n    version_num VARCHAR(32) NOT NULL\n);\n\n\
                      -- Running upgrade  -> 4f2a, create users\n\nCREATE TABLE users (id bigint);\n\n\
                      INSERT INTO alembic_version (version_num) VALUES ('4f2a') RETURNING alembic_version.version_num;\n\n\
                      -- Running upgrade 4f2a -> b81e\n\nALTER TABLE users ADD COLUMN email text;\n\n\
                      UPDATE alembic_version SET version_num='b81e' WHERE alembic_version.version_num = '4f2a';\n\nCOMMIT;\n";
        let sql = offline_sql(output);
        assert_eq!(sql.keys().collect::<Vec<_>>(), ["4f2a", "b81e"]);
        assert_eq!(sql["4f2a"].trim(), "CREATE TABLE users (id bigint);");
        assert_eq!(sql["b81e"].trim(), "ALTER TABLE users ADD COLUMN email text;");
    }

    #[test]
    fn ini_paths() {
        assert_eq!(here("backend", "%(here)s/app/alembic").as_deref(), Some("backend/app/alembic"));
        assert_eq!(here("backend", "%(here)s").as_deref(), Some("backend"));
        assert_eq!(here("", "migrations").as_deref(), Some("migrations"));
        assert_eq!(here("", "../x"), None);
        let ini = "[alembic]\nscript_location = db\nfile_template = %%(rev)s_x\n[other]\nfile_template = y\n";
        let section = common::toml_table(ini, "alembic").unwrap();
        assert_eq!(ini_value(section, "file_template").as_deref(), Some("%(rev)s_x"));
    }

    #[test]
    fn file_templates() {
        assert_eq!(file_from_template(DEFAULT_TEMPLATE, "abc", "add_x", "20261125140503").unwrap(), "abc_add_x.py");
        let dated = "%(year)d_%(month).2d_%(day).2d_%(hour).2d%(minute).2d-%(rev)s_%(slug)s";
        assert_eq!(file_from_template(dated, "abc", "s", "20260105090503").unwrap(), "2026_01_05_0905-abc_s.py");
        assert!(file_from_template("%(nope)s", "a", "b", "20260105090503").is_err());
        assert_eq!(slug("Expand users.full_name + trigger"), "expand_users_full_name_trigger");
        assert_eq!(slug(&"word_".repeat(12)), "word_word_word_word_word_word_word_word_");
        assert_eq!(rev_id("x").len(), 12);
        assert_eq!(rev_id("x"), rev_id("x"));
    }

    #[test]
    fn percent_is_doubled_and_read_back() {
        let b = body("SELECT '100%';\nSELECT ' :name';", true);
        assert!(b.contains("sa.DDL(\"SELECT '100%%';\")"), "{b}");
        let text = format!("# zdm: step 1\n\ndef upgrade() -> None:\n{b}\n\ndef downgrade() -> None:\n    pass\n");
        assert_eq!(sql_up(&text).unwrap(), "\n\n\nSELECT '100%';\nSELECT ' :name';\n");
        let hand = "def upgrade():\n    \"\"\"Doc.\"\"\"\n    op.execute('CREATE TABLE a (id int)')  # note\n\ndef downgrade():\n    op.drop_table('a')\n";
        assert_eq!(sql_up(&hand.replace("def upgrade", "x\ndef upgrade")).unwrap(), "\n\n\nCREATE TABLE a (id int);\n");
        assert_eq!(sql_up("x\ndef upgrade():\n    op.create_table('a')\n    op.execute('SELECT 1')\n"), None, "code: not read");
    }
}
