//! Principals and capabilities: who calls, and what they may do.
//!
//! The host authenticates (a JWT, an api key) and hands the facade a
//! [`Principal`]. The facade checks, in this order: no principal is
//! `unauthenticated`; a missing capability is `forbidden` before any lookup;
//! acting as another account than the bound one is `forbidden`; an unknown
//! node, or another tenant's, is `not_found`.

use std::fmt;
use std::ops::BitOr;

use serde::{Deserialize, Serialize};

use crate::{AccountId, Error, ErrorKind, NodeId, TenantId};

/// One permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Queries: relations, lists, counts, the audit, events.
    Read,
    /// Follow, unfollow, mute, remove a follower, touch, interact.
    Send,
    /// Register and remove nodes, import.
    Admin,
}

impl Capability {
    fn bit(self) -> u8 {
        match self {
            Capability::Read => 1,
            Capability::Send => 2,
            Capability::Admin => 4,
        }
    }

    /// The capability's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Capability::Read => "read",
            Capability::Send => "send",
            Capability::Admin => "admin",
        }
    }
}

/// A set of capabilities.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Capabilities(u8);

impl Capabilities {
    /// No capability.
    pub const NONE: Capabilities = Capabilities(0);
    /// Every capability.
    pub const ALL: Capabilities = Capabilities(7);

    /// Whether `capability` is in the set.
    pub fn contains(self, capability: Capability) -> bool {
        self.0 & capability.bit() != 0
    }

    /// The set plus `capability`.
    pub fn with(self, capability: Capability) -> Self {
        Capabilities(self.0 | capability.bit())
    }

    /// The capabilities of a [`Role`].
    pub fn for_role(role: Role) -> Self {
        match role {
            Role::Viewer => Capability::Read.into(),
            Role::Member => Capability::Read | Capability::Send,
            Role::Owner => Capabilities::ALL,
        }
    }
}

impl From<Capability> for Capabilities {
    fn from(capability: Capability) -> Self {
        Capabilities::NONE.with(capability)
    }
}

impl BitOr for Capability {
    type Output = Capabilities;
    fn bitor(self, other: Capability) -> Capabilities {
        Capabilities::from(self).with(other)
    }
}

impl BitOr<Capability> for Capabilities {
    type Output = Capabilities;
    fn bitor(self, other: Capability) -> Capabilities {
        self.with(other)
    }
}

impl fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [Capability::Read, Capability::Send, Capability::Admin]
            .into_iter()
            .filter(|c| self.contains(*c))
            .map(Capability::name);
        f.debug_set().entries(names).finish()
    }
}

/// A person's role, mapped to capabilities by [`Capabilities::for_role`].
/// Hosts with roles of their own build [`Capabilities`] directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// `read`.
    Viewer,
    /// `read` and `send`.
    Member,
    /// `read`, `send` and `admin`.
    Owner,
}

/// An authenticated caller: one tenant, a set of capabilities, and optionally
/// one account it is bound to act as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    tenant: TenantId,
    capabilities: Capabilities,
    account: Option<AccountId>,
}

impl Principal {
    /// A principal of `tenant` holding `capabilities`, acting as any account.
    pub fn new(tenant: TenantId, capabilities: impl Into<Capabilities>) -> Self {
        Principal {
            tenant,
            capabilities: capabilities.into(),
            account: None,
        }
    }

    /// Binds the principal to one account: it then acts only as that account.
    pub fn bound_to(mut self, account: AccountId) -> Self {
        self.account = Some(account);
        self
    }

    /// The tenant.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// The capabilities.
    pub fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    /// The bound account, if any.
    pub fn account(&self) -> Option<&AccountId> {
        self.account.as_ref()
    }

    /// `forbidden` unless the principal holds `capability`.
    pub fn require(&self, capability: Capability) -> Result<(), Error> {
        if self.capabilities.contains(capability) {
            Ok(())
        } else {
            Err(
                Error::forbidden(format!("the {} capability is required", capability.name()))
                    .with_detail("capability", capability.name()),
            )
        }
    }

    /// `forbidden` if the principal is bound to an account other than `node`.
    pub fn require_acting_as(&self, node: &NodeId) -> Result<(), Error> {
        match &self.account {
            Some(bound) if bound != node => Err(Error::forbidden(
                "the principal may act only as the account it is bound to",
            )
            .with_detail("bound_account", bound.as_str())),
            _ => Ok(()),
        }
    }
}

/// The first check: a principal must be present.
pub(crate) fn authenticated(principal: Option<&Principal>) -> Result<&Principal, Error> {
    principal.ok_or_else(|| Error::new(ErrorKind::Unauthenticated, "no principal was presented"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(capabilities: impl Into<Capabilities>) -> Principal {
        let tenant = TenantId::new("acme").unwrap_or_else(|e| panic!("{e}"));
        Principal::new(tenant, capabilities)
    }

    #[test]
    fn roles_map_to_capabilities() {
        let viewer = Capabilities::for_role(Role::Viewer);
        assert!(viewer.contains(Capability::Read) && !viewer.contains(Capability::Send));
        let member = Capabilities::for_role(Role::Member);
        assert!(member.contains(Capability::Send) && !member.contains(Capability::Admin));
        assert_eq!(Capabilities::for_role(Role::Owner), Capabilities::ALL);
        assert_eq!(format!("{member:?}"), r#"{"read", "send"}"#);
    }

    #[test]
    fn missing_capability_is_forbidden_naming_it() {
        let error = principal(Capability::Read).require(Capability::Send).err();
        assert_eq!(error.as_ref().map(Error::kind), Some(ErrorKind::Forbidden));
        assert_eq!(
            error.map(|e| e.details()["capability"].clone()),
            Some("send".into())
        );
    }

    #[test]
    fn a_bound_principal_acts_only_as_its_account() {
        let alice = AccountId::new("alice").unwrap_or_else(|e| panic!("{e}"));
        let bound = principal(Capabilities::ALL).bound_to(alice.clone());
        assert!(bound.require_acting_as(&alice.into()).is_ok());
        let bob = NodeId::new("bob").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            bound.require_acting_as(&bob).err().map(|e| e.kind()),
            Some(ErrorKind::Forbidden)
        );
        assert!(principal(Capabilities::ALL).require_acting_as(&bob).is_ok());
    }

    #[test]
    fn no_principal_is_unauthenticated() {
        assert_eq!(
            authenticated(None).err().map(|e| e.kind()),
            Some(ErrorKind::Unauthenticated)
        );
    }
}
