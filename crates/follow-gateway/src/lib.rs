//! # follow-gateway
//!
//! `followd`: the three HTTP APIs the follow library was drawn from, served
//! by one axum service on one [`follow_core::FollowGraph`]:
//!
//! - the WhatsApp gateway (`/api/v1/sessions/{session}/channels/{jid}:follow`,
//!   `:unfollow`, `:mute`, the list and the relationship), with bearer API
//!   keys or login JWTs;
//! - Tencent IM's follow calls (`/v4/follow/follow_add`, `follow_delete`,
//!   `follow_check`, `follow_get`, `follow_get_info`), with UserSigs;
//! - the channel API (`/v2/channels`, `/v2/channels/{id}/unfollow`, …),
//!   with an instance id and access token.
//!
//! Each face has its own bodies, auth and error documents; every rule is
//! the library's. The service adds `/healthz`, `/readyz`, `/metrics` and
//! `/openapi.json`.
//!
//! ```
//! # async fn demo() -> Result<(), String> {
//! use std::sync::Arc;
//! use follow_gateway::{config::Config, state::AppState};
//!
//! let store = follow_store_sqlite::SqliteStore::open_in_memory().map_err(|e| e.to_string())?;
//! let state = AppState::new(&Config::default(), Arc::new(store)).await?;
//! let router = follow_gateway::app::router(state);
//! # drop(router);
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod app;
pub mod auth;
pub mod config;
pub mod faces;
pub mod failure;
pub mod metrics;
pub mod openapi;
pub mod server;
pub mod state;
