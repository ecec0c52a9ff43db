//! The change feed's tables: consumers and what retention removed. An
//! acknowledgement and a prune step are each one short transaction on a
//! pooled connection; nothing here decides (the rules are in
//! `follow_core::feed`).

use deadpool_postgres::ClientWrapper;
use follow_core::feed::{self, ConsumerName, ConsumerState, FeedState, PruneStep, PrunedRange};
use follow_core::{Error, EventPosition, TenantId, Timestamp};

use crate::codec;
use crate::error::map_pg;
use crate::positions::{EventBase, horizon_sql};

fn consumer_row(row: &tokio_postgres::Row) -> Result<ConsumerState, Error> {
    let name: String = row.try_get(0).map_err(map_pg)?;
    Ok(ConsumerState {
        name: ConsumerName::new(name)
            .map_err(|e| Error::internal("stored consumer name is invalid").with_source(e))?,
        position: EventPosition(codec::STORED.count(row.try_get(1).map_err(map_pg)?)?),
        updated_at: codec::STORED.timestamp(row.try_get(2).map_err(map_pg)?)?,
    })
}

/// One consumer's state.
pub(crate) async fn consumer(
    client: &ClientWrapper,
    tenant: &TenantId,
    name: &ConsumerName,
) -> Result<Option<ConsumerState>, Error> {
    let stmt = client
        .prepare_cached(
            "SELECT name, position, updated_at FROM follow_consumers
             WHERE tenant = $1 AND name = $2",
        )
        .await
        .map_err(map_pg)?;
    let row = client
        .query_opt(&stmt, &[&tenant.as_str(), &name.as_str()])
        .await
        .map_err(map_pg)?;
    row.as_ref().map(consumer_row).transpose()
}

/// Every consumer of a tenant, by name.
pub(crate) async fn consumers(
    client: &ClientWrapper,
    tenant: &TenantId,
) -> Result<Vec<ConsumerState>, Error> {
    let stmt = client
        .prepare_cached(
            "SELECT name, position, updated_at FROM follow_consumers
             WHERE tenant = $1 ORDER BY name",
        )
        .await
        .map_err(map_pg)?;
    let rows = client
        .query(&stmt, &[&tenant.as_str()])
        .await
        .map_err(map_pg)?;
    rows.iter().map(consumer_row).collect()
}

/// The tenant's last position a reader can see (pruned events count): every
/// event still to commit lands above it ([`crate::positions`]).
async fn last_position(
    client: &ClientWrapper,
    tenant: &TenantId,
    base: EventBase,
) -> Result<EventPosition, Error> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT greatest(
                 (SELECT max(position) FROM follow_events
                  WHERE tenant = $1 AND position < {}),
                 (SELECT through FROM follow_pruned WHERE tenant = $1),
                 0)",
            horizon_sql("$2")
        ))
        .await
        .map_err(map_pg)?;
    let row = client
        .query_one(&stmt, &[&tenant.as_str(), &base.0])
        .await
        .map_err(map_pg)?;
    Ok(EventPosition(
        codec::STORED.count(row.try_get(0).map_err(map_pg)?)?,
    ))
}

/// The bounds of a tenant's feed.
pub(crate) async fn feed_state(
    client: &ClientWrapper,
    tenant: &TenantId,
    base: EventBase,
) -> Result<FeedState, Error> {
    let stmt = client
        .prepare_cached("SELECT through, last_at, events FROM follow_pruned WHERE tenant = $1")
        .await
        .map_err(map_pg)?;
    let row = client
        .query_opt(&stmt, &[&tenant.as_str()])
        .await
        .map_err(map_pg)?;
    let pruned = row
        .map(|row| -> Result<PrunedRange, Error> {
            Ok(PrunedRange {
                through: EventPosition(codec::STORED.count(row.try_get(0).map_err(map_pg)?)?),
                last_at: codec::STORED.timestamp(row.try_get(1).map_err(map_pg)?)?,
                events: codec::STORED.count(row.try_get(2).map_err(map_pg)?)?,
            })
        })
        .transpose()?;
    Ok(FeedState {
        last_position: last_position(client, tenant, base).await?,
        pruned,
    })
}

/// Runs `body` in one transaction; on an error the caller drops the
/// connection (it is not returned to the pool), which rolls it back.
async fn in_transaction<T>(
    client: &ClientWrapper,
    body: impl AsyncFnOnce(&ClientWrapper) -> Result<T, Error>,
) -> Result<T, Error> {
    client.batch_execute("BEGIN").await.map_err(map_pg)?;
    let out = body(client).await?;
    client.batch_execute("COMMIT").await.map_err(map_pg)?;
    Ok(out)
}

/// Moves a consumer forward to `position` (never back), atomically.
pub(crate) async fn acknowledge(
    client: &ClientWrapper,
    tenant: &TenantId,
    name: &ConsumerName,
    position: EventPosition,
    at: Timestamp,
    base: EventBase,
) -> Result<ConsumerState, Error> {
    in_transaction(client, async |client| {
        feed::check_acknowledgeable(position, last_position(client, tenant, base).await?)?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO follow_consumers (tenant, name, position, updated_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant, name) DO UPDATE
                 SET position = excluded.position, updated_at = excluded.updated_at
                 WHERE excluded.position > follow_consumers.position",
            )
            .await
            .map_err(map_pg)?;
        client
            .execute(
                &stmt,
                &[
                    &tenant.as_str(),
                    &name.as_str(),
                    &codec::STORED.signed(position.0)?,
                    &at.as_unix_micros(),
                ],
            )
            .await
            .map_err(map_pg)?;
        consumer(client, tenant, name)
            .await?
            .ok_or_else(|| Error::internal("the acknowledged consumer is missing"))
    })
    .await
}

/// Removes the tenant's oldest events, at most `step.limit`, none above
/// `step.through` nor at or after `step.before`, and none a reader cannot
/// see yet (a gap below them may still fill); answers how many.
pub(crate) async fn prune_events(
    client: &ClientWrapper,
    step: &PruneStep,
    base: EventBase,
) -> Result<u64, Error> {
    in_transaction(client, async |client| {
        let tenant = step.tenant.as_str();
        let oldest = client
            .prepare_cached(&format!(
                "SELECT position, at FROM follow_events WHERE tenant = $1 AND position < {}
                 ORDER BY position ASC LIMIT $2",
                horizon_sql("$3")
            ))
            .await
            .map_err(map_pg)?;
        let rows = client
            .query(&oldest, &[&tenant, &codec::limit(step.limit), &base.0])
            .await
            .map_err(map_pg)?;
        let mut removed = 0u64;
        let mut newest = None;
        for row in &rows {
            let position: i64 = row.try_get(0).map_err(map_pg)?;
            let at: i64 = row.try_get(1).map_err(map_pg)?;
            if codec::STORED.count(position)? > step.through.0 || at >= step.before.as_unix_micros()
            {
                break;
            }
            removed += 1;
            newest = Some((position, at));
        }
        let Some((through, last_at)) = newest else {
            return Ok(0);
        };
        let delete = client
            .prepare_cached("DELETE FROM follow_events WHERE tenant = $1 AND position <= $2")
            .await
            .map_err(map_pg)?;
        client
            .execute(&delete, &[&tenant, &through])
            .await
            .map_err(map_pg)?;
        let record = client
            .prepare_cached(
                "INSERT INTO follow_pruned (tenant, through, last_at, events)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant) DO UPDATE
                 SET through = excluded.through, last_at = excluded.last_at,
                     events = follow_pruned.events + excluded.events",
            )
            .await
            .map_err(map_pg)?;
        client
            .execute(
                &record,
                &[&tenant, &through, &last_at, &codec::STORED.signed(removed)?],
            )
            .await
            .map_err(map_pg)?;
        Ok(removed)
    })
    .await
}
