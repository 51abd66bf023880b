//! Introspecting a database of 2,000 tables (each with a primary key, five columns, a default, a
//! foreign key and an index) in a throwaway cluster. Run with `cargo bench --workspace --bench introspect`;
//! the README quotes the figure.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use zdm_pg::introspect::{self, Limits};
use zdm_pg::testing::TestDb;

const TABLES: usize = 2_000;

fn bench(c: &mut Criterion) {
    let db = TestDb::new("bench_introspect");
    let mut client = db.connect();
    let mut ddl = String::from("CREATE TABLE root (id bigint PRIMARY KEY);\n");
    for t in 0..TABLES {
        ddl.push_str(&format!(
            "CREATE TABLE t{t} (id bigserial PRIMARY KEY, root_id bigint REFERENCES root (id), a integer NOT NULL DEFAULT 0, b text, created_at timestamptz DEFAULT now());\nCREATE INDEX t{t}_a_idx ON t{t} (a);\n"
        ));
    }
    client.batch_execute(&ddl).expect("tables");
    client.batch_execute("ANALYZE").expect("analyze");
    let url = db.url();
    let facts = introspect::introspect(&url, Limits::default()).expect("introspects");
    assert_eq!(facts.schema.as_ref().map(|s| s.tables.len()), Some(TABLES + 1));
    let mut group = c.benchmark_group("introspect");
    group.sample_size(10);
    group.bench_function("2000_tables", |b| b.iter(|| black_box(introspect::introspect(&url, Limits::default()).expect("introspects"))));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
