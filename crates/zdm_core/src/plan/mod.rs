//! Classified operations + schema + facts → an ordered plan of steps across deploys. Each step is one
//! migration file (forward and rollback) or one code deploy. Imports `model`, `op`, `schema`, `rules`, `sql`.
//!
//! Two stages: [`analyze`] walks the change against the schema (typo guard, rules, schema advanced op by
//! op); [`build`] turns each operation's strategy into step drafts, orders them by phase and numbers them.

mod recipes;
mod sqlgen;

use crate::model::{LockLevel, PgVersion, Pos, QName, Rewrite, Risk, Schema, Table, TableStats};
use crate::op::{Op, OpKind, Statement};
use crate::rules::{self, Finding, RuleCtx, Strategy};
use crate::schema;
use crate::sql::Suppression;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Settings for planning.
#[derive(Clone, Debug)]
pub struct PlanConfig {
    /// Target PostgreSQL major version.
    pub pg: PgVersion,
    /// `lock_timeout` set at the top of every transactional step.
    pub lock_timeout: String,
    /// Rows per backfill batch.
    pub batch_size: u32,
    /// Pause between backfill batches, in seconds.
    pub batch_pause: f64,
    /// Live table weights by table key, when a database was read.
    pub stats: BTreeMap<String, TableStats>,
}

impl Default for PlanConfig {
    fn default() -> Self {
        PlanConfig { pg: PgVersion::DEFAULT, lock_timeout: "2s".into(), batch_size: 5000, batch_pause: 0.05, stats: BTreeMap::new() }
    }
}

/// A change zdm refuses to plan: a typo against a known schema, or a staged change missing a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError {
    /// What is wrong.
    pub message: String,
    /// Where, in the change text.
    pub pos: Pos,
    /// How to fix it.
    pub help: Option<String>,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.message, self.pos)
    }
}

impl std::error::Error for PlanError {}

/// One operation with what the rules found.
#[derive(Clone, Debug, Serialize)]
pub struct Classified {
    /// The operation.
    pub op: Op,
    /// Lock it takes as written.
    pub lock: LockLevel,
    /// Rewrite / scan as written.
    pub rewrite: Rewrite,
    /// Worst risk found (Safe when no rule fired).
    pub risk: Risk,
    /// What the rules found, most severe first.
    pub findings: Vec<Finding>,
    /// The recipe the planner uses.
    pub strategy: Strategy,
    /// Catalogue ID of the deciding rule, if any.
    pub rule: Option<&'static str>,
    /// The table as it was just before this operation.
    #[serde(skip)]
    pub table_before: Option<Table>,
}

/// The result of walking a change against the schema.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// Statements as parsed.
    pub statements: Vec<Statement>,
    /// Every operation, classified, in change order.
    pub ops: Vec<Classified>,
    /// The schema before the change.
    pub before: Schema,
    /// Facts zdm assumed because nothing said otherwise.
    pub assumptions: Vec<String>,
}

/// Where a step sits in the rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// A safe change, applied as one file.
    Single,
    /// Adds structure; compatible with the running code.
    Expand,
    /// Copies data in batches.
    Backfill,
    /// An application deploy; no file.
    Code,
    /// Removes what the old code needed.
    Contract,
}

/// One step of a plan.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// 1-based position.
    pub n: usize,
    /// Rollout phase.
    pub phase: Phase,
    /// What the step does, short (`add full_name + sync trigger`).
    pub title: String,
    /// Slug for the file name (`expand_users_full_name`).
    pub slug: String,
    /// File written for it (set by the tool writer; None for a code deploy).
    pub file: Option<String>,
    /// Runs inside a transaction.
    pub transaction: bool,
    /// Forward SQL.
    pub up: String,
    /// Rollback SQL.
    pub down: String,
    /// Strongest table lock the forward SQL takes.
    pub lock: LockLevel,
    /// How long that lock is held (`brief`, `row locks only`, `whole scan, reads and writes go on`).
    pub duration: String,
    /// What the rollback does.
    pub rollback: String,
    /// Rolling this step back loses data.
    pub rollback_data_loss: bool,
    /// Risk of running this step at its place in the plan (drives the receipt's mark).
    pub risk: Risk,
}

/// The kind of plan, for the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanType {
    /// Everything runs as one safe file.
    Safe,
    /// Runs as written: no staged path exists (or zdm cannot tell), and it is not safe.
    AsWritten,
    /// Staged steps without a code deploy (concurrent builds, NOT VALID + VALIDATE…).
    Staged,
    /// A data backfill in batches.
    Backfill,
    /// Expand → backfill → code deploy → contract.
    ExpandContract,
}

impl PlanType {
    /// Header word.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            PlanType::Safe => "safe",
            PlanType::AsWritten => "as-written",
            PlanType::Staged => "staged",
            PlanType::Backfill => "backfill",
            PlanType::ExpandContract => "expand-contract",
        }
    }
}

/// A complete plan.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// Steps in order.
    pub steps: Vec<Step>,
    /// Plan type.
    pub kind: PlanType,
    /// Worst risk of the change as written.
    pub risk: Risk,
    /// One-line verdict.
    pub verdict: String,
    /// Findings of every operation, most severe first.
    pub findings: Vec<Finding>,
    /// Notes the receipt and report show (retry advice, assumptions, carried-over objects).
    pub notes: Vec<String>,
    /// Pre-deploy checklist lines.
    pub checklist: Vec<String>,
    /// Number of separate application deploys the plan needs.
    pub deploys: usize,
}

/// Walks the change against `before`: typo guard, rules, schema advanced operation by operation.
///
/// # Errors
/// A [`PlanError`] when the change names a table, column, index or constraint a known schema lacks.
pub fn analyze(statements: Vec<Statement>, ignores: &[Suppression], before: &Schema, config: &PlanConfig) -> Result<Analysis, PlanError> {
    let waivers = Waivers::new(ignores, &statements)?;
    let change: Vec<Op> = statements.iter().flat_map(|s| s.ops.iter().cloned()).collect();
    let mut schema = before.clone();
    let mut ops = Vec::with_capacity(change.len());
    let mut assumptions = Vec::new();
    if !before.is_known() {
        assumptions.push("no schema found: every table assumed to exist, to be large and to carry live traffic".to_string());
    } else if !before.complete {
        assumptions.push("the migrations hold statements zdm does not model: table and column names are not checked".to_string());
    }
    let mut facts = rules::ChangeFacts::new(&change);
    facts.other_schemas_before = before.tables.values().any(|t| t.name.schema.as_deref().is_some_and(|s| s != "public"));
    for (index, op) in change.iter().enumerate() {
        if schema.checks_names() {
            typo_guard(&schema, op)?;
        }
        let table_before = op.kind.table().and_then(|t| schema.table(t)).cloned();
        let stats = op.kind.table().and_then(|t| config.stats.get(&t.key()));
        let ctx = RuleCtx {
            schema: &schema,
            table: table_before.as_ref(),
            pg: config.pg,
            stats,
            change: &change,
            index,
            facts: &facts,
            unused_ignores: &[],
        };
        let mut findings = rules::check_all(op, &ctx);
        waivers.apply(op, &mut findings);
        let (mut lock, mut rewrite) = rules::base_effect(&op.kind);
        let deciding = findings
            .iter()
            .find(|f| f.strategy != Strategy::AsWritten && f.suppressed.is_none())
            .or_else(|| findings.iter().find(|f| rules::counts(f)));
        if let Some(f) = findings.first() {
            let meta = rules::meta_of(f);
            lock = lock.max(meta.lock);
            if f.risk >= Risk::Risky {
                rewrite = meta.rewrite;
            }
        }
        let risk = findings.iter().filter(|f| rules::counts(f)).map(|f| f.risk).max_by_key(|r| r.severity()).unwrap_or(Risk::Safe);
        let strategy = deciding.map_or(Strategy::AsWritten, |f| f.strategy);
        let rule = deciding.map(|f| f.rule);
        schema::apply(&mut schema, &op.kind, true);
        too_many_columns(&schema, op)?;
        ops.push(Classified { op: op.clone(), lock, rewrite, risk, findings, strategy, rule, table_before });
    }
    for (index, c) in ops.iter_mut().enumerate() {
        let unused = waivers.unused_on(&c.op, index == 0);
        if unused.is_empty() {
            continue;
        }
        let ctx = RuleCtx {
            schema: before,
            table: None,
            pg: config.pg,
            stats: None,
            change: &change,
            index,
            facts: &facts,
            unused_ignores: &unused,
        };
        if let Some(f) = rules::rule("S11").and_then(|r| r.check(&c.op, &ctx)) {
            c.findings.push(f);
        }
    }
    Ok(Analysis { statements, ops, before: before.clone(), assumptions })
}

/// The change's `-- zdm-ignore` comments, each tied to its statement (or to all, for the file form),
/// remembering which of them waived something.
struct Waivers {
    /// (statement start, rule IDs, reason); `None` start: the whole change.
    entries: Vec<(Option<Pos>, Vec<&'static str>, String)>,
    used: std::cell::RefCell<std::collections::BTreeSet<(usize, &'static str)>>,
    reported: std::cell::RefCell<std::collections::BTreeSet<usize>>,
}

impl Waivers {
    fn new(ignores: &[Suppression], statements: &[Statement]) -> Result<Waivers, PlanError> {
        let mut entries = Vec::new();
        for s in ignores {
            let help = Some("write `-- zdm-ignore RULE[, RULE]: reason` (`zdm rules` lists the IDs)".to_string());
            if s.rules.is_empty() || s.reason.is_empty() {
                return Err(PlanError { message: "zdm-ignore needs rule IDs and a reason".into(), pos: s.pos, help });
            }
            let mut ids = Vec::new();
            for r in &s.rules {
                let Some(rule) = rules::rule(r) else {
                    return Err(PlanError { message: format!("zdm-ignore names an unknown rule `{r}`"), pos: s.pos, help });
                };
                ids.push(rule.meta().id);
            }
            let target = if s.file { None } else { statements.iter().find(|st| st.pos.line >= s.pos.line).map(|st| st.pos) };
            if s.file || target.is_some() {
                entries.push((target, ids, s.reason.clone()));
            }
        }
        Ok(Waivers { entries, used: std::cell::RefCell::default(), reported: std::cell::RefCell::default() })
    }

    /// Marks the findings on `op` that a waiver covers.
    fn apply(&self, op: &Op, findings: &mut [Finding]) {
        for (i, (target, ids, reason)) in self.entries.iter().enumerate() {
            if target.is_some_and(|p| p != op.pos) {
                continue;
            }
            for f in findings.iter_mut().filter(|f| ids.contains(&f.rule)) {
                f.suppressed = Some(reason.clone());
                self.used.borrow_mut().insert((i, f.rule));
            }
        }
    }

    /// Rule IDs waived on `op`'s statement that waived nothing (file waivers report on the first operation).
    fn unused_on(&self, op: &Op, first: bool) -> Vec<String> {
        let used = self.used.borrow();
        let mut out = Vec::new();
        for (i, (target, ids, _)) in self.entries.iter().enumerate() {
            let here = match target {
                Some(p) => *p == op.pos,
                None => first,
            };
            // A statement with several operations reports its stale waiver once.
            if here && self.reported.borrow_mut().insert(i) {
                out.extend(ids.iter().filter(|id| !used.contains(&(i, **id))).map(|id| (*id).to_string()));
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// PostgreSQL refuses a table of more than 1,600 columns (`tables can have at most 1600 columns`); zdm
/// says so at the statement that crosses the limit instead of planning what cannot run (and instead of
/// snapshotting an ever wider table for every further operation).
fn too_many_columns(schema: &Schema, op: &Op) -> Result<(), PlanError> {
    const MAX_COLUMNS: usize = 1600;
    let OpKind::AddColumn { table, .. } = &op.kind else { return Ok(()) };
    match schema.table(table) {
        Some(t) if t.columns.len() > MAX_COLUMNS => Err(PlanError {
            message: format!("`{table}` would have {} columns; PostgreSQL allows at most {MAX_COLUMNS} per table", t.columns.len()),
            pos: op.pos,
            help: Some("split the data over several tables".into()),
        }),
        _ => Ok(()),
    }
}

fn typo_guard(schema: &Schema, op: &Op) -> Result<(), PlanError> {
    let err = |message: String, help: Option<String>| Err(PlanError { message, pos: op.pos, help });
    let known_tables = || {
        let names: Vec<&str> = schema.tables.keys().map(String::as_str).take(8).collect();
        Some(format!("known tables: {}", names.join(", ")))
    };
    let check_table = |t: &QName| -> Result<&Table, PlanError> {
        schema.table(t).ok_or_else(|| PlanError {
            message: format!("table `{t}` does not exist in the schema"),
            pos: op.pos,
            help: known_tables(),
        })
    };
    let check_column = |t: &QName, c: &str| -> Result<(), PlanError> {
        let table = check_table(t)?;
        if table.column(c).is_some() {
            return Ok(());
        }
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        Err(PlanError {
            message: format!("column `{c}` does not exist on `{t}`"),
            pos: op.pos,
            help: Some(format!("columns of {t}: {}", names.join(", "))),
        })
    };
    match &op.kind {
        OpKind::CreateTable { table, if_not_exists, .. } if !if_not_exists && schema.table(table).is_some() => {
            err(format!("table `{table}` already exists"), None)
        }
        OpKind::DropTable { table, if_exists: false, .. } | OpKind::RenameTable { table, .. } => check_table(table).map(|_| ()),
        OpKind::AddColumn { table, column, if_not_exists } => {
            let t = check_table(table)?;
            if !if_not_exists && t.column(&column.name).is_some() {
                return err(format!("column `{}` already exists on `{table}`", column.name), None);
            }
            Ok(())
        }
        OpKind::DropColumn { table, column, if_exists: false }
        | OpKind::AlterColumnType { table, column, .. }
        | OpKind::SetNotNull { table, column }
        | OpKind::DropNotNull { table, column }
        | OpKind::SetDefault { table, column, .. }
        | OpKind::DropDefault { table, column } => check_column(table, column),
        OpKind::RenameColumn { table, from, to } => {
            check_column(table, from)?;
            if check_table(table)?.column(to).is_some() {
                return err(format!("column `{to}` already exists on `{table}`"), None);
            }
            Ok(())
        }
        OpKind::Update { table, assignments, .. } => assignments.iter().try_for_each(|a| check_column(table, &a.column)),
        OpKind::CreateIndex(spec) => spec.columns.iter().try_for_each(|c| check_column(&spec.table, c)),
        OpKind::AddConstraint { table, constraint } => constraint.kind.columns().iter().try_for_each(|c| check_column(table, c)),
        OpKind::ValidateConstraint { table, name } | OpKind::DropConstraint { table, name, if_exists: false } => {
            if check_table(table)?.constraints.iter().any(|c| &c.name == name) {
                Ok(())
            } else {
                err(format!("constraint `{name}` does not exist on `{table}`"), None)
            }
        }
        OpKind::DropIndex { name, if_exists: false, .. } if !schema.indexes.contains_key(&name.name) => {
            let names: Vec<&str> = schema.indexes.keys().map(String::as_str).take(8).collect();
            err(format!("index `{name}` does not exist in the schema"), Some(format!("known indexes: {}", names.join(", "))))
        }
        _ => Ok(()),
    }
}

/// Turns an analysis into a plan.
///
/// # Errors
/// A [`PlanError`] when a staged change lacks something only the user can give (a value for existing rows).
pub fn build(analysis: &Analysis, config: &PlanConfig) -> Result<Plan, PlanError> {
    let drafts = recipes::drafts(analysis, config)?;
    Ok(assemble(analysis, config, drafts))
}

fn assemble(analysis: &Analysis, config: &PlanConfig, mut drafts: Vec<recipes::Draft>) -> Plan {
    drafts.sort_by_key(|d| d.rank);
    // Consecutive mergeable single-file steps of one rank become one file; code deploys of one rank,
    // one deploy.
    let mut groups: Vec<(u32, bool, Vec<Step>)> = Vec::new();
    for d in drafts {
        let joins = groups.last().is_some_and(|(rank, mergeable, g)| {
            let last = g.last().expect("groups are never empty");
            *rank == d.rank
                && ((d.step.phase == Phase::Code && last.phase == Phase::Code)
                    || (d.mergeable && *mergeable && last.phase == Phase::Single && last.transaction && d.step.transaction))
        });
        if joins {
            groups.last_mut().expect("checked above").2.push(d.step);
        } else {
            groups.push((d.rank, d.mergeable, vec![d.step]));
        }
    }
    let deploys = groups.iter().filter(|(_, _, g)| g[0].phase == Phase::Code).count();
    let mut steps: Vec<Step> = groups.into_iter().map(|(_, _, g)| merge(g)).collect();
    for (i, s) in steps.iter_mut().enumerate() {
        s.n = i + 1;
    }
    let findings: Vec<Finding> = {
        let mut all: Vec<Finding> = analysis.ops.iter().flat_map(|c| c.findings.iter().cloned()).collect();
        all.sort_by_key(|f| std::cmp::Reverse(f.risk.severity()));
        all
    };
    let risk = analysis.ops.iter().map(|c| c.risk).max_by_key(|r| r.severity()).unwrap_or(Risk::Safe);
    let kind = if deploys > 0 {
        PlanType::ExpandContract
    } else if steps.iter().any(|s| s.phase == Phase::Backfill) {
        PlanType::Backfill
    } else if analysis
        .ops
        .iter()
        .any(|c| !matches!(c.strategy, Strategy::AsWritten | Strategy::SeparateTransaction | Strategy::OwnNonTransactionalFile))
    {
        PlanType::Staged
    } else if risk >= Risk::Risky {
        PlanType::AsWritten
    } else {
        PlanType::Safe
    };
    let verdict = verdict(risk, &findings, &steps, deploys);
    let mut notes = analysis.assumptions.clone();
    notes.extend(recipes::notes(analysis, config));
    let checklist = checklist(&steps, config);
    Plan { steps, kind, risk, verdict, findings, notes, checklist, deploys }
}

/// One step out of several: their SQL in order (rollback in reverse), one set of timeouts.
fn merge(mut group: Vec<Step>) -> Step {
    if group.len() == 1 {
        return group.pop().expect("one step");
    }
    let is_header = |l: &&str| l.starts_with("SET LOCAL ");
    let body = |sql: &str| sql.lines().filter(|l| !is_header(l)).collect::<Vec<_>>().join("\n");
    let header = |sql: &str| sql.lines().filter(is_header).collect::<Vec<_>>().join("\n");
    let titles: Vec<&str> = group.iter().map(|s| s.title.as_str()).collect();
    let title = match titles.len() {
        0..=3 => titles.join("; "),
        n => format!("{}; {} and {} more", titles[0], titles[1], n - 2),
    };
    let mut rollbacks: Vec<&str> = group.iter().map(|s| s.rollback.as_str()).collect();
    rollbacks.dedup();
    let rollback = if rollbacks.len() <= 3 { rollbacks.join("; ") } else { format!("undo all {} operations in reverse", group.len()) };
    let first = &group[0];
    let mut merged = Step {
        n: 0,
        phase: first.phase,
        title,
        slug: first.slug.clone(),
        file: None,
        transaction: first.transaction,
        up: String::new(),
        down: String::new(),
        lock: group.iter().map(|s| s.lock).max().unwrap_or(first.lock),
        duration: first.duration.clone(),
        rollback,
        rollback_data_loss: group.iter().any(|s| s.rollback_data_loss),
        risk: group.iter().map(|s| s.risk).max_by_key(|r| r.severity()).unwrap_or(first.risk),
    };
    if first.phase == Phase::Code {
        return merged;
    }
    // The shared header must let the longest statement finish: no statement_timeout if any part has none.
    let unlimited = |sql: &str| sql.lines().any(|l| l == "SET LOCAL statement_timeout = 0;");
    let pick = |f: fn(&Step) -> &str| group.iter().map(f).find(|s| unlimited(s)).unwrap_or(f(first));
    let mut up = vec![header(pick(|s| s.up.as_str()))];
    up.extend(group.iter().map(|s| body(&s.up)));
    let mut down = vec![header(pick(|s| s.down.as_str()))];
    down.extend(group.iter().rev().map(|s| body(&s.down)));
    merged.up = up.join("\n");
    merged.down = down.join("\n");
    merged
}

fn verdict(risk: Risk, findings: &[Finding], steps: &[Step], deploys: usize) -> String {
    let files = steps.iter().filter(|s| s.phase != Phase::Code).count();
    let mut spread = match deploys {
        0 => format!("{} file{}", files, if files == 1 { "" } else { "s" }),
        n => format!("{} steps, {} deploys", steps.len(), n + 1),
    };
    if steps.iter().any(|s| s.up.contains("CREATE TRIGGER zdm_sync_")) {
        spread.push_str(", no lost writes");
    }
    let Some(top) = findings.iter().find(|f| f.risk >= Risk::Risky).or_else(|| findings.iter().find(|f| rules::counts(f))) else {
        return format!("No blocking lock, no rewrite, compatible with running code; {spread}.");
    };
    match (risk, top.strategy) {
        (Risk::Unknown, _) => format!("{}; review by hand, {spread}.", top.message),
        (_, Strategy::AsWritten) if risk >= Risk::Risky => {
            format!("{}; no staged path, runs as written.", top.message)
        }
        (Risk::Info | Risk::Safe, _) => format!("Safe with care: {}; {spread}.", top.message),
        _ => format!("{}; {spread}.", top.message),
    }
}

fn checklist(steps: &[Step], config: &PlanConfig) -> Vec<String> {
    let mut out = vec![
        "Backup verified and tested".to_string(),
        "Tested against a copy of production data, not just a few rows".to_string(),
        "Not deploying during the peak traffic window".to_string(),
        format!("On `lock timeout` ({}): nothing changed; rerun the same step", config.lock_timeout),
    ];
    let outside: Vec<String> = steps.iter().filter(|s| !s.transaction && s.phase != Phase::Code).map(|s| s.n.to_string()).collect();
    if !outside.is_empty() {
        out.push(format!(
            "Step{} {} run{} outside a transaction (transaction:false is set)",
            plural(&outside),
            outside.join(", "),
            if outside.len() == 1 { "s" } else { "" }
        ));
    }
    if steps.iter().any(|s| s.up.contains("CONCURRENTLY")) {
        out.push("A failed CONCURRENTLY build leaves an INVALID index: drop it, rerun the step".to_string());
    }
    let contracts: Vec<String> = steps.iter().filter(|s| s.phase == Phase::Contract).map(|s| s.n.to_string()).collect();
    if let Some(code) = steps.iter().find(|s| s.phase == Phase::Code)
        && !contracts.is_empty()
    {
        out.push(format!("Step{} {} only after every instance runs the code of step {}", plural(&contracts), contracts.join(", "), code.n));
    }
    out
}

fn plural(v: &[String]) -> &'static str {
    if v.len() == 1 { "" } else { "s" }
}
