//! `--format markdown`: the receipt's content for a pull-request comment — verdict, the steps as a
//! table (lock, estimated duration, rollback), what needs action, the checklist as task items, and each
//! step's SQL up and down in a collapsed `<details>` block.

use super::summary::Summary;
use super::{RunInfo, mark};
use crate::model::mask_secrets;
use crate::pipeline::Outcome;
use crate::plan::Phase;

/// The Markdown comment for a plan, secrets masked.
#[must_use]
pub fn markdown(outcome: &Outcome, info: &RunInfo) -> String {
    let plan = &outcome.plan;
    let summary = Summary::of(outcome);
    let (m, word) = mark(plan.risk, false);
    let mut out = format!("### {m} {word}: {}\n\n{}\n\n", cell(&summary.title), cell(&plan.verdict));
    let deploys = match summary.code_deploys {
        0 => String::new(),
        n => format!(" · {n} code deploy{}", if n == 1 { "" } else { "s" }),
    };
    out.push_str(&format!(
        "**{} steps** · {} migration files{deploys} · {} · PostgreSQL {} · {}\n\n",
        summary.steps,
        summary.files,
        plan.kind.label(),
        outcome.pg.0,
        outcome.detection.tool
    ));
    if summary.code_deploys > 0 {
        out.push_str(&format!("Deploy order: {}\n\n", summary.shape));
    }
    out.push_str("| # | Step | Lock | Duration | Rollback |\n|---|---|---|---|---|\n");
    for r in &summary.rows {
        if r.step.phase == Phase::Code {
            out.push_str(&format!("| {} | **code deploy**: {} | — | — | {} |\n", r.n, cell(&r.step.title), cell(&r.step.rollback)));
            continue;
        }
        let (loss_risk, loss) = r.loss.mark();
        out.push_str(&format!(
            "| {} | {}<br>`{}` | {} {}, {} | {} | {} — {} {loss} |\n",
            r.n,
            cell(&r.step.title),
            r.target.replace('`', "'"),
            mark(r.mark, false).0,
            cell(&r.lock),
            cell(&r.hold),
            cell(&r.estimate.text),
            cell(&r.step.rollback),
            mark(loss_risk, false).0,
        ));
    }
    let actions: Vec<_> = summary.findings.iter().filter(|f| f.action).collect();
    if !actions.is_empty() {
        out.push_str("\n**Needs action**\n\n");
        for f in actions {
            let (fm, _) = mark(f.finding.risk, false);
            out.push_str(&format!(
                "- {fm} **{} {}** ({}): {} (`zdm explain {}`)\n",
                f.finding.rule,
                f.finding.name,
                f.at,
                cell(&f.finding.message),
                f.finding.rule
            ));
        }
    }
    if !plan.notes.is_empty() {
        out.push_str("\n**Notes**\n\n");
        for n in &plan.notes {
            out.push_str(&format!("- {}\n", cell(n)));
        }
    }
    out.push_str("\n**Pre-deploy checklist**\n\n");
    for c in &summary.checklist {
        out.push_str(&format!("- [ ] {}\n", cell(c)));
    }
    out.push('\n');
    for r in summary.rows.iter().filter(|r| r.step.phase != Phase::Code) {
        let fence = fence_for(&format!("{}{}", r.step.up, r.step.down));
        out.push_str(&format!(
            "<details><summary>Step {}: {} — SQL</summary>\n\n{fence}sql\n-- up\n{}\n\n-- down\n{}\n{fence}\n\n</details>\n",
            r.n,
            html_text(&r.target),
            r.step.up.trim_end(),
            r.step.down.trim_end()
        ));
    }
    if let Some(report) = &info.report {
        out.push_str(&format!("\nFull report: {}\n", cell(report)));
    }
    mask_secrets(&out)
}

/// Text safe in a table cell and in running Markdown: pipes escaped, no line breaks, no raw HTML.
fn cell(text: &str) -> String {
    html_text(text).replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn html_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A code fence longer than any run of backticks in `text`.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}
