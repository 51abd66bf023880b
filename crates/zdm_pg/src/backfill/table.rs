//! What the executor needs to know about the table: its real name, columns and types, the key it walks
//! (primary key, else a unique NOT NULL key) and a row estimate. Refusals name the table or column.

use super::Error;
use postgres::Client;
use std::collections::BTreeMap;
use zdm_core::backfill::Job;
use zdm_core::model::{QName, quote_ident};

/// The table as the catalog has it.
pub struct Table {
    /// Qualified name (schema always written).
    pub name: QName,
    /// Key columns and their types, in index order.
    pub key: Vec<(String, String)>,
    /// Every column's type.
    pub types: BTreeMap<String, String>,
    /// Estimated rows (`reltuples`, else `n_live_tup`).
    pub estimate: u64,
}

impl Table {
    /// `name` as SQL.
    pub fn sql(&self) -> String {
        self.name.sql()
    }

    /// The key columns as `a, b`.
    pub fn key_list(&self) -> String {
        self.key.iter().map(|(c, _)| quote_ident(c)).collect::<Vec<_>>().join(", ")
    }

    /// The key as a row, `(a, b)`.
    pub fn key_row(&self) -> String {
        format!("({})", self.key_list())
    }

    /// Parameters `$n::text::type, …` as a row, starting at `$first`.
    pub fn params_row(&self, first: usize) -> String {
        let p: Vec<String> = self.key.iter().enumerate().map(|(i, (_, t))| format!("${}::text::{t}", first + i)).collect();
        format!("({})", p.join(", "))
    }

    /// The key columns as text, for reading keys back: `a::text AS zdm_k1, …` (renamed: an `ORDER BY a`
    /// beside an output column named `a` would sort the text).
    pub fn key_text(&self) -> String {
        self.key.iter().enumerate().map(|(i, (c, _))| format!("{}::text AS zdm_k{}", quote_ident(c), i + 1)).collect::<Vec<_>>().join(", ")
    }

    /// `a DESC, b DESC`.
    pub fn key_desc(&self) -> String {
        self.key.iter().map(|(c, _)| format!("{} DESC", quote_ident(c))).collect::<Vec<_>>().join(", ")
    }
}

/// Reads the table and checks the job against it.
///
/// # Errors
/// The table or a column does not exist, a target column is part of the key, or there is no key.
pub fn describe(client: &mut Client, job: &Job) -> Result<Table, Error> {
    let row = client
        .query_opt(
            "SELECT c.oid, n.nspname::text, c.relname::text,
                    CASE WHEN c.reltuples > 0 THEN c.reltuples::bigint ELSE coalesce(s.n_live_tup, 0) END
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
              WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')",
            &[&job.table.sql()],
        )
        .map_err(Error::db)?
        .ok_or_else(|| Error::Refused(format!("table {} does not exist", job.table)))?;
    let oid: u32 = row.get(0);
    let name = QName { schema: Some(row.get(1)), name: row.get(2) };
    let estimate = u64::try_from(row.get::<_, i64>(3)).unwrap_or(0);
    let mut types = BTreeMap::new();
    let mut not_null = BTreeMap::new();
    for r in client
        .query(
            "SELECT attname::text, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute
              WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            &[&oid],
        )
        .map_err(Error::db)?
    {
        types.insert(r.get::<_, String>(0), r.get::<_, String>(1));
        not_null.insert(r.get::<_, String>(0), r.get::<_, bool>(2));
    }
    let keys = client
        .query(
            "SELECT i.indisprimary, ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
                                          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
                                         WHERE k.o <= i.indnkeyatts ORDER BY k.o)
               FROM pg_index i
              WHERE i.indrelid = $1 AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
              ORDER BY i.indisprimary DESC, i.indnkeyatts, i.indexrelid",
            &[&oid],
        )
        .map_err(Error::db)?;
    let key = keys
        .iter()
        .map(|r| r.get::<_, Vec<String>>(1))
        .find(|cols| !cols.is_empty() && cols.iter().all(|c| not_null.get(c).copied().unwrap_or(false)))
        .ok_or_else(|| {
            let candidate = not_null.iter().find(|(_, nn)| **nn).map_or("id", |(c, _)| c.as_str());
            let idx = format!("{}_{candidate}_key", name.name);
            Error::Refused(format!(
                "table {} has no primary key or unique NOT NULL key: zdm backfill walks the table by key\n  = help: add one \
                 without a long lock, e.g. CREATE UNIQUE INDEX CONCURRENTLY {} ON {} ({}); then ALTER TABLE {} ADD CONSTRAINT \
                 {} PRIMARY KEY USING INDEX {}",
                job.table,
                quote_ident(&idx),
                name.sql(),
                quote_ident(candidate),
                name.sql(),
                quote_ident(&format!("{}_pkey", name.name)),
                quote_ident(&idx)
            ))
        })?;
    for (col, _) in &job.set {
        if !types.contains_key(col) {
            return Err(Error::Refused(format!("column {}.{col} does not exist", job.table)));
        }
        if key.contains(col) {
            return Err(Error::Refused(format!(
                "column {}.{col} is part of the key zdm walks ({}): a backfill cannot change it",
                job.table,
                key.join(", ")
            )));
        }
    }
    let key = key.into_iter().map(|c| (c.clone(), types[&c].clone())).collect();
    Ok(Table { name, key, types, estimate })
}
