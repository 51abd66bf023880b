//! Measures the throughputs zdm's duration estimates assume (`zdm_core::report::estimate::rates`):
//! zdm's own generated steps run on a throwaway PostgreSQL cluster against a `users`-shaped table of
//! `ROWS` rows (default 1,000,000), each step timed and classified by `estimate::work_of`.
//! Run with `scripts/bench-throughput`; figures go in README.md ("Durations").

use std::collections::BTreeMap;
use std::time::Instant;
use zdm_core::model::{ProjectFile, ProjectFiles};
use zdm_core::pipeline;
use zdm_core::plan::PlanConfig;
use zdm_core::report::estimate::{Work, work_of};
use zdm_pg::cluster::Cluster;
use zdm_pg::runner::{self, Direction};
use zdm_pg::{Client, NoTls};

const SCHEMA: &str =
    "CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, email text, score integer NOT NULL DEFAULT 0, code text);";

fn main() {
    let rows: u64 = std::env::var("ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let mut cluster = Cluster::start().expect("a throwaway cluster");
    let changes = [
        "ALTER TABLE users ALTER COLUMN score TYPE bigint",
        "CREATE INDEX ON users (email)",
        "ALTER TABLE users ADD CONSTRAINT users_score_check CHECK (score >= 0)",
    ];
    let mut rates: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (i, change) in changes.iter().enumerate() {
        let mut admin = Client::connect(&cluster.conninfo("postgres"), NoTls).expect("connect");
        admin.batch_execute(&format!("CREATE DATABASE bench{i}")).expect("create database");
        let mut c = Client::connect(&cluster.conninfo(&format!("bench{i}")), NoTls).expect("connect");
        c.batch_execute(SCHEMA).expect("schema");
        c.batch_execute(&format!(
            "INSERT INTO users (name, email, score, code) SELECT 'user ' || g, 'User' || g || '@Example.com', g % 100, (g * 7)::text FROM generate_series(1, {rows}) g;"
        ))
        .expect("rows");
        c.batch_execute("VACUUM ANALYZE users").expect("vacuum");
        let mut files = ProjectFiles::default();
        files.files.push(ProjectFile {
            path: "db/migrations/20260101000000_init.sql".into(),
            contents: format!("-- migrate:up\n{SCHEMA}\n-- migrate:down\nSELECT 1;\n"),
        });
        let out = pipeline::run(pipeline::Input::new(change, &files, PlanConfig::default(), "20261125140000")).expect("plan");
        let mut timed = out.plan.steps.iter().filter(|s| s.file.is_some());
        for f in &out.files {
            let Some(step) = timed.next() else { break };
            let start = Instant::now();
            runner::apply(&mut c, &f.contents, Direction::Up).unwrap_or_else(|e| panic!("{}: {e}", f.path));
            let secs = start.elapsed().as_secs_f64();
            let work = work_of(step);
            println!("{change:<70} step {:>2} {:<12} {secs:>8.2} s  {}", step.n, format!("{work:?}"), step.title);
            if matches!(work, Work::Backfill | Work::IndexBuild | Work::ValidateScan | Work::Vacuum | Work::Rewrite) {
                #[allow(clippy::cast_precision_loss)]
                rates.entry(format!("{work:?}")).or_default().push(rows as f64 / secs);
            }
        }
    }
    // A rewrite as written, for plans that keep it (SET LOGGED, an unknown-size ALTER TYPE as written).
    let mut c = Client::connect(&cluster.conninfo("bench1"), NoTls).expect("connect");
    let start = Instant::now();
    c.batch_execute("ALTER TABLE users ALTER COLUMN score TYPE bigint").expect("rewrite");
    #[allow(clippy::cast_precision_loss)]
    rates.entry("Rewrite".into()).or_default().push(rows as f64 / start.elapsed().as_secs_f64());
    println!("\n{rows} rows; rows/s by kind of work (median of the steps of that kind):");
    for (work, mut v) in rates {
        v.sort_by(f64::total_cmp);
        println!("  {work:<12} {:>12.0} rows/s  ({} step{})", v[v.len() / 2], v.len(), if v.len() == 1 { "" } else { "s" });
    }
    cluster.stop();
}
