//! The schema and its versioned migrations, recorded in `follow_schema`.
//!
//! Every table of the graph leads its primary key and every index with the
//! tenant, and can be hash-partitioned by tenant (declarative partitioning
//! here, distribution on Citus), so one tenant's rows live together.

use tokio_postgres::Client;

use crate::error::OpenError;
use crate::positions::EventBase;

/// The newest schema version this code knows.
pub const SCHEMA_VERSION: i32 = 6;

/// Serialises concurrent migrations of one database (an advisory lock key:
/// "FOLW" as a number).
const MIGRATION_LOCK: i64 = 0x464F_4C57;

/// How the tables are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Plain tables.
    #[default]
    Plain,
    /// Every per-tenant table hash-partitioned by tenant into this many
    /// partitions: the layout Citus distributes, checkable on a plain server.
    HashPartitioned(u16),
}

impl Layout {
    fn partition_clause(self) -> &'static str {
        match self {
            Layout::Plain => "",
            Layout::HashPartitioned(_) => " PARTITION BY HASH (tenant)",
        }
    }

    fn partitions(self, table: &str) -> String {
        match self {
            Layout::Plain => String::new(),
            Layout::HashPartitioned(count) => (0..count)
                .map(|i| {
                    format!(
                        "CREATE TABLE {table}_p{i} PARTITION OF {table} \
                         FOR VALUES WITH (MODULUS {count}, REMAINDER {i});\n"
                    )
                })
                .collect(),
        }
    }
}

/// The step from version 0 to 1. Ids compare in byte order (`COLLATE "C"`),
/// as the trait's orders require; times are microseconds since the epoch.
fn version_1(layout: Layout) -> String {
    let part = layout.partition_clause();
    format!(
        r#"
CREATE TABLE follow_nodes (
    tenant        text COLLATE "C" NOT NULL,
    id            text COLLATE "C" NOT NULL,
    registered_at bigint NOT NULL,
    last_active   bigint,
    following     bigint NOT NULL DEFAULT 0 CHECK (following >= 0),
    followers     bigint NOT NULL DEFAULT 0 CHECK (followers >= 0),
    mutual        bigint NOT NULL DEFAULT 0 CHECK (mutual >= 0),
    PRIMARY KEY (tenant, id)
){part};
{nodes_parts}
CREATE TABLE follow_edges (
    tenant       text COLLATE "C" NOT NULL,
    follower     text COLLATE "C" NOT NULL,
    target       text COLLATE "C" NOT NULL,
    since        bigint NOT NULL,
    muted        boolean NOT NULL,
    mutual_since bigint,
    PRIMARY KEY (tenant, follower, target)
){part};
{edges_parts}
CREATE INDEX follow_edges_followers ON follow_edges (tenant, target, since DESC, follower);
CREATE INDEX follow_edges_following ON follow_edges (tenant, follower, since DESC, target);
CREATE INDEX follow_edges_mutuals ON follow_edges (tenant, follower, mutual_since DESC, target)
    WHERE mutual_since IS NOT NULL;

CREATE TABLE follow_events (
    tenant   text COLLATE "C" NOT NULL,
    position bigint NOT NULL,
    kind     text NOT NULL,
    follower text COLLATE "C" NOT NULL,
    target   text COLLATE "C" NOT NULL,
    at       bigint NOT NULL,
    PRIMARY KEY (tenant, position)
){part};
{events_parts}
-- The event clock of versions 1 to 4 (version 5 replaces it with
-- follow_event_base).
CREATE TABLE follow_event_clock (
    id   smallint PRIMARY KEY CHECK (id = 1),
    last bigint NOT NULL
);
INSERT INTO follow_event_clock (id, last) VALUES (1, 0);
"#,
        nodes_parts = layout.partitions("follow_nodes"),
        edges_parts = layout.partitions("follow_edges"),
        events_parts = layout.partitions("follow_events"),
    )
}

/// The step from version 1 to 2: the key the facade signs this store's
/// cursors with, random, made once with the data (16 bytes of a version-4
/// UUID from the server's generator: 122 random bits).
const VERSION_2: &str = "
CREATE TABLE follow_cursor_secret (
    id     smallint PRIMARY KEY CHECK (id = 1),
    secret bytea NOT NULL CHECK (length(secret) = 16)
);
INSERT INTO follow_cursor_secret (id, secret) VALUES (1, uuid_send(gen_random_uuid()));
";

/// The step from version 2 to 3: the change feed's named consumers and
/// what retention removed, per tenant.
fn version_3(layout: Layout) -> String {
    let part = layout.partition_clause();
    format!(
        r#"
CREATE TABLE follow_consumers (
    tenant     text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    position   bigint NOT NULL CHECK (position >= 0),
    updated_at bigint NOT NULL,
    PRIMARY KEY (tenant, name)
){part};
{consumers_parts}
CREATE TABLE follow_pruned (
    tenant  text COLLATE "C" NOT NULL,
    through bigint NOT NULL,
    last_at bigint NOT NULL,
    events  bigint NOT NULL,
    PRIMARY KEY (tenant)
){part};
{pruned_parts}
"#,
        consumers_parts = layout.partitions("follow_consumers"),
        pruned_parts = layout.partitions("follow_pruned"),
    )
}

/// The step from version 3 to 4: links (blocks, account mutes, follow
/// requests), a node's locked flag and link count, a follow's options.
///
/// In place, keeping every row: the new node columns carry constant
/// defaults (no table rewrite; the `CHECK` scans the nodes once), `options`
/// is NULL for the defaults, which every existing follow has. The links
/// table needs no incoming point index: a lookup with both ends known is a
/// primary-key probe either way round, and the two list indexes serve the
/// pages of each direction.
fn version_4(layout: Layout) -> String {
    let part = layout.partition_clause();
    format!(
        r#"
ALTER TABLE follow_nodes
    ADD COLUMN locked boolean NOT NULL DEFAULT false,
    ADD COLUMN links  bigint NOT NULL DEFAULT 0 CHECK (links >= 0);
ALTER TABLE follow_edges ADD COLUMN options text;

CREATE TABLE follow_links (
    tenant        text COLLATE "C" NOT NULL,
    kind          text COLLATE "C" NOT NULL,
    from_id       text COLLATE "C" NOT NULL,
    to_id         text COLLATE "C" NOT NULL,
    since         bigint NOT NULL,
    notifications boolean NOT NULL,
    expires_at    bigint,
    options       text,
    PRIMARY KEY (tenant, kind, from_id, to_id)
){part};
{links_parts}
CREATE INDEX follow_links_outgoing ON follow_links (tenant, kind, from_id, since DESC, to_id);
CREATE INDEX follow_links_incoming ON follow_links (tenant, kind, to_id, since DESC, from_id);
"#,
        links_parts = layout.partitions("follow_links"),
    )
}

/// The step from version 4 to 5: event positions from the writing
/// transaction's id ([`crate::positions`]) instead of a clock row every
/// writer locked through its commit.
///
/// The base is one above the clock's last position (or any position stored,
/// should the clock disagree), so every new position is above every
/// position handed out before; the clock goes, so a process
/// of an older version fails its writes instead of numbering events the
/// old way beside the new.
const VERSION_5: &str = "
CREATE TABLE follow_event_base (
    id   smallint PRIMARY KEY CHECK (id = 1),
    base bigint NOT NULL CHECK (base >= 1)
);
INSERT INTO follow_event_base (id, base)
SELECT 1, greatest((SELECT max(last) FROM follow_event_clock),
                   (SELECT max(position) FROM follow_events),
                   (SELECT max(position) FROM follow_consumers),
                   (SELECT max(through) FROM follow_pruned),
                   0) + 1;
DROP TABLE follow_event_clock;
";

/// The step from version 5 to 6: counter changes of a node a writer does
/// not hold exclusively are appended as rows, one per transaction and node,
/// and folded into the node row now and then ([`crate::counters`]), so
/// that the writers of one popular target do not queue on its row lock
/// through each other's commit flush.
fn version_6(layout: Layout) -> String {
    let part = layout.partition_clause();
    format!(
        r#"
CREATE TABLE follow_node_deltas (
    tenant    text COLLATE "C" NOT NULL,
    id        text COLLATE "C" NOT NULL,
    xact      bigint NOT NULL,
    following bigint NOT NULL,
    followers bigint NOT NULL,
    mutual    bigint NOT NULL,
    links     bigint NOT NULL,
    PRIMARY KEY (tenant, id, xact)
){part};
{deltas_parts}
"#,
        deltas_parts = layout.partitions("follow_node_deltas"),
    )
}

/// Migration `i` takes the schema from version `i` to `i + 1`.
fn migration(version: i32, layout: Layout) -> Option<String> {
    match version {
        0 => Some(version_1(layout)),
        1 => Some(VERSION_2.to_owned()),
        2 => Some(version_3(layout)),
        3 => Some(version_4(layout)),
        4 => Some(VERSION_5.to_owned()),
        5 => Some(version_6(layout)),
        _ => None,
    }
}

/// The layout of an existing schema's tables (the number of partitions of
/// `follow_nodes`), so a migration lays out new tables like the old ones
/// whatever the opening store's options say.
async fn existing_layout(
    tx: &tokio_postgres::Transaction<'_>,
) -> Result<Layout, tokio_postgres::Error> {
    let row = tx
        .query_one(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'follow_nodes'::regclass",
            &[],
        )
        .await?;
    let partitions = u16::try_from(row.try_get::<_, i64>(0)?).unwrap_or(u16::MAX);
    Ok(match partitions {
        0 => Layout::Plain,
        count => Layout::HashPartitioned(count),
    })
}

/// Reads the cursor secret of a migrated schema.
pub(crate) async fn cursor_secret(client: &Client, store: &str) -> Result<[u8; 16], OpenError> {
    let row = client
        .query_one("SELECT secret FROM follow_cursor_secret WHERE id = 1", &[])
        .await
        .map_err(|source| OpenError::Postgres {
            store: store.to_owned(),
            source,
        })?;
    let secret: Vec<u8> = row.get(0);
    secret.try_into().map_err(|_| OpenError::BadSecret {
        store: store.to_owned(),
    })
}

/// Reads the event base of a migrated schema ([`crate::positions`]).
pub(crate) async fn event_base(client: &Client, store: &str) -> Result<EventBase, OpenError> {
    let row = client
        .query_one("SELECT base FROM follow_event_base WHERE id = 1", &[])
        .await
        .map_err(|source| OpenError::Postgres {
            store: store.to_owned(),
            source,
        })?;
    Ok(EventBase(row.get(0)))
}

/// Brings the connection's schema (its `search_path`) to `target` (at most
/// [`SCHEMA_VERSION`]) in one transaction, creating `schema` first if given;
/// without `create`, a database that holds no follow graph is refused.
///
/// # Errors
/// [`OpenError::NewerSchema`] for a schema this code does not know; the
/// database is then left untouched.
pub(crate) async fn migrate(
    client: &mut Client,
    schema: Option<&str>,
    layout: Layout,
    create: bool,
    target: i32,
    store: &str,
) -> Result<i32, OpenError> {
    let pg = |source| OpenError::Postgres {
        store: store.to_owned(),
        source,
    };
    let tx = client.transaction().await.map_err(pg)?;
    if !create {
        let present: bool = tx
            .query_one("SELECT to_regclass('follow_schema') IS NOT NULL", &[])
            .await
            .map_err(pg)?
            .get(0);
        if !present {
            return Err(OpenError::NoSchema {
                store: store.to_owned(),
            });
        }
    }
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg)?;
    if let Some(schema) = schema {
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await
            .map_err(pg)?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS follow_schema (
             version    integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await
    .map_err(pg)?;
    let row = tx
        .query_one("SELECT coalesce(max(version), 0) FROM follow_schema", &[])
        .await
        .map_err(pg)?;
    let mut version: i32 = row.get(0);
    if version > SCHEMA_VERSION {
        return Err(OpenError::NewerSchema {
            store: store.to_owned(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    let layout = if version > 0 {
        existing_layout(&tx).await.map_err(pg)?
    } else {
        layout
    };
    while version < target
        && let Some(step) = migration(version, layout)
    {
        tx.batch_execute(&step).await.map_err(pg)?;
        version += 1;
        tx.execute(
            "INSERT INTO follow_schema (version) VALUES ($1)",
            &[&version],
        )
        .await
        .map_err(pg)?;
    }
    if version >= 5 {
        keep_positions_rising(&tx).await.map_err(pg)?;
    }
    tx.commit().await.map_err(pg)?;
    Ok(version)
}

/// Raises the event base when a position stored (an event's, a consumer's,
/// a pruned range's) is not below every position a new transaction could
/// take: the data was copied to another server (a dump and restore, a
/// logical replica), whose transaction ids started again from small
/// numbers. Without this, new events would land below positions consumers
/// have read. On the server that wrote them it never fires: every stored
/// position is below `base + (next transaction id) · 2^20`.
///
/// The stored highest position is found per tenant (a skip scan over the
/// events' key), so an open costs one index probe per tenant.
async fn keep_positions_rising(
    tx: &tokio_postgres::Transaction<'_>,
) -> Result<(), tokio_postgres::Error> {
    let row = tx
        .query_one(
            &format!(
                "WITH RECURSIVE tenants AS (
                     (SELECT tenant FROM follow_events ORDER BY tenant LIMIT 1)
                     UNION ALL
                     SELECT (SELECT e.tenant FROM follow_events e WHERE e.tenant > t.tenant
                             ORDER BY e.tenant LIMIT 1)
                     FROM tenants t WHERE t.tenant IS NOT NULL)
                 SELECT greatest(
                            (SELECT max((SELECT max(e.position) FROM follow_events e
                                         WHERE e.tenant = t.tenant))
                             FROM tenants t WHERE t.tenant IS NOT NULL),
                            (SELECT max(position) FROM follow_consumers),
                            (SELECT max(through) FROM follow_pruned),
                            0),
                        {}
                 FROM follow_event_base WHERE id = 1",
                crate::positions::position_sql("base", "1")
            ),
            &[],
        )
        .await?;
    let (highest, floor): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    if highest >= floor {
        tx.execute(
            "UPDATE follow_event_base SET base = base + $1 WHERE id = 1",
            &[&(highest - floor + 1)],
        )
        .await?;
    }
    Ok(())
}

/// Whether `name` is a plain lowercase identifier, safe to splice into SQL.
pub(crate) fn valid_schema_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && name.len() <= 63
}
