//! The facade a host service holds: [`FollowGraph`].
//!
//! Every call runs the same gate, in this order: a principal must be present
//! (`unauthenticated`), the tenant must be within its rate (`rate_limited`),
//! the principal must hold the call's capability (`forbidden`, before any
//! lookup). Then arguments are validated (`invalid_argument`, naming the
//! field), a bound principal must act as itself (`forbidden`), and only then
//! is the store asked (`not_found` for unknown nodes, including another
//! tenant's).

mod batch;
mod commands;
mod feed;
mod links;
mod queries;
mod relationships;
mod removal;

use std::collections::HashMap;
use std::fmt;
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;

pub use batch::{ImportEdge, ItemResult};
pub use commands::MAX_ACTIVITY_AHEAD;
pub use feed::HISTORY_SCAN_LIMIT;
pub use removal::REMOVAL_CHUNK;

use crate::auth::authenticated;
use crate::cursor::CursorCodec;
use crate::page::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT};
use crate::rate::{RateLimit, RateLimiter};
use crate::{
    Applied, Capability, Clock, CommandResult, Error, FollowStore, Principal, SystemClock,
    TenantId, Timestamp, WriteBatch,
};

/// The default largest batch (Tencent IM: 20 accounts per request).
pub const DEFAULT_BATCH_LIMIT: usize = 20;
/// The default largest read batch of relationships (Bluesky's
/// `getRelationships`: 30 accounts).
pub const DEFAULT_READ_BATCH_LIMIT: usize = 30;
/// The default largest import call. One call is one transaction, and a
/// transaction of random edges dirties pages all over the indexes, each
/// written out at commit: on a one-million-edge SQLite graph, calls of
/// 100,000 load in about a third of the time of calls of 10,000. A call of
/// 100,000 holds the store's writer for a second or two; lower the limit
/// ([`FollowGraphBuilder::import_limit`]) where live writes share the store.
pub const DEFAULT_IMPORT_LIMIT: usize = 100_000;

/// The follow graph as a host service uses it: authorised, validated,
/// rate-limited calls over one store.
///
/// Cheap to share: hold it in an `Arc` and call it from any task.
pub struct FollowGraph {
    store: Arc<dyn FollowStore>,
    clock: Arc<dyn Clock>,
    limiter: RateLimiter,
    cursors: CursorCodec,
    batch_limit: usize,
    read_batch_limit: usize,
    import_limit: usize,
    page_limit: u32,
}

impl fmt::Debug for FollowGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FollowGraph")
            .field("store", &self.store.to_string())
            .field("clock", &self.clock)
            .field("batch_limit", &self.batch_limit)
            .field("read_batch_limit", &self.read_batch_limit)
            .field("import_limit", &self.import_limit)
            .field("page_limit", &self.page_limit)
            .finish_non_exhaustive()
    }
}

impl FollowGraph {
    /// A graph over `store` with every default: the system clock, batches of
    /// 20, no rate limit, cursors signed with the store's own secret
    /// ([`FollowStore::cursor_secret`]).
    pub fn new(store: Arc<dyn FollowStore>) -> Self {
        FollowGraph::builder(store).build()
    }

    /// Configures a graph over `store`.
    pub fn builder(store: Arc<dyn FollowStore>) -> FollowGraphBuilder {
        FollowGraphBuilder {
            store,
            clock: Arc::new(SystemClock),
            batch_limit: NonZeroUsize::new(DEFAULT_BATCH_LIMIT).unwrap_or(NonZeroUsize::MIN),
            read_batch_limit: NonZeroUsize::new(DEFAULT_READ_BATCH_LIMIT)
                .unwrap_or(NonZeroUsize::MIN),
            page_limit: DEFAULT_PAGE_LIMIT,
            import_limit: NonZeroUsize::new(DEFAULT_IMPORT_LIMIT).unwrap_or(NonZeroUsize::MIN),
            cursor_key: None,
            rate_limit: None,
            tenant_rate_limits: HashMap::new(),
        }
    }

    /// The store underneath, for adapter-specific calls (verify, repair).
    pub fn store(&self) -> &Arc<dyn FollowStore> {
        &self.store
    }

    /// The clock's current time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The largest batch `follow_many`, `unfollow_many` and `check_many` take.
    pub fn batch_limit(&self) -> usize {
        self.batch_limit
    }

    /// The most targets `relationships` reads in one call.
    pub fn read_batch_limit(&self) -> usize {
        self.read_batch_limit
    }

    /// The items of a page whose request names no limit.
    pub fn page_limit(&self) -> u32 {
        self.page_limit
    }

    /// The largest `import` call.
    pub fn import_limit(&self) -> usize {
        self.import_limit
    }

    /// Authentication, rate limit and capability, in the documented order,
    /// and the time of the request (for writes).
    fn admit<'p>(
        &self,
        principal: Option<&'p Principal>,
        capability: Capability,
    ) -> Result<(&'p Principal, Timestamp), Error> {
        let now = self.clock.now();
        Ok((self.gate(principal, capability, || now)?, now))
    }

    /// [`Self::admit`] for a read, which needs no time of its own: the clock
    /// is read only when the tenant is rate-limited.
    fn admit_read<'p>(
        &self,
        principal: Option<&'p Principal>,
        capability: Capability,
    ) -> Result<&'p Principal, Error> {
        self.gate(principal, capability, || self.clock.now())
    }

    /// The checks of [`Self::admit`], asking `now` only for a limited tenant.
    fn gate<'p>(
        &self,
        principal: Option<&'p Principal>,
        capability: Capability,
        now: impl FnOnce() -> Timestamp,
    ) -> Result<&'p Principal, Error> {
        let principal = authenticated(principal)?;
        self.limiter.check(principal.tenant(), now)?;
        principal.require(capability)?;
        Ok(principal)
    }

    /// Sends a batch and checks the store answered one result per command.
    async fn write(&self, batch: WriteBatch) -> Result<Vec<CommandResult>, Error> {
        let expected = batch.commands.len();
        let results = self.store.write(batch).await?;
        if results.len() != expected {
            return Err(Error::internal(format!(
                "{} answered {} results for {expected} commands",
                self.store,
                results.len()
            )));
        }
        Ok(results)
    }

    /// Sends a batch of one command and answers its result.
    async fn write_one(&self, batch: WriteBatch) -> Result<Applied, Error> {
        self.write(batch)
            .await?
            .pop()
            .unwrap_or_else(|| Err(Error::internal("the store answered no result")))
    }
}

/// Settings of a [`FollowGraph`].
pub struct FollowGraphBuilder {
    store: Arc<dyn FollowStore>,
    clock: Arc<dyn Clock>,
    batch_limit: NonZeroUsize,
    read_batch_limit: NonZeroUsize,
    page_limit: u32,
    import_limit: NonZeroUsize,
    cursor_key: Option<[u8; 16]>,
    rate_limit: Option<RateLimit>,
    tenant_rate_limits: HashMap<TenantId, Option<RateLimit>>,
}

impl FollowGraphBuilder {
    /// The clock (default: the system clock). Tests pass a [`crate::ManualClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The largest batch (default 20).
    pub fn batch_limit(mut self, limit: NonZeroUsize) -> Self {
        self.batch_limit = limit;
        self
    }

    /// The most targets one `relationships` call reads (default
    /// [`DEFAULT_READ_BATCH_LIMIT`]), apart from the write batch limit.
    pub fn read_batch_limit(mut self, limit: NonZeroUsize) -> Self {
        self.read_batch_limit = limit;
        self
    }

    /// The items of a page whose request names no limit (default
    /// [`DEFAULT_PAGE_LIMIT`]); at most [`MAX_PAGE_LIMIT`].
    pub fn default_page_limit(mut self, limit: NonZeroU32) -> Self {
        self.page_limit = limit.get().min(MAX_PAGE_LIMIT);
        self
    }

    /// The largest import call (default [`DEFAULT_IMPORT_LIMIT`] edges).
    pub fn import_limit(mut self, limit: NonZeroUsize) -> Self {
        self.import_limit = limit;
        self
    }

    /// The secret key that signs cursors (default: the store's own random
    /// secret, [`FollowStore::cursor_secret`], which every instance over the
    /// same data shares). Every instance serving the same clients must use
    /// the same key, or their cursors are refused.
    pub fn cursor_key(mut self, key: [u8; 16]) -> Self {
        self.cursor_key = Some(key);
        self
    }

    /// A rate limit for every tenant without one of its own (default: none).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// A tenant's own rate limit; `None` exempts it.
    pub fn tenant_rate_limit(mut self, tenant: TenantId, limit: Option<RateLimit>) -> Self {
        self.tenant_rate_limits.insert(tenant, limit);
        self
    }

    /// The graph.
    pub fn build(self) -> FollowGraph {
        let key = self
            .cursor_key
            .unwrap_or_else(|| self.store.cursor_secret());
        FollowGraph {
            store: self.store,
            clock: self.clock,
            limiter: RateLimiter::new(self.rate_limit, self.tenant_rate_limits),
            cursors: CursorCodec::new(key),
            batch_limit: self.batch_limit.get(),
            read_batch_limit: self.read_batch_limit.get(),
            page_limit: self.page_limit,
            import_limit: self.import_limit.get(),
        }
    }
}
