//! The checkpoint: one row per table in `zdm_backfill_progress` (the table the plan's resumable `DO`
//! backfills use, in the backfilled table's schema; zdm backfill adds its own columns to it). The row is
//! written in each batch's own transaction, so it is exactly as far as the committed batches.

use super::Error;
use super::table::Table;
use postgres::{Client, GenericClient};
use zdm_core::model::QName;

/// A checkpoint row.
#[derive(Clone, Debug, Default)]
pub struct Saved {
    /// Key columns walked.
    pub key: Vec<String>,
    /// The SET list.
    pub set_sql: String,
    /// The filter.
    pub filter_sql: Option<String>,
    /// The frozen last key.
    pub stop: Vec<String>,
    /// The last key done, when any batch committed.
    pub done: Option<Vec<String>>,
    /// Rows walked and changed so far (all runs).
    pub rows_scanned: i64,
    /// Rows changed so far (all runs).
    pub rows_changed: i64,
    /// `running`, `paused`, `failed`.
    pub status: String,
}

/// The progress table beside `table`.
pub fn table_of(t: &Table) -> QName {
    QName { schema: t.name.schema.clone(), name: "zdm_backfill_progress".into() }
}

/// Creates the progress table, or adds zdm backfill's columns to the plan's (under a short lock_timeout).
///
/// # Errors
/// The DDL fails.
pub fn ensure(client: &mut Client, p: &QName) -> Result<(), Error> {
    let has: bool = client
        .query_one("SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'filter_sql')", &[&p.sql()])
        .map_err(Error::db)?
        .get(0);
    if has {
        return Ok(());
    }
    let p = p.sql();
    client
        .batch_execute(&format!(
            "BEGIN;
SET LOCAL lock_timeout = '2s';
CREATE TABLE IF NOT EXISTS {p} (step text PRIMARY KEY, stop text[], done text[]);
ALTER TABLE {p} ADD COLUMN IF NOT EXISTS key_columns text[], ADD COLUMN IF NOT EXISTS set_sql text,
  ADD COLUMN IF NOT EXISTS filter_sql text, ADD COLUMN IF NOT EXISTS rows_scanned bigint NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS rows_changed bigint NOT NULL DEFAULT 0, ADD COLUMN IF NOT EXISTS batch_size integer,
  ADD COLUMN IF NOT EXISTS status text, ADD COLUMN IF NOT EXISTS pid integer,
  ADD COLUMN IF NOT EXISTS updated_at timestamptz;
COMMIT;"
        ))
        .map_err(|e| {
            let _ = client.batch_execute("ROLLBACK");
            Error::Failed(format!("cannot create the checkpoint table {p}: {}", super::describe_error(&e)))
        })
}

/// Reads the row named `step`.
///
/// # Errors
/// The query fails.
pub fn load(client: &mut Client, p: &QName, step: &str) -> Result<Option<Saved>, Error> {
    let row = client
        .query_opt(
            &format!(
                "SELECT coalesce(key_columns, '{{}}'), coalesce(set_sql, ''), filter_sql, coalesce(stop, '{{}}'), done,
                        rows_scanned, rows_changed, coalesce(status, '') FROM {} WHERE step = $1",
                p.sql()
            ),
            &[&step],
        )
        .map_err(Error::db)?;
    Ok(row.map(|r| Saved {
        key: r.get(0),
        set_sql: r.get(1),
        filter_sql: r.get(2),
        stop: r.get(3),
        done: r.get(4),
        rows_scanned: r.get(5),
        rows_changed: r.get(6),
        status: r.get(7),
    }))
}

/// Writes a fresh row (replacing any).
///
/// # Errors
/// The query fails.
pub fn start(client: &mut Client, p: &QName, step: &str, s: &Saved) -> Result<(), Error> {
    client
        .execute(
            &format!(
                "INSERT INTO {} AS p (step, stop, done, key_columns, set_sql, filter_sql, rows_scanned, rows_changed, status, pid, updated_at)
                 VALUES ($1, $2, NULL, $3, $4, $5, 0, 0, 'running', pg_backend_pid(), now())
                 ON CONFLICT (step) DO UPDATE SET stop = excluded.stop, done = NULL, key_columns = excluded.key_columns,
                   set_sql = excluded.set_sql, filter_sql = excluded.filter_sql, rows_scanned = 0, rows_changed = 0,
                   status = 'running', pid = excluded.pid, updated_at = now()",
                p.sql()
            ),
            &[&step, &s.stop, &s.key, &s.set_sql, &s.filter_sql],
        )
        .map_err(Error::db)?;
    Ok(())
}

/// Advances the row inside a batch's transaction.
///
/// # Errors
/// The query fails (the batch then rolls back with it).
pub fn advance(
    tx: &mut impl GenericClient,
    p: &QName,
    step: &str,
    done: Option<&[String]>,
    scanned: i64,
    changed: i64,
    size: i32,
) -> Result<(), postgres::Error> {
    tx.execute(
        &format!(
            "UPDATE {} SET done = $2, rows_scanned = rows_scanned + $3, rows_changed = rows_changed + $4, batch_size = $5,
                    status = 'running', pid = pg_backend_pid(), updated_at = now() WHERE step = $1",
            p.sql()
        ),
        &[&step, &done, &scanned, &changed, &size],
    )?;
    Ok(())
}

/// Sets the status (outside any batch).
///
/// # Errors
/// The query fails.
pub fn set_status(client: &mut Client, p: &QName, step: &str, status: &str) -> Result<(), Error> {
    client
        .execute(&format!("UPDATE {} SET status = $2, updated_at = now() WHERE step = $1", p.sql()), &[&step, &status])
        .map_err(Error::db)?;
    Ok(())
}

/// Removes the row, and the table once empty (as the plan's backfills do), under a short lock_timeout; a
/// table another session is using stays.
///
/// # Errors
/// Deleting the row fails.
pub fn finish(client: &mut Client, p: &QName, step: &str) -> Result<(), Error> {
    client.execute(&format!("DELETE FROM {} WHERE step = $1", p.sql()), &[&step]).map_err(Error::db)?;
    let drop = format!(
        "BEGIN;
SET LOCAL lock_timeout = '500ms';
DO $zdm$ BEGIN IF NOT EXISTS (SELECT FROM {p}) THEN DROP TABLE {p}; END IF; END $zdm$;
COMMIT;",
        p = p.sql()
    );
    if client.batch_execute(&drop).is_err() {
        let _ = client.batch_execute("ROLLBACK");
    }
    Ok(())
}
