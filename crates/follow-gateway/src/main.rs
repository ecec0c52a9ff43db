//! `followd`: the follow gateway service.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use follow_gateway::config::Config;

/// Serves the WhatsApp gateway, Tencent IM and channel APIs on one follow
/// graph (SQLite).
#[derive(Debug, Parser)]
#[command(name = "followd", version)]
struct Args {
    /// A TOML configuration file (FOLLOWD_* variables override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The SQLite database (overrides the file and FOLLOWD_DATABASE).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Where to listen, e.g. 127.0.0.1:8080 (overrides the file and
    /// FOLLOWD_LISTEN).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Reads a secret (API key or access token) on stdin and prints the
    /// SHA-256 the configuration stores.
    HashKey,
    /// Prints a Tencent UserSig for IDENTIFIER, with the app's secret key
    /// read on stdin (as Tencent's TLSSigAPIv2 makes them).
    Usersig {
        /// The SDKAppID.
        #[arg(long)]
        sdkappid: u64,
        /// The identifier (the app admin).
        #[arg(long)]
        identifier: String,
        /// Validity in seconds.
        #[arg(long, default_value_t = 86_400)]
        expire: i64,
    },
}

fn read_stdin() -> Result<String, String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| format!("stdin: {e}"))?;
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("followd: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    match args.command {
        Some(Command::HashKey) => {
            println!("{}", follow_gateway::auth::sha256_hex(&read_stdin()?));
            return Ok(());
        }
        Some(Command::Usersig {
            sdkappid,
            identifier,
            expire,
        }) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|e| e.to_string())?
                .as_secs();
            let now = i64::try_from(now).map_err(|e| e.to_string())?;
            let secret = read_stdin()?;
            println!(
                "{}",
                follow_gateway::auth::usersig::sign(sdkappid, &identifier, &secret, now, expire)
            );
            return Ok(());
        }
        None => {}
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let path = args
        .config
        .or_else(|| std::env::var_os("FOLLOWD_CONFIG").map(PathBuf::from));
    let mut config = Config::load(path.as_deref(), |name| std::env::var(name).ok())
        .map_err(|e| e.to_string())?;
    if let Some(db) = args.db {
        config.database = db;
    }
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    runtime.block_on(follow_gateway::server::run(config))
}
