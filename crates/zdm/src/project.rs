//! Reading the user's project: every `.sql` file below the project directory (respecting .gitignore, and
//! skipping zdm's own `.zdm/`), as `ProjectFiles` for the core.

use anyhow::{Context, Result};
use std::path::Path;
use zdm_core::model::{ProjectFile, ProjectFiles};

/// `file`'s path relative to `root` with `/` separators, when it lies inside it.
pub fn relative(root: &Path, file: &Path) -> Option<String> {
    let root = root.canonicalize().ok()?;
    let file = file.canonicalize().ok()?;
    let rel = file.strip_prefix(&root).ok()?;
    Some(rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"))
}

/// Reads the project's SQL files, paths relative to `root` with `/` separators, sorted.
pub fn read(root: &Path) -> Result<ProjectFiles> {
    if !root.is_dir() {
        anyhow::bail!("error: project directory {} does not exist", root.display());
    }
    let mut files = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .max_depth(Some(8))
        .filter_entry(|e| e.file_name() != "node_modules" && e.file_name() != "target")
        .build();
    for entry in walker {
        let entry = entry.context("reading the project directory")?;
        let path = entry.path();
        if !entry.file_type().is_some_and(|t| t.is_file()) || path.extension().is_none_or(|e| e != "sql") {
            continue;
        }
        let rel =
            path.strip_prefix(root).unwrap_or(path).components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        let contents = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        files.push(ProjectFile { path: rel, contents });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(ProjectFiles { files })
}
