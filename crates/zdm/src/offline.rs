//! Running the project's own migration tool offline to read code migrations as SQL — Alembic's
//! `upgrade head --sql`, which prints every revision's SQL without a database. The one place `zdm plan`
//! runs project code (the project's `env.py`); `--no-tool-exec` turns it off. The interpreter: `$ZDM_PYTHON`,
//! else the project's virtualenv (`.venv/` or `venv/` beside the tool's config or at the root),
//! `$VIRTUAL_ENV`, else `python3` on the PATH.

use crate::project::ReadWarning;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use zdm_core::model::{ProjectFiles, mask_secrets};
use zdm_core::tools::{self, Choice};

/// Longest an offline render may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Fills `files.rendered` when the project's tool can render its code migrations offline. Returns what
/// the user should know: the command that was run, or why it could not be.
pub fn render(root: &Path, files: &mut ProjectFiles, choice: &Choice) -> Option<ReadWarning> {
    let detected = tools::detect(files, choice).ok()?;
    let command = detected.tool.offline_command(files, &detected.detection)?;
    let dir = root.join(&command.dir);
    let python = python(root, &dir);
    let note = |message: String| Some(ReadWarning { path: if command.dir.is_empty() { ".".into() } else { command.dir.clone() }, message });
    match run(&python, &command.python_args, &dir) {
        Ok(stdout) => {
            let rendered = detected.tool.offline_sql(&stdout);
            if rendered.is_empty() {
                return note(format!("`{}` printed no migration; code migrations stay unread", command.shown));
            }
            let n = rendered.len();
            files.rendered = rendered;
            note(format!("read {n} migration(s) as the SQL `{}` prints (offline: no database; --no-tool-exec skips this)", command.shown))
        }
        Err(why) => note(format!(
            "could not run `{}` with {}: {}; code migrations stay unread",
            command.shown,
            python.display(),
            mask_secrets(&why)
        )),
    }
}

/// The Python to run the tool with.
fn python(root: &Path, dir: &Path) -> PathBuf {
    if let Some(p) = std::env::var_os("ZDM_PYTHON") {
        return PathBuf::from(p);
    }
    let venvs = [dir.join(".venv"), dir.join("venv"), root.join(".venv"), root.join("venv")];
    let active = std::env::var_os("VIRTUAL_ENV").map(PathBuf::from);
    venvs.into_iter().chain(active).map(|v| v.join("bin/python")).find(|p| p.exists()).unwrap_or_else(|| PathBuf::from("python3"))
}

/// Runs `python args…` in `dir` with a time limit; its standard output, or why it failed (the last line
/// of its standard error).
fn run(python: &Path, args: &[String], dir: &Path) -> Result<String, String> {
    let mut child = Command::new(python)
        .args(args)
        .current_dir(dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| crate::project::cause(&e))?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| crate::project::cause(&e))? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("no answer in {} s", TIMEOUT.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = (out.join().unwrap_or_default(), err.join().unwrap_or_default());
    if status.success() {
        Ok(stdout)
    } else {
        Err(stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("it failed").trim().to_string())
    }
}
