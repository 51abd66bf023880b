//! Finds where a repository's code uses the tables and columns a schema change touches: raw SQL in
//! string literals, query builder calls and ORM definitions with their mapped names.
//!
//! Two parts: [`refs_in`] is pure (a path and its text in, references out: every rule is unit-tested on
//! strings); [`scan`] walks the repository in parallel (`ignore`, honouring `.gitignore`), keeps the
//! files that mention a table at all with one combined regex (`grep-searcher` + `grep-regex`, binary
//! files skipped), and runs [`refs_in`] on those.

mod builder;
mod orm;
mod sql;
pub mod text;

use grep_regex::RegexMatcherBuilder;
use grep_searcher::{BinaryDetection, Searcher, SearcherBuilder, Sink, SinkMatch};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use text::{Family, Lines};
use zdm_core::refs::{CodeRef, RefKind, RefTarget};

/// Files larger than this are not read (generated bundles, dumps).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Directories never entered, whatever `.gitignore` says.
const SKIPPED_DIRS: &[&str] = &[".git", "target", "node_modules", ".zdm", "vendor", "dist", "build", "__pycache__", ".venv", "venv"];

/// References collected in one file.
pub(crate) struct Found<'a> {
    path: &'a str,
    lines: Lines<'a>,
    refs: Vec<CodeRef>,
}

impl<'a> Found<'a> {
    fn new(path: &'a str, text: &'a str) -> Found<'a> {
        Found { path, lines: Lines::new(text), refs: Vec::new() }
    }

    /// Records a reference at byte `at` (one per line, table, column and kind).
    pub(crate) fn push(&mut self, at: usize, target: &RefTarget, column: Option<&str>, kind: RefKind) {
        let (line, col) = self.lines.pos(at);
        if self.refs.iter().any(|r| r.line == line && r.table == target.key && r.column.as_deref() == column && r.kind == kind) {
            return;
        }
        let snippet = self.lines.snippet(line);
        self.refs.push(CodeRef {
            path: self.path.to_string(),
            line,
            col,
            table: target.key.clone(),
            column: column.map(str::to_string),
            kind,
            snippet,
        });
    }
}

/// The references to `targets` in one file, by path (which says the language, and for Django the app)
/// and text, in order of position.
#[must_use]
pub fn refs_in(path: &str, text: &str, targets: &[RefTarget]) -> Vec<CodeRef> {
    let Some(family) = Family::of(path) else { return Vec::new() };
    let lexed = text::lex(text, family);
    let mut found = Found::new(path, text);
    sql::find(text, family, &lexed, targets, &mut found);
    if family != Family::Sql {
        builder::find(text, &lexed, targets, &mut found);
        orm::find(path, text, &lexed, targets, &mut found);
    }
    let mut refs = found.refs;
    refs.sort_by(|a, b| (a.line, a.col, &a.table, &a.column).cmp(&(b.line, b.col, &b.table, &b.column)));
    refs
}

/// The words a file must contain (any case, as a whole word) to possibly reference `target`: its name,
/// its singular, and both in CamelCase (a model class).
#[must_use]
pub fn prefilter_words(target: &RefTarget) -> Vec<String> {
    let name = target.name.clone();
    let one = text::singular(&name);
    let camel = |s: &str| s.split('_').map(|w| w.to_lowercase()).collect::<String>();
    let mut words = vec![name.clone(), one.clone(), camel(&name), camel(&one)];
    // Django's default table is `<app>_<model>`: the model class is the last word.
    if let Some((_, last)) = name.rsplit_once('_') {
        words.push(last.to_string());
    }
    words.sort();
    words.dedup();
    words
}

/// A sink that stops at the first match: the prefilter only asks whether a file mentions a table.
struct Hit(bool);

impl Sink for Hit {
    type Error = std::io::Error;

    fn matched(&mut self, _: &Searcher, _: &SinkMatch<'_>) -> Result<bool, std::io::Error> {
        self.0 = true;
        Ok(false)
    }
}

/// What a scan did.
#[derive(Debug, Default)]
pub struct Scan {
    /// References found, by path and line.
    pub refs: Vec<CodeRef>,
    /// Code files walked.
    pub files: usize,
    /// Files the prefilter kept.
    pub candidates: usize,
}

/// Walks `root` in parallel (honouring `.gitignore`, skipping hidden, vendored and build directories,
/// binary files and files over [`MAX_FILE_BYTES`]) and returns the references to `targets`. Paths in
/// `exclude` (relative, `/`-separated: the migrations directory, schema dumps) and any directory named
/// `migrations` or `migrate`, and schema dumps (`schema.sql`, `*structure.sql`) are skipped: migration history is not code that runs.
#[must_use]
pub fn scan(root: &Path, targets: &[RefTarget], exclude: &[String]) -> Scan {
    if targets.is_empty() {
        return Scan::default();
    }
    let mut words: Vec<String> = targets.iter().flat_map(prefilter_words).map(|w| regex::escape(&w)).collect();
    words.sort();
    words.dedup();
    let Ok(matcher) = RegexMatcherBuilder::new().case_insensitive(true).word(true).build(&words.join("|")) else {
        return Scan::default();
    };
    let refs = Mutex::new(Vec::new());
    let files = AtomicUsize::new(0);
    let candidates = AtomicUsize::new(0);
    let root_owned = root.to_path_buf();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        // `.gitignore` counts in a directory that is not a git checkout too (an unpacked release).
        .require_git(false)
        .max_filesize(Some(MAX_FILE_BYTES))
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            !(e.file_type().is_some_and(|t| t.is_dir())
                && e.depth() > 0
                && (SKIPPED_DIRS.contains(&&*name) || name == "migrations" || name == "migrate"))
        })
        .build_parallel();
    walker.run(|| {
        let matcher = matcher.clone();
        let mut searcher = SearcherBuilder::new().binary_detection(BinaryDetection::quit(0)).line_number(false).build();
        let (refs, files, candidates, root) = (&refs, &files, &candidates, &root_owned);
        Box::new(move |entry| {
            let Ok(entry) = entry else { return ignore::WalkState::Continue };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            let Ok(rel) = entry.path().strip_prefix(root) else { return ignore::WalkState::Continue };
            let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            let dump = rel.ends_with("structure.sql") || rel.rsplit('/').next() == Some("schema.sql");
            if dump || Family::of(&rel).is_none() || exclude.iter().any(|x| rel == *x || rel.starts_with(&format!("{x}/"))) {
                return ignore::WalkState::Continue;
            }
            files.fetch_add(1, Ordering::Relaxed);
            let mut hit = Hit(false);
            if searcher.search_path(&matcher, entry.path(), &mut hit).is_err() || !hit.0 {
                return ignore::WalkState::Continue;
            }
            candidates.fetch_add(1, Ordering::Relaxed);
            let Ok(bytes) = std::fs::read(entry.path()) else { return ignore::WalkState::Continue };
            let text = String::from_utf8_lossy(&bytes);
            let found = refs_in(&rel, &text, targets);
            if !found.is_empty() {
                refs.lock().expect("no thread panics holding the lock").extend(found);
            }
            ignore::WalkState::Continue
        })
    });
    let mut refs = refs.into_inner().expect("no thread panics holding the lock");
    refs.sort_by(|a, b| (&a.path, a.line, a.col, &a.table, &a.column).cmp(&(&b.path, b.line, b.col, &b.table, &b.column)));
    Scan { refs, files: files.into_inner(), candidates: candidates.into_inner() }
}
