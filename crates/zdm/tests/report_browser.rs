//! The HTML report in a real browser: Debian's Chromium, headless, driven by playwright-core (both
//! installed by `scripts/deps --test`), one launch for every page. For several catalogue cases at 1280 and
//! 390 px: no horizontal overflow, every step's SQL up and down present, the timeline drawn with one block
//! per step, and print media laying out every collapsed section. Screenshots are kept under
//! `target/tmp/report-browser/`. Without Chromium the test is skipped loudly, unless `CI` is set.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use zdm_core::model::TableStats;
use zdm_core::plan::{Phase, PlanConfig};
use zdm_core::report::{self, RunInfo};

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"].iter().map(PathBuf::from).find(|p| p.exists())
}

fn tools() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/node_modules")
}

#[test]
fn reports_render_in_chromium_at_desktop_and_phone_widths() {
    let (Some(exe), true) = (chromium(), tools().join("playwright-core").exists()) else {
        let msg = "Chromium or playwright-core missing: run scripts/deps --test";
        assert!(std::env::var_os("CI").is_none(), "{msg} (CI is set: the browser test must run)");
        eprintln!("\n!!!!!!!! SKIPPED: the report browser test did not run. {msg} !!!!!!!!\n");
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-browser");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut sized = PlanConfig::default();
    sized.stats.insert("users".into(), TableStats { rows: 40_000_000, ..TableStats::default() });
    let cases: Vec<(&str, &str, PlanConfig)> = vec![
        ("rename_column", "ALTER TABLE users RENAME COLUMN name TO full_name", PlanConfig::default()),
        ("change_column_type_40m_rows", "ALTER TABLE users ALTER COLUMN score TYPE bigint", sized),
        ("unknown_statement", "ALTER TABLE users CLUSTER ON users_pkey", PlanConfig::default()),
        ("set_not_null", "ALTER TABLE users ALTER COLUMN email SET NOT NULL", PlanConfig::default()),
        (
            "long_names",
            "ALTER TABLE users ADD COLUMN a_very_long_column_name_that_goes_on_and_on_without_any_break_at_all text NOT NULL DEFAULT 'x'",
            PlanConfig::default(),
        ),
    ];
    let mut files = Vec::new();
    let mut expected = Vec::new();
    for (name, change, config) in cases {
        let out = support::plan_with(support::SETUP, change, config);
        let path = dir.join(format!("{name}.html"));
        std::fs::write(&path, report::html_report(&out, &RunInfo::default(), "2026-11-25 14:00:00 UTC")).unwrap();
        let sql: Vec<String> = out.plan.steps.iter().filter(|s| s.phase != Phase::Code).map(|s| s.n.to_string()).collect();
        expected.push((path.display().to_string(), out.plan.steps.len(), sql));
        files.push(path);
    }
    let run = Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/check.js"))
        .arg(&exe)
        .arg(&dir)
        .args(&files)
        .env("NODE_PATH", tools())
        .output()
        .expect("node runs");
    assert!(run.status.success(), "browser check failed:\n{}", String::from_utf8_lossy(&run.stderr));
    let results: serde_json::Value = serde_json::from_slice(&run.stdout).expect("one JSON array");
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), files.len() * 2);
    for r in results {
        let (_, steps, sql) = expected.iter().find(|e| e.0 == r["file"]).unwrap();
        let at = format!("{} at {} px", r["file"], r["width"]);
        assert!(r["scrollWidth"].as_u64() <= r["clientWidth"].as_u64(), "{at}: horizontal overflow {r}");
        let up: Vec<String> = r["sqlUp"].as_array().unwrap().iter().map(|p| p[0].as_str().unwrap().to_string()).collect();
        assert_eq!(&up, sql, "{at}: every step's SQL up");
        assert!(r["sqlUp"].as_array().unwrap().iter().all(|p| p[1].as_u64() > Some(0)), "{at}: empty SQL");
        assert_eq!(r["sqlDown"].as_u64(), Some(sql.len() as u64), "{at}: every step's SQL down");
        assert_eq!(r["blocks"].as_u64(), Some(*steps as u64), "{at}: one timeline block per step");
        assert!(r["timelineWidth"].as_f64().unwrap() > 300.0, "{at}: timeline drawn {r}");
        assert!(r["closed"].as_u64() > Some(0) && r["closedVisible"] == 0, "{at}: collapsed sections start collapsed {r}");
        assert_eq!(r["print"]["hidden"], 0, "{at}: print media expands every section {r}");
        assert_eq!(r["print"]["preOverflow"], 0, "{at}: printed code wraps {r}");
    }
    for f in &files {
        let name = f.file_stem().unwrap().to_str().unwrap();
        for w in [1280, 390] {
            assert!(dir.join(format!("{name}-{w}.png")).exists(), "screenshot {name}-{w}");
        }
    }
    eprintln!("screenshots: {}", dir.display());
}
