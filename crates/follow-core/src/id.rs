//! Typed, validated ids. Once built, an id cannot hold a bad value.
//!
//! Every id is 1 to 64 bytes with no whitespace or control characters. A
//! node's kind follows from its id: a channel JID is ASCII digits followed by
//! `@newsletter`, and the `@newsletter` suffix is reserved for channels, so an
//! id names at most one kind of node.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// The longest id, in bytes.
pub const MAX_ID_BYTES: usize = 64;

const CHANNEL_SUFFIX: &str = "@newsletter";

fn check_token(field: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::invalid_argument(
            field,
            format!("{field} must not be empty"),
        ));
    }
    if value.len() > MAX_ID_BYTES {
        return Err(Error::invalid_argument(
            field,
            format!(
                "{field} is {} bytes; at most {MAX_ID_BYTES} are allowed",
                value.len()
            ),
        ));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid_argument(
            field,
            format!("{field} must not contain whitespace or control characters"),
        ));
    }
    Ok(())
}

fn is_channel_jid(value: &str) -> bool {
    value
        .strip_suffix(CHANNEL_SUFFIX)
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $field:literal, $check:path) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Validates `value`; a bad value is `invalid_argument` naming the
            #[doc = concat!("field `", $field, "`.")]
            pub fn new(value: &str) -> Result<Self, Error> {
                Self::parse_field($field, value)
            }

            /// Validates `value`, naming `field` in the error.
            pub fn parse_field(field: &str, value: &str) -> Result<Self, Error> {
                $check(field, value)?;
                Ok($name(Arc::from(value)))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), &*self.0)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(value: &str) -> Result<Self, Error> {
                Self::new(value)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::new(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// The one rule no edge may break whatever its state: an account cannot
/// follow itself. `invalid_argument` naming `field` (the target's field).
pub(crate) fn check_not_self(
    field: &str,
    follower: &AccountId,
    target: &NodeId,
) -> Result<(), Error> {
    if follower == target {
        return Err(Error::invalid_argument(
            field,
            "an account cannot follow itself",
        ));
    }
    Ok(())
}

fn check_tenant(field: &str, value: &str) -> Result<(), Error> {
    check_token(field, value)
}

fn check_node(field: &str, value: &str) -> Result<(), Error> {
    check_token(field, value)?;
    if value.ends_with(CHANNEL_SUFFIX) && !is_channel_jid(value) {
        return Err(Error::invalid_argument(
            field,
            format!(
                "{field} ends with {CHANNEL_SUFFIX} but is not a channel JID (digits{CHANNEL_SUFFIX})"
            ),
        ));
    }
    Ok(())
}

fn check_account(field: &str, value: &str) -> Result<(), Error> {
    check_token(field, value)?;
    if value.ends_with(CHANNEL_SUFFIX) {
        return Err(Error::invalid_argument(
            field,
            format!("{field} names a channel; only accounts can do this"),
        ));
    }
    Ok(())
}

fn check_channel(field: &str, value: &str) -> Result<(), Error> {
    check_token(field, value)?;
    if !is_channel_jid(value) {
        return Err(Error::invalid_argument(
            field,
            format!("{field} must be a channel JID: digits{CHANNEL_SUFFIX}"),
        ));
    }
    Ok(())
}

string_id!(
    /// A tenant: an organisation or an IM app. Nothing crosses tenants.
    TenantId,
    "tenant",
    check_tenant
);
string_id!(
    /// Any node: an account or a channel, told apart by [`NodeId::kind`].
    NodeId,
    "id",
    check_node
);
string_id!(
    /// An account (a WhatsApp session, an IM user): follows, and can be followed.
    AccountId,
    "account",
    check_account
);
string_id!(
    /// A channel (a WhatsApp newsletter), e.g. `120363012345678901@newsletter`:
    /// can be followed, follows nothing.
    ChannelId,
    "channel",
    check_channel
);

/// The two kinds of node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// Follows, and can be followed.
    Account,
    /// Can be followed, follows nothing.
    Channel,
}

impl NodeId {
    /// Whether this node is an account or a channel.
    pub fn kind(&self) -> NodeKind {
        if self.0.ends_with(CHANNEL_SUFFIX) {
            NodeKind::Channel
        } else {
            NodeKind::Account
        }
    }

    /// This node as an account, if it is one.
    pub fn as_account(&self) -> Option<AccountId> {
        (self.kind() == NodeKind::Account).then(|| AccountId(self.0.clone()))
    }

    /// The node as an account, or `invalid_argument` naming `field`: a
    /// channel follows nothing.
    pub fn require_account(&self, field: &str) -> Result<AccountId, Error> {
        self.as_account().ok_or_else(|| {
            Error::invalid_argument(
                field,
                format!("{field} is a channel; a channel follows nothing"),
            )
        })
    }
}

impl From<AccountId> for NodeId {
    fn from(account: AccountId) -> Self {
        NodeId(account.0)
    }
}

impl From<ChannelId> for NodeId {
    fn from(channel: ChannelId) -> Self {
        NodeId(channel.0)
    }
}

impl PartialEq<NodeId> for AccountId {
    fn eq(&self, other: &NodeId) -> bool {
        self.0 == other.0
    }
}

impl PartialEq<AccountId> for NodeId {
    fn eq(&self, other: &AccountId) -> bool {
        self.0 == other.0
    }
}

impl Borrow<str> for NodeId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn field_of(error: Error) -> (ErrorKind, String) {
        let field = error.details()["field"].as_str().unwrap_or("").to_owned();
        (error.kind(), field)
    }

    #[test]
    fn accepts_the_forms_of_the_seeds() {
        assert!(AccountId::new("UserID_001").is_ok());
        assert!(AccountId::new("01HXABCDEF").is_ok());
        let channel = ChannelId::new("120363012345678901@newsletter");
        assert!(channel.is_ok());
        let node = NodeId::new("120363012345678901@newsletter");
        assert_eq!(node.map(|n| n.kind()).ok(), Some(NodeKind::Channel));
        assert_eq!(
            NodeId::new("UserID_002").map(|n| n.kind()).ok(),
            Some(NodeKind::Account)
        );
        assert!(AccountId::new(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn rejects_bad_ids_naming_the_field() {
        let bad = [
            "",
            " alice",
            "al ice",
            "alice\n",
            "al\u{0}ice",
            "\u{a0}nbsp",
            &"a".repeat(65),
        ];
        for value in bad {
            let error = AccountId::parse_field("actor", value).err();
            assert_eq!(
                error.map(field_of),
                Some((ErrorKind::InvalidArgument, "actor".to_owned())),
                "{value:?}"
            );
        }
    }

    #[test]
    fn channel_suffix_is_reserved_for_channel_jids() {
        assert!(ChannelId::new("abc@newsletter").is_err());
        assert!(ChannelId::new("@newsletter").is_err());
        assert!(ChannelId::new("12345").is_err());
        assert!(ChannelId::new("12345@newsletter.com").is_err());
        assert!(NodeId::new("abc@newsletter").is_err());
        assert!(AccountId::new("120363@newsletter").is_err());
        assert!(AccountId::new("someone@s.whatsapp.net").is_ok());
    }

    #[test]
    fn channel_cannot_act_as_account() {
        let channel = NodeId::new("1203@newsletter").ok();
        let error = channel.and_then(|c| c.require_account("actor").err());
        assert_eq!(
            error.map(field_of),
            Some((ErrorKind::InvalidArgument, "actor".to_owned()))
        );
    }

    proptest::proptest! {
        #[test]
        fn any_string_is_an_error_or_a_valid_id(text in "\\PC{0,80}|[0-9]{0,70}@newsletter|.{0,80}") {
            let parsed = [
                TenantId::new(&text).map(|id| id.as_str().len()),
                NodeId::new(&text).map(|id| id.as_str().len()),
                AccountId::new(&text).map(|id| id.as_str().len()),
                ChannelId::new(&text).map(|id| id.as_str().len()),
            ];
            for result in parsed {
                match result {
                    Ok(len) => proptest::prop_assert!((1..=MAX_ID_BYTES).contains(&len)),
                    Err(error) => proptest::prop_assert_eq!(error.kind(), ErrorKind::InvalidArgument),
                }
            }
        }

        #[test]
        fn any_string_is_an_error_or_a_time(text in ".{0,40}") {
            if let Err(error) = crate::Timestamp::parse_rfc3339("at", &text) {
                proptest::prop_assert_eq!(error.kind(), ErrorKind::InvalidArgument);
            }
        }
    }

    #[test]
    fn serde_validates() {
        let ok: Result<AccountId, _> = serde_json::from_str("\"bob\"");
        assert!(ok.is_ok());
        let bad: Result<AccountId, _> = serde_json::from_str("\"b b\"");
        assert!(bad.is_err());
    }
}
