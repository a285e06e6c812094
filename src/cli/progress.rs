//! Progress of the embed job on stderr: a bar on a terminal, one line per domain, the engine once.
//!
//! In a batch (`report`, `demo`) the per-domain lines are details (`-v`): the batch prints one line
//! per run, and the reporter counts what each run embedded, reused and skipped for that line.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::sync::Mutex;

use crate::pipeline::embed::Event;
use indicatif::{ProgressBar, ProgressStyle};

use super::console::{self, Verbosity};

/// What the embed work of one command (or one batch run) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Domains embedded now.
    pub embedded: usize,
    /// Domains reused from earlier results.
    pub reused: usize,
    /// Images embedded now.
    pub images: usize,
    /// Images skipped (unreadable).
    pub skipped: usize,
    /// Models whose embeddings were computed now (a run's model and its checkpoints).
    pub models: usize,
}

/// A progress reporter for embed events.
pub struct Reporter {
    bar: Mutex<Option<ProgressBar>>,
    tty: bool,
    /// Per-domain lines are details (a batch prints one line per run instead).
    batch: bool,
    /// Domain files already reported in this process (a domain read again is not listed again).
    reported: Mutex<HashSet<std::path::PathBuf>>,
    tally: Mutex<Tally>,
    /// Embedding folders computed into since the last tally.
    folders: Mutex<HashSet<std::path::PathBuf>>,
}

impl Reporter {
    /// A reporter for a single command: one line per domain.
    pub fn new() -> Reporter {
        Reporter {
            bar: Mutex::new(None),
            tty: std::io::stderr().is_terminal() && console::shows(Verbosity::Normal),
            batch: false,
            reported: Mutex::new(HashSet::new()),
            tally: Mutex::new(Tally::default()),
            folders: Mutex::new(HashSet::new()),
        }
    }

    /// A reporter for a batch: per-domain lines only with `-v`.
    pub fn for_batch() -> Reporter {
        Reporter {
            batch: true,
            ..Reporter::new()
        }
    }

    /// One line for the embed work of several models (checkpoints): what was embedded and reused
    /// since the last tally. Nothing when nothing was embedded or reused.
    pub fn checkpoints_line(&self, n_models: usize) {
        let t = self.take_tally();
        if t.embedded + t.reused == 0 {
            return;
        }
        let mut parts = Vec::new();
        if t.embedded > 0 {
            parts.push(format!("embedded {}", console::count(t.images, "image")));
        }
        if t.skipped > 0 {
            parts.push(format!("{} skipped", t.skipped));
        }
        if t.reused > 0 {
            parts.push(format!("{} reused", console::count(t.reused, "domain")));
        }
        console::info(format!(
            "{}: {}",
            console::count(n_models, "checkpoint"),
            parts.join(", ")
        ));
    }

    /// What was embedded, reused and skipped since the last call (and reset the count).
    pub fn take_tally(&self) -> Tally {
        let models = self
            .folders
            .lock()
            .map(|mut f| std::mem::take(&mut *f).len())
            .unwrap_or_default();
        let t = self
            .tally
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        Tally { models, ..t }
    }

    fn domain_line(&self, line: String) {
        if self.batch {
            console::detail(line);
        } else {
            console::info(line);
        }
    }

    fn print_above_bar(&self, line: &str, show: bool) {
        if !show {
            return;
        }
        if let Ok(b) = self.bar.lock() {
            match b.as_ref() {
                Some(pb) => pb.println(line),
                None => console::err_line(line),
            }
        }
    }

    /// Handle one event.
    pub fn event(&self, e: Event) {
        match e {
            Event::Engine(info, batch) => {
                // The same engine opened for every model of a run is told once.
                console::info_once(format!(
                    "engine: {} · {} · {} · batch {}{}",
                    info.engine,
                    info.provider,
                    console::count(info.threads, "thread"),
                    batch,
                    info.library
                        .as_ref()
                        .map(|l| format!(" · {l}"))
                        .unwrap_or_default()
                ));
                for n in &info.notes {
                    console::note(n);
                }
            }
            Event::Note(n) => console::note(n),
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
            Event::Waiting(dir) => console::info(format!(
                "waiting: another dannscope process is writing {}",
                dir.display()
            )),
            Event::Progress(done) => {
                if let Ok(b) = self.bar.lock() {
                    if let Some(pb) = b.as_ref() {
                        pb.set_position(done as u64);
                    }
                }
            }
            Event::Skipped(path, reason) => {
                let line = format!("warning: skipped {path}: {reason}");
                self.print_above_bar(&line, console::first_time(&line));
            }
            Event::DomainDone(r, cached) => {
                if let Ok(mut b) = self.bar.lock() {
                    if let Some(pb) = b.take() {
                        pb.finish_and_clear();
                    }
                }
                if let Ok(mut t) = self.tally.lock() {
                    if cached {
                        t.reused += 1;
                    } else {
                        t.embedded += 1;
                        t.images += r.n;
                        t.skipped += r.skipped;
                        if let (Some(dir), Ok(mut f)) = (r.npz.parent(), self.folders.lock()) {
                            f.insert(dir.to_path_buf());
                        }
                    }
                }
                let first = self
                    .reported
                    .lock()
                    .map(|mut s| s.insert(r.npz.clone()))
                    .unwrap_or(true);
                if cached {
                    // Cached results are listed once, and only as a detail in a batch.
                    if first {
                        self.domain_line(format!(
                            "{:>12}: {} (cached) → {}",
                            r.domain,
                            console::count(r.n, "image"),
                            r.npz.display()
                        ));
                    }
                } else {
                    let skipped = if r.skipped > 0 {
                        format!(", {} skipped", r.skipped)
                    } else {
                        String::new()
                    };
                    self.domain_line(format!(
                        "{:>12}: {}{skipped}, {:.1} s, {:.0} images/s → {}",
                        r.domain,
                        console::count(r.n, "image"),
                        r.timings.total_s,
                        r.timings.images_per_s,
                        r.npz.display()
                    ));
                }
            }
        }
    }
}
