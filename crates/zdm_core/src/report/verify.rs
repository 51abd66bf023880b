//! `zdm verify`'s results as plain data (filled by `zdm_pg::verify`) and their renderings: the receipt
//! (one line per step), the JSON object and the self-contained HTML report with a per-step timeline of
//! app latency and locks. Pure: numbers in, strings out.

use super::{mark, wrap};
use crate::model::{Risk, mask_secrets};
use minijinja::context;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One verify run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyRun {
    /// Where it ran (`throwaway cluster …` / `scratch database … on host:port`), never a password.
    pub target: String,
    /// What was verified (`plan .zdm/plans/….json`, `2 files`).
    pub source: String,
    /// Where the starting schema came from.
    pub start: String,
    /// Synthetic rows per touched table.
    pub rows: u64,
    /// Tables filled.
    pub tables: Vec<String>,
    /// Thresholds and settings.
    pub settings: Settings,
    /// Every step run, in order: the first pass up, then down in reverse, then up again.
    pub steps: Vec<StepResult>,
    /// Schema differences found by the round trip (empty: identical), or why it was skipped.
    pub round_trip: RoundTrip,
    /// The lost-write audit (with traffic).
    pub audit: Option<Audit>,
    /// What broke a threshold: each names the step and the lock (empty: passed).
    pub problems: Vec<String>,
    /// Notes (what verify could not see, what it skipped).
    pub notes: Vec<String>,
    /// Wall time of the whole run.
    pub duration_ms: f64,
}

/// Thresholds and settings of a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Settings {
    /// Longest ACCESS EXCLUSIVE (or any write-blocking lock) hold allowed.
    pub threshold_ms: u64,
    /// Longest an app query may wait on a lock the migration holds or queues for.
    pub max_wait_ms: u64,
    /// The lock observer's poll interval.
    pub poll_ms: u64,
    /// App traffic: workers and target ops/s (0: no traffic).
    pub workers: usize,
    /// Target ops/s over all workers.
    pub rate: u32,
    /// A blocker transaction held during each step of the first pass (0: none).
    pub blocker_ms: u64,
}

/// Which pass of the round trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pass {
    /// First run forward.
    Up,
    /// Rollback, last step first.
    Down,
    /// Forward again.
    Again,
}

impl Pass {
    fn word(self) -> &'static str {
        match self {
            Pass::Up => "up",
            Pass::Down => "down",
            Pass::Again => "up again",
        }
    }
}

/// One lock a statement held.
#[derive(Clone, Debug, Serialize)]
pub struct LockHold {
    /// Relation (`public.users`).
    pub relation: String,
    /// PostgreSQL's mode name (`AccessExclusiveLock`).
    pub mode: String,
    /// How long it was held, ms.
    pub hold_ms: f64,
    /// How long the migration waited for it, ms.
    pub wait_ms: f64,
}

/// One statement's trace.
#[derive(Clone, Debug, Serialize)]
pub struct StatementTrace {
    /// The statement's first line (shortened).
    pub sql: String,
    /// Offset from the run's start, ms.
    pub start_ms: f64,
    /// Duration, ms.
    pub duration_ms: f64,
    /// Locks, strongest first.
    pub locks: Vec<LockHold>,
    /// Tables whose heap (or TOAST) was rewritten, with their rows (`public.users (1000 rows)`).
    pub rewrites: Vec<String>,
    /// Indexes rebuilt without a table rewrite.
    pub index_rebuilds: Vec<String>,
}

/// App traffic during one step.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AppStats {
    /// Operations finished.
    pub ops: u64,
    /// Errors, by SQLSTATE (`57014`, `42703`, …).
    pub errors: BTreeMap<String, u64>,
    /// Latency percentiles and max, ms, from each operation's scheduled start.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Maximum.
    pub max_ms: f64,
    /// Longest an app query waited on a lock the migration held or queued for, ms.
    pub max_wait_ms: f64,
    /// App backends seen queued behind the migration.
    pub queued: usize,
    /// Code version the app ran (`old`, `new`).
    pub code: String,
}

impl AppStats {
    /// All errors.
    #[must_use]
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// One step run in one pass.
#[derive(Clone, Debug, Serialize)]
pub struct StepResult {
    /// Step number in the plan (1-based).
    pub n: usize,
    /// Pass.
    pub pass: Pass,
    /// What ran (file name, or `code deploy`).
    pub label: String,
    /// Kind (`expand`, `backfill`, `code`, `contract`, `single`, `file`).
    pub kind: String,
    /// Offset from the run's start, ms.
    pub start_ms: f64,
    /// Duration, ms.
    pub duration_ms: f64,
    /// Statements, in order.
    pub statements: Vec<StatementTrace>,
    /// App traffic during the step.
    pub app: Option<AppStats>,
    /// App latency over time: (offset ms from the run's start, worst latency ms in that slice).
    pub latency: Vec<(f64, f64)>,
    /// PostgreSQL refused the step (SQLSTATE and message).
    pub error: Option<String>,
    /// What the step waited for without blocking anyone (an index build waiting for old snapshots).
    pub waits: Vec<String>,
}

impl StepResult {
    /// The strongest lock any statement held, with the longest hold of that mode.
    #[must_use]
    pub fn max_lock(&self) -> Option<&LockHold> {
        self.statements.iter().flat_map(|s| &s.locks).max_by(|a, b| {
            lock_rank(&a.mode).cmp(&lock_rank(&b.mode)).then(a.hold_ms.partial_cmp(&b.hold_ms).unwrap_or(std::cmp::Ordering::Equal))
        })
    }

    /// Tables rewritten.
    #[must_use]
    pub fn rewrites(&self) -> Vec<&str> {
        self.statements.iter().flat_map(|s| s.rewrites.iter().map(String::as_str)).collect()
    }
}

/// The round trip's result.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RoundTrip {
    /// The round trip ran.
    pub ran: bool,
    /// Why it did not (no down sections, a step failed).
    pub skipped: Option<String>,
    /// Lines of the schema dump after down that differ from before up (`- …` missing, `+ …` extra).
    pub down_vs_before: Vec<String>,
    /// Lines of the schema after up again that differ from after the first up.
    pub again_vs_up: Vec<String>,
}

/// The lost-write audit.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Audit {
    /// Acknowledged inserts checked.
    pub inserts: u64,
    /// Acknowledged updates checked.
    pub updates: u64,
    /// Writes that errored (in doubt, not counted as lost).
    pub in_doubt: u64,
    /// Acknowledged inserts missing at the end.
    pub missing: u64,
    /// Rows whose value is not the last acknowledged write.
    pub stale: u64,
    /// Rows whose synced columns disagree.
    pub out_of_sync: u64,
    /// The first failing keys (`public.users id=12: stale`).
    pub bad_keys: Vec<String>,
}

impl Audit {
    /// Nothing lost, stale or out of sync.
    #[must_use]
    pub fn clean(&self) -> bool {
        self.missing == 0 && self.stale == 0 && self.out_of_sync == 0
    }
}

/// Strength order of PostgreSQL's table lock modes (0 unknown).
#[must_use]
pub fn lock_rank(mode: &str) -> u8 {
    match mode {
        "AccessShareLock" => 1,
        "RowShareLock" => 2,
        "RowExclusiveLock" => 3,
        "ShareUpdateExclusiveLock" => 4,
        "ShareLock" => 5,
        "ShareRowExclusiveLock" => 6,
        "ExclusiveLock" => 7,
        "AccessExclusiveLock" => 8,
        _ => 0,
    }
}

/// The lock's name as the PostgreSQL docs write it (`ACCESS EXCLUSIVE`).
#[must_use]
pub fn lock_words(mode: &str) -> String {
    let base = mode.strip_suffix("Lock").unwrap_or(mode);
    let mut out = String::new();
    for (i, c) in base.char_indices() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// True when the mode blocks app writes (SHARE and stronger, not SHARE UPDATE EXCLUSIVE).
#[must_use]
pub fn blocks_writes(mode: &str) -> bool {
    lock_rank(mode) >= 5
}

/// The thresholds a step broke, each one line naming the step and the lock.
#[must_use]
pub fn step_problems(step: &StepResult, settings: &Settings) -> Vec<String> {
    let who = format!("step {} ({}, {})", step.n, step.label, step.pass.word());
    let mut out = Vec::new();
    if let Some(e) = &step.error {
        out.push(format!("{who} failed: {e}"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for s in &step.statements {
        for l in &s.locks {
            if blocks_writes(&l.mode) && l.hold_ms > settings.threshold_ms as f64 && seen.insert((l.relation.clone(), l.mode.clone())) {
                out.push(format!(
                    "{who} held {} on {} for {} (threshold {} ms)",
                    lock_words(&l.mode),
                    l.relation,
                    ms(l.hold_ms),
                    settings.threshold_ms
                ));
            }
        }
        for r in &s.rewrites {
            out.push(format!("{who} rewrote {r}"));
        }
    }
    if let Some(app) = &step.app {
        if app.error_count() > 0 {
            let list: Vec<String> = app.errors.iter().map(|(k, v)| format!("{v}× {k}")).collect();
            out.push(format!("{who}: app errors {}", list.join(", ")));
        }
        if app.max_wait_ms > settings.max_wait_ms as f64 {
            let lock = step.max_lock().map(|l| format!(" ({} on {})", lock_words(&l.mode), l.relation)).unwrap_or_default();
            out.push(format!(
                "{who}: app queries waited {} behind the migration{lock} (limit {} ms)",
                ms(app.max_wait_ms),
                settings.max_wait_ms
            ));
        }
    }
    out
}

fn ms(v: f64) -> String {
    if v >= 10_000.0 { format!("{:.1} s", v / 1000.0) } else { format!("{v:.0} ms") }
}

fn short_lock(mode: &str) -> String {
    let w = lock_words(mode);
    w.replace("ACCESS EXCLUSIVE", "ACC EXCL").replace("SHARE UPDATE EXCLUSIVE", "SHR UPD EXCL").replace("ROW EXCLUSIVE", "ROW EXCL")
}

/// The verdict: passed, or the run broke a threshold.
#[must_use]
pub fn verify_passed(run: &VerifyRun) -> bool {
    run.problems.is_empty()
}

/// The terminal receipt (at most 40 lines).
#[must_use]
pub fn verify_receipt(run: &VerifyRun, ascii: bool, width: usize, report: Option<&str>) -> String {
    let width = width.clamp(super::MIN_WIDTH, super::MAX_WIDTH);
    let mut lines: Vec<String> = Vec::new();
    let title = format!("Verify: {}", run.source);
    let facts = format!("Target: {}", run.target);
    let load = format!("Rows: {} per table │ Traffic: {}", run.rows, traffic_words(&run.settings));
    let load = if ascii { load.replace('│', "|") } else { load };
    let inner = [&title, &facts, &load].iter().map(|l| l.chars().count()).max().unwrap_or(0).min(width - 4);
    let (tl, tr, bl, br, h, v) = if ascii { ("+", "+", "+", "+", "-", "|") } else { ("┌", "┐", "└", "┘", "─", "│") };
    lines.push(format!("{tl}{}{tr}", h.repeat(inner + 2)));
    for l in [&title, &facts, &load] {
        let cut: String = l.chars().take(inner).collect();
        lines.push(format!("{v} {cut}{} {v}", " ".repeat(inner - cut.chars().count())));
    }
    lines.push(format!("{bl}{}{br}", h.repeat(inner + 2)));
    let (risk, verdict) = if verify_passed(run) {
        (Risk::Safe, format!("PASSED  {} step runs within thresholds; no app errors, no lost writes.", run.steps.len()))
    } else {
        (Risk::Dangerous, format!("FAILED  {} problem(s); first: {}", run.problems.len(), run.problems[0]))
    };
    let (m, _) = mark(risk, ascii);
    lines.extend(wrap(&format!("{m} {verdict}"), "", "   ", width));
    lines.push(String::new());
    lines.push("Steps (max lock, hold, rewrite, app errors, p99)".into());
    for s in &run.steps {
        let lock = s.max_lock().map_or_else(|| "no table lock".into(), |l| format!("{} {}", short_lock(&l.mode), ms(l.hold_ms)));
        let rw = if s.rewrites().is_empty() { "rewrite: no".to_string() } else { "rewrite: YES".to_string() };
        let app = s.app.as_ref().map_or_else(String::new, |a| format!(" · app {} err p99 {}", a.error_count(), ms(a.p99_ms)));
        let bad = !step_problems(s, &run.settings).is_empty();
        let (sm, _) = mark(if bad { Risk::Dangerous } else { Risk::Safe }, ascii);
        let pass = match s.pass {
            Pass::Up => "",
            Pass::Down => "↓",
            Pass::Again => "↑",
        };
        let pass = if ascii { pass.replace('↓', "v").replace('↑', "^") } else { pass.to_string() };
        let waited = s.waits.first().map(|w| format!(" · {}", w.replace("index build ", ""))).unwrap_or_default();
        let text = format!("{sm} {}{pass} {} — {lock} · {rw}{app}{waited}", s.n, s.label);
        lines.extend(wrap(&text, " ", "     ", width));
    }
    lines.push(String::new());
    if run.round_trip.ran {
        let diffs = run.round_trip.down_vs_before.len() + run.round_trip.again_vs_up.len();
        lines.push(if diffs == 0 {
            "Round trip: schema identical after down and after up again".into()
        } else {
            format!("Round trip: {diffs} schema difference(s)")
        });
    } else if let Some(why) = &run.round_trip.skipped {
        lines.extend(wrap(&format!("Round trip: skipped ({why})"), "", "  ", width));
    }
    if let Some(a) = &run.audit {
        lines.push(format!(
            "Audit: {} inserts, {} updates checked · {} missing, {} stale, {} out of sync, {} in doubt",
            a.inserts, a.updates, a.missing, a.stale, a.out_of_sync, a.in_doubt
        ));
    }
    for p in run.problems.iter().skip(1).take(3) {
        let (m, _) = mark(Risk::Dangerous, ascii);
        lines.extend(wrap(&format!("{m} {p}"), "", "   ", width));
    }
    if let Some(r) = report {
        lines.push(format!("Report: {r}"));
    }
    if lines.len() > super::RECEIPT_MAX_LINES {
        let tail = lines.split_off(super::RECEIPT_MAX_LINES - 2);
        let report_line = tail.iter().find(|l| l.starts_with("Report: ")).cloned();
        lines.push("… the rest is in the report".into());
        lines.extend(report_line);
    }
    mask_secrets(&(lines.join("\n") + "\n"))
}

fn traffic_words(s: &Settings) -> String {
    if s.workers == 0 { "none".into() } else { format!("{} ops/s, {} workers", s.rate, s.workers) }
}

/// The JSON object (`--format json`).
#[must_use]
pub fn verify_json(run: &VerifyRun, report: Option<&str>) -> serde_json::Value {
    let mut v = serde_json::to_value(run).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("passed".into(), verify_passed(run).into());
        o.insert("report".into(), report.into());
    }
    crate::model::mask_json(&mut v);
    v
}

const TEMPLATE: &str = include_str!("verify.html");

/// The self-contained HTML report.
#[must_use]
pub fn verify_html(run: &VerifyRun, generated_at: &str) -> String {
    let env = super::html::masked_environment("verify.html", TEMPLATE);
    let steps: Vec<_> = run
        .steps
        .iter()
        .map(|s| {
            let problems = step_problems(s, &run.settings);
            let statements: Vec<_> = s
                .statements
                .iter()
                .map(|t| {
                    let locks: Vec<String> =
                        t.locks.iter().map(|l| format!("{} on {} held {}", lock_words(&l.mode), l.relation, ms(l.hold_ms))).collect();
                    context! { sql => t.sql, duration => ms(t.duration_ms), locks => locks, rewrites => t.rewrites, rebuilds => t.index_rebuilds }
                })
                .collect();
            context! {
                n => s.n, pass => s.pass.word(), label => s.label, kind => s.kind, duration => ms(s.duration_ms),
                lock => s.max_lock().map(|l| format!("{} on {} · {}", lock_words(&l.mode), l.relation, ms(l.hold_ms))),
                rewrite => !s.rewrites().is_empty(), error => s.error, problems => problems, statements => statements, waits => s.waits,
                app => s.app.as_ref().map(|a| context! {
                    ops => a.ops, errors => a.error_count(), p50 => ms(a.p50_ms), p99 => ms(a.p99_ms), max => ms(a.max_ms),
                    wait => ms(a.max_wait_ms), queued => a.queued, code => a.code,
                }),
            }
        })
        .collect();
    env.get_template("verify.html")
        .and_then(|t| {
            t.render(context! {
                run => run, passed => verify_passed(run), generated_at => generated_at, steps => steps,
                chart => minijinja::Value::from_safe_string(timeline_svg(run)),
            })
        })
        .expect("the verify template renders")
}

/// The timeline: one band per step (its strongest lock coloured by strength, write-blocking holds in red)
/// and the app's worst latency per time slice as a line. Numbers and fixed words only.
fn timeline_svg(run: &VerifyRun) -> String {
    let (w, h, top) = (960.0_f64, 220.0_f64, 30.0_f64);
    let end = run.steps.iter().map(|s| s.start_ms + s.duration_ms).fold(1.0_f64, f64::max);
    let first = run.steps.first().map_or(0.0, |s| s.start_ms);
    let span = (end - first).max(1.0);
    let x = |t: f64| 40.0 + (t - first) / span * (w - 50.0);
    let max_lat = run.steps.iter().flat_map(|s| s.latency.iter().map(|p| p.1)).fold(10.0_f64, f64::max);
    let y = |l: f64| h - 20.0 - l / max_lat * (h - top - 30.0);
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"timeline of steps, locks and app latency\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for s in &run.steps {
        let (x0, x1) = (x(s.start_ms), x(s.start_ms + s.duration_ms).max(x(s.start_ms) + 1.5));
        let class = match s.max_lock() {
            Some(l) if blocks_writes(&l.mode) && l.hold_ms > run.settings.threshold_ms as f64 => "bad",
            Some(l) if blocks_writes(&l.mode) => "warn",
            Some(_) => "ok",
            None => "none",
        };
        let _ = write!(svg, "<rect class=\"{class}\" x=\"{x0:.1}\" y=\"4\" width=\"{:.1}\" height=\"18\"/>", x1 - x0);
        let _ = write!(svg, "<text x=\"{:.1}\" y=\"17\" font-size=\"10\">{}</text>", x0 + 2.0, s.n);
    }
    let points: Vec<String> = run.steps.iter().flat_map(|s| s.latency.iter().map(|&(t, l)| format!("{:.1},{:.1}", x(t), y(l)))).collect();
    if !points.is_empty() {
        let _ = write!(svg, "<polyline class=\"lat\" fill=\"none\" points=\"{}\"/>", points.join(" "));
    }
    let _ = write!(
        svg,
        "<line x1=\"40\" y1=\"{b:.1}\" x2=\"{w}\" y2=\"{b:.1}\" class=\"axis\"/><text x=\"2\" y=\"{t:.1}\" font-size=\"10\">{max_lat:.0} ms</text><text x=\"2\" y=\"{b:.1}\" font-size=\"10\">0</text><text x=\"{r:.1}\" y=\"{hb:.1}\" font-size=\"10\" text-anchor=\"end\">{secs:.1} s</text></svg>",
        b = h - 20.0,
        t = top + 10.0,
        r = w - 4.0,
        hb = h - 4.0,
        secs = span / 1000.0
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(mode: &str, hold: f64, rewrite: bool) -> StepResult {
        StepResult {
            n: 1,
            pass: Pass::Up,
            label: "1_add.sql".into(),
            kind: "file".into(),
            start_ms: 0.0,
            duration_ms: hold + 5.0,
            statements: vec![StatementTrace {
                sql: "ALTER TABLE t …".into(),
                start_ms: 0.0,
                duration_ms: hold,
                locks: vec![LockHold { relation: "public.t".into(), mode: mode.into(), hold_ms: hold, wait_ms: 0.0 }],
                rewrites: if rewrite { vec!["public.t (100 rows)".into()] } else { vec![] },
                index_rebuilds: vec![],
            }],
            app: Some(AppStats { ops: 10, p99_ms: 3.0, max_ms: 4.0, code: "old".into(), ..AppStats::default() }),
            latency: vec![(1.0, 2.0), (3.0, 4.0)],
            error: None,
            waits: vec![],
        }
    }

    #[test]
    fn lock_names_and_ranks() {
        assert_eq!(lock_words("AccessExclusiveLock"), "ACCESS EXCLUSIVE");
        assert_eq!(lock_words("ShareUpdateExclusiveLock"), "SHARE UPDATE EXCLUSIVE");
        assert!(blocks_writes("ShareLock") && !blocks_writes("ShareUpdateExclusiveLock"));
    }

    #[test]
    fn thresholds_name_the_step_and_the_lock() {
        let settings = Settings { threshold_ms: 100, max_wait_ms: 500, ..Settings::default() };
        assert!(step_problems(&step("AccessExclusiveLock", 30.0, false), &settings).is_empty());
        let p = step_problems(&step("AccessExclusiveLock", 250.0, true), &settings);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("step 1 (1_add.sql, up) held ACCESS EXCLUSIVE on public.t for 250 ms"), "{p:?}");
        assert!(p[1].contains("rewrote public.t"), "{p:?}");
    }

    #[test]
    fn receipt_html_and_json_render() {
        let settings = Settings { threshold_ms: 100, max_wait_ms: 500, workers: 2, rate: 100, ..Settings::default() };
        let mut run =
            VerifyRun { target: "throwaway cluster".into(), source: "1 file".into(), rows: 100, settings, ..VerifyRun::default() };
        run.steps.push(step("AccessExclusiveLock", 250.0, false));
        run.problems = step_problems(&run.steps[0], &run.settings);
        let text = verify_receipt(&run, true, 80, Some(".zdm/reports/x.html"));
        assert!(text.contains("x FAILED"), "{text}");
        assert!(text.contains("1 1_add.sql — ACC EXCL 250 ms"), "{text}");
        assert!(text.lines().count() <= 40 && text.lines().all(|l| visible(l) <= 80), "{text}");
        let html = verify_html(&run, "now");
        assert!(html.contains("<svg") && html.contains("ACCESS EXCLUSIVE on public.t"), "{html}");
        assert_eq!(verify_json(&run, None)["passed"], false);
    }

    fn visible(l: &str) -> usize {
        super::super::visible_width(l)
    }
}
