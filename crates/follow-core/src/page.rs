//! Page requests and pages.

use serde::{Deserialize, Serialize};

use crate::Error;

/// Items per page when the request names no limit.
pub const DEFAULT_PAGE_LIMIT: u32 = 20;
/// The largest page of a list.
pub const MAX_PAGE_LIMIT: u32 = 100;
/// The largest page of events.
pub const MAX_EVENT_LIMIT: u32 = 1000;

/// Which page to read: a limit and the cursor of the previous page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// 1..=100; `None` is the graph's default page size
    /// ([`DEFAULT_PAGE_LIMIT`] unless configured).
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`; `None` for the first page.
    pub cursor: Option<String>,
}

impl PageRequest {
    /// The first page, with the default limit.
    pub fn first() -> Self {
        PageRequest::default()
    }

    /// The page after `cursor`.
    pub fn after(cursor: impl Into<String>) -> Self {
        PageRequest {
            limit: None,
            cursor: Some(cursor.into()),
        }
    }

    /// The same page with another limit.
    pub fn with_limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The limit asked for, within `1..=MAX_PAGE_LIMIT`; `None` is `default`.
    pub(crate) fn checked_limit(&self, default: u32) -> Result<usize, Error> {
        checked_limit(self.limit, MAX_PAGE_LIMIT, default)
    }
}

/// `limit` within `1..=max`, or `invalid_argument`; `None` is `default`.
pub(crate) fn checked_limit(limit: Option<u32>, max: u32, default: u32) -> Result<usize, Error> {
    let limit = limit.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit as usize)
    } else {
        Err(Error::invalid_argument(
            "limit",
            format!("limit must be between 1 and {max}, not {limit}"),
        ))
    }
}

/// A page of items, newest first, and the cursor of the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass it back in [`PageRequest::cursor`]; `None` at the end.
    pub next_cursor: Option<String>,
}
