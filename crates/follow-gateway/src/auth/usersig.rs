//! Tencent's UserSig (TLSSigAPIv2), verified so that an app's existing
//! signing code works unchanged.
//!
//! A UserSig is a JSON document (`TLS.ver` "2.0", `TLS.identifier`,
//! `TLS.sdkappid`, `TLS.time`, `TLS.expire`, optional `TLS.userbuf`, and
//! `TLS.sig`), zlib-compressed and base64-encoded with `+/=` replaced by
//! `*-_`. `TLS.sig` is the base64 HMAC-SHA256, under the app's secret key,
//! of the lines `TLS.identifier:…`, `TLS.sdkappid:…`, `TLS.time:…`,
//! `TLS.expire:…` (and `TLS.userbuf:…`), each ending in `\n`.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// The largest decompressed UserSig accepted: real ones are ~200 bytes.
const MAX_DECOMPRESSED: u64 = 4096;

/// Why a UserSig was refused; each maps to one of Tencent's public codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigError {
    /// No UserSig was sent (70002).
    Empty,
    /// Not base64, not zlib, or not the expected JSON (70003).
    Malformed,
    /// `TLS.time + TLS.expire` is past (70001).
    Expired,
    /// Signed for another identifier (70013).
    IdentifierMismatch,
    /// Signed for another SDKAppID (70014).
    AppMismatch,
    /// The HMAC does not verify under the app's key (70009).
    BadSignature,
}

impl SigError {
    /// Tencent's public error code.
    pub fn code(self) -> u32 {
        match self {
            SigError::Empty => 70002,
            SigError::Malformed => 70003,
            SigError::Expired => 70001,
            SigError::IdentifierMismatch => 70013,
            SigError::AppMismatch => 70014,
            SigError::BadSignature => 70009,
        }
    }

    /// A description (never containing the signature).
    pub fn info(self) -> &'static str {
        match self {
            SigError::Empty => "usersig is empty",
            SigError::Malformed => "usersig could not be decoded",
            SigError::Expired => "usersig has expired",
            SigError::IdentifierMismatch => "usersig was issued for another identifier",
            SigError::AppMismatch => "usersig was issued for another SDKAppID",
            SigError::BadSignature => "usersig signature does not verify",
        }
    }
}

fn content_to_sign(
    identifier: &str,
    sdkappid: u64,
    time: i64,
    expire: i64,
    userbuf: Option<&str>,
) -> String {
    let mut content = format!(
        "TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\nTLS.time:{time}\nTLS.expire:{expire}\n"
    );
    if let Some(userbuf) = userbuf {
        content.push_str(&format!("TLS.userbuf:{userbuf}\n"));
    }
    content
}

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// Signs a UserSig as Tencent's libraries do (for tests, docs and tools).
pub fn sign(sdkappid: u64, identifier: &str, secret: &str, time: i64, expire: i64) -> String {
    let mut hmac = mac(secret);
    hmac.update(content_to_sign(identifier, sdkappid, time, expire, None).as_bytes());
    let sig = STANDARD.encode(hmac.finalize().into_bytes());
    let document = json!({
        "TLS.ver": "2.0",
        "TLS.identifier": identifier,
        "TLS.sdkappid": sdkappid,
        "TLS.expire": expire,
        "TLS.time": time,
        "TLS.sig": sig,
    });
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    let compressed = encoder
        .write_all(document.to_string().as_bytes())
        .and_then(|()| encoder.finish())
        .unwrap_or_default();
    STANDARD
        .encode(compressed)
        .replace('+', "*")
        .replace('/', "-")
        .replace('=', "_")
}

fn number(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Checks `usersig` for `identifier` of app `sdkappid` at `now` (Unix
/// seconds).
pub fn verify(
    usersig: &str,
    sdkappid: u64,
    identifier: &str,
    secret: &str,
    now: i64,
) -> Result<(), SigError> {
    if usersig.is_empty() {
        return Err(SigError::Empty);
    }
    let standard = usersig
        .replace('*', "+")
        .replace('-', "/")
        .replace('_', "=");
    let compressed = STANDARD.decode(standard).map_err(|_| SigError::Malformed)?;
    let mut text = Vec::new();
    ZlibDecoder::new(compressed.as_slice())
        .take(MAX_DECOMPRESSED)
        .read_to_end(&mut text)
        .map_err(|_| SigError::Malformed)?;
    let document: Value = serde_json::from_slice(&text).map_err(|_| SigError::Malformed)?;
    let signed_identifier = document
        .get("TLS.identifier")
        .and_then(Value::as_str)
        .ok_or(SigError::Malformed)?;
    let signed_app = number(document.get("TLS.sdkappid")).ok_or(SigError::Malformed)?;
    let time = number(document.get("TLS.time")).ok_or(SigError::Malformed)?;
    let expire = number(document.get("TLS.expire")).ok_or(SigError::Malformed)?;
    let sig = document
        .get("TLS.sig")
        .and_then(Value::as_str)
        .ok_or(SigError::Malformed)?;
    let userbuf = document.get("TLS.userbuf").and_then(Value::as_str);
    let signed_app = u64::try_from(signed_app).map_err(|_| SigError::Malformed)?;
    let sig = STANDARD.decode(sig).map_err(|_| SigError::Malformed)?;
    let mut hmac = mac(secret);
    hmac.update(content_to_sign(signed_identifier, signed_app, time, expire, userbuf).as_bytes());
    hmac.verify_slice(&sig)
        .map_err(|_| SigError::BadSignature)?;
    if signed_app != sdkappid {
        return Err(SigError::AppMismatch);
    }
    if signed_identifier != identifier {
        return Err(SigError::IdentifierMismatch);
    }
    if time.saturating_add(expire) < now {
        return Err(SigError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SECRET: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_signed_sig_verifies() {
        let sig = sign(1_400_000_000, "administrator", SECRET, NOW, 86400);
        assert_eq!(
            verify(&sig, 1_400_000_000, "administrator", SECRET, NOW + 10),
            Ok(())
        );
    }

    #[test]
    fn refusals_name_their_reason() {
        let sig = sign(1_400_000_000, "administrator", SECRET, NOW, 86400);
        let check =
            |sig: &str, app, id: &str, secret: &str, now| verify(sig, app, id, secret, now).err();
        assert_eq!(
            check(&sig, 1_400_000_000, "administrator", SECRET, NOW + 86401),
            Some(SigError::Expired)
        );
        assert_eq!(
            check(&sig, 1_400_000_001, "administrator", SECRET, NOW),
            Some(SigError::AppMismatch)
        );
        assert_eq!(
            check(&sig, 1_400_000_000, "alice", SECRET, NOW),
            Some(SigError::IdentifierMismatch)
        );
        assert_eq!(
            check(
                &sig,
                1_400_000_000,
                "administrator",
                "another-secret-key",
                NOW
            ),
            Some(SigError::BadSignature)
        );
        assert_eq!(check("", 1, "a", SECRET, NOW), Some(SigError::Empty));
        assert_eq!(
            check("not!base64", 1, "a", SECRET, NOW),
            Some(SigError::Malformed)
        );
        assert_eq!(
            check("eJzLSM3JyQcABiwCFQ__", 1, "a", SECRET, NOW),
            Some(SigError::Malformed)
        );
    }

    #[test]
    fn verifies_a_sig_made_by_tencents_reference_algorithm() {
        // Built by the published Python TLSSigAPIv2 steps (json.dumps with
        // its default separators, zlib, the *-_ alphabet) for time NOW.
        let mut hmac = mac(SECRET);
        hmac.update(content_to_sign("xiaojun", 1_400_000_000, NOW, 15_552_000, None).as_bytes());
        let sig = STANDARD.encode(hmac.finalize().into_bytes());
        let document = format!(
            "{{\"TLS.ver\": \"2.0\", \"TLS.identifier\": \"xiaojun\", \"TLS.sdkappid\": 1400000000, \"TLS.expire\": 15552000, \"TLS.time\": {NOW}, \"TLS.sig\": \"{sig}\"}}"
        );
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(document.as_bytes()).unwrap();
        let usersig = STANDARD
            .encode(encoder.finish().unwrap())
            .replace('+', "*")
            .replace('/', "-")
            .replace('=', "_");
        assert_eq!(
            verify(&usersig, 1_400_000_000, "xiaojun", SECRET, NOW),
            Ok(())
        );
    }
}
