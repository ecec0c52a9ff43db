//! One row of an import file, parsed and validated, or why it is rejected.

use follow_core::{AccountId, ImportEdge, NodeId, Timestamp};

/// What a row asks for.
#[derive(Debug, Clone)]
pub enum Row {
    /// An edge (its nodes registered as needed).
    Edge(ImportEdge),
    /// A node alone: how `export` writes a node without edges.
    Node(NodeId),
}

/// The header `export` writes; a first row starting with `follower` is
/// skipped.
pub const CSV_HEADER: [&str; 4] = ["follower", "target", "since", "muted"];

/// The first column of the header Mastodon writes.
const MASTODON_HEADER: &str = "Account address";

/// Whether a file's first row is a header rather than data.
pub fn is_header(record: &csv::StringRecord) -> bool {
    record
        .get(0)
        .map(str::trim)
        .is_some_and(|first| first.eq_ignore_ascii_case(CSV_HEADER[0]) || first == MASTODON_HEADER)
}

fn field(record: &csv::StringRecord, index: usize) -> &str {
    record.get(index).unwrap_or("").trim()
}

fn flag(name: &str, text: &str) -> Result<Option<bool>, String> {
    match text.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "yes" | "1" => Ok(Some(true)),
        "false" | "no" | "0" => Ok(Some(false)),
        _ => Err(format!("{name} must be true or false, not {text:?}")),
    }
}

/// An edge the library would accept as an import item; its own check
/// decides, so a dry run rejects exactly what an import would.
fn edge(follower: AccountId, target: NodeId) -> Result<ImportEdge, String> {
    let edge = ImportEdge::new(follower, target);
    edge.check().map_err(|e| e.message().to_owned())?;
    Ok(edge)
}

/// A row of the tool's own CSV: `follower,target[,since[,muted]]`, or
/// `id` with the other fields empty for a node alone.
pub fn parse_csv(record: &csv::StringRecord) -> Result<Row, String> {
    if !(1..=4).contains(&record.len()) {
        return Err(format!("expected 1 to 4 fields, found {}", record.len()));
    }
    let message = |e: follow_core::Error| e.message().to_owned();
    if field(record, 1).is_empty() {
        if !field(record, 2).is_empty() || !field(record, 3).is_empty() {
            return Err("a row without a target must not carry since or muted".to_owned());
        }
        return NodeId::parse_field("node", field(record, 0))
            .map(Row::Node)
            .map_err(message);
    }
    let follower = AccountId::parse_field("follower", field(record, 0)).map_err(message)?;
    let target = NodeId::parse_field("target", field(record, 1)).map_err(message)?;
    let mut edge = edge(follower, target)?;
    edge.since = match field(record, 2) {
        "" => None,
        text => Some(Timestamp::parse_rfc3339("since", text).map_err(message)?),
    };
    edge.muted = flag("muted", field(record, 3))?;
    Ok(Row::Edge(edge))
}

/// A row of Mastodon's `following_accounts.csv`, followed by `follower`.
///
/// "Notify on new posts" is the per-follow bell: without it posts arrive
/// without notification, which is this library's mute. "Show boosts" and
/// "Languages" have no counterpart and are ignored.
pub fn parse_mastodon(record: &csv::StringRecord, follower: &AccountId) -> Result<Row, String> {
    if record.len() > 4 {
        return Err(format!("expected at most 4 fields, found {}", record.len()));
    }
    let target = NodeId::parse_field("account address", field(record, 0))
        .map_err(|e| e.message().to_owned())?;
    let mut edge = edge(follower.clone(), target)?;
    edge.muted = flag("notify on new posts", field(record, 2))?.map(|notify| !notify);
    Ok(Row::Edge(edge))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record(fields: &[&str]) -> csv::StringRecord {
        csv::StringRecord::from(fields.to_vec())
    }

    #[test]
    fn csv_rows() {
        let Ok(Row::Edge(e)) = parse_csv(&record(&["a", "b", "2024-01-01T00:00:00Z", "true"]))
        else {
            panic!("an edge row");
        };
        assert_eq!((e.follower.as_str(), e.target.as_str()), ("a", "b"));
        assert_eq!(e.muted, Some(true));
        assert!(e.since.is_some());
        assert!(matches!(
            parse_csv(&record(&["a", "", "", ""])),
            Ok(Row::Node(_))
        ));
        assert!(matches!(parse_csv(&record(&["a"])), Ok(Row::Node(_))));
        for bad in [
            vec!["a", "a"],
            vec!["a", "b", "yesterday"],
            vec!["a", "b", "", "maybe"],
            vec!["a", "", "2024-01-01T00:00:00Z"],
            vec!["120363012345678901@newsletter", "b"],
            vec!["a b", "c"],
            vec!["a", "b", "", "", "extra"],
        ] {
            assert!(parse_csv(&record(&bad)).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn mastodon_rows_map_the_bell_to_mute() {
        let me = AccountId::new("me").unwrap();
        let row = |notify: &str| match parse_mastodon(
            &record(&["x@example.social", "true", notify, ""]),
            &me,
        ) {
            Ok(Row::Edge(e)) => e.muted,
            other => panic!("{other:?}"),
        };
        assert_eq!(row("false"), Some(true));
        assert_eq!(row("true"), Some(false));
        assert_eq!(row(""), None);
        assert!(parse_mastodon(&record(&["me", "true", "false", ""]), &me).is_err());
        assert!(parse_mastodon(&record(&["", "true", "false", ""]), &me).is_err());
    }
}
