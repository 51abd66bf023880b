//! `zdm backfill`'s executor: walks a table's key range, frozen at the start, in batches that are each
//! one short transaction (`SET LOCAL lock_timeout` and `statement_timeout`, one `UPDATE` over a closed key
//! range of the rows that still need it, the checkpoint advanced in the same transaction). The batch size
//! follows `zdm_core::backfill::Controller`; lock timeouts, deadlocks, serialization failures and
//! statement timeouts roll the batch back, back off and retry the same range smaller. Between batches:
//! the stop flag (Ctrl-C), the throttles, the rate limit. At the end a verification count over the range
//! (and one catch-up pass if rows still differ).

mod checkpoint;
mod table;
mod throttle;

pub use throttle::Signals;

use postgres::Client;
use postgres::error::SqlState;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use table::Table;
use throttle::Throttle;
use zdm_core::backfill::{BatchTimes, Controller, Job, Progress, Status, Summary, pace_ms};
use zdm_core::model::mask_secrets;

/// How to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// First batch size, rows.
    pub batch_size: u64,
    /// Target batch time, ms.
    pub target_ms: u64,
    /// Rate limit, rows walked per second.
    pub max_rows_per_sec: Option<u64>,
    /// `lock_timeout` of each batch, ms.
    pub lock_timeout_ms: u64,
    /// Start over even when a checkpoint exists (also when it was for another SET or WHERE).
    pub restart: bool,
    /// Refuse to start without a checkpoint to resume.
    pub resume_only: bool,
    /// Pause signals.
    pub signals: Signals,
    /// Longest backoff after an error, ms.
    pub max_backoff_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            batch_size: 1000,
            target_ms: 100,
            max_rows_per_sec: None,
            lock_timeout_ms: 500,
            restart: false,
            resume_only: false,
            signals: Signals::default(),
            max_backoff_ms: 30_000,
        }
    }
}

/// Why a run did not finish.
#[derive(Debug)]
pub enum Error {
    /// The job cannot run as asked (exit 2): names the table or column.
    Refused(String),
    /// It failed while running; the checkpoint holds every committed batch.
    Failed(String),
}

impl Error {
    fn db(e: postgres::Error) -> Error {
        Error::Failed(describe_error(&e))
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Refused(m) | Error::Failed(m) => f.write_str(m),
        }
    }
}

/// A database error as one masked line: SQLSTATE and message.
pub fn describe_error(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => mask_secrets(&format!("{} (SQLSTATE {})", d.message(), d.code().code())),
        None => mask_secrets(&e.to_string()),
    }
}

/// Where progress goes.
pub trait Observer {
    /// After each batch and while throttled.
    fn progress(&mut self, p: &Progress);
    /// A line worth logging (retries and who blocked, throttles, the plan).
    fn note(&mut self, line: &str);
    /// After each committed batch: its number, last key, rows walked and changed, the size asked of the
    /// controller and its time (for `--trace`).
    fn batch(&mut self, _b: &BatchRecord<'_>) {}
}

/// One committed batch.
#[derive(Clone, Copy, Debug)]
pub struct BatchRecord<'a> {
    /// 1-based.
    pub number: u64,
    /// The batch's last key (one value per key column).
    pub up: &'a [String],
    /// Rows walked.
    pub rows: u64,
    /// Rows changed.
    pub changed: u64,
    /// The size the controller asked for.
    pub size: u64,
    /// Time of its transaction, ms.
    pub ms: f64,
}

/// Runs the job on `client` until done, stopped (`stop` set: finishes the current batch first) or failed.
///
/// # Errors
/// [`Error::Refused`] before anything changed; [`Error::Failed`] with the checkpoint kept.
pub fn run(client: &mut Client, job: &Job, opts: &Options, stop: &AtomicBool, obs: &mut dyn Observer) -> Result<Summary, Error> {
    let table = table::describe(client, job)?;
    let step = job.checkpoint_name();
    let locked: bool = client.query_one("SELECT pg_try_advisory_lock(hashtext($1))", &[&step]).map_err(Error::db)?.get(0);
    if !locked {
        return Err(Error::Refused(format!("another zdm backfill of {} is running (advisory lock held)", job.table)));
    }
    let result = Runner::new(client, job, table, opts, stop, obs).and_then(Runner::run);
    let _ = client.query_one("SELECT pg_advisory_unlock(hashtext($1))", &[&step]);
    result
}

/// The EXPLAIN of a batch's UPDATE over the first `rows` keys (no rows change), one line per plan node.
///
/// # Errors
/// The table or job is refused, or EXPLAIN fails (the message names the cause).
pub fn explain(client: &mut Client, job: &Job, rows: u64) -> Result<String, Error> {
    let table = table::describe(client, job)?;
    let q = Queries::new(job, &table);
    let (up, _) = probe(client, &table, None, &[], rows)?.ok_or_else(|| Error::Failed("the table is empty".into()))?;
    explain_batch(client, &q, &table, None, &up)
}

fn explain_batch(client: &mut Client, q: &Queries, t: &Table, done: Option<&[String]>, up: &[String]) -> Result<String, Error> {
    let mut tx = client.transaction().map_err(Error::db)?;
    tx.batch_execute("SET LOCAL lock_timeout = '2s'; SET LOCAL statement_timeout = '10s'").map_err(Error::db)?;
    let params = key_params(done, up);
    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|s| s as &(dyn postgres::types::ToSql + Sync)).collect();
    let rows = tx.query(&format!("EXPLAIN {}", q.update(t, done.is_some())), &refs).map_err(|e| {
        let m = format!("the backfill of {} does not run: {}", t.name, describe_error(&e));
        match e.code() {
            Some(&SqlState::LOCK_NOT_AVAILABLE) => Error::Failed(format!("{m}; nothing changed, try again")),
            _ => Error::Refused(m),
        }
    })?;
    Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>().join("\n"))
}

fn key_params(done: Option<&[String]>, up: &[String]) -> Vec<String> {
    done.unwrap_or_default().iter().chain(up).cloned().collect()
}

/// The statements of one job.
struct Queries {
    set: String,
    needs: String,
}

impl Queries {
    fn new(job: &Job, t: &Table) -> Queries {
        Queries { set: job.set_sql(), needs: job.needs_sql(|c| t.types.get(c).cloned().unwrap_or_else(|| "text".into())) }
    }

    /// The batch: rows in (done, up] (or [start, up] for the first) that still need it.
    fn update(&self, t: &Table, after: bool) -> String {
        format!("UPDATE {} SET {} WHERE {}", t.sql(), self.set, self.rows(t, after))
    }

    /// Rows in (done, up] that still need it.
    fn count(&self, t: &Table, after: bool) -> String {
        format!("SELECT count(*) FROM {} WHERE {}", t.sql(), self.rows(t, after))
    }

    /// The condition of both: the key range (lower bound `$1…` when `after`, then the upper bound) and the
    /// rows that still need it.
    fn rows(&self, t: &Table, after: bool) -> String {
        let n = t.key.len();
        let lower = if after { format!("{} > {} AND ", t.key_row(), t.params_row(1)) } else { String::new() };
        let up = t.params_row(if after { n + 1 } else { 1 });
        format!("{lower}{} <= {up} AND {}", t.key_row(), self.needs)
    }
}

/// The last key of the next `size` keys after `done` and at or before `stop` (an index-only walk of the
/// key), and how many keys that is. `None` when none are left.
fn probe(client: &mut Client, t: &Table, done: Option<&[String]>, stop: &[String], size: u64) -> Result<Option<(Vec<String>, u64)>, Error> {
    let n = t.key.len();
    let mut cond = Vec::new();
    let mut params: Vec<String> = Vec::new();
    if let Some(d) = done {
        cond.push(format!("{} > {}", t.key_row(), t.params_row(1)));
        params.extend(d.iter().cloned());
    }
    if !stop.is_empty() {
        cond.push(format!("{} <= {}", t.key_row(), t.params_row(params.len() + 1)));
        params.extend(stop.iter().cloned());
    }
    let where_ = if cond.is_empty() { String::new() } else { format!(" WHERE {}", cond.join(" AND ")) };
    let sql = format!(
        "SELECT {text}, count(*) OVER () FROM (SELECT {keys} FROM {tab}{where_} ORDER BY {keys} LIMIT {size}) AS zdm_b \
         ORDER BY {desc} LIMIT 1",
        text = t.key_text(),
        keys = t.key_list(),
        tab = t.sql(),
        desc = t.key_desc(),
    );
    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|s| s as &(dyn postgres::types::ToSql + Sync)).collect();
    let row = client.query_opt(&sql, &refs).map_err(Error::db)?;
    Ok(row.map(|r| ((0..n).map(|i| r.get::<_, String>(i)).collect(), u64::try_from(r.get::<_, i64>(n)).unwrap_or(0))))
}

/// The scan line of a batch's plan; a warning when it is not an index scan.
fn plan_of(plan: &str, job: &Job, table: &Table, obs: &mut dyn Observer) -> String {
    let line = plan.lines().find(|l| l.contains("Index")).or_else(|| plan.lines().find(|l| l.contains("Scan")));
    let scan = line.unwrap_or("").trim().trim_start_matches("->").trim();
    let scan = scan.split("  (").next().unwrap_or(scan).to_string();
    if scan.contains("Index") {
        return scan;
    }
    obs.note(&format!(
        "warning: the batch UPDATE on {} plans as {scan}, not an index range scan on its key: batches may read the \
         whole table (run ANALYZE {}?)",
        job.table,
        table.sql()
    ));
    format!("{scan} (not an index range scan)")
}

enum Flow {
    Done,
    Stopped,
}

struct Runner<'a> {
    client: &'a mut Client,
    job: &'a Job,
    table: Table,
    opts: &'a Options,
    stop: &'a AtomicBool,
    obs: &'a mut dyn Observer,
    q: Queries,
    progress_table: zdm_core::model::QName,
    step: String,
    stop_key: Vec<String>,
    done: Option<Vec<String>>,
    resumed: bool,
    controller: Controller,
    throttle: Throttle,
    started: Instant,
    scanned: u64,
    changed: u64,
    batches: u64,
    batch_ms: Vec<f64>,
    throttled: Duration,
    backoff: Duration,
    retries: BTreeMap<String, u64>,
    plan: String,
    last_note: Instant,
    walked: Option<Duration>,
}

impl<'a> Runner<'a> {
    fn new(
        client: &'a mut Client,
        job: &'a Job,
        table: Table,
        opts: &'a Options,
        stop: &'a AtomicBool,
        obs: &'a mut dyn Observer,
    ) -> Result<Runner<'a>, Error> {
        let q = Queries::new(job, &table);
        // EXPLAIN a first batch before anything is written: an expression PostgreSQL rejects (a column that
        // does not exist, a type mismatch) is refused here, and the plan is checked.
        let plan = match probe(client, &table, None, &[], opts.batch_size)? {
            Some((up, _)) => plan_of(&explain_batch(client, &q, &table, None, &up)?, job, &table, obs),
            None => String::new(),
        };
        let progress_table = checkpoint::table_of(&table);
        let step = job.checkpoint_name();
        checkpoint::ensure(client, &progress_table)?;
        let key: Vec<String> = table.key.iter().map(|(c, _)| c.clone()).collect();
        let wanted = checkpoint::Saved { key: key.clone(), set_sql: job.set_sql(), filter_sql: job.filter.clone(), ..Default::default() };
        let saved = checkpoint::load(client, &progress_table, &step)?;
        let (stop_key, done, resumed) = match saved {
            Some(s) if !opts.restart && !s.stop.is_empty() => {
                if s.set_sql != wanted.set_sql || s.filter_sql != wanted.filter_sql || s.key != key {
                    return Err(Error::Refused(format!(
                        "an interrupted backfill of {} is checkpointed with SET {}{}; this run asks SET {}{}\n  = help: rerun \
                         with the same --set and --where to resume it, or add --restart to start over",
                        job.table,
                        s.set_sql,
                        s.filter_sql.as_deref().map(|f| format!(" WHERE {f}")).unwrap_or_default(),
                        wanted.set_sql,
                        wanted.filter_sql.as_deref().map(|f| format!(" WHERE {f}")).unwrap_or_default(),
                    )));
                }
                obs.note(&format!(
                    "resuming the {} backfill of {}: {} rows walked ({} changed) before",
                    s.status, job.table, s.rows_scanned, s.rows_changed
                ));
                (s.stop, s.done, true)
            }
            _ => {
                if opts.resume_only {
                    return Err(Error::Refused(format!("no interrupted backfill of {} to resume (--resume)", job.table)));
                }
                // Freeze the range: the rows to walk end at today's last key; later rows are the
                // trigger's or the default's.
                let q = format!("SELECT {} FROM {} ORDER BY {} LIMIT 1", table.key_text(), table.sql(), table.key_desc());
                let last = client.query_opt(&q, &[]).map_err(Error::db)?;
                let stop_key: Vec<String> = last.map(|r| (0..table.key.len()).map(|i| r.get(i)).collect()).unwrap_or_default();
                checkpoint::start(client, &progress_table, &step, &checkpoint::Saved { stop: stop_key.clone(), ..wanted })?;
                (stop_key, None, false)
            }
        };
        let mut controller = Controller::new(opts.batch_size, opts.target_ms);
        if let Some(r) = opts.max_rows_per_sec {
            controller.cap(r / 10);
        }
        let throttle = Throttle::new(opts.signals.clone(), table.sql());
        Ok(Runner {
            client,
            job,
            table,
            opts,
            stop,
            obs,
            q,
            progress_table,
            step,
            stop_key,
            done,
            resumed,
            controller,
            throttle,
            started: Instant::now(),
            scanned: 0,
            changed: 0,
            batches: 0,
            batch_ms: Vec::new(),
            throttled: Duration::ZERO,
            backoff: Duration::ZERO,
            retries: BTreeMap::new(),
            plan,
            last_note: Instant::now(),
            walked: None,
        })
    }

    fn run(mut self) -> Result<Summary, Error> {
        let mut remaining = None;
        let status = if self.stop_key.is_empty() {
            Status::Done
        } else {
            match self.pass()? {
                Flow::Stopped => Status::Paused,
                Flow::Done => {
                    self.walked = Some(self.started.elapsed());
                    let mut left = self.verify()?;
                    if left > 0 {
                        self.obs.note(&format!("{left} rows of the range still differ: one catch-up pass"));
                        self.done = None;
                        if let Flow::Stopped = self.pass()? {
                            return self.finish(Status::Paused, None);
                        }
                        left = self.verify()?;
                    }
                    remaining = Some(left);
                    Status::Done
                }
            }
        };
        self.finish(status, remaining)
    }

    fn finish(self, status: Status, remaining: Option<u64>) -> Result<Summary, Error> {
        match status {
            Status::Done => checkpoint::finish(self.client, &self.progress_table, &self.step)?,
            Status::Paused => checkpoint::set_status(self.client, &self.progress_table, &self.step, "paused")?,
        }
        let wall = self.started.elapsed();
        Ok(Summary {
            table: self.job.table.key(),
            columns: self.job.set.iter().map(|(c, _)| c.clone()).collect(),
            status,
            resumed: self.resumed,
            rows_scanned: self.scanned,
            rows_changed: self.changed,
            batches: self.batches,
            wall_ms: wall.as_millis() as u64,
            throttled_ms: self.throttled.as_millis() as u64,
            backoff_ms: self.backoff.as_millis() as u64,
            batch_ms: BatchTimes::of(&self.batch_ms),
            retries: self.retries,
            rows_per_sec: self.scanned as f64 / self.walked.unwrap_or(wall).as_secs_f64().max(0.001),
            verify_ms: self.walked.map_or(0, |w| (wall - w).as_millis() as u64),
            remaining,
            final_batch: self.controller.size(),
            plan: if self.plan.is_empty() { "no batch ran".into() } else { self.plan },
            range_end: self.stop_key,
        })
    }

    fn progress(&mut self, state: &str) {
        let p = Progress {
            table: self.job.table.key(),
            rows_scanned: self.scanned,
            rows_changed: self.changed,
            estimate: self.table.estimate.max(self.scanned),
            rate: self.scanned as f64 / self.started.elapsed().as_secs_f64().max(0.001),
            batch: self.controller.size(),
            p90_ms: self.controller.p90(),
            retries: self.retries.values().sum(),
            state: state.to_string(),
        };
        self.obs.progress(&p);
    }

    /// Walks the range from `self.done` to the frozen end.
    fn pass(&mut self) -> Result<Flow, Error> {
        let mut failures: u32 = 0;
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return Ok(Flow::Stopped);
            }
            if let Some(flow) = self.wait_throttles() {
                return Ok(flow);
            }
            let size = self.controller.size();
            let Some((up, count)) = probe(self.client, &self.table, self.done.as_deref(), &self.stop_key, size)? else {
                return Ok(Flow::Done);
            };
            match self.batch(&up, count, size) {
                Ok((ms, changed)) => {
                    failures = 0;
                    self.batches += 1;
                    self.batch_ms.push(ms);
                    self.scanned += count;
                    self.changed += changed;
                    let record = BatchRecord { number: self.batches, up: &up, rows: count, changed, size, ms };
                    self.obs.batch(&record);
                    self.done = Some(up);
                    if count == size {
                        self.controller.record(size, ms);
                    }
                    self.progress("running");
                    self.pace();
                }
                Err(e) => {
                    let code = e.code().cloned();
                    let retry = matches!(
                        code,
                        Some(
                            SqlState::LOCK_NOT_AVAILABLE
                                | SqlState::T_R_DEADLOCK_DETECTED
                                | SqlState::T_R_SERIALIZATION_FAILURE
                                | SqlState::QUERY_CANCELED
                        )
                    );
                    let range = format!("({}..{}]", self.done.as_ref().map_or("start".into(), |d| d.join(",")), up.join(","));
                    if !retry || (code == Some(SqlState::QUERY_CANCELED) && size <= zdm_core::backfill::MIN_BATCH) {
                        let _ = checkpoint::set_status(self.client, &self.progress_table, &self.step, "failed");
                        return Err(Error::Failed(format!(
                            "the batch {range} of {} failed: {}; every batch before it is committed and checkpointed: \
                             rerun to resume",
                            self.job.table,
                            describe_error(&e)
                        )));
                    }
                    let code = code.map_or_else(String::new, |c| c.code().to_string());
                    *self.retries.entry(code.clone()).or_default() += 1;
                    failures += 1;
                    let holders = self.holders();
                    self.obs.note(&format!(
                        "batch {range} of {}: {} (retry {failures}, batch {} → {}){holders}",
                        self.job.table,
                        describe_error(&e),
                        size,
                        (size / 2).max(zdm_core::backfill::MIN_BATCH)
                    ));
                    if code != SqlState::T_R_SERIALIZATION_FAILURE.code() {
                        self.controller.halve();
                    }
                    let exp = 100u64.saturating_mul(1 << failures.min(20).saturating_sub(1));
                    let wait = exp.min(self.opts.max_backoff_ms);
                    let jitter =
                        u64::from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos())
                            % (wait / 2 + 1);
                    let d = Duration::from_millis(wait / 2 + jitter);
                    self.sleep(d);
                    self.backoff += d;
                }
            }
        }
    }

    /// One batch in its own transaction; returns its time (ms) and the rows it changed.
    fn batch(&mut self, up: &[String], count: u64, size: u64) -> Result<(f64, u64), postgres::Error> {
        let started = Instant::now();
        let mut tx = self.client.transaction()?;
        let statement_ms = (self.opts.target_ms * 10).max(2000);
        tx.batch_execute(&format!(
            "SET LOCAL lock_timeout = '{}ms'; SET LOCAL statement_timeout = '{statement_ms}ms'",
            self.opts.lock_timeout_ms
        ))?;
        let params = key_params(self.done.as_deref(), up);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|s| s as &(dyn postgres::types::ToSql + Sync)).collect();
        let changed = tx.execute(&self.q.update(&self.table, self.done.is_some()), &refs)?;
        checkpoint::advance(
            &mut tx,
            &self.progress_table,
            &self.step,
            Some(up),
            i64::try_from(count).unwrap_or(i64::MAX),
            i64::try_from(changed).unwrap_or(i64::MAX),
            i32::try_from(size).unwrap_or(i32::MAX),
        )?;
        tx.commit()?;
        Ok((started.elapsed().as_secs_f64() * 1000.0, changed))
    }

    /// Sessions holding locks on the table (after a lock timeout or deadlock), for the log.
    fn holders(&mut self) -> String {
        let rows = self.client.query(
            "SELECT DISTINCT l.pid, coalesce(a.state, ''), left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 60)
               FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
              WHERE l.relation = to_regclass($1) AND l.granted AND l.pid <> pg_backend_pid() ORDER BY 1 LIMIT 3",
            &[&self.table.sql()],
        );
        match rows {
            Ok(rows) if !rows.is_empty() => {
                let list: Vec<String> = rows
                    .iter()
                    .map(|r| format!("pid {} ({}: {})", r.get::<_, i32>(0), r.get::<_, String>(1), mask_secrets(&r.get::<_, String>(2))))
                    .collect();
                format!("; lock holders: {}", list.join(", "))
            }
            _ => String::new(),
        }
    }

    /// Sleeps in short steps, returning early when stopped.
    fn sleep(&self, d: Duration) {
        let until = Instant::now() + d;
        while !self.stop.load(Ordering::SeqCst) {
            let now = Instant::now();
            if now >= until {
                break;
            }
            std::thread::sleep((until - now).min(Duration::from_millis(50)));
        }
    }

    fn pace(&mut self) {
        let wait = pace_ms(self.scanned, self.started.elapsed().as_secs_f64() * 1000.0, self.opts.max_rows_per_sec);
        if wait > 0.0 {
            self.sleep(Duration::from_secs_f64(wait / 1000.0));
        }
    }

    /// Waits while any throttle says so. `Some` when stopped meanwhile.
    fn wait_throttles(&mut self) -> Option<Flow> {
        let mut since: Option<Instant> = None;
        while let Some(reason) = self.throttle.reason(self.client) {
            let now = Instant::now();
            if since.is_none() || self.last_note.elapsed() > Duration::from_secs(10) {
                self.obs.note(&format!("throttled: {reason}"));
                self.last_note = now;
            }
            since.get_or_insert(now);
            self.progress(&format!("throttled: {reason}"));
            self.sleep(Duration::from_millis(200));
            if self.stop.load(Ordering::SeqCst) {
                self.throttled += since.map(|s| s.elapsed()).unwrap_or_default();
                return Some(Flow::Stopped);
            }
        }
        if let Some(s) = since {
            self.throttled += s.elapsed();
            self.obs.note("resumed");
        }
        None
    }

    /// Rows of the frozen range that still need the update, counted one key range at a time.
    fn verify(&mut self) -> Result<u64, Error> {
        let mut done: Option<Vec<String>> = None;
        let mut left = 0u64;
        while let Some((up, _)) = probe(self.client, &self.table, done.as_deref(), &self.stop_key, 50_000)? {
            let params = key_params(done.as_deref(), &up);
            let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                params.iter().map(|s| s as &(dyn postgres::types::ToSql + Sync)).collect();
            let n: i64 = self.client.query_one(&self.q.count(&self.table, done.is_some()), &refs).map_err(Error::db)?.get(0);
            left += u64::try_from(n).unwrap_or(0);
            done = Some(up);
        }
        Ok(left)
    }
}
