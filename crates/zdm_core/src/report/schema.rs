//! `zdm schema`: what zdm believes about each table (source, weight, columns, constraints, indexes) and
//! the drift between the history and the live database, as text and JSON.

use crate::live::TableWeight;
use crate::model::{SchemaSource, Table, mask_secrets};
use crate::pipeline::SchemaView;
use serde_json::{Value, json};

fn source_text(source: &SchemaSource) -> String {
    match source {
        SchemaSource::Unknown => "none".into(),
        SchemaSource::Migrations { dir, files } => {
            format!("migrations {}/ ({files} file{})", if dir.is_empty() { "." } else { dir }, if *files == 1 { "" } else { "s" })
        }
        SchemaSource::Dump { path } => format!("dump file {path}"),
        SchemaSource::Live { database } => format!("live {database}"),
    }
}

fn source_word(source: &SchemaSource) -> &'static str {
    match source {
        SchemaSource::Unknown => "unknown",
        SchemaSource::Migrations { .. } => "migrations",
        SchemaSource::Dump { .. } => "dump",
        SchemaSource::Live { .. } => "live",
    }
}

fn bytes_text(b: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let f = b as f64;
    match b {
        0..1024 => format!("{b} B"),
        1024..1_048_576 => format!("{:.0} kB", f / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.0} MB", f / 1_048_576.0),
        _ => format!("{:.1} GB", f / 1_073_741_824.0),
    }
}

fn weight_text(w: &TableWeight) -> String {
    let mut parts = vec![format!("{} rows", w.rows)];
    if w.bytes > 0 {
        parts.push(bytes_text(w.bytes));
    }
    if let Some(r) = w.writes_per_sec {
        parts.push(format!("{r} writes/s"));
    }
    parts.push(w.class.name().to_string());
    format!("{} ({})", parts.join(" · "), w.from)
}

fn selected<'a>(view: &'a SchemaView, table: Option<&'a str>) -> impl Iterator<Item = (&'a String, &'a Table)> + 'a {
    view.schema.tables.iter().filter(move |(k, _)| table.is_none_or(|t| *k == t || k.rsplit('.').next() == Some(t)))
}

/// The text form.
#[must_use]
pub fn schema_text(view: &SchemaView, table: Option<&str>) -> String {
    let mut out = String::new();
    out.push_str(&format!("Schema from {} · {} tables\n", source_text(&view.schema.source), view.schema.tables.len()));
    if let Some(l) = &view.live {
        out.push_str(&format!("  PostgreSQL {} · history: {}\n", l.server_version, source_text(&view.files.source)));
        for m in &l.missing {
            out.push_str(&format!("  not read: {m}\n"));
        }
    }
    for (k, t) in selected(view, table) {
        let weight = view.tables.get(k).map_or_else(|| "weight unknown".to_string(), weight_text);
        out.push_str(&format!("\n{k}  [{} · {weight}]\n", source_word(&view.schema.source)));
        let width = t.columns.iter().map(|c| c.name.chars().count()).max().unwrap_or(0);
        for c in &t.columns {
            let mut line = format!("  {:width$}  {}", c.name, c.type_sql);
            if c.not_null {
                line.push_str(" NOT NULL");
            }
            if c.identity {
                line.push_str(" IDENTITY");
            } else if c.generated {
                line.push_str(" GENERATED");
            }
            if let Some(d) = c.default.as_deref().filter(|_| !c.generated) {
                line.push_str(&format!(" DEFAULT {d}"));
            }
            out.push_str(&line);
            out.push('\n');
        }
        if let Some((p, b)) = &t.partition_of {
            out.push_str(&format!("  partition of {p} {b}\n"));
        }
        for c in &t.constraints {
            out.push_str(&format!("  constraint {} {}{}\n", c.name, c.definition, if c.validated { "" } else { " (not validated)" }));
        }
        for i in view.schema.indexes_on(k).filter(|i| i.constraint.is_none()) {
            out.push_str(&format!("  index {}\n", i.definition));
        }
    }
    let drift: Vec<_> = view.drift.iter().filter(|d| table.is_none_or(|t| d.object == t)).collect();
    if view.live.is_some() {
        out.push_str(&format!(
            "\nDrift from the history: {}\n",
            if drift.is_empty() { "none".to_string() } else { drift.len().to_string() }
        ));
        for d in drift {
            out.push_str(&format!("  - {}\n", d.message));
        }
    }
    mask_secrets(&out)
}

/// The JSON form.
#[must_use]
pub fn schema_json(view: &SchemaView, table: Option<&str>) -> Value {
    let tables: serde_json::Map<String, Value> = selected(view, table)
        .map(|(k, t)| {
            let indexes: Vec<_> = view.schema.indexes_on(k).collect();
            (
                k.clone(),
                json!({
                    "source": source_word(&view.schema.source),
                    "weight": view.tables.get(k),
                    "columns": t.columns,
                    "constraints": t.constraints,
                    "indexes": indexes,
                    "partitioned": t.partitioned,
                    "partition_of": t.partition_of.as_ref().map(|(p, b)| json!({"parent": p, "bound": b})),
                }),
            )
        })
        .collect();
    let mut out = json!({
        "source": view.schema.source,
        "history": view.files.source,
        "tables": tables,
        "enums": view.schema.enums,
        "views": view.schema.views,
        "domains": view.schema.domains,
    });
    if let Some(l) = &view.live {
        out["server_version"] = json!(l.server_version);
        out["drift"] = json!(view.drift.iter().filter(|d| table.is_none_or(|t| d.object == t)).collect::<Vec<_>>());
        out["extensions"] = json!(l.extensions);
        out["sequences"] = json!(l.sequences);
        out["triggers"] = json!(l.triggers);
        out["invalid_indexes"] = json!(l.invalid_indexes);
        out["inherits"] = json!(l.inherits);
        out["dependencies"] = json!(l.dependencies);
        out["missing"] = json!(l.missing);
    }
    crate::model::mask_json(&mut out);
    out
}
