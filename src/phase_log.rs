//! Optional per-phase timing of long computations: with `DANNSCOPE_PHASE_LOG=1` in the
//! environment, each [`Phase`] writes one line to stderr when it ends, with its wall time,
//! the process's resident memory then and its peak so far (Linux `/proc/self/status`), and
//! the anonymous part of the resident memory then (without the pages of mapped files, such as a
//! memory-mapped store, which the kernel can drop and read again).
//! Without the variable a phase costs one cached environment lookup and writes nothing.
use std::sync::OnceLock;
use std::time::Instant;

/// Whether phase logging is on (`DANNSCOPE_PHASE_LOG=1`).
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("DANNSCOPE_PHASE_LOG").is_ok_and(|v| v == "1"))
}

/// `VmRSS`, `VmHWM` and `RssAnon` of this process in MiB, where the system reports them.
fn memory_mib() -> Option<(f64, f64, f64)> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = s.lines().find(|l| l.starts_with(name))?;
        let kib: f64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?, field("RssAnon:")?))
}

/// The peak resident memory of this process so far (`VmHWM`) in MiB, where the system reports it.
pub fn peak_rss_mib() -> Option<f64> {
    memory_mib().map(|(_, peak, _)| peak)
}

/// A named phase; logged when dropped (if logging is on).
pub struct Phase {
    name: &'static str,
    start: Option<Instant>,
}

impl Phase {
    /// Starts timing the phase `name`.
    pub fn start(name: &'static str) -> Phase {
        Phase {
            name,
            start: enabled().then(Instant::now),
        }
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        if let Some(t) = self.start {
            let secs = t.elapsed().as_secs_f64();
            match memory_mib() {
                Some((rss, peak, anon)) => eprintln!(
                    "[phase] {}: {secs:.2} s, rss {rss:.0} MiB (anonymous {anon:.0}), peak {peak:.0} MiB",
                    self.name
                ),
                None => eprintln!("[phase] {}: {secs:.2} s", self.name),
            }
        }
    }
}

/// Wall time of named steps summed over many repetitions (e.g. the iterations of a phase),
/// logged as one line by [`Split::log`]; does nothing while logging is off.
pub struct Split {
    on: bool,
    names: &'static [&'static str],
    secs: Vec<f64>,
    last: Option<Instant>,
}

impl Split {
    /// A split over the steps `names` (indices into this list name them in [`Split::lap`]).
    pub fn new(names: &'static [&'static str]) -> Split {
        Split {
            on: enabled(),
            names,
            secs: vec![0.0; names.len()],
            last: None,
        }
    }
    /// Starts (or restarts) the clock.
    pub fn start(&mut self) {
        if self.on {
            self.last = Some(Instant::now());
        }
    }
    /// Adds the time since the last call (or [`Split::start`]) to step `i`.
    pub fn lap(&mut self, i: usize) {
        if let Some(t) = self.last {
            let now = Instant::now();
            self.secs[i] += (now - t).as_secs_f64();
            self.last = Some(now);
        }
    }
    /// Writes the sums as one line under `title`.
    pub fn log(&self, title: &str) {
        if self.on {
            let parts: Vec<String> = self
                .names
                .iter()
                .zip(&self.secs)
                .map(|(n, s)| format!("{n} {s:.2} s"))
                .collect();
            eprintln!("[phase] {title}: {}", parts.join(", "));
        }
    }
}
