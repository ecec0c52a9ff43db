//! The channel API face: follow, unfollow, the list, and the interaction
//! guard behind messages and reactions.
#![allow(clippy::unwrap_used, clippy::type_complexity)]

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::json;

fn creds() -> String {
    format!("instance_id={INSTANCE}&access_token={TOKEN}")
}

#[tokio::test]
async fn unfollow_answers_the_seeds_document_and_is_idempotent() {
    let app = app().await;
    let path = format!("/v2/channels/{CHANNEL}/unfollow?{}", creds());
    for _ in 0..2 {
        let (status, _, body) = send(&app, Method::POST, &path, None, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({"status": "success", "message": "No longer following the channel"})
        );
    }
}

#[tokio::test]
async fn follow_then_list_then_unfollow() {
    let app = app().await;
    let (status, _, body) = send(
        &app,
        Method::POST,
        &format!("/v2/channels/{CHANNEL}/follow?{}", creds()),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "success");
    let (status, _, list) = send(
        &app,
        Method::GET,
        &format!("/v2/channels?{}", creds()),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["status"], "success");
    assert_eq!(list["channels"][0]["id"], CHANNEL);
    assert_eq!(list["channels"][0]["muted"], false);
    assert!(list["next_cursor"].is_null());
    // Credentials may come in the body instead of the query.
    let body = json!({"instance_id": INSTANCE, "access_token": TOKEN}).to_string();
    let (status, _, _) = send(
        &app,
        Method::POST,
        &format!("/v2/channels/{CHANNEL}/unfollow"),
        None,
        Some(&body),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, list) = send(
        &app,
        Method::GET,
        &format!("/v2/channels?{}", creds()),
        None,
        None,
    )
    .await;
    assert_eq!(list["channels"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn messages_and_reactions_need_a_followed_channel() {
    let app = app().await;
    let message = format!("/v2/channels/{CHANNEL}/message?{}", creds());
    let reaction = format!("/v2/channels/{CHANNEL}/reaction?{}", creds());
    let text = r#"{"text":"hello"}"#;
    let emoji = r#"{"emoji":"👍","message_id":"m1"}"#;
    // Never followed: the zombie state answers 403.
    let (status, _, body) = send(&app, Method::POST, &message, None, Some(text)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["status"], "error");
    assert_eq!(body["code"], "forbidden");
    send(
        &app,
        Method::POST,
        &format!("/v2/channels/{CHANNEL}/follow?{}", creds()),
        None,
        None,
    )
    .await;
    let (status, _, body) = send(&app, Method::POST, &message, None, Some(text)).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::OK, Some("Message accepted"))
    );
    let (status, _, _) = send(&app, Method::POST, &reaction, None, Some(emoji)).await;
    assert_eq!(status, StatusCode::OK);
    // Unfollowed, but still "active" in a client's cache: 403 again.
    send(
        &app,
        Method::POST,
        &format!("/v2/channels/{CHANNEL}/unfollow?{}", creds()),
        None,
        None,
    )
    .await;
    let (status, _, _) = send(&app, Method::POST, &reaction, None, Some(emoji)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) = send(&app, Method::POST, &message, None, Some("{}")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_argument"))
    );
}

#[tokio::test]
async fn errors_are_the_faces_own_document() {
    let app = app().await;
    let wrong = format!("instance_id={INSTANCE}&access_token=wrong");
    let unknown = format!("instance_id=nobody&access_token={TOKEN}");
    let cases: Vec<(Method, String, Option<&str>, StatusCode, &str)> = vec![
        (
            Method::POST,
            format!("/v2/channels/{CHANNEL}/follow"),
            None,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            Method::POST,
            format!("/v2/channels/{CHANNEL}/follow?{wrong}"),
            None,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            Method::POST,
            format!("/v2/channels/{CHANNEL}/follow?{unknown}"),
            None,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            Method::GET,
            format!("/v2/channels?{wrong}"),
            None,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            Method::POST,
            format!("/v2/channels/999@newsletter/follow?{}", creds()),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::POST,
            format!("/v2/channels/nope/follow?{}", creds()),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_argument",
        ),
        (
            Method::POST,
            format!("/v2/channels/{CHANNEL}/follow?{}", creds()),
            Some("{\"x\":1}"),
            StatusCode::BAD_REQUEST,
            "invalid_argument",
        ),
        (
            Method::POST,
            format!("/v2/channels/{CHANNEL}/follow?{}", creds()),
            Some("{"),
            StatusCode::BAD_REQUEST,
            "invalid_argument",
        ),
        (
            Method::GET,
            format!("/v2/channels?{}&limit=101", creds()),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_argument",
        ),
        (
            Method::GET,
            format!("/v2/channels?{}&cursor=zzz", creds()),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_argument",
        ),
        (
            Method::POST,
            format!("/v2/channels/{CHANNEL}/explode?{}", creds()),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::GET,
            format!("/v2/channels/{CHANNEL}/follow?{}", creds()),
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (method, path, body, status, expected) in cases {
        let (got, _, document) = send(&app, method.clone(), &path, None, body).await;
        assert_eq!(got, status, "{method} {path}: {document}");
        assert_eq!(document["status"], "error");
        assert_eq!(document["code"], expected, "{path}");
        assert!(!document.to_string().contains(TOKEN));
    }
}
