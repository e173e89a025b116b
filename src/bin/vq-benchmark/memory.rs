//! How much memory a sweep used. `peak_rss_mib` (the kernel's `VmHWM`) counts the pages of
//! memory-mapped dataset files too, so on a dataset larger than memory it says nothing about
//! what the sweep itself holds; Linux keeps no peak of anonymous memory, so a thread samples
//! `RssAnon` every few milliseconds and keeps the largest value (`peak_anon_mib`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Sampling period: short enough to catch a buffer that lives for one training run.
const PERIOD: Duration = Duration::from_millis(5);

/// A background sampler of the process's anonymous resident memory; stops when dropped.
pub struct AnonPeak {
    peak_kib: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AnonPeak {
    /// Starts sampling; `None` where `/proc/self/status` has no `RssAnon` (not Linux).
    pub fn start() -> Option<AnonPeak> {
        let first = field_kib("RssAnon:")?;
        let peak_kib = Arc::new(AtomicU64::new(first));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak_kib.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("anon-peak".into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    if let Some(kib) = field_kib("RssAnon:") {
                        p.fetch_max(kib, Ordering::Relaxed);
                    }
                    std::thread::sleep(PERIOD);
                }
            })
            .ok()?;
        Some(AnonPeak { peak_kib, stop, thread: Some(thread) })
    }

    /// The largest anonymous resident memory seen so far, in MiB (sampled now as well).
    pub fn peak_mib(&self) -> f64 {
        if let Some(kib) = field_kib("RssAnon:") {
            self.peak_kib.fetch_max(kib, Ordering::Relaxed);
        }
        self.peak_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

impl Drop for AnonPeak {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The process's peak resident memory so far (Linux `VmHWM`, mapped file pages included), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    field_kib("VmHWM:").map(|kib| kib as f64 / 1024.0)
}

/// A `kB` field of `/proc/self/status`.
fn field_kib(name: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(name))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_lived_allocation_shows_in_the_peak() {
        let Some(sampler) = AnonPeak::start() else { return };
        let before = sampler.peak_mib();
        {
            // 64 MiB, touched so it is resident, held for several sampling periods.
            let big = vec![1u8; 64 << 20];
            std::thread::sleep(PERIOD * 8);
            assert_eq!(big.iter().map(|&b| b as usize).sum::<usize>(), 64 << 20);
        }
        std::thread::sleep(PERIOD * 2);
        let after = sampler.peak_mib();
        assert!(after >= before + 60.0, "peak {before} -> {after} MiB");
        assert!(peak_rss_mib().unwrap() >= after - 1.0);
    }
}
