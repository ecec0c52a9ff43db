//! Hostile requests: forged, expired and misaddressed tokens, algorithm
//! tricks, other tenants' credentials, oversized and malformed bodies, bad
//! percent-encoding. None is accepted; none is answered with a 5xx; no
//! answer echoes the credential.
#![allow(clippy::unwrap_used, clippy::type_complexity)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use serde_json::json;

fn follow_path() -> String {
    format!("/api/v1/sessions/alice/channels/{CHANNEL}:follow")
}

fn unsigned(header: serde_json::Value, claims: serde_json::Value) -> String {
    let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.", part(header), part(claims))
}

fn valid_claims() -> serde_json::Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "org": "acme", "role": "owner", "exp": now() + 600, "nbf": now() - 10})
}

#[tokio::test]
async fn bad_tokens_are_401_and_never_echoed() {
    let app = app().await;
    let jwks: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("jwks.json")).unwrap()).unwrap();
    let public_x = jwks["keys"][0]["x"].as_str().unwrap().to_owned();
    let hmac_with_public_key = {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some("ed-1".into());
        jsonwebtoken::encode(
            &header,
            &valid_claims(),
            &jsonwebtoken::EncodingKey::from_secret(public_x.as_bytes()),
        )
        .unwrap()
    };
    let tokens = vec![
        (
            "forged signature",
            jwt_with(
                "ed25519-other.pem",
                "ed-1",
                jsonwebtoken::Algorithm::EdDSA,
                |_| {},
            ),
        ),
        (
            "expired",
            jwt(|c| {
                c["exp"] = (now() - 3600).into();
                c["nbf"] = (now() - 7200).into();
            }),
        ),
        ("not yet valid", jwt(|c| c["nbf"] = (now() + 3600).into())),
        ("wrong audience", jwt(|c| c["aud"] = "someone-else".into())),
        (
            "wrong issuer",
            jwt(|c| c["iss"] = "https://evil.example".into()),
        ),
        (
            "no exp",
            jwt(|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
        ),
        (
            "no org",
            jwt(|c| {
                c.as_object_mut().unwrap().remove("org");
            }),
        ),
        ("unknown role", jwt(|c| c["role"] = "god".into())),
        (
            "unknown kid",
            jwt_with(
                "ed25519.pem",
                "ed-9",
                jsonwebtoken::Algorithm::EdDSA,
                |_| {},
            ),
        ),
        (
            "ES256 header on the Ed25519 key",
            jwt_with("p256.pem", "ed-1", jsonwebtoken::Algorithm::ES256, |_| {}),
        ),
        (
            "alg none",
            unsigned(json!({"alg": "none", "kid": "ed-1"}), valid_claims()),
        ),
        ("HMAC with the public key", hmac_with_public_key),
        ("garbage", "a.b.c".into()),
    ];
    for (what, token) in tokens {
        let (status, _, body) = send(&app, Method::POST, &follow_path(), Some(&token), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert_eq!(code(&body), "unauthenticated", "{what}");
        assert!(!body.to_string().contains(&token), "{what} echoed");
    }
    // The same token, valid, passes: the refusals above are the changes.
    let (status, _, _) = send(&app, Method::POST, &follow_path(), Some(&jwt(|_| {})), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn keys_of_another_tenant_find_nothing_here() {
    let app = app().await;
    for (method, path) in [
        (Method::POST, follow_path()),
        (Method::GET, "/api/v1/sessions/alice/channels".to_owned()),
        (
            Method::GET,
            format!("/api/v1/sessions/alice/channels/{CHANNEL}"),
        ),
    ] {
        let (status, _, body) = send(&app, method, &path, Some(GLOBEX_KEY), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(!body.to_string().contains(GLOBEX_KEY));
    }
}

#[tokio::test]
async fn oversized_bodies_are_refused_by_each_face() {
    let app = app().await;
    let big = format!("{{\"mute\": true, \"pad\": \"{}\"}}", "x".repeat(8192));
    let (status, _, body) = send(
        &app,
        Method::POST,
        &format!("/api/v1/sessions/alice/channels/{CHANNEL}:mute"),
        Some(SCRIPT_KEY),
        Some(&big),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let (status, _, body) = send(
        &app,
        Method::POST,
        &format!("/v2/channels/{CHANNEL}/message?instance_id={INSTANCE}&access_token={TOKEN}"),
        None,
        Some(&big),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );
    let (status, _, body) = send(
        &app,
        Method::POST,
        &format!(
            "/v4/follow/follow_add?{}",
            tencent_query(APP, SECRET, ADMIN)
        ),
        None,
        Some(&big),
    )
    .await;
    assert_eq!(
        (status, body["ErrorCode"].as_u64()),
        (StatusCode::OK, Some(30001))
    );
}

#[tokio::test]
async fn bad_percent_encoding_is_the_faces_400() {
    let app = app().await;
    for path in [
        "/api/v1/sessions/%FF%FE/channels".to_owned(),
        format!("/api/v1/sessions/alice/channels/%C3%28{}:follow", "1"),
    ] {
        let method = if path.ends_with("follow") {
            Method::POST
        } else {
            Method::GET
        };
        let (status, _, body) = send(&app, method, &path, Some(ADMIN_KEY), None).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_argument"),
            "{path}"
        );
    }
    let (status, _, body) = send(
        &app,
        Method::POST,
        &format!("/v2/channels/%FF/follow?instance_id={INSTANCE}&access_token={TOKEN}"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_argument"))
    );
}

#[tokio::test]
async fn hostile_ids_and_cursors_never_cause_a_server_error() {
    let app = app().await;
    let long = "a".repeat(300);
    for session in [
        "%20",
        "a%00b",
        long.as_str(),
        "..",
        "%2F%2F",
        "120363@newsletter",
    ] {
        for path in [
            format!("/api/v1/sessions/{session}/channels?cursor=%00%FF"),
            format!("/api/v1/sessions/{session}/channels/{session}:mute"),
        ] {
            let method = if path.contains(":mute") {
                Method::POST
            } else {
                Method::GET
            };
            let (status, _, body) = send(
                &app,
                method,
                &path,
                Some(ADMIN_KEY),
                Some("{\"mute\":false}"),
            )
            .await;
            assert!(status.is_client_error(), "{path}: {status} {body}");
            assert!(body["error"]["code"].is_string());
        }
    }
}

/// A JWKS served over HTTP on loopback, counting fetches; the key set can
/// change while it runs (a rotation).
async fn jwks_server(
    keys: Arc<std::sync::Mutex<serde_json::Value>>,
    fetches: Arc<AtomicUsize>,
) -> String {
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let keys = keys.clone();
            let fetches = fetches.clone();
            async move {
                fetches.fetch_add(1, Ordering::SeqCst);
                axum::Json(keys.lock().unwrap().clone())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/jwks.json")
}

#[tokio::test]
async fn a_jwks_url_is_refetched_for_an_unknown_kid_at_most_once_per_interval() {
    let all: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("jwks.json")).unwrap()).unwrap();
    let only_ec = json!({"keys": [all["keys"][1].clone()]});
    let keys = Arc::new(std::sync::Mutex::new(only_ec));
    let fetches = Arc::new(AtomicUsize::new(0));
    let url = jwks_server(keys.clone(), fetches.clone()).await;
    let mut config = config();
    let jwt_config = config.jwt.as_mut().unwrap();
    jwt_config.jwks_file = None;
    jwt_config.jwks_url = Some(url);
    jwt_config.jwks_refetch_seconds = 3600;
    let app = app_with(config).await;
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "fetched at start");
    let ec = jwt_with("p256.pem", "ec-1", jsonwebtoken::Algorithm::ES256, |c| {
        c["role"] = "viewer".into()
    });
    let (status, _, _) = send(
        &app,
        Method::GET,
        "/api/v1/sessions/alice/channels",
        Some(&ec),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a known kid needs no fetch (alice is not registered here)"
    );
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    // The key is rotated in; the first token naming it is within the
    // refetch interval of the start fetch, so it is refused without a fetch.
    *keys.lock().unwrap() = all;
    let ed = jwt(|c| c["role"] = "viewer".into());
    for _ in 0..3 {
        let (status, _, _) = send(
            &app,
            Method::GET,
            "/api/v1/sessions/alice/channels",
            Some(&ed),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "bounded: no fetch storm");
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_by_one_refetch() {
    let all: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("jwks.json")).unwrap()).unwrap();
    let keys = Arc::new(std::sync::Mutex::new(
        json!({"keys": [all["keys"][1].clone()]}),
    ));
    let fetches = Arc::new(AtomicUsize::new(0));
    let url = jwks_server(keys.clone(), fetches.clone()).await;
    let mut config = config();
    let jwt_config = config.jwt.as_mut().unwrap();
    jwt_config.jwks_file = None;
    jwt_config.jwks_url = Some(url);
    jwt_config.jwks_refetch_seconds = 0;
    let app = app_with(config).await;
    *keys.lock().unwrap() = all;
    let ed = jwt(|c| c["role"] = "owner".into());
    let (status, _, _) = send(&app, Method::PUT, "/api/v1/sessions/zed", Some(&ed), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    let (status, _, _) = send(&app, Method::PUT, "/api/v1/sessions/zed", Some(&ed), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        2,
        "a known kid is served from the cache"
    );
}
