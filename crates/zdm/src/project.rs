//! Reading the user's project: every `.sql` file below the project directory and the paths of migrations
//! written as code (respecting .gitignore, and skipping zdm's own `.zdm/`), as `ProjectFiles` for the core.

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

/// Extensions of migration files written as code (listed by path, contents not read).
const CODE_MIGRATION_EXTENSIONS: &[&str] = &["py", "rb", "js", "ts", "cjs", "mjs", "go", "exs", "rs"];

/// Reads the project's SQL files (and the paths of code migrations), paths relative to `root` with `/` separators, sorted.
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
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let rel =
            path.strip_prefix(root).unwrap_or(path).components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        let is_sql = path.extension().is_some_and(|e| e == "sql");
        if !is_sql {
            // Code migrations are listed by path only, so the plan can say which history it cannot read.
            let code = path.extension().is_some_and(|e| CODE_MIGRATION_EXTENSIONS.iter().any(|x| e == *x));
            if code && (rel.contains("migrat") || rel.contains("/versions/")) {
                files.push(ProjectFile { path: rel, contents: String::new() });
            }
            continue;
        }
        let contents = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        files.push(ProjectFile { path: rel, contents });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(ProjectFiles { files })
}
