//! Throwaway PostgreSQL clusters: `initdb` into a temporary directory, start on a private unix socket (and
//! 127.0.0.1 on the same port, for JDBC clients), stop
//! and delete on drop. As root (development machines and CI) the server runs as the `postgres` user, since
//! `initdb` refuses root. A watchdog process stops the cluster if the owning process dies without dropping
//! it, and [`Cluster::start`] sweeps directories left behind by runs that were killed.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Prefix of every cluster directory under the temp dir (used by the sweeper).
const DIR_PREFIX: &str = "zdm-pg-";

/// A running throwaway cluster.
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    stopped: bool,
}

/// Why a cluster could not be started.
#[derive(Debug)]
pub struct ClusterError(pub String);

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClusterError {}

fn err(msg: impl Into<String>) -> ClusterError {
    ClusterError(msg.into())
}

/// The newest `/usr/lib/postgresql/<major>/bin` that has `initdb`, or the directory of `initdb` on PATH.
#[must_use]
pub fn find_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .collect();
    found.sort();
    if let Some((_, bin)) = found.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH")?.to_string_lossy().split(':').map(PathBuf::from).find(|p| p.join("initdb").exists())
}

fn is_root() -> bool {
    #[allow(unsafe_code)]
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe {
        libc::geteuid() == 0
    }
}

/// Runs a PostgreSQL program, as `postgres` when we are root.
fn pg_command(bin: &Path, program: &str) -> Command {
    let exe = bin.join(program);
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

fn run(mut cmd: Command, what: &str) -> Result<(), ClusterError> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| err(format!("{what}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(err(format!("{what} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))))
    }
}

/// A throwaway certificate for `localhost` (`server.crt`/`server.key` in the data directory, as the
/// server wants them), so TCP clients can test TLS; false when `openssl` is not there to make one.
fn self_signed_certificate(data: &Path) -> bool {
    let (crt, key) = (data.join("server.crt"), data.join("server.key"));
    let made = Command::new("openssl")
        .args(["req", "-new", "-x509", "-days", "2", "-nodes", "-subj", "/CN=localhost", "-newkey", "rsa:2048", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        return false;
    }
    let mut ok = fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).is_ok();
    if is_root() {
        ok &= Command::new("chown").arg("postgres:postgres").arg(&crt).arg(&key).status().is_ok_and(|s| s.success());
    }
    ok
}

fn free_port() -> io::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Stops clusters whose owner process is gone and removes their directories.
fn sweep_stale(bin: &Path) {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(DIR_PREFIX).and_then(|rest| rest.split('-').next()).and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        #[allow(unsafe_code)]
        // SAFETY: kill with signal 0 only checks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        if alive {
            continue;
        }
        let data = e.path().join("data");
        if data.join("postmaster.pid").exists() {
            let mut stop = pg_command(bin, "pg_ctl");
            stop.arg("-D").arg(&data).args(["-m", "immediate", "stop"]);
            let _ = run(stop, "pg_ctl stop (stale)");
        }
        let _ = fs::remove_dir_all(e.path());
    }
}

impl Cluster {
    /// Starts a new cluster.
    ///
    /// # Errors
    /// When no PostgreSQL server binaries are installed, or initdb / pg_ctl fail.
    pub fn start() -> Result<Cluster, ClusterError> {
        let bin = find_bin_dir().ok_or_else(|| {
            err("no PostgreSQL server binaries found (looked in /usr/lib/postgresql/*/bin and PATH); install them with `apt-get install -y postgresql`, or set DATABASE_URL")
        })?;
        sweep_stale(&bin);
        let mut cluster = Cluster::empty(bin)?;
        let data = cluster.dir.join("data");
        let mut initdb = pg_command(&cluster.bin, "initdb");
        initdb.arg("-D").arg(&data).args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]);
        run(initdb, "initdb")?;
        let ssl = if self_signed_certificate(&data) { " -c ssl=on" } else { "" };
        cluster.launch(&format!("-c synchronous_commit=off{ssl}"))?;
        Ok(cluster)
    }

    /// A cluster not started yet: a free port and its directory (owned by `postgres` when we are root).
    fn empty(bin: PathBuf) -> Result<Cluster, ClusterError> {
        let port = free_port().map_err(|e| err(format!("no free port: {e}")))?;
        let dir = std::env::temp_dir().join(format!("{DIR_PREFIX}{}-{port}", std::process::id()));
        fs::create_dir_all(&dir).map_err(|e| err(format!("{}: {e}", dir.display())))?;
        if is_root() {
            let mut c = Command::new("chown");
            c.arg("postgres:postgres").arg(&dir);
            run(c, "chown")?;
        }
        Ok(Cluster { dir, bin, port, stopped: true })
    }

    /// Starts the server of `data/` (throwaway settings plus `extra`) and its watchdog.
    fn launch(&mut self, extra: &str) -> Result<(), ClusterError> {
        let opts = format!(
            "-k {} -p {} -c listen_addresses='127.0.0.1' -c fsync=off -c full_page_writes=off -c max_connections=200 {extra}",
            self.dir.display(),
            self.port
        );
        let mut start = pg_command(&self.bin, "pg_ctl");
        start.arg("-D").arg(self.dir.join("data")).arg("-l").arg(self.dir.join("pg.log")).args(["-w", "start", "-o", &opts]);
        run(start, "pg_ctl start")?;
        self.stopped = false;
        self.spawn_watchdog();
        Ok(())
    }

    /// A streaming standby of this cluster: `pg_basebackup -R` (WAL streamed during the copy) into a new
    /// directory, started in hot-standby mode on its own port. Stopped and removed like any cluster.
    ///
    /// # Errors
    /// When pg_basebackup or pg_ctl fail.
    pub fn standby(&self) -> Result<Cluster, ClusterError> {
        let mut standby = Cluster::empty(self.bin.clone())?;
        let mut copy = pg_command(&self.bin, "pg_basebackup");
        copy.arg("-D").arg(standby.dir.join("data")).arg("-h").arg(&self.dir).arg("-p").arg(self.port.to_string());
        copy.args(["-U", "postgres", "-R", "-X", "stream", "-c", "fast", "--no-sync"]);
        run(copy, "pg_basebackup")?;
        // Replies every second even when no WAL arrives, so a paused replay shows as growing lag.
        standby.launch("-c wal_receiver_status_interval=1s")?;
        Ok(standby)
    }

    /// Runs one of the server programs as the cluster's owner (`postgres` when we are root).
    #[must_use]
    pub fn command(&self, program: &str) -> Command {
        pg_command(&self.bin, program)
    }

    /// The unix-socket directory and port, for programs that take `-h`/`-p`.
    #[must_use]
    pub fn socket(&self) -> (&Path, u16) {
        (&self.dir, self.port)
    }

    /// A detached shell that stops the cluster once this process has exited, however it exited.
    fn spawn_watchdog(&self) {
        let stop = if is_root() { "runuser -u postgres -- " } else { "" };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop}'{pgctl}' -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            pgctl = self.bin.join("pg_ctl").display(),
            data = self.dir.join("data").display(),
            dir = self.dir.display(),
        );
        let _ = Command::new("sh").arg("-c").arg(script).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn();
    }

    /// libpq-style connection string for database `db`.
    #[must_use]
    pub fn conninfo(&self, db: &str) -> String {
        format!("host={} port={} user=postgres dbname={db}", self.dir.display(), self.port)
    }

    /// `postgres://` URL for database `db` over the unix socket (for URL-only clients such as dbmate).
    #[must_use]
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@/{db}?socket={}&port={}&sslmode=disable", self.dir.display(), self.port)
    }

    /// JDBC URL for database `db` over TCP on 127.0.0.1 (for Java runners: pgjdbc has no unix sockets).
    #[must_use]
    pub fn jdbc_url(&self, db: &str) -> String {
        format!("jdbc:postgresql://127.0.0.1:{}/{db}?user=postgres&sslmode=disable", self.port)
    }

    /// Stops the server and removes its directory.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        let mut stop = pg_command(&self.bin, "pg_ctl");
        stop.arg("-D").arg(self.dir.join("data")).args(["-m", "fast", "-w", "stop"]);
        let _ = run(stop, "pg_ctl stop");
        let _ = fs::remove_dir_all(&self.dir);
        self.stopped = true;
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}
