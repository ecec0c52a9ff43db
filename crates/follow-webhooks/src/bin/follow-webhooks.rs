//! Delivers one tenant's feed of a SQLite database to webhook endpoints.
//!
//! `follow-webhooks --db graph.db --tenant acme --endpoint crm=https://crm.example/hooks`
//! with the signing secret (`whsec_…`) in `FOLLOW_WEBHOOK_SECRET`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use follow_core::{Capabilities, Error, FollowGraph, Principal, TenantId};
use follow_store_sqlite::SqliteStore;
use follow_webhooks::{Deliverer, Endpoint, Secret, Settings, Until};

/// Delivers a tenant's change feed to webhook endpoints, signed the
/// Standard Webhooks way with the secret in `FOLLOW_WEBHOOK_SECRET`.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The database file.
    #[arg(long)]
    db: std::path::PathBuf,
    /// The tenant whose feed is delivered.
    #[arg(long)]
    tenant: String,
    /// `NAME=URL`, repeated for several endpoints.
    #[arg(long = "endpoint", required = true)]
    endpoints: Vec<String>,
    /// Failed attempts in a row after which an endpoint is stopped.
    #[arg(long, default_value_t = 10)]
    max_failures: usize,
    /// The longest a request may take, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// The first retry's delay, in milliseconds (doubling, with jitter).
    #[arg(long, default_value_t = 500)]
    min_delay_ms: u64,
    /// Stop once every endpoint has caught up instead of polling.
    #[arg(long)]
    until_idle: bool,
}

fn endpoints(args: &Args, secret: &Secret) -> Result<Vec<Endpoint>, Error> {
    args.endpoints
        .iter()
        .map(|spec| {
            let (name, url) = spec.split_once('=').ok_or_else(|| {
                Error::invalid_argument("endpoint", format!("{spec:?} is not NAME=URL"))
            })?;
            Ok(Endpoint {
                name: name.to_owned(),
                url: url.to_owned(),
                secret: secret.clone(),
            })
        })
        .collect()
}

async fn run(args: Args) -> Result<bool, Error> {
    let secret = std::env::var("FOLLOW_WEBHOOK_SECRET").map_err(|_| {
        Error::invalid_argument("secret", "set FOLLOW_WEBHOOK_SECRET to the whsec_ secret")
    })?;
    let secret = Secret::parse(&secret)?;
    let endpoints = endpoints(&args, &secret)?;
    let store = SqliteStore::open(&args.db)
        .map_err(|e| Error::storage_failure("cannot open the database").with_source(e))?;
    let graph = Arc::new(FollowGraph::new(Arc::new(store)));
    let principal = Principal::new(TenantId::new(args.tenant.as_str())?, Capabilities::ALL);
    let settings = Settings {
        request_timeout: Duration::from_millis(args.timeout_ms),
        min_delay: Duration::from_millis(args.min_delay_ms),
        max_failures: args.max_failures.max(1),
        ..Settings::default()
    };
    let deliverer = Deliverer::new(graph, principal, endpoints, settings)?;
    let until = if args.until_idle {
        Until::Idle
    } else {
        Until::Forever
    };
    deliverer.run(until).await?;
    let mut healthy = true;
    for (name, status) in deliverer.status() {
        match status.disabled {
            Some(reason) => {
                healthy = false;
                eprintln!(
                    "endpoint {name}: stopped after {} failures: {reason}",
                    status.consecutive_failures
                );
            }
            None => eprintln!("endpoint {name}: delivered {}", status.delivered),
        }
    }
    Ok(healthy)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("follow-webhooks: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(3),
        Err(error) => {
            eprintln!("follow-webhooks: {error}");
            ExitCode::FAILURE
        }
    }
}
