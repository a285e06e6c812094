//! Exact k-nearest neighbours by blocked brute force (squared euclidean distances).
//!
//! Candidate distances come from `|q|² + |r|² − 2 q·r` on blocks (a small matrix product);
//! the selected neighbours' distances are then recomputed directly in f64. Ties are broken
//! by index, and every query is processed independently, so the result does not depend on
//! the number of threads.
use ndarray::{linalg::general_mat_mul, Array2, Axis};
use rayon::prelude::*;
use std::collections::BinaryHeap;

const QUERY_BLOCK: usize = 64;
const REF_BLOCK: usize = 2048;

/// Neighbour lists: row `i` holds indices `idx[i*k..(i+1)*k]` sorted by distance.
pub struct Knn {
    /// Neighbours per row.
    pub k: usize,
    /// Neighbour indices, row-major `[N, k]`.
    pub idx: Vec<u32>,
    /// Squared euclidean distances, row-major `[N, k]`.
    pub dist2: Vec<f64>,
}

/// Exact `k` nearest neighbours of every row of `x` among the other rows.
pub fn knn(x: &Array2<f32>, k: usize) -> Knn {
    let n = x.nrows();
    let k = k.min(n.saturating_sub(1));
    let norms: Vec<f32> = x.rows().into_iter().map(|r| r.dot(&r)).collect();
    let mut idx = vec![0u32; n * k];
    let mut dist2 = vec![0f64; n * k];
    if k == 0 {
        return Knn { k, idx, dist2 };
    }
    idx.par_chunks_mut(QUERY_BLOCK * k)
        .zip(dist2.par_chunks_mut(QUERY_BLOCK * k))
        .enumerate()
        .for_each(|(b, (idx_out, d_out))| {
            let q0 = b * QUERY_BLOCK;
            let q1 = (q0 + QUERY_BLOCK).min(n);
            let qx = x.slice(ndarray::s![q0..q1, ..]);
            let mut heaps: Vec<BinaryHeap<(u32, u32)>> =
                (q0..q1).map(|_| BinaryHeap::with_capacity(k + 1)).collect();
            let mut g = Array2::<f32>::zeros((q1 - q0, REF_BLOCK));
            for (rb, rx) in x.axis_chunks_iter(Axis(0), REF_BLOCK).enumerate() {
                let r0 = rb * REF_BLOCK;
                let rn = rx.nrows();
                let mut gv = g.slice_mut(ndarray::s![.., ..rn]);
                general_mat_mul(1.0, &qx, &rx.t(), 0.0, &mut gv);
                for (qi, heap) in heaps.iter_mut().enumerate() {
                    let qn = norms[q0 + qi];
                    let row = gv.row(qi);
                    let self_idx = q0 + qi;
                    for (j, &dot) in row.iter().enumerate() {
                        let ri = r0 + j;
                        let d = (qn + norms[ri] - 2.0 * dot).max(0.0);
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
                let i = q0 + qi;
                let xi = x.row(i);
                let mut exact: Vec<(f64, u32)> = heap
                    .into_iter()
                    .map(|(_, j)| {
                        let xj = x.row(j as usize);
                        let d: f64 = xi
                            .iter()
                            .zip(xj.iter())
                            .map(|(&a, &b)| {
                                let t = a as f64 - b as f64;
                                t * t
                            })
                            .sum();
                        (d, j)
                    })
                    .collect();
                exact.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                for (t, (d, j)) in exact.into_iter().enumerate() {
                    idx_out[qi * k + t] = j;
                    d_out[qi * k + t] = d;
                }
            }
        });
    Knn { k, idx, dist2 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tsne::pca::normal;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn matches_naive_search() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let x = Array2::from_shape_simple_fn((300, 7), || normal(&mut rng) as f32);
        let res = knn(&x, 12);
        for i in 0..300 {
            let mut all: Vec<(f64, u32)> = (0..300)
                .filter(|&j| j != i)
                .map(|j| {
                    let d: f64 = (0..7)
                        .map(|c| ((x[[i, c]] - x[[j, c]]) as f64).powi(2))
                        .sum();
                    (d, j as u32)
                })
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let want: Vec<u32> = all[..12].iter().map(|p| p.1).collect();
            assert_eq!(&res.idx[i * 12..(i + 1) * 12], &want[..]);
        }
    }
}
