//! The link reads: the links between a subject and some accounts, and a
//! page of one kind of link one way. Each one statement (a snapshot by
//! itself) seeking an index by tenant first.

use deadpool_postgres::ClientWrapper;
use follow_core::{
    AccountId, Error, Link, LinkDirection, LinkEntry, LinkKey, LinkKind, LinkQuery, TenantId,
};

use crate::codec::{self, LINK_COLUMNS};
use crate::error::map_pg;
use crate::pipeline::prefixed;

/// The present links of the keys: a primary-key probe each.
fn between_sql() -> String {
    format!(
        "SELECT l.kind, l.from_id, l.to_id, {columns}
         FROM follow_links l
         JOIN unnest($2::text[], $3::text[], $4::text[]) AS k(kind, from_id, to_id)
           ON l.kind = k.kind AND l.from_id = k.from_id AND l.to_id = k.to_id
         WHERE l.tenant = $1",
        columns = prefixed("l.", LINK_COLUMNS)
    )
}

/// Every link of any kind between `subject` and each of `others`, either
/// way. Both ends of each candidate are known, so each is a primary-key
/// probe: kinds × 2 per other.
pub(crate) async fn links_between(
    client: &ClientWrapper,
    tenant: &TenantId,
    subject: &AccountId,
    others: &[AccountId],
) -> Result<Vec<(LinkKey, Link)>, Error> {
    let mut others: Vec<&str> = others
        .iter()
        .map(AccountId::as_str)
        .filter(|other| *other != subject.as_str())
        .collect();
    others.sort_unstable();
    others.dedup();
    if others.is_empty() {
        return Ok(Vec::new());
    }
    let capacity = others.len() * LinkKind::ALL.len() * 2;
    let (mut kinds, mut froms, mut tos) = (
        Vec::with_capacity(capacity),
        Vec::with_capacity(capacity),
        Vec::with_capacity(capacity),
    );
    for other in others {
        for kind in LinkKind::ALL {
            for (from, to) in [(subject.as_str(), other), (other, subject.as_str())] {
                kinds.push(kind.name());
                froms.push(from);
                tos.push(to);
            }
        }
    }
    let stmt = client
        .prepare_cached(&between_sql())
        .await
        .map_err(map_pg)?;
    let rows = client
        .query(&stmt, &[&tenant.as_str(), &kinds, &froms, &tos])
        .await
        .map_err(map_pg)?;
    rows.iter()
        .map(|row| Ok((codec::link_key(row, 0)?, codec::link(row, 3)?)))
        .collect()
}

/// The SQL of one page: `$1` tenant, `$2` kind, `$3` subject, `$4` limit,
/// and when resuming `$5`/`$6` the position to resume after. As the edge
/// lists: the subject's node row joined with the page (no row: no
/// subject), one index walked from a seek in display order.
fn page_sql(direction: LinkDirection, resume: bool) -> String {
    let (owner, other) = match direction {
        LinkDirection::Outgoing => ("from_id", "to_id"),
        LinkDirection::Incoming => ("to_id", "from_id"),
    };
    let after = if resume {
        format!(" AND l.since <= $5 AND (l.since < $5 OR l.{other} > $6)")
    } else {
        String::new()
    };
    format!(
        "SELECT p.account, {page_columns} FROM follow_nodes s
         LEFT JOIN LATERAL (
             SELECT l.{other} AS account, {columns} FROM follow_links l
             WHERE l.tenant = $1 AND l.kind = $2 AND l.{owner} = $3{after}
             ORDER BY l.since DESC, l.{other} ASC LIMIT $4
         ) p ON true
         WHERE s.tenant = $1 AND s.id = $3",
        page_columns = prefixed("p.", LINK_COLUMNS),
        columns = prefixed("l.", LINK_COLUMNS),
    )
}

/// A page of the subject's links of one kind, one way; `None` when the
/// subject is not registered.
pub(crate) async fn links(
    client: &ClientWrapper,
    query: &LinkQuery,
) -> Result<Option<Vec<LinkEntry>>, Error> {
    let stmt = client
        .prepare_cached(&page_sql(query.direction, query.after.is_some()))
        .await
        .map_err(map_pg)?;
    let tenant = query.tenant.as_str();
    let kind = query.kind.name();
    let subject = query.subject.as_str();
    let limit = codec::limit(query.limit);
    let rows = match &query.after {
        Some(after) => {
            let since = after.since.as_unix_micros();
            let account = after.node.as_str();
            client
                .query(&stmt, &[&tenant, &kind, &subject, &limit, &since, &account])
                .await
        }
        None => {
            client
                .query(&stmt, &[&tenant, &kind, &subject, &limit])
                .await
        }
    }
    .map_err(map_pg)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(account) = row.try_get::<_, Option<&str>>(0).map_err(map_pg)? else {
            continue;
        };
        out.push(LinkEntry {
            account: codec::STORED.account_id(account)?,
            link: codec::link(&row, 1)?,
        });
    }
    Ok(Some(out))
}
