//! `cargo run --release -p zdm_refs --example scan -- DIR TABLE COLUMN…`: scans DIR for references to
//! TABLE and its COLUMNs and prints the files walked, candidates, references and wall time (what
//! `scripts/bench-refs` measures).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, table, columns @ ..] = args.as_slice() else {
        eprintln!("usage: scan DIR TABLE [COLUMN…]");
        std::process::exit(2);
    };
    let targets = vec![zdm_core::refs::RefTarget { key: table.clone(), name: table.clone(), columns: columns.to_vec() }];
    let start = std::time::Instant::now();
    let scan = zdm_refs::scan(std::path::Path::new(dir), &targets, &[]);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "files {} candidates {} refs {} time {:.3}s rate {:.0} files/s",
        scan.files,
        scan.candidates,
        scan.refs.len(),
        secs,
        scan.files as f64 / secs
    );
}
