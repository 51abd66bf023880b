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
