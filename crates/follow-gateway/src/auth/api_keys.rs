//! API keys of scripts and services: a fixed tenant and capabilities each.

use follow_core::{Capabilities, Principal, TenantId};

use super::{hash_from_hex, same_hash, sha256};
use crate::config::{ApiKeyConfig, ConfigError};

/// The configured keys, by hash.
#[derive(Debug, Default)]
pub struct ApiKeys {
    keys: Vec<StoredKey>,
}

#[derive(Debug)]
struct StoredKey {
    name: String,
    hash: [u8; 32],
    principal: Principal,
}

/// A key that matched: its name (for logs) and the principal it carries.
#[derive(Debug, Clone)]
pub struct KeyMatch {
    /// The configured name.
    pub name: String,
    /// The tenant and capabilities.
    pub principal: Principal,
}

impl ApiKeys {
    /// The keys of the configuration.
    pub fn new(configs: &[ApiKeyConfig]) -> Result<Self, ConfigError> {
        let keys = configs
            .iter()
            .enumerate()
            .map(|(index, config)| {
                let tenant = TenantId::new(&config.tenant).map_err(|e| ConfigError {
                    field: format!("api_keys[{index}].tenant"),
                    problem: e.message().to_owned(),
                })?;
                let capabilities = config
                    .capabilities
                    .iter()
                    .fold(Capabilities::NONE, |set, c| set.with(*c));
                Ok(StoredKey {
                    name: config.name.clone(),
                    hash: hash_from_hex(&config.sha256),
                    principal: Principal::new(tenant, capabilities),
                })
            })
            .collect::<Result<_, ConfigError>>()?;
        Ok(ApiKeys { keys })
    }

    /// The key whose hash is the presented token's. Every stored hash is
    /// compared, so the time taken says nothing about which one matched.
    pub fn find(&self, token: &str) -> Option<KeyMatch> {
        let presented = sha256(token);
        let mut found = None;
        for key in &self.keys {
            if same_hash(&key.hash, &presented) && found.is_none() {
                found = Some(key);
            }
        }
        found.map(|key| KeyMatch {
            name: key.name.clone(),
            principal: key.principal.clone(),
        })
    }

    /// Whether any key is configured.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::auth::sha256_hex;
    use follow_core::Capability;

    #[test]
    fn finds_a_key_by_its_hash_only() {
        let config = ApiKeyConfig {
            name: "ci".into(),
            sha256: sha256_hex("s3cret-key"),
            tenant: "acme".into(),
            capabilities: vec![Capability::Read],
        };
        let keys = ApiKeys::new(&[config]).unwrap();
        let found = keys.find("s3cret-key").unwrap();
        assert_eq!(found.name, "ci");
        assert_eq!(found.principal.tenant().as_str(), "acme");
        assert!(found.principal.capabilities().contains(Capability::Read));
        assert!(!found.principal.capabilities().contains(Capability::Send));
        assert!(keys.find("s3cret-kez").is_none());
        assert!(keys.find(&sha256_hex("s3cret-key")).is_none());
    }
}
