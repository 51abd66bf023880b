fn main() {
    let change = std::env::args().nth(1).unwrap();
    let setup = std::env::args().nth(2).unwrap_or_default();
    let mut files = zdm_core::model::ProjectFiles::default();
    if !setup.is_empty() {
        files.files.push(zdm_core::model::ProjectFile {
            path: "migrations/0001_init.sql".into(),
            contents: setup,
        });
    }
    let out = zdm_core::pipeline::run(zdm_core::pipeline::Input {
        change: &change,
        files: &files,
        config: Default::default(),
        now: "20261125140000",
        name: None,
    });
    match out {
        Ok(o) => {
            println!("{}", o.plan.verdict);
            for n in &o.plan.notes {
                println!("note: {n}");
            }
            for f in o.files {
                println!("===== {}\n{}", f.path, f.contents);
            }
            for s in o.plan.steps.iter().filter(|s| s.file.is_none()) {
                println!("===== step {} code: {}", s.n, s.title);
            }
        }
        Err(e) => println!("ERR {e}"),
    }
}
