//! Writing a plan's files: all or none, never over an existing file, one run at a time per project.
//!
//! 1. [`lock`] takes an exclusive `flock` on the project directory itself (no lock file is left behind;
//!    the kernel releases it when the process dies), so two runs never choose the same version: the second
//!    reads the project, plans and names its files only after the first has written its own.
//! 2. [`write_all`] records its intent in the journal `.zdm-pending` (project root), writes every file to a
//!    hidden temporary file beside its target (`.NAME.zdm-tmp`: hidden and not `.sql`, so neither zdm nor a
//!    migration tool ever reads it) and fsyncs it, marks the journal `commit`, then hard-links each
//!    temporary file to its target (a link fails when the target exists: nothing is ever overwritten),
//!    removes the temporary files and the journal. A file the tool's bookkeeping needs changed (a
//!    journal, a changelog listing migrations: `GeneratedFile::replaces`) is checked to still hold what
//!    zdm read, and is renamed over only after every new file is linked; a failure puts it back.
//! 3. [`recover`], called under the lock before the project is read, finishes what a killed run left: a
//!    journal still in `writing` loses its temporary files (nothing of that run appears), one in `commit`
//!    has its remaining links made (all of that run appears).
//!
//! Test hooks (read only here, for the SIGKILL tests): `ZDM_TEST_PAUSE_AFTER_FILES=N` sleeps after N
//! temporary files are written, `ZDM_TEST_PAUSE_AFTER_LINKS=N` after N targets are linked; both print
//! `zdm test hook: paused` to standard error first.

use anyhow::{Result, bail};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use zdm_core::model::GeneratedFile;

/// The journal of a write in progress, relative to the project root.
const JOURNAL: &str = ".zdm-pending";

/// An exclusive lock on a project directory, held until dropped.
pub struct Lock(#[allow(dead_code)] File);

/// Waits for and takes the project's lock.
pub fn lock(root: &Path) -> Result<Lock> {
    let dir = File::open(root).map_err(|e| anyhow::anyhow!("error: cannot open project directory {}: {e}", root.display()))?;
    flock(&dir)?;
    Ok(Lock(dir))
}

#[cfg(unix)]
fn flock(file: &File) -> Result<()> {
    use std::os::fd::AsRawFd;
    loop {
        #[allow(unsafe_code)]
        // SAFETY: flock on a file descriptor this function borrows; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            bail!("error: cannot lock the project directory: {e}");
        }
    }
}

#[cfg(not(unix))]
fn flock(_file: &File) -> Result<()> {
    Ok(())
}

fn temp_path(target: &Path) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.zdm-tmp"))
}

fn pause(var: &str, done: usize) {
    if std::env::var(var).ok().and_then(|v| v.parse::<usize>().ok()) == Some(done) {
        eprintln!("zdm test hook: paused");
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

fn write_journal(root: &Path, state: &str, pairs: &[(PathBuf, PathBuf)], updates: &[bool]) -> std::io::Result<()> {
    let mut text = format!("{state}\n");
    for (i, (tmp, target)) in pairs.iter().enumerate() {
        let kind = if updates.get(i).copied().unwrap_or(false) { "\treplace" } else { "" };
        text.push_str(&format!("{}\t{}{kind}\n", tmp.display(), target.display()));
    }
    let staging = root.join(format!("{JOURNAL}.tmp"));
    let mut f = File::create(&staging)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    fs::rename(&staging, root.join(JOURNAL))?;
    sync_dir(root);
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Finishes or undoes a write that a killed run left (call under [`lock`]). Returns a note for the user
/// when there was one.
pub fn recover(root: &Path) -> Option<String> {
    let journal = root.join(JOURNAL);
    let text = fs::read_to_string(&journal).ok()?;
    let mut lines = text.lines();
    let state = lines.next().unwrap_or("");
    let entries: Vec<(PathBuf, PathBuf, bool)> = lines
        .filter_map(|l| {
            let mut parts = l.split('\t');
            let (t, g) = (parts.next()?, parts.next()?);
            Some((root.join(t), root.join(g), parts.next() == Some("replace")))
        })
        .collect();
    let commit = state == "commit" && entries.iter().all(|(t, g, _)| t.exists() || g.exists());
    let mut linked = 0;
    for (tmp, target, update) in &entries {
        if commit && tmp.exists() {
            let done = if *update { fs::rename(tmp, target).is_ok() } else { !target.exists() && fs::hard_link(tmp, target).is_ok() };
            linked += usize::from(done);
        }
        let _ = fs::remove_file(tmp);
    }
    let _ = fs::remove_file(&journal);
    let _ = fs::remove_file(root.join(format!("{JOURNAL}.tmp")));
    Some(if commit {
        format!("note: finished writing {linked} file(s) of an interrupted zdm run")
    } else {
        format!("note: removed the temporary files of an interrupted zdm run ({} file(s), none was written)", entries.len())
    })
}

/// Writes every file under `root` (call under [`lock`]), refusing to touch an existing path; on any
/// failure removes what it wrote, so the project is left as it was.
pub fn write_all(root: &Path, files: &[GeneratedFile]) -> Result<()> {
    // New files first, updates of existing ones last: an update is the one step that cannot be a link.
    let mut files: Vec<&GeneratedFile> = files.iter().collect();
    files.sort_by_key(|f| f.replaces.is_some());
    for f in &files {
        let path = root.join(&f.path);
        match &f.replaces {
            None if path.exists() => bail!("error: {} already exists; zdm never overwrites a migration (nothing written)", f.path),
            Some(old) if fs::read_to_string(&path).ok().as_ref() != Some(old) => {
                bail!("error: {} changed while zdm was planning; run zdm again (nothing written)", f.path)
            }
            _ => {}
        }
    }
    let updates: Vec<bool> = files.iter().map(|f| f.replaces.is_some()).collect();
    let pairs: Vec<(PathBuf, PathBuf)> = files.iter().map(|f| (temp_path(Path::new(&f.path)), PathBuf::from(&f.path))).collect();
    let mut replaced: Vec<(PathBuf, String)> = Vec::new();
    let mut linked: Vec<PathBuf> = Vec::new();
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let result = (|| -> Result<()> {
        write_journal(root, "writing", &pairs, &updates)?;
        for (n, (f, (tmp, _))) in files.iter().zip(&pairs).enumerate() {
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
                fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("cannot create directory {}: {e}", dir.strip_prefix(root).unwrap_or(dir).display()))?;
                created_dirs.extend(missing);
            }
            let tmp = root.join(tmp);
            let mut file =
                OpenOptions::new().write(true).create(true).truncate(true).open(&tmp).map_err(|e| anyhow::anyhow!("{}: {e}", f.path))?;
            file.write_all(f.contents.as_bytes()).map_err(|e| anyhow::anyhow!("{}: {e}", f.path))?;
            file.sync_all().map_err(|e| anyhow::anyhow!("{}: {e}", f.path))?;
            pause("ZDM_TEST_PAUSE_AFTER_FILES", n + 1);
        }
        for dir in files.iter().filter_map(|f| root.join(&f.path).parent().map(Path::to_path_buf)) {
            sync_dir(&dir);
        }
        write_journal(root, "commit", &pairs, &updates)?;
        for (n, ((tmp, target), f)) in pairs.iter().zip(&files).enumerate() {
            if let Some(old) = &f.replaces {
                fs::rename(root.join(tmp), root.join(target)).map_err(|e| anyhow::anyhow!("{}: {e}", target.display()))?;
                replaced.push((root.join(target), old.clone()));
            } else {
                fs::hard_link(root.join(tmp), root.join(target)).map_err(|e| anyhow::anyhow!("{}: {e}", target.display()))?;
                linked.push(root.join(target));
            }
            pause("ZDM_TEST_PAUSE_AFTER_LINKS", n + 1);
        }
        Ok(())
    })();
    for (tmp, _) in &pairs {
        let _ = fs::remove_file(root.join(tmp));
    }
    if let Err(e) = result {
        for (p, old) in &replaced {
            let _ = fs::write(p, old);
        }
        for p in linked.iter().rev() {
            let _ = fs::remove_file(p);
        }
        for d in &created_dirs {
            let _ = fs::remove_dir(d);
        }
        let _ = fs::remove_file(root.join(JOURNAL));
        bail!("error: writing the plan failed, nothing written: {e}");
    }
    for dir in files.iter().filter_map(|f| root.join(&f.path).parent().map(Path::to_path_buf)) {
        sync_dir(&dir);
    }
    let _ = fs::remove_file(root.join(JOURNAL));
    sync_dir(root);
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
        GeneratedFile::new(path, "-- migrate:up\n-- migrate:down\n")
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut out: Vec<String> = fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        out.sort();
        out
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
        assert_eq!(listing(&dir), ["blocker"], "no temporary file or journal is left");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn unrelated_temporary_files_are_left_alone() {
        let dir = scratch("race");
        fs::create_dir_all(dir.join("m")).unwrap();
        fs::write(dir.join("m/.2.sql.zdm-tmp"), "stale").unwrap();
        write_all(&dir, &[file("m/1.sql")]).unwrap();
        assert_eq!(listing(&dir.join("m")), [".2.sql.zdm-tmp", "1.sql"]);
        assert_eq!(listing(&dir), ["m"], "the journal is removed");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn recovery_finishes_a_committed_write_and_drops_an_unfinished_one() {
        let dir = scratch("recover");
        fs::create_dir_all(dir.join("m")).unwrap();
        fs::write(dir.join("m/.1.sql.zdm-tmp"), "one").unwrap();
        fs::write(dir.join("m/.2.sql.zdm-tmp"), "two").unwrap();
        fs::write(dir.join("m/1.sql"), "one").unwrap();
        let pairs =
            [(PathBuf::from("m/.1.sql.zdm-tmp"), PathBuf::from("m/1.sql")), (PathBuf::from("m/.2.sql.zdm-tmp"), PathBuf::from("m/2.sql"))];
        write_journal(&dir, "commit", &pairs, &[]).unwrap();
        assert!(recover(&dir).unwrap().contains("finished writing 1 file"));
        assert_eq!(listing(&dir.join("m")), ["1.sql", "2.sql"]);
        assert_eq!(fs::read_to_string(dir.join("m/2.sql")).unwrap(), "two");

        fs::write(dir.join("m/.3.sql.zdm-tmp"), "three").unwrap();
        write_journal(&dir, "writing", &[(PathBuf::from("m/.3.sql.zdm-tmp"), PathBuf::from("m/3.sql"))], &[]).unwrap();
        assert!(recover(&dir).unwrap().contains("none was written"));
        assert_eq!(listing(&dir.join("m")), ["1.sql", "2.sql"]);
        assert_eq!(listing(&dir), ["m"]);
        assert_eq!(recover(&dir), None);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn updates_check_what_was_read_and_land_with_the_new_files() {
        let dir = scratch("update");
        fs::create_dir_all(dir.join("m/meta")).unwrap();
        fs::write(dir.join("m/meta/_journal.json"), "old").unwrap();
        let update = |old: &str| GeneratedFile::update("m/meta/_journal.json", old, "new");
        let err = write_all(&dir, &[file("m/1.sql"), update("something else")]).unwrap_err();
        assert!(err.to_string().contains("changed while zdm was planning"), "{err}");
        assert!(!dir.join("m/1.sql").exists());
        write_all(&dir, &[update("old"), file("m/1.sql")]).unwrap();
        assert_eq!(fs::read_to_string(dir.join("m/meta/_journal.json")).unwrap(), "new");
        assert!(dir.join("m/1.sql").exists());
        assert_eq!(listing(&dir.join("m/meta")), ["_journal.json"], "no temporary file is left");
        fs::remove_dir_all(dir).unwrap();
    }
}
