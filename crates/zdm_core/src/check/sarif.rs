//! `zdm check --format sarif`: a SARIF 2.1.0 log for GitHub code scanning and other viewers. Only the
//! rules the results use are listed (catalogue text: summary, strategy, documentation); columns count
//! UTF-16 code units as `columnKind` says; each result carries zdm's own line-free fingerprint under
//! `partialFingerprints."zdm/v1"` (upload-sarif adds `primaryLocationLineHash`). No `security-severity`:
//! these are not security rules. Waived findings are left out.

use super::{CheckReport, INVALID_MIGRATION, Level, SYNTAX_ERROR, sorted};
use crate::rules;
use serde_json::{Value, json};

fn level(l: Level) -> &'static str {
    match l {
        Level::Note => "note",
        Level::Warning => "warning",
        Level::Error => "error",
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_string() } else { s.chars().take(max - 1).collect::<String>() + "…" }
}

/// The reporting descriptor of a rule ID (or pseudo-rule).
fn descriptor(id: &str) -> Value {
    let (name, short, full, help, default) = match rules::rule(id) {
        Some(r) => {
            let m = r.meta();
            (m.name, m.summary.to_string(), format!("{}. Safe strategy: {}.", m.summary, m.strategy), rules::doc(r), Level::of(m.risk))
        }
        None if id == SYNTAX_ERROR => {
            let t = "The migration does not parse as PostgreSQL SQL".to_string();
            (SYNTAX_ERROR, t.clone(), t.clone(), t, Level::Error)
        }
        None => {
            let t = "The migration names something the schema lacks, or carries a malformed zdm-ignore comment".to_string();
            (INVALID_MIGRATION, t.clone(), t.clone(), t, Level::Error)
        }
    };
    json!({
        "id": id,
        "name": name,
        "shortDescription": {"text": cut(&short, 1024)},
        "fullDescription": {"text": cut(&full, 1024)},
        "help": {"text": help.clone(), "markdown": help},
        "defaultConfiguration": {"level": level(default)},
        "properties": {"tags": ["zero-downtime", "postgresql", "migrations"], "precision": "high", "problem.severity": match default {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "recommendation",
        }},
    })
}

/// A 1-based character column on `line` of `text` as UTF-16 code units (1-based).
fn utf16_col(text: Option<&str>, line: usize, col: usize) -> usize {
    let Some(l) = text.and_then(|t| t.lines().nth(line.saturating_sub(1))) else { return col };
    l.chars().take(col.saturating_sub(1)).map(char::len_utf16).sum::<usize>() + 1
}

/// The SARIF log. `source` gives a file's text by path (for UTF-16 columns; `None`: columns as counted).
#[must_use]
pub fn sarif(report: &CheckReport, source: &dyn Fn(&str) -> Option<String>) -> Value {
    let shown: Vec<_> = sorted(report).into_iter().filter(|f| f.suppressed.is_none()).collect();
    let mut ids: Vec<&str> = Vec::new();
    for f in &shown {
        if !ids.contains(&f.rule.as_str()) {
            ids.push(&f.rule);
        }
    }
    let results: Vec<Value> = shown
        .iter()
        .map(|f| {
            let text = source(&f.path);
            let fix = f.fix.as_deref().map(|c| format!(" Safe rewrite: `{c}`.")).unwrap_or_default();
            json!({
                "ruleId": f.rule,
                "ruleIndex": ids.iter().position(|i| *i == f.rule).unwrap_or(0),
                "level": level(f.level),
                "message": {"text": format!("{}. Help: {}.{fix}", f.message.trim_end_matches('.'), f.help.trim_end_matches('.'))},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": f.path},
                    "region": {"startLine": f.line, "startColumn": utf16_col(text.as_deref(), f.line, f.col)},
                }}],
                "partialFingerprints": {"zdm/v1": f.fingerprint},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "zdm",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://crates.io/crates/zdm",
                "rules": ids.iter().map(|i| descriptor(i)).collect::<Vec<_>>(),
            }},
            "automationDetails": {"id": "zdm/"},
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    })
}
