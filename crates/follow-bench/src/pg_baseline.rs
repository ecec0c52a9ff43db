//! The PostgreSQL baselines, written the way Mastodon does it: a `follows`
//! table with a unique index on (follower, target) and an index on the
//! target, an `account_stats` row per account updated with an atomic upsert
//! in the follow's transaction, `COUNT(*)` where a count is not kept, and
//! `OFFSET` pages. And the raw point lookup a relation check is measured
//! against, and the raw prepared-insert loop an import is measured against.

use follow_store_postgres::testing::TestServer;
use tokio_postgres::{Client, Error, NoTls, Statement};

use crate::graph::{Graph, SINCE_BASE};

/// The server a PostgreSQL measurement runs on: the one
/// `FOLLOW_TEST_POSTGRES_URL` names, or else a throwaway durable cluster,
/// stopped when this is dropped.
pub struct BenchServer {
    url: String,
    _cluster: Option<TestServer>,
}

impl BenchServer {
    /// The named server, or a new cluster.
    ///
    /// # Errors
    /// The cluster could not be started (no PostgreSQL binaries, or they
    /// failed), as text.
    pub fn start() -> Result<BenchServer, String> {
        match std::env::var("FOLLOW_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Ok(BenchServer {
                url,
                _cluster: None,
            }),
            _ => {
                let cluster = TestServer::start_durable()?;
                Ok(BenchServer {
                    url: cluster.url().to_owned(),
                    _cluster: Some(cluster),
                })
            }
        }
    }

    /// Its connection URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// The hand-rolled schema in the PostgreSQL namespace `schema` (a trusted
/// literal: lowercase letters and `_`).
pub fn schema_sql(schema: &str) -> String {
    format!(
        "
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {schema}.accounts (
    id         text   PRIMARY KEY,
    created_at bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {schema}.follows (
    id                bigserial PRIMARY KEY,
    account_id        text    NOT NULL,
    target_account_id text    NOT NULL,
    created_at        bigint  NOT NULL,
    muted             boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX IF NOT EXISTS follows_pair ON {schema}.follows (account_id, target_account_id);
CREATE INDEX IF NOT EXISTS follows_target ON {schema}.follows (target_account_id, id);
CREATE TABLE IF NOT EXISTS {schema}.account_stats (
    account_id      text   PRIMARY KEY,
    following_count bigint NOT NULL DEFAULT 0,
    followers_count bigint NOT NULL DEFAULT 0,
    last_active_at  bigint
);
"
    )
}

/// The plain edges table of the raw insert loop: the SQLite baseline's
/// `edges` table, keyed by the pair with a reverse index on the target.
pub fn raw_edges_sql(schema: &str) -> String {
    format!(
        "
DROP SCHEMA IF EXISTS {schema} CASCADE;
CREATE SCHEMA {schema};
CREATE TABLE {schema}.edges (
    follower text   NOT NULL,
    target   text   NOT NULL,
    since    bigint NOT NULL,
    PRIMARY KEY (follower, target)
);
CREATE INDEX edges_by_target ON {schema}.edges (target, since);
"
    )
}

/// The limit: every edge of `graph` inserted into `{schema}.edges` (see
/// [`raw_edges_sql`]) by one prepared statement in one transaction, one row
/// per execution, each awaited: the insert loop a service writes by hand.
/// Answers the rows inserted.
///
/// # Errors
/// The server failed.
pub async fn raw_insert_loop(
    client: &mut Client,
    schema: &str,
    graph: &Graph,
) -> Result<u64, Error> {
    let tx = client.transaction().await?;
    let insert = tx
        .prepare(&format!(
            "INSERT INTO {schema}.edges (follower, target, since) VALUES ($1, $2, $3)"
        ))
        .await?;
    let mut inserted = 0;
    for edge in &graph.edges {
        let (follower, target) = (graph.name(edge.follower), graph.name(edge.target));
        inserted += tx
            .execute(&insert, &[&follower, &target, &edge.since])
            .await?;
    }
    tx.commit().await?;
    Ok(inserted)
}

/// Loads `graph` into the hand-rolled schema `schema` (accounts, follows,
/// then the stats computed from them): fixture building, not a measurement.
///
/// # Errors
/// The server failed.
pub async fn load(client: &Client, schema: &str, graph: &Graph) -> Result<(), Error> {
    const CHUNK: usize = 50_000;
    client.batch_execute(&schema_sql(schema)).await?;
    let ids: Vec<String> = (0..graph.node_count()).map(|n| graph.name(n)).collect();
    let accounts = client
        .prepare(&format!(
            "INSERT INTO {schema}.accounts (id, created_at) SELECT id, {SINCE_BASE} FROM unnest($1::text[]) id"
        ))
        .await?;
    for chunk in ids.chunks(CHUNK) {
        client.execute(&accounts, &[&chunk]).await?;
    }
    let follows = client
        .prepare(&format!(
            "INSERT INTO {schema}.follows (account_id, target_account_id, created_at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])"
        ))
        .await?;
    for chunk in graph.edges.chunks(CHUNK) {
        let followers: Vec<&str> = chunk
            .iter()
            .map(|e| ids[e.follower as usize].as_str())
            .collect();
        let targets: Vec<&str> = chunk
            .iter()
            .map(|e| ids[e.target as usize].as_str())
            .collect();
        let since: Vec<i64> = chunk.iter().map(|e| e.since).collect();
        client
            .execute(&follows, &[&followers, &targets, &since])
            .await?;
    }
    client
        .batch_execute(&format!(
            "INSERT INTO {schema}.account_stats (account_id, following_count, followers_count)
             SELECT a.id,
                    (SELECT count(*) FROM {schema}.follows f WHERE f.account_id = a.id),
                    (SELECT count(*) FROM {schema}.follows f WHERE f.target_account_id = a.id)
             FROM {schema}.accounts a;
             ANALYZE {schema}.accounts; ANALYZE {schema}.follows; ANALYZE {schema}.account_stats;"
        ))
        .await
}

/// One connection of the hand-rolled service, its statements prepared.
pub struct HandPg {
    client: Client,
    insert: Statement,
    delete: Statement,
    bump: Statement,
    lookup: Statement,
    lookup_many: Statement,
    page: Statement,
    following_page: Statement,
    count: Statement,
    mute: Statement,
    node: Statement,
    stats: Statement,
    touch: Statement,
    register: Statement,
    remove_following: Statement,
    remove_followers: Statement,
    remove_account: Statement,
}

/// Connects to `url`, driving the connection on the current runtime.
///
/// # Errors
/// The server refused.
pub async fn connect(url: &str) -> Result<Client, Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

impl HandPg {
    /// A connection to the schema `hand`, its statements prepared.
    ///
    /// # Errors
    /// The server refused.
    pub async fn connect(url: &str) -> Result<HandPg, Error> {
        HandPg::connect_to(url, "hand").await
    }

    /// A connection to the hand-rolled schema `schema`, its statements
    /// prepared.
    ///
    /// # Errors
    /// The server refused.
    pub async fn connect_to(url: &str, schema: &str) -> Result<HandPg, Error> {
        let client = connect(url).await?;
        let s = schema;
        let prepare = |sql: String| {
            let client = &client;
            async move { client.prepare(&sql).await }
        };
        Ok(HandPg {
            insert: prepare(format!(
                "INSERT INTO {s}.follows (account_id, target_account_id, created_at)
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
            ))
            .await?,
            delete: prepare(format!(
                "DELETE FROM {s}.follows WHERE account_id = $1 AND target_account_id = $2"
            ))
            .await?,
            bump: prepare(format!(
                "INSERT INTO {s}.account_stats AS s (account_id, following_count, followers_count)
                 VALUES ($1, $2, 0), ($3, 0, $2)
                 ON CONFLICT (account_id) DO UPDATE
                 SET following_count = s.following_count + EXCLUDED.following_count,
                     followers_count = s.followers_count + EXCLUDED.followers_count"
            ))
            .await?,
            lookup: prepare(format!(
                "SELECT 1 FROM {s}.follows WHERE account_id = $1 AND target_account_id = $2"
            ))
            .await?,
            lookup_many: prepare(format!(
                "SELECT target_account_id FROM {s}.follows
                 WHERE account_id = $1 AND target_account_id = ANY($2::text[])"
            ))
            .await?,
            page: prepare(format!(
                "SELECT account_id, created_at FROM {s}.follows WHERE target_account_id = $1
                 ORDER BY id DESC LIMIT $2 OFFSET $3"
            ))
            .await?,
            following_page: prepare(format!(
                "SELECT target_account_id, created_at FROM {s}.follows WHERE account_id = $1
                 ORDER BY id DESC LIMIT $2 OFFSET $3"
            ))
            .await?,
            count: prepare(format!(
                "SELECT count(*) FROM {s}.follows WHERE target_account_id = $1"
            ))
            .await?,
            mute: prepare(format!(
                "UPDATE {s}.follows SET muted = $3 WHERE account_id = $1 AND target_account_id = $2"
            ))
            .await?,
            node: prepare(format!(
                "SELECT a.created_at, s.last_active_at, s.following_count, s.followers_count
                 FROM {s}.accounts a LEFT JOIN {s}.account_stats s ON s.account_id = a.id
                 WHERE a.id = $1"
            ))
            .await?,
            stats: prepare(format!(
                "SELECT following_count, followers_count FROM {s}.account_stats WHERE account_id = $1"
            ))
            .await?,
            touch: prepare(format!(
                "INSERT INTO {s}.account_stats AS s (account_id, last_active_at) VALUES ($1, $2)
                 ON CONFLICT (account_id) DO UPDATE
                 SET last_active_at = greatest(s.last_active_at, EXCLUDED.last_active_at)"
            ))
            .await?,
            register: prepare(format!(
                "INSERT INTO {s}.accounts (id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING"
            ))
            .await?,
            remove_following: prepare(format!(
                "WITH gone AS (DELETE FROM {s}.follows WHERE account_id = $1
                               RETURNING target_account_id AS id)
                 UPDATE {s}.account_stats s SET followers_count = s.followers_count - g.n
                 FROM (SELECT id, count(*) AS n FROM gone GROUP BY id) g
                 WHERE s.account_id = g.id"
            ))
            .await?,
            remove_followers: prepare(format!(
                "WITH gone AS (DELETE FROM {s}.follows WHERE target_account_id = $1
                               RETURNING account_id AS id)
                 UPDATE {s}.account_stats s SET following_count = s.following_count - g.n
                 FROM (SELECT id, count(*) AS n FROM gone GROUP BY id) g
                 WHERE s.account_id = g.id"
            ))
            .await?,
            remove_account: prepare(format!(
                "WITH stats AS (DELETE FROM {s}.account_stats WHERE account_id = $1)
                 DELETE FROM {s}.accounts WHERE id = $1"
            ))
            .await?,
            client,
        })
    }

    /// Follows in one transaction: the row, then both stats rows by delta.
    ///
    /// # Errors
    /// The server failed.
    pub async fn follow(&mut self, follower: &str, target: &str, at: i64) -> Result<bool, Error> {
        let tx = self.client.transaction().await?;
        let added = tx.execute(&self.insert, &[&follower, &target, &at]).await? == 1;
        if added {
            tx.execute(&self.bump, &[&follower, &1i64, &target]).await?;
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Unfollows in one transaction, the stats by delta.
    ///
    /// # Errors
    /// The server failed.
    pub async fn unfollow(&mut self, follower: &str, target: &str) -> Result<bool, Error> {
        let tx = self.client.transaction().await?;
        let removed = tx.execute(&self.delete, &[&follower, &target]).await? == 1;
        if removed {
            tx.execute(&self.bump, &[&follower, &-1i64, &target])
                .await?;
        }
        tx.commit().await?;
        Ok(removed)
    }

    /// Sets the mute flag of an existing follow (one statement, its own
    /// transaction); false if there is no such follow.
    ///
    /// # Errors
    /// The server failed.
    pub async fn set_mute(&self, follower: &str, target: &str, muted: bool) -> Result<bool, Error> {
        Ok(self
            .client
            .execute(&self.mute, &[&follower, &target, &muted])
            .await?
            == 1)
    }

    /// Whether `follower` follows `target`: the raw point lookup.
    ///
    /// # Errors
    /// The server failed.
    pub async fn is_following(&self, follower: &str, target: &str) -> Result<bool, Error> {
        Ok(self
            .client
            .query_opt(&self.lookup, &[&follower, &target])
            .await?
            .is_some())
    }

    /// Which of `targets` `follower` follows, in one query (Mastodon's
    /// relationships lookup).
    ///
    /// # Errors
    /// The server failed.
    pub async fn check_many(&self, follower: &str, targets: &[&str]) -> Result<Vec<bool>, Error> {
        let rows = self
            .client
            .query(&self.lookup_many, &[&follower, &targets])
            .await?;
        let followed: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        Ok(targets
            .iter()
            .map(|t| followed.iter().any(|f| f == t))
            .collect())
    }

    /// A page of `target`'s followers by `OFFSET`.
    ///
    /// # Errors
    /// The server failed.
    pub async fn followers_page(
        &self,
        target: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<(String, i64)>, Error> {
        let rows = self
            .client
            .query(&self.page, &[&target, &limit, &offset])
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// A page of what `follower` follows by `OFFSET`.
    ///
    /// # Errors
    /// The server failed.
    pub async fn following_page(
        &self,
        follower: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<(String, i64)>, Error> {
        let rows = self
            .client
            .query(&self.following_page, &[&follower, &limit, &offset])
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// `COUNT(*)` of `target`'s followers.
    ///
    /// # Errors
    /// The server failed.
    pub async fn follower_count(&self, target: &str) -> Result<i64, Error> {
        Ok(self.client.query_one(&self.count, &[&target]).await?.get(0))
    }

    /// The kept counts of an account: (following, followers), if it has a
    /// stats row.
    ///
    /// # Errors
    /// The server failed.
    pub async fn stats(&self, id: &str) -> Result<Option<(i64, i64)>, Error> {
        Ok(self
            .client
            .query_opt(&self.stats, &[&id])
            .await?
            .map(|r| (r.get(0), r.get(1))))
    }

    /// An account with its stats: whether it exists.
    ///
    /// # Errors
    /// The server failed.
    pub async fn node(&self, id: &str) -> Result<bool, Error> {
        Ok(self.client.query_opt(&self.node, &[&id]).await?.is_some())
    }

    /// Records activity of an account (an upsert of its stats row).
    ///
    /// # Errors
    /// The server failed.
    pub async fn touch(&self, id: &str, at: i64) -> Result<(), Error> {
        self.client
            .execute(&self.touch, &[&id, &at])
            .await
            .map(drop)
    }

    /// Registers an account; false if it existed.
    ///
    /// # Errors
    /// The server failed.
    pub async fn register(&self, id: &str, at: i64) -> Result<bool, Error> {
        Ok(self.client.execute(&self.register, &[&id, &at]).await? == 1)
    }

    /// Removes an account, its follows both ways and its stats, adjusting
    /// the other ends' counts, in one transaction; false if it did not exist.
    ///
    /// # Errors
    /// The server failed.
    pub async fn remove(&mut self, id: &str) -> Result<bool, Error> {
        let tx = self.client.transaction().await?;
        tx.execute(&self.remove_following, &[&id]).await?;
        tx.execute(&self.remove_followers, &[&id]).await?;
        let removed = tx.execute(&self.remove_account, &[&id]).await? == 1;
        tx.commit().await?;
        Ok(removed)
    }
}
