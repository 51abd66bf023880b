//! `zdm check`'s text output: one block per finding (`path:line:col`, severity mark and word, rule, the
//! one-line why, a `help:` line with the safe alternative and the `zdm plan --file` command), then a
//! summary line. Waived findings are left out (the JSON lists them).

use super::{CheckReport, sorted};
use crate::report::mark;
use std::fmt::Write as _;

/// The text report. `ascii` uses the ASCII marks.
#[must_use]
pub fn text(report: &CheckReport, ascii: bool) -> String {
    let mut out = String::new();
    let shown: Vec<_> = sorted(report).into_iter().filter(|f| f.suppressed.is_none()).collect();
    for f in &shown {
        let (m, word) = mark(f.risk, ascii);
        let _ = writeln!(out, "{}:{}:{}: {m} {word} {} {}: {}", f.path, f.line, f.col, f.rule, f.name, f.message);
        let fix = f.fix.as_deref().map(|c| format!("; safe rewrite: {c}")).unwrap_or_default();
        let _ = writeln!(out, "  help: {}{fix}", f.help);
    }
    let waived = report.findings.len() - shown.len();
    let failing = shown.iter().filter(|f| f.risk.severity() >= report.fail_on.severity()).count();
    let files = report.files.len();
    let _ = write!(
        out,
        "{} file{} checked ({}, PostgreSQL {}): {} finding{}, {failing} at or above {}",
        files,
        if files == 1 { "" } else { "s" },
        report.tool,
        report.pg,
        shown.len(),
        if shown.len() == 1 { "" } else { "s" },
        mark(report.fail_on, ascii).1.to_lowercase(),
    );
    if waived > 0 {
        let _ = write!(out, ", {waived} waived");
    }
    out.push('\n');
    out
}
