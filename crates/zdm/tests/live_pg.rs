//! Live introspection against the throwaway PostgreSQL: the schema read from the database equals the one
//! replayed from the same DDL, drift is seen, weights come from the statistics.

use zdm_core::model::{ConstraintKind, Schema, SchemaSource};
use zdm_pg::introspect::{self, Limits};
use zdm_pg::testing::TestDb;

const FIXTURE: &str = include_str!("../../../tests/fixtures/live/every_kind.sql");

/// What cannot match between a catalog and a migration file, and why:
/// - the source (live vs migrations);
/// - a foreign key written `REFERENCES users` names no columns, the catalog always records them: the
///   referenced primary key is filled in;
/// - the order of constraints: files list them in the order written, the catalog in creation order
///   (which differs for inline ones): sorted by name;
/// - a type's spelling: the catalog keeps the type, not the alias a migration wrote (`timestamptz`):
///   both sides go through `schema::canonical_type`;
/// - a literal default: the catalog stores it cast to the column's type (`'active'::status_kind`):
///   both sides go through `schema::canonical_default`.
fn normalized(mut s: Schema) -> Schema {
    s.source = SchemaSource::Unknown;
    for c in s.tables.values_mut().flat_map(|t| &mut t.columns) {
        c.type_sql = zdm_core::schema::canonical_type(&c.type_sql);
        c.default = c.default.as_deref().map(|d| zdm_core::schema::canonical_default(d, &c.type_sql));
    }
    let pks: std::collections::BTreeMap<String, Vec<String>> =
        s.tables.iter().filter_map(|(k, t)| t.primary_key().map(|p| (k.clone(), p.to_vec()))).collect();
    for t in s.tables.values_mut() {
        for c in &mut t.constraints {
            if let ConstraintKind::ForeignKey { ref_table, ref_columns, .. } = &mut c.kind
                && ref_columns.is_empty()
            {
                *ref_columns = pks.get(&ref_table.key()).cloned().unwrap_or_default();
            }
        }
        t.constraints.sort_by(|a, b| a.name.cmp(&b.name));
    }
    s
}

#[test]
fn live_schema_equals_replayed_history() {
    let db = TestDb::new("introspect_every_kind");
    db.connect().batch_execute(FIXTURE).expect("fixture applies");
    let facts = introspect::introspect(&db.url(), Limits::default()).expect("introspects");
    let live = facts.schema.clone().expect("schema");
    assert!(matches!(&live.source, SchemaSource::Live { database } if !database.is_empty()));
    let (files, warnings) = zdm_core::schema::replay("db/migrations", &[("001_all.sql".into(), FIXTURE.into())]);
    assert!(warnings.is_empty(), "{warnings:?}");
    let (live, files) = (normalized(live), normalized(files));
    for (k, t) in &files.tables {
        assert_eq!(live.tables.get(k), Some(t), "table {k}");
    }
    assert_eq!(live.tables.keys().collect::<Vec<_>>(), files.tables.keys().collect::<Vec<_>>());
    for (k, i) in &files.indexes {
        assert_eq!(live.indexes.get(k), Some(i), "index {k}");
    }
    assert_eq!(live.indexes.keys().collect::<Vec<_>>(), files.indexes.keys().collect::<Vec<_>>());
    assert_eq!(live.enums, files.enums);
    assert_eq!(live.domains, files.domains);
    assert_eq!(live.views, files.views);
    assert_eq!(live.comments, files.comments);
    assert_eq!(live, files);
    // Facts the schema model has no place for.
    assert_eq!(facts.server_major, 15);
    assert!(facts.extensions.iter().any(|e| e.starts_with("pgcrypto ")), "{:?}", facts.extensions);
    assert!(facts.sequences.contains(&"order_numbers".to_string()), "{:?}", facts.sequences);
    assert!(facts.sequences.contains(&"users_id_seq".to_string()));
    assert_eq!(facts.triggers, vec!["billing.invoices: invoices_touch".to_string()]);
    assert_eq!(facts.inherits, vec![("audit_logins".to_string(), "audit_base".to_string())]);
    assert!(facts.dependencies.contains(&("active_users".to_string(), "users".to_string())), "{:?}", facts.dependencies);
    assert!(facts.dependencies.contains(&("invoice_totals".to_string(), "billing.invoices".to_string())));
    assert!(facts.invalid_indexes.is_empty());
    assert!(facts.missing.is_empty(), "{:?}", facts.missing);
    // Weights: nothing written, so every table is known empty.
    let users = &facts.stats["users"];
    assert_eq!((users.rows, users.rows_unknown), (0, false), "{users:?}");
    assert!(users.bytes > 0);
}

#[test]
fn the_session_is_read_only_and_closed() {
    let db = TestDb::new("introspect_read_only");
    db.connect().batch_execute("CREATE TABLE t (id int)").expect("setup");
    let facts = introspect::introspect(&db.url(), Limits::default()).expect("introspects");
    assert!(facts.schema.expect("schema").tables.contains_key("t"));
    // The session ends with the read (the backend exits shortly after the client hangs up).
    let mut c = db.connect();
    let open = |c: &mut zdm_pg::Client| {
        c.query_one("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'zdm'", &[]).expect("activity").get::<_, i64>(0)
    };
    let mut n = open(&mut c);
    for _ in 0..50 {
        if n == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        n = open(&mut c);
    }
    assert_eq!(n, 0);
}
