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
            bail!(
                "error: {} already exists; zdm never overwrites a migration (nothing written)",
                f.path
            );
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
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)?;
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
