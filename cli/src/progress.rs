//! Progress bars for long-running commands (verify, replay, import, bench).
//!
//! Bars draw on stderr only when it is a terminal, so scripts and CI logs stay clean; a final
//! summary line is printed by the command itself either way.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar counting `total` items of `unit` (e.g. "records").
pub fn bar(total: u64, message: &str, unit: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let template = format!(
        "{{msg}} [{{elapsed_precise}}] {{wide_bar}} {{human_pos}}/{{human_len}} {unit} ({{per_sec}}, eta {{eta}})"
    );
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar.set_message(message.to_owned());
    bar
}

/// A spinner for work of unknown length.
pub fn spinner(message: &str) -> ProgressBar {
    let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}] {human_pos}")
    {
        spinner.set_style(style);
    }
    spinner.set_message(message.to_owned());
    spinner
}

/// The libraries' progress ([`residence_sim::progress::Progress`]) drawn as these bars.
#[derive(Debug, Clone, Copy)]
pub struct Bars;

/// One running bar; finished and cleared when dropped.
#[derive(Debug)]
struct Running(ProgressBar);

impl residence_sim::progress::Task for Running {
    fn set_position(&self, done: u64) {
        self.0.set_position(done);
    }

    fn inc(&self, delta: u64) {
        self.0.inc(delta);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

impl residence_sim::progress::Progress for Bars {
    fn task(
        &self,
        message: &str,
        total: Option<u64>,
        unit: &str,
    ) -> std::sync::Arc<dyn residence_sim::progress::Task> {
        std::sync::Arc::new(Running(match total {
            Some(total) => bar(total, message, unit),
            None => spinner(message),
        }))
    }
}
