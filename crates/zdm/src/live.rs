//! The live side of a run: `zdm.toml`, `--table-size` hints, the project's connection string, and the
//! read-only introspection that turns them into plain data for the core.
//!
//! Policy: an explicit `--database-url` is always read, and a failure stops the run (exit 2, nothing
//! written): the user asked for live facts and would otherwise get a plan made without them. A connection
//! string discovered in the project's configuration is read too (named, masked, in the receipt); when it
//! fails the plan continues from the files with a warning and a note. `--offline` reads no database.

use anyhow::{Result, anyhow};
use clap::Args;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use zdm_core::model::{LiveFacts, ProjectFiles, TableStats, Thresholds, mask_secrets};

/// Flags shared by `zdm plan` and `zdm schema`.
#[derive(Args, Clone, Default)]
pub struct LiveArgs {
    /// Read the schema and table sizes from this database (read-only session). Default: the connection
    /// string the project configures (DATABASE_URL, .env, Prisma, config/database.yml, alembic.ini,
    /// knexfile, Django settings).
    #[arg(long, value_name = "URL", conflicts_with = "offline")]
    pub database_url: Option<String>,
    /// Read no database, even when the project configures one (also: ZDM_OFFLINE=1 in the environment).
    #[arg(long)]
    pub offline: bool,
    /// Table size hint, rows (repeatable): users=50000000, users=50M. Beats zdm.toml and live statistics.
    #[arg(long, value_name = "TABLE=ROWS", value_parser = parse_size)]
    pub table_size: Vec<(String, u64)>,
    /// Longest wait for the database to answer when connecting.
    #[arg(long, value_name = "SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=120))]
    pub connect_timeout: u64,
}

fn parse_size(s: &str) -> Result<(String, u64), String> {
    zdm_core::live::parse_table_size(s)
}

/// What the live side adds to a run.
pub struct Gathered {
    /// Row hints by table key.
    pub stats: BTreeMap<String, TableStats>,
    /// Class thresholds.
    pub thresholds: Thresholds,
    /// What the database said.
    pub live: Option<LiveFacts>,
    /// Lines for the receipt's notes.
    pub notes: Vec<String>,
}

/// The connection string the project configures (environment, `.env`, the tools' config files) and where
/// it was found.
pub fn discover(dir: &Path, files: &ProjectFiles) -> Option<(String, String)> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let dotenv = std::fs::read_to_string(dir.join(".env")).ok();
    zdm_core::live::url::discover(files, &env, dotenv.as_deref()).map(|d| (d.url, d.from))
}

/// Reads `zdm.toml`, the hints and (unless offline) the database.
pub fn gather(dir: &Path, files: &ProjectFiles, args: &LiveArgs) -> Result<Gathered> {
    let mut toml = zdm_core::live::ZdmToml::default();
    let toml_path = dir.join("zdm.toml");
    if toml_path.is_file() {
        let text = std::fs::read_to_string(&toml_path)
            .map_err(|e| anyhow!("error: cannot read {}: {}", toml_path.display(), crate::project::cause(&e)))?;
        toml = zdm_core::live::parse_zdm_toml(&text).map_err(|e| {
            anyhow!(
                "error: {}: {e}\n  = help: [tables] users = 50000000; [thresholds] large_rows, large_bytes, hot_writes_per_sec",
                toml_path.display()
            )
        })?;
    }
    let mut stats: BTreeMap<String, TableStats> =
        toml.tables.iter().map(|(k, n)| (k.trim_start_matches("public.").to_string(), TableStats::hint(*n, "zdm.toml"))).collect();
    for (k, n) in &args.table_size {
        stats.insert(k.clone(), TableStats::hint(*n, "--table-size"));
    }
    let mut gathered = Gathered { stats, thresholds: toml.thresholds, live: None, notes: Vec::new() };
    if args.offline || std::env::var_os("ZDM_OFFLINE").is_some_and(|v| !v.is_empty() && v != "0") {
        return Ok(gathered);
    }
    let (url, from) = match &args.database_url {
        Some(u) => (u.clone(), None),
        None => match discover(dir, files) {
            Some((url, from)) => (url, Some(from)),
            None => return Ok(gathered),
        },
    };
    let limits = zdm_pg::introspect::Limits { connect: Duration::from_secs(args.connect_timeout), ..Default::default() };
    match zdm_pg::introspect::introspect(&url, limits) {
        Ok(facts) => {
            if let Some(from) = &from {
                gathered.notes.push(format!("database URL from {from} (--offline skips it)"));
            }
            gathered.live = Some(facts);
        }
        Err(e) => match from {
            None => {
                return Err(anyhow!(
                    "error: {}\n  = help: check --database-url (or use --offline to plan from the migration files); nothing written",
                    mask_secrets(&e.to_string())
                ));
            }
            Some(from) => {
                let note = format!("{} (URL from {from}); planned from the project's files (--offline skips the attempt)", e);
                crate::cli::warn(&format!("warning: {note}"));
                gathered.notes.push(mask_secrets(&note));
            }
        },
    }
    Ok(gathered)
}
