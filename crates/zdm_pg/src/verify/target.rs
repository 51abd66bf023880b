//! Where verify runs: a throwaway cluster of its own, or a scratch database `zdm_verify_<pid>_<n>` on the
//! server a URL names (never the database the URL names). A running verify holds a session advisory lock
//! keyed on its scratch name on the admin connection, so the next run drops every `zdm_verify_*` database
//! whose lock it can take: a killed run's scratch database goes, a live run's stays. Kept databases
//! (`--keep`) are renamed `zdm_kept_*` and never swept.

use crate::cluster::Cluster;
use crate::introspect;
use postgres::Client;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Prefix of every scratch database.
pub const PREFIX: &str = "zdm_verify_";

/// The scratch database and what keeps it.
pub struct Target {
    /// Connection string of the scratch database.
    pub conninfo: String,
    /// Its name.
    pub name: String,
    /// For the report (no password).
    pub describe: String,
    /// Where pg_dump and friends live.
    pub bin: Option<std::path::PathBuf>,
    admin: Client,
    admin_conninfo: String,
    cluster: Option<Cluster>,
    keep: bool,
}

/// `conninfo` with its database replaced by `db` (URL or key/value form).
#[must_use]
pub fn with_db(base: &str, db: &str) -> String {
    if base.starts_with("postgres://") || base.starts_with("postgresql://") {
        let (head, query) = base.split_once('?').map_or((base, None), |(h, q)| (h, Some(q)));
        let rest = head.split_once("://").map_or(head, |(_, r)| r);
        let root = if rest.contains('/') { head.rsplit_once('/').map_or(head, |(r, _)| r).to_string() } else { head.to_string() };
        match query {
            Some(q) => format!("{root}/{db}?{q}"),
            None => format!("{root}/{db}"),
        }
    } else {
        format!("{base} dbname={db}")
    }
}

/// Connects within 10 s (TLS as `sslmode` asks).
///
/// # Errors
/// The message says why, never with a password.
pub fn connect(conninfo: &str) -> Result<Client, String> {
    introspect::connect(conninfo, Duration::from_secs(10), None)
}

/// Drops the scratch databases of runs that are gone. `shared` says the advisory locks live in the
/// database every run uses (`postgres`); otherwise a database with connections is left alone too, since
/// its run may hold its lock in another database.
fn sweep(admin: &mut Client, shared: bool) {
    // Exactly the names verify makes (`zdm_verify_<pid>_<n>`): a user's database that merely starts with
    // the prefix is never a candidate.
    let Ok(rows) = admin.query("SELECT datname::text FROM pg_database WHERE datname ~ '^zdm_verify_[0-9]+_[0-9]+$'", &[]) else {
        return;
    };
    for r in rows {
        let name: String = r.get(0);
        let busy =
            admin.query_one("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", &[&name]).map_or(true, |r| r.get::<_, i64>(0) > 0);
        if busy && !shared {
            continue;
        }
        let free = admin.query_one("SELECT pg_try_advisory_lock(hashtext($1))", &[&name]).is_ok_and(|r| r.get::<_, bool>(0));
        if free {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            let _ = admin.query_one("SELECT pg_advisory_unlock(hashtext($1))", &[&name]);
        }
    }
}

impl Target {
    /// A scratch database on the server `url` names, or on a throwaway cluster when `url` is None.
    ///
    /// # Errors
    /// The server cannot be reached, the role may not create databases, or no cluster can start.
    pub fn open(url: Option<&str>, keep: bool) -> Result<Target, String> {
        let (cluster, admin_conninfo, where_) = match url {
            Some(u) => (None, u.to_string(), format!("scratch database on {}", introspect::describe(u))),
            None => {
                let c = Cluster::start().map_err(|e| e.to_string())?;
                let info = c.conninfo("postgres");
                (Some(c), info, "throwaway cluster".to_string())
            }
        };
        let bin = crate::cluster::find_bin_dir();
        // The advisory locks live in one database: `postgres` where it can be reached, else the URL's.
        let (mut admin, admin_conninfo, shared) = match url.map(|_| with_db(&admin_conninfo, "postgres")).map(|m| (connect(&m), m)) {
            Some((Ok(c), m)) => (c, m, true),
            _ => (connect(&admin_conninfo)?, admin_conninfo, url.is_none()),
        };
        sweep(&mut admin, shared);
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() % 1_000_000_000);
        let name = format!("{PREFIX}{}_{stamp}", std::process::id());
        admin.query_one("SELECT pg_advisory_lock(hashtext($1))", &[&name]).map_err(|e| introspect_err(&e))?;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"))
            .map_err(|e| format!("cannot create the scratch database {name}: {} (the role needs CREATEDB)", introspect_err(&e)))?;
        let conninfo = with_db(&admin_conninfo, &name);
        let version: String = admin.query_one("SHOW server_version", &[]).map(|r| r.get(0)).unwrap_or_default();
        let describe = format!("{where_} ({name}, PostgreSQL {})", version.split_whitespace().next().unwrap_or("?"));
        Ok(Target { conninfo, name, describe, bin, admin, admin_conninfo, cluster, keep })
    }

    /// True when verify started the server itself.
    #[must_use]
    pub fn own_cluster(&self) -> bool {
        self.cluster.is_some()
    }

    /// Applies the schema of `source_url` (pg_dump --schema-only, no owners, no privileges).
    ///
    /// # Errors
    /// pg_dump is missing or fails, or the dump does not load.
    pub fn copy_schema(&self, source_url: &str) -> Result<(), String> {
        let dump = self.dump(source_url)?;
        let mut c = connect(&self.conninfo)?;
        c.batch_execute(&dump)
            .map_err(|e| format!("the schema of {} does not load: {}", introspect::describe(source_url), introspect_err(&e)))
    }

    /// pg_dump --schema-only of a database, without psql meta-commands.
    ///
    /// # Errors
    /// pg_dump is missing or fails.
    pub fn dump(&self, conninfo: &str) -> Result<String, String> {
        let exe = self.bin.as_ref().map_or_else(|| std::path::PathBuf::from("pg_dump"), |b| b.join("pg_dump"));
        // The password goes through the environment, not the command line (which `ps` shows).
        let (conninfo, password) = without_password(&libpq(conninfo));
        let mut cmd = Command::new(&exe);
        cmd.args(["--schema-only", "--no-owner", "--no-privileges", "--no-comments", "-d"]).arg(conninfo);
        if let Some(p) = password {
            cmd.env("PGPASSWORD", p);
        }
        let out = cmd.stdin(Stdio::null()).output().map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
        if !out.status.success() {
            return Err(format!("pg_dump failed: {}", zdm_core::model::mask_secrets(String::from_utf8_lossy(&out.stderr).trim())));
        }
        Ok(String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.starts_with('\\')).collect::<Vec<_>>().join("\n"))
    }

    /// Drops the scratch database (or, with `keep`, renames it `zdm_kept_*` and returns its name).
    pub fn finish(mut self) -> Option<String> {
        let kept = if self.keep && self.cluster.is_none() {
            let kept = self.name.replacen(PREFIX, "zdm_kept_", 1);
            let sql = format!("ALTER DATABASE \"{}\" RENAME TO \"{kept}\"", self.name);
            let _ = self.admin.batch_execute(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
                self.name
            ));
            self.admin.batch_execute(&sql).ok().map(|()| with_db(&self.admin_conninfo, &kept))
        } else {
            None
        };
        if kept.is_none() {
            let _ = self.admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
        }
        let _ = self.admin.query_one("SELECT pg_advisory_unlock(hashtext($1))", &[&self.name]);
        if let Some(mut c) = self.cluster.take() {
            c.stop();
        }
        kept
    }
}

/// `conninfo` (URL or key/value form) without its password, and the password (as libpq reads it).
fn without_password(conninfo: &str) -> (String, Option<String>) {
    let password =
        conninfo.parse::<postgres::Config>().ok().and_then(|c| c.get_password().map(|p| String::from_utf8_lossy(p).into_owned()));
    if password.is_none() {
        return (conninfo.to_string(), None);
    }
    if let Some((scheme, rest)) = conninfo.split_once("://") {
        // postgres://user:secret@host… : the user info ends at the last '@' before the path.
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            let user = rest[..at].split(':').next().unwrap_or("");
            let query_less: String = format!("{scheme}://{user}@{}", &rest[at + 1..]);
            return (drop_query_param(&query_less, "password"), password);
        }
        return (drop_query_param(conninfo, "password"), password);
    }
    // key=value pairs: drop `password=…` (a value may be quoted, with \' and \\ escapes).
    let mut out = String::new();
    let mut rest = conninfo.trim_start();
    while !rest.is_empty() {
        let key_end = rest.find('=').unwrap_or(rest.len());
        let key = rest[..key_end].trim();
        let mut value_end = key_end + 1;
        let bytes = rest.as_bytes();
        while value_end < rest.len() && bytes[value_end] == b' ' {
            value_end += 1;
        }
        if value_end < rest.len() && bytes[value_end] == b'\'' {
            value_end += 1;
            while value_end < rest.len() && bytes[value_end] != b'\'' {
                value_end += if bytes[value_end] == b'\\' { 2 } else { 1 };
            }
            value_end = (value_end + 1).min(rest.len());
        } else {
            while value_end < rest.len() && bytes[value_end] != b' ' {
                value_end += 1;
            }
        }
        let value_end = value_end.min(rest.len());
        if key != "password" {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(rest[..value_end].trim());
        }
        rest = rest[value_end..].trim_start();
    }
    (out, password)
}

/// A URL without the query parameter `name`.
fn drop_query_param(url: &str, name: &str) -> String {
    let Some((head, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let kept: Vec<&str> = query.split('&').filter(|kv| kv.split('=').next() != Some(name)).collect();
    if kept.is_empty() { head.to_string() } else { format!("{head}?{}", kept.join("&")) }
}

/// A connection string libpq reads: zdm's `socket=` URL parameter is libpq's `host=`.
fn libpq(conninfo: &str) -> String {
    if conninfo.contains("://") { conninfo.replace("?socket=", "?host=").replace("&socket=", "&host=") } else { conninfo.to_string() }
}

/// A PostgreSQL error as `SQLSTATE: message`.
#[must_use]
pub fn introspect_err(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn the_password_leaves_the_conninfo() {
        assert_eq!(
            without_password("postgres://app:s3cr%40t@db.example.com:5432/shop?sslmode=require"),
            ("postgres://app@db.example.com:5432/shop?sslmode=require".to_string(), Some("s3cr@t".to_string()))
        );
        assert_eq!(
            without_password("postgresql://app@db/shop?password=hunter2&sslmode=disable"),
            ("postgresql://app@db/shop?sslmode=disable".to_string(), Some("hunter2".to_string()))
        );
        assert_eq!(
            without_password("host=db user=app password='it\\'s x' dbname=shop"),
            ("host=db user=app dbname=shop".to_string(), Some("it's x".to_string()))
        );
        assert_eq!(without_password("host=db password=pw dbname=shop"), ("host=db dbname=shop".to_string(), Some("pw".to_string())));
        assert_eq!(without_password("postgres://app@/shop?host=/tmp"), ("postgres://app@/shop?host=/tmp".to_string(), None));
    }
}
