//! `zdm detect`: the migration tool found, how sure, where, and how zdm will write for it.

use crate::tools::{Detected, Detection, Profile};
use serde_json::{Value, json};

fn candidate(d: &Detection) -> Value {
    json!({
        "tool": d.tool,
        "dir": d.dir,
        "engine": d.engine,
        "confidence": d.confidence,
        "evidence": d.evidence,
    })
}

/// The detection as JSON: `tool`, `engine`, `dir`, `confidence`, `evidence`, the profile (naming, next
/// version, down support, no-transaction switch, history table) and `candidates` (the others seen).
#[must_use]
pub fn detect_json(found: &Detected, profile: &Profile) -> Value {
    let mut v = candidate(&found.detection);
    v["engine"] = json!(found.detection.engine.clone().unwrap_or_else(|| "postgresql".into()));
    v["naming"] = json!(profile.naming);
    v["next_version"] = json!(profile.next_version);
    v["down"] = json!(profile.down);
    v["no_transaction"] = json!(profile.no_transaction);
    v["history_table"] = json!(profile.history_table);
    v["candidates"] = json!(found.others.iter().map(candidate).collect::<Vec<_>>());
    v
}

/// The detection as aligned `key: value` lines.
#[must_use]
pub fn detect_text(found: &Detected, profile: &Profile) -> String {
    let d = &found.detection;
    let engine = d.engine.clone().unwrap_or_else(|| "postgresql (assumed: the configuration does not say)".into());
    let rows = [
        ("tool", d.tool.to_string()),
        ("engine", engine),
        ("directory", if d.dir.is_empty() { ".".to_string() } else { d.dir.clone() }),
        (
            "confidence",
            format!(
                "{} ({})",
                serde_json::to_value(d.confidence).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
                d.evidence
            ),
        ),
        ("naming", profile.naming.clone()),
        ("next version", profile.next_version.clone()),
        ("down", profile.down.clone()),
        ("no transaction", profile.no_transaction.clone()),
        ("history table", profile.history_table.clone()),
    ];
    let mut out: String = rows.iter().map(|(k, v)| format!("{:<16}{v}\n", format!("{k}:"))).collect();
    if !found.others.is_empty() {
        out.push_str("also seen (not used; choose with --tool / --migrations-dir):\n");
        for o in &found.others {
            let dir = if o.dir.is_empty() { "." } else { &o.dir };
            let engine = o.engine.as_deref().map(|e| format!(", {e}")).unwrap_or_default();
            out.push_str(&format!("  - {} in {dir}{engine}: {}\n", o.tool, o.evidence));
        }
    }
    out
}
