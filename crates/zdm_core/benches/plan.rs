//! `zdm plan` on a large project: a change of 10,000 statements against a schema of 2,000 tables replayed
//! from migration files. Run with `cargo bench -p zdm_core --bench plan`; the README quotes the figure.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use zdm_core::model::{ProjectFile, ProjectFiles};
use zdm_core::pipeline::{self, Input};
use zdm_core::plan::PlanConfig;

const TABLES: usize = 2_000;
const STATEMENTS: usize = 10_000;

/// 2,000 tables, each with a primary key, four columns and an index, in 20 migration files.
fn project() -> ProjectFiles {
    let mut files = Vec::new();
    for chunk in 0..20 {
        let mut sql = String::from("-- migrate:up\n");
        for t in (chunk * TABLES / 20)..((chunk + 1) * TABLES / 20) {
            sql.push_str(&format!(
                "CREATE TABLE t{t} (id bigserial PRIMARY KEY, a integer NOT NULL DEFAULT 0, b text, c text, created_at timestamptz DEFAULT now());\nCREATE INDEX t{t}_a_idx ON t{t} (a);\n"
            ));
        }
        sql.push_str("-- migrate:down\nSELECT 1;\n");
        files.push(ProjectFile { path: format!("db/migrations/{:014}_chunk.sql", 20_260_101_000_000_u64 + chunk as u64), contents: sql });
    }
    ProjectFiles::new(files)
}

/// 10,000 statements: every table gets a new column, an index, a NOT NULL, a CHECK and a rename.
fn change() -> String {
    let mut sql = String::new();
    for i in 0..STATEMENTS {
        let t = i % TABLES;
        sql.push_str(&match i / TABLES {
            0 => format!("ALTER TABLE t{t} ADD COLUMN d{i} text;\n"),
            1 => format!("CREATE INDEX ON t{t} (b);\n"),
            2 => format!("ALTER TABLE t{t} ALTER COLUMN c SET NOT NULL;\n"),
            3 => format!("ALTER TABLE t{t} ADD CONSTRAINT t{t}_a_positive CHECK (a >= 0);\n"),
            _ => format!("ALTER TABLE t{t} RENAME COLUMN b TO b_renamed;\n"),
        });
    }
    sql
}

fn bench(c: &mut Criterion) {
    let files = project();
    let change = change();
    let mut group = c.benchmark_group("plan");
    group.sample_size(10);
    group.bench_function("10k_statements_2k_tables", |b| {
        b.iter(|| {
            let out = pipeline::run(Input {
                change: &change,
                files: &files,
                config: PlanConfig::default(),
                now: "20261125140000",
                name: None,
                change_path: None,
                choice: Default::default(),
            })
            .expect("the generated change plans");
            black_box(out.files.len())
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
