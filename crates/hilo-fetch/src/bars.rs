//! On a terminal (stderr), `hilo fetch`'s progress: a bar per download
//! running — its bytes, of its length when the server says it — above the
//! total, downloads done of all. Nothing is drawn when stderr is not a
//! terminal.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::download::Bars;
use crate::http::Progress;
use crate::input::Request;

/// The bars.
pub struct TermBars {
    multi: MultiProgress,
    total: ProgressBar,
    /// Bytes received by every try so far.
    bytes: Arc<AtomicU64>,
}

impl TermBars {
    /// Bars for `downloads` downloads, or `None` when stderr is not a
    /// terminal.
    pub fn new(downloads: u64) -> Option<Arc<TermBars>> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let total = multi.add(ProgressBar::new(downloads));
        total.set_style(style("{bar:30} {pos}/{len} downloads, {msg}, {elapsed}"));
        total.set_message("0 B");
        Some(Arc::new(TermBars {
            multi,
            total,
            bytes: Arc::default(),
        }))
    }

    /// Runs `print` with the bars out of its way.
    pub fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        self.multi.suspend(print)
    }

    /// One more download ended.
    pub fn one_done(&self) {
        self.total.inc(1);
    }

    /// Takes the bars off the screen.
    pub fn finish(&self) {
        self.total.finish_and_clear();
        let _ = self.multi.clear();
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// A download's bar: cleared when its try ends (when this is dropped).
struct Running {
    bar: ProgressBar,
    total: ProgressBar,
    bytes: Arc<AtomicU64>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl Bars for TermBars {
    fn start(&self, request: &Request) -> Box<dyn FnMut(Progress) + Send> {
        let bar = self
            .multi
            .insert_before(&self.total, ProgressBar::new_spinner());
        bar.set_style(style("  {spinner} {decimal_bytes:>10} {wide_msg}"));
        bar.set_message(request.url.clone());
        let running = Running {
            bar,
            total: self.total.clone(),
            bytes: Arc::clone(&self.bytes),
        };
        Box::new(move |p| match p {
            Progress::Length(Some(len)) => {
                running.bar.set_length(len);
                running.bar.set_style(style(
                    "  {bar:20} {decimal_bytes:>10}/{decimal_total_bytes:<10} {wide_msg}",
                ));
            }
            Progress::Length(None) => {}
            Progress::Got(n) => {
                running.bar.inc(n);
                let all = running.bytes.fetch_add(n, Ordering::Relaxed) + n;
                running.total.set_message(crate::report::size(all));
            }
        })
    }
}
