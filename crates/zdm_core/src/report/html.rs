//! The self-contained HTML report: inline CSS and SVG, no scripts, no network, every value escaped
//! (minijinja auto-escapes templates whose name ends in `.html`; the timeline SVG holds only numbers and
//! fixed words). Responsive (cards under 640 px) and printable (every collapsed section expanded).

use super::estimate::Work;
use super::summary::{Loss, StepFacts, Summary};
use super::{RunInfo, mark};
use crate::model::{LockLevel, SchemaSource, mask_secrets};
use crate::pipeline::Outcome;
use crate::plan::Phase;
use crate::rules;
use minijinja::{Environment, context};
use std::fmt::Write as _;

const TEMPLATE: &str = include_str!("report.html");

/// A minijinja environment holding one `.html` template (so values are escaped) whose values have their
/// secrets masked before they are escaped: escaping first turns `://` into `:&#x2f;&#x2f;` and `'` into
/// `&#x27;`, which no masking pattern recognises afterwards. Safe values (an SVG chart of numbers and fixed
/// words) are passed through.
pub(super) fn masked_environment(name: &'static str, source: &'static str) -> Environment<'static> {
    let mut env = Environment::new();
    env.add_template(name, source).expect("the report template parses");
    env.set_formatter(|out, state, value| {
        let masked = value.as_str().filter(|_| !value.is_safe()).map(mask_secrets);
        let value = masked.map_or_else(|| value.clone(), minijinja::Value::from);
        minijinja::escape_formatter(out, state, &value)
    });
    env
}

/// The report for a plan. `generated_at` is shown as given (the CLI passes the time; tests a constant).
#[must_use]
pub fn html_report(outcome: &Outcome, info: &RunInfo, generated_at: &str) -> String {
    let env = masked_environment("report.html", TEMPLATE);
    let plan = &outcome.plan;
    let summary = Summary::of(outcome);
    let step_ctx = |r: &StepFacts| {
        let s = &r.step;
        let (loss_risk, loss) = r.loss.mark();
        context! {
            n => s.n,
            code => s.phase == Phase::Code,
            phase => phase_words(s.phase),
            target => r.target,
            title => s.title,
            transaction => s.transaction,
            up => s.up,
            down => s.down,
            down_transaction => s.down_transaction,
            lock => r.lock,
            lock_class => lock_class(r),
            hold => r.hold,
            estimate => r.estimate.text,
            rollback => s.rollback,
            loss => loss,
            loss_class => match r.loss { Loss::None => "info", Loss::Lost => "dangerous", Loss::Manual => "unknown" },
            loss_mark => mark(loss_risk, false).0,
            mark => mark(r.mark, false).0,
            risk => format!("{:?}", r.mark).to_lowercase(),
            runbook => runbook(r),
            reconnect => s.reconnect,
            orm_changes => s.orm_changes,
        }
    };
    let groups: Vec<_> = summary
        .groups()
        .into_iter()
        .map(|(label, rows)| context! { label => label, steps => rows.into_iter().map(step_ctx).collect::<Vec<_>>() })
        .collect();
    let steps: Vec<_> = summary.rows.iter().map(step_ctx).collect();
    let findings: Vec<_> = summary
        .findings
        .iter()
        .map(|ff| {
            let f = &ff.finding;
            let meta = rules::meta_of(f);
            context! {
                rule => f.rule, name => f.name, message => f.message, help => f.help, at => ff.at,
                action => ff.action, suppressed => f.suppressed,
                mark => mark(f.risk, false).0, risk => format!("{:?}", f.risk).to_lowercase(),
                lock => meta.lock.name(), versions => meta.versions,
                doc => rules::rule(f.rule).map(rules::doc).unwrap_or_default(),
            }
        })
        .collect();
    let ops: Vec<_> = outcome
        .analysis
        .ops
        .iter()
        .map(|c| {
            context! {
                sql => c.op.sql,
                kind => c.op.kind.name().replace('_', " "),
                risk => format!("{:?}", c.risk).to_lowercase(),
                mark => mark(c.risk, false).0,
                lock => if c.risk == crate::model::Risk::Unknown { "unknown".to_string() } else { c.lock.name().to_string() },
                rewrite => format!("{:?}", c.rewrite).to_lowercase(),
            }
        })
        .collect();
    let schema = match &outcome.schema.source {
        SchemaSource::Unknown => "none found: every fact assumed".to_string(),
        SchemaSource::Dump { path } => format!("schema dump {path} ({} tables)", outcome.schema.tables.len()),
        SchemaSource::Migrations { dir, files } => {
            format!("{files} migration files replayed from {dir}/ ({} tables)", outcome.schema.tables.len())
        }
        SchemaSource::Live { database } => format!("live database {database}, read-only ({} tables)", outcome.schema.tables.len()),
    };
    let mut tables: Vec<String> = summary.rows.iter().filter_map(|r| r.table.clone()).collect();
    tables.sort();
    tables.dedup();
    let sizes: Vec<String> = tables
        .iter()
        .map(|t| match outcome.config.stats.get(t) {
            Some(s) => format!("{t}: {} rows", super::estimate::thousands(s.rows)),
            None => format!("{t}: size unknown (durations that scale with rows say so)"),
        })
        .collect();
    let (m, word) = mark(plan.risk, false);
    env.get_template("report.html")
        .and_then(|t| {
            t.render(context! {
                title => summary.title,
                verdict => plan.verdict,
                verdict_mark => m,
                verdict_word => word,
                risk => format!("{:?}", plan.risk).to_lowercase(),
                kind => kind_words(plan.kind),
                tool => outcome.detection.tool,
                dir => outcome.detection.dir,
                evidence => outcome.detection.evidence,
                pg => outcome.pg.0,
                schema => schema,
                sizes => sizes,
                notes => plan.notes,
                warnings => outcome.warnings.iter().map(|w| format!("{}: {}", w.path, w.message)).collect::<Vec<_>>(),
                ops => ops,
                groups => groups,
                steps => steps,
                findings => findings,
                checklist => summary.checklist,
                step_count => summary.steps,
                files => summary.files,
                code_deploys => summary.code_deploys,
                shape => summary.shape,
                timeline => minijinja::Value::from_safe_string(timeline(&summary)),
                zdm_new => summary.rows.iter().any(|r| r.step.up.contains("_zdm_new")),
                code_refs => plan.code_refs.iter().map(|r| context! {
                    location => r.location(), col => r.col, table => r.table, column => r.column, kind => r.kind.word(), snippet => r.snippet,
                }).collect::<Vec<_>>(),
                dry_run => info.dry_run,
                generated_at => generated_at,
                rates => rate_lines(),
            })
        })
        .expect("the report template renders")
}

fn phase_words(phase: Phase) -> &'static str {
    match phase {
        Phase::Single => "one migration",
        Phase::Expand => "expand: adds what the new code needs, old code unaffected",
        Phase::Backfill => "backfill: copies data in batches, outside a transaction",
        Phase::Code => "application deploy",
        Phase::Contract => "contract: removes what only the old code used",
    }
}

fn kind_words(kind: crate::plan::PlanType) -> &'static str {
    use crate::plan::PlanType;
    match kind {
        PlanType::Safe => "safe as one migration",
        PlanType::AsWritten => "runs as you wrote it (no safer path)",
        PlanType::Staged => "split into safer steps",
        PlanType::Backfill => "batched data backfill",
        PlanType::ExpandContract => "expand, deploy code, contract",
    }
}

fn rate_lines() -> Vec<String> {
    use super::estimate::rates;
    vec![
        format!("batched backfill: ~{} rows/s", super::estimate::thousands(rates::BACKFILL as u64)),
        format!("index build (CONCURRENTLY): ~{} rows/s", super::estimate::thousands(rates::INDEX_BUILD as u64)),
        format!("validate scan: ~{} rows/s", super::estimate::thousands(rates::VALIDATE as u64)),
        format!("vacuum after a backfill: ~{} rows/s", super::estimate::thousands(rates::VACUUM as u64)),
        format!("table rewrite as written: ~{} rows/s", super::estimate::thousands(rates::REWRITE as u64)),
    ]
}

/// What to do when a step fails.
fn runbook(r: &StepFacts) -> String {
    let s = &r.step;
    if s.phase == Phase::Code {
        return "Roll the application back to the previous release; the migrations before it stay and are compatible with it.".into();
    }
    let base = if s.up.contains("CONCURRENTLY") && s.up.contains("CREATE") {
        "A failed CONCURRENTLY build leaves an INVALID index: drop it (DROP INDEX CONCURRENTLY), then rerun the step."
    } else if s.phase == Phase::Backfill {
        "Batches committed before the failure stay; fix the cause and rerun the step: it continues where it stopped."
    } else if s.transaction {
        "The step ran in one transaction: nothing changed. On a lock timeout, rerun it later; otherwise fix the cause and rerun."
    } else {
        "The step runs outside a transaction: check what it did (its statements in order), then rerun it."
    };
    let back =
        if s.n > 1 { format!(" To go back instead: run the rollbacks of steps {}…1 in that order.", s.n - 1) } else { String::new() };
    format!("{base}{back}")
}

fn lock_class(r: &StepFacts) -> &'static str {
    if r.estimate.work == Work::Unknown {
        return "lk-unknown";
    }
    match r.step.lock {
        LockLevel::AccessExclusive => "lk-ax",
        LockLevel::Exclusive | LockLevel::ShareRowExclusive | LockLevel::Share => "lk-share",
        LockLevel::ShareUpdateExclusive => "lk-sue",
        LockLevel::None => "lk-none",
        _ => "lk-row",
    }
}

fn lock_color(class: &str) -> &'static str {
    match class {
        "lk-ax" => "#c62828",
        "lk-share" => "#ef8f00",
        "lk-sue" => "#e3c100",
        "lk-row" => "#43a047",
        "lk-unknown" => "#8e24aa",
        _ => "#9aa4b2",
    }
}

/// The timeline: a database lane and an application lane, one block per step coloured by its strongest
/// lock and as wide as its estimated duration (log scale; a step of unknown size gets a wide block with
/// a question mark), code deploys marked, and the window in which old and new code both run shaded.
fn timeline(summary: &Summary) -> String {
    let weights: Vec<f64> = summary
        .rows
        .iter()
        .map(|r| match (r.estimate.work, r.estimate.seconds) {
            (Work::Deploy, _) => 3.0,
            (Work::Brief, _) => 1.0,
            (_, Some((lo, hi))) => 1.0 + (1.0 + (lo * hi).sqrt()).ln(),
            _ => 4.0,
        })
        .collect();
    let total: f64 = weights.iter().sum::<f64>().max(1.0);
    let (x0, w, gap) = (110.0, 870.0, 4.0);
    let usable = w - gap * summary.rows.len() as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg class="timeline" viewBox="0 0 1000 150" role="img" aria-label="Deployment timeline: {} steps, {} code deploys" preserveAspectRatio="xMinYMin meet">"##,
        summary.steps, summary.code_deploys
    );
    svg.push_str(r##"<text x="4" y="47" class="lane">database</text><text x="4" y="107" class="lane">application</text>"##);
    svg.push_str(r##"<line x1="110" y1="70" x2="980" y2="70" stroke="#d8dde6"/>"##);
    let mut x = x0;
    let mut spans = Vec::new();
    for weight in &weights {
        let bw = (usable * weight / total).max(14.0);
        spans.push((x, bw));
        x += bw + gap;
    }
    // Shaded: from each code deploy to the next migration after it (old and new code run side by side).
    for (i, r) in summary.rows.iter().enumerate() {
        if r.step.phase == Phase::Code {
            let (sx, _) = spans[i];
            let end = spans.get(i + 1).map_or(980.0, |(nx, nw)| nx + nw);
            let _ = write!(
                svg,
                r##"<rect class="both" x="{sx:.1}" y="18" width="{:.1}" height="112" fill="#1e6fd9" fill-opacity="0.10"/>"##,
                end - sx
            );
        }
    }
    for (r, (bx, bw)) in summary.rows.iter().zip(&spans) {
        let code = r.step.phase == Phase::Code;
        let y = if code { 86.0 } else { 26.0 };
        let class = lock_class(r);
        let color = if code { "#1e6fd9" } else { lock_color(class) };
        let _ = write!(
            svg,
            r##"<rect class="step {class}" data-step="{n}" x="{bx:.1}" y="{y}" width="{bw:.1}" height="36" rx="4" fill="{color}"/><text x="{tx:.1}" y="{ty}" class="num" fill="{ink}">{n}{q}</text>"##,
            ink = if class == "lk-sue" && !code { "#1d2430" } else { "#fff" },
            n = r.n,
            tx = bx + bw / 2.0,
            ty = y + 23.0,
            q = if r.estimate.seconds.is_none() && !matches!(r.estimate.work, Work::Brief | Work::Deploy) { "?" } else { "" },
        );
        if code {
            let _ = write!(
                svg,
                r##"<line class="deploy" x1="{bx:.1}" y1="14" x2="{bx:.1}" y2="134" stroke="#1e6fd9" stroke-dasharray="4 3"/><text x="{bx:.1}" y="146" class="mark">deploy</text>"##
            );
        }
    }
    svg.push_str("</svg>");
    svg
}
