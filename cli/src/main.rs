//! The `residence` binary: the thin command line that wires every subcommand to the library
//! crates below it (the ripgrep shape). Only this crate knows clap's parsing of the process's
//! arguments, progress bars (indicatif) and the process itself.

mod bench_args;
mod cli;
mod connections;
mod demo;
mod output;
mod progress;
mod serve;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    cli::init_tracing(cli.verbose);
    match cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader of stdout went away (`| head`): what it wanted was printed.
        Err(error) if output::is_closed_pipe(&error) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
