//! Which rows a shard embeds: batch-aligned, contiguous per domain, a partition of all rows.

use super::Shard;

/// The rows `[start, end)` of each domain that `shard` embeds, for domains of `sizes` images cut into
/// batches of `batch` images (an empty range is `start == end`).
///
/// The batches of all domains, in order, are numbered `0..B`; the shard takes batches
/// `⌊i·B/n⌋ .. ⌊(i+1)·B/n⌋`. For each domain the boundaries `f(i)` are non-decreasing in `i` with
/// `f(0) = 0` and `f(n) = size`, so the shards tile every domain exactly once; every boundary inside a
/// domain is a multiple of `batch`, so every batch is one that a single process runs.
pub fn ranges(sizes: &[usize], batch: usize, shard: Shard) -> Vec<(usize, usize)> {
    let batch = batch.max(1);
    let batches: Vec<usize> = sizes.iter().map(|s| s.div_ceil(batch)).collect();
    let total: usize = batches.iter().sum();
    let cut = |i: usize| -> usize {
        // u128: `i · B` cannot overflow.
        ((i as u128 * total as u128) / shard.count() as u128) as usize
    };
    let (lo, hi) = (cut(shard.index()), cut(shard.index() + 1));
    let mut offset = 0usize;
    let mut out = Vec::with_capacity(sizes.len());
    for (&size, &nb) in sizes.iter().zip(&batches) {
        let row = |unit: usize| (unit.saturating_sub(offset).min(nb) * batch).min(size);
        out.push((row(lo), row(hi)));
        offset += nb;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (I, N) of many shapes, N beyond the number of rows included: the shards tile each
    /// domain in order, boundaries are batch multiples, and batch counts differ by at most one.
    #[test]
    fn shards_partition_every_domain_in_order() {
        let shapes: &[&[usize]] = &[
            &[0],
            &[1],
            &[7],
            &[16],
            &[17, 0, 33],
            &[5, 5, 5, 5],
            &[100, 1, 250],
            &[3, 1000],
        ];
        for sizes in shapes {
            for batch in [1usize, 2, 5, 16, 64] {
                let total: usize = sizes.iter().map(|s| s.div_ceil(batch)).sum();
                for n in [1usize, 2, 3, 4, 7, 16, 100, total + 5] {
                    let all: Vec<Vec<(usize, usize)>> = (0..n)
                        .map(|i| ranges(sizes, batch, Shard::new(i, n).unwrap()))
                        .collect();
                    let mut per_shard_batches = vec![0usize; n];
                    for (d, &size) in sizes.iter().enumerate() {
                        let mut at = 0;
                        for (i, r) in all.iter().enumerate() {
                            let (s, e) = r[d];
                            assert!(s <= e, "{sizes:?} b{batch} {i}/{n}: {s}..{e}");
                            if s < e {
                                assert_eq!(s, at, "{sizes:?} b{batch} {i}/{n} domain {d}");
                                assert_eq!(s % batch, 0);
                                assert!(e % batch == 0 || e == size);
                                at = e;
                                per_shard_batches[i] += (e - s).div_ceil(batch);
                            }
                        }
                        assert_eq!(at, size, "{sizes:?} b{batch} n{n} domain {d} not covered");
                    }
                    let (mn, mx) = (
                        per_shard_batches.iter().min().unwrap(),
                        per_shard_batches.iter().max().unwrap(),
                    );
                    assert!(
                        mx - mn <= 1,
                        "{sizes:?} b{batch} n{n}: {per_shard_batches:?}"
                    );
                    assert_eq!(per_shard_batches.iter().sum::<usize>(), total);
                }
            }
        }
    }

    #[test]
    fn a_small_case_by_hand() {
        // 10 and 6 images in batches of 4: batches A0 A1 A2 | B0 B1 (5), two shards: 0..2, 2..5.
        let s0 = ranges(&[10, 6], 4, Shard::new(0, 2).unwrap());
        let s1 = ranges(&[10, 6], 4, Shard::new(1, 2).unwrap());
        assert_eq!(s0, vec![(0, 8), (0, 0)]);
        assert_eq!(s1, vec![(8, 10), (0, 6)]);
        // More shards than batches: some shards are empty.
        let r: Vec<_> = (0..4)
            .map(|i| ranges(&[3], 2, Shard::new(i, 4).unwrap()))
            .collect();
        assert_eq!(
            r,
            vec![vec![(0, 0)], vec![(0, 2)], vec![(2, 2)], vec![(2, 3)]]
        );
    }
}
