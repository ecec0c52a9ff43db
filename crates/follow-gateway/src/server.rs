//! Running the service: open the store, bind, serve until SIGTERM or
//! Ctrl-C, let requests in flight finish (up to the grace period), then
//! close the store.

use std::sync::Arc;

use follow_store_sqlite::SqliteStore;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::app::router;
use crate::config::Config;
use crate::state::AppState;

/// Serves `config` until a shutdown signal. Prints `listening on ADDR` to
/// stdout once bound (tests and scripts read the port from it).
pub async fn run(config: Config) -> Result<(), String> {
    let store = SqliteStore::open(&config.database)
        .map_err(|e| format!("database {}: {e}", config.database.display()))?;
    let store = Arc::new(store);
    let state = AppState::new(&config, store.clone()).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("listen {}: {e}", config.listen))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("listen {}: {e}", config.listen))?;
    println!("listening on {address}");
    tracing::info!(%address, database = %config.database.display(), "followd started");
    let jwks_retry = spawn_jwks_retry(&state);
    let signalled = Arc::new(Notify::new());
    let notify = signalled.clone();
    let serve = axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            tracing::info!("shutdown signal: no new connections; finishing requests in flight");
            notify.notify_one();
        })
        .into_future();
    let grace = config.shutdown_grace();
    let outcome = tokio::select! {
        outcome = serve => outcome.map_err(|e| format!("server: {e}")),
        () = async {
            signalled.notified().await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(?grace, "requests still in flight after the grace period; stopping");
            Ok(())
        }
    };
    // Every handler's state is gone with the server; the last reference
    // closes the store (its writer flushes and stops).
    drop(state);
    if let Some(task) = jwks_retry {
        task.abort();
        let _ = task.await;
    }
    // A connection task may drop its clone of the router just after the
    // server reports every connection closed.
    for _ in 0..200 {
        if Arc::strong_count(&store) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    match Arc::try_unwrap(store) {
        Ok(store) => {
            drop(store);
            tracing::info!("store closed; followd stopped");
        }
        Err(store) => tracing::warn!(
            references = Arc::strong_count(&store),
            "store still referenced at exit; followd stopped"
        ),
    }
    outcome
}

/// While a JWKS URL has given no key (it was down at start), fetch it again
/// every refetch interval: readiness depends on it, so waiting for a token
/// to trigger the fetch could wait forever behind a load balancer.
fn spawn_jwks_retry(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    let interval = state.jwt.as_ref()?.refetch_interval();
    let state = state.clone();
    Some(tokio::spawn(async move {
        let interval = interval.max(std::time::Duration::from_secs(1));
        loop {
            let Some(jwt) = state.jwt.as_ref() else {
                return;
            };
            if jwt.has_keys() {
                return;
            }
            tokio::time::sleep(interval).await;
            if let Err(error) = jwt.refresh().await {
                tracing::warn!(%error, "JWKS still unavailable");
            }
        }
    }))
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
