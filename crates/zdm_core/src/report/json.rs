//! `--format json`: one object with the stack, the verdict, every operation, every step, the files, the
//! report path and every finding.

use super::RunInfo;
use crate::model::{SchemaSource, mask_json};
use crate::pipeline::Outcome;
use crate::rules;
use serde_json::{Value, json};

/// The JSON object for a plan, every string with its secrets masked (before serialization escapes it).
#[must_use]
pub fn json_report(outcome: &Outcome, info: &RunInfo) -> Value {
    let mut value = unmasked(outcome, info);
    mask_json(&mut value);
    value
}

fn unmasked(outcome: &Outcome, info: &RunInfo) -> Value {
    let plan = &outcome.plan;
    let summary = super::summary::Summary::of(outcome);
    let operations: Vec<Value> = outcome
        .analysis
        .ops
        .iter()
        .map(|c| {
            json!({
                "sql": c.op.sql,
                "kind": c.op.kind.name(),
                "table": c.op.kind.table().map(|t| t.key()),
                "risk": c.risk,
                "lock": c.lock.name(),
                "rewrite": c.rewrite,
                "rule": c.rule,
                "strategy": c.strategy,
                "line": c.op.pos.line,
                "column": c.op.pos.col,
            })
        })
        .collect();
    let steps: Vec<Value> = summary
        .rows
        .iter()
        .map(|r| {
            let s = &r.step;
            let (_, loss) = r.loss.mark();
            json!({
                "n": s.n,
                "phase": s.phase,
                "title": s.title,
                "file": s.file,
                "transaction": s.transaction,
                "up": s.up,
                "down": s.down,
                "down_transaction": s.down_transaction,
                "reconnect": s.reconnect,
                "lock": r.lock,
                "lock_held": r.hold,
                "mark": r.mark,
                "duration": s.duration,
                "estimate": {
                    "text": r.estimate.text,
                    "work": format!("{:?}", r.estimate.work).to_lowercase(),
                    "table": r.table,
                    "rows": r.estimate.rows,
                    "rows_per_second": r.estimate.rate,
                    "seconds_low": r.estimate.seconds.map(|s| s.0),
                    "seconds_high": r.estimate.seconds.map(|s| s.1),
                },
                "rollback": s.rollback,
                "rollback_data_loss": s.rollback_data_loss,
                "code_changes": s.code_changes,
                "orm_changes": s.orm_changes,
                "rollback_mark": loss,
            })
        })
        .collect();
    let findings: Vec<Value> = summary
        .findings
        .iter()
        .map(|ff| {
            let f = &ff.finding;
            let meta = rules::meta_of(f);
            json!({
                "rule": f.rule,
                "name": f.name,
                "risk": f.risk,
                "message": f.message,
                "help": f.help,
                "lock": meta.lock.name(),
                "rewrite": meta.rewrite,
                "breaks_app": meta.breaks_app,
                "line": f.pos.line,
                "column": f.pos.col,
                "at": ff.at,
                "needs_action": ff.action,
                "suppressed": f.suppressed,
            })
        })
        .collect();
    let mut schema = match &outcome.schema.source {
        SchemaSource::Unknown => json!({"source": "unknown", "tables": 0}),
        SchemaSource::Dump { path } => json!({"source": "dump", "path": path, "tables": outcome.schema.tables.len()}),
        SchemaSource::Migrations { dir, files } => {
            json!({"source": "migrations", "dir": dir, "files": files, "tables": outcome.schema.tables.len()})
        }
        SchemaSource::Live { database } => json!({"source": "live", "database": database, "tables": outcome.schema.tables.len()}),
    };
    schema["replay_failures"] = json!(outcome.warnings.iter().map(|w| json!({"path": w.path, "message": w.message})).collect::<Vec<_>>());
    schema["blind_spots"] = json!(outcome.schema.blind_spots);
    schema["assumptions"] = json!(outcome.analysis.assumptions);
    let mut out = json!({
        "stack": {
            "tool": outcome.detection.tool,
            "engine": outcome.detection.engine.clone().unwrap_or_else(|| "postgresql".into()),
            "version": outcome.pg.0,
            "migrations_dir": outcome.detection.dir,
            "evidence": outcome.detection.evidence,
            "confidence": outcome.detection.confidence,
            "other_tools": outcome.other_tools.iter().map(|d| json!({"tool": d.tool, "dir": d.dir, "engine": d.engine})).collect::<Vec<_>>(),
        },
        "schema": schema,
        "verdict": plan.verdict,
        "risk": plan.risk,
        "type": plan.kind.label(),
        "deploys": summary.code_deploys,
        "counts": {"steps": summary.steps, "files": summary.files, "code_deploys": summary.code_deploys},
        "shape": summary.shape,
        "operations": operations,
        "steps": steps,
        "files": outcome.files.iter().map(|f| f.path.clone()).collect::<Vec<_>>(),
        "dry_run": info.dry_run,
        "report": if info.dry_run { None } else { info.report.clone() },
        "findings": findings,
        "notes": plan.notes,
        "warnings": outcome.warnings.iter().map(|w| json!({"path": w.path, "message": w.message})).collect::<Vec<_>>(),
        "checklist": summary.checklist,
        "code_refs": plan.code_refs,
    });
    // Present only when known, so plans made from files alone read as before.
    if !plan.tables.is_empty() {
        out["tables"] = json!(plan.tables);
    }
    if matches!(outcome.schema.source, SchemaSource::Live { .. }) {
        out["drift"] = json!(outcome.drift);
    }
    out
}
