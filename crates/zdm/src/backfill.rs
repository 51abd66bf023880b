//! `zdm backfill`: flags to a `zdm_core::backfill::Job`, the connection (as `zdm plan` finds and opens
//! it), Ctrl-C, the progress display (a bar on a terminal, a log line every 10 s otherwise) and the summary.
//!
//! Exit codes: 0 done; 2 refused (bad flags, unknown table or column, no key, a checkpoint for another
//! SET/WHERE); 3 stopped on request with the checkpoint kept (rerun resumes); 1 failed while running
//! (the checkpoint holds every committed batch; rerun resumes).

use crate::cli::{Format, warn};
use anyhow::{Result, anyhow};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use zdm_core::backfill::{Job, Progress, Status};
use zdm_core::model::mask_secrets;
use zdm_pg::backfill::{BatchRecord, Error, Observer, Options, Signals};

/// `zdm backfill` flags.
#[derive(Args)]
pub struct BackfillArgs {
    /// The table to backfill (schema.table or table).
    #[arg(long, value_name = "TABLE", required_unless_present = "step", conflicts_with = "step", requires = "set")]
    pub table: Option<String>,
    /// The assignments: "new_col = <expression>[, …]".
    #[arg(long = "set", value_name = "ASSIGNMENTS", requires = "table")]
    pub set: Option<String>,
    /// Only rows matching this condition.
    #[arg(long = "where", value_name = "CONDITION", requires = "table")]
    pub filter: Option<String>,
    /// Run the backfill step of a plan zdm wrote (a migration file holding its `DO $zdm$` block).
    #[arg(long, value_name = "FILE")]
    pub step: Option<PathBuf>,
    /// The database. Default: the connection string the project configures (DATABASE_URL, .env, …).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// The project directory (where the connection string is looked for).
    #[arg(long, short = 'd', value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// First batch size, rows (then adapted toward --target-batch-ms).
    #[arg(long, value_name = "ROWS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=100_000))]
    pub batch_size: u64,
    /// Target time of one batch (the longest row locks are held), ms.
    #[arg(long, value_name = "MS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(20..=5000))]
    pub target_batch_ms: u64,
    /// Rate limit, rows per second.
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u64).range(10..))]
    pub max_rows_per_sec: Option<u64>,
    /// Pause while a standby's replay lag is above this many seconds (0 turns the check off).
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub max_replica_lag: f64,
    /// lock_timeout of each batch, ms (a batch that waits longer rolls back and retries smaller).
    #[arg(long, value_name = "MS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub lock_timeout_ms: u64,
    /// Pause while this file exists.
    #[arg(long, value_name = "PATH")]
    pub pause_file: Option<PathBuf>,
    /// Write one CSV line per committed batch to this file (batch, last key, rows, changed, size, ms).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Pause while a vacuum (autovacuum included) runs on the table.
    #[arg(long)]
    pub pause_on_vacuum: bool,
    /// Only resume an interrupted run (refuse when there is no checkpoint).
    #[arg(long, conflicts_with = "restart")]
    pub resume: bool,
    /// Start over, ignoring (and replacing) a checkpoint.
    #[arg(long)]
    pub restart: bool,
    /// Run expressions that call volatile or unknown functions (a rerun changes rows again).
    #[arg(long)]
    pub allow_volatile: bool,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Longest wait for the database to answer when connecting.
    #[arg(long, value_name = "SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=120))]
    pub connect_timeout: u64,
}

fn job(args: &BackfillArgs) -> Result<Job> {
    let refused = |e: String| anyhow!("error: {e}");
    match (&args.step, &args.table, &args.set) {
        (Some(path), _, _) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow!("error: cannot read {}: {}", path.display(), crate::project::cause(&e)))?;
            Job::from_step(&text, args.allow_volatile).map_err(|e| anyhow!("error: {}: {e}", path.display()))
        }
        (None, Some(table), Some(set)) => Job::from_flags(table, set, args.filter.as_deref(), args.allow_volatile).map_err(refused),
        _ => Err(anyhow!("error: give --table and --set, or --step FILE")),
    }
}

fn url(args: &BackfillArgs) -> Result<String> {
    if let Some(u) = &args.database_url {
        return Ok(u.clone());
    }
    let (files, _) = crate::project::read(&args.dir)?;
    crate::live::discover(&args.dir, &files).map(|(u, _)| u).ok_or_else(|| {
        anyhow!("error: no database to backfill: the project configures none\n  = help: pass --database-url URL (or set DATABASE_URL)")
    })
}

/// Runs `zdm backfill`; returns the exit code.
pub fn run(args: &BackfillArgs) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(e) => {
            warn(&e.to_string());
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: &BackfillArgs) -> Result<ExitCode> {
    let job = job(args)?;
    let url = url(args)?;
    let mut client = zdm_pg::introspect::connect(&url, Duration::from_secs(args.connect_timeout), None)
        .map_err(|e| anyhow!("error: cannot connect to {}: {}", zdm_pg::introspect::describe(&url), mask_secrets(&e)))?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            // Second interrupt: leave now; the open batch rolls back with the connection.
            std::process::exit(130);
        }
        warn("stopping after the current batch (Ctrl-C again to abort it)");
    });
    let opts = Options {
        batch_size: args.batch_size,
        target_ms: args.target_batch_ms,
        max_rows_per_sec: args.max_rows_per_sec,
        lock_timeout_ms: args.lock_timeout_ms,
        restart: args.restart,
        resume_only: args.resume,
        signals: Signals {
            pause_file: args.pause_file.clone(),
            max_replica_lag: (args.max_replica_lag > 0.0).then_some(args.max_replica_lag),
            vacuum: args.pause_on_vacuum,
        },
        max_backoff_ms: 30_000,
    };
    let trace = match &args.trace {
        Some(path) => {
            let f = std::fs::File::create(path).map_err(|e| anyhow!("error: cannot write the trace {}: {e}", path.display()))?;
            let mut w = std::io::BufWriter::new(f);
            writeln!(w, "batch,last_key,rows,changed,size,ms")?;
            Some(w)
        }
        None => None,
    };
    let mut display = Display::new(std::io::stderr().is_terminal(), trace);
    let result = zdm_pg::backfill::run(&mut client, &job, &opts, &stop, &mut display);
    display.done()?;
    match result {
        Ok(summary) => {
            let out = match args.format {
                Format::Json => format!("{}\n", serde_json::to_string_pretty(&summary)?),
                Format::Text => summary.text(),
            };
            crate::cli::emit(&mask_secrets(&out))?;
            Ok(if summary.status == Status::Done { ExitCode::SUCCESS } else { ExitCode::from(3) })
        }
        Err(Error::Refused(m)) => Err(anyhow!("error: {m}")),
        Err(Error::Failed(m)) => {
            warn(&format!("error: {m}"));
            Ok(ExitCode::from(1))
        }
    }
}

/// Progress: a bar on a terminal, else a plain line every 10 s; notes as lines either way.
struct Display {
    bar: Option<ProgressBar>,
    last: Instant,
    trace: Option<std::io::BufWriter<std::fs::File>>,
}

impl Display {
    fn new(terminal: bool, trace: Option<std::io::BufWriter<std::fs::File>>) -> Display {
        let bar = terminal.then(|| {
            let b = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(4));
            b.set_style(
                ProgressStyle::with_template("{bar:30} {human_pos}/{human_len} rows {per_sec} ETA {eta} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        });
        Display { bar, last: Instant::now(), trace }
    }

    fn done(&mut self) -> std::io::Result<()> {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        self.trace.as_mut().map_or(Ok(()), std::io::Write::flush)
    }
}

impl Observer for Display {
    fn progress(&mut self, p: &Progress) {
        match &self.bar {
            Some(b) => {
                b.set_length(p.estimate);
                b.set_position(p.rows_scanned);
                let p90 = p.p90_ms.map_or_else(String::new, |v| format!(" p90 {v:.0}ms"));
                b.set_message(format!("batch {}{p90} waits {} {}", p.batch, p.retries, p.state));
            }
            None => {
                if self.last.elapsed() >= Duration::from_secs(10) {
                    self.last = Instant::now();
                    warn(&p.line());
                }
            }
        }
    }

    fn batch(&mut self, b: &BatchRecord<'_>) {
        if let Some(w) = self.trace.as_mut() {
            // The key as one CSV field: its values joined by `|`, quoted as CSV quotes.
            let key = b.up.join("|").replace('"', "\"\"");
            let _ = writeln!(w, "{},\"{key}\",{},{},{},{:.1}", b.number, b.rows, b.changed, b.size, b.ms);
        }
    }

    fn note(&mut self, line: &str) {
        match &self.bar {
            Some(b) => b.println(mask_secrets(line)),
            None => warn(line),
        }
    }
}
