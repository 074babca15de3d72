//! The `redliner` binary: parses the command line, sets up logging, runs the
//! command, prints the error chain once and chooses the exit code.

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    let args = cli::parse();
    cli::init_tracing(&args.global);
    match cli::run(args) {
        Ok(code) => code,
        // `redliner diff ... | head`: the reader has what it wanted.
        Err(e) if cli::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            cli::print_error(&e);
            ExitCode::from(2)
        }
    }
}
