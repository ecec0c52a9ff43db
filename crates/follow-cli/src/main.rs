//! `followctl`: inspect, load, migrate and repair a follow graph stored in
//! an embedded SQLite database or in PostgreSQL.
//!
//! The layout: [`cli`] declares the command line, [`commands`] runs each
//! command through the library's facade, [`transfer`] moves graphs in and
//! out as CSV, [`output`] prints tables or JSON, [`failure`] gives every
//! error a stable code.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod failure;
mod output;
mod progress;
mod session;
mod transfer;

use std::process::ExitCode;

use clap::Parser;

use cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Progress bars are for people; JSON callers are scripts.
    let interactive = !cli.json;
    // One thread is plenty for one command; the PostgreSQL client needs a
    // tokio runtime for its connections and timeouts.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: internal: cannot start a runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(&cli, interactive)) {
        Ok(output) => {
            if cli.json {
                if !output.json.is_null() {
                    println!("{}", output.json);
                }
            } else {
                for line in output.lines {
                    println!("{line}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            if cli.json {
                println!("{}", failure.to_json());
            }
            eprintln!("error: {}: {}", failure.code(), failure.message());
            ExitCode::FAILURE
        }
    }
}
