//! Delivery against a receiver on 127.0.0.1 that fails, times out and
//! answers slowly; and a delivery process killed with SIGKILL mid-stream.
#![allow(clippy::unwrap_used)]

mod receiver;

use std::sync::Arc;
use std::time::{Duration, Instant};

use follow_core::feed::ConsumerName;
use follow_core::{Capabilities, EventPosition, FollowGraph, FollowStore, Principal, TenantId};
use follow_store_memory::MemoryStore;
use follow_store_sqlite::SqliteStore;
use follow_webhooks::{Deliverer, Endpoint, Secret, Settings, Until};
use receiver::{Answer, SECRET};

fn admin() -> Principal {
    Principal::new(TenantId::new("acme").unwrap(), Capabilities::ALL)
}

/// `count` follow events in `graph`'s tenant; answers their positions.
async fn events(graph: &FollowGraph, count: usize) -> Vec<u64> {
    let p = admin();
    graph.register(&p, "alice").await.unwrap();
    for n in 0..count {
        let target = format!("user{n:04}");
        graph.register(&p, &target).await.unwrap();
        graph.follow(&p, "alice", &target).await.unwrap();
    }
    let events = graph.events(&p, None, Some(1000)).await.unwrap();
    events.iter().map(|e| e.position.0).collect()
}

fn endpoint(name: &str, url: &str) -> Endpoint {
    Endpoint {
        name: name.to_owned(),
        url: url.to_owned(),
        secret: Secret::parse(SECRET).unwrap(),
    }
}

fn positions(received: &[receiver::Received]) -> Vec<u64> {
    received
        .iter()
        .map(|r| r.body["data"]["position"].as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_timeouts_and_slow_answers_deliver_every_event_once_in_order() {
    let graph = Arc::new(FollowGraph::new(Arc::new(MemoryStore::new())));
    let all = events(&graph, 8).await;
    let slow = Answer::Slow(Duration::from_millis(50));
    let timeout = Answer::Slow(Duration::from_millis(400));
    let script = vec![
        Answer::Fail(500),
        timeout,
        slow,
        Answer::Ok,
        Answer::Fail(503),
        Answer::Fail(429),
        slow,
    ];
    let (url, inner) = receiver::start(script, None).await;
    let settings = Settings {
        request_timeout: Duration::from_millis(250),
        min_delay: Duration::from_millis(450),
        max_delay: Duration::from_millis(900),
        max_failures: 5,
        batch: 3,
        ..Settings::default()
    };
    let deliverer = Deliverer::new(
        graph.clone(),
        admin(),
        vec![endpoint("crm", &url)],
        settings,
    )
    .unwrap();
    deliverer.run(Until::Idle).await.unwrap();

    // The timed-out request was answered after the deliverer gave up on
    // it: the receiver has that event twice (at-least-once), the rest once.
    let accepted = inner.accepted();
    let mut expected = vec![all[0]];
    expected.extend(&all);
    assert_eq!(positions(&accepted), expected);
    let requests = inner.requests.lock().unwrap().clone();
    assert!(
        requests.iter().all(|r| r.signed),
        "every signature verifies"
    );
    // 4 failed attempts (500, the timeout, 503, 429) were retried.
    assert_eq!(requests.len(), all.len() + 4);
    assert_eq!(
        inner
            .max_in_flight
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    // The id is stable across retries: the 500 and its retry share it.
    assert_eq!(requests[0].id, requests[1].id);
    let status = deliverer.status();
    assert_eq!(status[0].1.delivered, all.len() as u64);
    assert_eq!(status[0].1.disabled, None);
    let consumer = graph.consumer(&admin(), "webhook-crm").await.unwrap();
    assert_eq!(consumer.position, EventPosition(*all.last().unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_failing_too_often_is_stopped_with_its_reason_and_others_go_on() {
    let store = Arc::new(MemoryStore::new());
    let graph = Arc::new(FollowGraph::new(store.clone()));
    let all = events(&graph, 4).await;
    let (bad_url, bad) = receiver::start(Vec::new(), Some(Answer::Fail(500))).await;
    let (good_url, good) = receiver::start(Vec::new(), None).await;
    let settings = Settings {
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_failures: 3,
        ..Settings::default()
    };
    let endpoints = vec![endpoint("bad", &bad_url), endpoint("good", &good_url)];
    let deliverer = Deliverer::new(graph.clone(), admin(), endpoints, settings).unwrap();
    deliverer.run(Until::Idle).await.unwrap();
    let status = deliverer.status();
    let reason = status[0].1.disabled.clone().unwrap();
    assert!(reason.contains("500"), "{reason}");
    assert_eq!(status[0].1.consecutive_failures, 3);
    assert_eq!(bad.count(), 3);
    // Nothing was acknowledged for it: a restart resends the first event.
    let tenant = TenantId::new("acme").unwrap();
    let name = ConsumerName::new("webhook-bad").unwrap();
    let stored = store.consumer(&tenant, &name).await.unwrap().unwrap();
    assert_eq!(stored.position, EventPosition(0));
    assert_eq!(positions(&good.accepted()), all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_process_killed_mid_stream_resumes_without_loss_or_disorder() {
    let dir = std::env::temp_dir().join(format!("follow-webhooks-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("graph.db");
    let all = {
        let graph = FollowGraph::new(Arc::new(SqliteStore::open(&db).unwrap()));
        events(&graph, 60).await
    };
    let (url, inner) =
        receiver::start(Vec::new(), Some(Answer::Slow(Duration::from_millis(15)))).await;
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_follow-webhooks"))
            .arg("--db")
            .arg(&db)
            .args(["--tenant", "acme", "--endpoint", &format!("crm={url}")])
            .args(["--until-idle", "--min-delay-ms", "10"])
            .env("FOLLOW_WEBHOOK_SECRET", SECRET)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut child = spawn();
    let started = Instant::now();
    while inner.count() < 20 {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // SIGKILL: no chance to finish anything.
    child.kill().unwrap();
    child.wait().unwrap();
    let before_restart = inner.count();
    assert!(before_restart < all.len(), "killed mid-stream");

    let mut child = spawn();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    let requests = inner.requests.lock().unwrap().clone();
    assert!(requests.iter().all(|r| r.signed));
    let got = positions(&requests);
    let mut unique = got.clone();
    unique.dedup();
    assert_eq!(unique, all, "every event, in order");
    // One request in flight: at most the one event the kill fell on
    // between delivery and acknowledgement comes twice, back to back.
    assert!(got.len() - unique.len() <= 1, "{got:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
