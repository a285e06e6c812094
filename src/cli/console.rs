//! The console: every line the command line prints goes through here.
//!
//! - stdout carries results (tables, what was written); stderr carries progress, notices and errors;
//! - `-q` hides progress lines and notices, `-v` adds details (every domain of a batch, cached results);
//! - a notice or warning is printed once per process, however often the work meets it;
//! - a closed pipe (`dannscope … | head -2`) ends the output quietly: nothing panics, the work
//!   finishes and the exit status stays that of the work.

use std::collections::HashSet;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

/// How much the command says on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Results (stdout), warnings and errors only (`-q`).
    Quiet = 0,
    /// Also one line per stage and domain, notices and what to run next (the default).
    Normal = 1,
    /// Also every detail: each domain of a batch, cached results, engine details (`-v`).
    Verbose = 2,
}

static LEVEL: AtomicU8 = AtomicU8::new(Verbosity::Normal as u8);
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

fn seen() -> &'static Mutex<HashSet<String>> {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    SEEN.get_or_init(|| Mutex::new(HashSet::new()))
}

/// Set the verbosity from the `-q` / `-v` flags.
pub fn set_verbosity(quiet: bool, verbose: bool) {
    let v = if quiet {
        Verbosity::Quiet
    } else if verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    LEVEL.store(v as u8, Ordering::Relaxed);
}

/// The verbosity in force.
pub fn verbosity() -> Verbosity {
    match LEVEL.load(Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        1 => Verbosity::Normal,
        _ => Verbosity::Verbose,
    }
}

/// Whether lines of level `v` are shown.
pub fn shows(v: Verbosity) -> bool {
    verbosity() >= v
}

/// True the first time `key` is asked about in this process.
pub fn first_time(key: &str) -> bool {
    seen()
        .lock()
        .map(|mut s| s.insert(key.to_string()))
        .unwrap_or(true)
}

fn write_to(closed: &AtomicBool, w: &mut dyn Write, line: &str) {
    if closed.load(Ordering::Relaxed) {
        return;
    }
    if writeln!(w, "{line}").and_then(|()| w.flush()).is_err() {
        // A closed pipe or a full disk: stop writing there, keep working.
        closed.store(true, Ordering::Relaxed);
    }
}

/// A result line on stdout (always shown: it is what the command produced).
pub fn out(line: impl AsRef<str>) {
    write_to(&STDOUT_CLOSED, &mut std::io::stdout().lock(), line.as_ref());
}

/// A line on stderr, whatever the verbosity (errors, the end of a failed batch).
pub fn err_line(line: impl AsRef<str>) {
    write_to(&STDERR_CLOSED, &mut std::io::stderr().lock(), line.as_ref());
}

/// A progress line on stderr at the default verbosity and above.
pub fn info(line: impl AsRef<str>) {
    if shows(Verbosity::Normal) {
        err_line(line);
    }
}

/// A detail line on stderr, shown with `-v` only.
pub fn detail(line: impl AsRef<str>) {
    if shows(Verbosity::Verbose) {
        err_line(line);
    }
}

/// A progress line printed once per process (the same engine opened for every checkpoint).
pub fn info_once(line: impl AsRef<str>) {
    let line = line.as_ref();
    if shows(Verbosity::Normal) && first_time(line) {
        err_line(line);
    }
}

/// `note: …` on stderr, once per process, at the default verbosity and above.
pub fn note(text: impl AsRef<str>) {
    let line = format!("note: {}", text.as_ref());
    if shows(Verbosity::Normal) && first_time(&line) {
        err_line(line);
    }
}

/// Every notice of a list (see [`note`]).
pub fn notes<S: AsRef<str>>(notices: &[S]) {
    for n in notices {
        note(n);
    }
}

/// `next: …`: what to run next, at the default verbosity and above.
pub fn next(command: impl AsRef<str>) {
    info(format!("next: {}", command.as_ref()));
}

/// `n thing` or `n things`.
pub fn count(n: usize, thing: &str) -> String {
    crate::text::count(n, thing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_new_once() {
        assert!(first_time("console-test-key"));
        assert!(!first_time("console-test-key"));
    }

    #[test]
    fn counts_agree_with_their_number() {
        assert_eq!(count(1, "image"), "1 image");
        assert_eq!(count(0, "image"), "0 images");
        assert_eq!(count(2, "class"), "2 classes");
    }
}
