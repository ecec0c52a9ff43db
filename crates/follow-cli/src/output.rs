//! What a command prints: a table or lines for people, one JSON document
//! for scripts.

use follow_core::{Applied, Error, Outcome};
use serde::Serialize;
use serde_json::Value;

/// How a command that ran to its end went; each has its own exit status
/// (see `docs/followctl.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    /// Everything asked was done.
    #[default]
    Done,
    /// Some items of a batch, or some rows of an import, were refused; the
    /// rest was done.
    Partial,
    /// `verify` found problems in the database.
    Findings,
}

impl Status {
    /// The process exit status.
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Done => 0,
            Status::Partial => 3,
            Status::Findings => 4,
        }
    }
}

/// A command's result, in both forms.
pub struct Output {
    /// For people: lines, tables already laid out.
    pub lines: Vec<String>,
    /// For scripts: one document.
    pub json: Value,
    /// How it went.
    pub status: Status,
}

impl Output {
    /// Lines and their JSON, all done.
    pub fn new(lines: Vec<String>, json: Value) -> Self {
        Output {
            lines,
            json,
            status: Status::Done,
        }
    }

    /// One line, and its JSON.
    pub fn line(line: String, json: Value) -> Self {
        Output::new(vec![line], json)
    }

    /// The same output with `status`.
    pub fn with_status(mut self, status: Status) -> Self {
        self.status = status;
        self
    }
}

/// The word the JSON output uses for `value` (a unit enum variant, such as
/// `followed_by` or `follower_removed`), so people and scripts read the
/// same words.
pub fn word<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(word)) => word,
        Ok(other) => other.to_string(),
        Err(error) => format!("<{error}>"),
    }
}

/// `value` as JSON; a failure (which serde_json does not produce for the
/// library's types) is `internal`.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::internal(e.to_string()))
}

/// `changed`, `unchanged` or `requested`.
pub fn outcome(applied: &Applied) -> &'static str {
    match applied.outcome {
        Outcome::Changed => "changed",
        Outcome::Unchanged => "unchanged",
        Outcome::Requested => "requested",
    }
}

/// Columns padded to their widest cell, under an upper-case header.
pub fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> Vec<String> {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let render = |cells: &[&str]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut lines = vec![render(&header)];
    lines.extend(
        rows.iter()
            .map(|row| render(&row.each_ref().map(String::as_str))),
    );
    lines
}

/// "yes" or "no".
pub fn yes_no(flag: bool) -> String {
    if flag { "yes" } else { "no" }.to_owned()
}
