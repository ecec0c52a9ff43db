//! A progress bar on standard error, only when a person is watching.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `total` bytes (a spinner when the size is unknown); hidden
/// when `wanted` is false or standard error is not a terminal, so scripts
/// and logs get only the summary.
pub fn bar(total: Option<u64>, wanted: bool) -> ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    match total {
        Some(total) => {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {msg} ({elapsed}, {eta} left)",
            ) {
                bar.set_style(style);
            }
            bar
        }
        None => ProgressBar::new_spinner(),
    }
}
