//! Applies migration files. [`apply`] does it the way dbmate does: each file has an `up` and a `down`
//! section; a section runs inside BEGIN/COMMIT unless its directive says `transaction:false`, and either
//! way the whole section is sent as one simple-query string (so a non-transactional section must hold
//! exactly one statement). [`execute`] and [`execute_each`] are the two ways other tools hand SQL over
//! (one string, or statement by statement), for tools whose runner cannot be installed here.

use postgres::Client;

/// Which section to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `-- migrate:up`.
    Up,
    /// `-- migrate:down`.
    Down,
}

/// One section of a migration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The SQL, directive line included (it is a comment).
    pub sql: String,
    /// Runs inside a transaction.
    pub transaction: bool,
}

/// A file split into its sections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    /// Forward section.
    pub up: Section,
    /// Rollback section.
    pub down: Section,
}

/// Why a file could not be applied.
#[derive(Debug)]
pub enum RunError {
    /// The file is not in dbmate's format.
    Format(String),
    /// PostgreSQL refused a statement.
    Db(postgres::Error),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Format(m) => f.write_str(m),
            RunError::Db(e) => match e.as_db_error() {
                Some(db) => write!(f, "{}: {}{}", db.severity(), db.message(), db.detail().map(|d| format!(" ({d})")).unwrap_or_default()),
                None => write!(f, "{e}"),
            },
        }
    }
}

impl std::error::Error for RunError {}

fn directive(line: &str) -> Option<(&'static str, bool)> {
    let rest = line.strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("migrate:")?;
    let (which, opts) = if let Some(o) = rest.strip_prefix("up") {
        ("up", o)
    } else if let Some(o) = rest.strip_prefix("down") {
        ("down", o)
    } else {
        return None;
    };
    if !(opts.is_empty() || opts.starts_with(char::is_whitespace)) {
        return None;
    }
    Some((which, !opts.split_whitespace().any(|o| o == "transaction:false")))
}

/// Splits a file into its sections, with dbmate's rules: both sections required, `up` first, only
/// comments and blank lines before `up`.
///
/// # Errors
/// [`RunError::Format`] naming the rule broken.
pub fn parse(contents: &str) -> Result<Migration, RunError> {
    let mut up: Option<(usize, bool)> = None;
    let mut down: Option<(usize, bool)> = None;
    let mut offset = 0;
    for line in contents.split_inclusive('\n') {
        match directive(line.trim_end()) {
            Some(("up", tx)) if up.is_none() => up = Some((offset, tx)),
            Some(("down", tx)) if down.is_none() => down = Some((offset, tx)),
            _ => {}
        }
        offset += line.len();
    }
    let (Some((u, utx)), Some((d, dtx))) = (up, down) else {
        return Err(RunError::Format("needs both `-- migrate:up` and `-- migrate:down`".into()));
    };
    if u > d {
        return Err(RunError::Format("`-- migrate:up` must come before `-- migrate:down`".into()));
    }
    if contents[..u].lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--")) {
        return Err(RunError::Format("statements before `-- migrate:up`".into()));
    }
    Ok(Migration {
        up: Section { sql: contents[u..d].to_string(), transaction: utx },
        down: Section { sql: contents[d..].to_string(), transaction: dtx },
    })
}

/// Runs one section of a migration file.
///
/// # Errors
/// [`RunError`] when the file is malformed or PostgreSQL refuses a statement; a transactional section is
/// rolled back.
pub fn apply(client: &mut Client, contents: &str, direction: Direction) -> Result<(), RunError> {
    let m = parse(contents)?;
    let section = match direction {
        Direction::Up => m.up,
        Direction::Down => m.down,
    };
    execute(client, &section.sql, section.transaction)
}

/// Sends `sql` as one simple-query string, inside `BEGIN`/`COMMIT` when `transaction` (how dbmate, sqlx,
/// Diesel, refinery, golang-migrate and Prisma hand a file to PostgreSQL). Without a transaction, several
/// statements in the string still run in PostgreSQL's implicit transaction block.
///
/// # Errors
/// [`RunError::Db`] when PostgreSQL refuses a statement; a transaction is rolled back.
pub fn execute(client: &mut Client, sql: &str, transaction: bool) -> Result<(), RunError> {
    if transaction {
        let mut tx = client.transaction().map_err(RunError::Db)?;
        tx.batch_execute(sql).map_err(RunError::Db)?;
        tx.commit().map_err(RunError::Db)
    } else {
        client.batch_execute(sql).map_err(RunError::Db)
    }
}

/// Sends each statement on its own, inside one `BEGIN`/`COMMIT` when `transaction` (how goose, Flyway,
/// Liquibase and golang-migrate's multi-statement mode run a file after splitting it).
///
/// # Errors
/// [`RunError::Db`] at the first statement PostgreSQL refuses; a transaction is rolled back.
pub fn execute_each(client: &mut Client, statements: &[String], transaction: bool) -> Result<(), RunError> {
    if transaction {
        let mut tx = client.transaction().map_err(RunError::Db)?;
        for s in statements {
            tx.batch_execute(s).map_err(RunError::Db)?;
        }
        tx.commit().map_err(RunError::Db)
    } else {
        for s in statements {
            client.batch_execute(s).map_err(RunError::Db)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_follow_dbmate_rules() {
        let m =
            parse("-- note\n-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n-- migrate:down\nDROP INDEX i;\n")
                .unwrap();
        assert!(!m.up.transaction);
        assert!(m.down.transaction);
        assert!(m.up.sql.contains("CONCURRENTLY"));
        assert!(m.down.sql.starts_with("-- migrate:down"));
        assert!(parse("SELECT 1;\n-- migrate:up\n-- migrate:down\n").is_err());
        assert!(parse("-- migrate:down\n-- migrate:up\n").is_err());
        assert!(parse("-- migrate:up\nSELECT 1;\n").is_err());
    }
}
