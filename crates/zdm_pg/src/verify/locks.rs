//! The lock trace. Two observers, because each alone is blind somewhere:
//! - [`Poller`]: a second connection that polls `pg_locks` every few milliseconds for the migration's
//!   backend (granted and waiting table locks) and lists the app backends queued behind it
//!   (`pg_blocking_pids`, asked only for backends already waiting). It sees CONCURRENTLY and autocommit
//!   statements and the lock queue; its resolution is the poll interval.
//! - [`own_locks`] and [`filenodes`]: queries on the migration's own connection after each statement
//!   (inside its transaction): the table locks it holds, and `pg_relation_filenode` of every table, TOAST
//!   table and index, so a rewrite (heap or TOAST filenode changed) and an index rebuild are told apart.

use postgres::Client;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One poll.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Offset from the run's start, ms.
    pub t: f64,
    /// The migration's table locks: relation, mode, granted.
    pub locks: Vec<(String, String, bool)>,
    /// App backends waiting on a lock the migration holds or queues ahead of them.
    pub waiting: Vec<i32>,
    /// `CREATE INDEX [CONCURRENTLY]` progress: phase and the backend it waits for (0: none).
    pub index_phase: Option<(String, i32)>,
}

/// The polling observer.
pub struct Poller {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    handle: Option<JoinHandle<()>>,
}

const POLL: &str = "SELECT 'L'::text, c.oid::regclass::text, l.mode::text, l.granted, 0::int4
    FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE l.pid = $1 AND l.locktype = 'relation' AND c.relkind IN ('r', 'p', 'm')
      AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
  UNION ALL
  SELECT 'W', '', '', false, w.pid
    FROM (SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> $1 OFFSET 0) w
    WHERE $1 = ANY(pg_blocking_pids(w.pid))
  UNION ALL
  SELECT 'P', p.phase, '', false, coalesce(p.current_locker_pid, 0)::int4 FROM pg_stat_progress_create_index p WHERE p.pid = $1";

impl Poller {
    /// Starts polling backend `pid` every `every`.
    ///
    /// # Errors
    /// The observer cannot connect.
    pub fn start(conninfo: &str, pid: i32, t0: Instant, every: Duration) -> Result<Poller, String> {
        let mut c = super::target::connect(conninfo)?;
        let stmt = c.prepare(POLL).map_err(|e| super::target::introspect_err(&e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (s2, out) = (stop.clone(), samples.clone());
        let handle = std::thread::spawn(move || {
            while !s2.load(Ordering::Relaxed) {
                let tick = Instant::now();
                // Stamped before the query: what it sees was true at that time or later, so a lock a
                // statement released is never stamped after the next statement began.
                let t = t0.elapsed().as_secs_f64() * 1000.0;
                if let Ok(rows) = c.query(&stmt, &[&pid]) {
                    let mut s = Sample { t, locks: Vec::new(), waiting: Vec::new(), index_phase: None };
                    for r in rows {
                        match r.get::<_, String>(0).as_str() {
                            "L" => s.locks.push((r.get(1), r.get(2), r.get(3))),
                            "W" => s.waiting.push(r.get(4)),
                            _ => s.index_phase = Some((r.get(1), r.get(4))),
                        }
                    }
                    if let Ok(mut v) = out.lock() {
                        v.push(s);
                    }
                }
                if let Some(rest) = every.checked_sub(tick.elapsed()) {
                    std::thread::sleep(rest);
                }
            }
        });
        Ok(Poller { stop, samples, handle: Some(handle) })
    }

    /// The samples since the last call.
    #[must_use]
    pub fn drain(&self) -> Vec<Sample> {
        self.samples.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default()
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A continuous stretch in which the poller saw one lock: first and last sample times, granted or not.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Relation.
    pub relation: String,
    /// Mode.
    pub mode: String,
    /// Granted (held) or waited for.
    pub granted: bool,
    /// First sample.
    pub first: f64,
    /// Last sample.
    pub last: f64,
}

/// Groups samples into stretches (a lock missing from one poll ends its stretch).
#[must_use]
pub fn stretches(samples: &[Sample]) -> Vec<Seen> {
    let mut open: BTreeMap<(String, String, bool), Seen> = BTreeMap::new();
    let mut done = Vec::new();
    for s in samples {
        let now: BTreeSet<(String, String, bool)> = s.locks.iter().cloned().collect();
        let closed: Vec<_> = open.keys().filter(|k| !now.contains(*k)).cloned().collect();
        for k in closed {
            done.extend(open.remove(&k));
        }
        for k in now {
            open.entry(k.clone()).and_modify(|e| e.last = s.t).or_insert(Seen {
                relation: k.0,
                mode: k.1,
                granted: k.2,
                first: s.t,
                last: s.t,
            });
        }
    }
    done.extend(open.into_values());
    done
}

/// The longest continuous wait of any app backend, and how many distinct backends queued.
#[must_use]
pub fn app_waits(samples: &[Sample], every_ms: f64) -> (f64, usize) {
    let mut first: BTreeMap<i32, f64> = BTreeMap::new();
    let mut longest = 0.0_f64;
    let mut all = BTreeSet::new();
    for s in samples {
        let now: BTreeSet<i32> = s.waiting.iter().copied().collect();
        first.retain(|pid, start| {
            let keep = now.contains(pid);
            if !keep {
                longest = longest.max(s.t - *start);
            }
            keep
        });
        for p in now {
            all.insert(p);
            first.entry(p).or_insert(s.t - every_ms / 2.0);
        }
    }
    if let Some(last) = samples.last() {
        for start in first.values() {
            longest = longest.max(last.t - start);
        }
    }
    (longest, all.len())
}

/// How long an index build spent in each `waiting for …` phase of `pg_stat_progress_create_index`, with
/// the backends it waited for: one line per phase (`waited 1.2 s in "waiting for writers before build"
/// on pid 4242`).
#[must_use]
pub fn index_waits(samples: &[Sample], every_ms: f64) -> Vec<String> {
    let mut phases: BTreeMap<String, (f64, BTreeSet<i32>)> = BTreeMap::new();
    for s in samples {
        if let Some((phase, locker)) = &s.index_phase
            && phase.starts_with("waiting for")
        {
            let e = phases.entry(phase.clone()).or_default();
            e.0 += every_ms;
            if *locker != 0 {
                e.1.insert(*locker);
            }
        }
    }
    phases
        .into_iter()
        .filter(|(_, (ms, _))| *ms >= every_ms * 2.0)
        .map(|(phase, (ms, pids))| {
            let on = if pids.is_empty() {
                String::new()
            } else {
                format!(" on pid {}", pids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
            };
            format!("index build waited {:.1} s in \"{phase}\"{on}", ms / 1000.0)
        })
        .collect()
}

/// The table locks this connection holds (relation, mode).
#[must_use]
pub fn own_locks(c: &mut Client) -> Vec<(String, String)> {
    c.query(
        "SELECT c.oid::regclass::text, l.mode::text FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
           JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted AND c.relkind IN ('r', 'p', 'm')
           AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'",
        &[],
    )
    .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    .unwrap_or_default()
}

/// Filenodes: oid → (name, kind, heap filenode, TOAST filenode, table of an index).
pub type Filenodes = BTreeMap<u32, (String, String, i64, i64, String)>;

/// Every user relation's filenodes.
#[must_use]
pub fn filenodes(c: &mut Client) -> Filenodes {
    c.query(
        "SELECT c.oid, c.oid::regclass::text, c.relkind::text, coalesce(pg_relation_filenode(c.oid), 0)::int8,
                coalesce(pg_relation_filenode(nullif(c.reltoastrelid, 0)), 0)::int8, coalesce(i.indrelid::regclass::text, '')
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_index i ON i.indexrelid = c.oid
         WHERE c.relkind IN ('r', 'm', 'i') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'",
        &[],
    )
    .map(|rows| rows.iter().map(|r| (r.get::<_, postgres::types::Oid>(0), (r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))).collect())
    .unwrap_or_default()
}

/// Tables rewritten (heap or TOAST filenode changed) and indexes rebuilt alone, between two snapshots.
#[must_use]
pub fn changes(before: &Filenodes, after: &Filenodes) -> (Vec<String>, Vec<String>) {
    let mut rewritten = Vec::new();
    let mut rebuilt = Vec::new();
    for (oid, (name, kind, heap, toast, table)) in after {
        let Some((_, _, h0, t0, _)) = before.get(oid) else { continue };
        if h0 == heap && t0 == toast {
            continue;
        }
        if kind == "i" {
            if !rewritten.contains(table) {
                rebuilt.push(name.clone());
            }
        } else {
            rewritten.push(name.clone());
        }
    }
    rebuilt.retain(|i| {
        let table = after.values().find(|v| &v.0 == i).map(|v| v.4.clone()).unwrap_or_default();
        !rewritten.contains(&table)
    });
    (rewritten, rebuilt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: f64, locks: &[(&str, &str, bool)], waiting: &[i32]) -> Sample {
        Sample {
            t,
            locks: locks.iter().map(|(a, b, c)| ((*a).into(), (*b).into(), *c)).collect(),
            waiting: waiting.to_vec(),
            index_phase: Some(("waiting for old snapshots".into(), 42)),
        }
    }

    #[test]
    fn stretches_and_waits_from_samples() {
        let samples = [
            s(0.0, &[("t", "AccessExclusiveLock", false)], &[]),
            s(5.0, &[("t", "AccessExclusiveLock", true)], &[7]),
            s(10.0, &[("t", "AccessExclusiveLock", true)], &[7, 8]),
            s(35.0, &[("t", "AccessExclusiveLock", true)], &[8]),
            s(40.0, &[], &[]),
        ];
        let st = stretches(&samples);
        let held = st.iter().find(|x| x.granted).unwrap();
        assert_eq!((held.first, held.last), (5.0, 35.0));
        assert!(st.iter().any(|x| !x.granted && x.first == 0.0));
        let (longest, n) = app_waits(&samples, 5.0);
        assert_eq!(n, 2);
        assert!((longest - 32.5).abs() < 0.01, "{longest}");
        assert_eq!(index_waits(&samples, 5.0), ["index build waited 0.0 s in \"waiting for old snapshots\" on pid 42"]);
    }
}
