//! The `residence` binary: a thin shell over `residence_api`'s operations.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = residence_api::cli::Cli::parse();
    residence_api::cli::init_tracing(cli.verbose);
    match residence_api::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
