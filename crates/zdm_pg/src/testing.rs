//! Test support: one throwaway cluster per test process (or the server `DATABASE_URL` names), one fresh
//! database per test. The cluster stops when the process exits (atexit, plus the cluster's watchdog if the
//! process is killed). Tests never skip for want of a server: [`TestDb::new`] panics with the way to get one.

use crate::cluster::Cluster;
use postgres::{Client, NoTls};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

enum Server {
    /// Our own cluster: its conninfo for `postgres`, its URL template and JDBC URL template (`{db}`
    /// replaced).
    Own(String, String, String),
    External(String),
}

static CLUSTER: Mutex<Option<Cluster>> = Mutex::new(None);
static SERVER: OnceLock<Server> = OnceLock::new();
static COUNTER: AtomicUsize = AtomicUsize::new(0);

extern "C" fn stop_cluster() {
    if let Ok(mut guard) = CLUSTER.lock()
        && let Some(mut c) = guard.take()
    {
        c.stop();
    }
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            return Server::External(url);
        }
        let cluster = Cluster::start().unwrap_or_else(|e| panic!("cannot start a throwaway PostgreSQL for the tests: {e}"));
        let conninfo = cluster.conninfo("postgres");
        let url = cluster.url("{db}");
        let jdbc = cluster.jdbc_url("{db}");
        *CLUSTER.lock().expect("cluster lock") = Some(cluster);
        #[allow(unsafe_code)]
        // SAFETY: registering a plain extern "C" function with no captured state.
        unsafe {
            libc::atexit(stop_cluster);
        }
        Server::Own(conninfo, url, jdbc)
    })
}

fn with_db(base: &str, db: &str) -> String {
    if base.starts_with("postgres://") || base.starts_with("postgresql://") {
        let (head, query) = base.split_once('?').map_or((base, None), |(h, q)| (h, Some(q)));
        let root = head.rsplit_once('/').map_or(head, |(r, _)| r);
        match query {
            Some(q) => format!("{root}/{db}?{q}"),
            None => format!("{root}/{db}"),
        }
    } else {
        format!("{base} dbname={db}")
    }
}

/// `jdbc:postgresql://host:port/db?user=…&password=…` from a `postgres://user:password@host:port/…` URL.
fn jdbc_of(url: &str, db: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let (userinfo, host) = authority.rsplit_once('@').unwrap_or(("", authority));
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let host = if host.is_empty() { "127.0.0.1" } else { host };
    let mut jdbc = format!("jdbc:postgresql://{host}/{db}");
    let params: Vec<String> =
        [("user", user), ("password", password)].iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={v}")).collect();
    if !params.is_empty() {
        jdbc.push('?');
        jdbc.push_str(&params.join("&"));
    }
    jdbc
}

fn admin_conninfo() -> String {
    match server() {
        Server::Own(c, _, _) => c.clone(),
        Server::External(url) => url.clone(),
    }
}

/// A database of its own for one test; dropped when the test passes, kept (and named) when it fails.
pub struct TestDb {
    /// Database name.
    pub name: String,
    /// Connection string for it.
    pub conninfo: String,
}

impl TestDb {
    /// Creates `zdm_test_<hint>_<n>` from template0.
    ///
    /// # Panics
    /// When no server can be had: the message says how to get one.
    #[must_use]
    pub fn new(hint: &str) -> TestDb {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let clean: String = hint.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).take(30).collect();
        let name = format!("zdm_test_{clean}_{}_{n}", std::process::id());
        let admin = admin_conninfo();
        let mut client = Client::connect(&admin, NoTls).unwrap_or_else(|e| panic!("cannot connect to the test server: {e}"));
        client.batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0")).expect("create test database");
        let conninfo = with_db(&admin, &name);
        TestDb { name, conninfo }
    }

    /// A `postgres://` URL for this database (for runners that only take URLs).
    #[must_use]
    pub fn url(&self) -> String {
        match server() {
            Server::Own(_, template, _) => template.replace("{db}", &self.name),
            Server::External(url) => with_db(url, &self.name),
        }
    }

    /// A JDBC URL for this database (for Java runners such as Liquibase). With `DATABASE_URL`, its
    /// `postgres://user:password@host:port/` part is carried over.
    #[must_use]
    pub fn jdbc_url(&self) -> String {
        match server() {
            Server::Own(_, _, template) => template.replace("{db}", &self.name),
            Server::External(url) => jdbc_of(url, &self.name),
        }
    }

    /// A new connection to this database.
    ///
    /// # Panics
    /// When the server refuses the connection.
    #[must_use]
    pub fn connect(&self) -> Client {
        Client::connect(&self.conninfo, NoTls).unwrap_or_else(|e| panic!("connect to {}: {e}", self.name))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept database {} for inspection", self.name);
            return;
        }
        if let Ok(mut c) = Client::connect(&admin_conninfo(), NoTls) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
        }
    }
}

/// The path of a migration tool's runner the tests drive: `$env_var` when set, else `relative` below the
/// repository root (where `scripts/deps --test` installs it). Panics, saying how to get it, when absent.
#[must_use]
pub fn installed_runner(env_var: &str, relative: &str) -> String {
    let path = std::env::var(env_var).unwrap_or_else(|_| format!("{}/../../{relative}", env!("CARGO_MANIFEST_DIR")));
    assert!(
        std::path::Path::new(&path).exists(),
        "runner not found at {path}: run scripts/deps --test (or scripts/test), or set {env_var}"
    );
    path
}

/// Migration tools' own tables, left out of [`fingerprint`]: they belong to the tool, not to the app.
const TOOL_TABLES: &str = "'schema_migrations', 'ar_internal_metadata', '_prisma_migrations', 'goose_db_version', \
    'flyway_schema_history', 'databasechangelog', 'databasechangeloglock', '_sqlx_migrations', '__diesel_schema_migrations', \
    'refinery_schema_history', 'pgmigrations', 'zdm_test_history', 'zdm_manual_steps'";

/// Everything about the `public` schema that a rollback must restore, as sorted text: columns (type,
/// nullability, default), table persistence and partitioning, constraints, indexes (and validity),
/// triggers, functions. Migration tools' history tables are left out.
///
/// # Panics
/// When the query fails.
pub fn fingerprint(c: &mut Client) -> String {
    let query = "SELECT coalesce(string_agg(x, E'\\n' ORDER BY x), '') FROM (
           SELECT format('col %s.%s %s notnull=%s default=%s', cl.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                         a.attnotnull, pg_get_expr(d.adbin, d.adrelid)) AS x
             FROM pg_attribute a JOIN pg_class cl ON cl.oid = a.attrelid
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE cl.relnamespace = 'public'::regnamespace AND cl.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
              AND cl.relname NOT IN ({TOOLS})
           UNION ALL
           SELECT format('rel %s persistence=%s rls=%s partition=%s', relname, relpersistence, relrowsecurity, relispartition)
             FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND relname NOT IN ({TOOLS})
           UNION ALL
           SELECT format('con %s %s %s valid=%s', conrelid::regclass, conname, pg_get_constraintdef(oid), convalidated)
             FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT IN ({TOOLS})
           UNION ALL
           SELECT format('idx %s valid=%s', pg_get_indexdef(i.indexrelid), i.indisvalid) FROM pg_index i
             JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
            WHERE ic.relnamespace = 'public'::regnamespace AND t.relname NOT IN ({TOOLS})
           UNION ALL
           SELECT format('trg %s', tgname) FROM pg_trigger WHERE NOT tgisinternal
           UNION ALL
           SELECT format('fn %s', proname) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
         ) s"
    .replace("{TOOLS}", TOOL_TABLES);
    c.query_one(&query, &[]).expect("fingerprint query").get(0)
}

/// Copies the directory `from` into `to` (created), recursively: a fixture project a test may change.
///
/// # Panics
/// When a file cannot be read or written.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())).flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}
