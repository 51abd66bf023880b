//! B1/B10 of the backfill design notes as a benchmark: on a throwaway PostgreSQL cluster, a `users`-shaped
//! table of each size in `ROWS` (default 100,000 and 1,000,000) is cloned; one clone gets a single
//! `UPDATE`, the others `zdm backfill`'s executor at target batch times of 100 and 500 ms. Prints rows/s,
//! the share of the single UPDATE's rate, and the longest batch (the longest any batch held row locks).
//! Run with `scripts/bench-backfill`; figures go in README.md ("Backfill").

use std::sync::atomic::AtomicBool;
use std::time::Instant;
use zdm_core::backfill::{Job, Progress};
use zdm_pg::backfill::{Observer, Options};
use zdm_pg::cluster::Cluster;
use zdm_pg::{Client, NoTls};

struct Quiet;

impl Observer for Quiet {
    fn progress(&mut self, _: &Progress) {}
    fn note(&mut self, line: &str) {
        eprintln!("{line}");
    }
}

fn fresh(c: &mut Client, name: &str) {
    // One statement per call: VACUUM cannot run inside the implicit transaction of a multi-statement string.
    for sql in [
        format!("DROP TABLE IF EXISTS {name}"),
        format!("CREATE TABLE {name} AS TABLE base"),
        format!("ALTER TABLE {name} ADD PRIMARY KEY (id)"),
        format!("VACUUM ANALYZE {name}"),
        "CHECKPOINT".to_string(),
    ] {
        c.batch_execute(&sql).expect("clone");
    }
}

fn main() {
    let sizes: Vec<u64> =
        std::env::var("ROWS").unwrap_or_else(|_| "100000,1000000".into()).split(',').filter_map(|s| s.trim().parse().ok()).collect();
    let mut cluster = Cluster::start().expect("a throwaway cluster");
    let mut admin = Client::connect(&cluster.conninfo("postgres"), NoTls).expect("connect");
    admin.batch_execute("CREATE DATABASE bench").expect("create database");
    let mut c = Client::connect(&cluster.conninfo("bench"), NoTls).expect("connect");
    println!("| rows | method | rows/s | of one UPDATE | with verification | longest batch (locks held) | p99 batch | batches |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");
    for rows in sizes {
        c.batch_execute(&format!(
            "DROP TABLE IF EXISTS base;
             CREATE TABLE base AS SELECT g::bigint AS id, 'user ' || g AS name, 'User' || g || '@Example.com' AS email,
                    g % 100 AS score, NULL::text AS full_name FROM generate_series(1, {rows}) g;"
        ))
        .expect("rows");
        fresh(&mut c, "once");
        let t = Instant::now();
        c.batch_execute("UPDATE once SET full_name = upper(name) WHERE full_name IS DISTINCT FROM upper(name)").expect("update");
        let once = rows as f64 / t.elapsed().as_secs_f64();
        println!("| {rows} | one UPDATE | {once:.0} | 100% | | {:.0} ms | | 1 |", t.elapsed().as_secs_f64() * 1000.0);
        for target in [100u64, 500] {
            fresh(&mut c, "batched");
            let job = Job::from_flags("batched", "full_name = upper(name)", None, false).expect("job");
            let opts = Options { target_ms: target, ..Options::default() };
            let s = zdm_pg::backfill::run(&mut c, &job, &opts, &AtomicBool::new(false), &mut Quiet).expect("backfill");
            assert_eq!(s.rows_changed, rows);
            println!(
                "| {rows} | zdm backfill, target {target} ms | {:.0} | {:.0}% | {:.0}% | {:.0} ms | {:.0} ms | {} |",
                s.rows_per_sec,
                100.0 * s.rows_per_sec / once,
                100.0 * rows as f64 / (s.wall_ms as f64 / 1000.0) / once,
                s.batch_ms.max,
                s.batch_ms.p99,
                s.batches
            );
        }
    }
    cluster.stop();
}
