//! Standard Webhooks signatures: `v1,` and the base64 HMAC-SHA256 of
//! `webhook-id.webhook-timestamp.body`, keyed with the decoded `whsec_`
//! secret.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use follow_core::Error;

/// An endpoint's signing secret: `whsec_` followed by base64 key bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Parses `whsec_<base64>`.
    ///
    /// # Errors
    /// `invalid_argument` (field `secret`) without the prefix, with bad
    /// base64, or with fewer than 16 key bytes.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let invalid = |why: &str| Error::invalid_argument("secret", format!("secret {why}"));
        let encoded = text
            .strip_prefix("whsec_")
            .ok_or_else(|| invalid("must start with whsec_"))?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| invalid("is not base64 after whsec_"))?;
        if key.len() < 16 {
            return Err(invalid("must hold at least 16 key bytes"));
        }
        Ok(Secret(key))
    }

    /// The `webhook-signature` header value of a message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", STANDARD.encode(self.mac(id, timestamp, body)))
    }

    /// Whether one of the space-separated `v1,` signatures of `header`
    /// matches (compared in constant time).
    pub fn verify(&self, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0) else {
            return false;
        };
        mac.update(&signed_content(id, timestamp, body));
        header.split(' ').any(|signature| {
            signature
                .strip_prefix("v1,")
                .and_then(|encoded| STANDARD.decode(encoded).ok())
                .is_some_and(|bytes| mac.clone().verify_slice(&bytes).is_ok())
        })
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
        // Any key length is valid for HMAC, so this never fails.
        match <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0) {
            Ok(mut mac) => {
                mac.update(&signed_content(id, timestamp, body));
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }
}

fn signed_content(id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut content = format!("{id}.{timestamp}.").into_bytes();
    content.extend_from_slice(body);
    content
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn matches_the_specifications_example() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let signature = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(secret.verify(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            body,
            &format!("v1,bm9wZQ== {signature}")
        ));
        assert!(!secret.verify("msg_other", 1614265330, body, &signature));
        assert!(Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(Secret::parse("whsec_!!").is_err());
    }
}
