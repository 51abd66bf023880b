//! `zdm check --format json`: the whole report, waived findings included with their reason.

use super::CheckReport;

/// The JSON report.
#[must_use]
pub fn json(report: &CheckReport) -> serde_json::Value {
    let mut v = serde_json::to_value(report).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("failed".into(), report.failed().into());
    }
    v
}
