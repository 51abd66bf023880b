//! Flags and the `plan` subcommand. Flags are validated before any file is read.

use crate::{project, write};
use anyhow::{Context, Result, anyhow};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Read;
use std::path::PathBuf;
use zdm_core::model::{GeneratedFile, PgVersion, Pos, mask_secrets};
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
    /// List every rule: ID, severity, one line.
    Rules(RulesArgs),
    /// Print one rule's documentation: what it detects, why, the lock, the safe strategy, versions.
    Explain(ExplainArgs),
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
pub fn rules(args: &RulesArgs) {
    if args.markdown {
        print!("{}", report::rules_markdown());
    } else {
        print!("{}", report::rule_list(&Style { color: false, ascii: args.ascii || !utf8_locale() }));
    }
}

/// `zdm explain ID`.
pub fn explain(args: &ExplainArgs) -> Result<()> {
    match report::explain(&args.rule) {
        Some(text) => {
            print!("{text}");
            Ok(())
        }
        None => Err(anyhow!("error: no rule `{}`\n  = help: `zdm rules` lists them", args.rule)),
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args)]
pub struct PlanArgs {
    /// The change as SQL (one or more statements), or `-` to read it from standard input.
    pub sql: Option<String>,
    /// Read the change from this file instead.
    #[arg(long, short = 'f', value_name = "FILE", conflicts_with = "sql")]
    pub file: Option<PathBuf>,
    /// The project directory.
    #[arg(long, short = 'd', value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Name for the generated files (lower case, digits, underscores).
    #[arg(long, value_name = "SLUG", value_parser = parse_slug)]
    pub name: Option<String>,
    /// Print the plan; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// PostgreSQL major version to plan for.
    #[arg(long, value_name = "N", default_value_t = 15, value_parser = clap::value_parser!(u32).range(i64::from(PgVersion::MIN)..=i64::from(PgVersion::MAX)))]
    pub pg_version: u32,
    /// lock_timeout set at the top of every transactional step.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub lock_timeout: String,
    /// Rows per backfill batch.
    #[arg(long, value_name = "ROWS", default_value_t = 5000, value_parser = clap::value_parser!(u32).range(10..=1_000_000))]
    pub batch_size: u32,
    /// A type change swaps the new column in under the old name (running connections must be recycled
    /// right after the swap: their prepared statements fail with SQLSTATE 0A000). Default: the new column
    /// keeps its own name (`<column>_<type>`) and the code deploy moves to it.
    #[arg(long)]
    pub keep_column_name: bool,
    /// ASCII marks and box instead of Unicode.
    #[arg(long)]
    pub ascii: bool,
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

fn read_change(args: &PlanArgs) -> Result<Source> {
    match (&args.sql, &args.file) {
        (_, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| anyhow!("error: cannot read {}: {e}", path.display()))?;
            Ok(Source { label: path.display().to_string(), text })
        }
        (Some(s), None) if s == "-" => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).context("error: reading standard input")?;
            Ok(Source { label: "<stdin>".into(), text })
        }
        (Some(s), None) => Ok(Source { label: "<change>".into(), text: s.clone() }),
        (None, None) => Err(anyhow!(
            "error: no change given\n  = help: zdm plan \"ALTER TABLE …\", zdm plan --file change.sql, or zdm plan - < change.sql"
        )),
    }
}

/// `error: message` / `--> source:line:col` / the line with a caret / `= help: …`.
fn located(source: &Source, message: &str, pos: Pos, help: Option<&str>) -> anyhow::Error {
    let line = source.text.lines().nth(pos.line.saturating_sub(1)).unwrap_or("");
    let gutter = pos.line.to_string().len();
    let mut out = format!(
        "error: {message}\n{:gutter$}--> {}:{}\n{:gutter$} |\n{} | {line}\n{:gutter$} | {}^",
        "",
        source.label,
        pos,
        "",
        pos.line,
        "",
        " ".repeat(pos.col.saturating_sub(1))
    );
    if let Some(h) = help {
        out.push_str(&format!("\n{:gutter$} = help: {h}", ""));
    }
    anyhow!(out)
}

fn utc_now() -> (String, String) {
    let now = time::OffsetDateTime::now_utc();
    let compact = now.format(time::macros::format_description!("[year][month][day][hour][minute][second]")).unwrap_or_default();
    let human = now.format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC")).unwrap_or_default();
    (compact, human)
}

/// `zdm plan`.
pub fn plan(args: &PlanArgs, terminal: bool) -> Result<()> {
    let source = read_change(args)?;
    let files = project::read(&args.dir)?;
    let (now, human_now) = utc_now();
    let config = PlanConfig {
        pg: PgVersion(args.pg_version),
        lock_timeout: args.lock_timeout.clone(),
        batch_size: args.batch_size,
        keep_column_name: args.keep_column_name,
        ..PlanConfig::default()
    };
    let change = zdm_core::tools::change_text(&source.text);
    let change_path = args.file.as_deref().and_then(|f| project::relative(&args.dir, f));
    let input = pipeline::Input {
        change: &change,
        files: &files,
        config,
        now: &now,
        name: args.name.as_deref(),
        change_path: change_path.as_deref(),
    };
    let outcome = match pipeline::run(input) {
        Ok(o) => o,
        Err(PlanFailure::Syntax(e)) => return Err(located(&source, &e.message, e.pos, None)),
        Err(PlanFailure::Plan(e)) => {
            return Err(located(&source, &e.message, e.pos, e.help.as_deref()));
        }
        Err(PlanFailure::Write(e)) => return Err(anyhow!("error: {e} (nothing written)")),
    };

    let style = Style {
        color: terminal && std::env::var_os("NO_COLOR").is_none() && matches!(args.format, Format::Text),
        ascii: args.ascii || !utf8_locale(),
    };
    let mut info = RunInfo { dry_run: args.dry_run, report: None };
    let full = report::receipt(&outcome, &style, &info);
    let mut report_file: Option<GeneratedFile> = None;
    if full.is_none() {
        let slug = outcome.plan.steps.first().map_or("plan", |s| s.slug.as_str());
        let path = format!(".zdm/reports/{now}_{slug}.html");
        info.report = Some(if args.dry_run { format!("{path} (not written: dry run)") } else { path.clone() });
        report_file = Some(GeneratedFile { path, contents: mask_secrets(&report::html_report(&outcome, &info, &human_now)) });
    }
    if !args.dry_run {
        let mut all = outcome.files.clone();
        all.extend(report_file);
        write::write_all(&args.dir, &all)?;
    }
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report::json_report(&outcome, &info))? + "\n",
        Format::Text => full.unwrap_or_else(|| report::receipt(&outcome, &style, &info).unwrap_or_default()),
    };
    print!("{}", mask_secrets(&text));
    Ok(())
}

fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .is_none_or(|v| v.to_uppercase().contains("UTF-8") || v.to_uppercase().contains("UTF8"))
}
