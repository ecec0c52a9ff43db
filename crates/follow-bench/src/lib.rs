//! # follow-bench
//!
//! Benchmarks of the follow graph, kept out of the library: a seeded graph
//! generator ([`graph`]), loaders into the adapters through the public facade
//! ([`load`]), the hand-rolled baselines ([`baseline`]), concurrent writers
//! ([`writers`]) and the LinkBench-shaped mixed workload ([`workload`]).
//! The criterion benches are in `benches/`, the scale tool in
//! `examples/scale.rs`; the figures and how to read them in
//! `docs/benchmarks.md`.

pub mod baseline;
pub mod graph;
pub mod load;
pub mod pg_baseline;
pub mod rng;
pub mod workload;
pub mod writers;

pub use load::SetupError;

/// Peak resident memory of this process (`VmHWM`), in bytes; `None` where
/// `/proc/self/status` does not exist.
pub fn peak_rss_bytes() -> Option<u64> {
    proc_status_kib("VmHWM:").map(|kib| kib * 1024)
}

/// Current resident memory of this process (`VmRSS`), in bytes.
pub fn rss_bytes() -> Option<u64> {
    proc_status_kib("VmRSS:").map(|kib| kib * 1024)
}

fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_figures_on_linux() {
        if cfg!(target_os = "linux") {
            let peak = peak_rss_bytes().expect("VmHWM on Linux");
            assert!(peak >= rss_bytes().expect("VmRSS on Linux") / 2);
        }
    }
}
