//! A pooled connection that is closed, not reused, unless the call that
//! held it finished cleanly: a call cut off by its timeout (or failing on
//! the wire) may have left a transaction open or a reply unread.

use deadpool_postgres::{Object, Pool};
use follow_core::Error;

use crate::error::map_pool;

/// One connection taken from the pool for one call.
pub(crate) struct Conn {
    object: Option<Object>,
    clean: bool,
}

impl Conn {
    /// Takes a connection from `pool`.
    pub(crate) async fn take(pool: &Pool) -> Result<Conn, Error> {
        let object = pool.get().await.map_err(map_pool)?;
        Ok(Conn {
            object: Some(object),
            clean: false,
        })
    }

    /// The client.
    pub(crate) fn client(&self) -> &deadpool_postgres::ClientWrapper {
        // `object` is only taken in `drop`.
        self.object
            .as_deref()
            .unwrap_or_else(|| unreachable!("a connection is present until dropped"))
    }

    /// Marks the connection as idle and reusable (no open transaction, no
    /// reply pending): it goes back to the pool when dropped.
    pub(crate) fn release(mut self) {
        self.clean = true;
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if !self.clean
            && let Some(object) = self.object.take()
        {
            // Out of the pool and dropped: the connection closes.
            drop(Object::take(object));
        }
    }
}
