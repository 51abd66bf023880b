//! Application-like traffic on the touched tables: a pool of workers at a fixed arrival rate (latency
//! counts from each operation's scheduled start, so time queued behind a lock shows), 70% point reads,
//! 15% inserts, 15% updates of a payload column, each worker on its own keys. "Old code" uses the table's
//! shape before the plan; "new code" (after the plan's code deploy) follows its `CodeChange`s. Every
//! acknowledged write goes into a ledger that [`Traffic::audit`] checks at the end; a write that errored
//! is in doubt and never counted as lost. [`hold_blocker`] is the app transaction a step must wait for.

use super::synth::{Col, TableInfo, ident, value};
use postgres::Client;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use zdm_core::plan::CodeChange;
use zdm_core::report::verify::Audit;

/// One operation: scheduled time (ms from the run's start), latency ms, error SQLSTATE.
#[derive(Clone, Debug)]
pub struct Op {
    /// Scheduled start.
    pub t: f64,
    /// Latency from the scheduled start.
    pub latency: f64,
    /// SQLSTATE (or `connection`) when it failed.
    pub error: Option<String>,
}

/// A table the app uses: its old shape, key and payload column.
#[derive(Clone, Debug)]
pub struct AppTable {
    /// Old shape.
    pub info: TableInfo,
    /// Key column (integer, one column).
    pub key: String,
    /// Column updates write.
    pub payload: Option<Col>,
}

#[derive(Default)]
struct Ledger {
    /// (table, key) → seq of the last acknowledged write of the payload (inserts: the key).
    last: BTreeMap<(usize, i64), i64>,
    inserted: BTreeSet<(usize, i64)>,
    doubt: BTreeSet<(usize, i64)>,
    updates: u64,
    in_doubt: u64,
}

/// Running traffic.
pub struct Traffic {
    stop: Arc<AtomicBool>,
    new_code: Arc<AtomicBool>,
    ops: Arc<Mutex<Vec<Op>>>,
    ledger: Arc<Mutex<Ledger>>,
    handles: Vec<JoinHandle<()>>,
    tables: Vec<AppTable>,
    changes: Vec<CodeChange>,
}

fn bare(table: &str) -> &str {
    table.rsplit('.').next().unwrap_or(table).trim_matches('"')
}

/// The column name code of this version uses for `col` of `table`; None when it no longer uses it.
fn mapped(changes: &[CodeChange], new: bool, table: &str, col: &str) -> Option<String> {
    if !new {
        return Some(col.to_string());
    }
    let mut name = col.to_string();
    for c in changes {
        match c {
            CodeChange::MoveColumn { table: t, from, to } if t == bare(table) && *from == name => name.clone_from(to),
            CodeChange::DropColumn { table: t, column } if t == bare(table) && *column == name => return None,
            _ => {}
        }
    }
    Some(name)
}

fn table_name(changes: &[CodeChange], new: bool, table: &str) -> String {
    if new {
        for c in changes {
            if let CodeChange::MoveTable { from, to } = c
                && from == bare(table)
            {
                return ident(to);
            }
        }
    }
    table.to_string()
}

/// Which tables the app can use: an integer one-column key, and the payload (a moved column first, then
/// the first text or integer column that is not a key or foreign key).
#[must_use]
pub fn app_tables(tables: &[TableInfo], changes: &[CodeChange]) -> Vec<AppTable> {
    tables
        .iter()
        .filter_map(|t| {
            let key = t.key.clone()?;
            if !t.cols.iter().any(|c| c.name == key && super::synth::integer(c)) {
                return None;
            }
            let candidates: Vec<&Col> = t
                .cols
                .iter()
                .filter(|c| {
                    c.name != key
                        && !c.generated
                        && c.references.is_none()
                        && matches!(c.base.as_str(), "text" | "varchar" | "bpchar" | "int4" | "int8" | "numeric")
                })
                .collect();
            let moved = candidates.iter().find(|c| {
                changes
                    .iter()
                    .any(|ch| matches!(ch, CodeChange::MoveColumn { table, from, .. } if table == bare(&t.name) && *from == c.name))
            });
            let payload = moved.or(candidates.first()).map(|c| (*c).clone());
            Some(AppTable { info: t.clone(), key, payload })
        })
        .collect()
}

/// Key ranges: worker `w` inserts from `INSERT_BASE + w * SPAN` and writes update values from
/// `UPDATE_BASE + w * SPAN` (both inside int4).
const INSERT_BASE: i64 = 1_000_000_000;
const UPDATE_BASE: i64 = 1_500_000_000;
const SPAN: i64 = 1_000_000;

fn sqlstate(e: &postgres::Error) -> String {
    e.code().map_or_else(|| if e.is_closed() { "connection".to_string() } else { "client".to_string() }, |c| c.code().to_string())
}

impl Traffic {
    /// Starts `workers` connections at `rate` ops/s in total over `tables` (seeded with keys 1..=`rows`).
    ///
    /// # Errors
    /// A worker cannot connect.
    pub fn start(
        conninfo: &str,
        tables: Vec<AppTable>,
        changes: Vec<CodeChange>,
        rows: u64,
        workers: usize,
        rate: u32,
        t0: Instant,
    ) -> Result<Traffic, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let new_code = Arc::new(AtomicBool::new(false));
        let ops = Arc::new(Mutex::new(Vec::new()));
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let interval = Duration::from_secs_f64(workers as f64 / f64::from(rate.max(1)));
        let mut handles = Vec::new();
        for w in 0..workers {
            let mut c = super::target::connect(conninfo)?;
            c.batch_execute("SET statement_timeout = '5s'; SET application_name = 'zdm verify app'")
                .map_err(|e| super::target::introspect_err(&e))?;
            let (stop, new_code, ops, ledger, tables, changes) =
                (stop.clone(), new_code.clone(), ops.clone(), ledger.clone(), tables.clone(), changes.clone());
            let conninfo = conninfo.to_string();
            handles.push(std::thread::spawn(move || {
                let mut rng: u64 = 0x9E37_79B9_7F4A_7C15 ^ (w as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                let mut next = || {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    rng
                };
                let wi = i64::try_from(w).unwrap_or(0);
                let (mut inserted, mut updated) = (0_i64, 0_i64);
                let mut own: Vec<Vec<i64>> = vec![Vec::new(); tables.len()];
                let start = Instant::now() + interval.mul_f64(w as f64 / workers.max(1) as f64);
                let mut k = 0_u32;
                while !stop.load(Ordering::Relaxed) {
                    let sched = start + interval * k;
                    k += 1;
                    if let Some(wait) = sched.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    if tables.is_empty() {
                        continue;
                    }
                    let ti = usize::try_from(next() % tables.len() as u64).unwrap_or(0);
                    let t = &tables[ti];
                    let new = new_code.load(Ordering::Relaxed);
                    let name = table_name(&changes, new, &t.info.name);
                    let key_col = ident(&mapped(&changes, new, &t.info.name, &t.key).unwrap_or_else(|| t.key.clone()));
                    let roll = next() % 100;
                    let (sql, write) = if roll < 70 {
                        let key = i64::try_from(next() % rows.max(1)).unwrap_or(0) + 1;
                        let cols: Vec<String> =
                            t.info.cols.iter().filter_map(|c| mapped(&changes, new, &t.info.name, &c.name)).map(|c| ident(&c)).collect();
                        (format!("SELECT {} FROM {name} WHERE {key_col} = {key}", cols.join(", ")), None)
                    } else if roll < 85 || t.payload.is_none() {
                        let key = INSERT_BASE + wi * SPAN + inserted;
                        inserted += 1;
                        let (mut cols, mut vals) = (Vec::new(), Vec::new());
                        for c in super::synth::writable(&t.info) {
                            if let Some(m) = mapped(&changes, new, &t.info.name, &c.name) {
                                cols.push(ident(&m));
                                vals.push(value(c, &key.to_string(), rows));
                            }
                        }
                        (
                            format!("INSERT INTO {name} ({}) OVERRIDING SYSTEM VALUE VALUES ({})", cols.join(", "), vals.join(", ")),
                            Some((key, key, true)),
                        )
                    } else {
                        let p = t.payload.as_ref().expect("payload");
                        let Some(col) = mapped(&changes, new, &t.info.name, &p.name) else { continue };
                        // Seeded keys this worker owns (key ≡ w mod workers) or its own inserts.
                        let key = if !own[ti].is_empty() && next() % 2 == 0 {
                            own[ti][usize::try_from(next() % own[ti].len() as u64).unwrap_or(0)]
                        } else {
                            let per = (rows / workers as u64).max(1);
                            i64::try_from((next() % per) * workers as u64 + w as u64 + 1).unwrap_or(1)
                        };
                        if i64::try_from(rows).unwrap_or(0) < key && key < INSERT_BASE {
                            continue;
                        }
                        let seq = UPDATE_BASE + wi * SPAN + updated;
                        updated += 1;
                        (
                            format!("UPDATE {name} SET {} = {} WHERE {key_col} = {key}", ident(&col), value(p, &seq.to_string(), rows)),
                            Some((key, seq, false)),
                        )
                    };
                    let result = c.batch_execute(&sql);
                    let latency = sched.elapsed().as_secs_f64() * 1000.0;
                    let at = sched.saturating_duration_since(t0).as_secs_f64() * 1000.0;
                    let error = result.as_ref().err().map(sqlstate);
                    if let Some((key, seq, insert)) = write
                        && let Ok(mut l) = ledger.lock()
                    {
                        if error.is_none() {
                            if insert {
                                l.inserted.insert((ti, key));
                                own[ti].push(key);
                            } else {
                                l.updates += 1;
                            }
                            l.last.insert((ti, key), seq);
                        } else {
                            l.in_doubt += 1;
                            l.doubt.insert((ti, key));
                        }
                    }
                    if let Ok(mut v) = ops.lock() {
                        v.push(Op { t: at, latency, error: error.clone() });
                    }
                    if error.as_deref().is_some_and(|e| e == "connection" || e == "client")
                        && let Ok(fresh) = super::target::connect(&conninfo)
                    {
                        c = fresh;
                        let _ = c.batch_execute("SET statement_timeout = '5s'; SET application_name = 'zdm verify app'");
                    }
                }
            }));
        }
        Ok(Traffic { stop, new_code, ops, ledger, handles, tables, changes })
    }

    /// Switches the app to the new code (true) or back to the old (false).
    pub fn set_new_code(&self, new: bool) {
        self.new_code.store(new, Ordering::Relaxed);
    }

    /// Which code runs.
    #[must_use]
    pub fn code(&self) -> &'static str {
        if self.new_code.load(Ordering::Relaxed) { "new" } else { "old" }
    }

    /// Operations finished since the last call.
    #[must_use]
    pub fn drain(&self) -> Vec<Op> {
        self.ops.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default()
    }

    /// Stops the workers.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }

    /// Rows whose moved columns disagree (old vs new column, compared as text), with the first keys.
    #[must_use]
    pub fn out_of_sync(&self, c: &mut Client) -> (u64, Vec<String>) {
        let mut total = 0;
        let mut keys = Vec::new();
        for t in &self.tables {
            for ch in &self.changes {
                let CodeChange::MoveColumn { table, from, to } = ch else { continue };
                if table != bare(&t.info.name) {
                    continue;
                }
                let sql = format!(
                    "SELECT {k}::text FROM {n} WHERE {f}::text IS DISTINCT FROM {t2}::text ORDER BY {k} LIMIT 1000",
                    k = ident(&t.key),
                    n = t.info.name,
                    f = ident(from),
                    t2 = ident(to)
                );
                if let Ok(rows) = c.query(&sql, &[]) {
                    total += rows.len() as u64;
                    keys.extend(
                        rows.iter()
                            .take(10)
                            .map(|r| format!("{} {}={}: {from} and {to} differ", t.info.name, t.key, r.get::<_, String>(0))),
                    );
                }
            }
        }
        (total, keys)
    }

    /// Checks every acknowledged write against the table as it is now (read with the code version that
    /// runs now).
    #[must_use]
    pub fn audit(&self, c: &mut Client) -> Audit {
        let l = self.ledger.lock().map(|l| (l.last.clone(), l.inserted.clone(), l.doubt.clone(), l.updates, l.in_doubt));
        let Ok((last, inserted, doubt, updates, in_doubt)) = l else { return Audit::default() };
        let new = self.new_code.load(Ordering::Relaxed);
        let mut audit = Audit { inserts: inserted.len() as u64, updates, in_doubt, ..Audit::default() };
        for (ti, t) in self.tables.iter().enumerate() {
            let name = table_name(&self.changes, new, &t.info.name);
            let key = ident(&mapped(&self.changes, new, &t.info.name, &t.key).unwrap_or_else(|| t.key.clone()));
            let ins: Vec<i64> = inserted.iter().filter(|(i, k)| *i == ti && !doubt.contains(&(ti, *k))).map(|(_, k)| *k).collect();
            let sql = format!(
                "SELECT u.k::text FROM unnest($1::int8[]) u(k) WHERE NOT EXISTS (SELECT 1 FROM {name} WHERE {key} = u.k) ORDER BY 1"
            );
            match c.query(&sql, &[&ins]) {
                Ok(rows) => {
                    audit.missing += rows.len() as u64;
                    audit.bad_keys.extend(
                        rows.iter().take(10).map(|r| format!("{name} {key}={}: acknowledged insert missing", r.get::<_, String>(0))),
                    );
                }
                Err(e) => audit.bad_keys.push(format!("{name}: audit query failed: {}", super::target::introspect_err(&e))),
            }
            let Some(p) = &t.payload else { continue };
            let Some(col) = mapped(&self.changes, new, &t.info.name, &p.name) else { continue };
            let (keys, seqs): (Vec<i64>, Vec<i64>) =
                last.iter().filter(|((i, k), _)| *i == ti && !doubt.contains(&(ti, *k))).map(|((_, k), s)| (*k, *s)).unzip();
            let sql = format!(
                "SELECT u.k::text, x.{c}::text FROM unnest($1::int8[], $2::int8[]) u(k, s) JOIN {name} x ON x.{key} = u.k
                 WHERE x.{c}::text IS DISTINCT FROM ({v})::text ORDER BY u.k",
                c = ident(&col),
                v = value(p, "u.s", 1)
            );
            match c.query(&sql, &[&keys, &seqs]) {
                Ok(rows) => {
                    audit.stale += rows.len() as u64;
                    audit.bad_keys.extend(rows.iter().take(10).map(|r| {
                        format!(
                            "{name} {key}={}: {col} is {:?}, not the last acknowledged write",
                            r.get::<_, String>(0),
                            r.get::<_, Option<String>>(1)
                        )
                    }));
                }
                Err(e) => audit.bad_keys.push(format!("{name}: audit query failed: {}", super::target::introspect_err(&e))),
            }
        }
        audit.bad_keys.truncate(20);
        audit
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An app transaction holding ROW EXCLUSIVE on `tables` for `ms` (what any writer in a transaction
/// holds): returns once the lock is held; the thread commits after `ms`.
///
/// # Errors
/// It cannot connect or lock.
pub fn hold_blocker(conninfo: &str, tables: &[String], ms: u64) -> Result<JoinHandle<()>, String> {
    let mut c = super::target::connect(conninfo)?;
    c.batch_execute(&format!("SET application_name = 'zdm verify blocker'; BEGIN; LOCK TABLE {} IN ROW EXCLUSIVE MODE", tables.join(", ")))
        .map_err(|e| super::target::introspect_err(&e))?;
    Ok(std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(ms));
        let _ = c.batch_execute("COMMIT");
    }))
}
