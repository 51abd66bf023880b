//! The binary's input and output edges: secrets never printed, files written all-or-nothing with unique
//! versions, closed pipes, errors that keep their cause and point at the right column.

use std::fs;
use std::io::Write;
use std::process::{Command, Output, Stdio};

mod support;

use support::project::Project;

fn command(project: &Project, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zdm"));
    cmd.arg("plan").arg("--dir").arg(&project.0).args(args).env("NO_COLOR", "1").env("LANG", "C.UTF-8").env_remove("COLUMNS");
    cmd
}

fn zdm(project: &Project, args: &[&str]) -> Output {
    command(project, args).stdin(Stdio::null()).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Changes that carry a secret, with the secret.
const SECRETS: &[(&str, &str)] = &[
    ("SELECT dblink_connect('postgres://app:s3cret@db:5432/prod');", "s3cret"),
    ("SELECT dblink_connect('postgresql://app:pa/ss@db/x');", "pa/ss"),
    ("SELECT dblink_connect('postgres://app:p@ss:w/rd@db/x?sslmode=require');", "p@ss:w/rd"),
    ("COMMENT ON TABLE users IS 'postgres://app:it''sme@db/x';", "it''sme"),
    ("CREATE SUBSCRIPTION s1 CONNECTION 'host=db password=hunter2 dbname=app' PUBLICATION p WITH (connect = false);", "hunter2"),
    (
        "CREATE SUBSCRIPTION s2 CONNECTION 'host=db password=''quoted words'' dbname=app' PUBLICATION p WITH (connect = false);",
        "quoted words",
    ),
    ("CREATE ROLE app1 LOGIN PASSWORD 'rolesecret';", "rolesecret"),
    ("ALTER ROLE app1 PASSWORD 'it''s secret';", "it''s secret"),
    ("ALTER USER app1 WITH ENCRYPTED PASSWORD 'md5abcdef';", "md5abcdef"),
    ("CREATE USER app2 PASSWORD $pw$dollar secret$pw$;", "dollar secret"),
    ("CREATE USER MAPPING FOR app1 SERVER s OPTIONS (user 'x', password 'mapsecret');", "mapsecret"),
    ("ALTER USER MAPPING FOR app1 SERVER s OPTIONS (SET \"password\" 'quotedkey');", "quotedkey"),
];

fn assert_no_secret(what: &str, output: &str) {
    for (_, secret) in SECRETS {
        assert!(!output.contains(secret), "{what} shows the secret `{secret}`:\n{output}");
        // The HTML escapes of the secret must not appear either.
        let escaped = secret.replace('/', "&#x2f;").replace('\'', "&#x27;");
        assert!(!output.contains(&escaped), "{what} shows the secret `{secret}` escaped:\n{output}");
    }
}

#[test]
fn no_output_format_shows_a_secret() {
    // One change per shape: the text receipt, the JSON object and an error on the same line.
    for (i, (change, secret)) in SECRETS.iter().enumerate() {
        let p = Project::with_setup(&format!("secret{i}"));
        let out = zdm(&p, &["--dry-run", change]);
        assert!(out.status.success(), "{change}: {}", text(&out.stderr));
        assert_no_secret("the receipt", &(text(&out.stdout) + &text(&out.stderr)));
        let out = zdm(&p, &["--dry-run", "--format", "json", change]);
        assert!(out.status.success(), "{change}: {}", text(&out.stderr));
        assert_no_secret("the JSON", &(text(&out.stdout) + &text(&out.stderr)));
        let broken = format!("{} BOGUS BOGUS;", change.trim_end_matches(';'));
        let out = zdm(&p, &[&broken]);
        assert_eq!(out.status.code(), Some(2), "{broken}");
        assert_no_secret("the error", &text(&out.stderr));
        // A long line is cut around the caret; the cut must not expose part of a secret.
        let long = format!("{}{} BOGUS BOGUS;", " ".repeat(90), change.trim_end_matches(';'));
        let out = zdm(&p, &[&long]);
        assert_no_secret("the trimmed error", &text(&out.stderr));
        assert!(!text(&out.stderr).contains(&secret[..secret.len() / 2 + 1]), "{}", text(&out.stderr));
    }
    // Every shape at once: a long plan gets the HTML report and the short receipt.
    let p = Project::with_setup("secret_all");
    let mut change: String = SECRETS.iter().map(|(c, _)| format!("{c}\n")).collect();
    change.push_str(&(0..12).map(|i| format!("CREATE INDEX ON users (email, score) WHERE score > {i};\n")).collect::<String>());
    let out = zdm(&p, &[&change]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_no_secret("the short receipt", &text(&out.stdout));
    let report = p.listing().into_iter().find(|f| f.ends_with(".html")).expect("the HTML report is written");
    let html = fs::read_to_string(p.0.join(&report)).unwrap();
    assert!(html.contains("****"), "the report shows where a secret was");
    assert_no_secret("the HTML report", &html);
    // The migration files hold the SQL as written: it has to run.
    let files: String = p.migrations().iter().map(|f| fs::read_to_string(p.0.join(f)).unwrap()).collect();
    for (_, secret) in SECRETS {
        assert!(files.contains(secret), "the migration files keep `{secret}` as written");
    }
    let out = zdm(&p, &["--dry-run", "--format", "json", &change]);
    assert_no_secret("the long JSON", &text(&out.stdout));
}

fn versions(files: &[String]) -> Vec<String> {
    files.iter().map(|f| f.trim_start_matches("db/migrations/").split('_').next().unwrap().to_string()).collect()
}

#[test]
fn parallel_runs_write_unique_versions() {
    let p = Project::with_setup("parallel");
    let changes = [
        "CREATE INDEX ON users (email);",
        "CREATE INDEX ON users (score);",
        "CREATE INDEX ON users (code);",
        "CREATE INDEX ON users (name);",
    ];
    let children: Vec<_> = changes
        .iter()
        .map(|c| command(&p, &[c]).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let files = p.migrations();
    assert_eq!(files.len(), 1 + changes.len(), "{files:?}");
    let mut v = versions(&files);
    v.dedup();
    assert_eq!(v.len(), files.len(), "every version is unique: {files:?}");
    assert!(!p.listing().iter().any(|f| f.contains(".zdm-tmp") || f.contains(".zdm-pending")), "{:?}", p.listing());
}

/// Starts `zdm plan change` with a test hook, waits until it pauses, and kills it with SIGKILL.
fn kill_at(p: &Project, hook: &str, change: &str) {
    let mut child = command(p, &[change]).env(hook, "1").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
    assert_eq!(line.trim(), "zdm test hook: paused", "the run reached the hook");
    child.kill().unwrap();
    child.wait().unwrap();
}

const RENAME: &str = "ALTER TABLE users RENAME COLUMN name TO full_name;";

#[test]
fn a_run_killed_while_writing_leaves_nothing() {
    let p = Project::with_setup("kill_writing");
    let before = p.migrations();
    let planned = zdm(&p, &["--dry-run", "--format", "json", RENAME]);
    let planned: serde_json::Value = serde_json::from_slice(&planned.stdout).unwrap();
    assert!(planned["files"].as_array().unwrap().len() >= 2, "{planned}");
    kill_at(&p, "ZDM_TEST_PAUSE_AFTER_FILES", RENAME);
    assert_eq!(p.migrations(), before, "a run killed before its last file is complete writes no migration");
    assert!(p.listing().iter().any(|f| f.ends_with(".zdm-tmp")), "the temporary files are hidden leftovers: {:?}", p.listing());
    // The next run removes the leftovers and plans against the untouched project.
    let out = zdm(&p, &[RENAME]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("removed the temporary files of an interrupted zdm run"), "{}", text(&out.stderr));
    assert_eq!(p.migrations().len(), before.len() + planned["files"].as_array().unwrap().len());
    assert!(!p.listing().iter().any(|f| f.contains(".zdm-tmp") || f.contains(".zdm-pending")), "{:?}", p.listing());
}

#[test]
fn a_run_killed_while_renaming_is_finished_by_the_next() {
    let p = Project::with_setup("kill_linking");
    let planned = zdm(&p, &["--dry-run", "--format", "json", RENAME]);
    let planned: serde_json::Value = serde_json::from_slice(&planned.stdout).unwrap();
    let n = planned["files"].as_array().unwrap().len();
    kill_at(&p, "ZDM_TEST_PAUSE_AFTER_LINKS", RENAME);
    assert_eq!(p.migrations().len(), 2, "killed after one of {n} files was put in place");
    let out = zdm(&p, &["CREATE INDEX ON users (email);"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The killed run wrote its n migrations, its report (the plan is not safe) and its manifest: one
    // was in place.
    assert!(text(&out.stderr).contains(&format!("finished writing {} file(s)", n + 1)), "{}", text(&out.stderr));
    let files = p.migrations();
    assert_eq!(files.len(), 1 + n + 1, "all of the killed run's files, then the new one: {files:?}");
    let mut v = versions(&files);
    v.dedup();
    assert_eq!(v.len(), files.len(), "{files:?}");
    assert!(!p.listing().iter().any(|f| f.contains(".zdm-tmp") || f.contains(".zdm-pending")), "{:?}", p.listing());
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let p = Project::with_setup("pipe");
    let runs: Vec<Vec<&str>> = vec![
        vec!["rules"],
        vec!["rules", "--markdown"],
        vec!["explain", "C08"],
        vec!["plan", "--dry-run", "--dir", p.0.to_str().unwrap(), RENAME],
        vec!["plan", "--dry-run", "--format", "json", "--dir", p.0.to_str().unwrap(), RENAME],
    ];
    for args in runs {
        let mut child = Command::new(env!("CARGO_BIN_EXE_zdm"))
            .args(&args)
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before zdm writes a byte (as `| head -1` does after its line).
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}: {:?} {}", out.status, text(&out.stderr));
        assert!(out.stderr.is_empty(), "{args:?}: {}", text(&out.stderr));
    }
}

#[test]
fn errors_keep_their_cause() {
    let p = Project::with_setup("cause");
    let out = zdm(&p, &["--file", p.0.join("db").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(&format!("error: cannot read {}: Is a directory", p.0.join("db").display())),
        "{}",
        text(&out.stderr)
    );
    let out = zdm(&p, &["--file", p.0.join("missing.sql").to_str().unwrap()]);
    assert!(text(&out.stderr).contains("missing.sql: No such file or directory"), "{}", text(&out.stderr));

    let locked = p.0.join("db/migrations/20260102000000_x.sql");
    fs::write(&locked, "-- migrate:up\nSELECT 1;\n").unwrap();
    let mut perms = fs::metadata(&locked).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o000);
    fs::set_permissions(&locked, perms).unwrap();
    if fs::read(&locked).is_err() {
        // Not root: the file really is unreadable.
        let out = zdm(&p, &["CREATE INDEX ON users (email);"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out.stderr).contains("20260102000000_x.sql: Permission denied"), "{}", text(&out.stderr));
    }

    let file = p.0.join("db/migrations/20260101000000_init.sql");
    let out = Command::new(env!("CARGO_BIN_EXE_zdm")).args(["plan", "--dir"]).arg(&file).arg("SELECT 1").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is a file, not a directory"), "{}", text(&out.stderr));
}

#[test]
fn a_migration_that_is_not_utf8_is_read_with_a_warning() {
    let p = Project::with_setup("latin1");
    let path = "db/migrations/20260102000000_latin1.sql";
    fs::write(p.0.join(path), b"-- migrate:up\n-- caf\xe9\nALTER TABLE users ADD COLUMN bio text;\n-- migrate:down\n").unwrap();
    let out = zdm(&p, &["--dry-run", "ALTER TABLE users ALTER COLUMN bio SET NOT NULL;"]);
    assert!(out.status.success(), "the project still plans: {}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&format!("warning: {path}: not valid UTF-8 at 2:7")), "{}", text(&out.stderr));
    let out = zdm(&p, &["--dry-run", "--format", "json", "ALTER TABLE users ALTER COLUMN bio SET NOT NULL;"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["warnings"][0]["path"], path, "{v}");
    assert!(v["warnings"][0]["message"].as_str().unwrap().contains("not valid UTF-8 at 2:7"), "{v}");
}

#[test]
fn nul_and_invalid_utf8_in_the_change_are_located_exactly() {
    let p = Project::with_setup("bytes");
    fs::write(p.0.join("change.sql"), b"SELECT 1;\nSELECT '\xff';\n").unwrap();
    let out = zdm(&p, &["--file", p.0.join("change.sql").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("not valid UTF-8") && err.contains("change.sql:2:9"), "{err}");
    let mut child = command(&p, &["-"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"SELECT 1;\nSELECT 'a\0b';\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("NUL byte") && err.contains("<stdin>:2:10"), "{err}");
}

#[test]
fn the_caret_points_at_the_unknown_name() {
    let p = Project::with_setup("caret");
    let out = zdm(&p, &["CREATE INDEX ON users (email);\nCREATE INDEX ON users (score, \"Emial\");"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("<change>:2:31"), "{err}");
    assert!(err.contains(&format!("2 | CREATE INDEX ON users (score, \"Emial\");\n  | {}^", " ".repeat(30))), "{err}");
}

#[test]
fn long_lines_are_cut_around_the_caret() {
    let p = Project::with_setup("long");
    let change = format!("SELECT 1{} BOGUS 2{};", " + 1".repeat(200), " + 2".repeat(200));
    let out = zdm(&p, &[&change]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    // `BOGUS` is taken as an alias: PostgreSQL stops at the `2` after it.
    assert!(err.contains("error: syntax error at or near \"2\"") && err.contains("<change>:1:816"), "{err}");
    assert!(err.lines().all(|l| l.chars().count() <= 130), "{err}");
    let shown = err.lines().find(|l| l.contains("BOGUS")).unwrap();
    let caret = err.lines().find(|l| l.trim_end().ends_with('^')).unwrap();
    assert!(shown.contains('…'), "{shown}");
    let col = |l: &str, needle: &str| l.char_indices().find(|(b, _)| l[*b..].starts_with(needle)).map(|(b, _)| l[..b].chars().count());
    assert_eq!(col(shown, "BOGUS 2").map(|c| c + 6), col(caret, "^"), "the caret sits under the name:\n{shown}\n{caret}");
}

#[test]
fn a_change_starting_with_a_comment_is_taken_as_the_change() {
    let p = Project::with_setup("comment");
    for args in [
        vec!["--dry-run", "-- index for login\nCREATE INDEX ON users (email);"],
        vec!["--dry-run", "--", "-- index for login\nCREATE INDEX ON users (email);"],
    ] {
        let out = zdm(&p, &args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("users_email_idx") || text(&out.stdout).contains("index"), "{}", text(&out.stdout));
    }
}
