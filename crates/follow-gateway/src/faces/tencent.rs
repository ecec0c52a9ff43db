//! The Tencent IM face: `POST /v4/follow/*` and the account import that
//! creates the accounts they act on.
//!
//! Every answer is HTTP 200 with `ActionStatus`, `ErrorCode`, `ErrorInfo`
//! and `ErrorDisplay`, as Tencent's REST API answers; per-target results
//! carry their own `ResultCode`. The query names the app (`sdkappid`), its
//! admin (`identifier`) and a UserSig of the admin (`usersig`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use follow_core::{ErrorKind, ItemResult, ListEntry, PageRequest, Principal, Relation};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::usersig;
use crate::failure::{Failure, FailureCode, parse_json};
use crate::state::AppState;

/// Largest `To_Account` lists of `follow_add`, `follow_delete` and
/// `follow_get_info`.
pub const ACCOUNT_LIST_LIMIT: usize = 20;
/// Largest `To_Account` list of `follow_check`.
pub const CHECK_LIST_LIMIT: usize = 100;
/// Largest `WantNum` of `follow_get`.
pub const FOLLOW_GET_LIMIT: u32 = 1000;
/// `WantNum` when the request sends none.
pub const FOLLOW_GET_DEFAULT: u32 = 100;
/// The library's largest page; `follow_get` pages through it.
const LIBRARY_PAGE: u32 = follow_core::MAX_PAGE_LIMIT;

/// Tencent's error codes used by this face.
pub mod codes {
    /// A bad request parameter.
    pub const BAD_PARAMETER: u32 = 30001;
    /// The SDKAppID does not match.
    pub const APP_MISMATCH: u32 = 30002;
    /// The account does not exist.
    pub const NO_ACCOUNT: u32 = 30003;
    /// The request needs the app admin.
    pub const NEEDS_ADMIN: u32 = 30004;
    /// Internal error.
    pub const INTERNAL: u32 = 30006;
    /// Timeout (storage busy); retry.
    pub const TIMEOUT: u32 = 30007;
    /// The request body is not valid JSON (public code).
    pub const BAD_JSON: u32 = 60003;
    /// The app is over its call rate (public code).
    pub const RATE_LIMITED: u32 = 60007;
    /// The SDKAppID is unknown (public code).
    pub const UNKNOWN_APP: u32 = 70020;
}

/// The failure document.
#[derive(Debug, Serialize, ToSchema)]
pub struct TencentFailure {
    /// Always `FAIL`.
    #[serde(rename = "ActionStatus")]
    pub action_status: FailStatus,
    /// Non-zero.
    #[serde(rename = "ErrorCode")]
    pub error_code: u32,
    /// What went wrong.
    #[serde(rename = "ErrorInfo")]
    pub error_info: String,
    /// Empty.
    #[serde(rename = "ErrorDisplay")]
    pub error_display: String,
}

/// `FAIL`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum FailStatus {
    /// Failed.
    #[serde(rename = "FAIL")]
    Fail,
}

/// `OK`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum OkStatus {
    /// Succeeded.
    #[serde(rename = "OK")]
    Ok,
}

/// A request-level failure: its Tencent code and description.
#[derive(Debug)]
pub struct TencentError {
    /// The code.
    pub code: u32,
    /// The description.
    pub info: String,
}

impl TencentError {
    fn new(code: u32, info: impl Into<String>) -> Self {
        TencentError {
            code,
            info: info.into(),
        }
    }
}

/// The Tencent code of a library failure.
pub fn code_of(failure: &Failure) -> u32 {
    match failure.kind {
        Some(ErrorKind::NotFound) => codes::NO_ACCOUNT,
        Some(ErrorKind::InvalidArgument) | Some(ErrorKind::NotFollowing) => codes::BAD_PARAMETER,
        Some(ErrorKind::Forbidden) | Some(ErrorKind::Unauthenticated) => codes::NEEDS_ADMIN,
        Some(ErrorKind::RateLimited) => codes::RATE_LIMITED,
        Some(ErrorKind::Unavailable) => codes::TIMEOUT,
        Some(ErrorKind::Internal) => codes::INTERNAL,
        _ if failure.code == "payload_too_large" || failure.code == "invalid_argument" => {
            codes::BAD_PARAMETER
        }
        _ => codes::INTERNAL,
    }
}

impl From<Failure> for TencentError {
    fn from(failure: Failure) -> Self {
        TencentError::new(code_of(&failure), failure.message)
    }
}

impl From<follow_core::Error> for TencentError {
    fn from(error: follow_core::Error) -> Self {
        Failure::from(error).into()
    }
}

impl IntoResponse for TencentError {
    fn into_response(self) -> Response {
        let mut response = Json(TencentFailure {
            action_status: FailStatus::Fail,
            error_code: self.code,
            error_info: self.info,
            error_display: String::new(),
        })
        .into_response();
        let code = match self.code {
            codes::BAD_PARAMETER | codes::BAD_JSON => "invalid_argument",
            codes::NO_ACCOUNT => "not_found",
            codes::NEEDS_ADMIN => "forbidden",
            codes::RATE_LIMITED => "rate_limited",
            codes::TIMEOUT => "unavailable",
            codes::INTERNAL => "internal",
            _ => "unauthenticated",
        };
        response.extensions_mut().insert(FailureCode(code));
        response
    }
}

/// The query parameters of every call. All are read as text so that a
/// bad value is Tencent's own error, not the router's.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TencentParams {
    /// The app's SDKAppID.
    pub sdkappid: Option<String>,
    /// The app admin account.
    pub identifier: Option<String>,
    /// The admin's UserSig.
    pub usersig: Option<String>,
    /// A random 32-bit unsigned integer.
    pub random: Option<String>,
    /// Always `json`.
    pub contenttype: Option<String>,
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Checks the query and the UserSig; answers the app admin's principal.
fn authenticate(
    state: &AppState,
    query: Result<Query<TencentParams>, QueryRejection>,
) -> Result<Principal, TencentError> {
    let Query(params) = query.map_err(|_| {
        TencentError::new(codes::BAD_PARAMETER, "the query string could not be read")
    })?;
    let sdkappid: u64 = params
        .sdkappid
        .as_deref()
        .and_then(|value| value.parse().ok())
        .ok_or_else(|| TencentError::new(codes::BAD_PARAMETER, "sdkappid must be a number"))?;
    let identifier = params
        .identifier
        .filter(|value| !value.is_empty())
        .ok_or_else(|| TencentError::new(codes::BAD_PARAMETER, "identifier is required"))?;
    if params
        .random
        .as_deref()
        .is_none_or(|value| value.parse::<u32>().is_err())
    {
        return Err(TencentError::new(
            codes::BAD_PARAMETER,
            "random must be an unsigned 32-bit integer",
        ));
    }
    if params.contenttype.as_deref() != Some("json") {
        return Err(TencentError::new(
            codes::BAD_PARAMETER,
            "contenttype must be json",
        ));
    }
    let app = state.tencent_apps.get(&sdkappid).ok_or_else(|| {
        TencentError::new(codes::UNKNOWN_APP, "sdkappid is not an app of this service")
    })?;
    let usersig = params.usersig.unwrap_or_default();
    usersig::verify(&usersig, sdkappid, &identifier, &app.secret_key, unix_now()).map_err(
        |error| match error {
            usersig::SigError::AppMismatch => TencentError::new(codes::APP_MISMATCH, error.info()),
            _ => TencentError::new(error.code(), error.info()),
        },
    )?;
    if identifier != app.admin {
        return Err(TencentError::new(
            codes::NEEDS_ADMIN,
            "identifier must be the app admin",
        ));
    }
    Ok(app.principal.clone())
}

fn body_of<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, TencentError> {
    let body = body.map_err(|rejection| TencentError::from(Failure::from(rejection)))?;
    parse_json(&body).map_err(|failure| {
        let code = if serde_json::from_slice::<serde_json::Value>(&body).is_err() {
            codes::BAD_JSON
        } else {
            codes::BAD_PARAMETER
        };
        TencentError::new(code, failure.message)
    })
}

fn check_len(field: &str, len: usize, limit: usize) -> Result<(), TencentError> {
    if len == 0 || len > limit {
        return Err(TencentError::new(
            codes::BAD_PARAMETER,
            format!("{field} must hold 1 to {limit} accounts, not {len}"),
        ));
    }
    Ok(())
}

/// One target's result.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultItem {
    /// The target.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// 0, or the target's own error code.
    #[serde(rename = "ResultCode")]
    pub result_code: u32,
    /// Empty on success.
    #[serde(rename = "ResultInfo")]
    pub result_info: String,
}

fn result_item<T>(item: &ItemResult<T>) -> ResultItem {
    match &item.result {
        Ok(_) => ResultItem {
            to_account: item.target.clone(),
            result_code: 0,
            result_info: String::new(),
        },
        Err(error) => {
            let failure = Failure::from(error.clone());
            ResultItem {
                to_account: item.target.clone(),
                result_code: code_of(&failure),
                result_info: failure.message,
            }
        }
    }
}

/// A batch answer: per-target results.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchReply {
    /// One per target, in request order.
    #[serde(rename = "ResultItem")]
    pub result_item: Vec<ResultItem>,
    /// `OK`.
    #[serde(rename = "ActionStatus")]
    pub action_status: OkStatus,
    /// 0.
    #[serde(rename = "ErrorCode")]
    pub error_code: u32,
    /// Empty.
    #[serde(rename = "ErrorInfo")]
    pub error_info: String,
    /// Empty.
    #[serde(rename = "ErrorDisplay")]
    pub error_display: String,
}

/// A target of `follow_add`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowItemRequest {
    /// The account to follow.
    #[serde(rename = "To_Account")]
    pub to_account: String,
}

/// `follow_add`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowAddRequest {
    /// The follower.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// 1 to 20 targets.
    #[serde(rename = "FollowItem")]
    pub follow_item: Vec<FollowItemRequest>,
}

/// The body of `follow_delete`, `follow_check` and `follow_get_info`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountsRequest {
    /// The acting account.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// The targets (20 at most; 100 for `follow_check`).
    #[serde(rename = "To_Account")]
    pub to_account: Vec<String>,
}

/// The answer of one call: the success document or the failure one.
pub type Reply<T> = Result<Json<T>, TencentError>;

fn ok_batch(items: Vec<ResultItem>) -> Json<BatchReply> {
    Json(BatchReply {
        result_item: items,
        action_status: OkStatus::Ok,
        error_code: 0,
        error_info: String::new(),
        error_display: String::new(),
    })
}

/// `POST /v4/follow/follow_add`.
pub async fn follow_add(
    State(state): State<AppState>,
    query: Result<Query<TencentParams>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Reply<BatchReply> {
    let principal = authenticate(&state, query)?;
    let request: FollowAddRequest = body_of(body)?;
    check_len("FollowItem", request.follow_item.len(), ACCOUNT_LIST_LIMIT)?;
    let targets: Vec<&str> = request
        .follow_item
        .iter()
        .map(|item| item.to_account.as_str())
        .collect();
    let results = state
        .graph
        .follow_many(&principal, &request.from_account, &targets)
        .await?;
    Ok(ok_batch(results.iter().map(result_item).collect()))
}

/// `POST /v4/follow/follow_delete`.
pub async fn follow_delete(
    State(state): State<AppState>,
    query: Result<Query<TencentParams>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Reply<BatchReply> {
    let principal = authenticate(&state, query)?;
    let request: AccountsRequest = body_of(body)?;
    check_len("To_Account", request.to_account.len(), ACCOUNT_LIST_LIMIT)?;
    let targets: Vec<&str> = request.to_account.iter().map(String::as_str).collect();
    let results = state
        .graph
        .unfollow_many(&principal, &request.from_account, &targets)
        .await?;
    Ok(ok_batch(results.iter().map(result_item).collect()))
}

/// One target of `follow_check`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckItem {
    /// The target.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// 0, or the target's own error code.
    #[serde(rename = "ResultCode")]
    pub result_code: u32,
    /// Empty on success.
    #[serde(rename = "ResultInfo")]
    pub result_info: String,
    /// 0: neither follows; 1: To_Account follows From_Account; 2:
    /// From_Account follows To_Account; 3: both.
    #[serde(rename = "FollowType")]
    pub follow_type: u8,
}

/// `follow_check`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckReply {
    /// One per target, in request order.
    #[serde(rename = "ResultItem")]
    pub result_item: Vec<CheckItem>,
    /// `OK`.
    #[serde(rename = "ActionStatus")]
    pub action_status: OkStatus,
    /// 0.
    #[serde(rename = "ErrorCode")]
    pub error_code: u32,
    /// Empty.
    #[serde(rename = "ErrorInfo")]
    pub error_info: String,
    /// Empty.
    #[serde(rename = "ErrorDisplay")]
    pub error_display: String,
}

/// Tencent's `FollowType` of a relation seen from `From_Account`.
pub fn follow_type(relation: Relation) -> u8 {
    match relation {
        Relation::None => 0,
        Relation::FollowedBy => 1,
        Relation::Following => 2,
        Relation::Mutual => 3,
    }
}

/// `POST /v4/follow/follow_check`.
pub async fn follow_check(
    State(state): State<AppState>,
    query: Result<Query<TencentParams>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Reply<CheckReply> {
    let principal = authenticate(&state, query)?;
    let request: AccountsRequest = body_of(body)?;
    check_len("To_Account", request.to_account.len(), CHECK_LIST_LIMIT)?;
    let targets: Vec<&str> = request.to_account.iter().map(String::as_str).collect();
    let results = state
        .graph
        .check_many(&principal, &request.from_account, &targets)
        .await?;
    let items = results
        .iter()
        .map(|item| {
            let base = result_item(item);
            CheckItem {
                to_account: base.to_account,
                result_code: base.result_code,
                result_info: base.result_info,
                follow_type: item.result.as_ref().map_or(0, |r| follow_type(*r)),
            }
        })
        .collect();
    Ok(Json(CheckReply {
        result_item: items,
        action_status: OkStatus::Ok,
        error_code: 0,
        error_info: String::new(),
        error_display: String::new(),
    }))
}

/// `follow_get`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowGetRequest {
    /// The account whose list is read.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// 1: fans (followers); 2: follows; 3: mutual follows.
    #[serde(rename = "FollowType")]
    pub follow_type: u8,
    /// Empty for the first page, else the previous `NextCursor`.
    #[serde(rename = "StartCursor", default)]
    pub start_cursor: String,
    /// 1 to 1000 (default 100).
    #[serde(rename = "WantNum", default)]
    pub want_num: Option<u32>,
}

/// One account of a `follow_get` page.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowGetItem {
    /// The account.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// When the follow began (Unix seconds).
    #[serde(rename = "FollowTime")]
    pub follow_time: i64,
}

/// `follow_get`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowGetReply {
    /// The page, newest first.
    #[serde(rename = "FollowItem")]
    pub follow_item: Vec<FollowGetItem>,
    /// The next page's `StartCursor`; empty at the end.
    #[serde(rename = "NextCursor")]
    pub next_cursor: String,
    /// `OK`.
    #[serde(rename = "ActionStatus")]
    pub action_status: OkStatus,
    /// 0.
    #[serde(rename = "ErrorCode")]
    pub error_code: u32,
    /// Empty.
    #[serde(rename = "ErrorInfo")]
    pub error_info: String,
    /// Empty.
    #[serde(rename = "ErrorDisplay")]
    pub error_display: String,
}

/// `POST /v4/follow/follow_get`: pages of up to 1,000, read from the
/// library in pages of its own largest size.
pub async fn follow_get(
    State(state): State<AppState>,
    query: Result<Query<TencentParams>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Reply<FollowGetReply> {
    let principal = authenticate(&state, query)?;
    let request: FollowGetRequest = body_of(body)?;
    let want = request.want_num.unwrap_or(FOLLOW_GET_DEFAULT);
    if !(1..=FOLLOW_GET_LIMIT).contains(&want) {
        return Err(TencentError::new(
            codes::BAD_PARAMETER,
            format!("WantNum must be 1 to {FOLLOW_GET_LIMIT}"),
        ));
    }
    let mut cursor = (!request.start_cursor.is_empty()).then_some(request.start_cursor);
    let mut items: Vec<ListEntry> = Vec::new();
    loop {
        let remaining = want - u32::try_from(items.len()).unwrap_or(want);
        let page = PageRequest {
            limit: Some(remaining.min(LIBRARY_PAGE)),
            cursor: cursor.take(),
        };
        let graph = &state.graph;
        let from = request.from_account.as_str();
        let page = match request.follow_type {
            1 => graph.followers(&principal, from, &page).await,
            2 => graph.following(&principal, from, &page).await,
            3 => graph.mutuals(&principal, from, &page).await,
            _ => {
                return Err(TencentError::new(
                    codes::BAD_PARAMETER,
                    "FollowType must be 1 (fans), 2 (follows) or 3 (mutual)",
                ));
            }
        }
        .map_err(|error| {
            TencentError::from(Failure::from(error).rename_field(&[("subject", "From_Account")]))
        })?;
        items.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() || items.len() >= want as usize {
            break;
        }
    }
    Ok(Json(FollowGetReply {
        follow_item: items
            .into_iter()
            .map(|entry| FollowGetItem {
                to_account: entry.node.to_string(),
                follow_time: entry.since.as_unix_micros().div_euclid(1_000_000),
            })
            .collect(),
        next_cursor: cursor.unwrap_or_default(),
        action_status: OkStatus::Ok,
        error_code: 0,
        error_info: String::new(),
        error_display: String::new(),
    }))
}

/// One account's counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowInfoItem {
    /// The account.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// 0, or the account's own error code.
    #[serde(rename = "ResultCode")]
    pub result_code: u32,
    /// Empty on success.
    #[serde(rename = "ResultInfo")]
    pub result_info: String,
    /// Fans.
    #[serde(rename = "FollowerCount")]
    pub follower_count: u64,
    /// Follows.
    #[serde(rename = "FollowingCount")]
    pub following_count: u64,
    /// Mutual follows.
    #[serde(rename = "MutualFollowingCount")]
    pub mutual_following_count: u64,
}

/// `follow_get_info`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowInfoReply {
    /// One per account, in request order.
    #[serde(rename = "FollowInfo")]
    pub follow_info: Vec<FollowInfoItem>,
    /// `OK`.
    #[serde(rename = "ActionStatus")]
    pub action_status: OkStatus,
    /// 0.
    #[serde(rename = "ErrorCode")]
    pub error_code: u32,
    /// Empty.
    #[serde(rename = "ErrorInfo")]
    pub error_info: String,
    /// Empty.
    #[serde(rename = "ErrorDisplay")]
    pub error_display: String,
}

/// `POST /v4/follow/follow_get_info`.
pub async fn follow_get_info(
    State(state): State<AppState>,
    query: Result<Query<TencentParams>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Reply<FollowInfoReply> {
    let principal = authenticate(&state, query)?;
    let request: AccountsRequest = body_of(body)?;
    check_len("To_Account", request.to_account.len(), ACCOUNT_LIST_LIMIT)?;
    state
        .graph
        .node(&principal, &request.from_account)
        .await
        .map_err(|e| TencentError::from(Failure::from(e)))?;
    let mut items = Vec::with_capacity(request.to_account.len());
    for target in &request.to_account {
        let item = match state.graph.counts(&principal, target).await {
            Ok(counts) => FollowInfoItem {
                to_account: target.clone(),
                result_code: 0,
                result_info: String::new(),
                follower_count: counts.followers,
                following_count: counts.following,
                mutual_following_count: counts.mutual,
            },
            Err(error) if error.kind() == ErrorKind::RateLimited => return Err(error.into()),
            Err(error) => {
                let failure = Failure::from(error);
                FollowInfoItem {
                    to_account: target.clone(),
                    result_code: code_of(&failure),
                    result_info: failure.message,
                    follower_count: 0,
                    following_count: 0,
                    mutual_following_count: 0,
                }
            }
        };
        items.push(item);
    }
    Ok(Json(FollowInfoReply {
        follow_info: items,
        action_status: OkStatus::Ok,
        error_code: 0,
        error_info: String::new(),
        error_display: String::new(),
    }))
}

/// `account_import`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountImportRequest {
    /// The account to create.
    #[serde(rename = "UserID")]
    pub user_id: String,
    /// Accepted and not kept (no profiles here).
    #[serde(rename = "Nick", default)]
    pub nick: Option<String>,
    /// Accepted and not kept.
    #[serde(rename = "FaceUrl", default)]
    pub face_url: Option<String>,
}

/// A plain success.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlainReply {
    /// `OK`.
    #[serde(rename = "ActionStatus")]
    pub action_status: OkStatus,
    /// 0.
    #[serde(rename = "ErrorCode")]
    pub error_code: u32,
    /// Empty.
    #[serde(rename = "ErrorInfo")]
    pub error_info: String,
}

/// `POST /v4/im_open_login_svc/account_import`: creates an account
/// (idempotent).
pub async fn account_import(
    State(state): State<AppState>,
    query: Result<Query<TencentParams>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Reply<PlainReply> {
    let principal = authenticate(&state, query)?;
    let request: AccountImportRequest = body_of(body)?;
    follow_core::AccountId::parse_field("UserID", &request.user_id)
        .map_err(|e| TencentError::from(Failure::from(e)))?;
    state.graph.register(&principal, &request.user_id).await?;
    Ok(Json(PlainReply {
        action_status: OkStatus::Ok,
        error_code: 0,
        error_info: String::new(),
    }))
}
