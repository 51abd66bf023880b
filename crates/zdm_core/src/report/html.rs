//! The self-contained HTML report: inline CSS, no scripts, no network, every value escaped (minijinja
//! auto-escapes templates whose name ends in `.html`).

use super::{RunInfo, change_title, mark, step_target};
use crate::model::{SchemaSource, mask_secrets};
use crate::pipeline::Outcome;
use crate::rules;
use minijinja::{Environment, context};

const TEMPLATE: &str = include_str!("report.html");

/// The report for a plan. `generated_at` is shown as given (the CLI passes the time; tests a constant).
#[must_use]
pub fn html_report(outcome: &Outcome, info: &RunInfo, generated_at: &str) -> String {
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE).expect("the report template parses");
    // Secrets are masked in each value before it is escaped: escaping first turns `://` into
    // `:&#x2f;&#x2f;` and `'` into `&#x27;`, which no masking pattern recognises afterwards.
    env.set_formatter(|out, state, value| {
        let masked = value.as_str().map(mask_secrets);
        let value = masked.map_or_else(|| value.clone(), minijinja::Value::from);
        minijinja::escape_formatter(out, state, &value)
    });
    let plan = &outcome.plan;
    let steps: Vec<_> = plan
        .steps
        .iter()
        .map(|s| {
            context! {
                n => s.n,
                phase => format!("{:?}", s.phase).to_lowercase(),
                target => step_target(s),
                title => s.title,
                transaction => s.transaction,
                up => s.up,
                down => s.down,
                lock => s.lock.name(),
                duration => s.duration,
                rollback => s.rollback,
                loss => s.rollback_data_loss,
                mark => mark(s.risk, false).0,
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
                pos => c.op.pos.to_string(),
                kind => c.op.kind.name(),
                risk => format!("{:?}", c.risk).to_lowercase(),
                mark => mark(c.risk, false).0,
                lock => c.lock.name(),
                rewrite => format!("{:?}", c.rewrite).to_lowercase(),
                findings => c.findings.iter().map(|f| {
                    let meta = rules::meta_of(f);
                    context! { rule => f.rule, name => f.name, message => f.message, help => f.help, strategy => meta.strategy, versions => meta.versions }
                }).collect::<Vec<_>>(),
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
    let (m, word) = mark(plan.risk, false);
    env.get_template("report.html")
        .and_then(|t| {
            t.render(context! {
                title => change_title(outcome),
                verdict => plan.verdict,
                verdict_mark => m,
                verdict_word => word,
                risk => format!("{:?}", plan.risk).to_lowercase(),
                kind => plan.kind.label(),
                tool => outcome.detection.tool,
                dir => outcome.detection.dir,
                evidence => outcome.detection.evidence,
                pg => outcome.pg.0,
                schema => schema,
                notes => plan.notes,
                warnings => outcome.warnings.iter().map(|w| format!("{}: {}", w.path, w.message)).collect::<Vec<_>>(),
                ops => ops,
                steps => steps,
                checklist => plan.checklist,
                deploys => plan.deploys,
                dry_run => info.dry_run,
                generated_at => generated_at,
            })
        })
        .expect("the report template renders")
}
