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
    /// What the replayed history and the live database disagree on (empty without a live database).
    pub drift: Vec<crate::live::Drift>,
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
pub fn run(mut input: Input<'_>) -> Result<Outcome, Error> {
    let pg = input.config.pg;
    let live = input.config.live.take();
    if let Some(l) = &live {
        for (k, s) in &l.stats {
            input.config.stats.entry(k.clone()).or_insert_with(|| s.clone());
        }
    }
    let config = input.config.clone();
    let statements = sql::parse(input.change).map_err(Error::Syntax)?;
    let tools::Detected { tool, detection, others: other_tools } = tools::detect(input.files, &input.choice).map_err(Error::Detect)?;
    let (planned, sources): (Vec<_>, Vec<_>) =
        tool.read(input.files, &detection).into_iter().partition(|s| Some(s.path.as_str()) == input.change_path);
    let (schema, warnings) = replay_sources(input.files, &detection, sources);
    // Live beats files: the database's schema is planned against; the history only tells the drift.
    let (schema, drift) = match live.as_ref().and_then(|l| l.schema.clone()) {
        Some(live_schema) => {
            let drift = crate::live::drift(&schema, &live_schema);
            (live_schema, drift)
        }
        None => (schema, Vec::new()),
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
    weigh_tables(&mut plan, &analysis, &input.config);
    if let Some(l) = &live {
        live_notes(&mut plan, l, &drift);
    }
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
    Ok(Outcome { pg, detection, other_tools, schema, warnings, analysis, plan, files: written.files, config, drift })
}

/// The schema the project's files give: the history's migrations replayed, else a schema dump.
fn replay_sources(files: &ProjectFiles, detection: &Detection, sources: Vec<tools::SourceMigration>) -> (Schema, Vec<ReplayWarning>) {
    let dump = schema::DUMP_PATHS.iter().find_map(|p| files.files.iter().find(|f| f.path == *p));
    if let (true, Some(dump)) = (sources.is_empty(), dump) {
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
    }
}

/// What zdm believes about the schema (`zdm schema`): the live database's when one was read, else the
/// history's, with the drift between the two.
pub struct SchemaView {
    /// The schema planned against.
    pub schema: Schema,
    /// The history's schema (its source says where it came from).
    pub files: Schema,
    /// The migration tool and directory.
    pub detection: Detection,
    /// Replay failures.
    pub warnings: Vec<ReplayWarning>,
    /// History vs database.
    pub drift: Vec<crate::live::Drift>,
    /// Weights of every table whose size is known.
    pub tables: std::collections::BTreeMap<String, crate::live::TableWeight>,
    /// What the database said, when read.
    pub live: Option<crate::model::LiveFacts>,
}

/// Builds the [`SchemaView`] of a project.
///
/// # Errors
/// The project's migration tool is ambiguous or not for PostgreSQL.
pub fn schema_view(files: &ProjectFiles, choice: &Choice, config: &PlanConfig) -> Result<SchemaView, Error> {
    let tools::Detected { tool, detection, .. } = tools::detect(files, choice).map_err(Error::Detect)?;
    let (history, warnings) = replay_sources(files, &detection, tool.read(files, &detection));
    let live = config.live.clone();
    let (schema, drift) = match live.as_ref().and_then(|l| l.schema.clone()) {
        Some(l) => {
            let d = crate::live::drift(&history, &l);
            (l, d)
        }
        None => (history.clone(), Vec::new()),
    };
    let mut stats = config.stats.clone();
    for (k, s) in live.iter().flat_map(|l| &l.stats) {
        stats.entry(k.clone()).or_insert_with(|| s.clone());
    }
    let tables = stats.iter().map(|(k, s)| (k.clone(), crate::live::weigh(s, &config.thresholds))).collect();
    Ok(SchemaView { schema, files: history, detection, warnings, drift, tables, live })
}

/// Gives each table the change touches its weight and class, and says what the class did.
fn weigh_tables(plan: &mut Plan, analysis: &Analysis, config: &PlanConfig) {
    let mut notes = Vec::new();
    for c in &analysis.ops {
        let Some(t) = c.op.kind.table() else { continue };
        let key = t.key();
        if plan.tables.contains_key(&key) || c.table_before.as_ref().is_some_and(|t| t.created_in_change) {
            continue;
        }
        let Some(stats) = config.stats.get(&key) else { continue };
        let w = crate::live::weigh(stats, &config.thresholds);
        let rows = rows_text(w.rows);
        let writes = w.writes_per_sec.map(|r| format!(", {r} writes/s")).unwrap_or_default();
        notes.push(match w.class {
            crate::model::TableClass::Empty => format!("{key} is empty ({}): changes to it run as written, no staging", w.from),
            crate::model::TableClass::Small => format!("{key} is small (~{rows} rows{writes}; {}): staged all the same", w.from),
            class => format!("{key} is {} (~{rows} rows{writes}; {}): staged path", class.name(), w.from),
        });
        plan.tables.insert(key, w);
    }
    plan.notes.splice(0..0, notes);
}

/// `1234` → `1.2k`, `50000000` → `50M`.
fn rows_text(rows: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let r = rows as f64;
    let (v, unit) = if rows >= 1_000_000_000 {
        (r / 1e9, "G")
    } else if rows >= 1_000_000 {
        (r / 1e6, "M")
    } else if rows >= 1_000 {
        (r / 1e3, "k")
    } else {
        return rows.to_string();
    };
    let text = if v < 10.0 { format!("{v:.1}") } else { format!("{v:.0}") };
    format!("{}{unit}", text.trim_end_matches(".0"))
}

/// Where the schema came from, the drift from the history (three in the receipt, all in the JSON) and
/// the facts the session could not read.
fn live_notes(plan: &mut Plan, live: &crate::model::LiveFacts, drift: &[crate::live::Drift]) {
    let mut notes = vec![format!(
        "schema read live from {} (PostgreSQL {}, read-only); {} drift from the migrations{}",
        live.database,
        live.server_version,
        drift.len(),
        if drift.is_empty() { String::new() } else { " (JSON: drift)".into() }
    )];
    notes.extend(drift.iter().take(3).map(|d| format!("drift: {}", d.message)));
    if !live.missing.is_empty() {
        notes.push(format!("not read from the database: {}", live.missing.join("; ")));
    }
    plan.notes.splice(0..0, notes);
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
