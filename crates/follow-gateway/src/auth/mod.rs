//! Who is calling: API keys, login JWTs (gateway face), Tencent UserSigs and
//! channel-API access tokens. Secrets are kept as hashes or keys and
//! compared in constant time; no error names or echoes a presented secret.

pub mod api_keys;
pub mod jwt;
pub mod usersig;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// SHA-256 of a presented secret.
pub fn sha256(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// SHA-256 of a secret as 64 hex digits: the form the configuration keeps.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(sha256(secret))
}

/// Constant-time equality of two hashes.
pub fn same_hash(a: &[u8; 32], b: &[u8; 32]) -> bool {
    bool::from(a.ct_eq(b))
}

/// A hash from its 64 hex digits (checked when the configuration loads).
pub(crate) fn hash_from_hex(text: &str) -> [u8; 32] {
    let mut hash = [0u8; 32];
    if let Ok(bytes) = hex::decode(text)
        && bytes.len() == 32
    {
        hash.copy_from_slice(&bytes);
    }
    hash
}
