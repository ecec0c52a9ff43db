//! The error for a broken invariant: what the store holds contradicts
//! itself (a list names a block that is not there, a follower entry has no
//! edge behind it). Reads and writes answer it as `internal`, naming what
//! broke, instead of reading the broken part as empty or absent.

use std::fmt;

use follow_core::Error;

/// `internal`: the memory store found `what` broken.
pub(crate) fn broken(what: impl fmt::Display) -> Error {
    Error::internal(format!("memory store: {what}"))
}
