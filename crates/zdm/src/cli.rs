//! Flags and the `plan` subcommand. Flags are validated before any file is read.

use crate::{project, write};
use anyhow::{Result, anyhow};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Read;
use std::path::{Path, PathBuf};
use zdm_core::model::{GeneratedFile, PgVersion, Pos, Risk, mask_secrets};
use zdm_core::pipeline::{self, Error as PlanFailure};
use zdm_core::plan::PlanConfig;
use zdm_core::report::{self, RunInfo, Style};

/// zdm turns a risky PostgreSQL schema change into a safe, zero-downtime migration.
#[derive(Parser)]
#[command(name = "zdm", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Plan a schema change: classify it, write the safe migration files, print the receipt.
    Plan(PlanArgs),
    /// Lint existing migration files (given, or changed since a git ref) with the planner's rules.
    Check(crate::check::CheckArgs),
    /// List every rule: ID, severity, one line.
    Rules(RulesArgs),
    /// Print one rule's documentation: what it detects, why, the lock, the safe strategy, versions.
    Explain(ExplainArgs),
    /// Say which migration tool the project uses, where its migrations live and how zdm will write them.
    Detect(DetectArgs),
    /// Show what zdm believes about the schema: each table with its source, weight and class, and the
    /// drift between the migrations and the live database.
    Schema(SchemaArgs),
    /// Backfill a column in short, throttled, resumable batches (or run a plan's backfill step).
    Backfill(crate::backfill::BackfillArgs),
    /// Prove a plan (or migration files) on a scratch PostgreSQL: synthetic rows, lock trace per
    /// statement, round trip (up, down, up), optional app traffic and a lost-write audit.
    Verify(crate::verify::VerifyArgs),
}

#[derive(Args)]
pub struct SchemaArgs {
    /// The project directory.
    #[arg(long, short = 'd', value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Show only this table.
    #[arg(long, value_name = "TABLE")]
    pub table: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub live: crate::live::LiveArgs,
    #[command(flatten)]
    pub tool: ToolArgs,
}

/// `zdm schema`.
pub fn schema(args: &SchemaArgs) -> Result<()> {
    let (files, read_warnings) = project::read(&args.dir)?;
    for w in &read_warnings {
        warn(&format!("warning: {}: {}", w.path, w.message));
    }
    let gathered = crate::live::gather(&args.dir, &files, &args.live)?;
    let config = PlanConfig { stats: gathered.stats, thresholds: gathered.thresholds, live: gathered.live, ..PlanConfig::default() };
    let view = pipeline::schema_view(&files, &args.tool.choice(), &config).map_err(|e| match e {
        PlanFailure::Detect(e) => detect_error(e, ""),
        other => anyhow!("error: {other}"),
    })?;
    if let Some(t) = &args.table
        && !view.schema.tables.keys().any(|k| k == t || k.rsplit('.').next() == Some(t.as_str()))
    {
        return Err(anyhow!("error: no table `{t}` in the schema ({} tables)\n  = help: zdm schema lists them", view.schema.tables.len()));
    }
    let mut text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report::schema_json(&view, args.table.as_deref()))? + "\n",
        Format::Text => report::schema_text(&view, args.table.as_deref()),
    };
    if matches!(args.format, Format::Text) {
        for n in &gathered.notes {
            text.push_str(&format!("note: {n}\n"));
        }
    }
    emit(&mask_secrets(&text))
}

/// `--tool` / `--migrations-dir`: which migration setup to follow when detection finds several.
#[derive(Args, Clone, Default)]
pub struct ToolArgs {
    /// Migration tool to write for (prisma, drizzle, liquibase, sqlx, diesel, refinery, flyway,
    /// golang-migrate, goose, typeorm, knex, sequelize, node-pg-migrate, alembic, django, rails, ecto,
    /// seaorm, dbmate, raw-sql).
    #[arg(long, value_name = "NAME")]
    pub tool: Option<String>,
    /// Migrations directory, relative to the project directory.
    #[arg(long, value_name = "DIR")]
    pub migrations_dir: Option<String>,
}

impl ToolArgs {
    pub fn choice(&self) -> zdm_core::tools::Choice {
        zdm_core::tools::Choice { tool: self.tool.clone(), dir: self.migrations_dir.clone() }
    }
}

#[derive(Args)]
pub struct DetectArgs {
    /// The project directory.
    #[arg(long, short = 'd', value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub tool: ToolArgs,
}

/// `zdm detect`.
pub fn detect(args: &DetectArgs) -> Result<()> {
    let (files, read_warnings) = project::read(&args.dir)?;
    for w in &read_warnings {
        warn(&format!("warning: {}: {}", w.path, w.message));
    }
    let (now, _) = utc_now();
    let found = zdm_core::tools::detect(&files, &args.tool.choice()).map_err(|e| detect_error(e, ""))?;
    let profile = found.tool.profile(&files, &found.detection, &now);
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report::detect_json(&found, &profile))? + "\n",
        Format::Text => report::detect_text(&found, &profile),
    };
    emit(&mask_secrets(&text))
}

fn detect_error(e: zdm_core::tools::DetectError, tail: &str) -> anyhow::Error {
    let help = e.help.map(|h| format!("\n  = help: {h}")).unwrap_or_default();
    anyhow!("error: {}{help}{tail}", e.message)
}

#[derive(Args)]
pub struct RulesArgs {
    /// Print the full Markdown reference (what docs/rules.md holds) instead of the list.
    #[arg(long)]
    pub markdown: bool,
    /// ASCII severity marks.
    #[arg(long)]
    pub ascii: bool,
}

#[derive(Args)]
pub struct ExplainArgs {
    /// Rule ID (C08) or name (set-not-null).
    pub rule: String,
}

/// `zdm rules`.
pub fn rules(args: &RulesArgs) -> Result<()> {
    if args.markdown {
        emit(&report::rules_markdown())
    } else {
        emit(&report::rule_list(&Style { color: false, ascii: args.ascii || !utf8_locale(), ..Style::default() }))
    }
}

/// Writes to standard output. A reader that went away (`zdm rules | head -1`) is not an error: the
/// rest of the output is dropped quietly, as every Unix filter does.
pub fn emit(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(anyhow!("error: cannot write to standard output: {e}")),
        _ => Ok(()),
    }
}

/// `zdm explain ID`.
pub fn explain(args: &ExplainArgs) -> Result<()> {
    match report::explain(&args.rule) {
        Some(text) => emit(&text),
        None => Err(anyhow!("error: no rule `{}`\n  = help: `zdm rules` lists them", args.rule)),
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// `zdm plan --format`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// The receipt.
    Text,
    /// One JSON object.
    Json,
    /// A pull-request comment: the receipt's content as a table, each step's SQL collapsed.
    Markdown,
}

#[derive(Args)]
pub struct PlanArgs {
    /// The change as SQL (one or more statements), or `-` to read it from standard input. A change that
    /// starts with a `--` comment is taken as is (or write `zdm plan -- "…"`).
    #[arg(allow_hyphen_values = true)]
    pub sql: Option<String>,
    /// Read the change from this file instead.
    #[arg(long, short = 'f', value_name = "FILE", conflicts_with = "sql")]
    pub file: Option<PathBuf>,
    /// The project directory.
    #[arg(long, short = 'd', value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Never run the project's migration tool. By default, when the history holds Alembic revisions
    /// written as code, zdm runs `alembic upgrade head --sql` (offline: no database) with the project's
    /// Python to read their SQL.
    #[arg(long)]
    pub no_tool_exec: bool,
    /// Name for the generated files (lower case, digits, underscores).
    #[arg(long, value_name = "SLUG", value_parser = parse_slug)]
    pub name: Option<String>,
    /// Print the plan; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlanFormat,
    /// Write the HTML report even for a safe plan (it is always written for any other).
    #[arg(long)]
    pub report: bool,
    /// Receipt width in columns (default: the terminal's, or COLUMNS; at least 60, at most 100 used).
    #[arg(long, value_name = "COLUMNS", value_parser = clap::value_parser!(u16).range(20..))]
    pub width: Option<u16>,
    /// PostgreSQL major version to plan for. Default: the live database's, else 15.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(i64::from(PgVersion::MIN)..=i64::from(PgVersion::MAX)))]
    pub pg_version: Option<u32>,
    /// Longest wait for a lock per attempt: the longest any application query queues behind a step.
    #[arg(long, value_name = "DURATION", default_value = "200ms", value_parser = parse_duration)]
    pub lock_timeout: String,
    /// Attempts a step makes to take its locks, with backoff, before it fails (1: no retries).
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub lock_retries: u32,
    /// Rows per backfill batch.
    #[arg(long, value_name = "ROWS", default_value_t = 5000, value_parser = clap::value_parser!(u32).range(10..=1_000_000))]
    pub batch_size: u32,
    /// A type change swaps the new column in under the old name (running connections must be recycled
    /// right after the swap: their prepared statements fail with SQLSTATE 0A000). Default: the new column
    /// keeps its own name (`<column>_<type>`) and the code deploy moves to it.
    #[arg(long)]
    pub keep_column_name: bool,
    /// Do not scan the project's code for references to the tables and columns the change touches.
    #[arg(long)]
    pub no_code_refs: bool,
    /// ASCII marks and box instead of Unicode.
    #[arg(long)]
    pub ascii: bool,
    #[command(flatten)]
    pub tool: ToolArgs,
    #[command(flatten)]
    pub live: crate::live::LiveArgs,
}

fn parse_slug(s: &str) -> Result<String, String> {
    if !s.is_empty() && s.len() <= 60 && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        Ok(s.to_string())
    } else {
        Err("use 1-60 characters from a-z, 0-9 and _".into())
    }
}

fn parse_duration(s: &str) -> Result<String, String> {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    if digits.parse::<u32>().is_ok_and(|n| n > 0) && matches!(unit, "ms" | "s" | "min") {
        Ok(s.to_string())
    } else {
        Err("use a positive number with ms, s or min, e.g. 2s".into())
    }
}

/// Where the change came from, for error locations.
struct Source {
    label: String,
    text: String,
}

impl Source {
    fn decode(label: String, bytes: Vec<u8>) -> (Source, Option<Pos>) {
        let (text, bad) = project::decode(bytes);
        (Source { label, text }, bad)
    }
}

/// The change must be text PostgreSQL accepts: UTF-8 without NUL bytes. Either error points at the byte.
fn checked((source, bad_utf8): (Source, Option<Pos>)) -> Result<Source> {
    if let Some(pos) = bad_utf8 {
        return Err(located(&source, "the change is not valid UTF-8", pos, Some("save the file as UTF-8")));
    }
    if let Some(i) = source.text.find('\0') {
        let pos = Pos::of_byte(&source.text, i);
        return Err(located(&source, "the change contains a NUL byte, which PostgreSQL never accepts in SQL text", pos, None));
    }
    Ok(source)
}

fn read_change(args: &PlanArgs) -> Result<Source> {
    match (&args.sql, &args.file) {
        (_, Some(path)) => {
            let bytes = std::fs::read(path).map_err(|e| anyhow!("error: cannot read {}: {}", path.display(), project::cause(&e)))?;
            checked(Source::decode(path.display().to_string(), bytes))
        }
        (Some(s), None) if s == "-" => {
            let mut bytes = Vec::new();
            std::io::stdin().read_to_end(&mut bytes).map_err(|e| anyhow!("error: cannot read standard input: {}", project::cause(&e)))?;
            checked(Source::decode("<stdin>".into(), bytes))
        }
        (Some(s), None) => checked((Source { label: "<change>".into(), text: s.clone() }, None)),
        (None, None) => Err(anyhow!(
            "error: no change given\n  = help: zdm plan \"ALTER TABLE …\", zdm plan --file change.sql, or zdm plan - < change.sql"
        )),
    }
}

/// `error: message` / `--> source:line:col` / the line with a caret / `= help: …`.
///
/// The line is masked (secrets) first, then cut to a window of [`WINDOW`] columns around the caret, so a
/// very long line stays readable and a cut can never expose part of a secret.
fn located(source: &Source, message: &str, pos: Pos, help: Option<&str>) -> anyhow::Error {
    let raw = source.text.split('\n').nth(pos.line.saturating_sub(1)).unwrap_or("").trim_end_matches('\r');
    let (line, caret) = caret_line(raw, pos.col);
    let gutter = pos.line.to_string().len();
    let mut out = format!(
        "error: {}\n{:gutter$}--> {}:{}\n{:gutter$} |\n{} | {line}\n{:gutter$} | {}^",
        mask_secrets(message),
        "",
        source.label,
        pos,
        "",
        pos.line,
        "",
        " ".repeat(caret)
    );
    if let Some(h) = help {
        out.push_str(&format!("\n{:gutter$} = help: {}", "", mask_secrets(h)));
    }
    anyhow!(out)
}

/// Columns of source shown around the caret in an error.
const WINDOW: usize = 120;

/// The masked line to show and the number of columns before the caret, for 1-based column `col`.
fn caret_line(raw: &str, col: usize) -> (String, usize) {
    let raw: String = raw
        .chars()
        .map(|c| {
            if c == '\t' {
                ' '
            } else if c.is_control() {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect();
    let cut = raw.char_indices().nth(col.saturating_sub(1)).map_or(raw.len(), |(b, _)| b);
    let (before, after) = raw.split_at(cut);
    // Mask the whole line; when masking does not cross the caret, the masked prefix tells where it moved.
    let masked = mask_secrets(&raw);
    let masked_before = mask_secrets(before);
    let caret = if masked.starts_with(&masked_before) && mask_secrets(after).len() + masked_before.len() == masked.len() {
        masked_before.chars().count()
    } else {
        col.saturating_sub(1).min(masked.chars().count())
    };
    let chars: Vec<char> = masked.chars().collect();
    if chars.len() <= WINDOW {
        return (masked, caret);
    }
    let start = caret.saturating_sub(WINDOW / 2).min(chars.len().saturating_sub(WINDOW));
    let end = (start + WINDOW).min(chars.len());
    let mut shown = String::new();
    let mut caret_at = caret - start;
    if start > 0 {
        shown.push('…');
        caret_at += 1;
    }
    shown.extend(&chars[start..end]);
    if end < chars.len() {
        shown.push('…');
    }
    (shown, caret_at)
}

/// The current time: the clock, or `ZDM_NOW` (RFC 3339, for tests that snapshot versioned file names).
pub fn utc_now() -> (String, String) {
    let now = std::env::var("ZDM_NOW")
        .ok()
        .and_then(|v| time::OffsetDateTime::parse(&v, &time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(time::OffsetDateTime::now_utc);
    let compact = now.format(time::macros::format_description!("[year][month][day][hour][minute][second]")).unwrap_or_default();
    let human = now.format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC")).unwrap_or_default();
    (compact, human)
}

/// `zdm plan`.
pub fn plan(args: &PlanArgs, terminal: bool) -> Result<()> {
    let source = read_change(args)?;
    project::check_dir(&args.dir)?;
    // One run at a time per project from here to the last file written: the second of two parallel runs
    // reads the project after the first wrote its files, so their versions never collide.
    let _lock = if args.dry_run { None } else { Some(write::lock(&args.dir)?) };
    if !args.dry_run
        && let Some(note) = write::recover(&args.dir)
    {
        warn(&note);
    }
    let (mut files, mut read_warnings) = project::read(&args.dir)?;
    for w in &read_warnings {
        warn(&format!("warning: {}: {}", w.path, w.message));
    }
    if !args.no_tool_exec
        && let Some(note) = crate::offline::render(&args.dir, &mut files, &args.tool.choice())
    {
        warn(&format!("note: {}: {}", note.path, note.message));
        read_warnings.push(note);
    }
    let (now, human_now) = utc_now();
    let change = zdm_core::tools::change_text(&source.text);
    let code_refs = if args.no_code_refs { Vec::new() } else { code_refs(&args.dir, &change, &files, &args.tool) };
    let gathered = crate::live::gather(&args.dir, &files, &args.live)?;
    let server = gathered.live.as_ref().map(|l| l.server_major.clamp(PgVersion::MIN, PgVersion::MAX));
    let config = PlanConfig {
        pg: PgVersion(args.pg_version.or(server).unwrap_or(PgVersion::DEFAULT.0)),
        stats: gathered.stats,
        thresholds: gathered.thresholds,
        live: gathered.live,
        lock_timeout: args.lock_timeout.clone(),
        lock_retries: args.lock_retries,
        batch_size: args.batch_size,
        keep_column_name: args.keep_column_name,
        code_refs,
        ..PlanConfig::default()
    };
    let change_path = args.file.as_deref().and_then(|f| project::relative(&args.dir, f));
    let input = pipeline::Input {
        change: &change,
        files: &files,
        config,
        now: &now,
        name: args.name.as_deref(),
        change_path: change_path.as_deref(),
        choice: args.tool.choice(),
    };
    let mut outcome = match pipeline::run(input) {
        Ok(o) => o,
        Err(PlanFailure::Syntax(e)) => return Err(located(&source, &e.message, e.pos, None)),
        Err(PlanFailure::Plan(e)) => {
            return Err(located(&source, &e.message, e.pos, e.help.as_deref()));
        }
        Err(PlanFailure::Write(e)) => return Err(anyhow!("error: {e} (nothing written)")),
        Err(PlanFailure::Detect(e)) => return Err(detect_error(e, "\n  (nothing written)")),
    };
    outcome.plan.notes.splice(0..0, gathered.notes);

    let mut style = Style {
        color: terminal && std::env::var_os("NO_COLOR").is_none() && args.format == PlanFormat::Text,
        ascii: args.ascii || !utf8_locale(),
        width: receipt_width(args.width, terminal),
        link: None,
    };
    let mut info = RunInfo { dry_run: args.dry_run, report: None };
    let mut report_file: Option<GeneratedFile> = None;
    // A report for every plan that is not safe, for any with --report, and whenever the receipt overflows.
    if args.report || outcome.plan.risk != Risk::Safe || !report::receipt_fits(&outcome, &style, &info) {
        let slug = outcome.plan.steps.first().map_or("plan", |s| s.slug.as_str());
        let mut path = format!(".zdm/reports/{now}_{slug}.html");
        let mut n = 1;
        while args.dir.join(&path).exists() {
            n += 1;
            path = format!(".zdm/reports/{now}_{slug}_{n}.html");
        }
        // Shown relative to the current directory (or absolute when --dir is), not to --dir.
        let shown = if args.dir == Path::new(".") { path.clone() } else { args.dir.join(&path).display().to_string() };
        info.report = Some(if args.dry_run { format!("{shown} (not written: dry run)") } else { shown });
        if terminal && !args.dry_run && std::env::var("TERM").is_ok_and(|t| t != "dumb") {
            style.link = std::fs::canonicalize(&args.dir).ok().map(|d| format!("file://{}", d.join(&path).display()));
        }
        // A dry run writes no report, so it is not rendered either.
        if !args.dry_run {
            report_file = Some(GeneratedFile::new(path, mask_secrets(&report::html_report(&outcome, &info, &human_now))));
        }
    }
    if !args.dry_run {
        let mut all = outcome.files.clone();
        all.extend(report_file);
        all.push(crate::verify::manifest(&outcome, &now, &args.dir));
        write::write_all(&args.dir, &all)?;
    }
    let text = match args.format {
        PlanFormat::Json => {
            let mut json = report::json_report(&outcome, &info);
            if let Some(list) = json.get_mut("warnings").and_then(|w| w.as_array_mut()) {
                let read = read_warnings.iter().map(|w| serde_json::json!({"path": w.path, "message": mask_secrets(&w.message)}));
                list.splice(0..0, read);
            }
            serde_json::to_string_pretty(&json)? + "\n"
        }
        PlanFormat::Markdown => report::markdown(&outcome, &info),
        PlanFormat::Text => report::receipt(&outcome, &style, &info),
    };
    emit(&mask_secrets(&text))
}

/// The places in the project's code that use what `change` touches. Migration history (the migrations
/// directory detection picks, schema dumps) is not scanned: it is not code that runs.
fn code_refs(dir: &std::path::Path, change: &str, files: &zdm_core::model::ProjectFiles, tool: &ToolArgs) -> Vec<zdm_core::refs::CodeRef> {
    let targets = zdm_core::refs::touched(change);
    if targets.is_empty() {
        return Vec::new();
    }
    let mut exclude: Vec<String> = zdm_core::schema::DUMP_PATHS.iter().map(|p| (*p).to_string()).collect();
    if let Ok(found) = zdm_core::tools::detect(files, &tool.choice())
        && !found.detection.dir.is_empty()
        && found.detection.dir != "."
    {
        exclude.push(found.detection.dir.trim_end_matches('/').to_string());
    }
    zdm_refs::scan(dir, &targets, &exclude).refs
}

/// A line on standard error (secrets masked; a closed standard error is ignored).
pub fn warn(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{}", mask_secrets(text));
}

/// `--width`, else `COLUMNS`, else the terminal's width, else 100 (the receipt clamps to 60–100).
fn receipt_width(flag: Option<u16>, terminal: bool) -> usize {
    let env = std::env::var("COLUMNS").ok().and_then(|v| v.trim().parse::<usize>().ok()).filter(|&c| c > 0);
    let tty = || terminal.then(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0))).flatten();
    flag.map(usize::from).or(env).or_else(tty).unwrap_or(report::MAX_WIDTH)
}

pub fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .is_none_or(|v| v.to_uppercase().contains("UTF-8") || v.to_uppercase().contains("UTF8"))
}
