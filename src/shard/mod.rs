//! Shard stage: split one embed into disjoint, deterministic parts that separate processes (tasks of a
//! Slurm array job, pods of a Kubernetes Indexed Job) compute independently, and merge their files into
//! the files a single process would have written, byte for byte.
//!
//! - [`Shard`]: shard `index` of `count` (0-based), checked; [`ShardSpec`] is what the user wrote
//!   (`I/N` or `auto`, the latter resolved by [`env::from_env`]).
//! - [`plan`]: which rows each shard embeds. The rows are the embed order (domains in order, each
//!   domain's images by path: the row order of the stored files), cut into the inference batches of a
//!   single run; shard `i` of `n` takes batches `⌊i·B/n⌋ .. ⌊(i+1)·B/n⌋` of the `B` batches, so the
//!   shards partition the rows, are contiguous per domain, and every batch the engine sees is one that
//!   a single process would have run (the same numbers, whatever the engine does with a batch).
//! - [`record`]: `shards/<I>-of-<N>/shard.json`, written last by a finished shard: the plan's
//!   fingerprint (model, image list with sizes and times, preprocessing, split, batch size, shard
//!   count) and the shard's rows per domain.
//! - [`merge`]: check that the finished shards are one plan's, all there, and tile every domain's rows
//!   once; then concatenate them into `<Domain>.{npz,json}`.

pub(crate) mod error;
mod spec;

pub mod env;
pub mod merge;
pub mod plan;
pub mod record;

pub use error::ShardError;
pub use spec::{Shard, ShardSpec};
