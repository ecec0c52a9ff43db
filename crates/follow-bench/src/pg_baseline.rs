//! The PostgreSQL baselines, written the way Mastodon does it: a `follows`
//! table with a unique index on (follower, target) and an index on the
//! target, an `account_stats` row per account updated with an atomic upsert
//! in the follow's transaction, `COUNT(*)` where a count is not kept, and
//! `OFFSET` pages. And the raw point lookup a relation check is measured
//! against.

use tokio_postgres::{Client, Error, NoTls, Statement};

/// The hand-rolled schema, in its own namespace.
pub const SCHEMA: &str = "
CREATE SCHEMA IF NOT EXISTS hand;
CREATE TABLE IF NOT EXISTS hand.follows (
    id                bigserial PRIMARY KEY,
    account_id        text   NOT NULL,
    target_account_id text   NOT NULL,
    created_at        bigint NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS follows_pair ON hand.follows (account_id, target_account_id);
CREATE INDEX IF NOT EXISTS follows_target ON hand.follows (target_account_id, id);
CREATE TABLE IF NOT EXISTS hand.account_stats (
    account_id      text   PRIMARY KEY,
    following_count bigint NOT NULL DEFAULT 0,
    followers_count bigint NOT NULL DEFAULT 0
);
";

/// One connection of the hand-rolled service, its statements prepared.
pub struct HandPg {
    client: Client,
    insert: Statement,
    delete: Statement,
    bump: Statement,
    lookup: Statement,
    page: Statement,
    count: Statement,
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
    /// A connection with its statements prepared.
    ///
    /// # Errors
    /// The server refused.
    pub async fn connect(url: &str) -> Result<HandPg, Error> {
        let client = connect(url).await?;
        Ok(HandPg {
            insert: client
                .prepare(
                    "INSERT INTO hand.follows (account_id, target_account_id, created_at)
                     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .await?,
            delete: client
                .prepare(
                    "DELETE FROM hand.follows WHERE account_id = $1 AND target_account_id = $2",
                )
                .await?,
            bump: client
                .prepare(
                    "INSERT INTO hand.account_stats AS s (account_id, following_count, followers_count)
                     VALUES ($1, $2, 0), ($3, 0, $2)
                     ON CONFLICT (account_id) DO UPDATE
                     SET following_count = s.following_count + EXCLUDED.following_count,
                         followers_count = s.followers_count + EXCLUDED.followers_count",
                )
                .await?,
            lookup: client
                .prepare(
                    "SELECT 1 FROM hand.follows WHERE account_id = $1 AND target_account_id = $2",
                )
                .await?,
            page: client
                .prepare(
                    "SELECT account_id, created_at FROM hand.follows WHERE target_account_id = $1
                     ORDER BY id DESC LIMIT $2 OFFSET $3",
                )
                .await?,
            count: client
                .prepare("SELECT count(*) FROM hand.follows WHERE target_account_id = $1")
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

    /// `COUNT(*)` of `target`'s followers.
    ///
    /// # Errors
    /// The server failed.
    pub async fn follower_count(&self, target: &str) -> Result<i64, Error> {
        Ok(self.client.query_one(&self.count, &[&target]).await?.get(0))
    }
}
