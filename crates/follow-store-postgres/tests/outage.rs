//! The server stopped as by a crash (`pg_ctl stop -m immediate`) while
//! writers run: calls fail `unavailable` within the operation timeout and
//! nothing panics; after a restart the pool reconnects by itself and every
//! acknowledged change is there. On a cluster of this test's own, since it
//! stops the server.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use follow_core::{
    AccountId, Capabilities, Command, ErrorKind, FollowGraph, FollowStore, NodeId, Principal,
    TenantId, Timestamp, WriteBatch,
};
use follow_store_postgres::testing::{TestServer, isolated_store_on};
use follow_store_postgres::{PostgresOptions, PostgresStore};

const WRITERS: usize = 8;
const TARGETS: usize = 3000;
const TIMEOUT: Duration = Duration::from_secs(2);

fn tenant() -> TenantId {
    TenantId::new("acme").unwrap()
}

/// What one writer saw.
#[derive(Default)]
struct Seen {
    /// Targets whose follow was acknowledged.
    acknowledged: Vec<usize>,
    /// Calls that failed.
    failed: usize,
    /// Calls acknowledged after the restart.
    after_restart: usize,
}

/// Follows its targets one by one until told to stop, checking every
/// failure on the way.
async fn writer(
    store: Arc<PostgresStore>,
    me: usize,
    restarted: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> Seen {
    let graph = FollowGraph::new(store);
    let admin = Principal::new(tenant(), Capabilities::ALL);
    let actor = format!("w{me}");
    let mut seen = Seen::default();
    for target in 0..TARGETS {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let started = Instant::now();
        let result = graph.follow(&admin, &actor, &format!("t{target:03}")).await;
        let took = started.elapsed();
        assert!(
            took < TIMEOUT + Duration::from_secs(1),
            "a call took {took:?}, past the {TIMEOUT:?} timeout"
        );
        match result {
            Ok(applied) => {
                assert!(applied.is_changed());
                seen.acknowledged.push(target);
                seen.after_restart += usize::from(restarted.load(Ordering::SeqCst));
            }
            Err(error) => {
                assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");
                seen.failed += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crashed_server_fails_calls_unavailable_and_loses_nothing_acknowledged() {
    let server = match TestServer::start_local() {
        Ok(server) => server,
        Err(message) => panic!("{message}"),
    };
    let options = PostgresOptions {
        operation_timeout: TIMEOUT,
        connect_timeout: Duration::from_secs(1),
        max_connections: 8,
        ..PostgresOptions::default()
    };
    let store = Arc::new(isolated_store_on(&server, options).await.unwrap());
    let mut setup = WriteBatch::new(
        tenant(),
        Timestamp::from_unix_seconds(1_800_000_000).unwrap(),
    );
    for id in (0..WRITERS)
        .map(|w| format!("w{w}"))
        .chain((0..TARGETS).map(|t| format!("t{t:03}")))
    {
        setup.commands.push(Command::Register {
            node: NodeId::new(&id).unwrap(),
        });
    }
    store.write(setup).await.unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let restarted = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(writer(store.clone(), w, restarted.clone(), stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.stop_immediately().unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // While the server is down, every call fails fast and typed.
    let down = store
        .node(&tenant(), &NodeId::new("w0").unwrap())
        .await
        .unwrap_err();
    assert_eq!(down.kind(), ErrorKind::Unavailable, "{down}");
    server.restart().unwrap();
    restarted.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::SeqCst);
    let mut seen = Vec::new();
    for handle in writers {
        seen.push(handle.await.expect("no writer panicked"));
    }
    let failed: usize = seen.iter().map(|s| s.failed).sum();
    let after_restart: usize = seen.iter().map(|s| s.after_restart).sum();
    assert!(failed > 0, "the writers ran into the outage");
    assert!(after_restart > 0, "the pool reconnected after the restart");
    let acknowledged: Vec<Vec<usize>> = seen.into_iter().map(|s| s.acknowledged).collect();

    // The pool reconnected by itself: the same store reads everything back.
    for (w, targets) in acknowledged.iter().enumerate() {
        let follower = AccountId::new(&format!("w{w}")).unwrap();
        let others: Vec<NodeId> = targets
            .iter()
            .map(|t| NodeId::new(&format!("t{t:03}")).unwrap())
            .collect();
        let facts = store
            .pairs(&tenant(), &NodeId::from(follower), &others)
            .await
            .unwrap()
            .unwrap();
        assert!(
            facts.iter().all(|f| f.outgoing.is_some()),
            "an acknowledged follow of w{w} is missing"
        );
    }
    let total: usize = acknowledged.iter().map(Vec::len).sum();
    assert!(total > 0, "some follows were acknowledged");
    let report = store.verify().await.unwrap();
    assert!(
        report.is_ok(),
        "counts equal edges after the crash: {report:?}"
    );
}
