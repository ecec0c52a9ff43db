//! The service's own routes: health, readiness, metrics, and the OpenAPI
//! document (which must cover every route of the JSON faces).
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::*;

#[tokio::test]
async fn health_and_readiness() {
    let app = app().await;
    let (status, _, body) = send(&app, Method::GET, "/healthz", None, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, _, body) = send(&app, Method::GET, "/readyz", None, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
}

#[tokio::test]
async fn readiness_fails_while_no_jwks_key_is_loaded() {
    let mut config = config();
    let jwt = config.jwt.as_mut().unwrap();
    jwt.jwks_file = None;
    // Nothing listens on port 9 of loopback: the fetch fails.
    jwt.jwks_url = Some("http://127.0.0.1:9/jwks.json".into());
    let app = app_with(config).await;
    let (status, _, body) = send(&app, Method::GET, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "not_ready");
}

#[tokio::test]
async fn metrics_count_requests_latencies_and_errors_by_code() {
    let app = app().await;
    send(
        &app,
        Method::GET,
        "/api/v1/sessions/ghost/channels",
        Some(READER_KEY),
        None,
    )
    .await;
    send(
        &app,
        Method::GET,
        "/api/v1/sessions/alice/channels",
        None,
        None,
    )
    .await;
    let (status, headers, body) = send(&app, Method::GET, "/metrics", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = body.as_str().unwrap();
    assert!(text.contains(r#"followd_requests_total{method="GET",route="/api/v1/sessions/{session}/channels",status="404"} 1"#), "{text}");
    assert!(
        text.contains(r#"followd_errors_total{face="gateway",code="not_found"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"followd_errors_total{face="gateway",code="unauthenticated"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"followd_request_duration_seconds_count{method="GET",route="/api/v1/sessions/{session}/channels"} 2"#), "{text}");
    assert!(!text.contains("ghost"), "raw paths never become labels");
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_covers_every_route() {
    let app = app().await;
    let (status, _, doc) = send(&app, Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let expected = [
        ("post", "/api/v1/sessions/{session}/channels/{jid}:follow"),
        ("post", "/api/v1/sessions/{session}/channels/{jid}:unfollow"),
        ("post", "/api/v1/sessions/{session}/channels/{jid}:mute"),
        ("get", "/api/v1/sessions/{session}/channels"),
        ("get", "/api/v1/sessions/{session}/channels/{jid}"),
        ("put", "/api/v1/sessions/{session}"),
        ("put", "/api/v1/channels/{jid}"),
        ("post", "/v4/follow/follow_add"),
        ("post", "/v4/follow/follow_delete"),
        ("post", "/v4/follow/follow_check"),
        ("post", "/v4/follow/follow_get"),
        ("post", "/v4/follow/follow_get_info"),
        ("post", "/v4/im_open_login_svc/account_import"),
        ("get", "/v2/channels"),
        ("post", "/v2/channels/{id}/follow"),
        ("post", "/v2/channels/{id}/unfollow"),
        ("post", "/v2/channels/{id}/message"),
        ("post", "/v2/channels/{id}/reaction"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
    ];
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in expected {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} undocumented"
        );
    }
    let operations: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        operations,
        expected.len(),
        "a documented operation that is not tested here"
    );
    // Every gateway error status the handlers can answer is documented.
    let follow = &paths["/api/v1/sessions/{session}/channels/{jid}:follow"]["post"]["responses"];
    for status in ["204", "400", "401", "403", "404", "413", "429", "503"] {
        assert!(follow.get(status).is_some(), "{status}");
    }
}
