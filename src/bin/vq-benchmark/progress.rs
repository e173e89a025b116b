//! Progress bars on stderr for the slow steps (training, encoding, ground truth). They are
//! hidden when stderr is not a terminal (pipes, CI, the tests) or with `--quiet`, so logs
//! and captured output hold only results.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

pub struct Progress {
    visible: bool,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Progress { visible: !quiet && std::io::stderr().is_terminal() }
    }

    /// Whether anything is drawn.
    pub fn visible(&self) -> bool {
        self.visible
    }

    /// A bar of `len` steps, labelled.
    pub fn bar(&self, label: &str, len: u64) -> ProgressBar {
        if !self.visible {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template("{prefix:>14} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                .expect("static template")
                .progress_chars("=> "),
        );
        pb.set_prefix(label.to_string());
        pb
    }

    /// A spinner for a step whose length is not known (k-means training).
    pub fn spinner(&self, label: &str, msg: String) -> ProgressBar {
        if !self.visible {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template("{prefix:>14} {spinner} {msg} ({elapsed})").expect("static template"),
        );
        pb.set_prefix(label.to_string());
        pb.set_message(msg);
        pb.enable_steady_tick(Duration::from_millis(120));
        pb
    }
}
