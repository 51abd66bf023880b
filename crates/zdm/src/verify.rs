//! `zdm verify`: what to verify (given files, the migrations pending since a git ref, or the last plan's manifest under `.zdm/plans/`), where
//! the starting schema comes from, then `zdm_pg::verify` runs it and `zdm_core::report::verify` renders
//! it. Also the manifest `zdm plan` writes beside each plan (written in the plan's all-or-none write).
//!
//! Exit codes: 0 within thresholds; 1 a threshold broken, app errors or lost writes; 2 verify could
//! not run.

use crate::cli::{Format, ToolArgs, emit, warn};
use crate::project;
use anyhow::{Result, anyhow};
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zdm_core::model::{GeneratedFile, mask_secrets};
use zdm_core::pipeline::Outcome;
use zdm_core::plan::{CodeChange, Phase};
use zdm_core::report::verify::{verify_html, verify_json, verify_passed, verify_receipt};
use zdm_core::tools::SourceMigration;
use zdm_pg::runner::{self, Section};
use zdm_pg::verify::{Job, Options, Start, StepSpec};

/// Where plan manifests live, relative to the project.
pub const PLANS_DIR: &str = ".zdm/plans";

#[derive(Args)]
pub struct VerifyArgs {
    /// Migration files to verify, in order (dbmate-style `-- migrate:up`/`-- migrate:down` files,
    /// golang-migrate `.up.sql` files, or plain SQL), or a plan manifest (`.zdm/plans/*.json`). Default:
    /// the last plan zdm wrote in the project.
    pub files: Vec<PathBuf>,
    /// The project directory.
    #[arg(long, short = 'd', value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Verify the project's pending migrations: those added or changed since this git ref (its merge-base
    /// with HEAD, the working tree and untracked files included), in the tool's order.
    #[arg(long, value_name = "GIT_REF", conflicts_with = "files")]
    pub since: Option<String>,
    /// Server to verify on: zdm creates a scratch database there (never touching the database the URL
    /// names, whose schema it copies). Default: a throwaway cluster from the PostgreSQL binaries on this
    /// machine, with the project's history replayed.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Synthetic rows per touched table.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub rows: u64,
    /// Run app-like reads and writes while the steps run (old code until the code deploy, new after).
    #[arg(long)]
    pub traffic: bool,
    /// App traffic workers.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: u16,
    /// App operations per second, over all workers.
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate: u32,
    /// Longest ACCESS EXCLUSIVE (or other write-blocking) lock hold allowed.
    #[arg(long, value_name = "DURATION", default_value = "100ms", value_parser = parse_ms)]
    pub threshold: u64,
    /// Longest an app query may wait on a lock the migration holds or queues for.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_ms)]
    pub max_wait: u64,
    /// With --traffic: an app transaction holds ROW EXCLUSIVE on the touched tables this long as each
    /// step starts (first pass), so lock queues show on a scratch database (0 for none).
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_ms)]
    pub blocker: u64,
    /// With --traffic: how long traffic runs after each step before the next.
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = parse_ms)]
    pub dwell: u64,
    /// Run the steps up once only (no down, no up again).
    #[arg(long)]
    pub no_round_trip: bool,
    /// Keep the scratch database (needs --database-url; renamed zdm_kept_*).
    #[arg(long)]
    pub keep: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// ASCII marks and box.
    #[arg(long)]
    pub ascii: bool,
    #[command(flatten)]
    pub tool: ToolArgs,
}

fn parse_ms(s: &str) -> Result<u64, String> {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let n: u64 = digits.parse().map_err(|_| "use a number with ms, s or min, e.g. 100ms".to_string())?;
    match &s[digits.len()..] {
        "ms" => Ok(n),
        "s" => Ok(n * 1000),
        "min" => Ok(n * 60_000),
        "" if n == 0 => Ok(0),
        _ => Err("use a number with ms, s or min, e.g. 100ms".into()),
    }
}

fn phase_word(p: Phase) -> &'static str {
    match p {
        Phase::Single => "single",
        Phase::Expand => "expand",
        Phase::Backfill => "backfill",
        Phase::Code => "code",
        Phase::Contract => "contract",
    }
}

/// The manifest of a plan: its steps in order (kind, file, SQL up and down, code deploys), the tool.
#[must_use]
pub fn manifest(outcome: &Outcome, now: &str, dir: &Path) -> GeneratedFile {
    let steps: Vec<_> = outcome
        .plan
        .steps
        .iter()
        .map(|s| {
            json!({
                "n": s.n, "kind": phase_word(s.phase), "title": s.title, "file": s.file,
                "transaction": s.transaction, "up": s.up, "down_transaction": s.down_transaction, "down": s.down,
                "code_changes": s.code_changes,
            })
        })
        .collect();
    let slug = outcome.plan.steps.first().map_or("plan", |s| s.slug.as_str());
    let value =
        json!({"zdm_plan_manifest": 1, "created": now, "tool": outcome.detection.tool, "dir": outcome.detection.dir, "steps": steps});
    let text = serde_json::to_string_pretty(&value).unwrap_or_default() + "\n";
    let mut path = format!("{PLANS_DIR}/{now}_{slug}.json");
    let mut n = 1;
    while dir.join(&path).exists() {
        n += 1;
        path = format!("{PLANS_DIR}/{now}_{slug}_{n}.json");
    }
    GeneratedFile::new(path, mask_secrets(&text))
}

fn code_changes(v: &serde_json::Value) -> Vec<CodeChange> {
    let s = |o: &serde_json::Value, k: &str| o.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| match c.get("kind")?.as_str()? {
            "move_column" => Some(CodeChange::MoveColumn { table: s(c, "table"), from: s(c, "from"), to: s(c, "to") }),
            "drop_column" => Some(CodeChange::DropColumn { table: s(c, "table"), column: s(c, "column") }),
            "move_table" => Some(CodeChange::MoveTable { from: s(c, "from"), to: s(c, "to") }),
            _ => None,
        })
        .collect()
}

/// Reads a manifest: the steps, and the files (relative to the project) they came from.
fn read_manifest(path: &Path) -> Result<(Vec<StepSpec>, Vec<String>)> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow!("error: cannot read {}: {}", path.display(), project::cause(&e)))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow!("error: {} is not a zdm plan manifest: {e}", path.display()))?;
    let steps = v.get("steps").and_then(|s| s.as_array()).ok_or_else(|| anyhow!("error: {} has no steps", path.display()))?;
    let mut out = Vec::new();
    let mut files = Vec::new();
    for s in steps {
        let str_of = |k: &str| s.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let bool_of = |k: &str| s.get(k).and_then(serde_json::Value::as_bool).unwrap_or(true);
        let kind = str_of("kind");
        let n = s.get("n").and_then(serde_json::Value::as_u64).and_then(|n| usize::try_from(n).ok()).unwrap_or(out.len() + 1);
        if kind == "code" {
            out.push(StepSpec { n, label: "code deploy".into(), kind, up: None, down: None, code: Some(code_changes(&s["code_changes"])) });
            continue;
        }
        let file = str_of("file");
        files.push(file.clone());
        let label = Path::new(&file).file_name().map_or_else(|| format!("step {n}"), |f| f.to_string_lossy().into_owned());
        out.push(StepSpec {
            n,
            label,
            kind,
            up: Some(Section { sql: str_of("up"), transaction: bool_of("transaction") }),
            down: Some(Section { sql: str_of("down"), transaction: bool_of("down_transaction") }),
            code: None,
        });
    }
    Ok((out, files))
}

/// The last manifest `zdm plan` wrote.
fn last_manifest(dir: &Path) -> Result<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir.join(PLANS_DIR))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    found.sort();
    found.pop().ok_or_else(|| {
        anyhow!(
            "error: nothing to verify: no plan in {}\n  = help: run `zdm plan \"…\"` first, or give migration files: zdm verify db/migrations/1_x.sql",
            dir.join(PLANS_DIR).display()
        )
    })
}

/// One given file as a step.
fn file_step(n: usize, path: &Path) -> Result<StepSpec> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow!("error: cannot read {}: {}", path.display(), project::cause(&e)))?;
    let label = path.file_name().map_or_else(|| path.display().to_string(), |f| f.to_string_lossy().into_owned());
    let (up, down) = if text.lines().any(|l| l.trim_start().starts_with("-- migrate:up")) {
        let m = runner::parse(&text).map_err(|e| anyhow!("error: {}: {e}", path.display()))?;
        (m.up, Some(m.down))
    } else if let Some(stem) = label.strip_suffix(".up.sql") {
        let down_path = path.with_file_name(format!("{stem}.down.sql"));
        let down = std::fs::read_to_string(&down_path).ok().map(|sql| Section { sql, transaction: true });
        (Section { sql: text, transaction: true }, down)
    } else if path.extension().is_some_and(|e| e == "sql") {
        // As psql would run it: each statement on its own (CONCURRENTLY, VACUUM), else one transaction.
        let lower = text.to_lowercase();
        let transaction = !(lower.contains("concurrently") || lower.contains("vacuum"));
        (Section { sql: text, transaction }, None)
    } else {
        return Err(anyhow!(
            "error: {} is not SQL: zdm verify runs SQL migration files or a plan manifest (.zdm/plans/*.json)",
            path.display()
        ));
    };
    Ok(StepSpec { n, label, kind: "file".into(), up: Some(up), down, code: None })
}

/// The project's migrations in its tool's order, and their directory. `None`: the project holds no files
/// at all (and `empty_ok`). `purpose` names what the error says zdm cannot tell.
fn migrations(dir: &Path, tool: &ToolArgs, purpose: &str, empty_ok: bool) -> Result<Option<(Vec<SourceMigration>, String)>> {
    let (files, _) = project::read(dir)?;
    match zdm_core::tools::detect(&files, &tool.choice()) {
        Ok(found) => Ok(Some((found.tool.read(&files, &found.detection), found.detection.dir))),
        Err(_) if empty_ok && files.files.is_empty() => Ok(None),
        Err(e) => {
            let help = e.help.map(|h| format!("\n  = help: {h}")).unwrap_or_default();
            Err(anyhow!("error: cannot tell {purpose}: {}{help}", e.message))
        }
    }
}

/// The migrations of `listed` added or changed since `reference` (`changed`), in the tool's order.
fn pending(
    dir: &Path,
    (listed, migrations_dir): &(Vec<SourceMigration>, String),
    changed: &[String],
    reference: &str,
) -> Result<Vec<PathBuf>> {
    let pending: Vec<PathBuf> = listed.iter().filter(|m| changed.contains(&m.path)).map(|m| dir.join(&m.path)).collect();
    if pending.is_empty() {
        return Err(anyhow!("error: no migration of {migrations_dir} was added or changed since {reference}"));
    }
    Ok(pending)
}

/// The history of `listed` before the first of `verified` (relative paths), as forward SQL.
fn history(listed: Option<&[SourceMigration]>, verified: &[String]) -> (Start, Vec<String>) {
    let mut notes = Vec::new();
    let Some(listed) = listed else {
        notes.push("no migration history in the project: starting from an empty database".into());
        return (Start::Replay(Vec::new()), notes);
    };
    let mut out = Vec::new();
    for m in listed {
        if verified.iter().any(|v| v == &m.path) {
            break;
        }
        if let Some(why) = &m.unread {
            notes.push(format!("{}: not replayed ({why})", m.path));
            continue;
        }
        out.push((m.path.clone(), m.up.clone()));
    }
    (Start::Replay(out), notes)
}

/// `zdm verify`.
pub fn main(args: &VerifyArgs) -> ExitCode {
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            warn(&e.to_string());
            ExitCode::from(2)
        }
    }
}

fn run(args: &VerifyArgs) -> Result<bool> {
    project::check_dir(&args.dir)?;
    if args.keep && args.database_url.is_none() {
        return Err(anyhow!(
            "error: --keep needs --database-url: a throwaway cluster is removed when verify exits\n  = help: zdm verify --database-url postgres://… --keep"
        ));
    }
    // The project is read once, for the pending migrations and for the history before them.
    let changed = args.since.as_deref().map(|r| crate::check::changed_since(&args.dir, r)).transpose()?;
    let listed = match (&args.since, &args.database_url) {
        (Some(_), _) => migrations(&args.dir, &args.tool, "which files are migrations", false)?,
        (None, None) => migrations(&args.dir, &args.tool, "which migrations make the starting schema", true)?,
        (None, Some(_)) => None,
    };
    let pending_files;
    let files = match (&args.since, &changed, &listed) {
        (Some(reference), Some(changed), Some(listed)) => {
            pending_files = pending(&args.dir, listed, changed, reference)?;
            &pending_files
        }
        _ => &args.files,
    };
    let manifest_arg = files.iter().find(|f| f.extension().is_some_and(|e| e == "json"));
    let (steps, verified, source) = if files.is_empty() || manifest_arg.is_some() {
        let path = match manifest_arg {
            Some(p) => p.clone(),
            None => last_manifest(&args.dir)?,
        };
        let (steps, files) = read_manifest(&path)?;
        let shown = path.strip_prefix(&args.dir).unwrap_or(&path).display().to_string();
        (steps, files, format!("plan {shown}"))
    } else {
        let steps = files.iter().enumerate().map(|(i, f)| file_step(i + 1, f)).collect::<Result<Vec<_>>>()?;
        let rel: Vec<String> = files.iter().filter_map(|f| project::relative(&args.dir, f)).collect();
        let source = match (files.as_slice(), &args.since) {
            (many, Some(reference)) => format!("{} pending migration(s) since {reference}", many.len()),
            ([one], None) => one.display().to_string(),
            (many, None) => format!("{} files", many.len()),
        };
        (steps, rel, source)
    };
    let (start, notes) = match &args.database_url {
        Some(url) => (Start::Copy(url.clone()), Vec::new()),
        None => history(listed.as_ref().map(|(l, _)| l.as_slice()), &verified),
    };
    let options = Options {
        rows: args.rows,
        workers: if args.traffic { usize::from(args.workers) } else { 0 },
        rate: args.rate,
        threshold_ms: args.threshold,
        max_wait_ms: args.max_wait,
        blocker_ms: args.blocker,
        dwell_ms: args.dwell,
        round_trip: !args.no_round_trip,
        ..Options::default()
    };
    let job = Job { server_url: args.database_url.clone(), keep: args.keep, start, steps, source, options };
    let quiet = matches!(args.format, Format::Json);
    let outcome = zdm_pg::verify::verify(&job, &mut |line| {
        if !quiet {
            warn(&format!("verify: {line}"));
        }
    })
    .map_err(|e| anyhow!("error: verify could not run: {}", mask_secrets(&e)))?;
    let mut run = outcome.run;
    run.notes.extend(notes);
    if let Some(kept) = &outcome.kept {
        run.notes.push(format!("scratch database kept: {}", mask_secrets(kept)));
    }
    let (now, human) = crate::cli::utc_now();
    let path = format!(".zdm/reports/{now}_verify.html");
    let report =
        if crate::write::write_all(&args.dir, &[GeneratedFile::new(path.clone(), mask_secrets(&verify_html(&run, &human)))]).is_ok() {
            Some(if args.dir == Path::new(".") { path } else { args.dir.join(&path).display().to_string() })
        } else {
            None
        };
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&verify_json(&run, report.as_deref()))? + "\n",
        Format::Text => {
            let ascii = args.ascii || !crate::cli::utf8_locale();
            let mut t = verify_receipt(&run, ascii, zdm_core::report::MAX_WIDTH, report.as_deref());
            if let Some(kept) = &outcome.kept {
                t.push_str(&format!("Kept: {}\n", mask_secrets(kept)));
            }
            t
        }
    };
    emit(&mask_secrets(&text))?;
    Ok(verify_passed(&run))
}
