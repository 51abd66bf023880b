//! Reading the user's project: every `.sql` file below the project directory and the paths of migrations
//! written as code (respecting .gitignore, and skipping zdm's own `.zdm/`), as `ProjectFiles` for the core.

use anyhow::{Result, anyhow};
use std::path::Path;
use zdm_core::model::{Pos, ProjectFile, ProjectFiles};

/// Something about a project file the user should know that does not stop the run.
pub struct ReadWarning {
    /// Path relative to the project root.
    pub path: String,
    /// What happened.
    pub message: String,
}

/// Checks that `root` is a directory zdm can plan in, saying what it is otherwise.
pub fn check_dir(root: &Path) -> Result<()> {
    match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(anyhow!(
            "error: --dir {} is a file, not a directory\n  = help: pass the project directory (the one holding the migrations)",
            root.display()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(anyhow!("error: project directory {} does not exist", root.display())),
        Err(e) => Err(anyhow!("error: cannot read project directory {}: {}", root.display(), cause(&e))),
    }
}

/// An IO error's cause as the OS words it, without Rust's `(os error N)` suffix.
pub fn cause(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Decodes `bytes` as UTF-8; when they are not, decodes lossily and says where the first bad byte is.
pub fn decode(bytes: Vec<u8>) -> (String, Option<Pos>) {
    match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
            let pos = Pos::of_byte(prefix, prefix.len());
            (String::from_utf8_lossy(&bytes).into_owned(), Some(pos))
        }
    }
}

/// `file`'s path relative to `root` with `/` separators, when it lies inside it.
pub fn relative(root: &Path, file: &Path) -> Option<String> {
    let root = root.canonicalize().ok()?;
    let file = file.canonicalize().ok()?;
    let rel = file.strip_prefix(&root).ok()?;
    Some(rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"))
}

/// Largest configuration file read.
const CONFIG_MAX_BYTES: u64 = 4 << 20;

/// Extensions of migration files written as code (read, but never replayed as SQL).
const CODE_MIGRATION_EXTENSIONS: &[&str] = &["py", "rb", "js", "ts", "cjs", "mjs", "go", "exs", "rs"];

/// Reads the project's SQL files and migration tools' configuration files (and the paths of code
/// migrations), paths relative to `root` with `/` separators, sorted. A file that is not
/// UTF-8 is read lossily (U+FFFD for each bad sequence) and named in a warning; a file that cannot be read
/// at all stops the run with the OS's reason.
pub fn read(root: &Path) -> Result<(ProjectFiles, Vec<ReadWarning>)> {
    check_dir(root)?;
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .max_depth(Some(8))
        // Hidden entries are skipped, but for a tool's hidden config file (`.sequelizerc`).
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            let hidden = name.starts_with('.') && e.depth() > 0;
            name != "node_modules"
                && name != "target"
                && (!hidden || (e.file_type().is_some_and(|t| t.is_file()) && zdm_core::tools::wants_contents(&name)))
        })
        .build();
    for entry in walker {
        let entry = entry.map_err(|e| anyhow!("error: cannot read the project directory: {e}"))?;
        let path = entry.path();
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let rel =
            path.strip_prefix(root).unwrap_or(path).components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        let is_sql = path.extension().is_some_and(|e| e == "sql");
        // Configuration files, manifests and tool bookkeeping are read too (the core says which), up to
        // a size no such file reaches.
        let is_config = zdm_core::tools::wants_contents(&rel) && entry.metadata().is_ok_and(|m| m.len() <= CONFIG_MAX_BYTES);
        if !is_sql && !is_config {
            // Code migrations are listed by path only, so the plan can say which history it cannot read.
            let code = path.extension().is_some_and(|e| CODE_MIGRATION_EXTENSIONS.iter().any(|x| e == *x));
            if code && (rel.contains("migrat") || rel.contains("/versions/")) {
                // Read when small (a tool may read back a migration zdm wrote as code); listed otherwise.
                let contents = if entry.metadata().is_ok_and(|m| m.len() <= CONFIG_MAX_BYTES) {
                    std::fs::read(path).map(|b| decode(b).0).unwrap_or_default()
                } else {
                    String::new()
                };
                files.push(ProjectFile { path: rel, contents });
            }
            continue;
        }
        let bytes = std::fs::read(path).map_err(|e| anyhow!("error: cannot read {}: {}", path.display(), cause(&e)))?;
        let (contents, bad) = decode(bytes);
        if let Some(pos) = bad {
            warnings.push(ReadWarning {
                path: rel.clone(),
                message: format!("not valid UTF-8 at {pos}; read with U+FFFD in place of the bad bytes"),
            });
        }
        files.push(ProjectFile { path: rel, contents });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((ProjectFiles::new(files), warnings))
}
