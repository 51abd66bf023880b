//! `zdm check --format gitlab`: a GitLab Code Quality report (a JSON array, no byte-order mark). Severity
//! note → `info`, warning → `minor`, error → `major`; `critical` for a dangerous finding. The fingerprint
//! holds no line number, so a finding survives edits above it.

use super::{CheckReport, sorted};
use crate::model::Risk;
use serde_json::{Value, json};

/// The Code Quality array (waived findings left out).
#[must_use]
pub fn gitlab(report: &CheckReport) -> Value {
    let items: Vec<Value> = sorted(report)
        .into_iter()
        .filter(|f| f.suppressed.is_none())
        .map(|f| {
            let severity = match f.risk {
                Risk::Safe | Risk::Info => "info",
                Risk::Risky => "minor",
                Risk::Unknown => "major",
                Risk::Dangerous => "critical",
            };
            let fix = f.fix.as_deref().map(|c| format!(" Safe rewrite: {c}")).unwrap_or_default();
            json!({
                "description": format!("{} ({}): {} Help: {}.{fix}", f.name, f.rule, f.message, f.help),
                "check_name": f.name,
                "fingerprint": f.fingerprint,
                "severity": severity,
                "location": {"path": f.path, "lines": {"begin": f.line}},
            })
        })
        .collect();
    Value::Array(items)
}
