//! `followctl`: inspect, load, migrate and repair a follow graph stored in
//! an embedded SQLite database.
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
    match futures::executor::block_on(commands::run(&cli, interactive)) {
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
