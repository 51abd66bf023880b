//! Code references: where the application's code uses the tables and columns a change touches. The CLI
//! asks [`touched`] which names to look for, scans the repository (`zdm_refs`) and hands the
//! [`CodeRef`]s back in `PlanConfig::code_refs`; the plan lists them under the code deploy and rule G07
//! flags a drop or rename the code still uses. Imports `model`, `op`, `sql`.

use crate::op::OpKind;
use serde::Serialize;

/// How the code refers to the table or column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefKind {
    /// A field of an ORM model mapped to the column (Prisma field, `Column("name")`, `field :name`…).
    OrmField,
    /// SQL text in a string literal that names the table.
    Sql,
    /// A query builder call naming the table (`knex('users')`, `.from("users")`, `users::name`).
    QueryBuilder,
    /// An ORM model mapped to the table (`@@map("users")`, `__tablename__`, `class User < ApplicationRecord`).
    OrmModel,
}

impl RefKind {
    /// The word used in the receipt, JSON and report.
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            RefKind::OrmField => "orm-field",
            RefKind::Sql => "sql",
            RefKind::QueryBuilder => "query-builder",
            RefKind::OrmModel => "orm-model",
        }
    }
}

/// One place in the code that uses a touched table or column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CodeRef {
    /// File, relative to the project directory, `/`-separated.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub col: usize,
    /// Key of the table (`users`, `billing.invoices`).
    pub table: String,
    /// The column, when the reference is to one.
    pub column: Option<String>,
    /// How it refers to it.
    pub kind: RefKind,
    /// The line, trimmed and cut to 120 characters.
    pub snippet: String,
}

impl CodeRef {
    /// `path:line`.
    #[must_use]
    pub fn location(&self) -> String {
        format!("{}:{}", self.path, self.line)
    }

    /// True when it is about `table` and, for a column, that column (a table reference matches a table).
    #[must_use]
    pub fn is_about(&self, table: &str, column: Option<&str>) -> bool {
        self.table == table && (column.is_none() || self.column.as_deref() == column)
    }
}

/// A table the change touches and the columns of it whose references matter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RefTarget {
    /// Table key (`users`, `billing.invoices`).
    pub key: String,
    /// Unqualified table name, as the code spells it.
    pub name: String,
    /// Existing columns the change drops, renames, retypes or constrains.
    pub columns: Vec<String>,
}

/// The tables and columns the change touches (existing ones: a new column has no references yet), in
/// order of first mention. A change that does not parse touches nothing (the plan reports the error).
#[must_use]
pub fn touched(change: &str) -> Vec<RefTarget> {
    let Ok(statements) = crate::sql::parse(change) else { return Vec::new() };
    let mut out: Vec<RefTarget> = Vec::new();
    for op in statements.iter().flat_map(|s| &s.ops) {
        let Some(table) = op.kind.table() else { continue };
        let column = match &op.kind {
            OpKind::DropColumn { column, .. }
            | OpKind::AlterColumnType { column, .. }
            | OpKind::SetNotNull { column, .. }
            | OpKind::DropNotNull { column, .. }
            | OpKind::SetDefault { column, .. }
            | OpKind::DropDefault { column, .. } => Some(column.clone()),
            OpKind::RenameColumn { from, .. } => Some(from.clone()),
            _ => None,
        };
        let key = table.key();
        let target = match out.iter_mut().find(|t| t.key == key) {
            Some(t) => t,
            None => {
                out.push(RefTarget { key, name: table.name.clone(), columns: Vec::new() });
                out.last_mut().expect("just pushed")
            }
        };
        if let Some(c) = column.filter(|c| !target.columns.contains(c)) {
            target.columns.push(c);
        }
    }
    out
}

/// The references to `table` (and `column`, when given), best first: column references before table
/// ones, then model fields, SQL, query builders, models; then path and line.
#[must_use]
pub fn about<'a>(refs: &'a [CodeRef], table: &str, column: Option<&str>) -> Vec<&'a CodeRef> {
    ranked(refs.iter().filter(|r| r.is_about(table, column)))
}

/// `refs` best first (see [`about`]).
pub fn ranked<'a>(refs: impl IntoIterator<Item = &'a CodeRef>) -> Vec<&'a CodeRef> {
    let mut out: Vec<&CodeRef> = refs.into_iter().collect();
    out.sort_by(|a, b| (a.column.is_none(), a.kind, &a.path, a.line, a.col).cmp(&(b.column.is_none(), b.kind, &b.path, b.line, b.col)));
    out
}

/// What a drop or rename removes that code may still use: the table and, for a column, the column.
#[must_use]
pub fn removed_name(kind: &OpKind) -> Option<(String, Option<String>)> {
    match kind {
        OpKind::DropColumn { table, column, .. } => Some((table.key(), Some(column.clone()))),
        OpKind::RenameColumn { table, from, .. } => Some((table.key(), Some(from.clone()))),
        OpKind::DropTable { table, .. } | OpKind::RenameTable { table, .. } => Some((table.key(), None)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touched_lists_tables_and_existing_columns() {
        let t =
            touched("ALTER TABLE users RENAME COLUMN name TO full_name; ALTER TABLE users ADD COLUMN x int; DROP TABLE billing.invoices;");
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].key.as_str(), t[0].columns.clone()), ("users", vec!["name".to_string()]));
        assert_eq!((t[1].key.as_str(), t[1].name.as_str()), ("billing.invoices", "invoices"));
        assert!(touched("ALTER TABLE").is_empty());
    }
}
