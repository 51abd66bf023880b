//! The terminal receipt: box header, one-line verdict, deployment sequence, rollback, notes, checklist.
//! Never more than [`RECEIPT_MAX_LINES`] lines of at most 100 columns; when the full receipt would be
//! longer, the short form (header, verdict, top 3 findings, report path) is printed instead.

use super::{RunInfo, Style, change_title, mark, step_target};
use crate::model::{Risk, mask_secrets};
use crate::pipeline::Outcome;
use crate::plan::Phase;

/// Hard limit on receipt lines.
pub const RECEIPT_MAX_LINES: usize = 40;
const MAX_COLS: usize = 100;

/// The full receipt, or `None` when it would not fit in 40 lines (then write the HTML report and call
/// again with `info.report` set to get the short form).
#[must_use]
pub fn receipt(outcome: &Outcome, style: &Style, info: &RunInfo) -> Option<String> {
    let mut lines = header(outcome, style);
    let plan = &outcome.plan;
    lines.push(verdict_line(plan.risk, &plan.verdict, style));
    if let Some(report) = &info.report {
        lines.push(String::new());
        lines.push("Top Findings".into());
        for f in plan.findings.iter().take(3) {
            lines.push(format!(" {} {} [{}] {}", paint(mark(f.risk, style.ascii).0, f.risk, style), f.pos, f.rule, f.message));
        }
        lines.push(String::new());
        let written = if info.dry_run { "dry run: nothing written" } else { "files written" };
        lines.push(format!("Full plan ({} steps, {written}): {report}", plan.steps.len()));
        return Some(finish(lines, style));
    }
    lines.push(String::new());
    lines.push(if info.dry_run { "Deployment Sequence (dry run: nothing written)".into() } else { "Deployment Sequence".into() });
    for s in &plan.steps {
        if s.phase == Phase::Code {
            lines.push(format!(" {}. code deploy — {}", s.n, s.title));
            if let Some(refs) = super::top_refs(plan) {
                lines.push(format!("    code to update: {refs}"));
            }
        } else {
            lines.push(format!(" {}. {}", s.n, step_target(s)));
            let m = paint(mark(s.risk, style.ascii).0, s.risk, style);
            lines.push(format!("    {} — {m} {}, {}", s.title, s.lock.name(), s.duration));
        }
    }
    lines.push(String::new());
    lines.push("Rollback".into());
    for s in plan.steps.iter().rev() {
        let (risk, word) = if s.rollback_data_loss { (Risk::Dangerous, "data lost") } else { (Risk::Info, "no loss") };
        let tail =
            if s.phase == Phase::Code { String::new() } else { format!(" — {} {word}", paint(mark(risk, style.ascii).0, risk, style)) };
        lines.push(format!(" {} → {}{tail}", s.n, s.rollback));
    }
    if !plan.notes.is_empty() || !outcome.warnings.is_empty() {
        lines.push(String::new());
        lines.push("Notes".into());
        let dot = paint(mark(Risk::Info, style.ascii).0, Risk::Info, style);
        for n in &plan.notes {
            lines.push(format!(" {dot} {n}"));
        }
        for w in &outcome.warnings {
            lines.push(format!(" {dot} skipped {}: {}", w.path, w.message));
        }
    }
    lines.push(String::new());
    lines.push("Pre-Deploy Checklist".into());
    for c in &plan.checklist {
        lines.push(format!(" [ ] {c}"));
    }
    (lines.len() <= RECEIPT_MAX_LINES).then(|| finish(lines, style))
}

fn finish(lines: Vec<String>, style: &Style) -> String {
    let mut out = String::new();
    for l in lines {
        // Masked before truncation: a cut secret would no longer look like one.
        out.push_str(&truncate(&mask_secrets(&l)));
        out.push('\n');
    }
    if style.ascii {
        out = out.replace('→', "->").replace('—', "-").replace('…', "...").replace('│', "|").replace('▲', "!");
        out = out.chars().map(|c| if c.is_ascii() { c } else { '?' }).collect();
    }
    out
}

/// Cuts a line to 100 visible columns (ANSI escapes do not count).
fn truncate(line: &str) -> String {
    let mut visible = 0;
    let mut out = String::new();
    let mut in_escape = false;
    for ch in line.chars() {
        if ch == '\u{1b}' {
            in_escape = true;
        }
        if in_escape {
            out.push(ch);
            if ch == 'm' {
                in_escape = false;
            }
            continue;
        }
        if visible == MAX_COLS - 1 && line.chars().count() > MAX_COLS {
            out.push('…');
            if line.contains('\u{1b}') {
                out.push_str("\u{1b}[0m");
            }
            return out;
        }
        out.push(ch);
        visible += 1;
    }
    out
}

fn paint(text: &str, risk: Risk, style: &Style) -> String {
    if !style.color {
        return text.to_string();
    }
    let code = match risk {
        Risk::Dangerous => "31",
        Risk::Risky => "33",
        Risk::Info => "34",
        Risk::Safe => "32",
        Risk::Unknown => "35",
    };
    format!("\u{1b}[1;{code}m{text}\u{1b}[0m")
}

fn verdict_line(risk: Risk, verdict: &str, style: &Style) -> String {
    let (m, word) = mark(risk, style.ascii);
    format!("{} {verdict}", paint(&format!("{m} {word} "), risk, style))
}

fn header(outcome: &Outcome, style: &Style) -> Vec<String> {
    let (tl, tr, bl, br, h, v) = if style.ascii { ('+', '+', '+', '+', '-', '|') } else { ('┌', '┐', '└', '┘', '─', '│') };
    let plan = &outcome.plan;
    let stats = format!(
        " Steps: {} {v} Type: {} {v} Engine: postgres {} {v} Tool: {} ",
        plan.steps.len(),
        plan.kind.label(),
        outcome.pg.0,
        outcome.detection.tool
    );
    let stats_len = stats.chars().count();
    let mut title = change_title(outcome);
    let budget = MAX_COLS - 2 - " Migration:  ".len() - 2;
    if title.chars().count() > budget {
        title = title.chars().take(budget - 1).collect::<String>() + "…";
    }
    let label = format!("{h} Migration: {title} ");
    let width = stats_len.max(label.chars().count() + 1);
    vec![
        format!("{tl}{label}{}{tr}", h.to_string().repeat(width - label.chars().count())),
        format!("{v}{stats}{}{v}", " ".repeat(width - stats_len)),
        format!("{bl}{}{br}", h.to_string().repeat(width)),
    ]
}
