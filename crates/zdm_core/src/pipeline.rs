//! The whole `zdm plan` job as one pure function: change text + project files + settings in, plan and
//! files out. The CLI reads and writes; this decides.

use crate::model::{GeneratedFile, PgVersion, ProjectFiles, Schema};
use crate::plan::{self, Analysis, Phase, Plan, PlanConfig, PlanError};

use crate::schema::{self, ReplayWarning};
use crate::sql::{self, SyntaxError};
use crate::tools::{self, Choice, DetectError, Detection, WriteError};
use std::fmt;

/// What `run` needs.
pub struct Input<'a> {
    /// The change: one or more SQL statements.
    pub change: &'a str,
    /// The project's files (paths of everything relevant, contents of SQL files).
    pub files: &'a ProjectFiles,
    /// Planning settings.
    pub config: PlanConfig,
    /// Current UTC time, `YYYYMMDDHHMMSS`, for new file versions.
    pub now: &'a str,
    /// Name for the files (`--name`): the file of a one-file plan, the prefix of each file otherwise.
    pub name: Option<&'a str>,
    /// When the change is itself a file of the project (a naive migration an ORM wrote), its path: it is
    /// not replayed into the schema, since it is what is being planned.
    pub change_path: Option<&'a str>,
    /// The tool and directory the user named (`--tool`, `--migrations-dir`).
    pub choice: Choice,
}

impl<'a> Input<'a> {
    /// A change planned on its own: no `--name`, and not a file of the project.
    #[must_use]
    pub fn new(change: &'a str, files: &'a ProjectFiles, config: PlanConfig, now: &'a str) -> Input<'a> {
        Input { change, files, config, now, name: None, change_path: None, choice: Choice::default() }
    }
}

/// Everything `zdm plan` decided.
pub struct Outcome {
    /// The PostgreSQL version planned for.
    pub pg: PgVersion,
    /// The migration tool (or raw SQL directory) the files follow.
    pub detection: Detection,
    /// Other migration setups detection saw and did not follow.
    pub other_tools: Vec<Detection>,
    /// The schema before the change.
    pub schema: Schema,
    /// Migration files that could not be replayed.
    pub warnings: Vec<ReplayWarning>,
    /// The change, classified.
    pub analysis: Analysis,
    /// The plan, with each file step's path filled in.
    pub plan: Plan,
    /// Files to write, all or none.
    pub files: Vec<GeneratedFile>,
    /// The settings planned with (table statistics included).
    pub config: PlanConfig,
}

/// Why a plan could not be made.
#[derive(Debug)]
pub enum Error {
    /// The change does not parse.
    Syntax(SyntaxError),
    /// The change names something that does not exist, or lacks a value zdm needs.
    Plan(PlanError),
    /// A file would be overwritten.
    Write(WriteError),
    /// The project's migration tool is ambiguous, not for PostgreSQL, or its configuration is broken.
    Detect(DetectError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Syntax(e) => e.fmt(f),
            Error::Plan(e) => e.fmt(f),
            Error::Write(e) => e.fmt(f),
            Error::Detect(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

/// Parses, reads the schema, classifies, plans and renders the files.
///
/// # Errors
/// See [`Error`].
pub fn run(input: Input<'_>) -> Result<Outcome, Error> {
    let pg = input.config.pg;
    let config = input.config.clone();
    let statements = sql::parse(input.change).map_err(Error::Syntax)?;
    let tools::Detected { tool, detection, others: other_tools } = tools::detect(input.files, &input.choice).map_err(Error::Detect)?;
    let (planned, sources): (Vec<_>, Vec<_>) =
        tool.read(input.files, &detection).into_iter().partition(|s| Some(s.path.as_str()) == input.change_path);
    let dump = schema::DUMP_PATHS.iter().find_map(|p| input.files.files.iter().find(|f| f.path == *p));
    let (schema, warnings) = if let (true, Some(dump)) = (sources.is_empty(), dump) {
        schema::replay_dump(&dump.path, &dump.contents)
    } else if sources.is_empty() {
        (Schema::unknown(), Vec::new())
    } else {
        let (unread, read): (Vec<_>, Vec<_>) = sources.into_iter().partition(|s| s.unread.is_some());
        let pairs: Vec<(String, String)> = read.into_iter().map(|s| (s.path, s.up)).collect();
        let (mut schema, warnings) = schema::replay(&detection.dir, &pairs);
        for s in unread {
            let what = s.unread.unwrap_or_default();
            schema.blind_spots.push(crate::model::BlindSpot { path: s.path, line: 1, what, reach: crate::model::Reach::Everything });
        }
        (schema, warnings)
    };
    if statements.iter().all(|s| s.ops.iter().all(|o| matches!(o.kind, crate::op::OpKind::Transaction { .. }))) {
        return Err(Error::Plan(PlanError {
            message: "the change holds no SQL statement to plan".into(),
            pos: crate::model::Pos { line: 1, col: 1 },
            help: Some("zdm plan \"ALTER TABLE …\", zdm plan --file change.sql, or zdm plan - < change.sql".into()),
        }));
    }
    let ignores = sql::suppressions(input.change);
    let mut analysis =
        plan::analyze(statements, &ignores, &schema, &input.config).map_err(|e| Error::Plan(point_at_name(input.change, e)))?;
    let unreadable = if schema.is_known() { None } else { tools::unreadable_migrations(input.files) };
    if let Some(u) = &unreadable {
        analysis.assumptions.insert(0, format!("schema unknown: {u}"));
    }
    let mut plan = plan::build(&analysis, &input.config).map_err(Error::Plan)?;
    if !schema.is_known() {
        let n = analysis.assumptions.len();
        let why = unreadable.as_deref().unwrap_or("no migrations or schema dump found");
        plan.verdict = format!("Schema unknown ({why}; {n} assumption{}): {}", if n == 1 { "" } else { "s" }, plan.verdict);
    }
    if let Some(name) = input.name {
        let count = plan.steps.iter().filter(|s| s.phase != Phase::Code).count();
        for step in plan.steps.iter_mut().filter(|s| s.phase != Phase::Code) {
            step.slug = if count == 1 { name.to_string() } else { format!("{name}_{}_{}", step.n, phase_word(step.phase)) };
        }
    }
    if let Some(path) = input.change_path.filter(|_| !planned.is_empty()) {
        plan.notes.push(format!("{path} is the migration being planned: delete it; zdm's files replace it"));
    }
    let written = tool.write(&plan, input.files, &detection, input.now).map_err(Error::Write)?;
    for (step, file) in plan.steps.iter_mut().zip(written.step_files) {
        step.file = file;
        step.orm_changes = step.code_changes.iter().flat_map(|c| tool.orm_changes(c)).collect();
    }
    plan.notes.extend(written.notes);
    if let Some(o) = other_tools.first() {
        let more = if other_tools.len() > 1 { format!(" and {} more", other_tools.len() - 1) } else { String::new() };
        let dir = if o.dir.is_empty() { "." } else { &o.dir };
        let engine = o.engine.as_deref().map(|e| format!(" ({e})")).unwrap_or_default();
        plan.notes.push(format!("not used: {} in {dir}{engine}{more}; see zdm detect", o.tool));
    }
    Ok(Outcome { pg, detection, other_tools, schema, warnings, analysis, plan, files: written.files, config })
}

/// Moves an error's position from the start of its statement to the name it is about: the first name
/// in backticks in the message (`column \`nmae\` does not exist on \`users\``), found as an identifier
/// token of that statement (case-folded unless quoted, the last part of a qualified name).
fn point_at_name(change: &str, mut e: PlanError) -> PlanError {
    let Some(name) = e.message.split('`').nth(1).and_then(|n| n.rsplit('.').next()).map(str::to_string) else {
        return e;
    };
    let index = crate::model::LineIndex::new(change);
    let line_start = change.split_inclusive('\n').take(e.pos.line.saturating_sub(1)).map(str::len).sum::<usize>();
    let start = change[line_start..].char_indices().nth(e.pos.col.saturating_sub(1)).map_or(change.len(), |(b, _)| line_start + b);
    let Ok(scan) = pg_query::scan(&change[start..]) else {
        return e;
    };
    for t in &scan.tokens {
        let (Ok(from), Ok(to)) = (usize::try_from(t.start), usize::try_from(t.end)) else { break };
        let Some(word) = change.get(start + from..start + to) else { break };
        if word == ";" {
            break;
        }
        let ident = match word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
            Some(quoted) => quoted.replace("\"\"", "\""),
            None => word.to_lowercase(),
        };
        if ident == name {
            e.pos = index.pos(start + from);
            break;
        }
    }
    e
}

fn phase_word(phase: Phase) -> &'static str {
    match phase {
        Phase::Single => "change",
        Phase::Expand => "expand",
        Phase::Backfill => "backfill",
        Phase::Code => "code",
        Phase::Contract => "contract",
    }
}
