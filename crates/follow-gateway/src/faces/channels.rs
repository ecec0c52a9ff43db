//! The channel API face: `/v2/channels`, authenticated by the instance id
//! and access token the API takes (query parameters `instance_id` and
//! `access_token`, or the same fields in the JSON body).
//!
//! Answers are `{"status":"success","message":…}` (lists add `channels` and
//! `next_cursor`); failures are `{"status":"error","code","message"}` with
//! the HTTP status of the library's kind.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use follow_core::{ChannelId, NodeKind, PageRequest, Principal};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{same_hash, sha256};
use crate::failure::{Failure, FailureCode, parse_json};
use crate::state::AppState;

/// A failure rendered the channel API's way.
#[derive(Debug)]
pub struct ChannelError(pub Failure);

impl<E: Into<Failure>> From<E> for ChannelError {
    fn from(error: E) -> Self {
        ChannelError(error.into())
    }
}

/// The failure document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelFailure {
    /// `error`.
    pub status: String,
    /// Stable code (`unauthenticated`, `forbidden`, `not_found`, …).
    pub code: String,
    /// Human-readable.
    pub message: String,
}

impl IntoResponse for ChannelError {
    fn into_response(self) -> Response {
        let failure = self.0;
        let mut response = (
            failure.status,
            Json(ChannelFailure {
                status: "error".into(),
                code: failure.code.into(),
                message: failure.message,
            }),
        )
            .into_response();
        response.extensions_mut().insert(FailureCode(failure.code));
        response
    }
}

/// A success.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelSuccess {
    /// `success`.
    pub status: String,
    /// What happened.
    pub message: String,
}

fn success(message: &str) -> Json<ChannelSuccess> {
    Json(ChannelSuccess {
        status: "success".into(),
        message: message.into(),
    })
}

/// The credentials in the query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Credentials {
    /// The instance id.
    pub instance_id: Option<String>,
    /// The instance's access token.
    pub access_token: Option<String>,
}

/// The JSON body of the channel calls; every field is optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    /// The instance id (instead of the query parameter).
    #[serde(default)]
    pub instance_id: Option<String>,
    /// The access token (instead of the query parameter).
    #[serde(default)]
    pub access_token: Option<String>,
    /// A message's text (`/message`).
    #[serde(default)]
    pub text: Option<String>,
    /// A reaction (`/reaction`).
    #[serde(default)]
    pub emoji: Option<String>,
    /// The message reacted to (`/reaction`).
    #[serde(default)]
    pub message_id: Option<String>,
}

/// The instance named by the credentials, checked in constant time.
fn authenticate(
    state: &AppState,
    credentials: Credentials,
) -> Result<(Principal, String), Failure> {
    let refused = || Failure::unauthenticated("send a valid instance_id and access_token");
    let (Some(instance_id), Some(token)) = (credentials.instance_id, credentials.access_token)
    else {
        return Err(refused());
    };
    let presented = sha256(&token);
    let instance = state.channel_instances.get(&instance_id);
    let expected = instance.map_or([0u8; 32], |instance| instance.token_hash);
    // The hash is compared even for an unknown instance, so the answer
    // takes as long whether or not the instance exists.
    let matches = same_hash(&expected, &presented);
    match instance {
        Some(instance) if matches => Ok((instance.principal.clone(), instance.account.clone())),
        _ => Err(refused()),
    }
}

/// Credentials from the query, or else from the body; and the body.
fn read_call(
    query: Result<Query<Credentials>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Credentials, ChannelBody), Failure> {
    let Query(query) = query?;
    let body = body?;
    let body: ChannelBody = if body.iter().all(u8::is_ascii_whitespace) {
        ChannelBody::default()
    } else {
        parse_json(&body)?
    };
    let credentials = Credentials {
        instance_id: query.instance_id.or_else(|| body.instance_id.clone()),
        access_token: query.access_token.or_else(|| body.access_token.clone()),
    };
    Ok((credentials, body))
}

fn channel(id: &str) -> Result<(), Failure> {
    ChannelId::parse_field("id", id)
        .map(|_| ())
        .map_err(Failure::from)
}

/// A followed channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowedChannel {
    /// The channel id (newsletter JID).
    pub id: String,
    /// Whether notifications are muted.
    pub muted: bool,
    /// When the follow began (RFC 3339).
    pub since: String,
}

/// The list of followed channels.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelList {
    /// `success`.
    pub status: String,
    /// The channels, newest follow first.
    pub channels: Vec<FollowedChannel>,
    /// Pass as `cursor` for the next page; `null` at the end.
    pub next_cursor: Option<String>,
}

/// `limit` and `cursor`, with the credentials.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The instance id.
    pub instance_id: Option<String>,
    /// The instance's access token.
    pub access_token: Option<String>,
    /// Channels per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// `GET /v2/channels`: the channels the instance follows.
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<ChannelList>, ChannelError> {
    let Query(query) = query?;
    let (principal, account) = authenticate(
        &state,
        Credentials {
            instance_id: query.instance_id,
            access_token: query.access_token,
        },
    )?;
    let page = PageRequest {
        limit: query.limit,
        cursor: query.cursor,
    };
    let page = state.graph.following(&principal, &account, &page).await?;
    Ok(Json(ChannelList {
        status: "success".into(),
        channels: page
            .items
            .into_iter()
            .filter(|entry| entry.node.kind() == NodeKind::Channel)
            .map(|entry| FollowedChannel {
                id: entry.node.to_string(),
                muted: entry.muted,
                since: entry.since.to_string(),
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The parts every channel call reads.
struct Call {
    principal: Principal,
    account: String,
    id: String,
}

fn call(
    state: &AppState,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Credentials>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Call, ChannelBody), Failure> {
    let Path(id) = path?;
    let (credentials, body) = read_call(query, body)?;
    let (principal, account) = authenticate(state, credentials)?;
    channel(&id)?;
    Ok((
        Call {
            principal,
            account,
            id,
        },
        body,
    ))
}

/// `POST /v2/channels/{id}/follow`.
pub async fn follow(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Credentials>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ChannelSuccess>, ChannelError> {
    let (call, _) = call(&state, path, query, body)?;
    state
        .graph
        .follow(&call.principal, &call.account, &call.id)
        .await?;
    Ok(success("Now following the channel"))
}

/// `POST /v2/channels/{id}/unfollow`: idempotent.
pub async fn unfollow(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Credentials>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ChannelSuccess>, ChannelError> {
    let (call, _) = call(&state, path, query, body)?;
    state
        .graph
        .unfollow(&call.principal, &call.account, &call.id)
        .await?;
    Ok(success("No longer following the channel"))
}

/// `POST /v2/channels/{id}/message`: accepted only for a followed channel
/// (403 otherwise, the "zombie state"), by the library's interaction guard.
pub async fn message(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Credentials>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ChannelSuccess>, ChannelError> {
    let (call, body) = call(&state, path, query, body)?;
    if body.text.as_deref().is_none_or(str::is_empty) {
        return Err(Failure::invalid_field("text", "text is required").into());
    }
    state
        .graph
        .ensure_can_interact(&call.principal, &call.account, &call.id)
        .await?;
    Ok(success("Message accepted"))
}

/// `POST /v2/channels/{id}/reaction`: as `/message`, for a reaction.
pub async fn reaction(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Credentials>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ChannelSuccess>, ChannelError> {
    let (call, body) = call(&state, path, query, body)?;
    if body.emoji.as_deref().is_none_or(str::is_empty) {
        return Err(Failure::invalid_field("emoji", "emoji is required").into());
    }
    state
        .graph
        .ensure_can_interact(&call.principal, &call.account, &call.id)
        .await?;
    Ok(success("Reaction accepted"))
}
