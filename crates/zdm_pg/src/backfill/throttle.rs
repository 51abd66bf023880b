//! Reasons to pause between batches (any one pauses, none can be overridden): the operator's pause file,
//! replica replay lag on the primary (standbys that replay only: pg_receivewal and barman report no
//! `replay_lsn` and are skipped; a caught-up standby counts 0), and a vacuum running on the table. The
//! database is asked at most once a second.

use postgres::Client;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What to watch.
#[derive(Clone, Debug, Default)]
pub struct Signals {
    /// Paused while this file exists.
    pub pause_file: Option<PathBuf>,
    /// Paused while a standby's replay lag is above this many seconds.
    pub max_replica_lag: Option<f64>,
    /// Paused while a (auto)vacuum runs on the table.
    pub vacuum: bool,
}

/// The throttle state.
pub struct Throttle {
    signals: Signals,
    table: String,
    checked: Option<Instant>,
    cached: Option<String>,
}

impl Throttle {
    /// Watches `signals` for the table `table` (SQL name).
    pub fn new(signals: Signals, table: String) -> Throttle {
        Throttle { signals, table, checked: None, cached: None }
    }

    /// Why to pause now, if at all.
    pub fn reason(&mut self, client: &mut Client) -> Option<String> {
        if let Some(f) = &self.signals.pause_file
            && f.exists()
        {
            return Some(format!("pause file {}", f.display()));
        }
        if self.checked.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            return self.cached.clone();
        }
        self.checked = Some(Instant::now());
        self.cached = self.database(client);
        self.cached.clone()
    }

    fn database(&self, client: &mut Client) -> Option<String> {
        if let Some(max) = self.signals.max_replica_lag
            && let Ok(Some(r)) = client.query_opt(
                "SELECT coalesce(application_name, client_addr::text, pid::text),
                        extract(epoch FROM replay_lag)::float8
                   FROM pg_stat_replication
                  WHERE replay_lsn IS NOT NULL AND replay_lag IS NOT NULL AND replay_lsn <> pg_current_wal_lsn()
                  ORDER BY 2 DESC LIMIT 1",
                &[],
            )
        {
            let lag: f64 = r.get(1);
            if lag > max {
                return Some(format!("replica lag {lag:.1}s ({})", r.get::<_, String>(0)));
            }
        }
        if self.signals.vacuum
            && let Ok(r) = client.query_one("SELECT count(*) FROM pg_stat_progress_vacuum WHERE relid = to_regclass($1)", &[&self.table])
            && r.get::<_, i64>(0) > 0
        {
            return Some(format!("vacuum running on {}", self.table));
        }
        None
    }
}
