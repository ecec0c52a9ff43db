//! Opaque, tamper-evident page cursors.
//!
//! A cursor carries the last item's position (its `since` and node) and a
//! 128-bit keyed SipHash over that position together with the tenant, the
//! list and the subject it was issued for. A cursor that was altered, or that
//! is presented for another tenant, list or subject, fails the check and is
//! `invalid_argument`; so does any string that is not a cursor at all.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use siphasher::sip128::{Hasher128, SipHasher24};
use std::hash::Hasher;

use crate::{Error, EventPosition, ListKind, ListPosition, NodeId, TenantId, Timestamp};

const VERSION: u8 = 1;
const MAC_BYTES: usize = 16;
const HEADER_BYTES: usize = 2 + 8;
/// Longer strings are refused before any decoding.
const MAX_CURSOR_CHARS: usize = 256;

/// Which walk a cursor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CursorScope {
    List(ListKind),
    Stale,
    /// The tenant's nodes in id order; the subject is empty.
    Nodes,
    /// A history walk of the feed; the position is an event position.
    History(crate::feed::HistoryKind),
    /// A list read for a viewer; the subject is `"<subject> <viewer>"`.
    Viewed(ListKind),
    /// A list of links.
    Links(crate::LinkKind, crate::LinkDirection),
}

impl CursorScope {
    fn tag(self) -> u8 {
        match self {
            CursorScope::List(ListKind::Following) => 1,
            CursorScope::List(ListKind::Followers) => 2,
            CursorScope::List(ListKind::Mutuals) => 3,
            CursorScope::Stale => 4,
            CursorScope::Nodes => 5,
            CursorScope::History(crate::feed::HistoryKind::LostFollowers) => 6,
            CursorScope::History(crate::feed::HistoryKind::FollowChanges) => 7,
            CursorScope::Viewed(ListKind::Following) => 8,
            CursorScope::Viewed(ListKind::Followers) => 9,
            CursorScope::Viewed(ListKind::Mutuals) => 10,
            CursorScope::Links(kind, direction) => {
                let kind = match kind {
                    crate::LinkKind::Block => 0,
                    crate::LinkKind::Mute => 1,
                    crate::LinkKind::Request => 2,
                };
                let outgoing = u8::from(direction == crate::LinkDirection::Outgoing);
                11 + kind * 2 + outgoing
            }
        }
    }
}

/// Issues and checks cursors with one secret key.
#[derive(Clone)]
pub(crate) struct CursorCodec {
    key: [u8; 16],
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec { key: <redacted> }")
    }
}

impl CursorCodec {
    pub(crate) fn new(key: [u8; 16]) -> Self {
        CursorCodec { key }
    }

    pub(crate) fn encode(
        &self,
        tenant: &TenantId,
        scope: CursorScope,
        subject: &str,
        position: &ListPosition,
    ) -> String {
        let node = position.node.as_str().as_bytes();
        let mut bytes = Vec::with_capacity(HEADER_BYTES + node.len() + MAC_BYTES);
        bytes.push(VERSION);
        bytes.push(scope.tag());
        bytes.extend_from_slice(&position.since.as_unix_micros().to_be_bytes());
        bytes.extend_from_slice(node);
        let mac = self.mac(tenant, subject, &bytes);
        bytes.extend_from_slice(&mac.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub(crate) fn decode(
        &self,
        tenant: &TenantId,
        scope: CursorScope,
        subject: &str,
        cursor: &str,
    ) -> Result<ListPosition, Error> {
        let invalid = |why: &str| Error::invalid_argument("cursor", format!("cursor {why}"));
        let body = self.verified(tenant, scope, subject, cursor)?;
        if body.len() <= HEADER_BYTES {
            return Err(invalid("is not a cursor issued by this library"));
        }
        let mut micros = [0u8; 8];
        micros.copy_from_slice(&body[2..HEADER_BYTES]);
        let since = Timestamp::from_unix_micros(i64::from_be_bytes(micros))
            .map_err(|_| invalid("holds a time out of range"))?;
        let node = std::str::from_utf8(&body[HEADER_BYTES..])
            .map_err(|_| invalid("holds an id that is not text"))
            .and_then(|text| NodeId::parse_field("cursor", text))?;
        Ok(ListPosition { since, node })
    }

    /// A cursor of a walk over event positions.
    pub(crate) fn encode_position(
        &self,
        tenant: &TenantId,
        scope: CursorScope,
        subject: &str,
        position: EventPosition,
    ) -> String {
        let mut bytes = Vec::with_capacity(HEADER_BYTES + MAC_BYTES);
        bytes.push(VERSION);
        bytes.push(scope.tag());
        bytes.extend_from_slice(&position.0.to_be_bytes());
        let mac = self.mac(tenant, subject, &bytes);
        bytes.extend_from_slice(&mac.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The position of a cursor made by [`Self::encode_position`].
    pub(crate) fn decode_position(
        &self,
        tenant: &TenantId,
        scope: CursorScope,
        subject: &str,
        cursor: &str,
    ) -> Result<EventPosition, Error> {
        let body = self.verified(tenant, scope, subject, cursor)?;
        let position: [u8; 8] = body
            .get(2..)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| {
                Error::invalid_argument("cursor", "cursor is not a cursor issued by this library")
            })?;
        Ok(EventPosition(u64::from_be_bytes(position)))
    }

    /// The body of a cursor whose MAC, version and scope check out.
    fn verified(
        &self,
        tenant: &TenantId,
        scope: CursorScope,
        subject: &str,
        cursor: &str,
    ) -> Result<Vec<u8>, Error> {
        let invalid = |why: &str| Error::invalid_argument("cursor", format!("cursor {why}"));
        if cursor.len() > MAX_CURSOR_CHARS {
            return Err(invalid("is too long"));
        }
        let mut bytes = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| invalid("is not a cursor issued by this library"))?;
        if bytes.len() < HEADER_BYTES + MAC_BYTES {
            return Err(invalid("is not a cursor issued by this library"));
        }
        let mac = bytes.split_off(bytes.len() - MAC_BYTES);
        let mac: [u8; MAC_BYTES] = mac
            .try_into()
            .map_err(|_| invalid("is not a cursor issued by this library"))?;
        let expected = siphasher::sip128::Hash128::from(self.mac(tenant, subject, &bytes));
        if expected != siphasher::sip128::Hash128::from(u128::from_be_bytes(mac)) {
            return Err(invalid(
                "was altered, or belongs to another tenant or subject",
            ));
        }
        if bytes[0] != VERSION {
            return Err(invalid("comes from an unknown version"));
        }
        if bytes[1] != scope.tag() {
            return Err(invalid("belongs to another list"));
        }
        Ok(bytes)
    }

    fn mac(&self, tenant: &TenantId, subject: &str, body: &[u8]) -> u128 {
        let mut hasher = SipHasher24::new_with_key(&self.key);
        // Length prefixes keep ("ab","c") and ("a","bc") apart.
        for part in [tenant.as_str().as_bytes(), subject.as_bytes(), body] {
            hasher.write_u64(part.len() as u64);
            hasher.write(part);
        }
        u128::from(hasher.finish128())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use proptest::prelude::*;

    fn fixture() -> (CursorCodec, TenantId, &'static str, ListPosition) {
        let id = |s: &str| NodeId::new(s).unwrap_or_else(|e| panic!("{e}"));
        let tenant = TenantId::new("acme").unwrap_or_else(|e| panic!("{e}"));
        let position = ListPosition {
            since: Timestamp::from_unix_micros(1_700_000_000_000_001).unwrap_or_default(),
            node: id("bob"),
        };
        (CursorCodec::new([7; 16]), tenant, "alice", position)
    }

    const FOLLOWERS: CursorScope = CursorScope::List(ListKind::Followers);

    #[test]
    fn round_trips() {
        let (codec, tenant, subject, position) = fixture();
        let cursor = codec.encode(&tenant, FOLLOWERS, subject, &position);
        let back = codec.decode(&tenant, FOLLOWERS, subject, &cursor).ok();
        assert_eq!(back, Some(position));
    }

    #[test]
    fn bound_to_tenant_list_subject_and_key() {
        let (codec, tenant, subject, position) = fixture();
        let cursor = codec.encode(&tenant, FOLLOWERS, subject, &position);
        let other_tenant = TenantId::new("globex").unwrap_or_else(|e| panic!("{e}"));
        let following = CursorScope::List(ListKind::Following);
        let attempts = [
            codec.decode(&other_tenant, FOLLOWERS, subject, &cursor),
            codec.decode(&tenant, following, subject, &cursor),
            codec.decode(&tenant, CursorScope::Stale, subject, &cursor),
            codec.decode(&tenant, FOLLOWERS, "carol", &cursor),
            codec.decode(&tenant, CursorScope::Nodes, "", &cursor),
            CursorCodec::new([8; 16]).decode(&tenant, FOLLOWERS, subject, &cursor),
        ];
        for attempt in attempts {
            assert_eq!(
                attempt.err().map(|e| e.kind()),
                Some(ErrorKind::InvalidArgument)
            );
        }
    }

    #[test]
    fn every_flipped_byte_is_detected() {
        let (codec, tenant, subject, position) = fixture();
        let cursor = codec.encode(&tenant, FOLLOWERS, subject, &position);
        let bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap_or_default();
        for index in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[index] ^= 0x01;
            let text = URL_SAFE_NO_PAD.encode(tampered);
            let result = codec.decode(&tenant, FOLLOWERS, subject, &text);
            assert!(result.is_err(), "flip at byte {index} went unnoticed");
        }
    }

    proptest! {
        #[test]
        fn any_string_is_an_error_or_a_position(text in ".{0,300}") {
            let (codec, tenant, subject, _) = fixture();
            if let Err(error) = codec.decode(&tenant, FOLLOWERS, subject, &text) {
                prop_assert_eq!(error.kind(), ErrorKind::InvalidArgument);
            }
        }

        #[test]
        fn any_bytes_are_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            let (codec, tenant, subject, _) = fixture();
            let text = URL_SAFE_NO_PAD.encode(bytes);
            prop_assert!(codec.decode(&tenant, FOLLOWERS, subject, &text).is_err());
        }
    }
}
