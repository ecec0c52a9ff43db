//! Ctrl-C during a long command (`import`, `export`): the first one asks
//! the command to stop at the next safe point, so it can say what was done
//! and clean up; a second one ends the process at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether Ctrl-C was pressed since [`Interrupt::watch`].
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// Catches SIGINT from now on. If the handler cannot be installed, Ctrl-C
    /// keeps its default effect (the process ends; committed batches stay
    /// complete either way).
    pub fn watch() -> Self {
        let flag = Arc::new(AtomicBool::new(false));
        #[cfg(unix)]
        {
            use signal_hook::consts::SIGINT;

            use crate::failure::INTERRUPTED_EXIT;
            // Registered first, so it runs first: on a second Ctrl-C the flag
            // is already set and the process exits right away.
            let _ = signal_hook::flag::register_conditional_shutdown(
                SIGINT,
                i32::from(INTERRUPTED_EXIT),
                Arc::clone(&flag),
            );
            let _ = signal_hook::flag::register(SIGINT, Arc::clone(&flag));
        }
        Interrupt(flag)
    }

    /// Whether the command should stop now.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
