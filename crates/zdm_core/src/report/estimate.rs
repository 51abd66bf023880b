//! How long each step takes: the kind of work it does (from the step itself), the rows of its table (from
//! `PlanConfig::stats` when known) and the throughput measured for that kind of work on PostgreSQL 15 by
//! `scripts/bench-throughput` (figures in README.md, section "Durations").

use crate::plan::{Phase, Step};

/// The kind of work a step does, which decides what its duration scales with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// An application deploy: no database work.
    Deploy,
    /// Catalogue-only change: the lock is held for milliseconds once granted.
    Brief,
    /// Waits for running queries (DROP INDEX CONCURRENTLY): as long as the longest one.
    WaitQueries,
    /// Batched UPDATE, pauses included.
    Backfill,
    /// CREATE INDEX CONCURRENTLY.
    IndexBuild,
    /// VALIDATE CONSTRAINT: a full scan under SHARE UPDATE EXCLUSIVE.
    ValidateScan,
    /// VACUUM after a backfill.
    Vacuum,
    /// A statement run as written that rewrites or scans the whole table under its lock.
    Rewrite,
    /// zdm does not know what the statement does.
    Unknown,
}

/// Rows per second, measured by `scripts/bench-throughput` on this project's build machine (2 cores,
/// PostgreSQL 15, 1,000,000 rows of `users`-shaped data; see README.md "Durations"). Estimates are shown as
/// a range from half to twice the time these rates give: production hardware and load differ.
pub mod rates {
    /// Batched backfill (5,000-row batches, 50 ms pauses: 10 s of the 17.7 s measured), rows/s.
    pub const BACKFILL: f64 = 56_000.0;
    /// CREATE INDEX CONCURRENTLY on one text column, rows/s.
    pub const INDEX_BUILD: f64 = 560_000.0;
    /// ALTER TABLE … VALIDATE CONSTRAINT (CHECK), rows/s.
    pub const VALIDATE: f64 = 9_000_000.0;
    /// VACUUM after a full-table backfill, rows/s.
    pub const VACUUM: f64 = 1_150_000.0;
    /// ALTER TABLE … ALTER COLUMN TYPE rewriting the table (indexes rebuilt), rows/s.
    pub const REWRITE: f64 = 436_000.0;
}

/// A step's estimated duration.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// What the step does.
    pub work: Work,
    /// Rows of the step's table, when known.
    pub rows: Option<u64>,
    /// Low and high estimate in seconds, when rows and a rate are known.
    pub seconds: Option<(f64, f64)>,
    /// Rows per second assumed.
    pub rate: Option<f64>,
    /// The text shown (`~5–20 s (1,000,000 rows at ~95k rows/s)`, `brief`, `scales with rows (size unknown)`).
    pub text: String,
}

/// What kind of work `step` does.
#[must_use]
pub fn work_of(step: &Step) -> Work {
    let up = step.up.to_uppercase();
    if step.phase == Phase::Code {
        Work::Deploy
    } else if step.risk == crate::model::Risk::Unknown {
        Work::Unknown
    } else if up.contains("INDEX CONCURRENTLY") && up.contains("CREATE ") {
        Work::IndexBuild
    } else if up.contains("INDEX CONCURRENTLY") {
        Work::WaitQueries
    } else if step.phase == Phase::Backfill && up.trim_start().starts_with("VACUUM") {
        Work::Vacuum
    } else if step.phase == Phase::Backfill {
        Work::Backfill
    } else if up.contains("VALIDATE CONSTRAINT") {
        Work::ValidateScan
    } else if step.duration.starts_with("brief") || step.duration == "none" {
        Work::Brief
    } else {
        Work::Rewrite
    }
}

/// The rate measured for `work`, if it scales with rows.
#[must_use]
pub fn rate_of(work: Work) -> Option<f64> {
    match work {
        Work::Backfill => Some(rates::BACKFILL),
        Work::IndexBuild => Some(rates::INDEX_BUILD),
        Work::ValidateScan => Some(rates::VALIDATE),
        Work::Vacuum => Some(rates::VACUUM),
        Work::Rewrite => Some(rates::REWRITE),
        Work::Deploy | Work::Brief | Work::WaitQueries | Work::Unknown => None,
    }
}

/// The estimate for `step` on a table of `rows` rows (None: size unknown).
#[must_use]
pub fn estimate(step: &Step, rows: Option<u64>) -> Estimate {
    let work = work_of(step);
    let rate = rate_of(work);
    let (seconds, text) = match (work, rate, rows) {
        (Work::Deploy, ..) => (None, "your deploy's time".to_string()),
        (Work::Unknown, ..) => (None, "duration unknown".to_string()),
        (Work::Brief, ..) => (None, "brief (ms once the lock is granted)".to_string()),
        (Work::WaitQueries, ..) => (None, "as long as the longest running query".to_string()),
        (_, Some(rate), Some(rows)) => {
            #[allow(clippy::cast_precision_loss)]
            let t = rows as f64 / rate;
            let (lo, hi) = (t / 2.0, t * 2.0);
            (Some((lo, hi)), format!("~{} ({} rows at ~{}/s)", range(lo, hi), thousands(rows), short_rate(rate)))
        }
        _ => (None, "scales with rows (size unknown)".to_string()),
    };
    Estimate { work, rows, seconds, rate, text }
}

/// `2–8 s`, `1–4 min`, `under 1 s`.
#[must_use]
pub fn range(lo: f64, hi: f64) -> String {
    if hi < 1.0 {
        return "under 1 s".to_string();
    }
    let (unit, div) = if hi < 120.0 {
        ("s", 1.0)
    } else if hi < 7200.0 {
        ("min", 60.0)
    } else {
        ("h", 3600.0)
    };
    let fmt = |v: f64| {
        let v = v / div;
        if v < 10.0 { format!("{}", (v * 10.0).round() / 10.0) } else { format!("{}", v.round()) }
    };
    format!("{}–{} {unit}", fmt(lo), fmt(hi))
}

pub use crate::model::thousands;

/// `95k rows`, `4M rows`.
fn short_rate(rate: f64) -> String {
    if rate >= 1_000_000.0 {
        format!("{}M rows", (rate / 100_000.0).round() / 10.0)
    } else if rate >= 1000.0 {
        format!("{}k rows", (rate / 1000.0).round())
    } else {
        format!("{rate} rows")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_numbers() {
        assert_eq!(range(0.1, 0.4), "under 1 s");
        assert_eq!(range(5.0, 20.0), "5–20 s");
        assert_eq!(range(60.0, 240.0), "1–4 min");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(short_rate(95_000.0), "95k rows");
        assert_eq!(short_rate(4_000_000.0), "4M rows");
    }
}
