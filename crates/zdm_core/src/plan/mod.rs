//! Classified operations + schema + facts → an ordered plan of steps across deploys. Each step is one
//! migration file (forward and rollback) or one code deploy. Imports `model`, `op`, `schema`, `rules`, `sql`.
//!
//! Two stages: [`analyze`] walks the change against the schema (typo guard, rules, schema advanced op by
//! op); [`build`] turns each operation's strategy into step drafts, orders them by phase and numbers them.

pub mod locking;
mod recipes;
mod sqlgen;

use crate::model::{ConstraintKind, LockLevel, PgVersion, Pos, QName, Rewrite, Risk, Schema, Table, TableStats};
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
    /// `lock_timeout` of each attempt to take a step's locks: the longest any application query queues
    /// behind the step.
    pub lock_timeout: String,
    /// Attempts a step makes to take its locks (with backoff) before it fails; 1 turns retries off.
    pub lock_retries: u32,
    /// Rows per backfill batch.
    pub batch_size: u32,
    /// Pause between backfill batches, in seconds.
    pub batch_pause: f64,
    /// Live table weights by table key, when a database was read.
    pub stats: BTreeMap<String, TableStats>,
    /// A type change swaps the new column in under the old name (instead of keeping `<column>_<type>`):
    /// prepared statements of running connections fail until the connections are recycled.
    pub keep_column_name: bool,
    /// Places in the application's code that use the tables and columns the change touches (the CLI
    /// scans for them; empty when it did not).
    pub code_refs: Vec<crate::refs::CodeRef>,
    /// What a live database said (schema, weights, version), when one was read: its schema replaces the
    /// one replayed from files, its weights fill `stats` where no hint names the table.
    pub live: Option<crate::model::LiveFacts>,
    /// Where table classes begin (`zdm.toml` `[thresholds]`).
    pub thresholds: crate::model::Thresholds,
    /// The change runs inside a transaction its migration tool opens (`zdm check` of a transactional
    /// migration): every statement counts as inside a transaction block.
    pub in_transaction: bool,
}

impl Default for PlanConfig {
    fn default() -> Self {
        PlanConfig {
            pg: PgVersion::DEFAULT,
            lock_timeout: "200ms".into(),
            lock_retries: 20,
            batch_size: 5000,
            batch_pause: 0.05,
            stats: BTreeMap::new(),
            keep_column_name: false,
            code_refs: Vec::new(),
            live: None,
            thresholds: crate::model::Thresholds::default(),
            in_transaction: false,
        }
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
    /// The rollback runs inside a transaction (false: one statement that commits batch by batch).
    pub down_transaction: bool,
    /// Connections to recycle right after this step (prepared statements go stale), if any.
    pub reconnect: Option<String>,
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
    /// For a code deploy: what the application must change, as data (empty for other steps).
    pub code_changes: Vec<CodeChange>,
    /// For a code deploy: the same changes in the project's ORM terms (set by the tool writer, one line
    /// each; empty when the tool has no model layer).
    pub orm_changes: Vec<String>,
}

/// What a code deploy changes in the application, in schema terms. Table names are unqualified: ORMs
/// map models to bare table names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CodeChange {
    /// The code moves from one column to another of the same table (a rename, a type change's new
    /// column): the model's attribute keeps its name and maps to `to`.
    MoveColumn {
        /// The table.
        table: String,
        /// The column the code uses now.
        from: String,
        /// The column it moves to.
        to: String,
    },
    /// The code stops using a column that a later step drops.
    DropColumn {
        /// The table.
        table: String,
        /// The column dropped.
        column: String,
    },
    /// The code moves to a renamed table.
    MoveTable {
        /// The table's old name.
        from: String,
        /// Its new name.
        to: String,
    },
    /// The code stops using a table that a later step drops.
    DropTable {
        /// The table dropped.
        table: String,
    },
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
    /// Places in the application's code that use what the change touches, by path and line.
    pub code_refs: Vec<crate::refs::CodeRef>,
    /// The weight and class of each table the change touches whose size is known (live statistics,
    /// `--table-size`, `zdm.toml`).
    pub tables: BTreeMap<String, crate::live::TableWeight>,
}

/// Walks the change against `before`: typo guard, rules, schema advanced operation by operation.
///
/// # Errors
/// A [`PlanError`] when the change names a table, column, index or constraint a known schema lacks.
pub fn analyze(statements: Vec<Statement>, ignores: &[Suppression], before: &Schema, config: &PlanConfig) -> Result<Analysis, PlanError> {
    let mut schema = before.clone();
    let (statements, ops, assumptions) = walk(statements, ignores, &mut schema, config)?;
    Ok(Analysis { statements, ops, before: before.clone(), assumptions })
}

/// What [`walk`] returns: the statements, every operation classified, the assumptions made.
pub type Walked = (Vec<Statement>, Vec<Classified>, Vec<String>);

/// [`analyze`] advancing `schema` in place, from before the change to after it (`zdm check` walks
/// thousands of files through one schema and never clones it). On an error the schema holds the
/// operations before the failing one.
///
/// # Errors
/// As [`analyze`].
pub fn walk(statements: Vec<Statement>, ignores: &[Suppression], schema: &mut Schema, config: &PlanConfig) -> Result<Walked, PlanError> {
    let waivers = Waivers::new(ignores, &statements)?;
    let written: Vec<Op> = statements.iter().flat_map(|s| s.ops.iter().cloned()).collect();
    // Statements the change itself rolls back never run: they are not planned.
    let (undone, transaction_notes) = transaction_control(&written)?;
    let kept: Vec<Op> = written.into_iter().zip(&undone).filter(|(_, u)| !**u).map(|(op, _)| op).collect();
    let change: Vec<Op> = crate::search_path::qualify(kept, schema);
    let before_known = schema.is_known();
    let mut ops = Vec::with_capacity(change.len());
    let mut assumptions = transaction_notes;
    if !before_known {
        assumptions.push("no schema found: every table assumed to exist, to be large and to carry live traffic".to_string());
    } else {
        let spots = &schema.blind_spots;
        assumptions.extend(spots.iter().take(3).map(crate::model::BlindSpot::describe));
        if spots.len() > 3 {
            assumptions.push(format!("and {} more statements zdm cannot see into (JSON: schema.blind_spots)", spots.len() - 3));
        }
    }
    let mut facts = rules::ChangeFacts::new_in(&change, config.in_transaction);
    // Only S08 reads it, for an unqualified CREATE TABLE: the scan of every table is skipped otherwise (zdm
    // check walks thousands of files).
    let creates_unqualified = change.iter().any(|o| matches!(&o.kind, OpKind::CreateTable { table, .. } if table.schema.is_none()));
    facts.other_schemas_before =
        creates_unqualified && schema.tables.values().any(|t| t.name.schema.as_deref().is_some_and(|s| s != "public"));
    for (index, op) in change.iter().enumerate() {
        if op.kind.table().map_or_else(|| schema.checks_names(), |t| schema.checks_names_on(t)) {
            typo_guard(schema, op)?;
        }
        let mut named = op.clone();
        if schema.is_known() {
            name_unnamed(schema, &mut named);
        }
        let op = &named;
        let table_before = op.kind.table().and_then(|t| schema.table(t)).cloned();
        let stats = op.kind.table().and_then(|t| config.stats.get(&t.key()));
        let ctx = RuleCtx {
            schema: &*schema,
            table: table_before.as_ref(),
            pg: config.pg,
            stats,
            change: &change,
            index,
            facts: &facts,
            unused_ignores: &[],
            code_refs: &config.code_refs,
        };
        let mut findings = rules::check_all(op, &ctx);
        waivers.apply(op, &mut findings);
        let (mut lock, mut rewrite) = rules::effect(op, &ctx);
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
        if matches!(op.kind, OpKind::DoBlock) {
            schema::apply_do_block(schema, op);
        } else {
            schema::apply_op(schema, op, true);
        }
        too_many_columns(schema, op)?;
        ops.push(Classified { op: op.clone(), lock, rewrite, risk, findings, strategy, rule, table_before });
    }
    for (index, c) in ops.iter_mut().enumerate() {
        let unused = waivers.unused_on(&c.op, index == 0);
        if unused.is_empty() {
            continue;
        }
        let ctx = RuleCtx {
            schema,
            table: None,
            pg: config.pg,
            stats: None,
            change: &change,
            index,
            facts: &facts,
            unused_ignores: &unused,
            code_refs: &config.code_refs,
        };
        if let Some(f) = rules::rule("S11").and_then(|r| r.check(&c.op, &ctx)) {
            c.findings.push(f);
        }
    }
    Ok((statements, ops, assumptions))
}

/// What the change's own transaction statements do (psql semantics: outside BEGIN … COMMIT each statement
/// commits on its own): which operations a ROLLBACK / ABORT / ROLLBACK TO SAVEPOINT undoes, notes saying
/// so, and an error for what a plan must not run (PREPARE TRANSACTION, COMMIT / ROLLBACK PREPARED) or what
/// PostgreSQL refuses (SAVEPOINT outside a block, an unknown savepoint).
fn transaction_control(ops: &[Op]) -> Result<(Vec<bool>, Vec<String>), PlanError> {
    let mut undone = vec![false; ops.len()];
    let mut notes = Vec::new();
    let mut open = false;
    let mut block: Vec<usize> = Vec::new();
    let mut savepoints: Vec<(String, usize)> = Vec::new();
    let err = |op: &Op, message: String, help: &str| Err(PlanError { message, pos: op.pos, help: Some(help.to_string()) });
    for (i, op) in ops.iter().enumerate() {
        let OpKind::Transaction { what } = &op.kind else {
            if open {
                block.push(i);
            }
            continue;
        };
        let at = op.pos;
        match what.as_str() {
            "BEGIN" | "START" if open => {
                notes.push(format!(
                    "{what} at {at} is inside an open transaction: PostgreSQL ignores it (warning), the next COMMIT ends the block"
                ));
            }
            "BEGIN" | "START" => open = true,
            "PREPARE TRANSACTION" => {
                return err(
                    op,
                    "PREPARE TRANSACTION would leave a prepared transaction holding its locks until someone commits it".into(),
                    "end the block with COMMIT; a migration must not leave a prepared transaction behind",
                );
            }
            "COMMIT PREPARED" | "ROLLBACK PREPARED" => {
                return err(
                    op,
                    format!("{what} finishes a transaction prepared elsewhere: zdm cannot plan around it"),
                    "run it by hand, outside the migration",
                );
            }
            w if w.starts_with("SAVEPOINT ") => {
                if !open {
                    return err(op, "SAVEPOINT can only be used in a transaction block".into(), "write BEGIN before it, or remove it");
                }
                savepoints.push((w["SAVEPOINT ".len()..].to_string(), block.len()));
            }
            w if w.starts_with("RELEASE ") || w.starts_with("ROLLBACK TO ") => {
                let release = w.starts_with("RELEASE ");
                let name = w.split_once(if release { "RELEASE " } else { "ROLLBACK TO " }).map_or("", |(_, n)| n);
                let Some(k) = savepoints.iter().rposition(|(n, _)| n == name).filter(|_| open) else {
                    return err(op, format!("savepoint \"{name}\" does not exist"), "name a SAVEPOINT written earlier in the same block");
                };
                if release {
                    savepoints.truncate(k);
                } else {
                    let from = savepoints[k].1;
                    undo(ops, &block[from..], &mut undone, &mut notes, &format!("ROLLBACK TO {name} at {at}"));
                    block.truncate(from);
                    savepoints.truncate(k + 1);
                }
            }
            w if w.starts_with("ROLLBACK") || w.starts_with("ABORT") => {
                if open {
                    undo(ops, &block, &mut undone, &mut notes, &format!("{w} at {at}"));
                } else {
                    notes.push(format!("{w} at {at} has no open transaction: PostgreSQL ignores it; the statements before it committed"));
                }
                open = w.ends_with("CHAIN");
                block.clear();
                savepoints.clear();
            }
            w => {
                // COMMIT / END (AND CHAIN).
                open = w.ends_with("CHAIN");
                block.clear();
                savepoints.clear();
            }
        }
    }
    let planned = ops.iter().zip(&undone).any(|(op, u)| !u && !matches!(op.kind, OpKind::Transaction { .. }));
    if !planned && undone.iter().any(|u| *u) {
        let last = ops
            .iter()
            .rev()
            .find(|op| matches!(&op.kind, OpKind::Transaction { what } if what.starts_with("ROLLBACK") || what.starts_with("ABORT")));
        return Err(PlanError {
            message: "every statement of the change is rolled back by the change itself: nothing to plan".into(),
            pos: last.map_or(ops[0].pos, |op| op.pos),
            help: Some("remove the ROLLBACK to plan the statements".into()),
        });
    }
    Ok((undone, notes))
}

/// Marks `which` operations as rolled back and says so once per statement.
fn undo(ops: &[Op], which: &[usize], undone: &mut [bool], notes: &mut Vec<String>, by: &str) {
    let mut seen: Vec<Pos> = Vec::new();
    for &i in which {
        undone[i] = true;
        if !seen.contains(&ops[i].pos) {
            seen.push(ops[i].pos);
        }
    }
    if seen.is_empty() {
        return;
    }
    let lines: Vec<String> = seen
        .iter()
        .map(|p| {
            let sql = ops.iter().find(|o| o.pos == *p).map_or(String::new(), |o| o.sql.clone());
            let short: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            let short = if short.chars().count() > 40 { format!("{}…", short.chars().take(40).collect::<String>()) } else { short };
            format!("`{short}` ({p})")
        })
        .collect();
    notes.push(format!("not planned, rolled back by {by}: {}", lines.join(", ")));
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

/// `name` is an index, table, view or sequence of `schema_name` (the relation namespace PostgreSQL checks).
fn relation_taken(schema: &Schema, schema_name: Option<&str>, name: &str) -> bool {
    schema.relation_name_taken(schema_name, name)
}

/// PostgreSQL's choice for an unnamed index or constraint whose default name is taken: `…_idx1`, `…_idx2`, …
/// (`ChooseRelationName`). The operation gets that name written, so its rollback drops what it created.
fn name_unnamed(schema: &Schema, op: &mut Op) {
    let free = |table: &QName, first: String, make: &dyn Fn(&str) -> String, on_table: Option<&Table>| {
        let in_constraints = |n: &str| on_table.is_some() && schema.tables.values().any(|t| t.constraints.iter().any(|k| k.name == n));
        let taken = |n: &str| relation_taken(schema, table.schema.as_deref(), n) || in_constraints(n);
        if !taken(&first) {
            return None;
        }
        (1..).map(|i| make(&i.to_string())).find(|n| !taken(n))
    };
    match &mut op.kind {
        OpKind::CreateIndex(spec) if spec.name.is_none() => {
            let label = |suffix: &str| schema::index_name(&spec.table.name, &spec.columns, &format!("idx{suffix}"));
            spec.name = free(&spec.table, label(""), &label, None);
        }
        OpKind::AddConstraint { table, constraint } if constraint.name.is_none() => {
            let base = schema::constraint_name(&table.name, &constraint.kind);
            let Some(label) = base.rsplit('_').next().map(str::to_string) else { return };
            let stem = base[..base.len() - label.len() - 1].to_string();
            let make = |suffix: &str| schema::object_name(&stem, "", &format!("{label}{suffix}"));
            constraint.name = free(table, base, &make, schema.table(table));
        }
        _ => {}
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
        OpKind::CreateIndex(spec) => {
            spec.columns.iter().try_for_each(|c| check_column(&spec.table, c))?;
            match &spec.name {
                Some(name) if !spec.if_not_exists && relation_taken(schema, spec.table.schema.as_deref(), name) => err(
                    format!("index name `{name}` is already taken in the schema"),
                    Some("pick another name, or write IF NOT EXISTS if the existing index is the one you mean".into()),
                ),
                _ => Ok(()),
            }
        }
        OpKind::AddConstraint { table, constraint } => {
            constraint.kind.columns().iter().try_for_each(|c| check_column(table, c))?;
            let t = check_table(table)?;
            if matches!(constraint.kind, ConstraintKind::PrimaryKey { .. })
                && let Some(pk) = t.constraints.iter().find(|k| matches!(k.kind, ConstraintKind::PrimaryKey { .. }))
            {
                return err(
                    format!("`{table}` already has a primary key ({})", pk.name),
                    Some(format!("drop {} first, or add a UNIQUE constraint instead", pk.name)),
                );
            }
            let Some(name) = &constraint.name else { return Ok(()) };
            let backed =
                matches!(constraint.kind, ConstraintKind::PrimaryKey { .. } | ConstraintKind::Unique { .. } | ConstraintKind::Other);
            let index_reused = constraint.using_index.as_deref() == Some(name.as_str());
            if t.constraints.iter().any(|k| &k.name == name)
                || (backed && !index_reused && relation_taken(schema, table.schema.as_deref(), name))
            {
                return err(
                    format!("constraint name `{name}` is already taken on `{table}`{}", if backed { " or in the schema" } else { "" }),
                    Some("pick another constraint name".into()),
                );
            }
            Ok(())
        }
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
        if s.transaction {
            s.up = locking::with_lock_retries(&s.up, config);
        }
        if s.down_transaction {
            s.down = locking::with_lock_retries(&s.down, config);
        }
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
    let mut checklist = checklist(&steps, config);
    checklist.extend(code_ref_lines(analysis, &steps, config));
    let mut code_refs = config.code_refs.clone();
    code_refs.sort_by(|a, b| (&a.path, a.line, a.col).cmp(&(&b.path, b.line, b.col)));
    Plan { steps, kind, risk, verdict, findings, notes, checklist, deploys, code_refs, tables: BTreeMap::new() }
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
        down_transaction: first.down_transaction,
        reconnect: group.iter().find_map(|s| s.reconnect.clone()),
        lock: group.iter().map(|s| s.lock).max().unwrap_or(first.lock),
        duration: first.duration.clone(),
        rollback,
        rollback_data_loss: group.iter().any(|s| s.rollback_data_loss),
        risk: group.iter().map(|s| s.risk).max_by_key(|r| r.severity()).unwrap_or(first.risk),
        code_changes: group.iter().flat_map(|s| s.code_changes.iter().cloned()).collect(),
        orm_changes: Vec::new(),
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
        n => format!("{} steps, {n} code deploy{}", steps.len(), if n == 1 { "" } else { "s" }),
    };
    if steps.iter().any(|s| s.up.contains("CREATE TRIGGER zdm_sync_")) {
        spread.push_str(", no lost writes");
    }
    if let Some(s) = steps.iter().find(|s| s.reconnect.is_some()) {
        spread.push_str(&format!(", recycle app connections right after step {}", s.n));
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
        "Connection pool size confirmed: the migration won't starve app connections".to_string(),
    ];
    out.extend(rerun_lines(steps, config));
    let outside: Vec<String> = steps.iter().filter(|s| !s.transaction && s.phase != Phase::Code).map(|s| s.n.to_string()).collect();
    if !outside.is_empty() {
        out.push(format!(
            "Step{} {} run{} outside a transaction: never wrap {} in BEGIN … COMMIT",
            plural(&outside),
            outside.join(", "),
            if outside.len() == 1 { "s" } else { "" },
            if outside.len() == 1 { "it" } else { "them" }
        ));
    }
    if steps.iter().any(|s| s.up.contains("CONCURRENTLY")) {
        out.push("A failed CONCURRENTLY build leaves an INVALID index: drop it, rerun the step".to_string());
    }
    for s in steps {
        if let Some(who) = &s.reconnect {
            out.push(format!("Right after step {}: recycle {who}", s.n));
        }
    }
    // Every step after a code deploy waits for that deploy to reach every instance.
    for (i, code) in steps.iter().enumerate().filter(|(_, s)| s.phase == Phase::Code) {
        let after: Vec<String> = steps[i + 1..].iter().take_while(|s| s.phase != Phase::Code).map(|s| s.n.to_string()).collect();
        if !after.is_empty() {
            out.push(format!("Step{} {} only after every instance runs the code of step {}", plural(&after), after.join(", "), code.n));
        }
    }
    out
}

/// One line per dropped or renamed name the code still uses: how many references to update, and before
/// which step (the first contract step, else the first migration step).
fn code_ref_lines(analysis: &Analysis, steps: &[Step], config: &PlanConfig) -> Vec<String> {
    let before =
        steps.iter().find(|s| s.phase == Phase::Contract).or_else(|| steps.iter().find(|s| s.phase != Phase::Code)).map_or(1, |s| s.n);
    let mut out = Vec::new();
    for c in &analysis.ops {
        let Some((table, column)) = crate::refs::removed_name(&c.op.kind) else { continue };
        let n = crate::refs::about(&config.code_refs, &table, column.as_deref()).len();
        let name = column.map_or_else(|| table.clone(), |col| format!("{table}.{col}"));
        let line = format!(
            "Update the {n} code reference{} to {name} before step {before} (listed under the code deploy)",
            if n == 1 { "" } else { "s" }
        );
        if n > 0 && !out.contains(&line) {
            out.push(line);
        }
    }
    out
}

/// What a lock timeout leaves behind and how to rerun, true for each step it names.
fn rerun_lines(steps: &[Step], config: &PlanConfig) -> Vec<String> {
    let files = || steps.iter().filter(|s| s.phase != Phase::Code);
    let timeout = if config.lock_retries > 1 {
        format!("{} tries of {}", config.lock_retries, config.lock_timeout)
    } else {
        config.lock_timeout.clone()
    };
    if files().all(|s| s.transaction) {
        return vec![format!("On a lock timeout ({timeout}): nothing changed; rerun the same step")];
    }
    let mut out = Vec::new();
    if files().any(|s| s.transaction) {
        out.push(format!("On a lock timeout ({timeout}) in a transactional step: nothing changed; rerun it"));
    }
    let numbers = |resumable: bool| -> Vec<String> {
        files()
            // The VACUUM that follows a backfill updates no row: rerunning it is always harmless.
            .filter(|s| s.phase == Phase::Backfill && !s.up.starts_with("VACUUM") && s.up.contains(sqlgen::PROGRESS_TABLE) == resumable)
            .map(|s| s.n.to_string())
            .collect()
    };
    let resumable = numbers(true);
    if !resumable.is_empty() {
        out.push(format!(
            "Step{} {}: a failed batch keeps earlier batches; rerun: resumes after the last committed one",
            plural(&resumable),
            resumable.join(", ")
        ));
    }
    let idempotent = numbers(false);
    if !idempotent.is_empty() {
        out.push(format!(
            "Step{} {}: a failed batch keeps earlier batches; rerun: rows already updated are skipped",
            plural(&idempotent),
            idempotent.join(", ")
        ));
    }
    out
}

fn plural(v: &[String]) -> &'static str {
    if v.len() == 1 { "" } else { "s" }
}
