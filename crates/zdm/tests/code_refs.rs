//! Code references end to end: the binary scans the project's code for the tables and columns the change
//! touches; a rename of a referenced column lists the places under the code deploy (receipt), all of them
//! in the JSON, flags them (G07) and adds the checklist line.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::project::Project;

fn zdm(p: &Project, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zdm"))
        .arg("plan")
        .args(args)
        .arg("--dir")
        .arg(&p.0)
        .env("NO_COLOR", "1")
        .env("LANG", "C.UTF-8")
        .env("ZDM_NOW", "2026-01-02T03:04:05Z")
        .output()
        .unwrap()
}

fn project(name: &str) -> Project {
    let p = Project::with_setup(name);
    zdm_pg::testing::copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/code_refs"), &p.0.join("app_code"));
    // The fixture's Prisma schema and Rails history would be migration setups of their own: this project
    // keeps its dbmate history.
    std::fs::remove_dir_all(p.0.join("app_code/prisma")).unwrap();
    std::fs::remove_dir_all(p.0.join("app_code/db/migrate")).unwrap();
    p
}

#[test]
fn a_rename_of_a_referenced_column_lists_the_places() {
    let p = project("refs-rename");
    let out = zdm(&p, &["--dry-run", "ALTER TABLE users RENAME COLUMN name TO full_name"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let receipt = String::from_utf8_lossy(&out.stdout).replace(&p.0.display().to_string(), "<project>");
    assert!(receipt.lines().count() <= 40);
    insta::assert_snapshot!(receipt);

    let out = zdm(&p, &["--dry-run", "--format", "json", "ALTER TABLE users RENAME COLUMN name TO full_name"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let refs = json["code_refs"].as_array().unwrap();
    let columns = refs.iter().filter(|r| r["column"] == "name").count();
    assert_eq!(columns, 19, "{refs:#?}");
    assert!(refs.iter().all(|r| r["path"].as_str().unwrap().starts_with("app_code/")), "migration history is not code");
    assert!(refs.iter().any(|r| r["path"] == "app_code/lib/app/user.ex" && r["line"] == 5 && r["kind"] == "orm-field"));
    let g07 = json["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "G07").expect("G07 flags the rename");
    assert!(g07["message"].as_str().unwrap().starts_with("users.name is still used by the code in 19 places: "), "{g07}");
    assert!(
        json["checklist"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().starts_with("Update the 19 code references to users.name before step "))
    );

    // --no-code-refs: nothing scanned, nothing flagged.
    let out = zdm(&p, &["--dry-run", "--no-code-refs", "--format", "json", "ALTER TABLE users RENAME COLUMN name TO full_name"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["code_refs"].as_array().unwrap().len(), 0);
    assert!(json["findings"].as_array().unwrap().iter().all(|f| f["rule"] != "G07"));
}

#[test]
fn a_column_no_code_uses_is_not_flagged() {
    let p = project("refs-unused");
    let out = zdm(&p, &["--dry-run", "--format", "json", "ALTER TABLE users DROP COLUMN score"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["findings"].as_array().unwrap().iter().all(|f| f["rule"] != "G07"));
    let refs = json["code_refs"].as_array().unwrap();
    assert!(!refs.is_empty() && refs.iter().all(|r| r["column"].is_null()), "only the table's references: {refs:#?}");
}

#[test]
fn the_html_report_lists_every_reference() {
    let p = project("refs-report");
    let mut change = String::from("ALTER TABLE users RENAME COLUMN name TO full_name;\n");
    change.extend((0..8).map(|i| format!("CREATE INDEX ON orders (total) WHERE total > {i};\n")));
    let out = zdm(&p, &[&change]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = p.listing().into_iter().find(|f| f.starts_with(".zdm/reports/")).expect("report written");
    let html = std::fs::read_to_string(p.0.join(report)).unwrap();
    let section = &html[html.find("<h2>Code references</h2>").expect("own section")..];
    // minijinja escapes `/` as `&#x2f;`.
    assert!(section.contains("user.ex:5:12</code></td><td>users</td><td>name</td><td>orm-field"), "{section}");
    assert_eq!(section.matches("</code></td><td>users</td>").count(), 19 + 18, "every reference to users, column and table ones");
}
