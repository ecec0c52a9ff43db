//! The link reads: the links between an account and some others, and the
//! pages of one kind of link of an account.

use std::sync::LazyLock;

use follow_core::{
    AccountId, Error, Link, LinkDirection, LinkEntry, LinkKey, LinkQuery, NodeId, TenantId,
};
use rusqlite::{Connection, params};

use crate::codec;
use crate::error::map_sql;
use crate::queries::snapshot;
use crate::rows::{LINK_COLUMNS, LINK_VALUE_COLUMNS, read_link, read_link_value, read_node};

/// The links of every kind `?2 → ?3` and `?3 → ?2`: two probes of the
/// primary key per kind (a link the other way is the key with its ends
/// swapped).
static BETWEEN: LazyLock<String> = LazyLock::new(|| {
    let kinds = codec::link_kinds_sql();
    format!(
        "SELECT {LINK_COLUMNS} FROM links
         WHERE tenant = ?1 AND kind IN ({kinds}) AND from_account = ?2 AND to_account = ?3
         UNION ALL
         SELECT {LINK_COLUMNS} FROM links
         WHERE tenant = ?1 AND kind IN ({kinds}) AND from_account = ?3 AND to_account = ?2"
    )
});

/// Every link of every kind touching `?2`: the primary key's range of the
/// links it made, and the incoming index's range of the links made to it.
static TOUCHING: LazyLock<String> = LazyLock::new(|| {
    let kinds = codec::link_kinds_sql();
    format!(
        "SELECT {LINK_COLUMNS} FROM links
         WHERE tenant = ?1 AND kind IN ({kinds}) AND from_account = ?2
         UNION ALL
         SELECT {LINK_COLUMNS} FROM links INDEXED BY links_incoming
         WHERE tenant = ?1 AND kind IN ({kinds}) AND to_account = ?2"
    )
});

/// [`follow_core::FollowStore::links_between`], in one snapshot.
///
/// The subject's node row counts the links touching it, which picks the
/// cheaper way: none when the count is 0 (or the subject is not
/// registered: links join registered accounts only); all of its links when
/// they are no more than the others (one range per kind and direction);
/// otherwise the primary key probed both ways for each other.
pub(crate) fn links_between(
    conn: &Connection,
    tenant: &TenantId,
    subject: &AccountId,
    others: &[AccountId],
) -> Result<Vec<(LinkKey, Link)>, Error> {
    let mut others: Vec<&AccountId> = others.iter().filter(|o| *o != subject).collect();
    others.sort_unstable();
    others.dedup();
    if others.is_empty() {
        return Ok(Vec::new());
    }
    snapshot(conn, |conn| {
        let links = match read_node(conn, tenant, &NodeId::from(subject.clone()))? {
            Some(node) if node.links > 0 => node.links,
            _ => return Ok(Vec::new()),
        };
        let mut out = Vec::new();
        if usize::try_from(links).is_ok_and(|links| links <= others.len()) {
            let mut stmt = conn.prepare_cached(&TOUCHING).map_err(map_sql)?;
            let mut rows = stmt
                .query(params![tenant.as_str(), subject.as_str()])
                .map_err(map_sql)?;
            while let Some(row) = rows.next().map_err(map_sql)? {
                let (key, link) = read_link(row)?;
                let other = if key.from == *subject {
                    &key.to
                } else {
                    &key.from
                };
                if others.binary_search(&other).is_ok() {
                    out.push((key, link));
                }
            }
            return Ok(out);
        }
        let mut stmt = conn.prepare_cached(&BETWEEN).map_err(map_sql)?;
        for other in others {
            let mut rows = stmt
                .query(params![tenant.as_str(), subject.as_str(), other.as_str()])
                .map_err(map_sql)?;
            while let Some(row) = rows.next().map_err(map_sql)? {
                out.push(read_link(row)?);
            }
        }
        Ok(out)
    })
}

/// The SQL of one page of links: `?1` tenant, `?2` kind, `?3` subject,
/// `?4`/`?5` the position to resume after, `?6` the limit. Each walks one
/// index in display order from a seek to the resume position, so a page's
/// cost does not grow with its depth.
fn page_sql(direction: LinkDirection, resume: bool) -> String {
    let (owner, other, index) = match direction {
        LinkDirection::Outgoing => ("from_account", "to_account", "links_outgoing"),
        LinkDirection::Incoming => ("to_account", "from_account", "links_incoming"),
    };
    let after = if resume {
        format!(" AND since <= ?4 AND (since < ?4 OR {other} > ?5)")
    } else {
        " AND ?4 IS NULL AND ?5 IS NULL".to_owned()
    };
    format!(
        "SELECT {other}, {LINK_VALUE_COLUMNS} FROM links INDEXED BY {index}
         WHERE tenant = ?1 AND kind = ?2 AND {owner} = ?3{after}
         ORDER BY since DESC, {other} ASC LIMIT ?6"
    )
}

/// [`follow_core::FollowStore::links`], in one snapshot.
pub(crate) fn links(conn: &Connection, query: &LinkQuery) -> Result<Option<Vec<LinkEntry>>, Error> {
    snapshot(conn, |conn| {
        let subject = NodeId::from(query.subject.clone());
        if read_node(conn, &query.tenant, &subject)?.is_none() {
            return Ok(None);
        }
        let after_since = query.after.as_ref().map(|p| p.since.as_unix_micros());
        let after_node = query.after.as_ref().map(|p| p.node.as_str());
        let mut stmt = conn
            .prepare_cached(&page_sql(query.direction, query.after.is_some()))
            .map_err(map_sql)?;
        let mut rows = stmt
            .query(params![
                query.tenant.as_str(),
                query.kind.name(),
                query.subject.as_str(),
                after_since,
                after_node,
                codec::limit(query.limit),
            ])
            .map_err(map_sql)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(map_sql)? {
            let account: String = row.get(0).map_err(map_sql)?;
            out.push(LinkEntry {
                account: codec::STORED.account_id(&account)?,
                link: read_link_value(row, 1)?,
            });
        }
        Ok(Some(out))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn plan(sql: &str) -> Vec<String> {
        crate::testing::query_plan(&crate::testing::migrated(), sql)
    }

    /// Every link read seeks an index by the tenant, the kind and an
    /// account; none scans the table.
    #[test]
    fn every_link_read_seeks() {
        let pk = "USING PRIMARY KEY (tenant=? AND kind=? AND from_account=? AND to_account=?)";
        let cases = [
            (BETWEEN.clone(), vec![pk, pk]),
            (
                TOUCHING.clone(),
                vec![
                    "USING PRIMARY KEY (tenant=? AND kind=? AND from_account=?)",
                    "USING INDEX links_incoming (tenant=? AND kind=? AND to_account=?)",
                ],
            ),
            (
                page_sql(LinkDirection::Outgoing, true),
                vec![
                    "USING INDEX links_outgoing (tenant=? AND kind=? AND from_account=? AND since<?)",
                ],
            ),
            (
                page_sql(LinkDirection::Incoming, false),
                vec!["USING INDEX links_incoming (tenant=? AND kind=? AND to_account=?)"],
            ),
        ];
        for (sql, wanted) in cases {
            let details = plan(&sql);
            let searches: Vec<&String> =
                details.iter().filter(|d| d.starts_with("SEARCH")).collect();
            assert_eq!(searches.len(), wanted.len(), "{details:?}");
            for (found, wanted) in searches.iter().zip(wanted) {
                assert!(
                    found.contains(wanted),
                    "{found} lacks {wanted}: {details:?}"
                );
            }
            assert!(
                details.iter().all(|d| !d.starts_with("SCAN links")),
                "{details:?}"
            );
        }
    }
}
