//! The Tencent IM face: the five follow calls, account import, UserSig and
//! Tencent's error codes.
#![allow(clippy::unwrap_used, clippy::type_complexity)]

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{Value, json};

async fn import(app: &axum::Router, user: &str) {
    let path = format!(
        "/v4/im_open_login_svc/account_import?{}",
        tencent_query(APP, SECRET, ADMIN)
    );
    let (status, _, body) = send(
        app,
        Method::POST,
        &path,
        None,
        Some(&json!({"UserID": user}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ActionStatus"], "OK", "{body}");
}

async fn tencent_app(users: &[&str]) -> axum::Router {
    let mut config = config();
    // Tests make hundreds of calls in a blink; the rate has its own test.
    config.tencent_apps[0].rate_per_second = 1_000_000;
    let app = app_with(config).await;
    for user in users {
        import(&app, user).await;
    }
    app
}

fn ok(body: &Value) {
    assert_eq!(body["ActionStatus"], "OK", "{body}");
    assert_eq!(body["ErrorCode"], 0);
    assert_eq!(body["ErrorInfo"], "");
    assert_eq!(body["ErrorDisplay"], "");
}

fn fail(body: &Value, code: u32) {
    assert_eq!(body["ActionStatus"], "FAIL", "{body}");
    assert_eq!(body["ErrorCode"], code, "{body}");
    assert!(body["ErrorInfo"].is_string());
}

#[tokio::test]
async fn follow_add_answers_per_target_results_in_order() {
    let app = tencent_app(&["UserID_001", "UserID_002", "UserID_003"]).await;
    let body = tencent(&app, "follow_add", r#"{"From_Account":"UserID_001","FollowItem":[{"To_Account":"UserID_002"},{"To_Account":"ghost"},{"To_Account":"UserID_001"},{"To_Account":"UserID_003"}]}"#).await;
    ok(&body);
    let codes: Vec<(&str, u64)> = body["ResultItem"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["To_Account"].as_str().unwrap(),
                item["ResultCode"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        vec![
            ("UserID_002", 0),
            ("ghost", 30003),
            ("UserID_001", 30001),
            ("UserID_003", 0)
        ]
    );
    assert_eq!(body["ResultItem"][0]["ResultInfo"], "");
}

#[tokio::test]
async fn follow_check_reports_follow_types_0_to_3() {
    let app = tencent_app(&["a", "b", "c", "d", "e"]).await;
    tencent(
        &app,
        "follow_add",
        r#"{"From_Account":"a","FollowItem":[{"To_Account":"c"},{"To_Account":"d"}]}"#,
    )
    .await;
    tencent(
        &app,
        "follow_add",
        r#"{"From_Account":"b","FollowItem":[{"To_Account":"a"}]}"#,
    )
    .await;
    tencent(
        &app,
        "follow_add",
        r#"{"From_Account":"d","FollowItem":[{"To_Account":"a"}]}"#,
    )
    .await;
    let body = tencent(
        &app,
        "follow_check",
        r#"{"From_Account":"a","To_Account":["e","b","c","d","zz"]}"#,
    )
    .await;
    ok(&body);
    let types: Vec<(u64, u64)> = body["ResultItem"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["ResultCode"].as_u64().unwrap(),
                item["FollowType"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(types, vec![(0, 0), (0, 1), (0, 2), (0, 3), (30003, 0)]);
}

#[tokio::test]
async fn follow_delete_is_idempotent_per_target() {
    let app = tencent_app(&["a", "b"]).await;
    tencent(
        &app,
        "follow_add",
        r#"{"From_Account":"a","FollowItem":[{"To_Account":"b"}]}"#,
    )
    .await;
    for _ in 0..2 {
        let body = tencent(
            &app,
            "follow_delete",
            r#"{"From_Account":"a","To_Account":["b"]}"#,
        )
        .await;
        ok(&body);
        assert_eq!(body["ResultItem"][0]["ResultCode"], 0);
    }
    let body = tencent(
        &app,
        "follow_check",
        r#"{"From_Account":"a","To_Account":["b"]}"#,
    )
    .await;
    assert_eq!(body["ResultItem"][0]["FollowType"], 0);
}

#[tokio::test]
async fn follow_get_pages_past_the_librarys_page_size() {
    let app = tencent_app(&["star"]).await;
    // 250 fans, in batches of 20 imports and follows.
    let fans: Vec<String> = (0..250).map(|i| format!("fan{i:03}")).collect();
    for fan in &fans {
        import(&app, fan).await;
        tencent(
            &app,
            "follow_add",
            &json!({"From_Account": fan, "FollowItem": [{"To_Account": "star"}]}).to_string(),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let body = tencent(&app, "follow_get", &json!({"From_Account": "star", "FollowType": 1, "StartCursor": cursor, "WantNum": 120}).to_string()).await;
        ok(&body);
        pages += 1;
        for item in body["FollowItem"].as_array().unwrap() {
            seen.push(item["To_Account"].as_str().unwrap().to_owned());
            assert!(item["FollowTime"].as_i64().unwrap() > 1_700_000_000);
        }
        cursor = body["NextCursor"].as_str().unwrap().to_owned();
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 3);
    seen.sort();
    assert_eq!(seen, fans);
    let body = tencent(
        &app,
        "follow_get",
        r#"{"From_Account":"star","FollowType":1,"StartCursor":"","WantNum":1000}"#,
    )
    .await;
    assert_eq!(body["FollowItem"].as_array().unwrap().len(), 250);
    assert_eq!(body["NextCursor"], "");
    let body = tencent(
        &app,
        "follow_get",
        r#"{"From_Account":"star","FollowType":2,"StartCursor":""}"#,
    )
    .await;
    assert_eq!(body["FollowItem"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn follow_get_info_counts_each_account() {
    let app = tencent_app(&["a", "b"]).await;
    tencent(
        &app,
        "follow_add",
        r#"{"From_Account":"a","FollowItem":[{"To_Account":"b"}]}"#,
    )
    .await;
    tencent(
        &app,
        "follow_add",
        r#"{"From_Account":"b","FollowItem":[{"To_Account":"a"}]}"#,
    )
    .await;
    let body = tencent(
        &app,
        "follow_get_info",
        r#"{"From_Account":"a","To_Account":["a","ghost"]}"#,
    )
    .await;
    ok(&body);
    let a = &body["FollowInfo"][0];
    assert_eq!(
        (
            a["FollowerCount"].as_u64(),
            a["FollowingCount"].as_u64(),
            a["MutualFollowingCount"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(body["FollowInfo"][1]["ResultCode"], 30003);
}

#[tokio::test]
async fn request_errors_use_tencents_codes_with_http_200() {
    let app = tencent_app(&["a", "b"]).await;
    let twenty_one: Vec<Value> = (0..21)
        .map(|i| json!({"To_Account": format!("u{i}")}))
        .collect();
    let hundred_one: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    let cases: Vec<(&str, String, u32)> = vec![
        (
            "follow_add",
            json!({"From_Account": "a", "FollowItem": twenty_one}).to_string(),
            30001,
        ),
        (
            "follow_add",
            r#"{"From_Account":"a","FollowItem":[]}"#.into(),
            30001,
        ),
        (
            "follow_add",
            r#"{"From_Account":"ghost","FollowItem":[{"To_Account":"b"}]}"#.into(),
            30003,
        ),
        (
            "follow_add",
            r#"{"FollowItem":[{"To_Account":"b"}]}"#.into(),
            30001,
        ),
        (
            "follow_add",
            r#"{"From_Account":"a","FollowItem":[{"To_Account":"b"}],"Extra":1}"#.into(),
            30001,
        ),
        ("follow_add", r#"{"From_Account":"a","#.into(), 60003),
        (
            "follow_check",
            json!({"From_Account": "a", "To_Account": hundred_one}).to_string(),
            30001,
        ),
        (
            "follow_delete",
            r#"{"From_Account":"a","To_Account":"b"}"#.into(),
            30001,
        ),
        (
            "follow_get",
            r#"{"From_Account":"a","FollowType":4,"StartCursor":""}"#.into(),
            30001,
        ),
        (
            "follow_get",
            r#"{"From_Account":"a","FollowType":1,"StartCursor":"","WantNum":1001}"#.into(),
            30001,
        ),
        (
            "follow_get",
            r#"{"From_Account":"a","FollowType":1,"StartCursor":"forged"}"#.into(),
            30001,
        ),
        (
            "follow_get",
            r#"{"From_Account":"ghost","FollowType":1,"StartCursor":""}"#.into(),
            30003,
        ),
        (
            "follow_get_info",
            r#"{"From_Account":"ghost","To_Account":["a"]}"#.into(),
            30003,
        ),
    ];
    for (call, body, code) in cases {
        let answer = tencent(&app, call, &body).await;
        fail(&answer, code);
        assert!(!answer.to_string().contains(SECRET));
    }
}

#[tokio::test]
async fn usersig_and_query_errors() {
    let app = tencent_app(&["a", "b"]).await;
    let body = r#"{"From_Account":"a","FollowItem":[{"To_Account":"b"}]}"#;
    let good_sig = follow_gateway::auth::usersig::sign(APP, ADMIN, SECRET, now(), 3600);
    let expired = follow_gateway::auth::usersig::sign(APP, ADMIN, SECRET, now() - 7200, 3600);
    let forged = follow_gateway::auth::usersig::sign(APP, ADMIN, OTHER_SECRET, now(), 3600);
    let for_alice = follow_gateway::auth::usersig::sign(APP, "alice", SECRET, now(), 3600);
    let other_app = follow_gateway::auth::usersig::sign(OTHER_APP, ADMIN, SECRET, now(), 3600);
    let q = |app: &str, id: &str, sig: &str, random: &str, ct: &str| {
        format!("sdkappid={app}&identifier={id}&usersig={sig}&random={random}&contenttype={ct}")
    };
    let cases = vec![
        (q(&APP.to_string(), ADMIN, &expired, "1", "json"), 70001),
        (q(&APP.to_string(), ADMIN, &forged, "1", "json"), 70009),
        (q(&APP.to_string(), ADMIN, "", "1", "json"), 70002),
        (q(&APP.to_string(), ADMIN, "garbage!!", "1", "json"), 70003),
        (q(&APP.to_string(), ADMIN, &for_alice, "1", "json"), 70013),
        (q(&APP.to_string(), ADMIN, &other_app, "1", "json"), 30002),
        (q("1234", ADMIN, &good_sig, "1", "json"), 70020),
        (q("abc", ADMIN, &good_sig, "1", "json"), 30001),
        (q(&APP.to_string(), ADMIN, &good_sig, "-1", "json"), 30001),
        (q(&APP.to_string(), ADMIN, &good_sig, "1", "xml"), 30001),
        ("sdkappid=1".to_owned(), 30001),
    ];
    for (query, code) in cases {
        let (status, _, answer) = send(
            &app,
            Method::POST,
            &format!("/v4/follow/follow_add?{query}"),
            None,
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        fail(&answer, code);
        assert!(!answer.to_string().contains(&good_sig));
    }
    // A correct UserSig of a non-admin identifier: 30004.
    let path = format!(
        "/v4/follow/follow_add?{}",
        tencent_query(APP, SECRET, "alice")
    );
    let (_, _, answer) = send(&app, Method::POST, &path, None, Some(body)).await;
    fail(&answer, 30004);
}

#[tokio::test]
async fn an_app_sees_only_its_own_tenant() {
    let app = tencent_app(&["a", "b"]).await;
    let path = format!(
        "/v4/follow/follow_add?{}",
        tencent_query(OTHER_APP, OTHER_SECRET, ADMIN)
    );
    let (_, _, answer) = send(
        &app,
        Method::POST,
        &path,
        None,
        Some(r#"{"From_Account":"a","FollowItem":[{"To_Account":"b"}]}"#),
    )
    .await;
    fail(&answer, 30003);
}

#[tokio::test]
async fn the_app_is_held_to_its_call_rate() {
    let mut config = config();
    // One call per second, a burst of one: five calls in a row cannot all
    // pass however slow the machine is (unless they take four seconds).
    config.tencent_apps[1].rate_per_second = 1;
    let app = app_with(config).await;
    let path = format!(
        "/v4/follow/follow_check?{}",
        tencent_query(OTHER_APP, OTHER_SECRET, ADMIN)
    );
    let mut codes = Vec::new();
    for _ in 0..5 {
        let (_, _, answer) = send(
            &app,
            Method::POST,
            &path,
            None,
            Some(r#"{"From_Account":"a","To_Account":["b"]}"#),
        )
        .await;
        codes.push(answer["ErrorCode"].as_u64().unwrap());
    }
    assert_ne!(codes[0], 60007, "{codes:?}");
    assert!(
        codes.iter().filter(|c| **c == 60007).count() >= 3,
        "{codes:?}"
    );
}
