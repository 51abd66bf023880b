//! `zdm verify`: runs a plan's steps (or given migration files) on a scratch database shaped like the
//! project's, filled with synthetic rows, optionally under app traffic; traces every statement's locks and
//! rewrites; rolls everything back and forward again and compares the schema; audits the app's writes.
//! Results come back as `zdm_core::report::verify::VerifyRun` (pure data the core renders).
//!
//! Files: `target` (scratch database or throwaway cluster, cleanup), `synth` (synthetic rows), `locks`
//! (the two lock observers, rewrite detection), `traffic` (app workers, blocker, audit), `roundtrip`
//! (schema dumps compared).

pub mod locks;
pub mod roundtrip;
pub mod synth;
pub mod target;
pub mod traffic;

use crate::runner::Section;
use locks::{Poller, changes, filenodes, own_locks, stretches};
use postgres::Client;
use std::time::{Duration, Instant};
use target::{Target, introspect_err};
use zdm_core::plan::CodeChange;
use zdm_core::report::verify::{
    AppStats, LockHold, Pass, RoundTrip, Settings, StatementTrace, StepResult, VerifyRun, lock_rank, step_problems,
};

/// One step to verify.
#[derive(Clone, Debug)]
pub struct StepSpec {
    /// Position (1-based).
    pub n: usize,
    /// File name, or `code deploy`.
    pub label: String,
    /// `expand`, `backfill`, `code`, `contract`, `single`, `file`.
    pub kind: String,
    /// Forward section (None for a code deploy).
    pub up: Option<Section>,
    /// Rollback section (None: the file has none).
    pub down: Option<Section>,
    /// For a code deploy: what the app changes (the switch from old to new code happens here).
    pub code: Option<Vec<CodeChange>>,
}

/// Where the starting schema comes from.
#[derive(Clone, Debug)]
pub enum Start {
    /// Earlier migrations' forward SQL, in order (path, SQL).
    Replay(Vec<(String, String)>),
    /// A live database, copied schema-only.
    Copy(String),
}

/// Settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// Synthetic rows per touched table.
    pub rows: u64,
    /// App traffic workers (0: none).
    pub workers: usize,
    /// Target ops/s over all workers.
    pub rate: u32,
    /// Longest write-blocking lock hold allowed, ms.
    pub threshold_ms: u64,
    /// Longest app lock wait allowed, ms.
    pub max_wait_ms: u64,
    /// Blocker transaction per step of the first pass, ms (0: none; only with traffic).
    pub blocker_ms: u64,
    /// Traffic kept running after each step, ms.
    pub dwell_ms: u64,
    /// Lock observer poll interval, ms.
    pub poll_ms: u64,
    /// Run down and up again after the first pass.
    pub round_trip: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            rows: 100_000,
            workers: 0,
            rate: 200,
            threshold_ms: 100,
            max_wait_ms: 1000,
            blocker_ms: 0,
            dwell_ms: 500,
            poll_ms: 5,
            round_trip: true,
        }
    }
}

/// A verify job.
#[derive(Clone, Debug)]
pub struct Job {
    /// Server for the scratch database (None: a throwaway cluster).
    pub server_url: Option<String>,
    /// Keep the scratch database.
    pub keep: bool,
    /// Starting schema.
    pub start: Start,
    /// Steps in order.
    pub steps: Vec<StepSpec>,
    /// What is verified, for the report.
    pub source: String,
    /// Settings.
    pub options: Options,
}

/// The result, and the kept database's connection string with `--keep`.
pub struct Outcome {
    /// Results.
    pub run: VerifyRun,
    /// Kept scratch database.
    pub kept: Option<String>,
}

fn ms_since(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1000.0
}

/// Runs a job. `progress` gets a line per phase.
///
/// # Errors
/// Verify itself could not run (no server, the starting schema does not load, synthetic rows do not
/// fit): the message says why.
pub fn verify(job: &Job, progress: &mut dyn FnMut(&str)) -> Result<Outcome, String> {
    let t0 = Instant::now();
    let target = Target::open(job.server_url.as_deref(), job.keep)?;
    let result = run_on(&target, job, t0, progress);
    let kept = target.finish();
    result.map(|run| Outcome { run, kept })
}

fn touched_tables(c: &mut Client, steps: &[StepSpec]) -> Result<Vec<String>, String> {
    let text: String =
        steps.iter().flat_map(|s| [s.up.as_ref(), s.down.as_ref()]).flatten().map(|s| s.sql.to_lowercase()).collect::<Vec<_>>().join("\n");
    let rows = c
        .query(
            "SELECT c.oid::regclass::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
             ORDER BY 1",
            &[],
        )
        .map_err(|e| introspect_err(&e))?;
    Ok(rows
        .iter()
        .filter(|r| {
            let name = r.get::<_, String>(1).to_lowercase();
            text.match_indices(&name).any(|(i, _)| {
                let before = text[..i].chars().next_back();
                let after = text[i + name.len()..].chars().next();
                let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                !word(before) && !word(after)
            })
        })
        .map(|r| r.get(0))
        .collect())
}

fn run_on(target: &Target, job: &Job, t0: Instant, progress: &mut dyn FnMut(&str)) -> Result<VerifyRun, String> {
    let o = &job.options;
    let mut run = VerifyRun {
        target: target.describe.clone(),
        source: job.source.clone(),
        rows: o.rows,
        settings: Settings {
            threshold_ms: o.threshold_ms,
            max_wait_ms: o.max_wait_ms,
            poll_ms: o.poll_ms,
            workers: o.workers,
            rate: if o.workers > 0 { o.rate } else { 0 },
            blocker_ms: if o.workers > 0 { o.blocker_ms } else { 0 },
        },
        ..VerifyRun::default()
    };
    let mut c = target::connect(&target.conninfo)?;
    match &job.start {
        Start::Copy(url) => {
            progress("copying the schema (pg_dump --schema-only)");
            target.copy_schema(url)?;
            run.start = format!("schema of {} (pg_dump --schema-only)", crate::introspect::describe(url));
        }
        Start::Replay(files) => {
            progress(&format!("replaying {} earlier migration(s)", files.len()));
            for (path, sql) in files {
                for s in zdm_core::tools::common::statements(sql) {
                    c.batch_execute(&s).map_err(|e| format!("{path} does not apply on the scratch database: {}", introspect_err(&e)))?;
                }
            }
            run.start = format!("project history replayed ({} migration(s))", files.len());
        }
    }
    c.batch_execute("RESET ALL").map_err(|e| introspect_err(&e))?;
    // A killed verify's statement stops within a second instead of running on (PostgreSQL 14+).
    let _ = c.batch_execute("SET client_connection_check_interval = '1s'");
    let touched = touched_tables(&mut c, &job.steps)?;
    let infos = synth::with_parents(&mut c, &touched)?;
    progress(&format!("filling {} table(s) with {} rows each", infos.len(), o.rows));
    synth::fill(&mut c, &infos, o.rows)?;
    run.tables = infos.iter().map(|t| t.name.clone()).collect();
    let before = target.dump(&target.conninfo)?;

    let pid: i32 = c.query_one("SELECT pg_backend_pid()", &[]).map_err(|e| introspect_err(&e))?.get(0);
    let poller = Poller::start(&target.conninfo, pid, t0, Duration::from_millis(o.poll_ms))?;
    let changes: Vec<CodeChange> = job.steps.iter().filter_map(|s| s.code.clone()).flatten().collect();
    let app_infos: Vec<synth::TableInfo> = infos.iter().filter(|t| touched.contains(&t.name)).cloned().collect();
    let mut traffic = if o.workers > 0 {
        let tables = traffic::app_tables(&app_infos, &changes);
        if tables.is_empty() {
            run.notes.push("no touched table has a one-column integer primary key: no app traffic".into());
            None
        } else {
            Some(traffic::Traffic::start(&target.conninfo, tables, changes, o.rows, o.workers, o.rate, t0)?)
        }
    } else {
        None
    };
    if traffic.is_some() {
        std::thread::sleep(Duration::from_millis(o.dwell_ms));
        if let Some(t) = &traffic {
            let _ = t.drain();
        }
    }
    let _ = poller.drain();
    let mut ctx =
        Ctx { c: &mut c, target, poller: &poller, traffic: traffic.as_ref(), o, t0, touched: &touched, out_of_sync: (0, Vec::new()) };

    let forward: Vec<&StepSpec> = job.steps.iter().collect();
    let backward: Vec<&StepSpec> = job.steps.iter().rev().collect();
    let mut failed = !ctx.pass(&forward, Pass::Up, &mut run.steps, progress);
    if failed {
        run.round_trip.skipped = Some("a step failed".into());
    } else if !o.round_trip {
        run.round_trip.skipped = Some("--no-round-trip".into());
    } else if let Some(s) = job.steps.iter().find(|s| s.code.is_none() && s.down.is_none()) {
        run.round_trip.skipped = Some(format!("{} has no down section", s.label));
    } else {
        let after_up = target.dump(&target.conninfo)?;
        failed = !ctx.pass(&backward, Pass::Down, &mut run.steps, progress);
        if !failed {
            let after_down = target.dump(&target.conninfo)?;
            failed = !ctx.pass(&forward, Pass::Again, &mut run.steps, progress);
            let again = if failed { None } else { Some(target.dump(&target.conninfo)?) };
            run.round_trip = RoundTrip {
                ran: !failed,
                skipped: failed.then(|| "a step failed".to_string()),
                down_vs_before: roundtrip::diff(&before, &after_down),
                again_vs_up: again.map(|a| roundtrip::diff(&after_up, &a)).unwrap_or_default(),
            };
        } else {
            run.round_trip.skipped = Some("a step failed".into());
        }
    }
    let (sync_n, sync_keys) = std::mem::take(&mut ctx.out_of_sync);
    if let Some(t) = traffic.as_mut() {
        t.stop();
        let mut audit = t.audit(&mut c);
        audit.out_of_sync = sync_n;
        audit.bad_keys.extend(sync_keys);
        audit.bad_keys.truncate(20);
        run.audit = Some(audit);
    }
    drop(poller);
    for s in &run.steps {
        run.problems.extend(step_problems(s, &run.settings));
    }
    for d in run.round_trip.down_vs_before.iter().take(5) {
        run.problems.push(format!("round trip: after down, schema differs from before: {d}"));
    }
    for d in run.round_trip.again_vs_up.iter().take(5) {
        run.problems.push(format!("round trip: after up again, schema differs from the first up: {d}"));
    }
    if let Some(a) = &run.audit
        && !a.clean()
    {
        run.problems.push(format!(
            "lost-write audit: {} missing, {} stale, {} out of sync; first: {}",
            a.missing,
            a.stale,
            a.out_of_sync,
            a.bad_keys.first().map_or("", String::as_str)
        ));
    }
    run.notes.push(format!(
        "lock observer: every {} ms from a second connection, plus the migration's own locks after each statement",
        o.poll_ms
    ));
    run.duration_ms = ms_since(t0);
    Ok(run)
}

struct Ctx<'a> {
    c: &'a mut Client,
    target: &'a Target,
    poller: &'a Poller,
    traffic: Option<&'a traffic::Traffic>,
    o: &'a Options,
    t0: Instant,
    touched: &'a [String],
    out_of_sync: (u64, Vec<String>),
}

/// A section's run: its statements, when it committed, its error, verify's own query time inside it.
struct SectionRun {
    ran: Vec<Ran>,
    commit: f64,
    error: Option<String>,
    overhead: Vec<(f64, f64)>,
}

/// A statement's run on the migration connection.
struct Ran {
    sql: String,
    start: f64,
    end: f64,
    own: Vec<(String, String)>,
    rewrites: Vec<String>,
    rebuilds: Vec<String>,
}

impl Ctx<'_> {
    /// Runs `steps` in one pass; false when one failed (the pass stops there).
    fn pass(&mut self, steps: &[&StepSpec], pass: Pass, out: &mut Vec<StepResult>, progress: &mut dyn FnMut(&str)) -> bool {
        let word = match pass {
            Pass::Up => "up",
            Pass::Down => "down",
            Pass::Again => "up again",
        };
        for s in steps {
            progress(&format!("step {} {word}: {}", s.n, s.label));
            let r = self.step(s, pass);
            let failed = r.error.is_some();
            out.push(r);
            if failed {
                return false;
            }
        }
        true
    }

    fn step(&mut self, s: &StepSpec, pass: Pass) -> StepResult {
        let start = ms_since(self.t0);
        let mut error = None;
        let mut ran: Vec<Ran> = Vec::new();
        let mut commit = start;
        let mut overhead: Vec<(f64, f64)> = Vec::new();
        if s.code.is_some() {
            if let Some(t) = self.traffic {
                if pass == Pass::Up {
                    let (n, keys) = t.out_of_sync(self.c);
                    self.out_of_sync.0 += n;
                    self.out_of_sync.1.extend(keys);
                }
                t.set_new_code(pass != Pass::Down);
            }
        } else {
            let section = if pass == Pass::Down { s.down.as_ref() } else { s.up.as_ref() };
            let blocker = if pass == Pass::Up && self.traffic.is_some() && self.o.blocker_ms > 0 && !self.touched.is_empty() {
                traffic::hold_blocker(&self.target.conninfo, self.touched, self.o.blocker_ms).ok()
            } else {
                None
            };
            if let Some(sec) = section {
                SectionRun { ran, commit, error, overhead } = self.section(sec);
            }
            if let Some(b) = blocker {
                let _ = b.join();
            }
        }
        std::thread::sleep(Duration::from_millis(if self.traffic.is_some() { self.o.dwell_ms } else { 0 }));
        let end = ms_since(self.t0);
        let samples = self.poller.drain();
        let seen = stretches(&samples);
        // Each lock belongs to the statement that took it: the first whose own-lock list (inside the
        // transaction) shows it, else the one running when the poller first saw it.
        // (By time: the last statement that began before the lock was last seen; a lock last seen before
        // the first statement began is the previous step's, released since.)
        let owner = |rel: &str, mode: &str, last: f64| -> Option<usize> {
            ran.iter().position(|r| r.own.iter().any(|(a, b)| a == rel && b == mode)).or_else(|| ran.iter().rposition(|r| r.start <= last))
        };
        let mut per: Vec<Vec<LockHold>> = vec![Vec::new(); ran.len()];
        for st in seen.iter().filter(|x| x.granted) {
            if let Some(i) = owner(&st.relation, &st.mode, st.last) {
                let wait = seen
                    .iter()
                    .filter(|w| {
                        !w.granted && w.relation == st.relation && w.mode == st.mode && w.first >= ran[i].start - 1.0 && w.last <= st.first
                    })
                    .map(|w| w.last - w.first + self.o.poll_ms as f64)
                    .fold(0.0, f64::max);
                push_max(&mut per[i], &st.relation, &st.mode, st.last - st.first - overlap(&overhead, st.first, st.last), wait);
            }
        }
        // Inside a transaction a lock is held at least from the end of the statement that took it to
        // COMMIT: a lower bound that catches holds shorter than the poll interval.
        for (i, r) in ran.iter().enumerate() {
            for (rel, mode) in &r.own {
                if first_owner(&ran, rel, mode) == i {
                    push_max(&mut per[i], rel, mode, (commit - r.end - overlap(&overhead, r.end, commit)).max(0.0), 0.0);
                }
            }
        }
        let statements = ran
            .iter()
            .zip(per)
            .map(|(r, mut locks)| {
                locks.sort_by(|a, b| lock_rank(&b.mode).cmp(&lock_rank(&a.mode)).then(a.relation.cmp(&b.relation)));
                StatementTrace {
                    sql: r.sql.clone(),
                    start_ms: r.start,
                    duration_ms: r.end - r.start,
                    locks,
                    rewrites: r.rewrites.clone(),
                    index_rebuilds: r.rebuilds.clone(),
                }
            })
            .collect();
        let (app, latency) = match self.traffic {
            Some(t) => {
                let ops = t.drain();
                let (wait, queued) = locks::app_waits(&samples, self.o.poll_ms as f64);
                (Some(app_stats(&ops, wait, queued, t.code())), latency_series(&ops, start, end))
            }
            None => (None, Vec::new()),
        };
        StepResult {
            n: s.n,
            pass,
            label: s.label.clone(),
            kind: s.kind.clone(),
            start_ms: start,
            duration_ms: end - start,
            statements,
            app,
            latency,
            error,
            waits: locks::index_waits(&samples, self.o.poll_ms as f64),
        }
    }

    /// Runs a section statement by statement (inside BEGIN/COMMIT when transactional), tracing each.
    /// Also returns the stretches spent in verify's own catalog queries inside the transaction, which
    /// lengthen the holds and are taken off them.
    fn section(&mut self, sec: &Section) -> SectionRun {
        let mut ran = Vec::new();
        let mut overhead = Vec::new();
        let stmts = zdm_core::tools::common::statements(&sec.sql);
        if stmts.is_empty() {
            return SectionRun { ran, commit: ms_since(self.t0), error: None, overhead };
        }
        let mut error = None;
        if sec.transaction
            && let Err(e) = self.c.batch_execute("BEGIN")
        {
            return SectionRun { ran, commit: ms_since(self.t0), error: Some(introspect_err(&e)), overhead };
        }
        let mut before = filenodes(self.c);
        for s in &stmts {
            let start = ms_since(self.t0);
            let result = self.c.batch_execute(s);
            let end = ms_since(self.t0);
            if let Err(e) = result {
                error = Some(format!("{} ({})", introspect_err(&e), head(s)));
                ran.push(Ran { sql: head(s), start, end, own: Vec::new(), rewrites: Vec::new(), rebuilds: Vec::new() });
                break;
            }
            let busy = ms_since(self.t0);
            let own = if sec.transaction { own_locks(self.c) } else { Vec::new() };
            let after = filenodes(self.c);
            let (rewritten, rebuilds) = changes(&before, &after);
            before = after;
            overhead.push((busy, ms_since(self.t0)));
            let mut rewrites = Vec::new();
            for t in rewritten {
                let rows: i64 = self.c.query_one(&format!("SELECT count(*) FROM {t}"), &[]).map_or(0, |r| r.get(0));
                if rows > 0 {
                    rewrites.push(format!("{t} ({rows} rows)"));
                }
            }
            ran.push(Ran { sql: head(s), start, end, own, rewrites, rebuilds });
        }
        if sec.transaction {
            let done = if error.is_some() { "ROLLBACK" } else { "COMMIT" };
            if let Err(e) = self.c.batch_execute(done) {
                error.get_or_insert_with(|| introspect_err(&e));
            }
        }
        SectionRun { ran, commit: ms_since(self.t0), error, overhead }
    }
}

/// How much of [a, b] the intervals cover.
fn overlap(intervals: &[(f64, f64)], a: f64, b: f64) -> f64 {
    intervals.iter().map(|&(s, e)| (e.min(b) - s.max(a)).max(0.0)).sum()
}

fn first_owner(ran: &[Ran], rel: &str, mode: &str) -> usize {
    ran.iter().position(|r| r.own.iter().any(|(a, b)| a == rel && b == mode)).unwrap_or(0)
}

fn push_max(locks: &mut Vec<LockHold>, rel: &str, mode: &str, hold: f64, wait: f64) {
    if let Some(l) = locks.iter_mut().find(|l| l.relation == rel && l.mode == mode) {
        l.hold_ms = l.hold_ms.max(hold);
        l.wait_ms = l.wait_ms.max(wait);
    } else {
        locks.push(LockHold { relation: rel.to_string(), mode: mode.to_string(), hold_ms: hold, wait_ms: wait });
    }
}

/// The first meaningful line of a statement, shortened.
fn head(sql: &str) -> String {
    let line = sql.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with("--")).unwrap_or("");
    let mut out: String = line.chars().take(90).collect();
    if line.chars().count() > 90 || sql.trim().lines().filter(|l| !l.trim().starts_with("--")).count() > 1 {
        out.push('…');
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn app_stats(ops: &[traffic::Op], wait: f64, queued: usize, code: &str) -> AppStats {
    let mut lat: Vec<f64> = ops.iter().map(|o| o.latency).collect();
    lat.sort_by(f64::total_cmp);
    let mut errors = std::collections::BTreeMap::new();
    for e in ops.iter().filter_map(|o| o.error.clone()) {
        *errors.entry(e).or_insert(0) += 1;
    }
    AppStats {
        ops: ops.len() as u64,
        errors,
        p50_ms: percentile(&lat, 0.5),
        p99_ms: percentile(&lat, 0.99),
        max_ms: lat.last().copied().unwrap_or(0.0),
        max_wait_ms: wait,
        queued,
        code: code.to_string(),
    }
}

/// Worst latency per slice (at most 60 slices per step).
fn latency_series(ops: &[traffic::Op], start: f64, end: f64) -> Vec<(f64, f64)> {
    let slice = ((end - start) / 60.0).max(50.0);
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut t = start;
    while t < end {
        let worst = ops.iter().filter(|o| o.t >= t && o.t < t + slice).map(|o| o.latency).fold(f64::NAN, f64::max);
        if !worst.is_nan() {
            out.push((t + slice / 2.0, worst));
        }
        t += slice;
    }
    out
}
