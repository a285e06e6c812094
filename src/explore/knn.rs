//! Nearest neighbours of every row among a subset of the rows (the source rows, or the target
//! rows), in the original embedding space.
//!
//! Below a threshold of reference rows the search is exact: the exact kernel of
//! [`crate::neighbours`] (candidates from `|q|² + |r|² − 2 q·r` on blocks, recomputed in f64, ties
//! broken by row index), keeping a few more candidates than asked. Cost: O(N·M·D) for N queries and
//! M references; measured 30 CPU-seconds at 20k × 1280 (so about 3 CPU-minutes at 50k × 1280).
//! From the threshold on it is approximate: the reference rows' NN-descent graph walked by every
//! row ([`crate::neighbours::query`]), about O(N·log N). Both give the same lists at any thread
//! count; the approximate one depends on its seed.

use ndarray::{ArrayView2, Axis};

use crate::neighbours::{Method, NeighbourError, NeighbourParams};

pub use crate::neighbours::NO_NEIGHBOUR;

/// Extra candidates kept from the f32 pass, so that rounding in `|q|² + |r|² − 2 q·r` does not
/// drop a true neighbour whose distance is within rounding of the k-th.
const MARGIN: usize = 8;

/// Neighbour lists of every row: row `i` holds `idx[i*k..(i+1)*k]`, nearest first.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighbourLists {
    /// Entries per row.
    pub k: usize,
    /// Row indices (into the full table, not into the reference subset), `[N, k]` row-major;
    /// [`NO_NEIGHBOUR`] where a row has fewer than `k` neighbours.
    pub idx: Vec<u32>,
    /// Euclidean distances (not squared), same layout; `NaN` where `idx` is [`NO_NEIGHBOUR`].
    pub dist: Vec<f32>,
    /// How they were found: [`Method::Exact`] or [`Method::Approximate`].
    pub method: Method,
}

impl NeighbourLists {
    /// The neighbours of row `i` (without the missing ones), nearest first.
    pub fn of(&self, i: usize) -> Vec<u32> {
        self.idx[i * self.k..(i + 1) * self.k]
            .iter()
            .copied()
            .filter(|&j| j != NO_NEIGHBOUR)
            .collect()
    }
}

/// For every row of `x`, its `k` nearest rows among `refs` (row indices into `x`, ascending),
/// excluding the row itself. Lists have `min(k, refs.len())` entries.
/// The search is exact.
pub fn knn_among(x: ArrayView2<f32>, refs: &[usize], k: usize) -> NeighbourLists {
    let k = k.min(refs.len());
    let (idx, dist2) = crate::neighbours::exact_among(x, refs, k, MARGIN);
    let dist = idx
        .iter()
        .zip(&dist2)
        .map(|(&j, &d)| {
            if j == NO_NEIGHBOUR {
                f32::NAN
            } else {
                d.sqrt() as f32
            }
        })
        .collect();
    NeighbourLists {
        k,
        idx,
        dist,
        method: Method::Exact,
    }
}

/// As [`knn_among`], but approximate (NN-descent, seeded by `seed`) when `refs` holds at least
/// `threshold` rows and more than `k + 1`; exact otherwise. The result names the method used.
///
/// Errors: a non-finite value in `x` (the approximate search checks its input).
pub fn knn_among_auto(
    x: ArrayView2<f32>,
    refs: &[usize],
    k: usize,
    threshold: usize,
    seed: u64,
) -> Result<NeighbourLists, NeighbourError> {
    let k = k.min(refs.len());
    if refs.len() < threshold.max(1) || refs.len() <= k + 1 || k == 0 {
        return Ok(knn_among(x, refs, k));
    }
    // Every row queries the reference rows for k + 1 neighbours; a reference row then drops
    // itself (or, when the search missed it, its last entry), any other row its last entry.
    let r = x.select(Axis(0), refs);
    let params = NeighbourParams::with_method(Method::Approximate).seed(seed);
    let found = crate::neighbours::query(r.view(), x, k + 1, &params)?;
    let mut idx = Vec::with_capacity(x.nrows() * k);
    let mut dist = Vec::with_capacity(x.nrows() * k);
    for i in 0..x.nrows() {
        let own = refs.binary_search(&i).ok().map(|p| p as u32);
        let kept = found
            .row(i)
            .iter()
            .zip(found.dist2_row(i))
            .filter(|&(&j, _)| Some(j) != own)
            .take(k);
        for (&j, &d2) in kept {
            idx.push(refs[j as usize] as u32);
            dist.push(d2.sqrt() as f32);
        }
    }
    Ok(NeighbourLists {
        k,
        idx,
        dist,
        method: Method::Approximate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn brute(x: &Array2<f32>, refs: &[usize], i: usize, k: usize) -> Vec<u32> {
        let mut all: Vec<(f64, u32)> = refs
            .iter()
            .filter(|&&j| j != i)
            .map(|&j| {
                let d: f64 = (0..x.ncols())
                    .map(|c| (f64::from(x[[i, c]]) - f64::from(x[[j, c]])).powi(2))
                    .sum();
                (d, j as u32)
            })
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        all.into_iter().take(k).map(|p| p.1).collect()
    }

    #[test]
    fn matches_brute_force_for_both_subsets() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let n = 2600; // more than one reference block for the source rows
        let x = Array2::from_shape_simple_fn((n, 9), || rng.gen_range(-1.0f32..1.0));
        let source: Vec<usize> = (0..2200).collect();
        let target: Vec<usize> = (2200..n).collect();
        for refs in [&source, &target] {
            let res = knn_among(x.view(), refs, 7);
            assert_eq!(res.k, 7);
            for i in (0..n).step_by(13).chain([0, 2199, 2200, n - 1]) {
                assert_eq!(res.of(i), brute(&x, refs, i, 7), "row {i}");
                let want = brute(&x, refs, i, 7)[0] as usize;
                let d0: f64 = (0..9)
                    .map(|c| (f64::from(x[[i, c]]) - f64::from(x[[want, c]])).powi(2))
                    .sum();
                assert!((f64::from(res.dist[i * 7]) - d0.sqrt()).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn ties_go_to_the_lower_index_and_self_is_excluded() {
        // Points on a line with duplicates: many exact ties.
        let vals = [0.0f32, 1.0, 1.0, 2.0, 0.0, 1.0, 3.0, 0.0];
        let x = Array2::from_shape_fn((vals.len(), 2), |(i, c)| if c == 0 { vals[i] } else { 0.5 });
        let refs: Vec<usize> = (0..vals.len()).collect();
        let res = knn_among(x.view(), &refs, 4);
        for i in 0..vals.len() {
            assert_eq!(res.of(i), brute(&x, &refs, i, 4), "row {i}");
            assert!(!res.of(i).contains(&(i as u32)));
        }
        assert_eq!(res.of(0), vec![4, 7, 1, 2]);
    }

    #[test]
    fn short_reference_sets_are_padded() {
        let x = Array2::from_shape_fn((5, 3), |(i, c)| (i * 3 + c) as f32);
        let res = knn_among(x.view(), &[1, 2], 3);
        assert_eq!(res.k, 2);
        assert_eq!(res.of(1), vec![2]);
        assert_eq!(res.idx[2..4], [2, NO_NEIGHBOUR]);
        assert!(res.dist[3].is_nan());
        assert_eq!(res.of(4), vec![2, 1]);
        let none = knn_among(x.view(), &[], 3);
        assert_eq!(none.k, 0);
        assert!(none.idx.is_empty());
    }
}
