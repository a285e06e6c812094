//! Exact k-nearest neighbours by blocked brute force (squared euclidean distances).
//!
//! Candidate distances come from `|q|² + |r|² − 2 q·r` on blocks (a small matrix product);
//! the selected neighbours' distances are then recomputed directly in f64. Ties are broken
//! by index, and every query is processed independently, so the result does not depend on
//! the number of threads. Time O(N·M·D), memory O(N·k): nothing N×M is held.
use ndarray::{linalg::general_mat_mul, Array2, ArrayView2, Axis};
use rayon::prelude::*;
use std::collections::BinaryHeap;

const QUERY_BLOCK: usize = 64;
const REF_BLOCK: usize = 2048;

/// The `k` nearest rows of `reference` for each row of `queries` (`None`: the rows of
/// `reference` itself, each excluding itself). Returns row-major `[Q, k]` indices and
/// squared distances (f64), sorted by distance then index. `k` must not exceed the number of
/// candidates (checked by the caller).
pub(crate) fn search(
    reference: ArrayView2<f32>,
    queries: Option<ArrayView2<f32>>,
    k: usize,
) -> (Vec<u32>, Vec<f64>) {
    let graph = queries.is_none();
    let q = match &queries {
        Some(q) => q.view(),
        None => reference.view(),
    };
    let n = q.nrows();
    let norms_r: Vec<f32> = reference.rows().into_iter().map(|r| r.dot(&r)).collect();
    let norms_q: Vec<f32> = if graph {
        norms_r.clone()
    } else {
        q.rows().into_iter().map(|r| r.dot(&r)).collect()
    };
    let mut idx = vec![0u32; n * k];
    let mut dist2 = vec![0f64; n * k];
    if k == 0 {
        return (idx, dist2);
    }
    idx.par_chunks_mut(QUERY_BLOCK * k)
        .zip(dist2.par_chunks_mut(QUERY_BLOCK * k))
        .enumerate()
        .for_each(|(b, (idx_out, d_out))| {
            let q0 = b * QUERY_BLOCK;
            let q1 = (q0 + QUERY_BLOCK).min(n);
            let qx = q.slice(ndarray::s![q0..q1, ..]);
            let mut heaps: Vec<BinaryHeap<(u32, u32)>> =
                (q0..q1).map(|_| BinaryHeap::with_capacity(k + 1)).collect();
            let mut g = Array2::<f32>::zeros((q1 - q0, REF_BLOCK));
            for (rb, rx) in reference.axis_chunks_iter(Axis(0), REF_BLOCK).enumerate() {
                let r0 = rb * REF_BLOCK;
                let rn = rx.nrows();
                let mut gv = g.slice_mut(ndarray::s![.., ..rn]);
                general_mat_mul(1.0, &qx, &rx.t(), 0.0, &mut gv);
                for (qi, heap) in heaps.iter_mut().enumerate() {
                    let qn = norms_q[q0 + qi];
                    let row = gv.row(qi);
                    // In a graph of one set a row is not its own neighbour.
                    let self_idx = if graph { q0 + qi } else { usize::MAX };
                    for (j, &dot) in row.iter().enumerate() {
                        let ri = r0 + j;
                        let d = (qn + norms_r[ri] - 2.0 * dot).max(0.0);
                        // Non-negative f32 order equals the order of their bit patterns.
                        let key = (d.to_bits(), ri as u32);
                        if heap.len() < k {
                            if ri != self_idx {
                                heap.push(key);
                            }
                        } else if key < *heap.peek().expect("heap holds k > 0 items")
                            && ri != self_idx
                        {
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
                    .map(|(_, j)| (super::rows::dist2_f64(xi, reference.row(j as usize)), j))
                    .collect();
                exact.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                for (t, (d, j)) in exact.into_iter().enumerate() {
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
        let (idx, _) = search(x.view(), None, 12);
        assert_eq!(idx, naive(&x, &x, 12, true));
        let q = Array2::from_shape_simple_fn((70, 7), || rng.gen_range(-1.0f32..1.0));
        let (idx, d) = search(x.view(), Some(q.view()), 5);
        assert_eq!(idx, naive(&x, &q, 5, false));
        assert!(d.iter().all(|v| *v >= 0.0));
    }
}
