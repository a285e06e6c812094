//! Errors of the shard stage: a bad `I/N`, a scheduler environment that does not name one task of an
//! array, and shards that do not add up to one whole result.

use std::path::{Path, PathBuf};

use crate::text;

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
    #[error("{}", missing_message(dir, *count, missing, in_progress))]
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
    /// A task's shard count disagrees with the finished shards already on disk (a resubmitted part
    /// of an array job that became a plan of its own, or another count): refused before any row is
    /// computed.
    #[error("{}", other_plan_message(dir, *this, *this_count, *count, finished, *same_embed))]
    OtherPlan {
        /// The shards folder.
        dir: PathBuf,
        /// The shard this task was asked to compute (`this/this_count`).
        this: usize,
        /// The shard count of this task.
        this_count: usize,
        /// The shard count of the finished shards on disk.
        count: usize,
        /// Indices of that plan's finished shards.
        finished: Vec<usize>,
        /// Whether those shards are of this embed (same model and inputs), split another way.
        same_embed: bool,
    },
    /// No finished shard at all.
    #[error("{0}: no finished shard (each task of `embed --shard` writes shards/<I>-of-<N>/shard.json when it is done)")]
    NoShards(PathBuf),
}

/// `2/4, 3/4` (at most 20, then `...`).
pub(crate) fn shards_list(v: &[usize], count: usize) -> String {
    let shown: Vec<String> = v.iter().take(20).map(|i| format!("{i}/{count}")).collect();
    let more = if v.len() > 20 { ", ..." } else { "" };
    format!("{}{more}", shown.join(", "))
}

/// The shards of a plan that are not among `finished`.
pub(crate) fn not_finished(finished: &[usize], count: usize) -> Vec<usize> {
    (0..count).filter(|i| !finished.contains(i)).collect()
}

fn missing_message(dir: &Path, count: usize, missing: &[usize], in_progress: &[usize]) -> String {
    let (what, it, i) = match missing {
        [one] => (format!("shard {one}/{count} is"), "it", one.to_string()),
        _ => (
            format!("shards {} are", shards_list(missing, count)),
            "them",
            "I".to_string(),
        ),
    };
    let started = match in_progress {
        [] => String::new(),
        [one] => format!(" ({one}/{count} was started: its folder has no shard.json yet)"),
        v => format!(
            " ({} were started: their folders have no shard.json yet)",
            shards_list(v, count)
        ),
    };
    format!(
        "{}: {what} not finished{started}; run {it} with `embed --shard {i}/{count}` (the same \
         --model, --data and --split; finished shards are kept), or merge what is there with \
         --partial",
        dir.display()
    )
}

fn other_plan_message(
    dir: &Path,
    this: usize,
    this_count: usize,
    count: usize,
    finished: &[usize],
    same_embed: bool,
) -> String {
    let missing = not_finished(finished, count);
    let state = if missing.is_empty() {
        format!("all {count} finished")
    } else {
        format!(
            "finished: {}; not finished: {}",
            shards_list(finished, count),
            shards_list(&missing, count)
        )
    };
    let head = format!(
        "{}: holds shards of {} split into {count} ({state}), but this task is shard \
         {this}/{this_count}, a plan of {}; nothing was computed",
        dir.display(),
        if same_embed {
            "this embed"
        } else {
            "another embed (another model file or other inputs)"
        },
        text::count(this_count, "shard"),
    );
    let away = format!(
        "move {} away to start a plan of {}",
        dir.display(),
        text::count(this_count, "shard")
    );
    match (same_embed, missing.first()) {
        (true, Some(m)) => format!(
            "{head}. Run the missing shard{} of that plan (--shard {m}/{count}; on Slurm, \
             resubmit with DANNSCOPE_SHARD_COUNT={count} set: task IDs are then shard indices), or {away}",
            if missing.len() > 1 { "s" } else { "" }
        ),
        (true, None) => format!("{head}. Merge those shards, or {away}"),
        (false, _) => format!("{head}. The merge takes one embed's shards only: {away}"),
    }
}
