//! Typed configuration: one TOML file, then `FOLLOWD_*` environment
//! overrides, then command-line flags. Every problem is an error at start
//! naming the field.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use follow_core::{Capability, TenantId};
use serde::Deserialize;

/// The whole configuration of `followd`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where to listen (default `127.0.0.1:8080`).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The SQLite database file (default `follow.db`).
    #[serde(default = "default_database")]
    pub database: PathBuf,
    /// 32 hex digits: the secret key that signs list cursors. Every replica
    /// serving the same clients must share it.
    #[serde(default)]
    pub cursor_key: Option<String>,
    /// The largest request body, in bytes (default 64 KiB).
    #[serde(default = "default_body_limit")]
    pub body_limit_bytes: usize,
    /// How long shutdown waits for requests in flight, in seconds (default 10).
    #[serde(default = "default_shutdown_grace")]
    pub shutdown_grace_seconds: u64,
    /// A call rate for every tenant without one of its own.
    #[serde(default)]
    pub rate_limit_per_second: Option<u32>,
    /// Login JWTs of the gateway face.
    #[serde(default)]
    pub jwt: Option<JwtConfig>,
    /// API keys of scripts and services on the gateway face.
    #[serde(default)]
    pub api_keys: Vec<ApiKeyConfig>,
    /// Tencent IM apps.
    #[serde(default)]
    pub tencent_apps: Vec<TencentAppConfig>,
    /// Instances of the channel API.
    #[serde(default)]
    pub channel_instances: Vec<ChannelInstanceConfig>,
}

/// How login JWTs are verified.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// A JWKS document on disk.
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// A JWKS URL, fetched at start and again (at most once per
    /// `jwks_refetch_seconds`) when a token names an unknown key id.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// The least time between two fetches of `jwks_url` (default 30).
    #[serde(default = "default_refetch")]
    pub jwks_refetch_seconds: u64,
    /// The required `iss`.
    pub issuer: String,
    /// The required `aud`.
    pub audience: String,
    /// Accepted algorithms: asymmetric only (RS*, PS*, ES*, EdDSA).
    pub algorithms: Vec<String>,
    /// The claim naming the organisation (tenant); default `org`.
    #[serde(default = "default_tenant_claim")]
    pub tenant_claim: String,
    /// The claim naming the role (`viewer`, `member`, `owner`); default `role`.
    #[serde(default = "default_role_claim")]
    pub role_claim: String,
}

/// One API key, stored as the SHA-256 of the key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// A name for logs (never the key).
    pub name: String,
    /// 64 hex digits: SHA-256 of the key (`followd hash-key` prints it).
    pub sha256: String,
    /// The tenant the key acts in.
    pub tenant: String,
    /// The capabilities it carries.
    pub capabilities: Vec<Capability>,
}

/// One Tencent IM app.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TencentAppConfig {
    /// The SDKAppID.
    pub sdkappid: u64,
    /// The app's secret key, which signs UserSigs.
    pub secret_key: String,
    /// The app admin account: the only `identifier` accepted.
    pub admin: String,
    /// The tenant the app's accounts live in.
    pub tenant: String,
    /// Calls per second (default 200, Tencent's limit).
    #[serde(default = "default_tencent_rate")]
    pub rate_per_second: u32,
}

/// One instance of the channel API: a WhatsApp number and its token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelInstanceConfig {
    /// The instance id clients send.
    pub instance_id: String,
    /// 64 hex digits: SHA-256 of the access token.
    pub token_sha256: String,
    /// The tenant.
    pub tenant: String,
    /// The account (the instance's WhatsApp number) that follows channels;
    /// registered at start.
    pub account: String,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_database() -> PathBuf {
    PathBuf::from("follow.db")
}
fn default_body_limit() -> usize {
    64 * 1024
}
fn default_shutdown_grace() -> u64 {
    10
}
fn default_refetch() -> u64 {
    30
}
fn default_tenant_claim() -> String {
    "org".to_owned()
}
fn default_role_claim() -> String {
    "role".to_owned()
}
fn default_tencent_rate() -> u32 {
    200
}

/// A configuration that cannot be used, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The field, as a path (`tencent_apps[0].secret_key`).
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

impl ConfigError {
    fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration field `{}`: {}", self.field, self.problem)
    }
}

impl std::error::Error for ConfigError {}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: default_listen(),
            database: default_database(),
            cursor_key: None,
            body_limit_bytes: default_body_limit(),
            shutdown_grace_seconds: default_shutdown_grace(),
            rate_limit_per_second: None,
            jwt: None,
            api_keys: Vec::new(),
            tencent_apps: Vec::new(),
            channel_instances: Vec::new(),
        }
    }
}

/// The environment variables that override single fields.
pub const ENV_OVERRIDES: [(&str, &str); 8] = [
    ("FOLLOWD_LISTEN", "listen"),
    ("FOLLOWD_DATABASE", "database"),
    ("FOLLOWD_CURSOR_KEY", "cursor_key"),
    ("FOLLOWD_BODY_LIMIT_BYTES", "body_limit_bytes"),
    ("FOLLOWD_RATE_LIMIT_PER_SECOND", "rate_limit_per_second"),
    ("FOLLOWD_JWKS_URL", "jwt.jwks_url"),
    ("FOLLOWD_JWKS_FILE", "jwt.jwks_file"),
    ("FOLLOWD_SHUTDOWN_GRACE_SECONDS", "shutdown_grace_seconds"),
];

impl Config {
    /// Parses TOML text (no file, no environment) and validates it.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|error| {
            let field = error
                .message()
                .split('`')
                .nth(1)
                .unwrap_or("(document)")
                .to_owned();
            ConfigError::new(field, error.to_string().trim().to_owned())
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Loads `path` (if given; defaults otherwise), applies overrides from
    /// `env` (a lookup, so tests need not touch the process environment)
    /// and validates the result.
    pub fn load(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|error| {
                    ConfigError::new("--config", format!("{}: {error}", path.display()))
                })?;
                toml::from_str(&text).map_err(|error| {
                    let field = error
                        .message()
                        .split('`')
                        .nth(1)
                        .unwrap_or("(document)")
                        .to_owned();
                    ConfigError::new(field, format!("{}: {}", path.display(), error))
                })?
            }
            None => Config::default(),
        };
        config.apply_env(env)?;
        config.validate()?;
        Ok(config)
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for (variable, field) in ENV_OVERRIDES {
            let Some(value) = env(variable) else { continue };
            let bad = |problem: String| ConfigError::new(field, format!("{variable}: {problem}"));
            match field {
                "listen" => self.listen = value.parse().map_err(|e| bad(format!("{e}")))?,
                "database" => self.database = PathBuf::from(value),
                "cursor_key" => self.cursor_key = Some(value),
                "body_limit_bytes" => {
                    self.body_limit_bytes = value.parse().map_err(|e| bad(format!("{e}")))?
                }
                "rate_limit_per_second" => {
                    self.rate_limit_per_second =
                        Some(value.parse().map_err(|e| bad(format!("{e}")))?)
                }
                "shutdown_grace_seconds" => {
                    self.shutdown_grace_seconds = value.parse().map_err(|e| bad(format!("{e}")))?
                }
                "jwt.jwks_url" | "jwt.jwks_file" => {
                    let jwt = self.jwt.as_mut().ok_or_else(|| {
                        bad("set [jwt] issuer, audience and algorithms in the file first".into())
                    })?;
                    if field == "jwt.jwks_url" {
                        jwt.jwks_url = Some(value);
                        jwt.jwks_file = None;
                    } else {
                        jwt.jwks_file = Some(PathBuf::from(value));
                        jwt.jwks_url = None;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(key) = &self.cursor_key {
            self.cursor_key_bytes(key)?;
        }
        if !(1024..=16 * 1024 * 1024).contains(&self.body_limit_bytes) {
            return Err(ConfigError::new(
                "body_limit_bytes",
                "must be between 1024 and 16777216",
            ));
        }
        if self.rate_limit_per_second == Some(0) {
            return Err(ConfigError::new(
                "rate_limit_per_second",
                "must be at least 1",
            ));
        }
        if let Some(jwt) = &self.jwt {
            jwt.validate()?;
        }
        for (index, key) in self.api_keys.iter().enumerate() {
            let field = |name: &str| format!("api_keys[{index}].{name}");
            check_sha256(&field("sha256"), &key.sha256)?;
            check_tenant(&field("tenant"), &key.tenant)?;
            if key.capabilities.is_empty() {
                return Err(ConfigError::new(field("capabilities"), "must not be empty"));
            }
        }
        let mut apps = HashSet::new();
        for (index, app) in self.tencent_apps.iter().enumerate() {
            let field = |name: &str| format!("tencent_apps[{index}].{name}");
            if !apps.insert(app.sdkappid) {
                return Err(ConfigError::new(field("sdkappid"), "appears twice"));
            }
            if app.secret_key.len() < 16 {
                return Err(ConfigError::new(
                    field("secret_key"),
                    "must be at least 16 characters",
                ));
            }
            if app.admin.is_empty() {
                return Err(ConfigError::new(field("admin"), "must not be empty"));
            }
            check_tenant(&field("tenant"), &app.tenant)?;
            if app.rate_per_second == 0 {
                return Err(ConfigError::new(
                    field("rate_per_second"),
                    "must be at least 1",
                ));
            }
        }
        let mut instances = HashSet::new();
        for (index, instance) in self.channel_instances.iter().enumerate() {
            let field = |name: &str| format!("channel_instances[{index}].{name}");
            if instance.instance_id.is_empty() || !instances.insert(&instance.instance_id) {
                return Err(ConfigError::new(
                    field("instance_id"),
                    "must be non-empty and unique",
                ));
            }
            check_sha256(&field("token_sha256"), &instance.token_sha256)?;
            check_tenant(&field("tenant"), &instance.tenant)?;
            follow_core::AccountId::new(&instance.account)
                .map_err(|e| ConfigError::new(field("account"), e.message().to_owned()))?;
        }
        Ok(())
    }

    /// The cursor key as bytes, if one is configured.
    pub fn cursor_key(&self) -> Result<Option<[u8; 16]>, ConfigError> {
        self.cursor_key
            .as_deref()
            .map(|key| self.cursor_key_bytes(key))
            .transpose()
    }

    fn cursor_key_bytes(&self, key: &str) -> Result<[u8; 16], ConfigError> {
        let bytes = hex::decode(key)
            .map_err(|_| ConfigError::new("cursor_key", "must be 32 hex digits"))?;
        bytes
            .try_into()
            .map_err(|_| ConfigError::new("cursor_key", "must be 32 hex digits"))
    }

    /// How long shutdown waits for requests in flight.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_seconds)
    }
}

impl JwtConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        match (&self.jwks_file, &self.jwks_url) {
            (None, None) | (Some(_), Some(_)) => {
                return Err(ConfigError::new(
                    "jwt.jwks_file",
                    "set exactly one of jwt.jwks_file and jwt.jwks_url",
                ));
            }
            (None, Some(url)) if !(url.starts_with("https://") || url.starts_with("http://")) => {
                return Err(ConfigError::new("jwt.jwks_url", "must be an http(s) URL"));
            }
            _ => {}
        }
        if self.issuer.is_empty() {
            return Err(ConfigError::new("jwt.issuer", "must not be empty"));
        }
        if self.audience.is_empty() {
            return Err(ConfigError::new("jwt.audience", "must not be empty"));
        }
        if self.algorithms.is_empty() {
            return Err(ConfigError::new("jwt.algorithms", "must not be empty"));
        }
        for name in &self.algorithms {
            crate::auth::jwt::asymmetric_algorithm(name).map_err(|problem| {
                ConfigError::new("jwt.algorithms", format!("{name}: {problem}"))
            })?;
        }
        Ok(())
    }
}

fn check_sha256(field: &str, value: &str) -> Result<(), ConfigError> {
    match hex::decode(value) {
        Ok(bytes) if bytes.len() == 32 => Ok(()),
        _ => Err(ConfigError::new(
            field,
            "must be 64 hex digits (a SHA-256; `followd hash-key` prints one)",
        )),
    }
}

fn check_tenant(field: &str, value: &str) -> Result<(), ConfigError> {
    TenantId::new(value)
        .map(|_| ())
        .map_err(|e| ConfigError::new(field, e.message().to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const KEY_HASH: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

    #[test]
    fn defaults_need_no_file() {
        let config = Config::load(None, |_| None).unwrap();
        assert_eq!(config.database, PathBuf::from("follow.db"));
        assert_eq!(config.listen.port(), 8080);
    }

    #[test]
    fn environment_overrides_the_file() {
        let env = |name: &str| match name {
            "FOLLOWD_LISTEN" => Some("127.0.0.1:0".to_owned()),
            "FOLLOWD_DATABASE" => Some("other.db".to_owned()),
            _ => None,
        };
        let config = Config::load(None, env).unwrap();
        assert_eq!(config.listen.port(), 0);
        assert_eq!(config.database, PathBuf::from("other.db"));
    }

    #[test]
    fn a_bad_environment_value_names_its_field() {
        let env = |name: &str| (name == "FOLLOWD_LISTEN").then(|| "nowhere".to_owned());
        let error = Config::load(None, env).unwrap_err();
        assert_eq!(error.field, "listen");
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("cursor_key = \"abc\"", "cursor_key"),
            ("body_limit_bytes = 1", "body_limit_bytes"),
            ("databse = \"x\"", "databse"),
            (
                "[[api_keys]]\nname='a'\nsha256='00'\ntenant='t'\ncapabilities=['read']",
                "api_keys[0].sha256",
            ),
            (
                &format!("[[api_keys]]\nname='a'\nsha256='{KEY_HASH}'\ncapabilities=['read']"),
                "tenant",
            ),
            (
                "[[tencent_apps]]\nsdkappid=1\nsecret_key='short'\nadmin='a'\ntenant='t'",
                "tencent_apps[0].secret_key",
            ),
            (
                "[jwt]\njwks_file='j'\nissuer='i'\naudience='a'\nalgorithms=['HS256']",
                "jwt.algorithms",
            ),
            (
                "[jwt]\njwks_file='j'\nissuer='i'\naudience='a'\nalgorithms=['none']",
                "jwt.algorithms",
            ),
            (
                "[jwt]\nissuer='i'\naudience='a'\nalgorithms=['ES256']",
                "jwt.jwks_file",
            ),
        ];
        for (text, field) in cases {
            let error = Config::from_toml(text).unwrap_err();
            assert_eq!(error.field, field, "{text}: {error}");
        }
    }

    #[test]
    fn a_full_file_parses() {
        let text = format!(
            "listen = '127.0.0.1:9000'\ncursor_key = '00112233445566778899aabbccddeeff'\n\
             [jwt]\njwks_file = 'jwks.json'\nissuer = 'https://login'\naudience = 'followd'\nalgorithms = ['EdDSA', 'ES256']\n\
             [[api_keys]]\nname = 'ci'\nsha256 = '{KEY_HASH}'\ntenant = 'acme'\ncapabilities = ['read', 'send']\n\
             [[tencent_apps]]\nsdkappid = 1400000000\nsecret_key = '5bd2850fff3ecb11d7c805251c51ee46'\nadmin = 'administrator'\ntenant = 'acme'\n\
             [[channel_instances]]\ninstance_id = 'inst-1'\ntoken_sha256 = '{KEY_HASH}'\ntenant = 'acme'\naccount = '15551234567'\n"
        );
        let config = Config::from_toml(&text).unwrap();
        assert_eq!(config.tencent_apps[0].rate_per_second, 200);
        assert!(config.cursor_key().unwrap().is_some());
    }
}
