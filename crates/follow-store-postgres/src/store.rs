//! The store: a connection pool, how it opens, and the trait methods.

use std::fmt;
use std::future::Future;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, QueueMode, RecyclingMethod, Runtime};
use follow_core::feed::{ConsumerName, ConsumerState, FeedState, PruneStep};
use follow_core::{
    AccountId, CommandResult, Error, Event, EventPosition, FollowStore, Link, LinkEntry, LinkKey,
    LinkQuery, ListEntry, ListQuery, NodeId, NodeRecord, PairFacts, StaleEntry, StaleQuery,
    TenantId, Timestamp, WriteBatch,
};
use tokio_postgres::NoTls;
use tokio_postgres::config::Host;

use crate::conn::Conn;
use crate::error::{OpenError, timed_out};
use crate::options::PostgresOptions;
use crate::positions::EventBase;
use crate::schema::{
    Layout, SCHEMA_VERSION, cursor_secret, event_base, migrate, valid_schema_name,
};
use crate::verify::{RepairReport, VerifyReport};
use crate::{feed, links, reads, verify, write};

/// The follow graph in a PostgreSQL database, shared by any number of
/// processes. Cheap to share behind an `Arc`; every call takes a pooled
/// connection for its duration.
pub struct PostgresStore {
    pool: Pool,
    cursor_secret: [u8; 16],
    event_base: EventBase,
    options: PostgresOptions,
    name: String,
}

impl PostgresStore {
    /// Opens the store at a `postgres://` URL (or `key=value` string) with
    /// default options, creating or migrating its schema.
    ///
    /// # Errors
    /// A bad URL, an unreachable server, a schema newer than this code.
    pub async fn connect(url: &str) -> Result<Self, OpenError> {
        PostgresStore::connect_with(url, PostgresOptions::default()).await
    }

    /// [`PostgresStore::connect`] with options.
    ///
    /// # Errors
    /// As [`PostgresStore::connect`].
    ///
    /// A `schema=NAME` parameter in the URL (as [`PostgresStore`]'s
    /// `Display` shows it) sets [`PostgresOptions::schema`] when the options
    /// leave it unset.
    pub async fn connect_with(url: &str, mut options: PostgresOptions) -> Result<Self, OpenError> {
        let (url, schema) = split_schema(url);
        if options.schema.is_none() {
            options.schema = schema;
        }
        let config: tokio_postgres::Config = url.parse().map_err(OpenError::BadUrl)?;
        PostgresStore::connect_config(config, options).await
    }

    /// Opens the store on a parsed client configuration.
    ///
    /// The schema is checked and migrated on a connection of its own, which
    /// is closed again: the pool starts empty and opens connections on the
    /// runtime of the calls that use them.
    ///
    /// # Errors
    /// As [`PostgresStore::connect`].
    pub async fn connect_config(
        mut config: tokio_postgres::Config,
        options: PostgresOptions,
    ) -> Result<Self, OpenError> {
        let mut startup = String::new();
        // Every statement is prepared once per connection and seeks by the
        // tenant and a key, so one generic plan fits all executions;
        // PostgreSQL would otherwise keep re-planning the array-bound ones,
        // whose custom plans it estimates cheaper (0.9 ms instead of 0.1 ms
        // for a relation check). Not on partitioned tables, where a generic
        // plan opens and locks every partition and only a custom plan
        // prunes to the tenant's. The URL's own options come after, so they
        // can override it.
        if options.layout == Layout::Plain {
            startup.push_str("-c plan_cache_mode=force_generic_plan ");
        }
        startup.push_str(config.get_options().unwrap_or_default());
        if let Some(schema) = &options.schema {
            if !valid_schema_name(schema) {
                return Err(OpenError::BadSchema(schema.clone()));
            }
            startup.push_str(&format!(" -c search_path={schema}"));
        }
        config.options(startup.trim_start());
        config.connect_timeout(options.connect_timeout);
        let name = display_name(&config, options.schema.as_deref());
        let setup = async {
            let (mut client, connection) =
                config
                    .connect(NoTls)
                    .await
                    .map_err(|source| OpenError::Postgres {
                        store: name.clone(),
                        source,
                    })?;
            let driver = tokio::spawn(connection);
            let migrated = migrate(
                &mut client,
                options.schema.as_deref(),
                options.layout,
                options.create_schema,
                SCHEMA_VERSION,
                &name,
            )
            .await;
            let read = async {
                migrated?;
                Ok((
                    cursor_secret(&client, &name).await?,
                    event_base(&client, &name).await?,
                ))
            };
            let read = read.await;
            drop(client);
            let _ = driver.await;
            read
        };
        let (cursor_secret, event_base) = tokio::time::timeout(options.operation_timeout, setup)
            .await
            .map_err(|_| OpenError::Timeout {
                store: name.clone(),
            })??;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        // The most recently returned connection first: a call then runs on
        // a backend that just ran one, not on the one idle longest. Once a
        // burst had opened 16 connections, first-in-first-out sent each
        // relation check to another cold backend (see docs/benchmarks.md).
        let pool = Pool::builder(manager)
            .queue_mode(QueueMode::Lifo)
            .max_size(options.max_connections.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.operation_timeout))
            .create_timeout(Some(options.connect_timeout))
            .recycle_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|error| OpenError::Pool(error.to_string()))?;
        Ok(PostgresStore {
            pool,
            cursor_secret,
            event_base,
            options,
            name,
        })
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &PostgresOptions {
        &self.options
    }

    /// Recomputes every node's counts and every edge's mutual mark from the
    /// edges, and every node's link count from the links, and reports what
    /// disagrees, in one snapshot.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn verify(&self) -> Result<VerifyReport, Error> {
        self.call(on_connection(&self.pool, async |client| {
            verify::verify(client, None).await
        }))
        .await
    }

    /// Rewrites wrong mutual marks, then wrong counts, from the edges and
    /// links, in one transaction.
    ///
    /// # Errors
    /// A storage failure; then nothing changed.
    pub async fn repair(&self) -> Result<RepairReport, Error> {
        self.call(on_connection(&self.pool, async |client| {
            verify::repair(client, None).await
        }))
        .await
    }

    /// [`PostgresStore::verify`] for one tenant's rows.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn verify_tenant(&self, tenant: &TenantId) -> Result<VerifyReport, Error> {
        self.call(on_connection(&self.pool, async |client| {
            verify::verify(client, Some(tenant.as_str())).await
        }))
        .await
    }

    /// [`PostgresStore::repair`] for one tenant's rows.
    ///
    /// # Errors
    /// A storage failure; then nothing changed.
    pub async fn repair_tenant(&self, tenant: &TenantId) -> Result<RepairReport, Error> {
        self.call(on_connection(&self.pool, async |client| {
            verify::repair(client, Some(tenant.as_str())).await
        }))
        .await
    }

    /// Runs one call under the operation timeout.
    async fn call<T>(&self, call: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        tokio::time::timeout(self.options.operation_timeout, call)
            .await
            .unwrap_or_else(|_| Err(timed_out()))
    }
}

/// The URL without its `schema=` parameter, and that parameter's value.
fn split_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|param| match param.strip_prefix("schema=") {
            Some(value) => {
                schema = Some(value.to_owned());
                false
            }
            None => true,
        })
        .collect();
    if rest.is_empty() {
        (base.to_owned(), schema)
    } else {
        (format!("{base}?{}", rest.join("&")), schema)
    }
}

/// `postgres://host:port/database` (no user, no password), plus the schema.
fn display_name(config: &tokio_postgres::Config, schema: Option<&str>) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(Host::Unix(path)) => format!("[{}]", path.display()),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    match schema {
        Some(schema) => format!("postgres://{host}:{port}/{db}?schema={schema}"),
        None => format!("postgres://{host}:{port}/{db}"),
    }
}

impl fmt::Display for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("store", &self.name)
            .field("pool", &self.pool.status())
            .finish_non_exhaustive()
    }
}

/// Runs `read` on a pooled connection, which goes back to the pool only if
/// the read succeeded.
async fn on_connection<'a, T>(
    pool: &Pool,
    read: impl AsyncFnOnce(&deadpool_postgres::ClientWrapper) -> Result<T, Error>,
) -> Result<T, Error> {
    let conn = Conn::take(pool).await?;
    let out = read(conn.client()).await?;
    conn.release();
    Ok(out)
}

#[async_trait]
impl FollowStore for PostgresStore {
    async fn write(&self, batch: WriteBatch) -> Result<Vec<CommandResult>, Error> {
        let deadline = tokio::time::Instant::now() + self.options.operation_timeout;
        self.call(write::write(
            &self.pool,
            &batch,
            &self.options,
            self.event_base,
            deadline,
        ))
        .await
    }

    async fn node(&self, tenant: &TenantId, id: &NodeId) -> Result<Option<NodeRecord>, Error> {
        self.call(on_connection(&self.pool, async |client| {
            reads::node(client, tenant, id).await
        }))
        .await
    }

    async fn pairs(
        &self,
        tenant: &TenantId,
        subject: &NodeId,
        others: &[NodeId],
    ) -> Result<Option<Vec<PairFacts>>, Error> {
        self.call(on_connection(&self.pool, async |client| {
            reads::pairs(client, tenant, subject, others).await
        }))
        .await
    }

    async fn list(&self, query: ListQuery) -> Result<Option<Vec<ListEntry>>, Error> {
        self.call(on_connection(&self.pool, async |client| {
            reads::list(client, &query).await
        }))
        .await
    }

    async fn links_between(
        &self,
        tenant: &TenantId,
        subject: &AccountId,
        others: &[AccountId],
    ) -> Result<Vec<(LinkKey, Link)>, Error> {
        self.call(on_connection(&self.pool, async |client| {
            links::links_between(client, tenant, subject, others).await
        }))
        .await
    }

    async fn links(&self, query: LinkQuery) -> Result<Option<Vec<LinkEntry>>, Error> {
        self.call(on_connection(&self.pool, async |client| {
            links::links(client, &query).await
        }))
        .await
    }

    async fn stale_following(&self, query: StaleQuery) -> Result<Option<Vec<StaleEntry>>, Error> {
        self.call(on_connection(&self.pool, async |client| {
            reads::stale_following(client, &query).await
        }))
        .await
    }

    async fn nodes(
        &self,
        tenant: &TenantId,
        after: Option<&NodeId>,
        limit: usize,
    ) -> Result<Vec<NodeRecord>, Error> {
        self.call(on_connection(&self.pool, async |client| {
            reads::nodes(client, tenant, after, limit).await
        }))
        .await
    }

    async fn events_after(
        &self,
        tenant: &TenantId,
        after: Option<EventPosition>,
        limit: usize,
    ) -> Result<Vec<Event>, Error> {
        self.call(on_connection(&self.pool, async |client| {
            reads::events_after(client, tenant, after, limit, self.event_base).await
        }))
        .await
    }

    fn cursor_secret(&self) -> [u8; 16] {
        self.cursor_secret
    }

    async fn consumer(
        &self,
        tenant: &TenantId,
        name: &ConsumerName,
    ) -> Result<Option<ConsumerState>, Error> {
        self.call(on_connection(&self.pool, async |client| {
            feed::consumer(client, tenant, name).await
        }))
        .await
    }

    async fn consumers(&self, tenant: &TenantId) -> Result<Vec<ConsumerState>, Error> {
        self.call(on_connection(&self.pool, async |client| {
            feed::consumers(client, tenant).await
        }))
        .await
    }

    async fn acknowledge(
        &self,
        tenant: &TenantId,
        name: &ConsumerName,
        position: EventPosition,
        at: Timestamp,
    ) -> Result<ConsumerState, Error> {
        self.call(on_connection(&self.pool, async |client| {
            feed::acknowledge(client, tenant, name, position, at, self.event_base).await
        }))
        .await
    }

    async fn feed_state(&self, tenant: &TenantId) -> Result<FeedState, Error> {
        self.call(on_connection(&self.pool, async |client| {
            feed::feed_state(client, tenant, self.event_base).await
        }))
        .await
    }

    async fn prune_events(&self, step: PruneStep) -> Result<u64, Error> {
        self.call(on_connection(&self.pool, async |client| {
            feed::prune_events(client, &step, self.event_base).await
        }))
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::split_schema;

    #[test]
    fn the_schema_parameter_is_taken_out_of_the_url() {
        assert_eq!(
            split_schema("postgres://h/db?schema=s1"),
            ("postgres://h/db".to_owned(), Some("s1".to_owned()))
        );
        assert_eq!(
            split_schema("postgres://h/db?connect_timeout=3&schema=s1&sslmode=disable"),
            (
                "postgres://h/db?connect_timeout=3&sslmode=disable".to_owned(),
                Some("s1".to_owned())
            )
        );
        assert_eq!(
            split_schema("postgres://h/db"),
            ("postgres://h/db".to_owned(), None)
        );
    }
}
