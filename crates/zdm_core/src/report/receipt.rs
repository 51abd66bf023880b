//! The terminal receipt: box header, verdict, deployment sequence (lock and estimated duration per step),
//! rollback, what needs action, notes, checklist, and the report path as the last line. At most
//! [`RECEIPT_MAX_LINES`] lines, as wide as the terminal (60 to 100 columns); text wraps at word boundaries
//! with an indent and is never cut. When the full receipt would be longer, the short form keeps the header,
//! the verdict, the deploy shape in three lines, the top 3 findings and the report path.

use super::summary::Summary;
use super::{RunInfo, Style, mark};
use crate::model::{Risk, mask_secrets};
use crate::pipeline::Outcome;
use crate::plan::Phase;
use unicode_width::UnicodeWidthStr;

/// Hard limit on receipt lines.
pub const RECEIPT_MAX_LINES: usize = 40;
/// Narrowest receipt.
pub const MIN_WIDTH: usize = 60;
/// Widest receipt.
pub const MAX_WIDTH: usize = 100;

/// The full receipt when it fits in 40 lines, else `None`.
#[must_use]
pub fn full_receipt(outcome: &Outcome, style: &Style, info: &RunInfo) -> Option<String> {
    let lines = full_lines(outcome, &Summary::of(outcome), style, info);
    (lines.len() <= RECEIPT_MAX_LINES).then(|| finish(lines, style))
}

/// The receipt: the full one when it fits in 40 lines, else the short form (which names the report).
#[must_use]
pub fn receipt(outcome: &Outcome, style: &Style, info: &RunInfo) -> String {
    let summary = Summary::of(outcome);
    let lines = full_lines(outcome, &summary, style, info);
    if lines.len() <= RECEIPT_MAX_LINES {
        return finish(lines, style);
    }
    finish(short_lines(outcome, &summary, style, info), style)
}

/// The receipt fits in 40 lines at this width (else the short form is printed and a report is needed).
#[must_use]
pub fn receipt_fits(outcome: &Outcome, style: &Style, info: &RunInfo) -> bool {
    full_lines(outcome, &Summary::of(outcome), style, info).len() <= RECEIPT_MAX_LINES
}

fn width(style: &Style) -> usize {
    if style.width == 0 { MAX_WIDTH } else { style.width.clamp(MIN_WIDTH, MAX_WIDTH) }
}

fn full_lines(outcome: &Outcome, summary: &Summary, style: &Style, info: &RunInfo) -> Vec<String> {
    let w = width(style);
    let plan = &outcome.plan;
    let mut lines = header(summary, outcome, style);
    lines.extend(verdict_lines(plan.risk, &plan.verdict, style));
    lines.push(String::new());
    lines.push(if info.dry_run { "Deployment Sequence (dry run: nothing written)".into() } else { "Deployment Sequence".into() });
    // The code references go under the last code deploy: the one before the steps that remove names.
    let last_code = summary.rows.iter().rposition(|r| r.step.phase == Phase::Code);
    for (i, r) in summary.rows.iter().enumerate() {
        if r.step.phase == Phase::Code {
            lines.extend(wrap(&format!("code deploy — {}", r.step.title), &format!(" {}. ", r.n), "    ", w));
            for c in &r.step.orm_changes {
                lines.extend(wrap(c, "    ", "      ", w));
            }
            if let Some(refs) = super::top_refs(plan).filter(|_| Some(i) == last_code) {
                lines.extend(wrap(&format!("code to update: {refs}"), "    ", "      ", w));
            }
        } else {
            lines.extend(wrap(&r.target, &format!(" {}. ", r.n), "    ", w));
            let m = paint(mark(r.mark, style.ascii).0, r.mark, style);
            // A brief lock says so once; anything else states its estimate.
            let text = if r.estimate.work == super::estimate::Work::Brief {
                format!("{} — {m} {}, {}", r.step.title, r.lock, r.hold)
            } else {
                format!("{} — {m} {}, {} · {}", r.step.title, r.lock, r.hold, r.estimate.text)
            };
            lines.extend(wrap(&text, "    ", "      ", w));
        }
    }
    lines.push(String::new());
    lines.push("Rollback".into());
    // Steps whose rollback reads the same (`nothing to undo`) share one line.
    let mut rollbacks: Vec<(Vec<usize>, String)> = Vec::new();
    for r in summary.rows.iter().rev() {
        let tail = if r.step.phase == Phase::Code {
            String::new()
        } else {
            let (risk, word) = r.loss.mark();
            format!(" — {} {word}", paint(mark(risk, style.ascii).0, risk, style))
        };
        let text = format!("{}{tail}", r.step.rollback);
        match rollbacks.iter_mut().find(|(_, t)| *t == text && r.step.rollback == "nothing to undo") {
            Some((ns, _)) => ns.push(r.n),
            None => rollbacks.push((vec![r.n], text)),
        }
    }
    for (ns, text) in rollbacks {
        let ns: Vec<String> = ns.iter().map(ToString::to_string).collect();
        lines.extend(wrap(&format!("{} → {text}", ns.join(", ")), " ", "     ", w));
    }
    // What needs action and is not already the verdict.
    let actions: Vec<_> = summary.findings.iter().filter(|f| f.action && !plan.verdict.contains(&f.finding.message)).take(3).collect();
    if !actions.is_empty() {
        lines.push(String::new());
        lines.push("Needs Action".into());
        for f in actions {
            lines.extend(finding_lines(f, style, w));
        }
    }
    if !plan.notes.is_empty() || !outcome.warnings.is_empty() {
        lines.push(String::new());
        lines.push("Notes".into());
        let dot = paint(mark(Risk::Info, style.ascii).0, Risk::Info, style);
        for n in &plan.notes {
            lines.extend(wrap(n, &format!(" {dot} "), "   ", w));
        }
        for warning in &outcome.warnings {
            lines.extend(wrap(&format!("skipped {}: {}", warning.path, warning.message), &format!(" {dot} "), "   ", w));
        }
    }
    lines.push(String::new());
    lines.push("Pre-Deploy Checklist".into());
    for c in &summary.checklist {
        lines.extend(wrap(c, " [ ] ", "     ", w));
    }
    if let Some(report) = &info.report {
        lines.extend(report_lines(report, style));
    }
    lines
}

fn short_lines(outcome: &Outcome, summary: &Summary, style: &Style, info: &RunInfo) -> Vec<String> {
    let w = width(style);
    let plan = &outcome.plan;
    let mut lines = header(summary, outcome, style);
    lines.extend(verdict_lines(plan.risk, &plan.verdict, style));
    lines.push(String::new());
    let written = if info.dry_run { "dry run: nothing written" } else { "files written" };
    lines.push(format!("Deployment Sequence ({} steps, {written})", summary.steps));
    lines.extend(wrap(&summary.shape, " ", "   ", w));
    lines.push(" each step's lock, duration and SQL: in the report".into());
    lines.push(String::new());
    lines.push("Top Findings".into());
    for f in summary.findings.iter().take(3) {
        lines.extend(finding_lines(f, style, w));
    }
    lines.push(String::new());
    lines.extend(report_lines(info.report.as_deref().unwrap_or("no report written (rerun with --report)"), style));
    lines
}

fn finding_lines(f: &super::summary::FindingFacts, style: &Style, w: usize) -> Vec<String> {
    let m = paint(mark(f.finding.risk, style.ascii).0, f.finding.risk, style);
    let text = format!("{} {} ({}): {}; zdm explain {}", f.finding.rule, f.finding.name, f.at, f.finding.message, f.finding.rule);
    wrap(&text, &format!(" {m} "), "   ", w)
}

/// `Report: path` (the path alone on the last line when both do not fit: a path is never split), the
/// path an OSC 8 hyperlink when the terminal supports one.
fn report_lines(report: &str, style: &Style) -> Vec<String> {
    let shown = match &style.link {
        Some(url) => format!("\u{1b}]8;;{url}\u{1b}\\{report}\u{1b}]8;;\u{1b}\\"),
        None => report.to_string(),
    };
    if visible_width(report) + "Report: ".len() <= width(style) {
        vec![format!("Report: {shown}")]
    } else {
        vec!["Report:".to_string(), shown]
    }
}

/// Visible width: ANSI colour and OSC 8 sequences count for nothing, wide characters for two.
#[must_use]
pub fn visible_width(line: &str) -> usize {
    UnicodeWidthStr::width(strip_escapes(line).as_str())
}

fn strip_escapes(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            Some(']') => {
                // OSC … ST (ESC \).
                while let Some(c) = chars.next() {
                    if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Wraps `text` at word boundaries to `width` columns: the first line after `first`, the others after
/// `rest`. A word longer than a whole line is split (never cut).
#[must_use]
pub fn wrap(text: &str, first: &str, rest: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let sep = usize::from(!empty);
        if !empty && visible_width(&line) + sep + visible_width(word) > width {
            lines.push(line);
            line = rest.to_string();
            empty = true;
        }
        let mut word = word.to_string();
        // A word wider than the room left on an empty line is split at the line's end.
        while empty && visible_width(&line) + visible_width(&word) > width {
            let room = width.saturating_sub(visible_width(&line)).max(1);
            let (head, tail) = split_at_width(&word, room);
            line.push_str(&head);
            lines.push(line);
            line = rest.to_string();
            word = tail;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(&word);
        empty = false;
    }
    lines.push(line);
    lines
}

fn split_at_width(word: &str, room: usize) -> (String, String) {
    let mut head = String::new();
    let mut used = 0;
    let mut chars = word.chars();
    for c in chars.by_ref() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + cw > room && !head.is_empty() {
            return (head, std::iter::once(c).chain(chars).collect());
        }
        head.push(c);
        used += cw;
    }
    (head, String::new())
}

fn finish(lines: Vec<String>, style: &Style) -> String {
    let mut out = String::new();
    for l in lines {
        out.push_str(&mask_secrets(&l));
        out.push('\n');
    }
    if style.ascii {
        out = out.replace('→', "->").replace(['—', '–', '·'], "-").replace('…', "...").replace('│', "|").replace('▲', "!");
        out = out.chars().map(|c| if c.is_ascii() { c } else { '?' }).collect();
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

/// The verdict, never cut: wrapped under its mark.
fn verdict_lines(risk: Risk, verdict: &str, style: &Style) -> Vec<String> {
    let (m, word) = mark(risk, style.ascii);
    let head = paint(&format!("{m} {word} "), risk, style);
    let indent = " ".repeat(visible_width(&format!("{m} {word}  ")));
    wrap(verdict, &format!("{head} "), &indent, width(style))
}

/// The box: title (wrapped inside the box when long), then the counts line.
fn header(summary: &Summary, outcome: &Outcome, style: &Style) -> Vec<String> {
    let (tl, tr, bl, br, h, v) = if style.ascii { ('+', '+', '+', '+', '-', '|') } else { ('┌', '┐', '└', '┘', '─', '│') };
    let plan = &outcome.plan;
    let max = width(style);
    let deploys = match summary.code_deploys {
        1 => "1 code deploy".to_string(),
        n => format!("{n} code deploys"),
    };
    let mut segments = vec![format!("Steps: {}", summary.steps)];
    if summary.code_deploys > 0 {
        segments.push(deploys);
    }
    segments.push(format!("Type: {}", plan.kind.label()));
    segments.push(format!("Engine: postgres {}", outcome.pg.0));
    segments.push(format!("Tool: {}", outcome.detection.tool));
    // Whole segments per line, joined by the box's bar.
    let mut stats_lines: Vec<String> = Vec::new();
    for seg in segments {
        match stats_lines.last_mut() {
            Some(l) if visible_width(l) + 3 + visible_width(&seg) < max - 2 => *l = format!("{l} {v} {seg}"),
            _ => stats_lines.push(format!(" {seg}")),
        }
    }
    let title_room = max - 2;
    let title = format!("Migration: {}", summary.title);
    let mut title_lines = wrap(&title, "", "  ", title_room - 3);
    let first = title_lines.remove(0);
    let label = format!("{h} {first} ");
    let inner = stats_lines
        .iter()
        .map(|l| visible_width(l) + 1)
        .chain(std::iter::once(visible_width(&label) + 1))
        .chain(title_lines.iter().map(|l| visible_width(l) + 2))
        .max()
        .unwrap_or(0)
        .min(max - 2);
    let pad = |s: &str| format!("{v}{s}{}{v}", " ".repeat(inner.saturating_sub(visible_width(s))));
    let mut out = vec![format!("{tl}{label}{}{tr}", h.to_string().repeat(inner.saturating_sub(visible_width(&label))))];
    out.extend(title_lines.iter().map(|l| pad(&format!(" {l}"))));
    out.extend(stats_lines.iter().map(|l| pad(l)));
    out.push(format!("{bl}{}{br}", h.to_string().repeat(inner)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_words_and_splits_only_overlong_words() {
        assert_eq!(wrap("aa bb cc", "> ", "  ", 7), vec!["> aa bb", "  cc"]);
        assert_eq!(wrap("abcdefghij", "", "", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(visible_width("\u{1b}[1;31m✖\u{1b}[0m 用户"), 6);
        assert_eq!(visible_width("\u{1b}]8;;file:///x\u{1b}\\x\u{1b}]8;;\u{1b}\\"), 1);
    }
}
