//! Progress of the embed job on stderr: a bar on a terminal, one line per domain otherwise.

use std::io::IsTerminal;
use std::sync::Mutex;

use dannscope::pipeline::embed::Event;
use indicatif::{ProgressBar, ProgressStyle};

/// A progress reporter for embed events: a bar on a terminal, a summary line otherwise.
pub struct Reporter {
    bar: Mutex<Option<ProgressBar>>,
    tty: bool,
    skipped: Mutex<Vec<String>>,
}

impl Reporter {
    /// A reporter for stderr.
    pub fn new() -> Reporter {
        Reporter {
            bar: Mutex::new(None),
            tty: std::io::stderr().is_terminal(),
            skipped: Mutex::new(Vec::new()),
        }
    }

    /// Handle one event.
    pub fn event(&self, e: Event) {
        match e {
            Event::Engine(info, batch) => {
                eprintln!(
                    "engine: {} · provider {} · {} thread{} · batch {}{}",
                    info.engine,
                    info.provider,
                    info.threads,
                    if info.threads == 1 { "" } else { "s" },
                    batch,
                    info.library
                        .as_ref()
                        .map(|l| format!(" · {l}"))
                        .unwrap_or_default()
                );
                for n in &info.notes {
                    eprintln!("note: {n}");
                }
            }
            Event::DomainStart(name, n) => {
                if self.tty {
                    let pb = ProgressBar::new(n as u64);
                    pb.set_style(
                        ProgressStyle::with_template(
                            "{prefix:>12} [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    );
                    pb.set_prefix(name.to_string());
                    if let Ok(mut b) = self.bar.lock() {
                        *b = Some(pb);
                    }
                }
            }
            Event::Waiting(dir) => {
                eprintln!(
                    "waiting: another dannscope process is writing {}",
                    dir.display()
                );
            }
            Event::Progress(done) => {
                if let Ok(b) = self.bar.lock() {
                    if let Some(pb) = b.as_ref() {
                        pb.set_position(done as u64);
                    }
                }
            }
            Event::Skipped(path, reason) => {
                let msg = format!("warning: skipped {path}: {reason}");
                if let Ok(b) = self.bar.lock() {
                    match b.as_ref() {
                        Some(pb) => pb.println(&msg),
                        None => eprintln!("{msg}"),
                    }
                }
                if let Ok(mut s) = self.skipped.lock() {
                    s.push(path.to_string());
                }
            }
            Event::DomainDone(r, cached) => {
                if let Ok(mut b) = self.bar.lock() {
                    if let Some(pb) = b.take() {
                        pb.finish_and_clear();
                    }
                }
                if cached {
                    eprintln!(
                        "{:>12}: {} images (cached) → {}",
                        r.domain,
                        r.n,
                        r.npz.display()
                    );
                } else {
                    eprintln!(
                        "{:>12}: {} images, {} skipped, {:.1} s, {:.1} images/s → {}",
                        r.domain,
                        r.n,
                        r.skipped,
                        r.timings.total_s,
                        r.timings.images_per_s,
                        r.npz.display()
                    );
                }
            }
        }
    }
}
