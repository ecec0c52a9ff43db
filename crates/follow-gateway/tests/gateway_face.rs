//! The WhatsApp gateway face, one request at a time (tower `oneshot`).
#![allow(clippy::unwrap_used, clippy::type_complexity)]

mod common;

use axum::http::{Method, StatusCode};
use common::*;

fn action(session: &str, jid: &str, verb: &str) -> String {
    format!("/api/v1/sessions/{session}/channels/{jid}:{verb}")
}

#[tokio::test]
async fn follow_answers_204_and_is_idempotent() {
    let app = app().await;
    for _ in 0..2 {
        let (status, _, _) = send(
            &app,
            Method::POST,
            &action("alice", CHANNEL, "follow"),
            Some(SCRIPT_KEY),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let (status, _, body) = send(
        &app,
        Method::GET,
        &format!("/api/v1/sessions/alice/channels/{CHANNEL}"),
        Some(READER_KEY),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["following"], true);
    assert_eq!(body["relation"], "following");
}

#[tokio::test]
async fn at_sign_may_be_percent_encoded() {
    let app = app().await;
    let encoded = CHANNEL.replace('@', "%40");
    let (status, _, _) = send(
        &app,
        Method::POST,
        &action("alice", &encoded, "follow"),
        Some(SCRIPT_KEY),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, _, body) = send(
        &app,
        Method::GET,
        "/api/v1/sessions/alice/channels",
        Some(READER_KEY),
        None,
    )
    .await;
    assert_eq!(body["items"][0]["jid"], CHANNEL);
}

#[tokio::test]
async fn unfollow_answers_204_whether_or_not_followed() {
    let app = app().await;
    let path = action("alice", CHANNEL, "unfollow");
    let (status, _, _) = send(&app, Method::POST, &path, Some(SCRIPT_KEY), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    send(
        &app,
        Method::POST,
        &action("alice", CHANNEL, "follow"),
        Some(SCRIPT_KEY),
        None,
    )
    .await;
    let (status, _, _) = send(&app, Method::POST, &path, Some(SCRIPT_KEY), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, _, body) = send(
        &app,
        Method::GET,
        &format!("/api/v1/sessions/alice/channels/{CHANNEL}"),
        Some(READER_KEY),
        None,
    )
    .await;
    assert_eq!(body["following"], false);
}

#[tokio::test]
async fn mute_sets_defaults_to_true_and_never_toggles() {
    let app = app().await;
    send(
        &app,
        Method::POST,
        &action("alice", CHANNEL, "follow"),
        Some(SCRIPT_KEY),
        None,
    )
    .await;
    let muted = |body: &serde_json::Value| body["items"][0]["muted"].as_bool();
    let list = "/api/v1/sessions/alice/channels";
    for (body, expected) in [
        (None, true),
        (None, true),
        (Some(r#"{"mute": false}"#), false),
        (Some(r#"{"mute": false}"#), false),
        (Some("{}"), true),
        (Some(r#"{"mute": true}"#), true),
    ] {
        let (status, _, _) = send(
            &app,
            Method::POST,
            &action("alice", CHANNEL, "mute"),
            Some(SCRIPT_KEY),
            body,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body:?}");
        let (_, _, page) = send(&app, Method::GET, list, Some(READER_KEY), None).await;
        assert_eq!(muted(&page), Some(expected), "{body:?}");
    }
}

#[tokio::test]
async fn mute_of_an_unfollowed_channel_is_409_not_following() {
    let app = app().await;
    let (status, _, body) = send(
        &app,
        Method::POST,
        &action("alice", CHANNEL, "mute"),
        Some(SCRIPT_KEY),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "not_following");
}

#[tokio::test]
async fn list_pages_with_next_cursor_null_at_the_end() {
    let app = app().await;
    for jid in [CHANNEL, OTHER_CHANNEL] {
        send(
            &app,
            Method::POST,
            &action("alice", jid, "follow"),
            Some(SCRIPT_KEY),
            None,
        )
        .await;
    }
    // An account followed too is not a channel and is left out of this list.
    let (status, _, _) = send(
        &app,
        Method::POST,
        "/api/v1/sessions/alice/channels/bob:follow",
        Some(SCRIPT_KEY),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, first) = send(
        &app,
        Method::GET,
        "/api/v1/sessions/alice/channels?limit=1",
        Some(READER_KEY),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    let cursor = first["nextCursor"].as_str().unwrap().to_owned();
    let (_, _, second) = send(
        &app,
        Method::GET,
        &format!("/api/v1/sessions/alice/channels?limit=1&cursor={cursor}"),
        Some(READER_KEY),
        None,
    )
    .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_ne!(first["items"][0]["jid"], second["items"][0]["jid"]);
    assert!(second["nextCursor"].is_null());
}

#[tokio::test]
async fn errors_are_the_seeds_document() {
    let app = app().await;
    let cases: Vec<(Method, String, Option<&str>, Option<&str>, StatusCode, &str)> = vec![
        (
            Method::POST,
            action("alice", CHANNEL, "follow"),
            None,
            None,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            Method::POST,
            action("alice", CHANNEL, "follow"),
            Some("wrong-key"),
            None,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            Method::POST,
            action("alice", CHANNEL, "follow"),
            Some(READER_KEY),
            None,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            Method::POST,
            action("ghost", CHANNEL, "follow"),
            Some(SCRIPT_KEY),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::POST,
            action("alice", "999@newsletter", "follow"),
            Some(SCRIPT_KEY),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::POST,
            action("alice", CHANNEL, "explode"),
            Some(SCRIPT_KEY),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::POST,
            format!("/api/v1/sessions/alice/channels/{CHANNEL}"),
            Some(SCRIPT_KEY),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::POST,
            action("alice", CHANNEL, "follow"),
            Some(SCRIPT_KEY),
            Some("{}"),
            StatusCode::BAD_REQUEST,
            "invalid_argument",
        ),
        (
            Method::POST,
            action("alice", CHANNEL, "mute"),
            Some(SCRIPT_KEY),
            Some("{\"mute\": "),
            StatusCode::BAD_REQUEST,
            "invalid_argument",
        ),
        (
            Method::POST,
            action("alice", CHANNEL, "mute"),
            Some(SCRIPT_KEY),
            Some(r#"{"mute": true, "extra": 1}"#),
            StatusCode::BAD_REQUEST,
            "invalid_argument",
        ),
        (
            Method::POST,
            action("alice", CHANNEL, "mute"),
            Some(SCRIPT_KEY),
            Some(r#"{"mute": "yes"}"#),
            StatusCode::BAD_REQUEST,
            "invalid_argument",
        ),
        (
            Method::POST,
            action("alice", "not-a-channel", "follow"),
            Some(SCRIPT_KEY),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_argument",
        ),
        (
            Method::GET,
            "/api/v1/sessions/alice/channels".into(),
            Some("nope"),
            None,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            Method::GET,
            "/api/v1/sessions/ghost/channels".into(),
            Some(READER_KEY),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::GET,
            "/api/v1/sessions/alice/channels?limit=0".into(),
            Some(READER_KEY),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_argument",
        ),
        (
            Method::GET,
            "/api/v1/sessions/alice/channels?limit=abc".into(),
            Some(READER_KEY),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_argument",
        ),
        (
            Method::GET,
            "/api/v1/sessions/alice/channels?cursor=AAAA".into(),
            Some(READER_KEY),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_argument",
        ),
        (
            Method::GET,
            format!("/api/v1/sessions/ghost/channels/{CHANNEL}"),
            Some(READER_KEY),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::GET,
            format!("/api/v1/sessions/alice/channels/{CHANNEL}"),
            None,
            None,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            Method::PUT,
            "/api/v1/sessions/dave".into(),
            Some(SCRIPT_KEY),
            None,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            Method::PUT,
            "/api/v1/sessions/dave".into(),
            None,
            None,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            Method::PUT,
            "/api/v1/channels/dave".into(),
            Some(ADMIN_KEY),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_argument",
        ),
        (
            Method::PUT,
            "/api/v1/channels/1@newsletter".into(),
            Some(READER_KEY),
            None,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            Method::GET,
            "/api/v1/nothing".into(),
            Some(READER_KEY),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::DELETE,
            "/api/v1/sessions/alice".into(),
            Some(ADMIN_KEY),
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (method, path, key, body, status, expected) in cases {
        let (got, headers, document) = send(&app, method.clone(), &path, key, body).await;
        assert_eq!(got, status, "{method} {path} {body:?}: {document}");
        assert_eq!(code(&document), expected, "{method} {path}");
        assert!(document["error"]["message"].is_string());
        assert!(document["error"]["details"].is_object());
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(headers["www-authenticate"], "Bearer");
        }
    }
}

#[tokio::test]
async fn a_login_jwt_acts_with_its_roles_capabilities() {
    let app = app().await;
    let member = jwt(|_| {});
    let (status, _, _) = send(
        &app,
        Method::POST,
        &action("alice", CHANNEL, "follow"),
        Some(&member),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let viewer = jwt(|claims| claims["role"] = "viewer".into());
    let (status, _, body) = send(
        &app,
        Method::POST,
        &action("alice", CHANNEL, "unfollow"),
        Some(&viewer),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["details"]["capability"], "send");
    let (status, _, _) = send(
        &app,
        Method::GET,
        "/api/v1/sessions/alice/channels",
        Some(&viewer),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let owner = jwt_with(
        "p256.pem",
        "ec-1",
        jsonwebtoken::Algorithm::ES256,
        |claims| claims["role"] = "owner".into(),
    );
    let (status, _, _) = send(
        &app,
        Method::PUT,
        "/api/v1/sessions/erin",
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn another_organisations_session_is_404_never_403() {
    let app = app().await;
    // carol is globex's; acme's keys and tokens do not see her.
    for key in [SCRIPT_KEY, READER_KEY] {
        let (status, _, body) = send(
            &app,
            Method::POST,
            &action("carol", CHANNEL, "follow"),
            Some(key),
            None,
        )
        .await;
        let expected = if key == READER_KEY {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(status, expected, "{body}");
    }
    let (status, _, _) = send(
        &app,
        Method::GET,
        "/api/v1/sessions/carol/channels",
        Some(READER_KEY),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let globex = jwt(|claims| claims["org"] = "globex".into());
    let (status, _, _) = send(
        &app,
        Method::GET,
        "/api/v1/sessions/alice/channels",
        Some(&globex),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // globex's own key finds carol but not acme's channel.
    let (status, _, _) = send(
        &app,
        Method::POST,
        &action("carol", CHANNEL, "follow"),
        Some(GLOBEX_KEY),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
