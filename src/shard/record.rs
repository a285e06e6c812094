//! What a finished shard writes last (`shards/<I>-of-<N>/shard.json`), and the fingerprints that tie
//! a shard's files to one plan.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Shard;

/// Version of [`ShardRecord`].
pub const SHARD_FORMAT: u32 = 1;

/// One domain's part of a shard.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ShardDomain {
    /// Domain folder name.
    pub domain: String,
    /// Fingerprint of the whole domain's inputs (the one a single-process embed records).
    pub fingerprint: String,
    /// Images of the domain in the split (all shards together).
    pub items: usize,
    /// First image (in path order) of this shard's rows.
    pub start: usize,
    /// One past the last image of this shard's rows (`start == end`: none, and no files).
    pub end: usize,
}

/// The record that marks a shard finished.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ShardRecord {
    /// Format version of this record.
    pub format: u32,
    /// 0-based shard index.
    pub index: usize,
    /// Number of shards of the plan.
    pub count: usize,
    /// Fingerprint of the plan (see [`plan_fingerprint`]); every shard of one embed has the same.
    pub plan: String,
    /// SHA-256 of the model file.
    pub model_sha256: String,
    /// Inference batch size (the plan is cut into its batches).
    pub batch_size: usize,
    /// Every domain of the plan, in order, with this shard's rows.
    pub domains: Vec<ShardDomain>,
}

impl ShardRecord {
    /// The shard this record describes.
    pub fn shard(&self) -> Option<Shard> {
        Shard::new(self.index, self.count).ok()
    }
}

/// Fingerprint of a plan: the domains (names, fingerprints of their inputs, sizes), the batch size and
/// the shard count. Shards of one `embed` share it; a shard of another model, manifest, split,
/// preprocessing, batch size or count does not.
pub fn plan_fingerprint(
    domains: &[(&str, &str, usize)],
    batch_size: usize,
    count: usize,
) -> String {
    let mut h = Sha256::new();
    h.update(b"dannscope-shard-plan-v1\0");
    h.update((batch_size as u64).to_le_bytes());
    h.update((count as u64).to_le_bytes());
    for (name, fp, items) in domains {
        h.update(name.as_bytes());
        h.update(b"\0");
        h.update(fp.as_bytes());
        h.update(b"\0");
        h.update((*items as u64).to_le_bytes());
    }
    hex::encode(h.finalize())
}

/// Fingerprint recorded in a shard's `<Domain>.{npz,json}`: the domain's fingerprint and the rows,
/// so that rows of one range are never taken for another's.
pub fn rows_fingerprint(domain_fingerprint: &str, start: usize, end: usize) -> String {
    let mut h = Sha256::new();
    h.update(b"dannscope-shard-rows-v1\0");
    h.update(domain_fingerprint.as_bytes());
    h.update((start as u64).to_le_bytes());
    h.update((end as u64).to_le_bytes());
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_change_with_every_input() {
        let base = plan_fingerprint(&[("A", "fa", 10), ("B", "fb", 5)], 16, 4);
        for other in [
            plan_fingerprint(&[("A", "fa", 10), ("B", "fb", 5)], 8, 4),
            plan_fingerprint(&[("A", "fa", 10), ("B", "fb", 5)], 16, 3),
            plan_fingerprint(&[("A", "fx", 10), ("B", "fb", 5)], 16, 4),
            plan_fingerprint(&[("A", "fa", 11), ("B", "fb", 5)], 16, 4),
            plan_fingerprint(&[("A", "fa", 10)], 16, 4),
            plan_fingerprint(&[("B", "fb", 5), ("A", "fa", 10)], 16, 4),
        ] {
            assert_ne!(base, other);
        }
        assert_eq!(
            base,
            plan_fingerprint(&[("A", "fa", 10), ("B", "fb", 5)], 16, 4)
        );
        assert_ne!(rows_fingerprint("f", 0, 8), rows_fingerprint("f", 0, 9));
        assert_ne!(rows_fingerprint("f", 0, 8), rows_fingerprint("g", 0, 8));
    }
}
