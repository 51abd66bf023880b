//! `zdm check --format github`: GitHub Actions workflow commands. Errors first, then warnings, then notes;
//! at most 10 of each level (GitHub drops the rest of a step's annotations silently), then one `::notice`
//! counting what was left out. Messages and properties escaped the way actions/toolkit does.

use super::{CheckReport, Level, sorted};

/// Caps per level and step.
const PER_LEVEL: usize = 10;

/// `%`, CR and LF escaped (a message).
fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A property value: also `:` and `,`.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The annotations, one per line.
#[must_use]
pub fn github(report: &CheckReport) -> String {
    let mut shown: Vec<_> = sorted(report).into_iter().filter(|f| f.suppressed.is_none()).collect();
    shown.sort_by_key(|f| std::cmp::Reverse(f.level));
    let mut out = String::new();
    let mut left = 0;
    for level in [Level::Error, Level::Warning, Level::Note] {
        let of: Vec<_> = shown.iter().filter(|f| f.level == level).collect();
        left += of.len().saturating_sub(PER_LEVEL);
        for f in of.into_iter().take(PER_LEVEL) {
            let cmd = match level {
                Level::Error => "error",
                Level::Warning => "warning",
                Level::Note => "notice",
            };
            let fix = f.fix.as_deref().map(|c| format!("; safe rewrite: {c}")).unwrap_or_default();
            out.push_str(&format!(
                "::{cmd} file={},line={},col={},title={}::{}\n",
                property(&f.path),
                f.line,
                f.col,
                property(&format!("zdm {} {}", f.rule, f.name)),
                data(&format!("{}\nhelp: {}{fix}", f.message, f.help)),
            ));
        }
    }
    if left > 0 {
        out.push_str(&format!("::notice title=zdm::{left} more findings not annotated (10 per level); run zdm check locally for all\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_like_actions_toolkit() {
        assert_eq!(super::data("a%b\r\nc"), "a%25b%0D%0Ac");
        assert_eq!(super::property("zdm: a,b"), "zdm%3A a%2Cb");
    }
}
