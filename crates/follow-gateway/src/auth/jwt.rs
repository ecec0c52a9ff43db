//! Login JWTs, verified against a JWKS (a file, or a URL fetched and cached).
//!
//! A token passes only if: its header names an accepted asymmetric
//! algorithm and a key id of the set (an unknown id triggers at most one
//! refetch per configured interval); the key is of that algorithm's family
//! and, where the key names an algorithm, the same one; the signature
//! verifies; `exp` is in the future and `nbf` in the past (30 s leeway);
//! `iss` and `aud` are the configured ones; the tenant and role claims are
//! present and valid. `none` and HMAC algorithms are refused by the
//! configuration itself, so a public key can never serve as an HMAC secret.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use follow_core::{Capabilities, Principal, Role, TenantId};
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::config::JwtConfig;

/// The algorithm named `name`, if it is one a JWKS may verify.
pub fn asymmetric_algorithm(name: &str) -> Result<Algorithm, &'static str> {
    match name {
        "RS256" => Ok(Algorithm::RS256),
        "RS384" => Ok(Algorithm::RS384),
        "RS512" => Ok(Algorithm::RS512),
        "PS256" => Ok(Algorithm::PS256),
        "PS384" => Ok(Algorithm::PS384),
        "PS512" => Ok(Algorithm::PS512),
        "ES256" => Ok(Algorithm::ES256),
        "ES384" => Ok(Algorithm::ES384),
        "EdDSA" => Ok(Algorithm::EdDSA),
        "HS256" | "HS384" | "HS512" => Err("HMAC algorithms are refused: a JWKS holds public keys"),
        _ => Err("not a supported asymmetric algorithm (RS*, PS*, ES256, ES384, EdDSA)"),
    }
}

/// Why a token was refused (logged; never sent to the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

struct Key {
    decoding: DecodingKey,
    algorithm: Option<String>,
}

type KeySet = HashMap<String, Arc<Key>>;

enum Source {
    File(PathBuf),
    Url(String),
}

/// Verifies login JWTs.
pub struct JwtVerifier {
    issuer: String,
    audience: String,
    tenant_claim: String,
    role_claim: String,
    algorithms: Vec<Algorithm>,
    source: Source,
    keys: RwLock<Arc<KeySet>>,
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    refetch_every: Duration,
    client: reqwest::Client,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// A verifier for `config`. A JWKS file is read now (an unreadable or
    /// empty one is an error); a URL is fetched by [`JwtVerifier::refresh`].
    pub fn new(config: &JwtConfig) -> Result<Self, String> {
        let algorithms = config
            .algorithms
            .iter()
            .map(|name| asymmetric_algorithm(name).map_err(|e| format!("jwt.algorithms: {e}")))
            .collect::<Result<_, _>>()?;
        let source = match (&config.jwks_file, &config.jwks_url) {
            (Some(path), _) => Source::File(path.clone()),
            (None, Some(url)) => Source::Url(url.clone()),
            (None, None) => return Err("jwt.jwks_file: set a JWKS file or URL".into()),
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("jwt.jwks_url: cannot build an HTTP client: {e}"))?;
        let verifier = JwtVerifier {
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            tenant_claim: config.tenant_claim.clone(),
            role_claim: config.role_claim.clone(),
            algorithms,
            source,
            keys: RwLock::new(Arc::new(KeySet::new())),
            last_fetch: tokio::sync::Mutex::new(None),
            refetch_every: Duration::from_secs(config.jwks_refetch_seconds),
            client,
        };
        if let Source::File(path) = &verifier.source {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("jwt.jwks_file: {}: {e}", path.display()))?;
            let keys = parse_jwks(&text).map_err(|e| format!("jwt.jwks_file: {e}"))?;
            verifier.install(keys);
        }
        Ok(verifier)
    }

    /// The least time between two fetches of a JWKS URL.
    pub fn refetch_interval(&self) -> Duration {
        self.refetch_every
    }

    /// Whether any key is loaded (readiness).
    pub fn has_keys(&self) -> bool {
        self.keys
            .read()
            .map(|keys| !keys.is_empty())
            .unwrap_or(false)
    }

    fn install(&self, keys: KeySet) {
        if let Ok(mut slot) = self.keys.write() {
            *slot = Arc::new(keys);
        }
    }

    fn key(&self, kid: &str) -> Option<Arc<Key>> {
        self.keys
            .read()
            .ok()
            .and_then(|keys| keys.get(kid).cloned())
    }

    /// Fetches the JWKS URL if the last fetch is older than the refetch
    /// interval (or there was none). Concurrent callers share one fetch.
    pub async fn refresh(&self) -> Result<(), String> {
        let Source::Url(url) = &self.source else {
            return Ok(());
        };
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < self.refetch_every) {
            return Ok(());
        }
        *last = Some(Instant::now());
        let response = self
            .client
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("fetching the JWKS failed: {e}"))?;
        let text = response
            .text()
            .await
            .map_err(|e| format!("reading the JWKS failed: {e}"))?;
        let keys = parse_jwks(&text)?;
        self.install(keys);
        Ok(())
    }

    /// The principal a valid token carries.
    pub async fn verify(&self, token: &str) -> Result<Principal, Refusal> {
        let refuse = |why: &str| Refusal(why.to_owned());
        let header = jsonwebtoken::decode_header(token).map_err(|_| refuse("malformed token"))?;
        if !self.algorithms.contains(&header.alg) {
            return Err(refuse("algorithm not accepted"));
        }
        let kid = header.kid.as_deref().ok_or_else(|| refuse("no key id"))?;
        let key = match self.key(kid) {
            Some(key) => key,
            None => {
                if let Err(error) = self.refresh().await {
                    tracing::warn!(%error, "JWKS refetch for an unknown key id failed");
                }
                self.key(kid).ok_or_else(|| refuse("unknown key id"))?
            }
        };
        if key
            .algorithm
            .as_deref()
            .is_some_and(|alg| alg != format!("{:?}", header.alg))
        {
            return Err(refuse("algorithm does not match the key"));
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = 30;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.decoding, &validation)
            .map_err(|e| Refusal(format!("{:?}", e.kind())))?;
        let claims = data.claims;
        let tenant = claims
            .get(&self.tenant_claim)
            .and_then(Value::as_str)
            .and_then(|org| TenantId::new(org).ok())
            .ok_or_else(|| refuse("no valid tenant claim"))?;
        let role: Role = claims
            .get(&self.role_claim)
            .cloned()
            .and_then(|role| serde_json::from_value(role).ok())
            .ok_or_else(|| refuse("no valid role claim"))?;
        Ok(Principal::new(tenant, Capabilities::for_role(role)))
    }
}

/// The signing keys of a JWKS document, by key id. Keys without an id,
/// symmetric (`oct`) keys and keys for encryption are left out.
fn parse_jwks(text: &str) -> Result<KeySet, String> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| format!("not a JWKS: {e}"))?;
    let mut keys = KeySet::new();
    for jwk in &set.keys {
        if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
            continue;
        }
        if matches!(
            jwk.common.public_key_use,
            Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
        ) {
            continue;
        }
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        let Ok(decoding) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        let algorithm = jwk.common.key_algorithm.map(|alg| format!("{alg:?}"));
        keys.insert(
            kid,
            Arc::new(Key {
                decoding,
                algorithm,
            }),
        );
    }
    if keys.is_empty() {
        return Err("the JWKS holds no usable signing key (each needs a kid)".into());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn refuses_symmetric_and_unknown_algorithms() {
        assert!(asymmetric_algorithm("HS256").is_err());
        assert!(asymmetric_algorithm("none").is_err());
        assert!(asymmetric_algorithm("ES256").is_ok());
    }

    #[test]
    fn skips_oct_keys() {
        let text = r#"{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"h"}]}"#;
        assert!(parse_jwks(text).is_err());
    }
}
