//! `search_path`: after `SET search_path = billing, public` (or `SET LOCAL`, `RESET`, a literal
//! `set_config('search_path', …)`), unqualified names of later statements resolve in that path, the way
//! PostgreSQL resolves them: an existing table, view, type or index is found in the first schema of the path
//! that has it (in the schema model); a new one is created in the path's first schema. Operations get
//! qualified names, so the schema model and every statement zdm generates name the right object.
//! Used by `schema::replay` (per migration file) and `plan::analyze` (across the change). Imports `model`,
//! `op`, `sql`.

use crate::model::{QName, Schema};
use crate::op::{Op, OpKind, TableAction};
use crate::sql;

/// The search path in force; `None` is the default (`"$user", public`), where zdm leaves names as written.
#[derive(Clone, Debug, Default)]
pub struct Resolver {
    path: Option<Vec<String>>,
}

#[derive(Clone, Copy)]
enum Role {
    /// A table, view or sequence that exists.
    Relation,
    /// A type or domain that exists.
    Type,
    /// An index that exists.
    Index,
    /// A new object: created in the first schema of the path.
    New,
}

impl Resolver {
    /// True when `ops` change the search path (so resolving is needed at all).
    #[must_use]
    pub fn needed<'a>(ops: impl IntoIterator<Item = &'a Op>) -> bool {
        ops.into_iter().any(|op| sets_path(op) && sql::search_path_of(&op.sql).is_some())
    }

    /// Follows a `SET search_path` in `op`, or qualifies the unqualified names of `op` against `schema`
    /// (the schema just before `op`).
    pub fn visit(&mut self, op: &mut Op, schema: &Schema) {
        if sets_path(op)
            && let Some(path) = sql::search_path_of(&op.sql)
        {
            // `"$user"` names a schema zdm cannot know; pg_catalog and pg_temp hold no project objects.
            self.path =
                path.map(|p| p.into_iter().filter(|s| !s.starts_with('$') && s != "pg_catalog" && !s.starts_with("pg_temp")).collect());
            return;
        }
        let Some(path) = self.path.as_deref() else { return };
        if path.is_empty() {
            return;
        }
        for (name, role) in names_mut(&mut op.kind) {
            if name.schema.is_none() && !name.name.is_empty() {
                name.schema = Some(resolve(path, &name.name, role, schema));
            }
        }
        if let OpKind::CreateIndex(spec) = &mut op.kind
            && let Some(body) = sql::index_body_on(&spec.body, &spec.table)
        {
            spec.body = body;
        }
    }
}

/// The operations of a change with names qualified after each `SET search_path` (unchanged when it sets none).
#[must_use]
pub fn qualify(mut ops: Vec<Op>, before: &Schema) -> Vec<Op> {
    if !Resolver::needed(&ops) {
        return ops;
    }
    let mut schema = before.clone();
    let mut resolver = Resolver::default();
    for op in &mut ops {
        resolver.visit(op, &schema);
        crate::schema::apply_op(&mut schema, op, true);
    }
    ops
}

fn resolve(path: &[String], name: &str, role: Role, schema: &Schema) -> String {
    let found = |s: &String| {
        let q = QName { schema: Some(s.clone()), name: name.to_string() };
        let key = q.key();
        match role {
            Role::Relation => schema.tables.contains_key(&key) || schema.views.contains_key(&key),
            Role::Type => schema.enums.contains_key(&key) || schema.domains.contains_key(&key),
            Role::Index => schema.indexes.get(name).is_some_and(|i| i.table.split_once('.').map_or("public", |(s, _)| s) == s.as_str()),
            Role::New => false,
        }
    };
    path.iter().find(|s| found(s)).unwrap_or(&path[0]).clone()
}

/// Every name an operation carries, with how it resolves.
fn names_mut(kind: &mut OpKind) -> Vec<(&mut QName, Role)> {
    use Role::{Index, New, Relation, Type};
    match kind {
        OpKind::CreateTable { table, partition_of, inherits, .. } => {
            let mut out = vec![(table, New)];
            if let Some((parent, _)) = partition_of {
                out.push((parent, Relation));
            }
            out.extend(inherits.iter_mut().map(|t| (t, Relation)));
            out
        }
        OpKind::CreateView { name, .. } => vec![(name, New)],
        OpKind::CreateEnum { name, .. } | OpKind::CreateDomain { name, .. } => vec![(name, New)],
        OpKind::DropTable { table, .. }
        | OpKind::RenameTable { table, .. }
        | OpKind::AddColumn { table, .. }
        | OpKind::DropColumn { table, .. }
        | OpKind::RenameColumn { table, .. }
        | OpKind::AlterColumnType { table, .. }
        | OpKind::SetNotNull { table, .. }
        | OpKind::DropNotNull { table, .. }
        | OpKind::SetDefault { table, .. }
        | OpKind::DropDefault { table, .. }
        | OpKind::AddConstraint { table, .. }
        | OpKind::ValidateConstraint { table, .. }
        | OpKind::DropConstraint { table, .. }
        | OpKind::Update { table, .. }
        | OpKind::CreateTrigger { table, .. } => vec![(table, Relation)],
        OpKind::AlterAction { table, action } => {
            let mut out = vec![(table, Relation)];
            if let TableAction::AttachPartition { partition } | TableAction::DetachPartition { partition, .. } = action {
                out.push((partition, Relation));
            }
            out
        }
        OpKind::CreateIndex(spec) => vec![(&mut spec.table, Relation)],
        OpKind::DropIndex { name, .. } => vec![(name, Index)],
        OpKind::DropSequence { name } => vec![(name, Relation)],
        OpKind::Truncate { tables, .. } | OpKind::Vacuum { tables, .. } => tables.iter_mut().map(|t| (t, Relation)).collect(),
        OpKind::Reindex { target, object, .. } => match object.as_str() {
            "TABLE" => vec![(target, Relation)],
            "INDEX" => vec![(target, Index)],
            _ => Vec::new(),
        },
        OpKind::AddEnumValue { name, .. } | OpKind::RenameEnumValue { name, .. } => vec![(name, Type)],
        OpKind::AddDomainConstraint { domain, .. } => vec![(domain, Type)],
        OpKind::Security { table: Some(t), .. } | OpKind::Other { table: Some(t), .. } => vec![(t, Relation)],
        _ => Vec::new(),
    }
}

/// Statements that may set the path: SET / RESET, and a `SELECT set_config(…)`.
fn sets_path(op: &Op) -> bool {
    matches!(op.kind, OpKind::Catalog { .. } | OpKind::Setting { .. } | OpKind::Select { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_in_the_path_in_order() {
        let (schema, _) = crate::schema::replay(
            "m",
            &[(
                "m/1.sql".into(),
                "CREATE SCHEMA billing;\nCREATE TABLE users (id int);\nCREATE TABLE billing.users (id int, plan text);".into(),
            )],
        );
        let mut ops: Vec<Op> = sql::parse(
            "SET search_path = billing, public;\nALTER TABLE users RENAME COLUMN plan TO plan2;\nSELECT set_config('search_path', 'public', false);\nALTER TABLE users ADD COLUMN x int",
        )
        .unwrap()
        .into_iter()
        .flat_map(|s| s.ops)
        .collect();
        let mut r = Resolver::default();
        for op in &mut ops {
            r.visit(op, &schema);
        }
        assert_eq!(ops[1].kind.table().and_then(|t| t.schema.clone()).as_deref(), Some("billing"));
        assert_eq!(ops[3].kind.table().and_then(|t| t.schema.clone()).as_deref(), Some("public"));
    }
}
