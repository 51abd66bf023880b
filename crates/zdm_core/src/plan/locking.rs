//! The lock budget of a step. While a DDL statement waits for its lock, every later query on the table
//! queues behind it, so the time it may wait is the longest stall it can cause the application. A
//! transactional section that takes a lock the application's queries conflict with (SHARE or stronger)
//! therefore takes it with a short `lock_timeout` and retries with backoff inside the step, as GitLab's
//! `with_lock_retries` does: each attempt is a subtransaction (a PL/pgSQL block with an exception
//! handler), so a failed attempt releases every lock it took and leaves nothing behind.

use super::PlanConfig;
use super::sqlgen::dollar_quote;
use crate::model::{LockLevel, quote_literal};
use crate::rules;
use crate::sql;

/// Longest pause between two attempts, in milliseconds.
const MAX_PAUSE_MS: u64 = 2000;
/// First pause, in milliseconds; doubles each attempt up to [`MAX_PAUSE_MS`].
const FIRST_PAUSE_MS: u64 = 50;

/// `200ms` / `2s` / `1min` → milliseconds (the CLI accepts only these forms).
#[must_use]
pub fn duration_ms(text: &str) -> Option<u64> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let n: u64 = digits.parse().ok()?;
    match &text[digits.len()..] {
        "ms" => Some(n),
        "s" | "" => Some(n * 1000),
        "min" => Some(n * 60_000),
        _ => None,
    }
}

/// The longest time a section may spend waiting and pausing across all its attempts, in milliseconds.
#[must_use]
pub fn retry_budget_ms(config: &PlanConfig) -> u64 {
    let wait = duration_ms(&config.lock_timeout).unwrap_or(2000);
    (1..=u64::from(config.lock_retries)).map(|k| wait + pause_ms(k)).sum()
}

fn pause_ms(attempt: u64) -> u64 {
    FIRST_PAUSE_MS.saturating_mul(1 << attempt.min(16)).min(MAX_PAUSE_MS)
}

/// True when running `statements` takes a lock that the application's reads or writes would queue behind.
fn blocks_app(statements: &[crate::op::Statement]) -> bool {
    statements.iter().flat_map(|s| &s.ops).any(|op| rules::base_effect(&op.kind).0 >= LockLevel::Share)
}

/// Rewrites one transactional section (`SET LOCAL` header, then statements) so its statements run inside
/// a bounded retry loop with a short `lock_timeout`. Sections that take no blocking lock, and sections with
/// one retry allowed, come back unchanged.
#[must_use]
pub fn with_lock_retries(section: &str, config: &PlanConfig) -> String {
    if config.lock_retries <= 1 {
        return section.to_string();
    }
    let lines: Vec<&str> = section.lines().collect();
    let split = lines.iter().position(|l| !l.starts_with("SET LOCAL ")).unwrap_or(lines.len());
    let (header, body) = (&lines[..split], lines[split..].join("\n"));
    let Ok(statements) = sql::parse(&body) else {
        return section.to_string();
    };
    if !blocks_app(&statements) {
        return section.to_string();
    }
    // The statement timeout covers the whole DO statement: the step's own limit plus the retry budget.
    let statement_timeout = header.iter().find_map(|l| l.strip_prefix("SET LOCAL statement_timeout = ")).map(|v| {
        let v = v.trim_end_matches(';').trim_matches('\'');
        match duration_ms(v) {
            Some(0) | None => "0".to_string(),
            Some(ms) => quote_literal(&format!("{}s", (ms + retry_budget_ms(config)).div_ceil(1000))),
        }
    });
    let lock_timeout = quote_literal(&config.lock_timeout);
    let mut attempt = String::new();
    for s in &statements {
        attempt.push_str(&format!("      EXECUTE {};\n", dollar_quote(&s.sql, "zdm_s")));
    }
    let block = format!(
        "
DECLARE
  zdm_attempt integer := 0;
BEGIN
  LOOP
    BEGIN
      PERFORM set_config('lock_timeout', {lock_timeout}, true);
{attempt}      EXIT;
    EXCEPTION WHEN lock_not_available THEN
      zdm_attempt := zdm_attempt + 1;
      IF zdm_attempt >= {retries} THEN
        RAISE;
      END IF;
      RAISE NOTICE 'zdm: lock not available (attempt % of {retries}), retrying', zdm_attempt;
      PERFORM pg_sleep(least({max}, {first} * 2 ^ zdm_attempt) / 1000.0 * (0.5 + random() / 2));
    END;
  END LOOP;
END
",
        retries = config.lock_retries,
        max = MAX_PAUSE_MS,
        first = FIRST_PAUSE_MS,
    );
    let mut out = format!(
        "-- zdm: each attempt waits at most {} for its locks (the longest any query queues behind it); up to {} attempts with backoff\n",
        config.lock_timeout, config.lock_retries
    );
    out.push_str(&format!("SET LOCAL lock_timeout = {lock_timeout};\n"));
    if let Some(t) = statement_timeout {
        out.push_str(&format!("SET LOCAL statement_timeout = {t};\n"));
    }
    // Any other leading SET LOCAL (the change's own) keeps its place before the statements.
    for l in header.iter().filter(|l| !l.starts_with("SET LOCAL lock_timeout") && !l.starts_with("SET LOCAL statement_timeout")) {
        out.push_str(l);
        out.push('\n');
    }
    out.push_str(&format!("DO {};", dollar_quote(&block, "zdm_lock")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_ms("200ms"), Some(200));
        assert_eq!(duration_ms("2s"), Some(2000));
        assert_eq!(duration_ms("1min"), Some(60_000));
        assert_eq!(duration_ms("x"), None);
    }

    #[test]
    fn only_sections_that_block_the_app_are_wrapped() {
        let config = PlanConfig::default();
        let safe = "SET LOCAL lock_timeout = '200ms';\nSET LOCAL statement_timeout = '30s';\nCREATE TABLE t (id int);";
        assert_eq!(with_lock_retries(safe, &config), safe);
        let add = "SET LOCAL lock_timeout = '200ms';\nSET LOCAL statement_timeout = '30s';\nALTER TABLE users ADD COLUMN x int;";
        let out = with_lock_retries(add, &config);
        assert!(out.contains("EXECUTE $zdm_s$ALTER TABLE users ADD COLUMN x int$zdm_s$;"), "{out}");
        assert!(out.contains("EXCEPTION WHEN lock_not_available"), "{out}");
        let budget = retry_budget_ms(&config);
        assert!(out.contains(&format!("SET LOCAL statement_timeout = '{}s';", (30_000 + budget).div_ceil(1000))), "{out}");
        let once = PlanConfig { lock_retries: 1, ..PlanConfig::default() };
        assert_eq!(with_lock_retries(add, &once), add);
    }

    #[test]
    fn the_changes_own_set_local_is_kept() {
        let config = PlanConfig::default();
        let add = "SET LOCAL lock_timeout = '200ms';\nSET LOCAL statement_timeout = '30s';\nSET LOCAL search_path = billing;\nALTER TABLE users ADD COLUMN x int;";
        let out = with_lock_retries(add, &config);
        assert!(out.contains("SET LOCAL search_path = billing;\nDO $zdm_lock$"), "{out}");
    }

    #[test]
    fn a_body_holding_the_tag_gets_another() {
        let config = PlanConfig::default();
        let add = "SET LOCAL statement_timeout = 0;\nALTER TABLE users ADD COLUMN x text DEFAULT '$zdm_s$';";
        let out = with_lock_retries(add, &config);
        assert!(out.contains("EXECUTE $zdm_s_1$ALTER TABLE users ADD COLUMN x text DEFAULT '$zdm_s$'$zdm_s_1$;"), "{out}");
        assert!(out.contains("SET LOCAL statement_timeout = 0;"), "{out}");
    }
}
