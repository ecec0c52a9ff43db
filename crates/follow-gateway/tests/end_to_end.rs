//! `followd` as a user runs it: the real binary on a loopback port, driven
//! by a real HTTP client, stopped with SIGTERM.
#![allow(clippy::unwrap_used)]

mod common;

use common::live::Followd;
use common::*;
use serde_json::{Value, json};

async fn register(client: &reqwest::Client, base: &str) {
    for path in [
        "/api/v1/sessions/alice".to_owned(),
        format!("/api/v1/channels/{CHANNEL}"),
    ] {
        let response = client
            .put(format!("{base}{path}"))
            .bearer_auth(ADMIN_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
}

#[tokio::test]
async fn three_faces_share_one_graph_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("follow.db");
    let text = config_toml(db.to_str().unwrap());
    let followd = Followd::start(dir.path(), &text);
    let base = followd.base.clone();
    let client = reqwest::Client::new();
    register(&client, &base).await;

    // The gateway face follows with a login JWT…
    let response = client
        .post(format!(
            "{base}/api/v1/sessions/alice/channels/{}:follow",
            CHANNEL.replace('@', "%40")
        ))
        .bearer_auth(jwt(|_| {}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    // …Tencent's face sees it (the same tenant, the same graph)…
    let response: Value = client
        .post(format!(
            "{base}/v4/follow/follow_check?{}",
            tencent_query(APP, SECRET, ADMIN)
        ))
        .json(&json!({"From_Account": "alice", "To_Account": [CHANNEL]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["ResultItem"][0]["FollowType"], 2, "{response}");

    // …and the channel API's instance follows, reacts and unfollows.
    let creds = format!("instance_id={INSTANCE}&access_token={TOKEN}");
    let response = client
        .post(format!("{base}/v2/channels/{CHANNEL}/follow?{creds}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = client
        .post(format!("{base}/v2/channels/{CHANNEL}/reaction?{creds}"))
        .json(&json!({"emoji": "👍"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response: Value = client
        .post(format!("{base}/v2/channels/{CHANNEL}/unfollow?{creds}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        response,
        json!({"status": "success", "message": "No longer following the channel"})
    );

    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("followd_requests_total"));

    let (clean, stderr) = followd.terminate();
    assert!(clean, "{stderr}");
    assert!(stderr.contains("store closed"), "{stderr}");
    assert!(
        !stderr.contains(ADMIN_KEY) && !stderr.contains(TOKEN),
        "logs never hold credentials"
    );

    // The follow made through the gateway face is still there.
    let followd = Followd::start(dir.path(), &text);
    let page: Value = client
        .get(format!("{}/api/v1/sessions/alice/channels", followd.base))
        .bearer_auth(READER_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["jid"], CHANNEL);
    assert!(page["nextCursor"].is_null());
    let (clean, _) = followd.terminate();
    assert!(clean);
}

#[tokio::test]
async fn requests_in_flight_finish_after_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("follow.db");
    let followd = Followd::start(dir.path(), &config_toml(db.to_str().unwrap()));
    let base = followd.base.clone();
    let client = reqwest::Client::new();
    register(&client, &base).await;
    // Many requests are sent, then SIGTERM arrives while they run: each one
    // that the server accepted is answered in full.
    let mut tasks = Vec::new();
    for i in 0..64 {
        let client = client.clone();
        let url = format!(
            "{base}/api/v1/sessions/alice/channels/{CHANNEL}:{}",
            if i % 2 == 0 { "follow" } else { "unfollow" }
        );
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(SCRIPT_KEY)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    // SIGTERM once the first answer is in, while the others run.
    let mut tasks = tasks.into_iter();
    let first = tasks.next().unwrap().await.unwrap().unwrap();
    assert_eq!(first, 204);
    let stopper = std::thread::spawn(move || followd.terminate());
    let mut answered = 1;
    for task in tasks {
        match task.await.unwrap() {
            Ok(status) => {
                assert_eq!(status, 204);
                answered += 1;
            }
            // Refused at connect after shutdown began: never half-answered.
            Err(error) => assert!(error.is_connect() || error.is_request(), "{error}"),
        }
    }
    let (clean, stderr) = stopper.join().unwrap();
    assert!(clean, "{stderr}");
    assert!(answered > 0);
}

#[test]
fn a_bad_configuration_is_an_error_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        "[[tencent_apps]]\nsdkappid = 1\nsecret_key = 'short'\nadmin = 'a'\ntenant = 't'\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_followd"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tencent_apps[0].secret_key"), "{stderr}");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_followd"))
        .env("FOLLOWD_LISTEN", "not-an-address")
        .arg("--db")
        .arg(dir.path().join("x.db"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("`listen`"));
}

#[tokio::test]
async fn readiness_waits_for_a_jwks_that_was_down_at_start() {
    let dir = tempfile::tempdir().unwrap();
    // A free loopback port with nothing behind it yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let db = dir.path().join("follow.db");
    let text = config_toml(db.to_str().unwrap()).replace(
        &format!("jwks_file = \"{}\"", fixture("jwks.json")),
        &format!("jwks_url = \"http://127.0.0.1:{port}/jwks.json\"\njwks_refetch_seconds = 1"),
    );
    let followd = Followd::start(dir.path(), &text);
    let client = reqwest::Client::new();
    let ready = |client: reqwest::Client, base: String| async move {
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(ready(client.clone(), followd.base.clone()).await, 503);
    let jwks = std::fs::read_to_string(fixture("jwks.json")).unwrap();
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            async move { ([("content-type", "application/json")], jwks) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut status = 503;
    for _ in 0..50 {
        status = ready(client.clone(), followd.base.clone()).await;
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        status, 200,
        "the JWKS was fetched again without any token arriving"
    );
    let (clean, stderr) = followd.terminate();
    assert!(clean && stderr.contains("store closed"), "{stderr}");
}
