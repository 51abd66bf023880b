//! Reads a live database's schema and each table's weight, in a read-only session, into plain data
//! ([`LiveFacts`]) for the core.
//!
//! The catalog is rendered as DDL by PostgreSQL's own printers (`format_type`, `pg_get_expr`,
//! `pg_get_constraintdef`, `pg_get_indexdef`, `pg_get_viewdef`) and that DDL is replayed by the core's
//! `schema::replay`: one printer for every type, default and definition, so a live schema and a schema
//! replayed from migration files compare fact by fact. Facts the schema model has no place for (triggers,
//! sequences, extensions, invalid indexes, inheritance, `pg_depend`) go into [`LiveFacts`] beside it.
//!
//! Every query runs in a session with `default_transaction_read_only = on`, a short `statement_timeout`
//! and `lock_timeout`, and `application_name = 'zdm'`. A catalog view the role may not read (the
//! statistics views, `pg_stat_statements`) costs only its facts: they are named in `LiveFacts::missing`.

use postgres::Client;
use postgres::config::{Config, SslMode};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use zdm_core::model::{LiveFacts, QName, SchemaSource, TableStats, mask_secrets};

/// Session limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest wait for the connection.
    pub connect: Duration,
    /// `statement_timeout` of every query.
    pub statement: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { connect: Duration::from_secs(5), statement: Duration::from_secs(10) }
    }
}

/// Why a database could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrospectError {
    /// `host:port/database` (never a password).
    pub database: String,
    /// What went wrong, secrets masked.
    pub message: String,
}

impl fmt::Display for IntrospectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read the database at {}: {}", self.database, self.message)
    }
}

impl std::error::Error for IntrospectError {}

/// How a connection checks the server's certificate: libpq's `sslmode` (`disable`; `prefer`, the
/// default, and `require` encrypt without checking, as libpq does without a root certificate;
/// `verify-ca` checks the chain against the system's roots; `verify-full` the host name too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verify {
    None,
    Chain,
    Full,
}

/// Parses a connection string: a libpq URL or key/value string. dbmate's `?socket=DIR` query parameter
/// is read as libpq's `host=DIR`; `sslmode=verify-ca`/`verify-full` (which the client library does not
/// parse) become `require` plus the check they ask for.
fn config(url: &str) -> Result<(Config, Verify), postgres::Error> {
    let mut verify = Verify::None;
    let mut mode = |value: &str| -> Option<&'static str> {
        match value {
            "verify-ca" => verify = Verify::Chain,
            "verify-full" => verify = Verify::Full,
            _ => return None,
        }
        Some("require")
    };
    let url = match url.split_once('?') {
        Some((head, query)) if url.contains("://") => {
            let query: Vec<String> = query
                .split('&')
                .map(|p| match (p.strip_prefix("socket="), p.strip_prefix("sslmode=").and_then(&mut mode)) {
                    (Some(dir), _) => format!("host={dir}"),
                    (None, Some(m)) => format!("sslmode={m}"),
                    (None, None) => p.to_string(),
                })
                .collect();
            format!("{head}?{}", query.join("&"))
        }
        Some(_) | None if !url.contains("://") => url
            .split_whitespace()
            .map(|kv| match kv.strip_prefix("sslmode=").and_then(&mut mode) {
                Some(m) => format!("sslmode={m}"),
                None => kv.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" "),
        _ => url.to_string(),
    };
    Ok((Config::from_str(&url)?, verify))
}

/// Opens a connection: TLS as `sslmode` asks (none for `disable` and unix sockets), within `timeout`
/// for the whole handshake — the socket's connect timeout does not cover a server that accepts and then
/// never answers.
///
/// # Errors
/// The connection string is malformed, TLS cannot be set up, the server refuses, or it does not answer in
/// time (the message says which; never a password).
pub fn connect(url: &str, timeout: Duration, options: Option<&str>) -> Result<Client, String> {
    let (mut config, verify) = config(url).map_err(|e| format!("not a connection string PostgreSQL accepts: {e}"))?;
    config.connect_timeout(timeout).application_name("zdm");
    if let Some(o) = options {
        config.options(o);
    }
    let tls = native_tls::TlsConnector::builder()
        .danger_accept_invalid_certs(verify == Verify::None)
        .danger_accept_invalid_hostnames(verify != Verify::Full)
        .build()
        .map_err(|e| format!("TLS cannot be set up: {e}"))?;
    let tls = postgres_native_tls::MakeTlsConnector::new(tls);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(if config.get_ssl_mode() == SslMode::Disable { config.connect(postgres::NoTls) } else { config.connect(tls) });
    });
    match rx.recv_timeout(timeout + Duration::from_millis(200)) {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(connect_cause(&e)),
        Err(_) => Err(format!("no answer within {} ms (connect timeout)", timeout.as_millis())),
    }
}

/// `host:port/database` of a connection string (URL or key/value), for messages; never the password.
#[must_use]
pub fn describe(url: &str) -> String {
    match config(url) {
        Ok((c, _)) => {
            let host = c
                .get_hosts()
                .first()
                .map(|h| match h {
                    postgres::config::Host::Tcp(h) => h.clone(),
                    postgres::config::Host::Unix(p) => p.display().to_string(),
                })
                .unwrap_or_else(|| "localhost".into());
            let port = c.get_ports().first().copied().unwrap_or(5432);
            let db = c.get_dbname().or(c.get_user()).unwrap_or("postgres");
            format!("{host}:{port}/{db}")
        }
        Err(_) => mask_secrets(url.split('?').next().unwrap_or(url)),
    }
}

/// Connects read-only and reads everything.
///
/// # Errors
/// The connection fails or times out, or a query every plan needs (the tables) fails.
pub fn introspect(url: &str, limits: Limits) -> Result<LiveFacts, IntrospectError> {
    let database = describe(url);
    let err = |m: String| IntrospectError { database: database.clone(), message: mask_secrets(&m) };
    let ms = limits.statement.as_millis();
    let options = format!(
        "-c default_transaction_read_only=on -c statement_timeout={ms} -c lock_timeout={ms} -c idle_in_transaction_session_timeout={}",
        ms * 3
    );
    let mut client = connect(url, limits.connect, Some(&options)).map_err(err)?;
    let mut facts = read(&mut client).map_err(|e| err(cause(&e)))?;
    facts.database = database.clone();
    if let Some(s) = facts.schema.as_mut() {
        s.source = SchemaSource::Live { database };
    }
    Ok(facts)
}

fn connect_cause(e: &postgres::Error) -> String {
    let text = cause(e);
    if text.contains("timed out") || text.contains("timeout") { format!("no answer within the connect timeout ({text})") } else { text }
}

fn cause(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text = format!("{text}: {s}");
                source = s.source();
            }
            text
        }
    }
}

/// Objects that belong to the system or to an extension are not the project's.
const USER_NS: &str =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

fn not_extension(oid: &str, catalog: &str) -> String {
    format!("NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{catalog}'::regclass AND d.objid = {oid} AND d.deptype = 'e')")
}

fn key(schema: &str, name: &str) -> String {
    QName { schema: Some(schema.to_string()), name: name.to_string() }.key()
}

fn qsql(schema: &str, name: &str) -> String {
    if schema == "public" {
        zdm_core::model::quote_ident(name)
    } else {
        QName { schema: Some(schema.to_string()), name: name.to_string() }.sql()
    }
}

/// Reads everything through an open session (which [`introspect`] made read-only).
///
/// # Errors
/// A query every plan needs fails.
pub fn read(client: &mut Client) -> Result<LiveFacts, postgres::Error> {
    let mut facts = LiveFacts::default();
    let version: String = client.query_one("SHOW server_version", &[])?.get(0);
    let num: String = client.query_one("SHOW server_version_num", &[])?.get(0);
    facts.server_major = num.parse::<u32>().unwrap_or(0) / 10000;
    facts.server_version = version.split_whitespace().next().unwrap_or_default().to_string();
    let mut ddl = String::new();
    enums(client, &mut ddl)?;
    domains(client, &mut ddl)?;
    let tables = tables(client, &mut ddl)?;
    constraints(client, &mut ddl)?;
    indexes(client, &mut ddl, &mut facts)?;
    views(client, &mut ddl, &mut facts)?;
    comments(client, &mut ddl)?;
    others(client, &mut facts)?;
    let (mut schema, _) = zdm_core::schema::replay("", &[("live".to_string(), ddl)]);
    schema.blind_spots.clear();
    facts.schema = Some(schema);
    stats(client, &tables, &mut facts);
    Ok(facts)
}

fn enums(client: &mut Client, ddl: &mut String) -> Result<(), postgres::Error> {
    let sql = format!(
        "SELECT n.nspname::text, t.typname::text, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
         WHERE {USER_NS} AND {} GROUP BY 1, 2, t.oid ORDER BY t.oid",
        not_extension("t.oid", "pg_type")
    );
    for r in client.query(&sql, &[])? {
        let labels: Vec<String> = r.get(2);
        let list: Vec<String> = labels.iter().map(|l| zdm_core::model::quote_literal(l)).collect();
        ddl.push_str(&format!("CREATE TYPE {} AS ENUM ({});\n", qsql(r.get(0), r.get(1)), list.join(", ")));
    }
    Ok(())
}

fn domains(client: &mut Client, ddl: &mut String) -> Result<(), postgres::Error> {
    let sql = format!(
        "SELECT n.nspname::text, t.typname::text, format_type(t.typbasetype, t.typtypmod),
                coalesce(array_agg(pg_get_constraintdef(c.oid) ORDER BY c.oid) FILTER (WHERE c.oid IS NOT NULL), '{{}}'), t.typnotnull
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_constraint c ON c.contypid = t.oid AND c.contype = 'c'
         WHERE t.typtype = 'd' AND {USER_NS} AND {} GROUP BY 1, 2, 3, t.oid, t.typnotnull ORDER BY t.oid",
        not_extension("t.oid", "pg_type")
    );
    for r in client.query(&sql, &[])? {
        let checks: Vec<String> = r.get(3);
        let not_null: bool = r.get(4);
        ddl.push_str(&format!(
            "CREATE DOMAIN {} AS {}{}{};\n",
            qsql(r.get(0), r.get(1)),
            r.get::<_, String>(2),
            if not_null { " NOT NULL" } else { "" },
            checks.iter().map(|c| format!(" {c}")).collect::<String>()
        ));
    }
    Ok(())
}

/// A table the stats are read for: (oid, key).
type TableRef = (u32, String);

fn tables(client: &mut Client, ddl: &mut String) -> Result<Vec<TableRef>, postgres::Error> {
    let sql = format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text,
                CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
                CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
                (SELECT pn.nspname::text || '.' || p.relname::text FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                   JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid ORDER BY i.inhseqno LIMIT 1),
                c.relpersistence::text
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND {USER_NS} AND {}
         ORDER BY c.oid",
        not_extension("c.oid", "pg_class")
    );
    let rows = client.query(&sql, &[])?;
    let columns = client.query(
        "SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text, a.attislocal,
                (SELECT s.relname::text FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid
                  WHERE dep.refclassid = 'pg_class'::regclass AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum
                    AND dep.classid = 'pg_class'::regclass
                    AND dep.deptype = 'a' AND s.relkind = 'S' LIMIT 1)
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attrelid IN (SELECT c.oid FROM pg_class c WHERE c.relkind IN ('r', 'p'))
         ORDER BY a.attrelid, a.attnum",
        &[],
    )?;
    let mut by_table: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for a in &columns {
        let rel: u32 = a.get(0);
        let name: String = a.get(1);
        let mut type_sql: String = a.get(2);
        let default: Option<String> = a.get(4);
        let identity: String = a.get(5);
        let generated: String = a.get(6);
        let local: bool = a.get(7);
        let owned: Option<String> = a.get(8);
        if !local {
            continue;
        }
        let mut default = default;
        let mut not_null: bool = a.get(3);
        // A column that owns a sequence named as `serial` names it, defaulting to it: written as `serial`.
        if let (Some(seq), Some(d)) = (&owned, &default)
            && d.starts_with("nextval(")
            && d.contains(&format!("{seq}'"))
            && let Some(serial) = match type_sql.as_str() {
                "integer" => Some("serial"),
                "bigint" => Some("bigserial"),
                "smallint" => Some("smallserial"),
                _ => None,
            }
        {
            type_sql = serial.to_string();
            default = None;
            not_null = false;
        }
        let mut col = format!("{} {type_sql}", zdm_core::model::quote_ident(&name));
        match (identity.as_str(), generated.as_str()) {
            ("a", _) => col.push_str(" GENERATED ALWAYS AS IDENTITY"),
            ("d", _) => col.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
            (_, "s") => col.push_str(&format!(" GENERATED ALWAYS AS ({}) STORED", default.take().unwrap_or_default())),
            (_, "v") => col.push_str(&format!(" GENERATED ALWAYS AS ({}) VIRTUAL", default.take().unwrap_or_default())),
            _ => {}
        }
        if let Some(d) = default.filter(|_| identity.is_empty()) {
            col.push_str(&format!(" DEFAULT {d}"));
        }
        if not_null && identity.is_empty() {
            col.push_str(" NOT NULL");
        }
        by_table.entry(rel).or_default().push(col);
    }
    let mut out = Vec::new();
    for r in rows {
        let oid: u32 = r.get(0);
        let (ns, name): (String, String) = (r.get(1), r.get(2));
        let partkey: Option<String> = r.get(4);
        let bound: Option<String> = r.get(5);
        let parent: Option<String> = r.get(6);
        let unlogged = r.get::<_, String>(7) == "u";
        let parent_sql = parent.as_deref().map(|p| {
            let (s, n) = p.split_once('.').unwrap_or(("public", p));
            qsql(s, n)
        });
        let cols = by_table.remove(&oid).unwrap_or_default();
        let head = format!("CREATE {}TABLE {}", if unlogged { "UNLOGGED " } else { "" }, qsql(&ns, &name));
        let mut stmt = match (&bound, &parent_sql) {
            (Some(b), Some(p)) => format!("{head} PARTITION OF {p} {b}"),
            (_, Some(p)) => format!("{head} ({}) INHERITS ({p})", cols.join(", ")),
            _ => format!("{head} ({})", cols.join(", ")),
        };
        if let Some(k) = partkey {
            stmt.push_str(&format!(" PARTITION BY {k}"));
        }
        ddl.push_str(&stmt);
        ddl.push_str(";\n");
        out.push((oid, key(&ns, &name)));
    }
    Ok(out)
}

fn constraints(client: &mut Client, ddl: &mut String) -> Result<(), postgres::Error> {
    let sql = format!(
        "SELECT n.nspname::text, t.relname::text, c.conname::text, pg_get_constraintdef(c.oid), c.contype::text
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE c.contype IN ('p', 'u', 'c', 'f', 'x') AND c.conislocal AND {USER_NS} AND {}
         ORDER BY CASE c.contype WHEN 'f' THEN 1 ELSE 0 END, c.oid",
        not_extension("t.oid", "pg_class")
    );
    for r in client.query(&sql, &[])? {
        let def: String = r.get(3);
        ddl.push_str(&format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {def};\n",
            qsql(r.get(0), r.get(1)),
            zdm_core::model::quote_ident(r.get(2))
        ));
    }
    Ok(())
}

fn indexes(client: &mut Client, ddl: &mut String, facts: &mut LiveFacts) -> Result<(), postgres::Error> {
    let sql = format!(
        "SELECT n.nspname::text, ic.relname::text, pg_get_indexdef(i.indexrelid), i.indisvalid,
                i.indexrelid IN (SELECT c.conindid FROM pg_constraint c WHERE c.contype IN ('p', 'u', 'x')),
                EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE t.relkind IN ('r', 'p', 'm') AND {USER_NS} AND {}
         ORDER BY i.indexrelid",
        not_extension("t.oid", "pg_class")
    );
    for r in client.query(&sql, &[])? {
        let (ns, name): (String, String) = (r.get(0), r.get(1));
        let (valid, backs, child): (bool, bool, bool) = (r.get(3), r.get(4), r.get(5));
        if !valid {
            facts.invalid_indexes.push(key(&ns, &name));
        }
        // A constraint's index comes with the constraint; a partition's copy of its parent's index is not
        // written in DDL either.
        if backs || child {
            continue;
        }
        // `pg_get_indexdef` qualifies every table and writes `ON ONLY` for a partitioned parent's index;
        // a migration writes `ON events`, which builds the same index on every partition.
        let def = r.get::<_, String>(2).replacen(" ON ONLY ", " ON ", 1);
        let def = if ns == "public" { def.replacen(" ON public.", " ON ", 1) } else { def };
        ddl.push_str(&def);
        ddl.push_str(";\n");
    }
    Ok(())
}

fn views(client: &mut Client, ddl: &mut String, facts: &mut LiveFacts) -> Result<(), postgres::Error> {
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text, c.relkind::text, pg_get_viewdef(c.oid)
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('v', 'm') AND {USER_NS} AND {} ORDER BY c.oid",
        not_extension("c.oid", "pg_class")
    );
    for r in client.query(&sql, &[])? {
        let kind = if r.get::<_, String>(2) == "m" { "MATERIALIZED VIEW" } else { "VIEW" };
        let def: String = r.get(3);
        ddl.push_str(&format!("CREATE {kind} {} AS {};\n", qsql(r.get(0), r.get(1)), def.trim().trim_end_matches(';')));
    }
    // What depends on what: views (through their rewrite rules) on tables and views.
    let deps = format!(
        "SELECT DISTINCT vn.nspname::text, v.relname::text, tn.nspname::text, t.relname::text
         FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid AND d.classid = 'pg_rewrite'::regclass
           JOIN pg_class v ON v.oid = w.ev_class JOIN pg_namespace vn ON vn.oid = v.relnamespace
           JOIN pg_class t ON t.oid = d.refobjid AND d.refclassid = 'pg_class'::regclass
           JOIN pg_namespace tn ON tn.oid = t.relnamespace
         WHERE t.oid <> v.oid AND d.deptype = 'n' AND {} ORDER BY 1, 2, 3, 4",
        USER_NS.replace("n.nspname", "vn.nspname")
    );
    for r in client.query(&deps, &[])? {
        facts.dependencies.push((key(r.get(0), r.get(1)), key(r.get(2), r.get(3))));
    }
    Ok(())
}

fn comments(client: &mut Client, ddl: &mut String) -> Result<(), postgres::Error> {
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text, a.attname::text, d.description
         FROM pg_description d JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass
           JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0
         WHERE c.relkind IN ('r', 'p') AND {USER_NS} ORDER BY c.oid, d.objsubid"
    );
    for r in client.query(&sql, &[])? {
        let text = zdm_core::model::quote_literal(r.get(3));
        let table = qsql(r.get(0), r.get(1));
        match r.get::<_, Option<String>>(2) {
            Some(col) => ddl.push_str(&format!("COMMENT ON COLUMN {table}.{} IS {text};\n", zdm_core::model::quote_ident(&col))),
            None => ddl.push_str(&format!("COMMENT ON TABLE {table} IS {text};\n")),
        }
    }
    Ok(())
}

fn others(client: &mut Client, facts: &mut LiveFacts) -> Result<(), postgres::Error> {
    for r in client.query("SELECT extname::text || ' ' || extversion FROM pg_extension ORDER BY 1", &[])? {
        facts.extensions.push(r.get(0));
    }
    let seqs = format!(
        "SELECT n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'S' AND {USER_NS} AND {} ORDER BY 1, 2",
        not_extension("c.oid", "pg_class")
    );
    for r in client.query(&seqs, &[])? {
        facts.sequences.push(key(r.get(0), r.get(1)));
    }
    let triggers = format!(
        "SELECT n.nspname::text, c.relname::text, t.tgname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE NOT t.tgisinternal AND {USER_NS} ORDER BY 1, 2, 3"
    );
    for r in client.query(&triggers, &[])? {
        facts.triggers.push(format!("{}: {}", key(r.get(0), r.get(1)), r.get::<_, String>(2)));
    }
    let inherits = format!(
        "SELECT n.nspname::text, c.relname::text, pn.nspname::text, p.relname::text
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {USER_NS} ORDER BY 1, 2"
    );
    for r in client.query(&inherits, &[])? {
        facts.inherits.push((key(r.get(0), r.get(1)), key(r.get(2), r.get(3))));
    }
    Ok(())
}

/// Rows, sizes and write rates. Each source is optional: what cannot be read is named in `missing`.
fn stats(client: &mut Client, tables: &[TableRef], facts: &mut LiveFacts) {
    let oids: Vec<u32> = tables.iter().map(|(o, _)| *o).collect();
    let mut stats: BTreeMap<u32, TableStats> = BTreeMap::new();
    match client.query(
        "SELECT c.oid, c.reltuples::float8, pg_total_relation_size(c.oid), pg_relation_size(c.oid),
                CASE WHEN c.relkind = 'p' THEN (SELECT sum(pc.reltuples)::float8 FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhrelid
                                                WHERE i.inhparent = c.oid AND pc.reltuples >= 0) END
         FROM pg_class c WHERE c.oid = ANY($1)",
        &[&oids],
    ) {
        Ok(rows) => {
            for r in rows {
                let reltuples: f64 = r.get(1);
                let parts: Option<f64> = r.get(4);
                let bytes = u64::try_from(r.get::<_, i64>(2)).unwrap_or(0);
                let heap = r.get::<_, i64>(3);
                let mut s = TableStats { bytes, ..TableStats::default() };
                if let Some(p) = parts {
                    (s.rows, s.rows_from) = (as_rows(p), "partitions' reltuples".into());
                } else if reltuples >= 0.0 {
                    (s.rows, s.rows_from) = (as_rows(reltuples), "reltuples".into());
                } else if heap == 0 {
                    // Never analyzed, and not one page: nothing was ever written to it.
                    (s.rows, s.rows_from) = (0, "no pages".into());
                } else {
                    // Never analyzed: a guess from the heap size at ~100 bytes a row, until n_live_tup says.
                    (s.rows, s.rows_from, s.rows_unknown) = (u64::try_from(heap / 100).unwrap_or(0), "size estimate".into(), true);
                }
                stats.insert(r.get(0), s);
            }
        }
        Err(e) => facts.missing.push(format!("row counts and sizes (pg_class: {})", cause(&e))),
    }
    let elapsed = client
        .query_one(
            "SELECT extract(epoch FROM now() - coalesce((SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()),
                                                      pg_postmaster_start_time()))::float8",
            &[],
        )
        .map(|r| r.get::<_, f64>(0).max(1.0));
    let written = client.query(
        "SELECT relid, (n_tup_ins + n_tup_upd + n_tup_del)::int8, n_live_tup::int8 FROM pg_stat_user_tables WHERE relid = ANY($1)",
        &[&oids],
    );
    match (elapsed, written) {
        (Ok(secs), Ok(rows)) => {
            for r in rows {
                let Some(s) = stats.get_mut(&r.get::<_, u32>(0)) else { continue };
                let writes = u64::try_from(r.get::<_, i64>(1)).unwrap_or(0);
                let live = u64::try_from(r.get::<_, i64>(2)).unwrap_or(0);
                s.writes = Some(writes);
                // An average over a short window (a server just started, statistics just reset) says
                // little: below ten minutes there is no rate, only the count.
                if secs >= MIN_WINDOW_SECS {
                    #[allow(clippy::cast_precision_loss)]
                    let rate = writes as f64 / secs;
                    s.writes_per_sec = Some((rate * 100.0).round() / 100.0);
                }
                // The statistics collector counts live rows as they are written: a table never analyzed
                // gets its count, and a stale reltuples the larger of the two. A zero from it is no proof
                // of emptiness for a table never analyzed (its counts reach the view up to a second late).
                if live > s.rows || (s.rows_unknown && live > 0) {
                    (s.rows, s.rows_from, s.rows_unknown) = (live, "n_live_tup".into(), false);
                }
            }
        }
        (Err(e), _) | (_, Err(e)) => facts.missing.push(format!("write rates (pg_stat_user_tables: {})", cause(&e))),
    }
    statements(client, tables, &mut stats, facts);
    for (oid, k) in tables {
        if let Some(s) = stats.remove(oid) {
            facts.stats.insert(k.clone(), s);
        }
    }
}

/// The shortest statistics window a write rate is averaged over.
const MIN_WINDOW_SECS: f64 = 600.0;

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn as_rows(n: f64) -> u64 {
    n.max(0.0).round() as u64
}

/// Write statements per table from `pg_stat_statements`, when installed and readable.
fn statements(client: &mut Client, tables: &[TableRef], stats: &mut BTreeMap<u32, TableStats>, facts: &mut LiveFacts) {
    let installed = client.query_opt(
        "SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'",
        &[],
    );
    let Ok(Some(row)) = installed else { return };
    let ns: String = row.get(0);
    let q = format!(
        "SELECT s.query, s.calls::int8,
                extract(epoch FROM now() - coalesce((SELECT stats_reset FROM {ns}.pg_stat_statements_info), pg_postmaster_start_time()))::float8
         FROM {ns}.pg_stat_statements s WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND s.query ~* '^\\s*(insert|update|delete|merge|copy)'",
        ns = zdm_core::model::quote_ident(&ns)
    );
    match client.query(&q, &[]) {
        Ok(rows) => {
            let mut hidden = 0;
            for r in &rows {
                let query: String = r.get(0);
                if query.starts_with("<insufficient privilege>") {
                    hidden += 1;
                    continue;
                }
                let calls = u64::try_from(r.get::<_, i64>(1)).unwrap_or(0);
                let secs = r.get::<_, f64>(2).max(1.0);
                if secs < MIN_WINDOW_SECS {
                    continue;
                }
                let lower = query.to_lowercase();
                for (oid, k) in tables {
                    let name = k.rsplit('.').next().unwrap_or(k);
                    if writes_to(&lower, name)
                        && let Some(s) = stats.get_mut(oid)
                    {
                        #[allow(clippy::cast_precision_loss)]
                        let rate = calls as f64 / secs;
                        let total = s.statement_writes_per_sec.unwrap_or(0.0) + rate;
                        s.statement_writes_per_sec = Some((total * 100.0).round() / 100.0);
                    }
                }
            }
            if hidden > 0 {
                facts.missing.push(format!("{hidden} statements of other roles (pg_stat_statements shows <insufficient privilege>)"));
            }
        }
        Err(e) => facts.missing.push(format!("statement rates (pg_stat_statements: {})", cause(&e))),
    }
}

/// True when a lowercase write statement targets table `name`.
fn writes_to(query: &str, name: &str) -> bool {
    let name = name.to_lowercase();
    ["insert into ", "update ", "delete from ", "merge into ", "copy "].iter().any(|verb| {
        query.match_indices(verb).any(|(i, _)| {
            let rest = query[i + verb.len()..].trim_start();
            let target = rest.split(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
            let last = target.rsplit('.').next().unwrap_or(target).trim_matches('"');
            last == name
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_targets() {
        assert!(writes_to("insert into users (a) values ($1)", "users"));
        assert!(writes_to("update public.\"users\" set a = $1", "users"));
        assert!(!writes_to("update users_archive set a = $1", "users"));
        assert!(writes_to("delete from users where id = $1", "users"));
    }

    #[test]
    fn described_without_password() {
        assert_eq!(describe("postgres://app:s3cret@db.example:6543/prod"), "db.example:6543/prod");
        assert_eq!(describe("host=db password=x dbname=app"), "db:5432/app");
    }
}
