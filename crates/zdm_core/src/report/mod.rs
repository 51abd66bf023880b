//! What zdm shows: the terminal receipt (at most 40 lines), the JSON object, and the self-contained HTML
//! report, each returned as a `String`. Imports `model`, `plan`, `rules` (metadata only), `pipeline`.

mod detect;
pub mod estimate;
mod html;
mod json;
mod markdown;
mod receipt;
mod rules;
mod schema;
pub mod summary;
pub mod verify;

pub use detect::{detect_json, detect_text};
pub use html::html_report;
pub use json::json_report;
pub use markdown::markdown;
pub use receipt::{MAX_WIDTH, MIN_WIDTH, RECEIPT_MAX_LINES, full_receipt, receipt, receipt_fits, visible_width, wrap};
pub use rules::{explain, rule_list, rules_markdown};
pub use schema::{schema_json, schema_text};

use crate::model::Risk;
use crate::pipeline::Outcome;
use crate::plan::{Phase, Step};

/// How to render.
#[derive(Clone, Debug, Default)]
pub struct Style {
    /// ANSI colours.
    pub color: bool,
    /// ASCII marks and box instead of Unicode.
    pub ascii: bool,
    /// Terminal columns (clamped to 60–100; 0: 100).
    pub width: usize,
    /// `file://` URL of the report, when the terminal shows OSC 8 hyperlinks.
    pub link: Option<String>,
}

/// Facts about the run that the core does not decide.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// Nothing was written.
    pub dry_run: bool,
    /// Path of the HTML report, when one was written.
    pub report: Option<String>,
}

/// The mark and word for a risk.
#[must_use]
pub fn mark(risk: Risk, ascii: bool) -> (&'static str, &'static str) {
    match (risk, ascii) {
        (Risk::Dangerous, false) => ("✖", "DANGEROUS"),
        (Risk::Dangerous, true) => ("x", "DANGEROUS"),
        (Risk::Risky, false) => ("▲", "RISKY"),
        (Risk::Risky, true) => ("!", "RISKY"),
        (Risk::Info, false) => ("●", "INFO"),
        (Risk::Info, true) => ("*", "INFO"),
        (Risk::Safe, false) => ("✔", "SAFE"),
        (Risk::Safe, true) => ("v", "SAFE"),
        (Risk::Unknown, false) => ("?", "UNKNOWN"),
        (Risk::Unknown, true) => ("?", "UNKNOWN"),
    }
}

/// A one-line title for the change (`rename users.name → full_name`, or a count).
#[must_use]
pub fn change_title(outcome: &Outcome) -> String {
    let ops = &outcome.analysis.ops;
    match ops.as_slice() {
        [one] => describe_op(&one.op.kind),
        _ => {
            let mut tables: Vec<String> = ops.iter().filter_map(|c| c.op.kind.table().map(|t| t.key())).collect();
            tables.dedup();
            tables.sort();
            tables.dedup();
            let on = if tables.is_empty() { String::new() } else { format!(" on {}", tables.join(", ")) };
            format!("{} operations{on}", ops.len())
        }
    }
}

fn describe_op(kind: &crate::op::OpKind) -> String {
    use crate::op::OpKind;
    match kind {
        OpKind::RenameColumn { table, from, to } => format!("rename {table}.{from} → {table}.{to}"),
        OpKind::AddColumn { table, column, .. } => format!("add column {table}.{}", column.name),
        OpKind::DropColumn { table, column, .. } => format!("drop column {table}.{column}"),
        OpKind::AlterColumnType { table, column, type_sql, .. } => format!("change {table}.{column} to {type_sql}"),
        OpKind::SetNotNull { table, column } => format!("{table}.{column} SET NOT NULL"),
        OpKind::CreateIndex(spec) => format!("index {} on {}", crate::schema::index_name_of(spec), spec.table),
        OpKind::DropIndex { name, .. } => format!("drop index {name}"),
        OpKind::AddConstraint { table, constraint } => {
            format!("add {} on {table}", crate::schema::constraint_name_of(table, constraint))
        }
        OpKind::DropTable { table, .. } => format!("drop table {table}"),
        OpKind::RenameTable { table, to } => format!("rename table {table} → {to}"),
        OpKind::Update { table, .. } => format!("update {table}"),
        OpKind::CreateTable { table, .. } => format!("create table {table}"),
        OpKind::AlterAction { table, action } => format!("{table} {}", action.words()),
        other => format!("{} {}", other.name().replace('_', " "), other.table().map(|t| t.key()).unwrap_or_default()).trim().to_string(),
    }
}

/// What the step's file or action is called in listings.
#[must_use]
pub fn step_target(step: &Step) -> String {
    match (&step.file, step.phase) {
        (_, Phase::Code) => "code deploy".to_string(),
        (Some(f), _) => f.clone(),
        (None, _) => format!("step {}", step.n),
    }
}

/// The receipt's one line of code references: the best three as `path:line`, and how many more.
#[must_use]
pub fn top_refs(plan: &crate::plan::Plan) -> Option<String> {
    let ranked = crate::refs::ranked(&plan.code_refs);
    if ranked.is_empty() {
        return None;
    }
    let mut shown: Vec<String> = ranked.iter().take(3).map(|r| r.location()).collect();
    if ranked.len() > 3 {
        shown.push(format!("+{} more", ranked.len() - 3));
    }
    Some(shown.join(", "))
}
