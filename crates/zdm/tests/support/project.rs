//! A scratch project directory for the tests that run the `zdm` binary.

use std::fs;
use std::path::{Path, PathBuf};

/// A project directory holding some files, removed at the end of the test.
pub struct Project(pub PathBuf);

impl Project {
    /// A project holding `files` (path, contents).
    pub fn new(name: &str, files: &[(&str, &str)]) -> Project {
        // The PID padded: paths, and the receipts that print them, have the same width in every run.
        let dir = std::env::temp_dir().join(format!("zdm-test-{name}-{:07}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for (path, contents) in files {
            let p = dir.join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, contents).unwrap();
        }
        fs::create_dir_all(&dir).unwrap();
        Project(dir)
    }

    /// A project whose one dbmate migration creates the shared fixture tables.
    pub fn with_setup(name: &str) -> Project {
        let init = format!("-- migrate:up\n{}\n-- migrate:down\nSELECT 1;\n", super::SETUP);
        Project::new(name, &[("db/migrations/20260101000000_init.sql", &init)])
    }

    /// Every file below the project, relative paths, sorted (hidden ones included).
    pub fn listing(&self) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
            for e in fs::read_dir(dir).unwrap().flatten() {
                if e.path().is_dir() {
                    walk(&e.path(), root, out);
                } else {
                    out.push(e.path().strip_prefix(root).unwrap().display().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &self.0, &mut out);
        out.sort();
        out
    }

    /// The migration files (`db/migrations/*.sql`).
    pub fn migrations(&self) -> Vec<String> {
        self.listing().into_iter().filter(|f| f.starts_with("db/migrations/") && f.ends_with(".sql")).collect()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
