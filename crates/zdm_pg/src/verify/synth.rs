//! Synthetic rows matching the columns' types and constraints: every value is a SQL expression of the
//! row number `g` (unique per row, so primary keys and unique columns hold), cast to the column's type;
//! foreign keys point into the parent's rows 1..N (parents are filled first). The app traffic writes rows
//! with the same expressions, so expected values can be recomputed in SQL by the audit.

use super::target::introspect_err;
use postgres::Client;

/// One column, as the fill and the traffic need it.
#[derive(Clone, Debug)]
pub struct Col {
    /// Name.
    pub name: String,
    /// `format_type` of the column.
    pub ty: String,
    /// Base type name (domains resolved).
    pub base: String,
    /// `e` for an enum.
    pub typtype: String,
    /// NOT NULL.
    pub not_null: bool,
    /// Has a default.
    pub has_default: bool,
    /// A generated column (never written).
    pub generated: bool,
    /// Single-column foreign key: the parent table.
    pub references: Option<String>,
}

/// A table: qualified name, columns, single-column primary key.
#[derive(Clone, Debug)]
pub struct TableInfo {
    /// `schema.name`, quoted as needed.
    pub name: String,
    /// Columns in order.
    pub cols: Vec<Col>,
    /// Primary key column, when the key is one column.
    pub key: Option<String>,
}

/// Quotes an identifier when needed.
#[must_use]
pub fn ident(name: &str) -> String {
    zdm_core::model::quote_ident(name)
}

/// Reads a table's columns and key.
///
/// # Errors
/// A catalog query fails.
pub fn table_info(c: &mut Client, table: &str) -> Result<TableInfo, String> {
    let cols = c
        .query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), coalesce(bt.typname, t.typname)::text,
                    coalesce(bt.typtype, t.typtype)::text, a.attnotnull, a.atthasdef OR a.attidentity <> '', a.attgenerated <> '',
                    (SELECT f.confrelid::regclass::text FROM pg_constraint f WHERE f.conrelid = a.attrelid AND f.contype = 'f'
                       AND f.conkey = ARRAY[a.attnum] LIMIT 1)
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
             WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            &[&table],
        )
        .map_err(|e| format!("{table}: {}", introspect_err(&e)))?
        .iter()
        .map(|r| Col {
            name: r.get(0),
            ty: r.get(1),
            base: r.get(2),
            typtype: r.get(3),
            not_null: r.get(4),
            has_default: r.get(5),
            generated: r.get(6),
            references: r.get(7),
        })
        .collect();
    let key = c
        .query(
            "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
             WHERE i.indrelid = $1::text::regclass AND i.indisprimary AND i.indnkeyatts = 1",
            &[&table],
        )
        .map_err(|e| format!("{table}: {}", introspect_err(&e)))?
        .first()
        .map(|r| r.get(0));
    Ok(TableInfo { name: table.to_string(), cols, key })
}

/// True for integer key types traffic can generate keys for.
#[must_use]
pub fn integer(col: &Col) -> bool {
    matches!(col.base.as_str(), "int4" | "int8" | "numeric")
}

/// The value of `col` for row number `g` (an SQL expression), `rows` the parents' row count.
#[must_use]
pub fn value(col: &Col, g: &str, rows: u64) -> String {
    if col.references.is_some() {
        return format!("(((({g}) - 1) % {rows}) + 1)::{}", col.ty);
    }
    let expr = match col.base.as_str() {
        "int2" => format!("(({g}) % 32000)"),
        "int4" | "int8" | "numeric" | "float4" | "float8" | "oid" | "money" => format!("({g})"),
        "text" | "varchar" | "bpchar" | "citext" | "name" => format!("('v' || ({g}))"),
        "bool" => format!("(({g}) % 2 = 0)"),
        "timestamp" | "timestamptz" => format!("(timestamp '2024-01-01' + ({g}) * interval '1 second')"),
        "date" => format!("(date '2000-01-01' + (({g}) % 20000)::int)"),
        "time" | "timetz" => format!("(time '00:00' + (({g}) % 86400) * interval '1 second')"),
        "interval" => format!("(({g}) * interval '1 second')"),
        "uuid" => format!("md5(({g})::text)::uuid"),
        "json" => format!("json_build_object('g', {g})"),
        "jsonb" => format!("jsonb_build_object('g', {g})"),
        "bytea" => format!("convert_to(({g})::text, 'UTF8')"),
        "inet" | "cidr" => format!("('10.0.0.0'::inet + ({g}))"),
        _ if col.typtype == "e" => format!("(enum_range(NULL::{}))[1]", col.ty),
        b if b.starts_with('_') => "'{}'".to_string(),
        _ if !col.not_null => "NULL".to_string(),
        _ => return "DEFAULT".to_string(),
    };
    format!("({expr})::{}", col.ty)
}

/// The columns a write sets (not generated ones).
#[must_use]
pub fn writable(t: &TableInfo) -> Vec<&Col> {
    t.cols.iter().filter(|c| !c.generated).collect()
}

/// Fills `tables` (parents first) with `rows` rows each, moves owned sequences past them, analyzes.
///
/// # Errors
/// An insert fails (a CHECK the synthetic values break, a type verify cannot make up): the message
/// names the table.
pub fn fill(c: &mut Client, tables: &[TableInfo], rows: u64) -> Result<(), String> {
    for t in tables {
        let cols = writable(t);
        if cols.is_empty() {
            continue;
        }
        let names: Vec<String> = cols.iter().map(|c| ident(&c.name)).collect();
        let values: Vec<String> = cols.iter().map(|col| value(col, "g", rows)).collect();
        let sql = format!(
            "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM generate_series(1, {rows}) g",
            t.name,
            names.join(", "),
            values.join(", ")
        );
        c.batch_execute(&sql).map_err(|e| format!("cannot fill {} with synthetic rows: {}", t.name, introspect_err(&e)))?;
        for col in &cols {
            let _ = c.execute(
                "SELECT setval(s, $3) FROM (SELECT pg_get_serial_sequence($1, $2) s) x WHERE s IS NOT NULL",
                &[&t.name, &col.name, &i64::try_from(rows + 1).unwrap_or(i64::MAX)],
            );
        }
        c.batch_execute(&format!("ANALYZE {}", t.name)).map_err(|e| introspect_err(&e))?;
    }
    Ok(())
}

/// `tables` and every table they reference, parents first.
///
/// # Errors
/// A catalog query fails.
pub fn with_parents(c: &mut Client, tables: &[String]) -> Result<Vec<TableInfo>, String> {
    let mut out: Vec<TableInfo> = Vec::new();
    let mut visiting: Vec<String> = Vec::new();
    fn visit(c: &mut Client, t: &str, out: &mut Vec<TableInfo>, visiting: &mut Vec<String>) -> Result<(), String> {
        if out.iter().any(|o| o.name == t) || visiting.iter().any(|v| v == t) {
            return Ok(());
        }
        visiting.push(t.to_string());
        let info = table_info(c, t)?;
        for p in info.cols.iter().filter_map(|c| c.references.clone()) {
            visit(c, &p, out, visiting)?;
        }
        out.push(info);
        Ok(())
    }
    for t in tables {
        visit(c, t, &mut out, &mut visiting)?;
    }
    Ok(out)
}
