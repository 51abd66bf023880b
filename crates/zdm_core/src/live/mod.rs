//! What a live database adds to a plan, as pure functions over plain data: where the project's
//! database is (`url`), what the replayed history and the database disagree on (`drift`), and how heavy
//! each table is (`TableWeight`, from live statistics, `--table-size` hints or `zdm.toml`).

pub mod url;

use crate::model::{Schema, TableClass, TableStats, Thresholds};
use crate::schema::{canonical_default, canonical_type};
use serde::Serialize;
use std::collections::BTreeMap;

/// One table's weight and class, as the plan's JSON carries it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableWeight {
    /// The class that decided the path.
    pub class: TableClass,
    /// Estimated rows.
    pub rows: u64,
    /// Total size in bytes (0 when only a row hint is known).
    pub bytes: u64,
    /// Rows written per second, when known.
    pub writes_per_sec: Option<f64>,
    /// Where the row count came from.
    pub from: String,
}

/// The weight of the table a stats entry describes.
#[must_use]
pub fn weigh(stats: &TableStats, thresholds: &Thresholds) -> TableWeight {
    TableWeight {
        class: thresholds.classify(stats),
        rows: stats.rows,
        bytes: stats.bytes,
        writes_per_sec: stats.write_rate(),
        from: if stats.rows_unknown { format!("{} (never analyzed)", stats.rows_from) } else { stats.rows_from.clone() },
    }
}

/// `zdm.toml` at the project root.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZdmToml {
    /// `[tables]`: rows per table key.
    pub tables: BTreeMap<String, u64>,
    /// `[thresholds]`.
    pub thresholds: Thresholds,
    /// `[check]`: what `zdm check` reports and fails on.
    pub check: CheckToml,
}

/// `[check]` of `zdm.toml`. Flags beat it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckToml {
    /// `exclude = ["I01", "prefer-text-field"]`: rules never reported.
    pub exclude: Vec<String>,
    /// `pg_version = 15`.
    pub pg_version: Option<u32>,
    /// `fail_on = "risky"` (safe, info, risky, dangerous).
    pub fail_on: Option<crate::model::Risk>,
    /// `assume_in_transaction = true`: every checked file runs inside a transaction, whatever its tool says.
    pub assume_in_transaction: Option<bool>,
    /// `[[check.overrides]]` with `path`, `exclude`, `assume_in_transaction`.
    pub overrides: Vec<crate::check::PathOverride>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToml {
    #[serde(default)]
    tables: BTreeMap<String, u64>,
    #[serde(default)]
    thresholds: RawThresholds,
    #[serde(default)]
    check: RawCheck,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    #[serde(default)]
    exclude: Vec<String>,
    pg_version: Option<u32>,
    fail_on: Option<String>,
    assume_in_transaction: Option<bool>,
    #[serde(default)]
    overrides: Vec<RawOverride>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    path: String,
    #[serde(default)]
    exclude: Vec<String>,
    assume_in_transaction: Option<bool>,
}

/// `safe`, `info`, `risky` or `dangerous` (`--fail-on`, `[check] fail_on`).
///
/// # Errors
/// Any other word.
pub fn parse_fail_on(word: &str) -> Result<crate::model::Risk, String> {
    use crate::model::Risk;
    match word.trim().to_lowercase().as_str() {
        "safe" => Ok(Risk::Safe),
        "info" => Ok(Risk::Info),
        "risky" => Ok(Risk::Risky),
        "dangerous" => Ok(Risk::Dangerous),
        other => Err(format!("fail_on = `{other}`: use safe, info, risky or dangerous")),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawThresholds {
    large_rows: Option<u64>,
    large_bytes: Option<u64>,
    hot_writes_per_sec: Option<f64>,
}

/// Parses `zdm.toml`.
///
/// # Errors
/// The text is not TOML, or holds a key zdm does not know, or a value of the wrong type.
pub fn parse_zdm_toml(text: &str) -> Result<ZdmToml, String> {
    let raw: RawToml = toml::from_str(text).map_err(|e| e.to_string().trim().replace('\n', " "))?;
    let d = Thresholds::default();
    let t = raw.thresholds;
    let c = raw.check;
    if let Some(v) = c.pg_version.filter(|v| !(crate::model::PgVersion::MIN..=crate::model::PgVersion::MAX).contains(v)) {
        return Err(format!(
            "[check] pg_version = {v}: zdm knows PostgreSQL {} to {}",
            crate::model::PgVersion::MIN,
            crate::model::PgVersion::MAX
        ));
    }
    let check = CheckToml {
        exclude: c.exclude,
        pg_version: c.pg_version,
        fail_on: c.fail_on.as_deref().map(parse_fail_on).transpose().map_err(|e| format!("[check] {e}"))?,
        assume_in_transaction: c.assume_in_transaction,
        overrides: c
            .overrides
            .into_iter()
            .map(|o| crate::check::PathOverride { path: o.path, exclude: o.exclude, assume_in_transaction: o.assume_in_transaction })
            .collect(),
    };
    Ok(ZdmToml {
        check,
        tables: raw.tables,
        thresholds: Thresholds {
            large_rows: t.large_rows.unwrap_or(d.large_rows),
            large_bytes: t.large_bytes.unwrap_or(d.large_bytes),
            hot_writes_per_sec: t.hot_writes_per_sec.unwrap_or(d.hot_writes_per_sec),
        },
    })
}

/// Parses one `--table-size TABLE=ROWS` (`50000000`, `50M`, `300k`, `1_000`).
///
/// # Errors
/// Not `name=number`.
pub fn parse_table_size(text: &str) -> Result<(String, u64), String> {
    let (name, rows) = text.split_once('=').ok_or("use TABLE=ROWS, e.g. users=50000000 or users=50M")?;
    let rows = rows.trim().replace('_', "").to_lowercase();
    let (digits, mult) = match rows.chars().last() {
        Some('k') => (&rows[..rows.len() - 1], 1_000),
        Some('m') => (&rows[..rows.len() - 1], 1_000_000),
        Some('g' | 'b') => (&rows[..rows.len() - 1], 1_000_000_000),
        _ => (rows.as_str(), 1),
    };
    let n: u64 = digits.parse().map_err(|_| format!("`{rows}` is not a row count (use 50000000, 50M or 300k)"))?;
    let name = name.trim().trim_start_matches("public.");
    if name.is_empty() {
        return Err("the table name is empty".into());
    }
    Ok((name.to_string(), n * mult))
}

/// One fact the replayed history and the live database disagree on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// The table key (or index name) it is about.
    pub object: String,
    /// What differs, in one sentence.
    pub message: String,
}

/// What the history (`files`) and the database (`live`) disagree on: tables, columns (type,
/// nullability, default), constraints (and whether validated) and indexes. Tables the history cannot see
/// into (blind spots) are skipped.
#[must_use]
pub fn drift(files: &Schema, live: &Schema) -> Vec<Drift> {
    let mut out = Vec::new();
    if !files.is_known() {
        return out;
    }
    let mut push = |object: &str, message: String| out.push(Drift { object: object.to_string(), message });
    for (k, t) in &files.tables {
        if !files.checks_names_on(&t.name) {
            continue;
        }
        let Some(l) = live.tables.get(k) else {
            push(k, format!("migrations create table {k}; the database has no such table"));
            continue;
        };
        for c in &t.columns {
            let Some(lc) = l.column(&c.name) else {
                push(k, format!("migrations add {k}.{}; the database has no such column", c.name));
                continue;
            };
            let (ft, lt) = (canonical_type(&c.type_sql), canonical_type(&lc.type_sql));
            let null = |n: bool| if n { " NOT NULL" } else { "" };
            if ft != lt {
                push(k, format!("migrations say {k}.{} {}; the database has it {}", c.name, c.type_sql, lc.type_sql));
            } else if c.not_null != lc.not_null {
                let has = if lc.not_null { "NOT NULL" } else { "nullable" };
                push(k, format!("migrations say {k}.{} {}{}; the database has it {has}", c.name, c.type_sql, null(c.not_null)));
            }
            let fd = c.default.as_deref().map(|d| canonical_default(d, &c.type_sql));
            let ld = lc.default.as_deref().map(|d| canonical_default(d, &lc.type_sql));
            if fd != ld && !c.generated {
                let show = |d: &Option<String>| d.as_deref().map_or_else(|| "no default".to_string(), |d| format!("DEFAULT {d}"));
                push(k, format!("migrations give {k}.{} {}; the database has {}", c.name, show(&fd), show(&ld)));
            }
        }
        for lc in l.columns.iter().filter(|lc| t.column(&lc.name).is_none()) {
            push(k, format!("the database has {k}.{} {}; the migrations never add it", lc.name, lc.type_sql));
        }
        for c in &t.constraints {
            match l.constraints.iter().find(|x| x.name == c.name) {
                None => push(k, format!("migrations add constraint {} on {k}; the database has none of that name", c.name)),
                Some(x) if x.validated != c.validated => {
                    let (said, has) = if c.validated { ("validated", "NOT VALID") } else { ("NOT VALID", "validated") };
                    push(k, format!("migrations leave constraint {} on {k} {said}; the database has it {has}", c.name));
                }
                Some(_) => {}
            }
        }
        for x in l.constraints.iter().filter(|x| !t.constraints.iter().any(|c| c.name == x.name)) {
            push(k, format!("the database has constraint {} on {k}; the migrations never add it", x.name));
        }
    }
    for k in live.tables.keys().filter(|k| !files.tables.contains_key(*k)) {
        if files.checks_names() {
            push(k, format!("the database has table {k}; the migrations never create it"));
        }
    }
    for (name, i) in &files.indexes {
        if i.constraint.is_none() && !live.indexes.contains_key(name) && live.tables.contains_key(&i.table) {
            push(&i.table, format!("migrations create index {name}; the database has none of that name"));
        }
    }
    for (name, i) in &live.indexes {
        if i.constraint.is_none() && !files.indexes.contains_key(name) && files.tables.contains_key(&i.table) {
            push(&i.table, format!("the database has index {name} on {}; the migrations never create it", i.table));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(sql: &str) -> Schema {
        crate::schema::replay("db", &[("1.sql".into(), sql.into())]).0
    }

    #[test]
    fn drift_names_each_difference() {
        let files = replay(
            "CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, age int DEFAULT 0); CREATE INDEX users_name_idx ON users (name);",
        );
        let live =
            replay("CREATE TABLE users (id bigint PRIMARY KEY, name text, age integer DEFAULT 0, extra int); CREATE TABLE other (x int);");
        let d: Vec<String> = drift(&files, &live).into_iter().map(|d| d.message).collect();
        assert_eq!(
            d,
            vec![
                "migrations say users.name text NOT NULL; the database has it nullable",
                "the database has users.extra int; the migrations never add it",
                "the database has table other; the migrations never create it",
                "migrations create index users_name_idx; the database has none of that name",
            ]
        );
        assert!(drift(&files, &files).is_empty());
        assert!(drift(&Schema::unknown(), &live).is_empty());
    }

    #[test]
    fn hints_and_toml() {
        assert_eq!(parse_table_size("users=50M"), Ok(("users".into(), 50_000_000)));
        assert_eq!(parse_table_size("public.users=1_000"), Ok(("users".into(), 1000)));
        assert!(parse_table_size("users").is_err());
        assert!(parse_table_size("users=lots").is_err());
        let t = parse_zdm_toml("[tables]\nusers = 50000000\n\"billing.invoices\" = 0\n[thresholds]\nlarge_rows = 10\n").unwrap();
        assert_eq!(t.tables["users"], 50_000_000);
        assert_eq!(t.tables["billing.invoices"], 0);
        assert_eq!(t.thresholds.large_rows, 10);
        assert_eq!(t.thresholds.hot_writes_per_sec, Thresholds::default().hot_writes_per_sec);
        assert!(parse_zdm_toml("[tables]\nusers = \"many\"\n").is_err());
        assert!(parse_zdm_toml("[thresholds]\nlarge = 1\n").is_err());
    }

    #[test]
    fn classes() {
        let th = Thresholds::default();
        assert_eq!(th.classify(&TableStats::hint(0, "x")), TableClass::Empty);
        assert_eq!(th.classify(&TableStats::hint(10, "x")), TableClass::Small);
        assert_eq!(th.classify(&TableStats::hint(50_000_000, "x")), TableClass::Large);
        let unknown = TableStats { rows: 0, rows_unknown: true, ..TableStats::default() };
        assert_eq!(th.classify(&unknown), TableClass::Large);
        let hot = TableStats { rows: 10, writes_per_sec: Some(500.0), ..TableStats::default() };
        assert_eq!(th.classify(&hot), TableClass::Hot);
        let big = TableStats { rows: 10, bytes: 2 << 30, ..TableStats::default() };
        assert_eq!(th.classify(&big), TableClass::Large);
    }
}
