//! `followctl`: inspect, load, migrate and repair a follow graph stored in
//! an embedded SQLite database.
//!
//! The layout: [`cli`] declares the command line, [`commands`] runs each
//! command through the library's facade, [`transfer`] moves graphs in and
//! out as CSV, [`output`] prints tables or JSON, [`failure`] gives every
//! error a stable code and exit status.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod failure;
mod interrupt;
mod output;
mod progress;
mod session;
mod transfer;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use cli::Cli;
use failure::{CLOSED_PIPE_EXIT, Failure};
use output::Output;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Progress bars are for people; JSON callers are scripts.
    let interactive = !cli.json;
    // One thread is plenty for one command; the PostgreSQL client needs a
    // tokio runtime for its connections and timeouts.
    let result = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(commands::run(&cli, interactive)),
        Err(error) => {
            Err(follow_core::Error::internal(format!("cannot start a runtime: {error}")).into())
        }
    };
    match print(&cli, result) {
        Ok(code) => ExitCode::from(code),
        // The reader went away (`followctl events | head -1`): stop quietly
        // with the status a Unix tool killed by SIGPIPE reports.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::from(CLOSED_PIPE_EXIT)
        }
        Err(error) => {
            eprintln!("error: file_error: standard output: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the result and answers the exit status.
fn print(cli: &Cli, result: Result<Output, Failure>) -> std::io::Result<u8> {
    let mut stdout = std::io::stdout().lock();
    match result {
        Ok(output) => {
            if cli.json {
                if !output.json.is_null() {
                    writeln!(stdout, "{}", output.json)?;
                }
            } else {
                for line in &output.lines {
                    writeln!(stdout, "{line}")?;
                }
            }
            stdout.flush()?;
            Ok(output.status.exit_code())
        }
        Err(failure) if failure.is_closed_pipe() => Err(std::io::ErrorKind::BrokenPipe.into()),
        Err(failure) => {
            if cli.json {
                writeln!(stdout, "{}", failure.to_json())?;
                stdout.flush()?;
            }
            eprintln!("error: {}: {}", failure.code(), failure.message());
            Ok(failure.exit_code())
        }
    }
}
