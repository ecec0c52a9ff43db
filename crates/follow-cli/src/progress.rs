//! A progress bar on standard error, only when a person is watching.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// The bar over a file's bytes. At its widest (a 1 TiB file, ten-digit row
/// counts, "writing") it is 74 columns, so it never wraps on an 80-column
/// terminal, which would leave a trail of half-drawn bars.
const BYTES_TEMPLATE: &str = "{bar:20} {percent:>3}% {bytes}/{total_bytes} {msg}";

/// A bar over `total` bytes (a spinner when the size is unknown); hidden
/// when `wanted` is false or standard error is not a terminal, so scripts
/// and logs get only the summary.
pub fn bar(total: Option<u64>, wanted: bool) -> ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    match total {
        Some(total) => bytes_bar(total),
        None => ProgressBar::new_spinner(),
    }
}

/// The bar over `total` bytes, drawn to standard error.
fn bytes_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(BYTES_TEMPLATE) {
        bar.set_style(style);
    }
    bar
}

/// The message beside the bar: rows read, and whether a batch is being
/// written (the bar stands still meanwhile).
pub fn rows_message(rows: u64, writing: bool) -> String {
    if writing {
        format!("{rows} rows writing")
    } else {
        format!("{rows} rows")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io;
    use std::sync::{Arc, Mutex};

    use indicatif::{ProgressDrawTarget, TermLike};

    use super::*;

    /// An 80-column terminal that keeps what is written to it.
    #[derive(Debug, Default, Clone)]
    struct Recorder(Arc<Mutex<Vec<String>>>);

    impl TermLike for Recorder {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            self.0.lock().unwrap().push(s.to_owned());
            Ok(())
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            self.0.lock().unwrap().push(s.to_owned());
            Ok(())
        }
        fn clear_line(&self) -> io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_widest_bar_fits_an_80_column_terminal() {
        let recorder = Recorder::default();
        let total = 1024 * 1024 * 1024 * 1024 - 1;
        let bar = bytes_bar(total);
        bar.set_draw_target(ProgressDrawTarget::term_like(Box::new(recorder.clone())));
        bar.set_position(total - 12_345);
        bar.set_message(rows_message(9_999_999_999, true));
        bar.tick();
        let written = recorder.0.lock().unwrap().clone();
        let drawn: Vec<&String> = written.iter().filter(|s| s.contains("rows")).collect();
        assert!(!drawn.is_empty(), "nothing drawn: {written:?}");
        for line in drawn {
            let visible = line.trim_end().chars().count();
            assert!(visible < 80, "{visible} columns: {line:?}");
        }
    }
}
