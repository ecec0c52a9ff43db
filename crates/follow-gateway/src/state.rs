//! What every handler shares: the graph, the credentials of each face, the
//! metrics.

use std::collections::HashMap;
use std::num::{NonZeroU32, NonZeroUsize};
use std::ops::Deref;
use std::sync::Arc;

use follow_core::{
    Capabilities, Capability, FollowGraph, FollowStore, Principal, RateLimit, TenantId,
};

use crate::auth::api_keys::ApiKeys;
use crate::auth::hash_from_hex;
use crate::auth::jwt::JwtVerifier;
use crate::config::{Config, ConfigError};
use crate::metrics::Metrics;

/// The largest batch any face sends the library (Tencent's `follow_check`).
pub const LIBRARY_BATCH_LIMIT: usize = 100;

/// A Tencent IM app.
#[derive(Debug)]
pub struct TencentApp {
    /// The app's secret key.
    pub secret_key: String,
    /// The admin identifier.
    pub admin: String,
    /// The admin acting in the app's tenant.
    pub principal: Principal,
}

/// An instance of the channel API.
#[derive(Debug)]
pub struct ChannelInstance {
    /// SHA-256 of the access token.
    pub token_hash: [u8; 32],
    /// The instance's account.
    pub account: String,
    /// The principal: read and send, bound to the account.
    pub principal: Principal,
}

/// The shared state (cheap to clone).
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

/// See [`AppState`].
#[derive(Debug)]
pub struct Shared {
    /// The follow graph: every face calls it, nothing reaches around it.
    pub graph: FollowGraph,
    /// Gateway-face API keys.
    pub api_keys: ApiKeys,
    /// Gateway-face login tokens.
    pub jwt: Option<JwtVerifier>,
    /// Tencent apps by SDKAppID.
    pub tencent_apps: HashMap<u64, TencentApp>,
    /// Channel-API instances by id.
    pub channel_instances: HashMap<String, ChannelInstance>,
    /// Request metrics.
    pub metrics: Metrics,
    /// The largest request body.
    pub body_limit: usize,
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

fn tenant(field: String, value: &str) -> Result<TenantId, ConfigError> {
    TenantId::new(value).map_err(|e| ConfigError {
        field,
        problem: e.message().to_owned(),
    })
}

fn per_second(field: String, calls: u32) -> Result<RateLimit, ConfigError> {
    NonZeroU32::new(calls)
        .map(RateLimit::per_second)
        .ok_or(ConfigError {
            field,
            problem: "must be at least 1".into(),
        })
}

impl AppState {
    /// The state of `config` over `store`; registers each channel
    /// instance's account (idempotent).
    pub async fn new(config: &Config, store: Arc<dyn FollowStore>) -> Result<Self, String> {
        let text = |e: ConfigError| e.to_string();
        let mut builder = FollowGraph::builder(store)
            .batch_limit(NonZeroUsize::new(LIBRARY_BATCH_LIMIT).unwrap_or(NonZeroUsize::MIN));
        if let Some(key) = config.cursor_key().map_err(text)? {
            builder = builder.cursor_key(key);
        }
        if let Some(calls) = config.rate_limit_per_second {
            builder = builder
                .rate_limit(per_second("rate_limit_per_second".into(), calls).map_err(text)?);
        }
        let mut tencent_apps = HashMap::new();
        for (index, app) in config.tencent_apps.iter().enumerate() {
            let tenant =
                tenant(format!("tencent_apps[{index}].tenant"), &app.tenant).map_err(text)?;
            let limit = per_second(
                format!("tencent_apps[{index}].rate_per_second"),
                app.rate_per_second,
            )
            .map_err(text)?;
            builder = builder.tenant_rate_limit(tenant.clone(), Some(limit));
            tencent_apps.insert(
                app.sdkappid,
                TencentApp {
                    secret_key: app.secret_key.clone(),
                    admin: app.admin.clone(),
                    principal: Principal::new(tenant, Capabilities::ALL),
                },
            );
        }
        let graph = builder.build();
        let mut channel_instances = HashMap::new();
        for (index, instance) in config.channel_instances.iter().enumerate() {
            let tenant = tenant(
                format!("channel_instances[{index}].tenant"),
                &instance.tenant,
            )
            .map_err(text)?;
            let account = follow_core::AccountId::new(&instance.account).map_err(|e| {
                format!("configuration field `channel_instances[{index}].account`: {e}")
            })?;
            let operator = Principal::new(tenant.clone(), Capability::Admin);
            graph
                .register(&operator, &instance.account)
                .await
                .map_err(|e| {
                    format!("registering channel instance {}: {e}", instance.instance_id)
                })?;
            channel_instances.insert(
                instance.instance_id.clone(),
                ChannelInstance {
                    token_hash: hash_from_hex(&instance.token_sha256),
                    account: instance.account.clone(),
                    principal: Principal::new(tenant, Capability::Read | Capability::Send)
                        .bound_to(account),
                },
            );
        }
        let jwt = match &config.jwt {
            Some(jwt) => {
                let verifier = JwtVerifier::new(jwt)?;
                if let Err(error) = verifier.refresh().await {
                    tracing::warn!(%error, "the JWKS could not be fetched at start; retrying every jwks_refetch_seconds");
                }
                Some(verifier)
            }
            None => None,
        };
        Ok(AppState(Arc::new(Shared {
            graph,
            api_keys: ApiKeys::new(&config.api_keys).map_err(text)?,
            jwt,
            tencent_apps,
            channel_instances,
            metrics: Metrics::default(),
            body_limit: config.body_limit_bytes,
        })))
    }
}
