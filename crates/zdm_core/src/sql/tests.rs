use super::*;
use crate::model::ConstraintKind;

fn ops(sql: &str) -> Vec<Op> {
    parse(sql).expect("parses").into_iter().flat_map(|s| s.ops).collect()
}

#[test]
fn parses_every_catalogue_detail() {
    let o = ops(r#"CREATE INDEX CONCURRENTLY IF NOT EXISTS "Idx" ON ONLY "Users" (lower(email)) WHERE deleted_at IS NULL"#);
    let OpKind::CreateIndex(spec) = &o[0].kind else { panic!("{o:?}") };
    assert!(spec.concurrently && spec.if_not_exists && spec.only);
    assert_eq!(spec.name.as_deref(), Some("Idx"));
    assert_eq!(spec.table.name, "Users");
    assert_eq!(spec.columns, vec!["email"]);
    assert_eq!(spec.body, r#"ONLY "Users" USING btree (lower(email)) WHERE deleted_at IS NULL"#);

    let o = ops("ALTER TABLE ONLY s.orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID");
    let OpKind::AddConstraint { table, constraint } = &o[0].kind else { panic!() };
    assert_eq!(table.key(), "s.orders");
    assert!(constraint.not_valid);
    assert_eq!(constraint.definition, "FOREIGN KEY (user_id) REFERENCES users (id)");
    assert!(matches!(&constraint.kind, ConstraintKind::ForeignKey { columns, .. } if columns == &vec!["user_id".to_string()]));

    let o = ops("ALTER TABLE t ALTER COLUMN c TYPE bigint USING c::bigint");
    assert!(matches!(&o[0].kind, OpKind::AlterColumnType { using: Some(u), type_sql, .. } if u == "c::bigint" && type_sql == "bigint"));

    let o = ops("ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX t_idx");
    assert!(matches!(&o[0].kind, OpKind::AddConstraint { constraint, .. } if constraint.using_index.as_deref() == Some("t_idx")));

    let o = ops("DROP INDEX CONCURRENTLY IF EXISTS a, b");
    assert_eq!(o.len(), 2);
    assert!(matches!(&o[1].kind, OpKind::DropIndex { concurrently: true, if_exists: true, name } if name.name == "b"));
    assert_eq!(o[1].sql, "DROP INDEX CONCURRENTLY IF EXISTS b");

    let o = ops(
        "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN RETURN NEW; END $body$; ALTER TABLE IF EXISTS t ADD COLUMN IF NOT EXISTS x int",
    );
    assert!(matches!(&o[0].kind, OpKind::Catalog { .. }));
    assert!(matches!(&o[1].kind, OpKind::AddColumn { if_not_exists: true, .. }));
}

#[test]
fn add_column_details() {
    let o = ops("ALTER TABLE users ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid(), ADD COLUMN n varchar(20)[] REFERENCES x");
    assert_eq!(o.len(), 2);
    let OpKind::AddColumn { column, .. } = &o[0].kind else { panic!() };
    assert!(column.not_null);
    assert_eq!(column.default_calls, vec!["gen_random_uuid"]);
    assert_eq!(column.definition, "token uuid NOT NULL DEFAULT gen_random_uuid()");
    assert_eq!(o[0].sql, "ALTER TABLE users ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid()");
    let OpKind::AddColumn { column, .. } = &o[1].kind else { panic!() };
    assert_eq!(column.type_sql, "varchar(20)[]");
    assert_eq!(column.references.as_ref().map(|q| q.name.as_str()), Some("x"));
    let o = ops("ALTER TABLE t ADD COLUMN at timestamptz DEFAULT CURRENT_TIMESTAMP");
    let OpKind::AddColumn { column, .. } = &o[0].kind else { panic!() };
    assert_eq!(column.default_calls, vec!["now"]);
}

#[test]
fn syntax_errors_have_line_and_column() {
    let err = parse("ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN b int DEFAUL 1;").unwrap_err();
    assert_eq!(err.pos, Pos { line: 2, col: 36 });
    assert!(err.message.contains("syntax error"), "{}", err.message);
}

#[test]
fn statement_positions_skip_comments() {
    let stmts = parse("-- first\nSELECT 1;\n\n  /* c */ UPDATE t SET a = 1").unwrap();
    assert_eq!(stmts[0].pos, Pos { line: 2, col: 1 });
    assert_eq!(stmts[1].pos, Pos { line: 4, col: 11 });
    assert_eq!(stmts[1].sql, "UPDATE t SET a = 1");
}

#[test]
fn quoting_follows_postgres() {
    use crate::model::quote_ident;
    assert_eq!(quote_ident("users"), "users");
    assert_eq!(quote_ident("User"), "\"User\"");
    assert_eq!(quote_ident("order"), "\"order\"");
    assert_eq!(quote_ident("name"), "name");
    assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
}

#[test]
fn index_definitions_follow_a_renamed_column() {
    let def = "CREATE UNIQUE INDEX users_name_idx ON users USING btree (name, org_id)";
    assert_eq!(
        index_for_column(def, "name", "full_name", "users_full_name_idx").as_deref(),
        Some("CREATE UNIQUE INDEX CONCURRENTLY users_full_name_idx ON users USING btree (full_name, org_id)")
    );
    assert_eq!(index_for_column("CREATE INDEX i ON users (lower(name))", "name", "x", "j"), None);
}

#[test]
fn drops_of_triggers_name_their_table() {
    let ops = &parse("DROP TRIGGER audit ON app.users CASCADE").unwrap()[0].ops;
    match &ops[0].kind {
        crate::op::OpKind::DropObject { what, name, on: Some(on), cascade: true, .. } => {
            assert_eq!((what.as_str(), name.name.as_str(), on.key().as_str()), ("TRIGGER", "audit", "app.users"));
        }
        other => panic!("{other:?}"),
    }
    // Several functions in one DROP: each re-rendered with its own argument list.
    let ops = &parse("DROP FUNCTION f(int), g(text) CASCADE").unwrap()[0].ops;
    let sqls: Vec<&str> = ops.iter().map(|o| o.sql.as_str()).collect();
    assert_eq!(sqls, ["DROP FUNCTION f(int) CASCADE", "DROP FUNCTION g(text) CASCADE"]);
}
