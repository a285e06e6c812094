//! Errors of the shard stage: a bad `I/N`, a scheduler environment that does not name one task of an
//! array, and shards that do not add up to one whole result.

use std::path::PathBuf;

/// Why a shard could not be chosen, embedded or merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// A shard written as something other than `I/N` or `auto`.
    #[error("shard {given:?}: {reason}; expected I/N with 0 <= I < N (e.g. 0/4), or auto")]
    Spec {
        /// What was given.
        given: String,
        /// What is wrong.
        reason: String,
    },
    /// The scheduler's environment variables are missing, malformed or contradict each other.
    #[error("cannot tell this task's shard from the environment: {0}")]
    Scheduler(String),
    /// A shard file or folder that does not fit the others (another model, another manifest, another
    /// plan, rows that overlap).
    #[error("{path}: {message}")]
    Mismatch {
        /// The file or folder.
        path: PathBuf,
        /// What does not fit.
        message: String,
    },
    /// Shards of the plan are not finished (or not there), and a partial merge was not asked for.
    #[error("{dir}: {} of {count} shards are not finished: {}{}; run them (finished shards are kept), or merge what is there with a partial merge", missing.len(), list(missing), in_progress_note(in_progress))]
    Missing {
        /// The shards folder.
        dir: PathBuf,
        /// The plan's shard count.
        count: usize,
        /// Indices of the shards that are not finished.
        missing: Vec<usize>,
        /// Those of them whose folder exists (running, or stopped before finishing).
        in_progress: Vec<usize>,
    },
    /// No finished shard at all.
    #[error("{0}: no finished shard (each task of `embed --shard` writes shards/<I>-of-<N>/shard.json when it is done)")]
    NoShards(PathBuf),
}

fn list(v: &[usize]) -> String {
    let shown: Vec<String> = v.iter().take(20).map(usize::to_string).collect();
    let more = if v.len() > 20 { ", ..." } else { "" };
    format!("{}{more}", shown.join(", "))
}

fn in_progress_note(v: &[usize]) -> String {
    if v.is_empty() {
        String::new()
    } else {
        format!(
            " ({} started but not finished: {})",
            if v.len() == 1 { "one was" } else { "some were" },
            list(v)
        )
    }
}
