//! `zdm check`: flags, the files to check (paths given, or what git says changed since a ref), `zdm.toml`
//! `[check]`, and writing each report. Everything judged is judged in `zdm_core::check`.
//!
//! Exit codes: 0 nothing at or above `--fail-on`; 1 something is; 2 zdm could not do the job (bad flags or
//! config, an unreadable file, a git ref that is missing).

use crate::cli::{ToolArgs, emit};
use crate::project;
use anyhow::{Context, Result, anyhow};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::Command;
use zdm_core::check::{self, CheckConfig, CheckReport};
use zdm_core::model::{PgVersion, ProjectFile, ProjectFiles, Risk, mask_secrets};

#[derive(Args)]
pub struct CheckArgs {
    /// Migration files (or directories) to check; none: every migration, or those changed since --since.
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
    /// The project directory.
    #[arg(long, short = 'd', value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Check the migrations added or changed since this git ref (from its merge-base with HEAD, the working
    /// tree and untracked files included).
    #[arg(long, value_name = "GIT_REF")]
    pub since: Option<String>,
    /// Output format on standard output.
    #[arg(long, value_enum, default_value = "text")]
    pub format: CheckFormat,
    /// Also write a report: FORMAT=PATH (repeatable), e.g. sarif=zdm.sarif, gitlab=gl-code-quality.json.
    #[arg(long, value_name = "FORMAT=PATH", value_parser = parse_report)]
    pub report: Vec<(CheckFormat, PathBuf)>,
    /// Target PostgreSQL major version (default: zdm.toml [check] pg_version, else 15).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(i64::from(PgVersion::MIN)..=i64::from(PgVersion::MAX)))]
    pub pg_version: Option<u32>,
    /// Exit 1 when a finding is at or above this risk: safe, info, risky (default), dangerous.
    #[arg(long, value_name = "RISK", value_parser = zdm_core::live::parse_fail_on)]
    pub fail_on: Option<Risk>,
    /// Rules (ID or name) not to report (repeatable; adds to zdm.toml [check] exclude).
    #[arg(long, value_name = "RULE")]
    pub exclude: Vec<String>,
    /// Judge every checked file as running inside a transaction, whatever its tool's switch says.
    #[arg(long)]
    pub assume_in_transaction: bool,
    /// ASCII severity marks.
    #[arg(long)]
    pub ascii: bool,
    #[command(flatten)]
    pub tool: ToolArgs,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum CheckFormat {
    Text,
    Json,
    Sarif,
    Github,
    Gitlab,
}

fn parse_report(text: &str) -> Result<(CheckFormat, PathBuf), String> {
    let (format, path) = text.split_once('=').ok_or("use FORMAT=PATH, e.g. sarif=zdm.sarif")?;
    let format =
        CheckFormat::from_str(format, true).map_err(|_| format!("unknown format `{format}`: text, json, sarif, github or gitlab"))?;
    if path.is_empty() {
        return Err("the path is empty".into());
    }
    Ok((format, PathBuf::from(path)))
}

/// `zdm check`: Ok(true) when the run fails (exit 1).
pub fn check(args: &CheckArgs) -> Result<bool> {
    let (mut files, warnings) = project::read(&args.dir)?;
    for w in &warnings {
        crate::cli::warn(&format!("warning: {}: {}", w.path, w.message));
    }
    let config = config(args)?;
    let mut targets: Option<Vec<String>> = None;
    if !args.paths.is_empty() {
        targets = Some(given(&args.dir, &args.paths, &mut files)?);
    }
    if let Some(r) = &args.since {
        let changed = changed_since(&args.dir, r)?;
        targets.get_or_insert_with(Vec::new).extend(changed);
    }
    let report = check::check(&files, targets.as_deref(), &args.tool.choice(), &config).map_err(|e| {
        let help = e.help.map(|h| format!("\n  = help: {h}")).unwrap_or_default();
        anyhow!("error: {}{help}", e.message)
    })?;
    for (format, path) in &args.report {
        let text = render(*format, &report, &files, true);
        std::fs::write(path, text).map_err(|e| anyhow!("error: cannot write report {}: {}", path.display(), project::cause(&e)))?;
    }
    emit(&render(args.format, &report, &files, args.ascii))?;
    Ok(report.failed())
}

/// One format's bytes, secrets masked.
fn render(format: CheckFormat, report: &CheckReport, files: &ProjectFiles, ascii: bool) -> String {
    let pretty = |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
    let text = match format {
        CheckFormat::Text => check::text::text(report, ascii),
        CheckFormat::Json => pretty(check::json::json(report)),
        CheckFormat::Sarif => pretty(check::sarif::sarif(report, &|p| Some(zdm_core::tools::file_text(files, p).to_string()))),
        CheckFormat::Github => check::github::github(report),
        CheckFormat::Gitlab => pretty(check::gitlab::gitlab(report)),
    };
    mask_secrets(&text)
}

/// Flags over `zdm.toml` `[check]`, rule names validated.
fn config(args: &CheckArgs) -> Result<CheckConfig> {
    let toml_path = args.dir.join("zdm.toml");
    let toml = match std::fs::read_to_string(&toml_path) {
        Ok(text) => zdm_core::live::parse_zdm_toml(&text).map_err(|e| anyhow!("error: {}: {e}", toml_path.display()))?.check,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => zdm_core::live::CheckToml::default(),
        Err(e) => return Err(anyhow!("error: cannot read {}: {}", toml_path.display(), project::cause(&e))),
    };
    let mut exclude = toml.exclude;
    exclude.extend(args.exclude.iter().cloned());
    let config = CheckConfig {
        pg: PgVersion(args.pg_version.or(toml.pg_version).unwrap_or(PgVersion::DEFAULT.0)),
        fail_on: args.fail_on.or(toml.fail_on).unwrap_or(Risk::Risky),
        exclude,
        assume_in_transaction: if args.assume_in_transaction { Some(true) } else { toml.assume_in_transaction },
        overrides: toml.overrides,
    };
    if let Some(r) = config.unknown_rules().first() {
        return Err(anyhow!("error: no rule `{r}` to exclude\n  = help: zdm rules lists every rule"));
    }
    Ok(config)
}

/// The given paths relative to the project directory; a directory stands for the files under it. A file
/// the project walk did not read (another extension) is read now.
fn given(dir: &Path, paths: &[PathBuf], files: &mut ProjectFiles) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| anyhow!("error: cannot read {}: {}", p.display(), project::cause(&e)))?;
        let rel = project::relative(dir, p)
            .ok_or_else(|| anyhow!("error: {} is outside the project directory {}\n  = help: pass --dir", p.display(), dir.display()))?;
        if meta.is_dir() {
            let prefix = if rel.is_empty() { String::new() } else { format!("{rel}/") };
            out.extend(files.files.iter().filter(|f| f.path.starts_with(&prefix)).map(|f| f.path.clone()));
            continue;
        }
        if !files.exists(&rel) {
            let bytes = std::fs::read(p).map_err(|e| anyhow!("error: cannot read {}: {}", p.display(), project::cause(&e)))?;
            let (contents, _) = project::decode(bytes);
            let at = files.files.partition_point(|f| f.path < rel);
            files.files.insert(at, ProjectFile { path: rel.clone(), contents });
        }
        out.push(rel);
    }
    Ok(out)
}

fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output> {
    Command::new("git").arg("-C").arg(dir).args(args).output().context("error: cannot run git (is it installed?)")
}

/// Files added, changed or renamed since the merge-base of `reference` and HEAD (working tree included),
/// plus untracked files; paths relative to `dir`.
pub fn changed_since(dir: &Path, reference: &str) -> Result<Vec<String>> {
    // A ref never starts with `-`; git would read one as an option.
    if reference.starts_with('-') {
        return Err(anyhow!("error: `{reference}` is not a git ref (--since takes a branch, tag or commit)"));
    }
    let verify = git(dir, &["rev-parse", "--verify", "--quiet", &format!("{reference}^{{commit}}")])?;
    if !verify.status.success() {
        return Err(anyhow!(
            "error: git ref `{reference}` not found in {}\n  = help: fetch it first: `git fetch origin {reference}`, or in GitHub Actions checkout with `fetch-depth: 0`",
            dir.display()
        ));
    }
    let base = git(dir, &["merge-base", reference, "HEAD"])?;
    if !base.status.success() {
        return Err(anyhow!(
            "error: `{reference}` and HEAD share no history (a shallow clone?)\n  = help: checkout with `fetch-depth: 0`, or `git fetch --unshallow`"
        ));
    }
    let base = String::from_utf8_lossy(&base.stdout).trim().to_string();
    let diff = git(dir, &["diff", "--name-only", "--relative", "--diff-filter=AMR", "-z", &base, "--", "."])?;
    let untracked = git(dir, &["ls-files", "--others", "--exclude-standard", "-z", "--", "."])?;
    for o in [&diff, &untracked] {
        if !o.status.success() {
            return Err(anyhow!("error: git failed: {}", String::from_utf8_lossy(&o.stderr).trim()));
        }
    }
    let mut out: Vec<String> = [&diff.stdout, &untracked.stdout]
        .iter()
        .flat_map(|b| b.split(|c| *c == 0))
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}
