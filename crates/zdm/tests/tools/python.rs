//! What the Alembic and Django tests share: the Python of the venv `scripts/deps --test` fills
//! (`.tools/py`: alembic, SQLAlchemy, Django, psycopg 3, pinned), the test database as connection parts
//! (over TCP on 127.0.0.1 for our own cluster), and running a command in a fixture.

use crate::harness::Fixture;
use std::process::Command;
use zdm_pg::testing::TestDb;

/// The venv's python (`ZDM_PYTHON` overrides).
pub fn python() -> String {
    zdm_pg::testing::installed_runner("ZDM_PYTHON", ".tools/py/bin/python")
}

/// Where the test database listens.
pub struct Pg {
    pub user: String,
    pub password: String,
    pub host: String,
    pub port: String,
    pub db: String,
}

impl Pg {
    /// From `db.url()`: `postgres://user[:pw]@[host][:port]/db[?socket=dir&port=p…]`.
    pub fn of(db: &TestDb) -> Pg {
        let url = db.url();
        let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
        let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (auth, hostdb) = main.rsplit_once('@').unwrap_or(("", main));
        let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
        let (hostport, dbname) = hostdb.split_once('/').unwrap_or((hostdb, ""));
        let (host, port) = hostport.split_once(':').unwrap_or((hostport, ""));
        let param = |k: &str| query.split('&').find_map(|p| p.strip_prefix(&format!("{k}=")).map(str::to_string));
        Pg {
            user: if user.is_empty() { "postgres".into() } else { user.into() },
            password: password.into(),
            // Our own cluster names a socket directory; it also listens on 127.0.0.1.
            host: if host.is_empty() { "127.0.0.1".into() } else { host.into() },
            port: param("port").unwrap_or_else(|| if port.is_empty() { "5432".into() } else { port.into() }),
            db: dbname.into(),
        }
    }

    /// A SQLAlchemy URL with the psycopg 3 driver.
    pub fn sqlalchemy_url(&self) -> String {
        let pw = if self.password.is_empty() { String::new() } else { format!(":{}", self.password) };
        format!("postgresql+psycopg://{}{pw}@{}:{}/{}", self.user, self.host, self.port, self.db)
    }
}

/// Runs the venv's python with `args` in the fixture, `env` set; panics with its output on failure.
pub fn run(fx: &Fixture, args: &[&str], env: &[(&str, String)]) -> String {
    let out = Command::new(python())
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(&fx.dir)
        .output()
        .expect("python runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "python {args:?} failed:\n{text}");
    text
}
