//! The whole store: one [`Tenant`] per tenant id, and the event position
//! counter shared by all of them.

use std::collections::{BTreeMap, HashMap};

use follow_core::TenantId;
use follow_core::feed::{ConsumerName, ConsumerState};

use crate::tenant::Tenant;

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) tenants: HashMap<TenantId, Tenant>,
    /// The last event position handed out, global to the store.
    pub(crate) next_position: u64,
    /// The feed's consumers, by tenant and name.
    pub(crate) consumers: HashMap<TenantId, BTreeMap<ConsumerName, ConsumerState>>,
}

impl State {
    pub(crate) fn tenant(&self, id: &TenantId) -> Option<&Tenant> {
        self.tenants.get(id)
    }
}
