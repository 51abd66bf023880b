//! `zdm check` end to end: exit codes 0/1/2, `--since` over a real git history (merge-base, working tree,
//! untracked files; a missing ref names `fetch-depth: 0`), `--report` files, `zdm.toml` `[check]`.

mod support;

use std::process::{Command, Output};
use support::project::Project;

const INIT: &str = "-- migrate:up\nCREATE TABLE users (id bigint PRIMARY KEY, email text);\n-- migrate:down\nDROP TABLE users;\n";
const RISKY: &str = "-- migrate:up\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n-- migrate:down\n";

fn zdm(p: &Project, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zdm")).args(["check"]).args(args).current_dir(&p.0).env("LANG", "C.UTF-8").output().unwrap()
}

fn git(p: &Project, args: &[&str]) {
    let o = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(&p.0)
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn exit_codes_formats_and_config() {
    let p = Project::new("check-codes", &[("db/migrations/001_init.sql", INIT), ("db/migrations/002_nn.sql", RISKY)]);
    let o = zdm(&p, &["db/migrations/001_init.sql"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = zdm(&p, &["db/migrations/002_nn.sql"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("db/migrations/002_nn.sql:2:1:") && out.contains("C08 set-not-null"), "{out}");
    assert!(out.contains("help:") && out.contains("zdm plan --file db/migrations/002_nn.sql"), "{out}");
    // --fail-on dangerous lets a risky finding pass; a report file is written in the same run.
    let o = zdm(&p, &["db/migrations/002_nn.sql", "--fail-on", "dangerous", "--report", "sarif=out.sarif", "--format", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("::warning file=db/migrations/002_nn.sql,line=2,col=1,"), "{}", text(&o));
    let sarif: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p.0.join("out.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "C08");
    // zdm.toml [check] exclude; an unknown rule name is exit 2.
    std::fs::write(p.0.join("zdm.toml"), "[check]\nexclude = [\"set-not-null\", \"H01\", \"H02\"]\n").unwrap();
    let o = zdm(&p, &["db/migrations/002_nn.sql"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::fs::write(p.0.join("zdm.toml"), "[check]\nexclude = [\"no-such-rule\"]\n").unwrap();
    let o = zdm(&p, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("no rule `no-such-rule`"), "{}", text(&o));
    std::fs::remove_file(p.0.join("zdm.toml")).unwrap();
    // Bad flag value, missing file: exit 2.
    assert_eq!(zdm(&p, &["--fail-on", "loud"]).status.code(), Some(2));
    let o = zdm(&p, &["db/migrations/404.sql"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("cannot read db/migrations/404.sql"), "{}", text(&o));
    // A file that does not parse is a finding at its line and column.
    std::fs::write(p.0.join("db/migrations/003_bad.sql"), "-- migrate:up\nALTER TABLE users ADD COLUMN;\n").unwrap();
    let o = zdm(&p, &["db/migrations/003_bad.sql"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("db/migrations/003_bad.sql:2:") && text(&o).contains("syntax-error"), "{}", text(&o));
}

#[test]
fn since_checks_what_changed_after_the_merge_base() {
    let p = Project::new("check-since", &[("db/migrations/001_init.sql", INIT)]);
    git(&p, &["init", "-q"]);
    git(&p, &["add", "-A"]);
    git(&p, &["commit", "-qm", "init"]);
    git(&p, &["checkout", "-qb", "feature"]);
    // Committed on the branch: a new table and an index on it (new and empty: no alarm).
    std::fs::write(p.0.join("db/migrations/002_t.sql"), "-- migrate:up\nCREATE TABLE t (id bigint PRIMARY KEY, a text);\n").unwrap();
    git(&p, &["add", "-A"]);
    git(&p, &["commit", "-qm", "t"]);
    // Untracked: an index on t (created in the change set) and a risky change to users.
    std::fs::write(p.0.join("db/migrations/003_idx.sql"), "-- migrate:up\nCREATE INDEX t_a_idx ON t (a);\n").unwrap();
    std::fs::write(p.0.join("db/migrations/004_nn.sql"), RISKY).unwrap();
    let o = zdm(&p, &["--since", "main", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let files: Vec<&str> = v["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert_eq!(files, ["db/migrations/002_t.sql", "db/migrations/003_idx.sql", "db/migrations/004_nn.sql"]);
    let rules: Vec<(&str, &str)> =
        v["findings"].as_array().unwrap().iter().map(|f| (f["path"].as_str().unwrap(), f["rule"].as_str().unwrap())).collect();
    assert!(!rules.iter().any(|(p, r)| p.ends_with("003_idx.sql") && *r == "I01"), "{rules:?}");
    assert!(rules.contains(&("db/migrations/004_nn.sql", "C08")), "{rules:?}");
    let o = zdm(&p, &["--since", "origin/nowhere"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("fetch-depth: 0"), "{}", text(&o));
    // Never handed to git as an option.
    let o = zdm(&p, &["--since=--output=x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("is not a git ref") && !p.0.join("x").exists(), "{}", text(&o));
}
