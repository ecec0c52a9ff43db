//! Counters that many writers change at once.
//!
//! A write holds the acting account's row exclusively (`FOR UPDATE`) and
//! changes its counters in place. A node it holds only against removal
//! (`FOR KEY SHARE`: the target of a follow) gets its counter changes
//! appended to `follow_node_deltas` instead, one row per transaction and
//! node, keyed by the transaction's id. An update in place would hold the
//! row's lock until the transaction ends, after its commit record is
//! flushed, so every follower of one celebrity would queue through every
//! other's flush; appended rows share no lock, their commits overlap, and
//! the server flushes them together.
//!
//! A node's counts are its row's plus the sums of its deltas: every read of
//! a node joins them ([`pending_sql`]). A write folds a node's deltas into
//! its row ([`FOLD`]: deletes them and adds their sums, in one statement)
//! when it holds the row exclusively and deltas exist, since a change in
//! place must start from the whole count (the row's `CHECK (followers >= 0)`
//! sees the row alone), and when it finds [`FOLD_AT`] of them or a multiple
//! (every time past four times as many), taking the row with `SKIP
//! LOCKED`: a fold never waits, and while one runs the others append. A
//! node's deltas are only deleted by a transaction holding its row, so each
//! is folded exactly once.

/// The number of a node's deltas at which a write that appends to it also
/// folds them: a read of the node sums about this many rows plus one per
/// writer in flight, and at most four times as many while folds fail.
pub(crate) const FOLD_AT: i64 = 32;

/// Joins `follow_nodes n` to the sums of its deltas as `d` (`following`,
/// `followers`, `mutual`, `links`, zero when there are none, and `rows`,
/// their number); `tenant` is the statement's tenant parameter, so that a
/// partitioned or distributed table is pruned to the tenant's part.
pub(crate) fn pending_sql(tenant: &str) -> String {
    format!(
        "CROSS JOIN LATERAL (
             SELECT coalesce(sum(x.following), 0)::bigint AS following,
                    coalesce(sum(x.followers), 0)::bigint AS followers,
                    coalesce(sum(x.mutual), 0)::bigint AS mutual,
                    coalesce(sum(x.links), 0)::bigint AS links,
                    count(*) AS rows
             FROM follow_node_deltas x WHERE x.tenant = {tenant} AND x.id = n.id) AS d"
    )
}

/// Folds the deltas of the nodes `$2` of tenant `$1` that it can lock
/// without waiting (or holds already) into their rows.
pub(crate) const FOLD: &str = "
WITH held AS (
    SELECT id FROM follow_nodes WHERE tenant = $1 AND id = ANY($2::text[])
    ORDER BY id FOR NO KEY UPDATE SKIP LOCKED),
folded AS (
    DELETE FROM follow_node_deltas x USING held
    WHERE x.tenant = $1 AND x.id = held.id
    RETURNING x.id, x.following, x.followers, x.mutual, x.links),
sums AS (
    SELECT id, sum(following)::bigint AS following, sum(followers)::bigint AS followers,
           sum(mutual)::bigint AS mutual, sum(links)::bigint AS links
    FROM folded GROUP BY id)
UPDATE follow_nodes n
SET following = n.following + s.following, followers = n.followers + s.followers,
    mutual = n.mutual + s.mutual, links = n.links + s.links
FROM sums s WHERE n.tenant = $1 AND n.id = s.id";
