//! The OpenAPI 3.1 document of the JSON faces, served at `/openapi.json`.
//!
//! Written beside the handlers rather than on them: the gateway seed's
//! `{jid}:follow` routes are one axum route split by hand, so each action is
//! documented as the path a client calls.

#![allow(dead_code)]

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::faces::channels::{
    ChannelBody, ChannelFailure, ChannelList, ChannelSuccess, Credentials, FollowedChannel,
    ListQuery,
};
use crate::faces::gateway::{
    ChannelItem, ChannelPage, ErrorDocument, ErrorObject, ListParams, MuteBody, Relationship,
};
use crate::faces::tencent::{
    AccountImportRequest, AccountsRequest, BatchReply, CheckItem, CheckReply, FailStatus,
    FollowAddRequest, FollowGetItem, FollowGetReply, FollowGetRequest, FollowInfoItem,
    FollowInfoReply, FollowItemRequest, OkStatus, PlainReply, ResultItem, TencentFailure,
    TencentParams,
};

/// A Tencent batch answer: success or failure, told apart by `ActionStatus`.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum BatchAnswer {
    /// `OK`.
    Ok(BatchReply),
    /// `FAIL`.
    Fail(TencentFailure),
}

/// `follow_check`'s answer or a failure.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum CheckAnswer {
    /// `OK`.
    Ok(CheckReply),
    /// `FAIL`.
    Fail(TencentFailure),
}

/// `follow_get`'s answer or a failure.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum FollowGetAnswer {
    /// `OK`.
    Ok(FollowGetReply),
    /// `FAIL`.
    Fail(TencentFailure),
}

/// `follow_get_info`'s answer or a failure.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum FollowInfoAnswer {
    /// `OK`.
    Ok(FollowInfoReply),
    /// `FAIL`.
    Fail(TencentFailure),
}

/// `account_import`'s answer or a failure.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum PlainAnswer {
    /// `OK`.
    Ok(PlainReply),
    /// `FAIL`.
    Fail(TencentFailure),
}

macro_rules! gateway_write {
    ($name:ident, $path:literal, $summary:literal $(, $body:ty)?) => {
        #[utoipa::path(
            post,
            path = $path,
            tag = "gateway",
            summary = $summary,
            security(("bearer" = [])),
            params(
                ("session" = String, Path, description = "The session (an account of the caller's organisation).", pattern = "^[A-Za-z0-9_.-]{1,64}$"),
                ("jid" = String, Path, description = "The channel JID; `@` may be sent as `%40`.", pattern = "^[0-9]{1,50}@newsletter$"),
            ),
            $(request_body(content = Option<$body>, description = "Optional; an empty body mutes."),)?
            responses(
                (status = 204, description = "Done (also when nothing changed)."),
                (status = 400, description = "Bad id or body.", body = ErrorDocument),
                (status = 401, description = "No valid principal.", body = ErrorDocument),
                (status = 403, description = "The `send` capability is missing.", body = ErrorDocument),
                (status = 404, description = "Unknown session or channel, or another organisation's.", body = ErrorDocument),
                (status = 409, description = "Mute of a channel the session does not follow.", body = ErrorDocument),
                (status = 413, description = "Body too large.", body = ErrorDocument),
                (status = 429, description = "Over the organisation's call rate.", body = ErrorDocument),
                (status = 503, description = "Storage busy; retry.", body = ErrorDocument),
            )
        )]
        fn $name() {}
    };
}

gateway_write!(
    follow_doc,
    "/api/v1/sessions/{session}/channels/{jid}:follow",
    "Follow a channel"
);
gateway_write!(
    unfollow_doc,
    "/api/v1/sessions/{session}/channels/{jid}:unfollow",
    "Unfollow a channel (idempotent)"
);
gateway_write!(
    mute_doc,
    "/api/v1/sessions/{session}/channels/{jid}:mute",
    "Mute or unmute a channel (a set, not a toggle; default mute)",
    MuteBody
);

#[utoipa::path(
    get,
    path = "/api/v1/sessions/{session}/channels",
    tag = "gateway",
    summary = "The session's followed channels",
    security(("bearer" = [])),
    params(("session" = String, Path, description = "The session.", pattern = "^[A-Za-z0-9_.-]{1,64}$"), ListParams),
    responses(
        (status = 200, description = "A page.", body = ChannelPage),
        (status = 400, description = "Bad id, limit or cursor.", body = ErrorDocument),
        (status = 401, description = "No valid principal.", body = ErrorDocument),
        (status = 403, description = "The `read` capability is missing.", body = ErrorDocument),
        (status = 404, description = "Unknown session, or another organisation's.", body = ErrorDocument),
        (status = 429, description = "Over the organisation's call rate.", body = ErrorDocument),
        (status = 503, description = "Storage busy; retry.", body = ErrorDocument),
    )
)]
fn list_doc() {}

#[utoipa::path(
    get,
    path = "/api/v1/sessions/{session}/channels/{jid}",
    tag = "gateway",
    summary = "How a session relates to a channel",
    security(("bearer" = [])),
    params(
        ("session" = String, Path, description = "The session.", pattern = "^[A-Za-z0-9_.-]{1,64}$"),
        ("jid" = String, Path, description = "The channel JID.", pattern = "^[0-9]{1,50}@newsletter$"),
    ),
    responses(
        (status = 200, description = "The relationship.", body = Relationship),
        (status = 400, description = "Bad id.", body = ErrorDocument),
        (status = 401, description = "No valid principal.", body = ErrorDocument),
        (status = 403, description = "The `read` capability is missing.", body = ErrorDocument),
        (status = 404, description = "Unknown session or channel, or another organisation's.", body = ErrorDocument),
        (status = 429, description = "Over the organisation's call rate.", body = ErrorDocument),
        (status = 503, description = "Storage busy; retry.", body = ErrorDocument),
    )
)]
fn relationship_doc() {}

#[utoipa::path(
    put,
    path = "/api/v1/sessions/{session}",
    tag = "gateway",
    summary = "Register a session (needs `admin`)",
    security(("bearer" = [])),
    params(("session" = String, Path, description = "The session id.", pattern = "^[A-Za-z0-9_.-]{1,64}$")),
    responses(
        (status = 204, description = "Registered (also when it already was)."),
        (status = 400, description = "Bad id.", body = ErrorDocument),
        (status = 401, description = "No valid principal.", body = ErrorDocument),
        (status = 403, description = "The `admin` capability is missing.", body = ErrorDocument),
        (status = 429, description = "Over the organisation's call rate.", body = ErrorDocument),
        (status = 503, description = "Storage busy; retry.", body = ErrorDocument),
    )
)]
fn register_session_doc() {}

#[utoipa::path(
    put,
    path = "/api/v1/channels/{jid}",
    tag = "gateway",
    summary = "Register a channel (needs `admin`)",
    security(("bearer" = [])),
    params(("jid" = String, Path, description = "The channel JID (digits@newsletter).", pattern = "^[0-9]{1,50}@newsletter$")),
    responses(
        (status = 204, description = "Registered (also when it already was)."),
        (status = 400, description = "Not a channel JID.", body = ErrorDocument),
        (status = 401, description = "No valid principal.", body = ErrorDocument),
        (status = 403, description = "The `admin` capability is missing.", body = ErrorDocument),
        (status = 429, description = "Over the organisation's call rate.", body = ErrorDocument),
        (status = 503, description = "Storage busy; retry.", body = ErrorDocument),
    )
)]
fn register_channel_doc() {}

macro_rules! tencent_call {
    ($name:ident, $path:literal, $summary:literal, $request:ty, $answer:ty) => {
        #[utoipa::path(
            post,
            path = $path,
            tag = "tencent",
            summary = $summary,
            params(TencentParams),
            request_body = $request,
            responses(
                (status = 200, description = "Always 200: `ActionStatus` `OK`, or `FAIL` with `ErrorCode`.", body = $answer),
            )
        )]
        fn $name() {}
    };
}

tencent_call!(
    follow_add_doc,
    "/v4/follow/follow_add",
    "Follow up to 20 accounts",
    FollowAddRequest,
    BatchAnswer
);
tencent_call!(
    follow_delete_doc,
    "/v4/follow/follow_delete",
    "Unfollow up to 20 accounts",
    AccountsRequest,
    BatchAnswer
);
tencent_call!(
    follow_check_doc,
    "/v4/follow/follow_check",
    "Check up to 100 relationships",
    AccountsRequest,
    CheckAnswer
);
tencent_call!(
    follow_get_doc,
    "/v4/follow/follow_get",
    "Page fans, follows or mutual follows (up to 1,000)",
    FollowGetRequest,
    FollowGetAnswer
);
tencent_call!(
    follow_get_info_doc,
    "/v4/follow/follow_get_info",
    "Counts of up to 20 accounts",
    AccountsRequest,
    FollowInfoAnswer
);
tencent_call!(
    account_import_doc,
    "/v4/im_open_login_svc/account_import",
    "Create an account",
    AccountImportRequest,
    PlainAnswer
);

macro_rules! channel_call {
    ($name:ident, $path:literal, $summary:literal) => {
        #[utoipa::path(
            post,
            path = $path,
            tag = "channels",
            summary = $summary,
            params(("id" = String, Path, description = "The channel id (newsletter JID).", pattern = "^[0-9]{1,50}@newsletter$"), Credentials),
            request_body(content = Option<ChannelBody>, description = "Optional: credentials (instead of the query) and the message or reaction."),
            responses(
                (status = 200, description = "Done.", body = ChannelSuccess),
                (status = 400, description = "Bad id or body.", body = ChannelFailure),
                (status = 401, description = "Bad or missing instance id or access token.", body = ChannelFailure),
                (status = 403, description = "Not following the channel (messages and reactions).", body = ChannelFailure),
                (status = 404, description = "Unknown channel.", body = ChannelFailure),
                (status = 413, description = "Body too large.", body = ChannelFailure),
                (status = 429, description = "Over the tenant's call rate.", body = ChannelFailure),
                (status = 503, description = "Storage busy; retry.", body = ChannelFailure),
            )
        )]
        fn $name() {}
    };
}

channel_call!(
    channel_follow_doc,
    "/v2/channels/{id}/follow",
    "Follow a channel"
);
channel_call!(
    channel_unfollow_doc,
    "/v2/channels/{id}/unfollow",
    "Unfollow a channel (idempotent)"
);
channel_call!(
    channel_message_doc,
    "/v2/channels/{id}/message",
    "Send a message to a followed channel"
);
channel_call!(
    channel_reaction_doc,
    "/v2/channels/{id}/reaction",
    "React in a followed channel"
);

#[utoipa::path(
    get,
    path = "/v2/channels",
    tag = "channels",
    summary = "The channels the instance follows",
    params(ListQuery),
    responses(
        (status = 200, description = "A page.", body = ChannelList),
        (status = 400, description = "Bad limit or cursor.", body = ChannelFailure),
        (status = 401, description = "Bad or missing instance id or access token.", body = ChannelFailure),
        (status = 429, description = "Over the tenant's call rate.", body = ChannelFailure),
        (status = 503, description = "Storage busy; retry.", body = ChannelFailure),
    )
)]
fn channel_list_doc() {}

#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, description = "Alive.", body = Object)))]
fn healthz_doc() {}

#[utoipa::path(get, path = "/readyz", tag = "service", responses(
    (status = 200, description = "Ready.", body = Object),
    (status = 503, description = "Not ready.", body = Object),
))]
fn readyz_doc() {}

#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text format.", body = String, content_type = "text/plain")))]
fn metrics_doc() {}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or API key")
                    .build(),
            ),
        );
    }
}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "followd", description = "Three follow APIs on one follow graph: a WhatsApp gateway, Tencent IM's follow calls, and a channel API."),
    modifiers(&Bearer),
    paths(
        follow_doc, unfollow_doc, mute_doc, list_doc, relationship_doc, register_session_doc,
        register_channel_doc, follow_add_doc, follow_delete_doc, follow_check_doc, follow_get_doc,
        follow_get_info_doc, account_import_doc, channel_follow_doc, channel_unfollow_doc,
        channel_message_doc, channel_reaction_doc, channel_list_doc, healthz_doc, readyz_doc,
        metrics_doc,
    ),
    components(schemas(
        ErrorDocument, ErrorObject, MuteBody, ChannelItem, ChannelPage, Relationship,
        ResultItem, BatchReply, CheckItem, CheckReply, FollowGetItem, FollowGetReply,
        FollowInfoItem, FollowInfoReply, PlainReply, TencentFailure, OkStatus, FailStatus,
        FollowItemRequest, FollowAddRequest, AccountsRequest, FollowGetRequest,
        AccountImportRequest, ChannelBody, ChannelSuccess, ChannelFailure, ChannelList,
        FollowedChannel,
    ))
)]
pub struct ApiDoc;

/// The document as JSON.
pub fn document_json() -> String {
    ApiDoc::openapi()
        .to_json()
        .unwrap_or_else(|_| "{}".to_owned())
}
