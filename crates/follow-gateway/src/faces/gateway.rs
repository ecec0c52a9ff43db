//! The WhatsApp gateway face: `/api/v1/sessions/{session}/channels/…`.
//!
//! A session is an account of the caller's organisation (the tenant); a
//! channel is a newsletter JID. Bearer tokens are API keys or login JWTs.
//! Errors are `{"error":{"code","message","details"}}` with the status the
//! library's kind names (401, 403, 404, …) or 400/413 for requests the
//! gateway could not read.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use follow_core::{Capability, ChannelId, NodeKind, PageRequest, Principal, Relation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::failure::{Failure, FailureCode, parse_json};
use crate::state::AppState;

/// A failure rendered the gateway seed's way.
#[derive(Debug)]
pub struct GatewayError(pub Failure);

impl<E: Into<Failure>> From<E> for GatewayError {
    fn from(error: E) -> Self {
        GatewayError(error.into().rename_field(&[
            ("actor", "session"),
            ("target", "jid"),
            ("a", "session"),
            ("b", "jid"),
            ("subject", "session"),
            ("id", "id"),
        ]))
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let failure = self.0;
        let body = ErrorDocument {
            error: ErrorObject {
                code: failure.code.to_owned(),
                message: failure.message,
                details: failure.details,
            },
        };
        let mut response = (failure.status, Json(body)).into_response();
        if failure.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response.extensions_mut().insert(FailureCode(failure.code));
        response
    }
}

/// The seed's error document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDocument {
    /// The error.
    pub error: ErrorObject,
}

/// The error inside [`ErrorDocument`].
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorObject {
    /// Stable code: `invalid_argument`, `unauthenticated`, `forbidden`,
    /// `not_found`, `not_following`, `payload_too_large`, `rate_limited`,
    /// `unavailable`, `internal`.
    pub code: String,
    /// Human-readable; do not match on it.
    pub message: String,
    /// Structured details (`field`, `capability`, …).
    pub details: Map<String, Value>,
}

/// The caller of the gateway face, from `Authorization: Bearer …`: an API
/// key (tried first, by hash) or a login JWT.
#[derive(Debug)]
pub struct GatewayCaller(pub Principal);

impl FromRequestParts<AppState> for GatewayCaller {
    type Rejection = GatewayError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, GatewayError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| Failure::unauthenticated("send Authorization: Bearer <token>"))?;
        if let Some(found) = state.api_keys.find(token) {
            tracing::debug!(key = %found.name, "api key accepted");
            return Ok(GatewayCaller(found.principal));
        }
        if let Some(jwt) = &state.jwt
            && token.split('.').count() == 3
        {
            match jwt.verify(token).await {
                Ok(principal) => return Ok(GatewayCaller(principal)),
                Err(refusal) => tracing::info!(reason = %refusal.0, "login token refused"),
            }
        }
        Err(Failure::unauthenticated(
            "the bearer token is neither a valid login token nor an API key",
        )
        .into())
    }
}

/// The optional body of `:mute`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MuteBody {
    /// `true` mutes, `false` unmutes; absent means `true`.
    #[serde(default)]
    pub mute: Option<bool>,
}

/// `limit` and `cursor` of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The previous page's `nextCursor`.
    pub cursor: Option<String>,
}

/// A followed channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelItem {
    /// The channel JID.
    pub jid: String,
    /// When the follow began (RFC 3339).
    pub since: String,
    /// Whether notifications are muted.
    pub muted: bool,
}

/// A page of followed channels.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelPage {
    /// The channels, newest follow first.
    pub items: Vec<ChannelItem>,
    /// Send back as `cursor` for the next page; `null` at the end.
    #[serde(rename = "nextCursor")]
    pub next_cursor: Option<String>,
}

/// How a session relates to a channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct Relationship {
    /// The session.
    pub session: String,
    /// The channel.
    pub jid: String,
    /// Whether the session follows the channel.
    pub following: bool,
    /// The library's relation: `none`, `following`, `followed_by`, `mutual`.
    pub relation: String,
}

fn relation_name(relation: Relation) -> &'static str {
    match relation {
        Relation::None => "none",
        Relation::Following => "following",
        Relation::FollowedBy => "followed_by",
        Relation::Mutual => "mutual",
    }
}

fn channel(jid: &str) -> Result<(), Failure> {
    ChannelId::parse_field("jid", jid)
        .map(|_| ())
        .map_err(Failure::from)
}

/// `POST /api/v1/sessions/{session}/channels/{jid}:{action}`: the router
/// cannot match a parameter with a suffix, so the segment is split on its
/// last `:`.
pub async fn channel_action(
    State(state): State<AppState>,
    GatewayCaller(caller): GatewayCaller,
    path: Result<Path<(String, String)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, GatewayError> {
    let Path((session, segment)) = path?;
    let Some((jid, action)) = segment.rsplit_once(':') else {
        return Err(
            Failure::no_such_action("use {jid}:follow, {jid}:unfollow or {jid}:mute").into(),
        );
    };
    let body = body?;
    // The capability comes before any argument check, as in the library.
    caller.require(Capability::Send)?;
    match action {
        "follow" | "unfollow" if !body.is_empty() => {
            return Err(Failure::invalid("this action takes no request body").into());
        }
        "follow" => {
            channel(jid)?;
            state.graph.follow(&caller, &session, jid).await?;
        }
        "unfollow" => {
            channel(jid)?;
            state.graph.unfollow(&caller, &session, jid).await?;
        }
        "mute" => {
            let request: MuteBody = if body.iter().all(u8::is_ascii_whitespace) {
                MuteBody::default()
            } else {
                parse_json(&body)?
            };
            channel(jid)?;
            state
                .graph
                .set_mute(&caller, &session, jid, request.mute.unwrap_or(true))
                .await?;
        }
        _ => {
            return Err(
                Failure::no_such_action("use {jid}:follow, {jid}:unfollow or {jid}:mute").into(),
            );
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/sessions/{session}/channels`.
pub async fn list_channels(
    State(state): State<AppState>,
    GatewayCaller(caller): GatewayCaller,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<ChannelPage>, GatewayError> {
    let Path(session) = path?;
    let Query(params) = query?;
    let page = PageRequest {
        limit: params.limit,
        cursor: params.cursor,
    };
    let page = state.graph.following(&caller, &session, &page).await?;
    let items = page
        .items
        .into_iter()
        .filter(|entry| entry.node.kind() == NodeKind::Channel)
        .map(|entry| ChannelItem {
            jid: entry.node.to_string(),
            since: entry.since.to_string(),
            muted: entry.muted,
        })
        .collect();
    Ok(Json(ChannelPage {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// `GET /api/v1/sessions/{session}/channels/{jid}`.
pub async fn relationship(
    State(state): State<AppState>,
    GatewayCaller(caller): GatewayCaller,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<Relationship>, GatewayError> {
    let Path((session, jid)) = path?;
    caller.require(Capability::Read)?;
    channel(&jid)?;
    let relation = state.graph.relation(&caller, &session, &jid).await?;
    Ok(Json(Relationship {
        following: matches!(relation, Relation::Following | Relation::Mutual),
        relation: relation_name(relation).to_owned(),
        session,
        jid,
    }))
}

/// `PUT /api/v1/sessions/{session}`: registers a session (needs `admin`).
pub async fn register_session(
    State(state): State<AppState>,
    GatewayCaller(caller): GatewayCaller,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, GatewayError> {
    let Path(session) = path?;
    caller.require(Capability::Admin)?;
    follow_core::AccountId::parse_field("session", &session).map_err(Failure::from)?;
    state.graph.register(&caller, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/channels/{jid}`: registers a channel (needs `admin`).
pub async fn register_channel(
    State(state): State<AppState>,
    GatewayCaller(caller): GatewayCaller,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, GatewayError> {
    let Path(jid) = path?;
    caller.require(Capability::Admin)?;
    channel(&jid)?;
    state.graph.register(&caller, &jid).await?;
    Ok(StatusCode::NO_CONTENT)
}
