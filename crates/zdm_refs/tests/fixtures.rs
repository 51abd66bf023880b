//! The fixture repository `tests/fixtures/code_refs` holds one model file and one query per ORM, with
//! negative cases beside them (another model's `name`, comments, strings that do not name the table,
//! migration history, an ignored file). Snapshot of what `scan` finds for `users.name`.

use std::path::{Path, PathBuf};
use zdm_core::refs::RefTarget;

fn fixture() -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/code_refs");
    let dir = std::env::temp_dir().join(format!("zdm_refs_fixture_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    zdm_pg::testing::copy_dir(&src, &dir);
    // Written here, not committed: git itself would not keep an ignored file.
    std::fs::write(dir.join(".gitignore"), "generated/\n").unwrap();
    std::fs::create_dir_all(dir.join("generated")).unwrap();
    std::fs::write(dir.join("generated/client.ts"), "export const q = \"SELECT name FROM users\";\n").unwrap();
    dir
}

fn users_name() -> Vec<RefTarget> {
    vec![RefTarget { key: "users".into(), name: "users".into(), columns: vec!["name".into()] }]
}

#[test]
fn every_orm_fixture() {
    let dir = fixture();
    let scan = zdm_refs::scan(&dir, &users_name(), &[]);
    let text: String = scan
        .refs
        .iter()
        .map(|r| {
            format!(
                "{}:{}:{} {} {}{} | {}\n",
                r.path,
                r.line,
                r.col,
                r.kind.word(),
                r.table,
                r.column.as_deref().map(|c| format!(".{c}")).unwrap_or_default(),
                r.snippet
            )
        })
        .collect();
    insta::assert_snapshot!(text);
    // The ignored file holds a reference the matcher finds: only .gitignore keeps it out.
    let ignored = std::fs::read_to_string(dir.join("generated/client.ts")).unwrap();
    assert_eq!(zdm_refs::refs_in("generated/client.ts", &ignored, &users_name()).len(), 2);
    assert!(scan.refs.iter().all(|r| !r.path.starts_with("generated/") && !r.path.starts_with("db/migrate/")));
    std::fs::remove_file(dir.join(".gitignore")).unwrap();
    let unignored = zdm_refs::scan(&dir, &users_name(), &[]);
    assert!(unignored.refs.iter().any(|r| r.path == "generated/client.ts"));
    // Excluded paths (the migrations directory zdm detected) are skipped.
    let excluded = zdm_refs::scan(&dir, &users_name(), &["sql".to_string()]);
    assert!(excluded.refs.iter().all(|r| !r.path.starts_with("sql/")) && scan.refs.iter().any(|r| r.path.starts_with("sql/")));
    let _ = std::fs::remove_dir_all(&dir);
}
