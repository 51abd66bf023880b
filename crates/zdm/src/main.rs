//! The `zdm` binary: flags, reading the project, writing files, printing, exit codes. All decisions are
//! made in `zdm_core`; this file only carries text in and out.
//!
//! Exit codes (`zdm check`: see `check.rs`): 0 plan made; 2 zdm could not do the job (bad flags, unreadable input, malformed SQL, a name
//! absent from a known schema, a file that would be overwritten). Nothing is written on exit 2.

mod backfill;
mod check;
mod cli;
mod live;
mod offline;
mod project;
mod verify;
mod write;

use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;

// mimalloc: libpg_query's parse trees and the schema model are many small allocations, made on the parsing
// thread and freed on the walking one (`zdm check`); glibc's malloc spent a fifth of the run there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Check(args) => match check::check(&args) {
            Ok(true) => return ExitCode::from(1),
            Ok(false) => Ok(()),
            Err(e) => Err(e),
        },
        cli::Command::Plan(args) => cli::plan(&args, std::io::stdout().is_terminal()),
        cli::Command::Rules(args) => cli::rules(&args),
        cli::Command::Explain(args) => cli::explain(&args),
        cli::Command::Detect(args) => cli::detect(&args),
        cli::Command::Schema(args) => cli::schema(&args),
        cli::Command::Backfill(args) => return backfill::run(&args),
        cli::Command::Verify(args) => return verify::main(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            cli::warn(&e.to_string());
            ExitCode::from(2)
        }
    }
}
