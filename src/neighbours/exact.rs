//! Exact k-nearest neighbours by blocked brute force (squared euclidean distances).
//!
//! Candidate distances come from `|q|² + |r|² − 2 q·r` on blocks (a small f32 matrix product);
//! the kept candidates' distances are then recomputed directly in f64 ([`dist2_f64`]) and the
//! `k` nearest taken. A caller may keep a few more candidates than `k` (a margin), so that f32
//! rounding cannot drop a true neighbour whose distance is within rounding of the k-th. Ties are
//! broken by index, and every query is processed independently, so the result does not depend on
//! the number of threads. Time O(N·M·D), memory O(N·k): nothing N×M is held.
use ndarray::{linalg::general_mat_mul, Array2, ArrayView2, Axis};
use rayon::prelude::*;
use std::collections::BinaryHeap;

use super::rows::dist2_f64;

const QUERY_BLOCK: usize = 64;
const REF_BLOCK: usize = 2048;

/// Marks a missing entry of a list: fewer than `k` candidates besides the query itself.
pub const NO_NEIGHBOUR: u32 = u32::MAX;

/// The rows searched for their neighbours, and which reference row each must skip.
#[derive(Clone, Copy)]
pub(crate) enum Queries<'a> {
    /// The reference rows themselves: row `i` skips reference row `i`.
    Itself,
    /// Another set: nothing is skipped.
    Other(ArrayView2<'a, f32>),
    /// A table whose rows `ids` (ascending) are the reference rows: reference row `p` is query
    /// row `ids[p]`, which skips it.
    Containing(ArrayView2<'a, f32>, &'a [usize]),
}

/// The `k` nearest rows of `reference` for each query row, keeping `k + margin` f32 candidates
/// for the f64 ranking. Returns row-major `[Q, k]` reference indices and squared distances (f64),
/// sorted by distance then index; a row with fewer candidates ends in [`NO_NEIGHBOUR`] / `NaN`.
pub(crate) fn search(
    reference: ArrayView2<f32>,
    queries: Queries<'_>,
    k: usize,
    margin: usize,
) -> (Vec<u32>, Vec<f64>) {
    let q = match &queries {
        Queries::Itself => reference.view(),
        Queries::Other(q) | Queries::Containing(q, _) => q.view(),
    };
    let n = q.nrows();
    let m = reference.nrows();
    // The reference row each query row skips (none: `usize::MAX`).
    let self_ref: Vec<usize> = match queries {
        Queries::Itself => (0..n).collect(),
        Queries::Other(_) => Vec::new(),
        Queries::Containing(_, ids) => {
            debug_assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids ascending");
            let mut s = vec![usize::MAX; n];
            for (p, &i) in ids.iter().enumerate() {
                s[i] = p;
            }
            s
        }
    };
    let norms_r: Vec<f32> = reference.rows().into_iter().map(|r| r.dot(&r)).collect();
    let norms_q: Vec<f32> = match queries {
        Queries::Itself => norms_r.clone(),
        _ => q.rows().into_iter().map(|r| r.dot(&r)).collect(),
    };
    let mut idx = vec![NO_NEIGHBOUR; n * k];
    let mut dist2 = vec![f64::NAN; n * k];
    if k == 0 {
        return (idx, dist2);
    }
    let keep = (k + margin).min(m);
    idx.par_chunks_mut(QUERY_BLOCK * k)
        .zip(dist2.par_chunks_mut(QUERY_BLOCK * k))
        .enumerate()
        .for_each(|(b, (idx_out, d_out))| {
            let q0 = b * QUERY_BLOCK;
            let q1 = (q0 + QUERY_BLOCK).min(n);
            let qx = q.slice(ndarray::s![q0..q1, ..]);
            // Max-heaps of (squared distance bits, reference row): the root is the worst kept.
            let mut heaps: Vec<BinaryHeap<(u32, u32)>> = (q0..q1)
                .map(|_| BinaryHeap::with_capacity(keep + 1))
                .collect();
            let mut g = Array2::<f32>::zeros((q1 - q0, REF_BLOCK.min(m)));
            for (rb, rx) in reference.axis_chunks_iter(Axis(0), REF_BLOCK).enumerate() {
                let r0 = rb * REF_BLOCK;
                let mut gv = g.slice_mut(ndarray::s![.., ..rx.nrows()]);
                general_mat_mul(1.0, &qx, &rx.t(), 0.0, &mut gv);
                for (qi, heap) in heaps.iter_mut().enumerate() {
                    let qn = norms_q[q0 + qi];
                    let skip = self_ref.get(q0 + qi).copied().unwrap_or(usize::MAX);
                    for (j, &dot) in gv.row(qi).iter().enumerate() {
                        let ri = r0 + j;
                        if ri == skip {
                            continue;
                        }
                        let d = (qn + norms_r[ri] - 2.0 * dot).max(0.0);
                        // Non-negative f32 values order like their bit patterns.
                        let key = (d.to_bits(), ri as u32);
                        if heap.len() < keep {
                            heap.push(key);
                        } else if key < *heap.peek().expect("heap holds keep > 0 items") {
                            heap.pop();
                            heap.push(key);
                        }
                    }
                }
            }
            for (qi, heap) in heaps.into_iter().enumerate() {
                let xi = q.row(q0 + qi);
                let mut exact: Vec<(f64, u32)> = heap
                    .into_iter()
                    .map(|(_, j)| (dist2_f64(xi, reference.row(j as usize)), j))
                    .collect();
                exact.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                for (t, (d, j)) in exact.into_iter().take(k).enumerate() {
                    idx_out[qi * k + t] = j;
                    d_out[qi * k + t] = d;
                }
            }
        });
    (idx, dist2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn naive(r: &Array2<f32>, q: &Array2<f32>, k: usize, graph: bool) -> Vec<u32> {
        let mut out = Vec::new();
        for i in 0..q.nrows() {
            let mut all: Vec<(f64, u32)> = (0..r.nrows())
                .filter(|&j| !graph || j != i)
                .map(|j| {
                    let d: f64 = (0..r.ncols())
                        .map(|c| ((q[[i, c]] - r[[j, c]]) as f64).powi(2))
                        .sum();
                    (d, j as u32)
                })
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            out.extend(all[..k].iter().map(|p| p.1));
        }
        out
    }

    #[test]
    fn matches_naive_search() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let x = Array2::from_shape_simple_fn((300, 7), || rng.gen_range(-1.0f32..1.0));
        let (idx, _) = search(x.view(), Queries::Itself, 12, 0);
        assert_eq!(idx, naive(&x, &x, 12, true));
        let q = Array2::from_shape_simple_fn((70, 7), || rng.gen_range(-1.0f32..1.0));
        let (idx, d) = search(x.view(), Queries::Other(q.view()), 5, 0);
        assert_eq!(idx, naive(&x, &q, 5, false));
        assert!(d.iter().all(|v| *v >= 0.0));
    }
}
