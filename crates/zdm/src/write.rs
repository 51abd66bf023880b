//! Writing a plan's files: all or none, never over an existing file.

use anyhow::{Result, bail};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use zdm_core::model::GeneratedFile;

/// Writes every file under `root`, refusing to touch an existing path; on any failure removes what it
/// wrote, so the project is left as it was.
pub fn write_all(root: &Path, files: &[GeneratedFile]) -> Result<()> {
    for f in files {
        let path = root.join(&f.path);
        if path.exists() {
            bail!("error: {} already exists; zdm never overwrites a migration (nothing written)", f.path);
        }
    }
    let mut written: Vec<PathBuf> = Vec::new();
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let result = (|| -> Result<()> {
        for f in files {
            let path = root.join(&f.path);
            if let Some(dir) = path.parent()
                && !dir.exists()
            {
                let mut missing = Vec::new();
                let mut d = dir;
                while !d.exists() {
                    missing.push(d.to_path_buf());
                    match d.parent() {
                        Some(p) => d = p,
                        None => break,
                    }
                }
                fs::create_dir_all(dir)?;
                created_dirs.extend(missing);
            }
            let mut file = OpenOptions::new().write(true).create_new(true).open(&path)?;
            written.push(path);
            file.write_all(f.contents.as_bytes())?;
            file.sync_all()?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        for p in written.iter().rev() {
            let _ = fs::remove_file(p);
        }
        for d in &created_dirs {
            let _ = fs::remove_dir(d);
        }
        bail!("error: writing the plan failed, nothing written: {e}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("zdm-write-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn file(path: &str) -> GeneratedFile {
        GeneratedFile { path: path.into(), contents: "-- migrate:up\n-- migrate:down\n".into() }
    }

    #[test]
    fn refuses_to_overwrite_and_writes_nothing() {
        let dir = scratch("overwrite");
        fs::create_dir_all(dir.join("m")).unwrap();
        fs::write(dir.join("m/2.sql"), "mine").unwrap();
        let err = write_all(&dir, &[file("m/1.sql"), file("m/2.sql")]).unwrap_err();
        assert!(err.to_string().contains("m/2.sql already exists"), "{err}");
        assert!(!dir.join("m/1.sql").exists());
        assert_eq!(fs::read_to_string(dir.join("m/2.sql")).unwrap(), "mine");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_failure_midway_removes_what_was_written() {
        let dir = scratch("midway");
        fs::write(dir.join("blocker"), "a file where a directory must go").unwrap();
        let err = write_all(&dir, &[file("new/1.sql"), file("blocker/2.sql")]).unwrap_err();
        assert!(err.to_string().contains("nothing written"), "{err}");
        assert!(!dir.join("new").exists(), "created directories are removed too");
        fs::remove_dir_all(dir).unwrap();
    }
}
