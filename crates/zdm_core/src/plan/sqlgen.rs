//! SQL building blocks shared by the recipes: transaction headers, sync triggers, batched backfills,
//! columns copied from another column's type. Every fragment runs as written.

use super::PlanConfig;
pub(super) use crate::model::dollar_quote;
use crate::model::{QName, quote_ident, quote_literal};

/// Timeouts at the top of a transactional step. `statement` None means unlimited (validation scans).
pub(super) fn header(config: &PlanConfig, statement: Option<&str>) -> String {
    format!(
        "SET LOCAL lock_timeout = {};\nSET LOCAL statement_timeout = {};",
        quote_literal(&config.lock_timeout),
        statement.map_or_else(|| "0".to_string(), quote_literal)
    )
}

/// A transactional body: header, then statements each ending in `;`.
pub(super) fn tx(config: &PlanConfig, statement_timeout: Option<&str>, body: &[String]) -> String {
    let mut out = header(config, statement_timeout);
    for s in body {
        out.push('\n');
        out.push_str(s.trim_end_matches(';'));
        out.push(';');
    }
    out
}

/// The statement timeout of steps that are expected to hold their lock only briefly.
pub(super) const BRIEF: Option<&str> = Some("30s");

/// Name of zdm's sync trigger (and its function) for `table`, between `a` and `b`.
pub(super) fn trigger_name(table: &QName, a: &str, b: &str) -> String {
    crate::schema::zdm_name(&format!("zdm_sync_{}", table.name), &format!("{a}_{b}"), "trg")
}

/// The function name qualified like the table (so it lands in the same schema).
fn function_name(table: &QName, name: &str) -> String {
    QName { schema: table.schema.clone(), name: name.to_string() }.sql()
}

/// Two-way sync between `old` and `new` (rename): whichever column a write changes, the other follows.
/// `new` has no default while the trigger exists, so an INSERT that gives `new` wrote it on purpose and wins
/// over `old`'s default.
pub(super) fn two_way_trigger(table: &QName, old: &str, new: &str) -> Vec<String> {
    let name = trigger_name(table, old, new);
    let (o, n) = (quote_ident(old), quote_ident(new));
    let body = retag(format!(
        "CREATE FUNCTION {f}() RETURNS trigger LANGUAGE plpgsql AS $zdm$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.{n} IS NULL THEN
      NEW.{n} := NEW.{o};
    ELSE
      NEW.{o} := NEW.{n};
    END IF;
  ELSIF NEW.{o} IS DISTINCT FROM OLD.{o} THEN
    NEW.{n} := NEW.{o};
  ELSIF NEW.{n} IS DISTINCT FROM OLD.{n} THEN
    NEW.{o} := NEW.{n};
  END IF;
  RETURN NEW;
END
$zdm$",
        f = function_name(table, &name)
    ));
    vec![body, create_trigger(table, &name)]
}

/// One-way sync: `target` always holds `expr` computed over the written row (type change).
pub(super) fn cast_trigger(table: &QName, source: &str, target: &str, expr: &str) -> Vec<String> {
    let name = trigger_name(table, source, target);
    let body = retag(format!(
        "CREATE FUNCTION {f}() RETURNS trigger LANGUAGE plpgsql AS $zdm$
BEGIN
  SELECT {expr} INTO NEW.{t} FROM (SELECT NEW.*) AS zdm_row;
  RETURN NEW;
END
$zdm$",
        f = function_name(table, &name),
        t = quote_ident(target)
    ));
    vec![body, create_trigger(table, &name)]
}

fn create_trigger(table: &QName, name: &str) -> String {
    format!(
        "CREATE TRIGGER {t} BEFORE INSERT OR UPDATE ON {tab}\n  FOR EACH ROW EXECUTE FUNCTION {f}()",
        t = quote_ident(name),
        tab = table.sql(),
        f = function_name(table, name)
    )
}

/// Drops zdm's trigger and function.
pub(super) fn drop_trigger(table: &QName, a: &str, b: &str, if_exists: bool) -> Vec<String> {
    let name = trigger_name(table, a, b);
    let ie = if if_exists { "IF EXISTS " } else { "" };
    vec![
        format!("DROP TRIGGER {ie}{} ON {}", quote_ident(&name), table.sql()),
        format!("DROP FUNCTION {ie}{}()", function_name(table, &name)),
    ]
}

/// `ALTER TABLE … ADD COLUMN new <type>`: the type is written when known, else copied from `source` at run time.
pub(super) fn add_column_like(table: &QName, new: &str, type_sql: Option<&str>, source: &str, default: Option<&str>) -> String {
    let default_sql = default.map(|d| format!(" DEFAULT {d}")).unwrap_or_default();
    match type_sql {
        Some(t) => format!("ALTER TABLE {} ADD COLUMN {} {t}{default_sql}", table.sql(), quote_ident(new)),
        None => retag(format!(
            "DO $zdm$
BEGIN
  EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s{extra}', {reg}::regclass, {new},
    (SELECT format_type(atttypid, atttypmod) FROM pg_attribute
      WHERE attrelid = {reg}::regclass AND attname = {src} AND NOT attisdropped));
END
$zdm$",
            extra = default_sql.replace('\'', "''").replace('%', "%%"),
            reg = quote_literal(&table.sql()),
            new = quote_literal(new),
            src = quote_literal(source)
        )),
    }
}

/// zdm's templates open and close their dollar quote with `$zdm$`: the first and the last occurrence in
/// `block`. When the text between them (a user's expression, literal or name) holds `$zdm$` as well, the
/// pair gets a tag that text does not hold, so nothing inside can close the quote early.
pub(super) fn retag(block: String) -> String {
    const TAG: &str = "$zdm$";
    let (Some(open), Some(close)) = (block.find(TAG), block.rfind(TAG)) else { return block };
    let inner = &block[(open + TAG.len()).min(close)..close];
    if close <= open || (!inner.contains(TAG) && !inner.ends_with("$zdm")) {
        return block;
    }
    format!("{}{}{}", &block[..open], dollar_quote(inner, "zdm"), &block[close + TAG.len()..])
}

/// How a backfill walks the table.
pub(super) enum Walk {
    /// Key ranges over these (primary key) columns.
    Key(Vec<String>),
    /// Ranges of heap pages (no key known; PostgreSQL 14+ scans TID ranges).
    Pages,
}

/// What one backfill does.
pub(super) struct Backfill<'a> {
    /// Table.
    pub table: &'a QName,
    /// `col = expr` assignments.
    pub set: Vec<(String, String)>,
    /// Extra row filter (the user's WHERE).
    pub filter: Option<String>,
    /// Predicate of rows that still need the update (keeps reruns harmless).
    pub needs: String,
    /// How to walk.
    pub walk: Walk,
}

/// The table where resumable backfills record their progress (one row per running step, dropped when empty).
pub(super) const PROGRESS_TABLE: &str = "zdm_backfill_progress";

/// A single `DO` statement that runs the backfill in batches, one transaction each, pausing between them.
pub(super) fn backfill(b: &Backfill<'_>, config: &PlanConfig) -> String {
    retag(backfill_with(b, config, None))
}

/// Like [`backfill`], walking the key; each batch also records its last key under `step` in
/// [`PROGRESS_TABLE`] in its own transaction, so a rerun after a failure resumes after the last committed
/// batch instead of updating those rows again. The row (and the table, once empty) goes at the end.
pub(super) fn resumable_backfill(b: &Backfill<'_>, config: &PlanConfig, step: &str) -> String {
    retag(backfill_with(b, config, Some(step)))
}

/// The rollback of a resumable backfill: the previous values are not kept, but a progress row left by a
/// failed run goes, so running the step again later starts from the first row.
pub(super) fn forget_progress(table: &QName, step: &str) -> String {
    let prog = QName { schema: table.schema.clone(), name: PROGRESS_TABLE.into() };
    retag(format!(
        "-- the previous values are not kept: restore from a backup if needed
DO $zdm$
BEGIN
  IF to_regclass({reg}) IS NOT NULL THEN
    DELETE FROM {p} WHERE step = {step};
    IF NOT EXISTS (SELECT FROM {p}) THEN
      DROP TABLE {p};
    END IF;
  END IF;
END
$zdm$;",
        reg = quote_literal(&prog.sql()),
        p = prog.sql(),
        step = quote_literal(step)
    ))
}

fn backfill_with(b: &Backfill<'_>, config: &PlanConfig, progress: Option<&str>) -> String {
    let set = b.set.iter().map(|(c, e)| format!("{} = {e}", quote_ident(c))).collect::<Vec<_>>().join(", ");
    let mut cond = Vec::new();
    if !b.needs.is_empty() {
        cond.push(format!("({})", b.needs));
    }
    if let Some(f) = &b.filter {
        cond.push(format!("({f})"));
    }
    let cond = if cond.is_empty() { String::new() } else { format!(" AND {}", cond.join(" AND ")) };
    let table = b.table.sql();
    let timeouts = format!(
        "    PERFORM set_config('lock_timeout', {}, true);\n    PERFORM set_config('statement_timeout', '1min', true);",
        quote_literal(&config.lock_timeout)
    );
    match &b.walk {
        Walk::Key(key) => {
            let cols: Vec<String> = key.iter().map(|k| quote_ident(k)).collect();
            let row = format!("({})", cols.join(", "));
            let vars = |prefix: &str| (1..=key.len()).map(|i| format!("zdm_{prefix}{i}")).collect::<Vec<_>>();
            let (lo, up, stop) = (vars("lo"), vars("up"), vars("stop"));
            let tuple = |v: &[String]| format!("({})", v.join(", "));
            let mut decl = String::new();
            for (i, k) in key.iter().enumerate() {
                for v in [&lo[i], &up[i], &stop[i]] {
                    decl.push_str(&format!("  {v} {table}.{}%TYPE;\n", quote_ident(k)));
                }
            }
            let order = cols.join(", ");
            let order_desc = cols.iter().map(|c| format!("{c} DESC")).collect::<Vec<_>>().join(", ");
            let (lo_s, stop_s, up_s) = (lo.join(", "), stop.join(", "), up.join(", "));
            let (lo_t, up_t, stop_t) = (tuple(&lo), tuple(&up), tuple(&stop));
            let update =
                retried_update(&format!("UPDATE {table} SET {set}\n         WHERE {row} >= {lo_t} AND {row} <= {up_t}{cond}"), config);
            let first_lo = format!("SELECT {order} INTO {lo_s} FROM {table} ORDER BY {order} LIMIT 1;");
            let find_stop = format!("SELECT {order} INTO {stop_s} FROM {table} ORDER BY {order_desc} LIMIT 1;");
            let (start, record, finish) = match progress {
                None => (format!("  {first_lo}\n  {find_stop}\n"), String::new(), String::new()),
                Some(step) => {
                    decl.push_str("  zdm_saved text[];\n  zdm_done text[];\n");
                    let prog = QName { schema: b.table.schema.clone(), name: PROGRESS_TABLE.into() }.sql();
                    let step = quote_literal(step);
                    let as_text =
                        |v: &[String]| format!("ARRAY[{}]", v.iter().map(|x| format!("{x}::text")).collect::<Vec<_>>().join(", "));
                    let from_array = |v: &[String], a: &str| {
                        v.iter().enumerate().map(|(i, x)| format!("    {x} := {a}[{}];\n", i + 1)).collect::<String>()
                    };
                    (
                        format!(
                            "{timeouts}
  CREATE TABLE IF NOT EXISTS {prog} (step text PRIMARY KEY, stop text[], done text[]);
  SELECT stop, done INTO zdm_saved, zdm_done FROM {prog} WHERE step = {step};
  IF NOT FOUND THEN
    -- First run: the rows to update end at today's last key.
    {find_stop}
    INSERT INTO {prog} (step, stop) VALUES ({step}, {stop_arr});
    COMMIT;
  ELSE
    -- Rerun after a failure: the same end, and resume after the last committed batch.
{restore_stop}  END IF;
  IF zdm_done IS NULL THEN
    SELECT {order} INTO {lo_s} FROM {table} WHERE {row} <= {stop_t} ORDER BY {order} LIMIT 1;
  ELSE
{restore_done}    SELECT {order} INTO {lo_s} FROM {table} WHERE {row} > {up_t} AND {row} <= {stop_t} ORDER BY {order} LIMIT 1;
  END IF;
",
                            timeouts = timeouts.replacen("    ", "  ", 2).replace("\n    ", "\n  "),
                            stop_arr = as_text(&stop),
                            restore_stop = from_array(&stop, "zdm_saved"),
                            restore_done = from_array(&up, "zdm_done"),
                        ),
                        format!("    UPDATE {prog} SET done = {} WHERE step = {step};\n", as_text(&up)),
                        format!(
                            "  DELETE FROM {prog} WHERE step = {step};
  IF NOT EXISTS (SELECT FROM {prog}) THEN
    DROP TABLE {prog};
  END IF;
"
                        ),
                    )
                }
            };
            format!(
                "DO $zdm$
DECLARE
  zdm_batch CONSTANT integer := {batch};
{decl}  zdm_tries integer;
BEGIN
{start}  WHILE {lo0} IS NOT NULL LOOP
{timeouts}
    SELECT {order} INTO {up_s} FROM (
      SELECT {order} FROM {table} WHERE {row} >= {lo_t} AND {row} <= {stop_t} ORDER BY {order} LIMIT zdm_batch
    ) AS zdm_b ORDER BY {order_desc} LIMIT 1;
{update}
{record}    COMMIT;
    SELECT {order} INTO {lo_s} FROM {table} WHERE {row} > {up_t} AND {row} <= {stop_t} ORDER BY {order} LIMIT 1;
    PERFORM pg_sleep({pause});
  END LOOP;
{finish}END
$zdm$",
                batch = config.batch_size,
                lo0 = lo[0],
                pause = config.batch_pause,
            )
        }
        Walk::Pages => {
            let update = retried_update(
                &format!(
                    "UPDATE {table} SET {set}\n         WHERE ctid >= format('(%s,0)', zdm_page)::tid AND ctid < format('(%s,0)', zdm_page + zdm_pages)::tid{cond}"
                ),
                config,
            );
            format!(
                "DO $zdm$
DECLARE
  zdm_tries integer;
  zdm_pages CONSTANT integer := greatest(1, {batch} / 50);
  zdm_last bigint;
  zdm_page bigint := 0;
BEGIN
  zdm_last := pg_relation_size({reg}) / current_setting('block_size')::bigint;
  WHILE zdm_page <= zdm_last LOOP
{timeouts}
{update}
    COMMIT;
    zdm_page := zdm_page + zdm_pages;
    PERFORM pg_sleep({pause});
  END LOOP;
END
$zdm$",
                batch = config.batch_size,
                reg = quote_literal(&table),
                pause = config.batch_pause,
            )
        }
    }
}

/// One batch's UPDATE, retried when a row it must lock is held longer than the plan's `lock_timeout`: the
/// attempt is a subtransaction, so it releases the rows it had locked and the application's writers go on;
/// after the plan's number of tries the step fails (and its rerun resumes or skips what was done).
fn retried_update(update: &str, config: &PlanConfig) -> String {
    format!(
        "    zdm_tries := 0;
    LOOP
      BEGIN
        {update};
        EXIT;
      EXCEPTION WHEN lock_not_available THEN
        zdm_tries := zdm_tries + 1;
        IF zdm_tries >= {retries} THEN
          RAISE;
        END IF;
        PERFORM pg_sleep(least(2000, 50 * 2 ^ zdm_tries) / 1000.0 * (0.5 + random() / 2));
      END;
    END LOOP;",
        retries = config.lock_retries.max(1),
    )
}

/// The statement of a step that has nothing to undo.
pub(super) fn nothing(reason: &str) -> String {
    format!("-- {reason}\nSELECT 1;")
}

/// Marks a rollback zdm cannot write; the receipt's rollback line repeats the reason.
pub(super) const CANNOT_UNDO: &str = "zdm: cannot be undone: ";

/// A rollback that cannot be automated: a no-op saying why (a down that raised would stop every rollback
/// of the project, even past safe steps).
pub(super) fn refuse(reason: &str) -> String {
    format!("-- {CANNOT_UNDO}{}\nSELECT 1;", reason.replace(['\n', '\r'], " "))
}

/// The reason a rollback written by [`refuse`] gives, if it is one.
pub(super) fn refused(down: &str) -> Option<&str> {
    let at = down.find(CANNOT_UNDO)? + CANNOT_UNDO.len();
    Some(down[at..].lines().next().unwrap_or(""))
}

/// Two-way sync with conversions (type change that keeps the new column): a write to `old` sets `new` to
/// `to_new`, a write to `new` sets `old` to `to_old`; both expressions are over the written row.
pub(super) fn two_way_cast_trigger(table: &QName, old: &str, new: &str, to_new: &str, to_old: &str) -> Vec<String> {
    let name = trigger_name(table, old, new);
    let (o, n) = (quote_ident(old), quote_ident(new));
    let body = retag(format!(
        "CREATE FUNCTION {f}() RETURNS trigger LANGUAGE plpgsql AS $zdm$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.{n} IS NULL THEN
      SELECT {to_new} INTO NEW.{n} FROM (SELECT NEW.*) AS zdm_row;
    ELSE
      SELECT {to_old} INTO NEW.{o} FROM (SELECT NEW.*) AS zdm_row;
    END IF;
  ELSIF NEW.{o} IS DISTINCT FROM OLD.{o} THEN
    SELECT {to_new} INTO NEW.{n} FROM (SELECT NEW.*) AS zdm_row;
  ELSIF NEW.{n} IS DISTINCT FROM OLD.{n} THEN
    SELECT {to_old} INTO NEW.{o} FROM (SELECT NEW.*) AS zdm_row;
  END IF;
  RETURN NEW;
END
$zdm$",
        f = function_name(table, &name)
    ));
    vec![body, create_trigger(table, &name)]
}

/// One `DO` statement (for a `transaction:false` section) that runs `before` in a first transaction, then
/// the batched backfill `backfill_do` (a `DO` block from [`backfill`]), then each group of `after` in a
/// transaction of its own. Every transaction takes its locks with the plan's `lock_timeout`.
pub(super) fn batched_block(config: &PlanConfig, before: &[String], backfill_do: &str, after: &[Vec<String>]) -> String {
    let lines: Vec<&str> = backfill_do.trim_end().trim_end_matches(';').lines().collect();
    let begin = lines.iter().position(|l| *l == "BEGIN").unwrap_or(1);
    let end = lines.iter().rposition(|l| *l == "END").unwrap_or(lines.len().saturating_sub(1));
    let declare: Vec<&str> = lines[1..begin].iter().copied().filter(|l| *l != "DECLARE").collect();
    let lock = format!("  PERFORM set_config('lock_timeout', {}, true);", quote_literal(&config.lock_timeout));
    // Only the first line is indented: later lines may sit inside a dollar-quoted body or a literal.
    let indent = |s: &str| format!("  {};", s.trim_end_matches(';'));
    let mut body = vec![lock.clone()];
    body.extend(before.iter().map(|s| indent(s)));
    body.push("  COMMIT;".into());
    body.extend(lines[begin + 1..end].iter().map(|l| (*l).to_string()));
    for group in after.iter().filter(|g| !g.is_empty()) {
        body.push(lock.clone());
        body.extend(group.iter().map(|s| indent(s)));
        body.push("  COMMIT;".into());
    }
    let text = body.join("\n");
    let decl = if declare.is_empty() { String::new() } else { format!("DECLARE\n{}\n", declare.join("\n")) };
    format!("DO {};", dollar_quote(&format!("\n{decl}BEGIN\n{text}\nEND\n"), "zdm_rollback"))
}
