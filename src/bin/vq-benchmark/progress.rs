//! Progress bars on stderr for the slow steps (training, encoding, ground truth). They are
//! hidden when stderr is not a terminal (pipes, CI, the tests) or with `--quiet`, so logs
//! and captured output hold only results. The bars of one command share a
//! `MultiProgress`, so the sweep's bar and a step's bar stack instead of overwriting each
//! other.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

pub struct Progress {
    multi: Option<MultiProgress>,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        let visible = !quiet && std::io::stderr().is_terminal();
        Progress { multi: visible.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())) }
    }

    /// A bar of `len` steps, labelled.
    pub fn bar(&self, label: &str, len: u64) -> ProgressBar {
        let Some(multi) = &self.multi else { return ProgressBar::hidden() };
        let pb = multi.add(ProgressBar::new(len));
        pb.set_style(
            ProgressStyle::with_template("{prefix:>14} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                .expect("static template")
                .progress_chars("=> "),
        );
        pb.set_prefix(label.to_string());
        pb
    }

    /// A spinner for a step whose length is not known.
    pub fn spinner(&self, label: &str, msg: String) -> ProgressBar {
        let Some(multi) = &self.multi else { return ProgressBar::hidden() };
        let pb = multi.add(ProgressBar::new_spinner());
        pb.set_style(
            ProgressStyle::with_template("{prefix:>14} {spinner} {msg} ({elapsed})").expect("static template"),
        );
        pb.set_prefix(label.to_string());
        pb.set_message(msg);
        pb.enable_steady_tick(Duration::from_millis(120));
        pb
    }

    /// A line printed above the bars (nothing when they are hidden).
    pub fn println(&self, line: &str) {
        if let Some(multi) = &self.multi {
            let _ = multi.println(line);
        }
    }
}
