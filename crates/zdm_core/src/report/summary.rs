//! One source of truth for what the receipt, the JSON, the Markdown and the HTML report say: every count,
//! order and mark derived from the plan once. The renderers only lay it out.

use super::estimate::{self, Estimate, Work};
use super::{change_title, step_target};
use crate::model::{ConstraintKind, LockLevel, Risk, quote_ident};
use crate::op::OpKind;
use crate::pipeline::Outcome;
use crate::plan::{Phase, Step};
use crate::rules::{self, Finding};

/// How a rollback leaves the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Nothing is lost.
    None,
    /// Data written since the step is lost.
    Lost,
    /// zdm cannot roll it back: a human must.
    Manual,
}

impl Loss {
    /// The mark's risk and its word.
    #[must_use]
    pub fn mark(self) -> (Risk, &'static str) {
        match self {
            Loss::None => (Risk::Info, "no loss"),
            Loss::Lost => (Risk::Dangerous, "data lost"),
            Loss::Manual => (Risk::Unknown, "manual"),
        }
    }
}

/// What is said about one step.
#[derive(Clone, Debug)]
pub struct StepFacts {
    /// 1-based position.
    pub n: usize,
    /// The step as planned.
    pub step: Step,
    /// File name or `code deploy`.
    pub target: String,
    /// Mark shown beside the step: never ✔ beside a lock that blocks anything.
    pub mark: Risk,
    /// The lock's name, or `lock unknown`.
    pub lock: String,
    /// How long the lock is held, or `unknown`.
    pub hold: String,
    /// Estimated duration.
    pub estimate: Estimate,
    /// The table whose rows the duration scales with.
    pub table: Option<String>,
    /// Rollback data mark.
    pub loss: Loss,
    /// Which deploy the step belongs to (0 = before the first code deploy).
    pub stage: usize,
}

/// A finding with where it is, in words.
#[derive(Clone, Debug)]
pub struct FindingFacts {
    /// The finding.
    pub finding: Finding,
    /// `statement 2, line 3`.
    pub at: String,
    /// The user must act on it (counts towards the verdict and is at least RISKY).
    pub action: bool,
}

/// Everything the renderers say, computed once.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Title of the change.
    pub title: String,
    /// Number of steps.
    pub steps: usize,
    /// Number of migration files (steps that are not code deploys).
    pub files: usize,
    /// Number of application (code) deploys.
    pub code_deploys: usize,
    /// The deploy shape: `migrations 1–3 → code deploy → migrations 5–6`.
    pub shape: String,
    /// Per step.
    pub rows: Vec<StepFacts>,
    /// Findings, what needs action first, then by severity.
    pub findings: Vec<FindingFacts>,
    /// Pre-deploy checklist: the plan's lines, then step-specific checks with their query.
    pub checklist: Vec<String>,
}

impl Summary {
    /// Derives the summary of `outcome`.
    #[must_use]
    pub fn of(outcome: &Outcome) -> Summary {
        let plan = &outcome.plan;
        let tables: Vec<String> = outcome.analysis.ops.iter().filter_map(|c| c.op.kind.table().map(|t| t.key())).collect();
        let mut stage = 0;
        let rows: Vec<StepFacts> = plan
            .steps
            .iter()
            .map(|s| {
                if s.phase == Phase::Code {
                    stage += 1;
                }
                let table = table_of(s, &tables);
                let rows = table.as_ref().and_then(|t| outcome.config.stats.get(t)).map(|st| st.rows);
                let estimate = estimate::estimate(s, rows);
                let unknown = estimate.work == Work::Unknown;
                let loss = if s.down.contains("cannot be undone") || s.rollback.starts_with("cannot be undone") {
                    Loss::Manual
                } else if s.rollback_data_loss {
                    Loss::Lost
                } else {
                    Loss::None
                };
                let mark = if s.risk == Risk::Safe && s.lock > LockLevel::RowExclusive { Risk::Info } else { s.risk };
                StepFacts {
                    n: s.n,
                    step: s.clone(),
                    target: step_target(s),
                    mark,
                    lock: if unknown { "lock unknown".into() } else { s.lock.name().to_string() },
                    hold: if unknown { "unknown".into() } else { s.duration.clone() },
                    estimate,
                    table,
                    loss,
                    stage: if s.phase == Phase::Code { stage - 1 } else { stage },
                }
            })
            .collect();
        let code_deploys = plan.steps.iter().filter(|s| s.phase == Phase::Code).count();
        let findings = ordered_findings(outcome);
        let mut checklist = plan.checklist.clone();
        checklist.extend(step_checks(outcome, &rows));
        Summary {
            title: change_title(outcome),
            steps: plan.steps.len(),
            files: plan.steps.len() - code_deploys,
            code_deploys,
            shape: shape(&plan.steps),
            rows,
            findings,
            checklist,
        }
    }

    /// Steps grouped by deploy: migrations before the first code deploy, the code deploy, and so on.
    #[must_use]
    pub fn groups(&self) -> Vec<(String, Vec<&StepFacts>)> {
        let mut out: Vec<(String, Vec<&StepFacts>)> = Vec::new();
        for r in &self.rows {
            let label = if r.step.phase == Phase::Code {
                format!("Code deploy (step {})", r.n)
            } else if r.stage == 0 {
                if self.code_deploys == 0 { "Database migrations".into() } else { "Before the code deploy".into() }
            } else {
                "After every instance runs the new code".into()
            };
            match out.last_mut() {
                Some((l, v)) if *l == label => v.push(r),
                _ => out.push((label, vec![r])),
            }
        }
        out
    }
}

/// The table a step works on: the first table of the change its SQL names.
fn table_of(step: &Step, tables: &[String]) -> Option<String> {
    let up = step.up.to_lowercase();
    tables
        .iter()
        .find(|t| {
            let name = t.rsplit('.').next().unwrap_or(t);
            up.match_indices(name).any(|(i, _)| {
                let before = up[..i].chars().next_back();
                let after = up[i + name.len()..].chars().next();
                let word = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                word(before) && word(after)
            })
        })
        .cloned()
        .or_else(|| tables.first().cloned())
}

/// `migrations 1–3 → code deploy → migrations 5–6` (runs of file steps between code deploys).
#[must_use]
pub fn shape(steps: &[Step]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut run: Vec<usize> = Vec::new();
    let flush = |run: &mut Vec<usize>, parts: &mut Vec<String>| {
        match run.as_slice() {
            [] => {}
            [one] => parts.push(format!("migration {one}")),
            [first, .., last] => parts.push(format!("migrations {first}–{last}")),
        }
        run.clear();
    };
    for s in steps {
        if s.phase == Phase::Code {
            flush(&mut run, &mut parts);
            parts.push(format!("code deploy ({})", s.n));
        } else {
            run.push(s.n);
        }
    }
    flush(&mut run, &mut parts);
    parts.join(" → ")
}

fn ordered_findings(outcome: &Outcome) -> Vec<FindingFacts> {
    let statements = &outcome.analysis.statements;
    let mut out: Vec<FindingFacts> = outcome
        .plan
        .findings
        .iter()
        .map(|f| {
            let n = statements.iter().filter(|s| (s.pos.line, s.pos.col) <= (f.pos.line, f.pos.col)).count().max(1);
            let action = rules::counts(f) && f.risk >= Risk::Risky;
            FindingFacts { finding: f.clone(), at: format!("statement {n}, line {}", f.pos.line), action }
        })
        .collect();
    // Stable: action first, then counted ones, then by severity.
    out.sort_by_key(|f| (!f.action, !rules::counts(&f.finding), std::cmp::Reverse(f.finding.risk.severity())));
    out
}

/// Step-specific checks with the exact query to run, and a line for every rollback that needs a human.
fn step_checks(outcome: &Outcome, rows: &[StepFacts]) -> Vec<String> {
    let mut out = Vec::new();
    let validate_step =
        |name: &str| rows.iter().find(|r| r.step.up.contains("VALIDATE CONSTRAINT") && r.step.up.contains(name)).map(|r| r.n);
    for c in &outcome.analysis.ops {
        match &c.op.kind {
            OpKind::SetNotNull { table, column } => {
                let before = rows.iter().find(|r| r.step.up.contains("VALIDATE CONSTRAINT")).map(|r| r.n);
                let when = before.map_or_else(|| "Before running".to_string(), |n| format!("Before step {n}"));
                out.push(format!("{when}: SELECT count(*) FROM {} WHERE {} IS NULL; must return 0", table.sql(), quote_ident(column)));
            }
            OpKind::AddConstraint { table, constraint } => {
                let name = crate::schema::constraint_name_of(table, constraint);
                let when = validate_step(&name).map_or_else(|| "Before running".to_string(), |n| format!("Before step {n}"));
                let cols = |v: &[String]| v.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
                match &constraint.kind {
                    ConstraintKind::Check { expr } => {
                        out.push(format!("{when}: SELECT count(*) FROM {} WHERE NOT ({expr}); must return 0", table.sql()));
                    }
                    ConstraintKind::Unique { columns } | ConstraintKind::PrimaryKey { columns } => out.push(format!(
                        "Before the index build: SELECT {c}, count(*) FROM {} GROUP BY {c} HAVING count(*) > 1 LIMIT 5; no rows",
                        table.sql(),
                        c = cols(columns)
                    )),
                    ConstraintKind::ForeignKey { columns, ref_table, ref_columns } if columns.len() == 1 && ref_columns.len() <= 1 => {
                        let rc = ref_columns.first().map_or_else(|| "id".to_string(), |c| quote_ident(c));
                        out.push(format!(
                            "{when}: SELECT count(*) FROM {} c WHERE c.{col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {} p WHERE p.{rc} = c.{col}); must return 0",
                            table.sql(),
                            ref_table.sql(),
                            col = quote_ident(&columns[0])
                        ));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    for r in rows.iter().filter(|r| r.loss == Loss::Manual) {
        out.push(format!("Step {} has no automatic rollback ({}): plan the way back by hand", r.n, r.step.rollback));
    }
    out.dedup();
    out
}
