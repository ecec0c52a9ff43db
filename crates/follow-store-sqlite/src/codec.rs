//! Decoding rows into the library's values: core's [`Decoder`], naming
//! this backend, and what only SQL needs.

use follow_core::LinkKind;
use follow_core::stored::Decoder;

/// Decodes this store's columns; its errors begin with `sqlite:`.
pub(crate) const STORED: Decoder = Decoder::new("sqlite");

/// Every link kind's stored name as an SQL string literal, comma-separated,
/// for `kind IN (…)`: with the kind named, a statement seeks the primary
/// key or an index instead of scanning a tenant's links.
pub(crate) fn link_kinds_sql() -> String {
    LinkKind::ALL
        .iter()
        .map(|kind| format!("'{}'", kind.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A page limit as SQL binds it (a limit past `i64::MAX` is no limit).
pub(crate) fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}
