//! Fixtures shared by the gateway's tests: a configuration with one key,
//! app and instance of each kind, a router over an in-memory store, token
//! minting and a one-shot request helper.
#![allow(dead_code, clippy::unwrap_used)]

pub mod live;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use follow_gateway::auth::sha256_hex;
use follow_gateway::config::Config;
use follow_gateway::state::AppState;
use serde_json::{Value, json};
use tower::ServiceExt;

pub const ADMIN_KEY: &str = "acme-admin-key-0001";
pub const READER_KEY: &str = "acme-reader-key-0001";
pub const SCRIPT_KEY: &str = "acme-script-key-0001";
pub const GLOBEX_KEY: &str = "globex-admin-key-0001";
pub const APP: u64 = 1_400_000_000;
pub const OTHER_APP: u64 = 1_400_000_001;
pub const SECRET: &str = "5bd2850fff3ecb11d7c805251c51ee46";
pub const OTHER_SECRET: &str = "0123456789abcdef0123456789abcdef";
pub const ADMIN: &str = "administrator";
pub const INSTANCE: &str = "instance-1";
pub const TOKEN: &str = "instance-token-0001";
pub const INSTANCE_ACCOUNT: &str = "15550001111";
pub const CHANNEL: &str = "120363012345678901@newsletter";
pub const OTHER_CHANNEL: &str = "120363000000000002@newsletter";
pub const ISSUER: &str = "https://login.example.test";
pub const AUDIENCE: &str = "followd";

pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The configuration text every test starts from.
pub fn config_toml(database: &str) -> String {
    format!(
        r#"
listen = "127.0.0.1:0"
database = "{database}"
cursor_key = "00112233445566778899aabbccddeeff"
body_limit_bytes = 4096

[jwt]
jwks_file = "{jwks}"
issuer = "{ISSUER}"
audience = "{AUDIENCE}"
algorithms = ["EdDSA", "ES256"]

[[api_keys]]
name = "acme-admin"
sha256 = "{admin}"
tenant = "acme"
capabilities = ["read", "send", "admin"]

[[api_keys]]
name = "acme-reader"
sha256 = "{reader}"
tenant = "acme"
capabilities = ["read"]

[[api_keys]]
name = "acme-script"
sha256 = "{script}"
tenant = "acme"
capabilities = ["read", "send"]

[[api_keys]]
name = "globex-admin"
sha256 = "{globex}"
tenant = "globex"
capabilities = ["read", "send", "admin"]

[[tencent_apps]]
sdkappid = {APP}
secret_key = "{SECRET}"
admin = "{ADMIN}"
tenant = "acme"

[[tencent_apps]]
sdkappid = {OTHER_APP}
secret_key = "{OTHER_SECRET}"
admin = "{ADMIN}"
tenant = "globex"

[[channel_instances]]
instance_id = "{INSTANCE}"
token_sha256 = "{token}"
tenant = "acme"
account = "{INSTANCE_ACCOUNT}"
"#,
        jwks = fixture("jwks.json"),
        admin = sha256_hex(ADMIN_KEY),
        reader = sha256_hex(READER_KEY),
        script = sha256_hex(SCRIPT_KEY),
        globex = sha256_hex(GLOBEX_KEY),
        token = sha256_hex(TOKEN),
    )
}

pub fn config() -> Config {
    Config::from_toml(&config_toml(":memory:")).unwrap()
}

pub async fn app_with(config: Config) -> Router {
    let store = follow_store_sqlite::SqliteStore::open_in_memory().unwrap();
    let state = AppState::new(&config, Arc::new(store)).await.unwrap();
    follow_gateway::app::router(state)
}

/// A router with sessions `alice` and `bob`, the instance's account and
/// two channels registered in `acme`, and `carol` in `globex`.
pub async fn app() -> Router {
    let app = app_with(config()).await;
    for path in [
        "/api/v1/sessions/alice".to_owned(),
        "/api/v1/sessions/bob".to_owned(),
        format!("/api/v1/channels/{CHANNEL}"),
        format!("/api/v1/channels/{OTHER_CHANNEL}"),
    ] {
        let (status, _, _) = send(&app, Method::PUT, &path, Some(ADMIN_KEY), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{path}");
    }
    let (status, _, _) = send(
        &app,
        Method::PUT,
        "/api/v1/sessions/carol",
        Some(GLOBEX_KEY),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    app
}

/// One request; the body parsed as JSON (or `Value::String` if not JSON).
pub async fn send(
    app: &Router,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let request = request
        .body(Body::from(body.unwrap_or("").to_owned()))
        .unwrap();
    send_request(app, request).await
}

pub async fn send_request(app: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, headers, value)
}

/// The error code of a gateway error document.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// A login JWT signed with a fixture key; `edit` adjusts the claims.
pub fn jwt_with(
    key: &str,
    kid: &str,
    alg: jsonwebtoken::Algorithm,
    edit: impl FnOnce(&mut Value),
) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut claims = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "person-1",
        "org": "acme", "role": "member",
        "iat": now, "nbf": now - 10, "exp": now + 600,
    });
    edit(&mut claims);
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = Some(kid.to_owned());
    let pem = std::fs::read(fixture(key)).unwrap();
    let encoding = match alg {
        jsonwebtoken::Algorithm::EdDSA => jsonwebtoken::EncodingKey::from_ed_pem(&pem).unwrap(),
        _ => jsonwebtoken::EncodingKey::from_ec_pem(&pem).unwrap(),
    };
    jsonwebtoken::encode(&header, &claims, &encoding).unwrap()
}

pub fn jwt(edit: impl FnOnce(&mut Value)) -> String {
    jwt_with("ed25519.pem", "ed-1", jsonwebtoken::Algorithm::EdDSA, edit)
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The query string of a Tencent call signed for `app`.
pub fn tencent_query(app: u64, secret: &str, identifier: &str) -> String {
    let sig = follow_gateway::auth::usersig::sign(app, identifier, secret, now(), 3600);
    format!("sdkappid={app}&identifier={identifier}&usersig={sig}&random=99999999&contenttype=json")
}

pub async fn tencent(app: &Router, call: &str, body: &str) -> Value {
    let path = format!("/v4/follow/{call}?{}", tencent_query(APP, SECRET, ADMIN));
    let (status, _, value) = send(app, Method::POST, &path, None, Some(body)).await;
    assert_eq!(status, StatusCode::OK);
    value
}
