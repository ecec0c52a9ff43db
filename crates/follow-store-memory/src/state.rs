//! The whole store: one [`Tenant`] per tenant id, and the event position
//! counter shared by all of them.

use std::collections::HashMap;

use follow_core::TenantId;

use crate::tenant::Tenant;

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) tenants: HashMap<TenantId, Tenant>,
    /// The last event position handed out, global to the store.
    pub(crate) next_position: u64,
}

impl State {
    pub(crate) fn tenant(&self, id: &TenantId) -> Option<&Tenant> {
        self.tenants.get(id)
    }
}
