//! The service's own routes: health, readiness, metrics, the OpenAPI
//! document, and the answer to a route no face has.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use follow_core::{Capability, PageRequest, Principal, TenantId};
use serde_json::json;

use crate::faces::{channels::ChannelError, gateway::GatewayError, tencent};
use crate::failure::Failure;
use crate::state::AppState;

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: the store answers a read and, where configured, the JWKS
/// is loaded.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let probe =
        TenantId::new("followd-readiness").map(|tenant| Principal::new(tenant, Capability::Read));
    let store = match probe {
        Ok(probe) => state
            .graph
            .nodes(&probe, &PageRequest::first().with_limit(1))
            .await
            .map(|_| ())
            .map_err(|e| e.code()),
        Err(e) => Err(e.code()),
    };
    let jwks = state.jwt.as_ref().is_none_or(|jwt| jwt.has_keys());
    match (store, jwks) {
        (Ok(()), true) => Json(json!({"status": "ready"})).into_response(),
        (store, jwks) => {
            let reason = match store {
                Err(code) => format!("store: {code}"),
                Ok(()) if !jwks => "jwks: no signing key loaded".to_owned(),
                Ok(()) => String::new(),
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "not_ready", "reason": reason})),
            )
                .into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document_json(),
    )
        .into_response()
}

/// A route no face has: 404 in the style of the face the path belongs to.
pub async fn no_route(uri: Uri) -> Response {
    let path = uri.path();
    let failure = Failure::no_such_action("no such route");
    if path.starts_with("/v4/") {
        tencent::TencentError {
            code: tencent::codes::BAD_PARAMETER,
            info: "no such API".into(),
        }
        .into_response()
    } else if path.starts_with("/v2/") {
        ChannelError(failure).into_response()
    } else {
        GatewayError(failure).into_response()
    }
}

/// A known route with a method it does not take: 405 in the face's style.
pub async fn wrong_method(uri: Uri) -> Response {
    let mut failure = Failure::no_such_action("this route does not take that method");
    failure.code = "method_not_allowed";
    failure.status = StatusCode::METHOD_NOT_ALLOWED;
    if uri.path().starts_with("/v2/") {
        ChannelError(failure).into_response()
    } else {
        GatewayError(failure).into_response()
    }
}
