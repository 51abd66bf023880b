//! `zdm backfill`, the pure half: what the job is (`Job`, read from flags or a plan's step file), the
//! batch-size controller (spirit's: p90 of the last 10 batches against a target time), the rate pacer, and
//! the progress and summary text. `zdm_pg::backfill` runs it against a database.

use crate::model::{QName, quote_ident};
use crate::rules::{Volatility, volatility_of};
use crate::sql::backfill as read;
use serde::Serialize;
use std::collections::BTreeMap;

/// What one backfill does, independent of the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// The table.
    pub table: QName,
    /// `column = expression` assignments (deparsed).
    pub set: Vec<(String, String)>,
    /// Extra row filter (deparsed), AND-ed to the key range and the "still needs it" predicate.
    pub filter: Option<String>,
}

impl Job {
    /// From `--table`, `--set` and `--where`. Volatile expressions (`now()`, `random()`, user functions) are
    /// refused unless `allow_volatile`: a rerun would change the rows again.
    ///
    /// # Errors
    /// A flag does not parse, or the expression is volatile.
    pub fn from_flags(table: &str, set: &str, filter: Option<&str>, allow_volatile: bool) -> Result<Job, String> {
        let table = read::parse_table(table)?;
        let (set, mut calls) = read::parse_set(set)?;
        let filter = match filter {
            Some(f) => {
                let (w, c) = read::parse_where(f)?;
                calls.extend(c);
                Some(w)
            }
            None => None,
        };
        let job = Job { table, set, filter };
        job.check_volatility(&calls, allow_volatile)?;
        Ok(job)
    }

    /// From the text of a plan's backfill step (any tool's file that holds zdm's `DO $zdm$` block).
    ///
    /// # Errors
    /// No backfill in the file, or it cannot be read.
    pub fn from_step(text: &str, allow_volatile: bool) -> Result<Job, String> {
        let parts = read::read_step(text)?;
        let job = Job { table: parts.table, set: parts.set, filter: parts.filter };
        job.check_volatility(&parts.calls, allow_volatile)?;
        Ok(job)
    }

    fn check_volatility(&self, calls: &[String], allow: bool) -> Result<(), String> {
        if allow || volatility_of(calls) != Volatility::Volatile {
            return Ok(());
        }
        let known: Vec<&str> =
            calls.iter().filter(|c| volatility_of(std::slice::from_ref(c)) == Volatility::Volatile).map(String::as_str).collect();
        Err(format!(
            "the backfill of {} calls {} (volatile or unknown function): a rerun would change rows again and \
             the result cannot match a one-shot UPDATE\n  = help: --allow-volatile runs it anyway",
            self.table,
            known.join(", ")
        ))
    }

    /// The `SET` list as SQL.
    #[must_use]
    pub fn set_sql(&self) -> String {
        self.set.iter().map(|(c, e)| format!("{} = {e}", quote_ident(c))).collect::<Vec<_>>().join(", ")
    }

    /// The predicate of rows that still need the update: some target column differs from its expression
    /// (cast to the column's type, given by `type_of`), then the filter. Rows already right are skipped, so a
    /// rerun changes nothing.
    #[must_use]
    pub fn needs_sql(&self, type_of: impl Fn(&str) -> String) -> String {
        let mut parts: Vec<String> =
            self.set.iter().map(|(c, e)| format!("{} IS DISTINCT FROM ({e})::{}", quote_ident(c), type_of(c))).collect();
        if parts.len() > 1 {
            parts = vec![format!("({})", parts.join(" OR "))];
        }
        if let Some(f) = &self.filter {
            parts.push(format!("({f})"));
        }
        parts.join(" AND ")
    }

    /// The checkpoint row's name for this table: one backfill per table at a time.
    #[must_use]
    pub fn checkpoint_name(&self) -> String {
        format!("zdm backfill {}", self.table.key())
    }
}

/// Spirit's batch-size controller: the size moves toward the one whose p90 batch time is the target.
#[derive(Clone, Debug)]
pub struct Controller {
    size: u64,
    target_ms: f64,
    samples: Vec<f64>,
    ceiling: u64,
}

/// Smallest batch.
pub const MIN_BATCH: u64 = 10;
/// Largest batch.
pub const MAX_BATCH: u64 = 100_000;
/// Samples per adjustment.
pub const WINDOW: usize = 10;

impl Controller {
    /// Starts at `size` rows aiming at `target_ms` per batch.
    #[must_use]
    pub fn new(size: u64, target_ms: u64) -> Controller {
        Controller { size: size.clamp(MIN_BATCH, MAX_BATCH), target_ms: target_ms.max(1) as f64, samples: Vec::new(), ceiling: MAX_BATCH }
    }

    /// The next batch's size.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size.min(self.ceiling).max(MIN_BATCH)
    }

    /// Caps the size (a rate limit keeps batches to a fraction of a second's rows).
    pub fn cap(&mut self, ceiling: u64) {
        self.ceiling = ceiling.clamp(MIN_BATCH, MAX_BATCH);
    }

    /// The p90 of the current window, when any.
    #[must_use]
    pub fn p90(&self) -> Option<f64> {
        p(&self.samples, 0.9)
    }

    /// Records a batch of `size` rows that took `ms`. Samples from batches of another size are ignored; a
    /// batch over 5× the target cuts the size ÷10 at once; every [`WINDOW`] samples the size becomes
    /// size × target / p90, growing at most ×1.5, within [[`MIN_BATCH`], [`MAX_BATCH`]]; after only three
    /// samples when all of them are under half the target, and as soon as the last three are over 1.5× it.
    pub fn record(&mut self, size: u64, ms: f64) {
        if size != self.size() {
            return;
        }
        if ms > 5.0 * self.target_ms {
            self.set((self.size() / 10).max(MIN_BATCH));
            return;
        }
        self.samples.push(ms);
        // A full window; or three batches, all under half the target (clearly too small: a run should not
        // spend its first hundred batches growing); or the last three over 1.5× it (clearly too large: rows
        // got dearer, and every batch would hold its row locks too long until the window fills).
        let n = self.samples.len();
        let early = n >= 3
            && (self.samples.iter().all(|&s| s < self.target_ms / 2.0) || self.samples[n - 3..].iter().all(|&s| s > self.target_ms * 1.5));
        if self.samples.len() >= WINDOW || early {
            let p90 = self.p90().unwrap_or(self.target_ms).max(0.1);
            let factor = (self.target_ms / p90).min(1.5);
            self.set(((self.size() as f64 * factor).round() as u64).clamp(MIN_BATCH, MAX_BATCH));
        }
    }

    /// Halves the size (after a lock or statement timeout).
    pub fn halve(&mut self) {
        self.set((self.size() / 2).max(MIN_BATCH));
    }

    fn set(&mut self, size: u64) {
        self.size = size;
        self.samples.clear();
    }
}

/// The `q` quantile of some durations (nearest rank).
#[must_use]
pub fn p(samples: &[f64], q: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
    Some(s[rank - 1])
}

/// How long to wait so that `rows` done after `elapsed_ms` stay at or under `rate` rows per second.
#[must_use]
pub fn pace_ms(rows: u64, elapsed_ms: f64, rate: Option<u64>) -> f64 {
    match rate {
        Some(r) if r > 0 => (rows as f64 * 1000.0 / r as f64 - elapsed_ms).max(0.0),
        _ => 0.0,
    }
}

/// A progress reading.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    /// The table.
    pub table: String,
    /// Rows of the frozen key range walked so far.
    pub rows_scanned: u64,
    /// Rows changed so far.
    pub rows_changed: u64,
    /// Estimated rows in the range.
    pub estimate: u64,
    /// Rows per second over the run.
    pub rate: f64,
    /// Next batch size.
    pub batch: u64,
    /// p90 batch time of the current window, ms.
    pub p90_ms: Option<f64>,
    /// Lock waits and retries so far.
    pub retries: u64,
    /// `running`, or `throttled: <reason>`.
    pub state: String,
}

impl Progress {
    /// Seconds left at the current rate.
    #[must_use]
    pub fn eta_s(&self) -> Option<f64> {
        (self.rate > 0.0).then(|| self.estimate.saturating_sub(self.rows_scanned) as f64 / self.rate)
    }

    /// One plain log line (what a non-terminal gets every 10 s).
    #[must_use]
    pub fn line(&self) -> String {
        let pct = if self.estimate > 0 {
            format!(" ({:.0}%)", 100.0 * self.rows_scanned.min(self.estimate) as f64 / self.estimate as f64)
        } else {
            String::new()
        };
        let eta = self.eta_s().map_or_else(|| "?".to_string(), |s| format!("{s:.0} s"));
        let p90 = self.p90_ms.map_or_else(String::new, |p| format!(", p90 {p:.0} ms"));
        format!(
            "backfill {}: {}/{} rows{pct}, {} changed, {} rows/s, ETA {eta}, batch {}{p90}, lock waits {}, state: {}",
            self.table,
            thousands(self.rows_scanned),
            thousands(self.estimate),
            thousands(self.rows_changed),
            thousands(self.rate.round() as u64),
            thousands(self.batch),
            self.retries,
            self.state
        )
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every row of the frozen range is done; the checkpoint is gone.
    Done,
    /// Stopped on request (Ctrl-C, SIGTERM, `--max-throttle`) after committing a batch; rerun resumes.
    Paused,
}

/// What a run did.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The table.
    pub table: String,
    /// Columns set.
    pub columns: Vec<String>,
    /// How it ended.
    pub status: Status,
    /// Whether it continued an earlier run's checkpoint.
    pub resumed: bool,
    /// Rows of the frozen range walked (this run).
    pub rows_scanned: u64,
    /// Rows changed (this run).
    pub rows_changed: u64,
    /// Batches committed.
    pub batches: u64,
    /// Wall time, ms.
    pub wall_ms: u64,
    /// Time paused by throttles, ms.
    pub throttled_ms: u64,
    /// Time backing off after errors, ms.
    pub backoff_ms: u64,
    /// Batch times (the time each batch's transaction held its locks), ms.
    pub batch_ms: BatchTimes,
    /// Retried errors by SQLSTATE.
    pub retries: BTreeMap<String, u64>,
    /// Rows walked per second while walking (start to the last batch; the verification count after it is
    /// `verify_ms`).
    pub rows_per_sec: f64,
    /// Time of the verification count (and a catch-up pass, if any), ms.
    pub verify_ms: u64,
    /// Rows in the frozen range that still need the update after the run (the verification count).
    pub remaining: Option<u64>,
    /// The last batch size.
    pub final_batch: u64,
    /// How the batch's UPDATE is planned (from EXPLAIN of the first batch).
    pub plan: String,
    /// The key the range was frozen at (as text, one value per key column); later rows are the
    /// trigger's or the default's.
    pub range_end: Vec<String>,
}

/// Batch-time statistics, ms.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BatchTimes {
    /// Mean.
    pub avg: f64,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Longest.
    pub max: f64,
}

impl BatchTimes {
    /// From every batch's time.
    #[must_use]
    pub fn of(ms: &[f64]) -> BatchTimes {
        if ms.is_empty() {
            return BatchTimes::default();
        }
        BatchTimes {
            avg: ms.iter().sum::<f64>() / ms.len() as f64,
            p50: p(ms, 0.5).unwrap_or(0.0),
            p99: p(ms, 0.99).unwrap_or(0.0),
            max: ms.iter().copied().fold(0.0, f64::max),
        }
    }
}

impl Summary {
    /// The final line(s), in the output kit's style.
    #[must_use]
    pub fn text(&self) -> String {
        let cols = match self.columns.as_slice() {
            [one] => one.clone(),
            many => format!("{{{}}}", many.join(", ")),
        };
        let retries = if self.retries.is_empty() {
            "no retries".to_string()
        } else {
            let total: u64 = self.retries.values().sum();
            let by: Vec<String> = self.retries.iter().map(|(k, v)| format!("{k} ×{v}")).collect();
            format!("{total} retries ({})", by.join(", "))
        };
        let head = match self.status {
            Status::Done => match self.remaining {
                Some(0) | None => format!("✔ {}.{cols} backfilled", self.table),
                Some(n) => {
                    format!("▲ {}.{cols} backfilled; {} rows still differ (written by a path that skips it)", self.table, thousands(n))
                }
            },
            Status::Paused => format!("● {}.{cols} backfill paused; checkpoint kept, rerun to resume", self.table),
        };
        format!(
            "{head}\n  {} rows changed of {} scanned in {} batches, {:.1} s ({} rows/s; verified in {:.1} s){}\n  batches: max {:.0} ms, p99 {:.0} ms, p50 {:.0} ms; {retries}; throttled {:.1} s\n  plan: {}\n",
            thousands(self.rows_changed),
            thousands(self.rows_scanned),
            thousands(self.batches),
            self.wall_ms as f64 / 1000.0,
            thousands(self.rows_per_sec.round() as u64),
            self.verify_ms as f64 / 1000.0,
            if self.resumed { ", resumed" } else { "" },
            self.batch_ms.max,
            self.batch_ms.p99,
            self.batch_ms.p50,
            self.throttled_ms as f64 / 1000.0,
            self.plan,
        )
    }
}

/// `1234567` → `1,234,567`.
#[must_use]
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches cost `ms_per_row` each; the controller settles near the target within a few windows and
    /// re-settles after the cost changes (acceptance test B7, on the controller's maths).
    #[test]
    fn controller_converges_and_follows_a_change() {
        let mut c = Controller::new(1000, 100);
        let mut trace = Vec::new();
        for i in 0..200 {
            let cost = if i < 100 { 0.01 } else { 0.05 };
            let size = c.size();
            let ms = size as f64 * cost;
            trace.push(ms);
            c.record(size, ms);
        }
        // Before the change: the last window within ±30% of the target.
        let before = p(&trace[90..100], 0.9).unwrap();
        assert!((70.0..=130.0).contains(&before), "{before}");
        // After the change (5× slower rows): no batch over 5× the target, and back within ±30% in 20.
        assert!(trace[100..].iter().all(|&ms| ms <= 500.0));
        let after = p(&trace[120..140], 0.9).unwrap();
        assert!((70.0..=130.0).contains(&after), "{after}");
        assert!(trace[140..].iter().all(|&ms| (70.0..=130.0).contains(&ms)));
    }

    /// Rows 4× dearer (not enough for the 5× cut): three batches over 1.5× the target shrink the size, and
    /// the batches are back within ±30% of the target within 10 batches of the change.
    #[test]
    fn controller_shrinks_within_ten_batches() {
        let mut c = Controller::new(1000, 100);
        let mut trace = Vec::new();
        for i in 0..120 {
            let cost = if i < 80 { 0.01 } else { 0.04 };
            let size = c.size();
            let ms = size as f64 * cost;
            trace.push(ms);
            c.record(size, ms);
        }
        assert!((70.0..=130.0).contains(&p(&trace[70..80], 0.9).unwrap()));
        assert!(trace[80] > 300.0, "{:?}", &trace[80..]);
        assert!(trace[90..].iter().all(|&ms| (70.0..=130.0).contains(&ms)), "{:?}", &trace[80..]);
    }

    #[test]
    fn controller_cuts_at_once_and_clamps() {
        let mut c = Controller::new(10_000, 100);
        c.record(10_000, 600.0);
        assert_eq!(c.size(), 1000);
        c.record(5, 1.0); // another size: ignored
        assert_eq!(c.size(), 1000);
        c.halve();
        assert_eq!(c.size(), 500);
        c.cap(200);
        assert_eq!(c.size(), 200);
        let mut c = Controller::new(99_000, 100);
        for _ in 0..10 {
            c.record(99_000, 1.0);
        }
        assert_eq!(c.size(), MAX_BATCH);
    }

    #[test]
    fn summary_and_progress_lines() {
        let s = Summary {
            table: "users".into(),
            columns: vec!["full_name".into()],
            status: Status::Done,
            resumed: true,
            rows_scanned: 1_000_000,
            rows_changed: 999_000,
            batches: 71,
            wall_ms: 7_100,
            throttled_ms: 0,
            backoff_ms: 300,
            batch_ms: BatchTimes::of(&[50.0, 100.0, 116.0]),
            retries: BTreeMap::from([("55P03".to_string(), 2)]),
            rows_per_sec: 211_466.2,
            verify_ms: 2_400,
            remaining: Some(0),
            final_batch: 20_000,
            plan: "Index Scan using users_pkey on users".into(),
            range_end: vec!["1000000".into()],
        };
        assert_eq!(
            s.text(),
            "✔ users.full_name backfilled
  999,000 rows changed of 1,000,000 scanned in 71 batches, 7.1 s (211,466 rows/s; verified in 2.4 s), resumed
  batches: max 116 ms, p99 116 ms, p50 100 ms; 2 retries (55P03 ×2); throttled 0.0 s
  plan: Index Scan using users_pkey on users
"
        );
        let p = Progress {
            table: "users".into(),
            rows_scanned: 250,
            estimate: 1000,
            rate: 50.0,
            batch: 100,
            state: "running".into(),
            ..Progress::default()
        };
        assert_eq!(
            p.line(),
            "backfill users: 250/1,000 rows (25%), 0 changed, 50 rows/s, ETA 15 s, batch 100, lock waits 0, state: running"
        );
    }

    #[test]
    fn pacing_and_text() {
        assert!((pace_ms(5000, 500.0, Some(5000)) - 500.0).abs() < 1e-9);
        assert_eq!(pace_ms(5000, 2000.0, Some(5000)), 0.0);
        assert_eq!(pace_ms(5000, 0.0, None), 0.0);
        assert_eq!(thousands(1_234_567), "1,234,567");
        let job = Job::from_flags("users", "full_name = name", Some("active"), false).unwrap();
        assert_eq!(job.needs_sql(|_| "text".into()), "full_name IS DISTINCT FROM (name)::text AND (active)");
        let err = Job::from_flags("users", "token = md5(random()::text)", None, false).unwrap_err();
        assert!(err.contains("random"), "{err}");
        assert!(Job::from_flags("users", "token = md5(random()::text)", None, true).is_ok());
    }
}
