//! Under live traffic through prepared statements (as pgjdbc, psycopg 3, pgx, node-postgres and Rails
//! use them), the type-change and rename plans cause no failed query: the old release reads and writes
//! the old column until the code deploy, the new release prepares its statements on the new column and
//! keeps them through the contract. The same-name swap (`--keep-column-name`) is shown to break them.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;
use support::SETUP;
use zdm_core::model::ProjectFiles;
use zdm_core::pipeline::{self, Outcome};
use zdm_core::plan::{Phase, PlanConfig};
use zdm_pg::runner::{self, Direction};
use zdm_pg::testing::TestDb;

struct App {
    stop: Arc<AtomicBool>,
    errors: Arc<AtomicUsize>,
    queries: Arc<AtomicUsize>,
    threads: Vec<thread::JoinHandle<()>>,
}

/// Two connections of one application release reading, updating and inserting through prepared
/// statements on `column`.
fn start(conninfo: &str, column: &str, errors: &Arc<AtomicUsize>, queries: &Arc<AtomicUsize>) -> App {
    let stop = Arc::new(AtomicBool::new(false));
    let threads = (0..2_i64)
        .map(|n| {
            let (conninfo, column) = (conninfo.to_string(), column.to_string());
            let (stop, errors, queries) = (stop.clone(), errors.clone(), queries.clone());
            thread::spawn(move || {
                let mut c = zdm_pg::Client::connect(&conninfo, zdm_pg::NoTls).unwrap();
                let read = c.prepare(&format!("SELECT id, {column} FROM users WHERE id = $1")).unwrap();
                let write = c.prepare(&format!("UPDATE users SET {column} = {column} WHERE id = $1 RETURNING {column}")).unwrap();
                // The text column of this release: the renamed one, or `name`.
                let text = if column.contains("name") { column.as_str() } else { "name" };
                let insert = c.prepare(&format!("INSERT INTO users ({text}) VALUES ('live') RETURNING id, {column}")).unwrap();
                let mut id = 1 + n * 5000;
                while !stop.load(Ordering::Relaxed) {
                    id = id % 12000 + 1;
                    for r in [c.query(&read, &[&id]), c.query(&write, &[&id]), c.query(&insert, &[])] {
                        queries.fetch_add(1, Ordering::Relaxed);
                        if let Err(e) = r {
                            if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                                eprintln!("{column}: {e:?}");
                            }
                        }
                    }
                }
            })
        })
        .collect();
    App { stop, errors: errors.clone(), queries: queries.clone(), threads }
}

impl App {
    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().unwrap();
        }
        let _ = (self.errors, self.queries);
    }
}

/// Runs the plan for `change` while the old release uses `old` and, from the code deploy on, the new
/// release uses `new`; returns (failed queries, queries).
fn under_traffic(name: &str, change: &str, old: &str, new: &str, keep_column_name: bool) -> (usize, usize, Outcome) {
    let db = TestDb::new(name);
    let mut c = db.connect();
    c.batch_execute(SETUP).unwrap();
    let files: ProjectFiles = support::project(SETUP);
    let config = PlanConfig { keep_column_name, ..PlanConfig::default() };
    let out = pipeline::run(pipeline::Input::new(change, &files, config, "20261125140000")).unwrap();
    let (errors, queries) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut app = Some(start(&db.conninfo, old, &errors, &queries));
    for step in &out.plan.steps {
        if step.phase == Phase::Code {
            thread::sleep(Duration::from_millis(200));
            app.take().expect("one deploy").stop();
            app = Some(start(&db.conninfo, new, &errors, &queries));
            thread::sleep(Duration::from_millis(200));
            continue;
        }
        let file = out.files.iter().find(|f| Some(&f.path) == step.file.as_ref()).expect("file of step");
        runner::apply(&mut c, &file.contents, Direction::Up).unwrap_or_else(|e| panic!("{}: {e}", file.path));
    }
    thread::sleep(Duration::from_millis(300));
    app.take().expect("running").stop();
    (errors.load(Ordering::Relaxed), queries.load(Ordering::Relaxed), out)
}

#[test]
fn type_change_plan_breaks_no_prepared_statement() {
    let (errors, queries, out) =
        under_traffic("prepared_type", "ALTER TABLE users ALTER COLUMN score TYPE bigint", "score", "score_bigint", false);
    assert!(queries > 100, "{queries}");
    assert_eq!(errors, 0, "{errors} of {queries} queries failed");
    assert!(out.plan.steps.iter().any(|s| s.title.contains("read & write users.score_bigint")));
    assert!(out.plan.steps.iter().all(|s| s.reconnect.is_none()));
}

#[test]
fn type_change_with_rename_moves_to_the_renamed_column() {
    let change = "ALTER TABLE users ALTER COLUMN score TYPE bigint; ALTER TABLE users RENAME COLUMN score TO score_v2";
    let (errors, queries, out) = under_traffic("prepared_type_rename", change, "score", "score_v2", false);
    assert_eq!(errors, 0, "{errors} of {queries} queries failed");
    assert_eq!(out.plan.steps.iter().filter(|s| s.phase == Phase::Contract).count(), 1, "one expand/contract");
}

#[test]
fn rename_plan_breaks_no_prepared_statement() {
    let (errors, queries, _) =
        under_traffic("prepared_rename", "ALTER TABLE users RENAME COLUMN name TO full_name", "name", "full_name", false);
    assert!(queries > 100, "{queries}");
    assert_eq!(errors, 0, "{errors} of {queries} queries failed");
}

#[test]
fn same_name_swap_needs_the_reconnect_it_announces() {
    let (errors, _, out) = under_traffic("prepared_same_name", "ALTER TABLE users ALTER COLUMN score TYPE bigint", "score", "score", true);
    assert!(errors > 0, "the same-name swap is expected to break statements prepared before it");
    let step = out.plan.steps.iter().find(|s| s.reconnect.is_some()).expect("swap step names the reconnect");
    assert!(out.plan.verdict.contains(&format!("recycle app connections right after step {}", step.n)), "{}", out.plan.verdict);
    assert!(out.plan.checklist.iter().any(|l| l.starts_with(&format!("Right after step {}", step.n)) && l.contains("0A000")));
}

#[test]
fn new_code_inserting_the_new_column_wins_over_the_old_default() {
    let db = TestDb::new("prepared_insert_new");
    let mut c = db.connect();
    c.batch_execute(SETUP).unwrap();
    let files: ProjectFiles = support::project(SETUP);
    for (change, new) in [
        ("ALTER TABLE users ALTER COLUMN score TYPE bigint", "score_bigint"),
        ("ALTER TABLE users RENAME COLUMN score TO points", "points"),
    ] {
        let out = pipeline::run(pipeline::Input::new(change, &files, PlanConfig::default(), "20261125140000")).unwrap();
        let expand = out.files.first().unwrap();
        runner::apply(&mut c, &expand.contents, Direction::Up).unwrap();
        // score has DEFAULT 0; the new release writes only the new column.
        let got: i32 = c.query_one(&format!("INSERT INTO users (name, {new}) VALUES ('n', 7) RETURNING score"), &[]).unwrap().get(0);
        assert_eq!(got, 7, "{change}");
        c.batch_execute("DELETE FROM users WHERE name = 'n'").unwrap();
        runner::apply(&mut c, &expand.contents, Direction::Down).unwrap();
    }
}
