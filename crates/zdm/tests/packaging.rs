//! Where teams meet `zdm check`: the Python wheel (maturin `bin` bindings) installed into a fresh virtualenv,
//! the pre-commit hooks run by pre-commit itself (`try-repo`), and the GitHub Action's script run as a workflow
//! would run it. The wheel and the hooks need maturin and pre-commit from `scripts/deps --test` (`.tools/py`).

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::project::Project;

/// The repository root (the workspace).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// A program of the test venv `.tools/py`, which `scripts/deps --test` installs.
fn py_tool(name: &str) -> PathBuf {
    let p = root().join(".tools/py/bin").join(name);
    assert!(p.exists(), "{} is missing: run scripts/deps --test", p.display());
    p
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn ok(cmd: &mut Command) -> Output {
    let out = run(cmd);
    assert!(out.status.success(), "{cmd:?} failed:\n{}", text(&out));
    out
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = ok(Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=zdm test", "-c", "user.email=zdm@example.com", "-c", "init.defaultBranch=main"])
        .args(args));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

const INIT: &str = "-- migrate:up\nCREATE TABLE users (id bigint PRIMARY KEY, name text);\n\
                    -- migrate:down\nDROP TABLE users;\n";
/// A plain CREATE INDEX on a table an earlier migration created: it blocks writes while it builds.
const RISKY: &str = "-- migrate:up\nCREATE INDEX users_name_idx ON users (name);\n\
                     -- migrate:down\nDROP INDEX users_name_idx;\n";
/// The same index built the safe way.
const SAFE: &str = "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY users_name_idx ON users (name);\n\
                    -- migrate:down transaction:false\nDROP INDEX CONCURRENTLY users_name_idx;\n";
const RISKY_PATH: &str = "db/migrations/20240102000000_users_name_idx.sql";

/// A dbmate project in git: the first migration committed, `change` (path, contents) staged on top.
fn repo(name: &str, change: (&str, &str)) -> Project {
    let p = Project::new(name, &[("db/migrations/20240101000000_init.sql", INIT)]);
    git(&p.0, &["init", "-q"]);
    git(&p.0, &["add", "-A"]);
    git(&p.0, &["commit", "-qm", "init"]);
    fs::write(p.0.join(change.0), change.1).unwrap();
    git(&p.0, &["add", "-A"]);
    p
}

/// The wheel maturin builds holds a `zdm` that works from a virtualenv with nothing else installed; then
/// pre-commit installs the `zdm-check` hook from this repository (building the same wheel through pip, as a
/// user's machine does) and runs it on a commit, and `zdm-check-system` runs the venv's `zdm` from PATH.
///
/// One test: both steps build `zdm` into the shared target directory (see `pre_commit` below).
#[test]
fn wheel_and_pre_commit_hooks() {
    let scratch = Project::new("packaging", &[]);
    // The wheel: the debug profile reuses the test build, so this is a link, not a compile.
    let wheels = scratch.0.join("wheels");
    ok(Command::new(py_tool("maturin"))
        .current_dir(root())
        .env("PATH", path_with(py_tool("maturin").parent().unwrap()))
        .args(["build", "--quiet", "--out"])
        .arg(&wheels));
    let wheel = fs::read_dir(&wheels).unwrap().flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|e| e == "whl"));
    let wheel = wheel.expect("a .whl");
    let venv = scratch.0.join("venv");
    ok(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    ok(Command::new(venv.join("bin/pip")).args(["install", "--quiet", "--no-index", "--disable-pip-version-check"]).arg(&wheel));
    let zdm = venv.join("bin/zdm");
    let version = ok(Command::new(&zdm).arg("--version"));
    assert_eq!(text(&version).trim(), format!("zdm {}", env!("CARGO_PKG_VERSION")));

    // The installed binary does zdm's jobs: a plan (dry run) and a check that fails on the risky index.
    let p = repo("wheel", (RISKY_PATH, RISKY));
    let plan = ok(Command::new(&zdm).args(["plan", "--dry-run", "ALTER TABLE users ADD COLUMN bio text"]).current_dir(&p.0));
    assert!(text(&plan).contains("SAFE"), "{}", text(&plan));
    let check = run(Command::new(&zdm).args(["check", RISKY_PATH]).current_dir(&p.0).env("NO_COLOR", "1"));
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    assert!(text(&check).contains(RISKY_PATH), "{}", text(&check));

    pre_commit(&venv);
}

/// `pre-commit try-repo` with this repository: the `zdm-check` hook (language: python) fails a commit that
/// stages the risky index; `zdm-check-system` passes one that stages the safe index.
///
/// pip builds the wheel from a clone of this repository at another path, so the workspace's own crates
/// compile again (dependencies come from the shared target directory; `MATURIN_PEP517_ARGS` picks the
/// debug profile the tests already built). That build re-links `target/debug/zdm` from the same source.
fn pre_commit(venv: &Path) {
    let pre_commit = py_tool("pre-commit");
    let home = Project::new("pre-commit-home", &[]);
    let target = root().join("target");
    let hook = |p: &Project, id: &str, path: &str| {
        run(Command::new(&pre_commit)
            .args(["try-repo"])
            .arg(root())
            .args([id, "--verbose", "--files", path])
            .current_dir(&p.0)
            .env("PRE_COMMIT_HOME", &home.0)
            .env("CARGO_TARGET_DIR", std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or(target.clone()))
            .env("MATURIN_PEP517_ARGS", "--profile dev")
            .env("PATH", path_with(&venv.join("bin")))
            .env("NO_COLOR", "1"))
    };
    let risky = repo("hook-risky", (RISKY_PATH, RISKY));
    let out = hook(&risky, "zdm-check", RISKY_PATH);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("zdm check") && text(&out).contains("Failed"), "{}", text(&out));
    assert!(text(&out).contains(RISKY_PATH), "the finding names the file: {}", text(&out));
    let safe = repo("hook-safe", (RISKY_PATH, SAFE));
    let out = hook(&safe, "zdm-check-system", RISKY_PATH);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Passed"), "{}", text(&out));
}

/// `dir` first on PATH.
fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut paths = vec![dir.to_path_buf()];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(paths).unwrap()
}

/// The directory of the `zdm` this test run built.
fn zdm_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_zdm")).parent().unwrap().to_path_buf()
}

/// The action's check step on a pull request: annotations on stdout naming the file and line, the text
/// report in the step summary, a SARIF log where asked, and the job fails; a clean pull request passes.
#[test]
fn github_action_annotates_a_pull_request() {
    let p = repo("action", (RISKY_PATH, RISKY));
    let base = git(&p.0, &["rev-parse", "HEAD"]);
    git(&p.0, &["commit", "-qm", "add an index"]);
    let summary = p.0.join("summary.md");
    let sarif = p.0.join("zdm.sarif");
    let step = |p: &Project| {
        run(Command::new("bash")
            .arg(root().join("scripts/github-action"))
            .arg("check")
            .current_dir(&p.0)
            .env("PATH", path_with(&zdm_dir()))
            .env("ZDM_ACTION_PATH", root())
            .env("ZDM_PR_BASE", &base)
            .env("ZDM_PUSH_BEFORE", "")
            .env("ZDM_SINCE", "")
            .env("ZDM_DIR", ".")
            .env("ZDM_FAIL_ON", "risky")
            .env("ZDM_SARIF_FILE", &sarif)
            .env("GITHUB_STEP_SUMMARY", &summary))
    };
    let out = step(&p);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let annotation = stdout.lines().find(|l| l.starts_with("::")).unwrap_or_else(|| panic!("no annotation: {stdout}"));
    assert!(annotation.contains(&format!("file={RISKY_PATH},line=2")), "{annotation}");
    let summary_text = fs::read_to_string(&summary).unwrap();
    assert!(summary_text.starts_with("### zdm check") && summary_text.contains(RISKY_PATH), "{summary_text}");
    let log: serde_json::Value = serde_json::from_str(&fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(log["version"], "2.1.0");
    assert!(!log["runs"][0]["results"].as_array().unwrap().is_empty(), "{log}");

    // The same pull request with the safe index: no error annotation, the job passes.
    let clean = repo("action-clean", (RISKY_PATH, SAFE));
    git(&clean.0, &["commit", "-qm", "add an index concurrently"]);
    let base_clean = git(&clean.0, &["rev-parse", "HEAD~1"]);
    let out = run(Command::new("bash")
        .arg(root().join("scripts/github-action"))
        .arg("check")
        .current_dir(&clean.0)
        .env("PATH", path_with(&zdm_dir()))
        .env("ZDM_ACTION_PATH", root())
        .env("ZDM_PR_BASE", &base_clean));
    assert!(out.status.success(), "{}", text(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("::error"), "{}", text(&out));

    // Not a pull request, no `since`: it says what to set, exit 2; a base the clone lacks names fetch-depth.
    let out = run(Command::new("bash")
        .arg(root().join("scripts/github-action"))
        .arg("check")
        .current_dir(&clean.0)
        .env("PATH", path_with(&zdm_dir())));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("set the action's since input"), "{}", text(&out));
    let out = run(Command::new("bash")
        .arg(root().join("scripts/github-action"))
        .arg("check")
        .current_dir(&clean.0)
        .env("PATH", path_with(&zdm_dir()))
        .env("ZDM_PR_BASE", "0123456789abcdef0123456789abcdef01234567"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("fetch-depth"), "{}", text(&out));
}

/// The install step builds zdm once per source: `cargo install --locked --path <action>/crates/zdm`, then the
/// cached build while the source is the same, and again when it changes. A stand-in `cargo` records the calls.
#[test]
fn github_action_installs_once_per_source() {
    let scratch = Project::new("action-install", &[]);
    let bin = scratch.0.join("fake-bin");
    fs::create_dir_all(&bin).unwrap();
    let calls = scratch.0.join("calls");
    let cargo = format!(
        "#!/bin/sh\necho \"$@\" >> '{}'\nroot=''\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=\"$2\"; shift; done\n\
         mkdir -p \"$root/bin\" && printf '#!/bin/sh\\necho zdm 9.9.9\\n' > \"$root/bin/zdm\" && chmod +x \"$root/bin/zdm\"\n",
        calls.display()
    );
    fs::write(bin.join("cargo"), cargo).unwrap();
    ok(Command::new("chmod").arg("+x").arg(bin.join("cargo")));
    // The action's source: a copy outside git (hashed), so the test can change it.
    let src = scratch.0.join("action");
    fs::create_dir_all(src.join("crates/zdm")).unwrap();
    fs::write(src.join("Cargo.lock"), "lock").unwrap();
    fs::write(src.join("crates/zdm/main.rs"), "fn main() {}").unwrap();
    let github_path = scratch.0.join("github_path");
    let install = || {
        ok(Command::new("bash")
            .arg(root().join("scripts/github-action"))
            .arg("install")
            .env("PATH", path_with(&bin))
            .env("ZDM_ACTION_PATH", &src)
            .env("ZDM_ACTION_HOME", scratch.0.join("home"))
            .env("GITHUB_PATH", &github_path))
    };
    let first = install();
    assert!(text(&first).contains("zdm 9.9.9"), "{}", text(&first));
    let logged = fs::read_to_string(&calls).unwrap();
    assert!(logged.starts_with(&format!("install --locked --force --path {}/crates/zdm --root ", src.display())), "{logged}");
    assert!(fs::read_to_string(&github_path).unwrap().trim().ends_with("home/bin"));
    let second = install();
    assert!(text(&second).contains("cached build"), "{}", text(&second));
    assert_eq!(fs::read_to_string(&calls).unwrap().lines().count(), 1);
    fs::write(src.join("crates/zdm/main.rs"), "fn main() { println!(); }").unwrap();
    install();
    assert_eq!(fs::read_to_string(&calls).unwrap().lines().count(), 2, "a changed source is built again");
}

/// action.yml hands every input and event field to its scripts through `env:`: no `${{ … }}` inside a `run:`
/// script (where a branch name or input could inject shell), and every step that runs the script names it.
#[test]
fn action_inputs_reach_the_shell_only_through_env() {
    let action = fs::read_to_string(root().join("action.yml")).unwrap();
    let mut in_run: Option<usize> = None;
    let mut runs = 0;
    for line in action.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(run_indent) = in_run {
            if line.trim().is_empty() || indent > run_indent {
                assert!(!line.contains("${{"), "interpolated into a script: {line}");
                continue;
            }
            in_run = None;
        }
        let key = line.trim_start().trim_start_matches("- ");
        if let Some(script) = key.strip_prefix("run:") {
            runs += 1;
            assert!(!script.contains("${{"), "interpolated into a script: {line}");
            assert!(script.contains("scripts/github-action"), "{line}");
            in_run = Some(indent);
        }
    }
    assert_eq!(runs, 2, "the install and check steps");
    for input in ["since", "dir", "fail-on", "pg-version", "sarif-file", "install"] {
        assert!(action.contains(&format!("\n  {input}:\n")), "input {input}");
    }
}
