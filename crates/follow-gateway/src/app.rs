//! The router: every face's routes on one state, with the body limit and
//! the request log and metrics around them.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post, put};

use crate::faces::{channels, gateway, ops, tencent};
use crate::metrics::observe;
use crate::state::AppState;

/// The whole service.
pub fn router(state: AppState) -> Router {
    let limit = state.body_limit;
    Router::new()
        .route(
            "/api/v1/sessions/{session}/channels",
            get(gateway::list_channels),
        )
        .route(
            "/api/v1/sessions/{session}/channels/{jid_action}",
            get(gateway::relationship).post(gateway::channel_action),
        )
        .route("/api/v1/sessions/{session}", put(gateway::register_session))
        .route("/api/v1/channels/{jid}", put(gateway::register_channel))
        .route("/v4/follow/follow_add", post(tencent::follow_add))
        .route("/v4/follow/follow_delete", post(tencent::follow_delete))
        .route("/v4/follow/follow_check", post(tencent::follow_check))
        .route("/v4/follow/follow_get", post(tencent::follow_get))
        .route("/v4/follow/follow_get_info", post(tencent::follow_get_info))
        .route(
            "/v4/im_open_login_svc/account_import",
            post(tencent::account_import),
        )
        .route("/v2/channels", get(channels::list))
        .route("/v2/channels/{id}/follow", post(channels::follow))
        .route("/v2/channels/{id}/unfollow", post(channels::unfollow))
        .route("/v2/channels/{id}/message", post(channels::message))
        .route("/v2/channels/{id}/reaction", post(channels::reaction))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .fallback(ops::no_route)
        .method_not_allowed_fallback(ops::wrong_method)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}
