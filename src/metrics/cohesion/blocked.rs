//! Exact per-point, per-label distance sums for the silhouette, as blocked `f32` matrix products over
//! the upper triangle of square blocks.
//!
//! Points are centred on their pooled mean, stored in `f32` and grouped by label (a stable sort, so each
//! block holds a few contiguous label runs). For every block pair `(I, J)`, `I ≤ J`, one matrix
//! product (the `gemm` crate: runtime-selected SIMD kernel, one thread per block) gives `−2 x_i·x_j`;
//! the norms are added and the square root taken in place in `f32`, then each row's distances are
//! summed per label run of `J` in `f64` (eight fixed lanes), and, off the diagonal, each column's
//! distances per label run of `I` (the symmetric half). Every partial sum of a block is rounded once to a fixed-point integer and added to
//! the point's total with integer addition, which is associative: the totals are identical whatever the
//! thread count or the order in which blocks finish. The quantum is `2·max‖x‖·N / 2⁶²`.

use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::metrics::distance::pooled_mean;

/// Rows (and columns) per block.
pub(crate) const BLOCK: usize = 768;

/// A contiguous run `start..end` of points with one label.
#[derive(Debug, Clone, Copy)]
struct Run {
    label: usize,
    start: usize,
    end: usize,
}

/// Label runs of the sorted labels inside `r0..r1`.
fn runs(sorted: &[usize], r0: usize, r1: usize) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for (i, &l) in sorted.iter().enumerate().take(r1).skip(r0) {
        match out.last_mut() {
            Some(r) if r.label == l => r.end = i + 1,
            _ => out.push(Run {
                label: l,
                start: i,
                end: i + 1,
            }),
        }
    }
    out
}

/// Sum of `f32` values in `f64` with eight fixed lanes (a fixed order, so the same bits every time).
#[inline]
fn sum_f64(v: &[f32]) -> f64 {
    let mut lanes = [0.0f64; 8];
    let chunks = v.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (l, &x) in lanes.iter_mut().zip(c) {
            *l += f64::from(x);
        }
    }
    let mut s = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
        + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    for &x in rest {
        s += f64::from(x);
    }
    s
}

/// `c[m×n] = −2 · a[m×d] · b[n×d]ᵀ` (all row-major, contiguous).
fn neg2_gram(a: &[f32], b: &[f32], m: usize, n: usize, d: usize, c: &mut [f32]) {
    debug_assert!(a.len() >= m * d && b.len() >= n * d && c.len() >= m * n);
    // SAFETY: the slices hold at least m·d, n·d and m·n elements (checked above in debug builds and
    // guaranteed by the callers, which slice whole rows); strides describe those row-major layouts.
    unsafe {
        gemm::gemm(
            m,
            n,
            d,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            d as isize,
            b.as_ptr(),
            d as isize,
            1,
            0.0,
            -2.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Points centred on their pooled mean, stored in `f32` and grouped by label.
pub(crate) struct Grouped {
    /// Row-major `[n × d]` centred coordinates, in label order.
    data: Vec<f32>,
    /// Squared norms of the stored rows.
    norms: Vec<f32>,
    d: usize,
    /// Original index of each stored row.
    order: Vec<usize>,
    /// Stored row of each original index.
    pos: Vec<usize>,
    /// Label runs of each block of stored rows.
    block_runs: Vec<Vec<Run>>,
}

impl Grouped {
    /// Stacks `parts`, centres and groups the rows by `labels` (stable).
    pub(crate) fn new(parts: &[ArrayView2<f32>], labels: &[usize]) -> Self {
        let n = labels.len();
        let d = parts.first().map_or(0, |p| p.ncols());
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| labels[i]);
        let mut pos = vec![0usize; n];
        for (p, &o) in order.iter().enumerate() {
            pos[o] = p;
        }
        let sorted: Vec<usize> = order.iter().map(|&i| labels[i]).collect();
        let mean = pooled_mean(parts);
        let rows: Vec<ndarray::ArrayView1<f32>> =
            parts.iter().flat_map(|p| p.outer_iter()).collect();
        let mut data = vec![0.0f32; n * d];
        let mut norms = vec![0.0f32; n];
        if d > 0 {
            data.par_chunks_mut(d)
                .zip(norms.par_iter_mut())
                .zip(order.par_iter())
                .for_each(|((dst, nrm), &src)| {
                    let mut acc = 0.0f64;
                    for ((o, &v), &m) in dst.iter_mut().zip(rows[src].iter()).zip(&mean) {
                        *o = (f64::from(v) - m) as f32;
                        acc += f64::from(*o) * f64::from(*o);
                    }
                    *nrm = acc as f32;
                });
        }
        let block_runs = (0..n.div_ceil(BLOCK))
            .map(|b| runs(&sorted, b * BLOCK, ((b + 1) * BLOCK).min(n)))
            .collect();
        Grouped {
            data,
            norms,
            d,
            order,
            pos,
            block_runs,
        }
    }

    fn n(&self) -> usize {
        self.order.len()
    }

    /// Fixed-point scale for sums of `n` values of at most `max_value` each.
    fn scale(&self, max_value: f64) -> f64 {
        let bound = max_value * 1.01 * self.n().max(1) as f64;
        if bound > 0.0 {
            (1u64 << 62) as f64 / bound
        } else {
            1.0
        }
    }

    fn max_distance(&self) -> f64 {
        2.0 * f64::from(self.norms.iter().fold(0.0f32, |m, &v| m.max(v)).sqrt())
    }
}

/// What the pair values are before they are summed per label.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kernel {
    /// Euclidean distance `‖x − y‖`.
    Distance,
    /// Gaussian kernel `exp(−‖x − y‖² / σ²)` with this `1/σ²`.
    Rbf(f32),
}

impl Kernel {
    /// Turns a row of `−2 x·y` into kernel values in place.
    #[inline]
    fn apply(self, row: &mut [f32], ni: f32, norms: &[f32]) {
        match self {
            Kernel::Distance => {
                for (v, &nj) in row.iter_mut().zip(norms) {
                    *v = (ni + nj + *v).max(0.0).sqrt();
                }
            }
            Kernel::Rbf(inv) => {
                for (v, &nj) in row.iter_mut().zip(norms) {
                    *v = (-(ni + nj + *v).max(0.0) * inv).exp();
                }
            }
        }
    }

    fn max_value(self, g: &Grouped) -> f64 {
        match self {
            Kernel::Distance => g.max_distance(),
            Kernel::Rbf(_) => 1.0,
        }
    }
}

/// Per point (in the original order) and per label, the sum of the Euclidean distances to the points
/// with that label (`labels[i] < n_labels`); returns a flat `[n × n_labels]` vector.
pub(crate) fn label_distance_sums_f32(
    parts: &[ArrayView2<f32>],
    labels: &[usize],
    n_labels: usize,
) -> Vec<f64> {
    let gr = Grouped::new(parts, labels);
    let (n, d) = (gr.n(), gr.d);
    let scale = gr.scale(Kernel::Distance.max_value(&gr));
    let quant = |v: f64| (v * scale + 0.5) as u64;
    let acc: Vec<AtomicU64> = (0..n * n_labels).map(|_| AtomicU64::new(0)).collect();
    let n_blocks = n.div_ceil(BLOCK);
    let pairs: Vec<(usize, usize)> = (0..n_blocks)
        .flat_map(|i| (i..n_blocks).map(move |j| (i, j)))
        .collect();
    pairs.par_iter().for_each_init(
        || (vec![0.0f32; BLOCK * BLOCK], vec![0.0f64; BLOCK]),
        |(g, col), &(bi, bj)| {
            let (r0, c0) = (bi * BLOCK, bj * BLOCK);
            let (m, w) = ((r0 + BLOCK).min(n) - r0, (c0 + BLOCK).min(n) - c0);
            let g = &mut g[..m * w];
            neg2_gram(&gr.data[r0 * d..], &gr.data[c0 * d..], m, w, d, g);
            for (i, row) in g.chunks_exact_mut(w).enumerate() {
                Kernel::Distance.apply(row, gr.norms[r0 + i], &gr.norms[c0..c0 + w]);
                if bi == bj {
                    row[i] = 0.0;
                }
                let base = (r0 + i) * n_labels;
                for r in &gr.block_runs[bj] {
                    let s = sum_f64(&row[r.start - c0..r.end - c0]);
                    acc[base + r.label].fetch_add(quant(s), Ordering::Relaxed);
                }
            }
            if bi == bj {
                return; // the full diagonal block already fed both sides of each pair
            }
            let col = &mut col[..w];
            for r in &gr.block_runs[bi] {
                col.fill(0.0);
                for row in g[(r.start - r0) * w..(r.end - r0) * w].chunks_exact(w) {
                    for (c, &v) in col.iter_mut().zip(row) {
                        *c += f64::from(v);
                    }
                }
                for (j, &c) in col.iter().enumerate() {
                    acc[(c0 + j) * n_labels + r.label].fetch_add(quant(c), Ordering::Relaxed);
                }
            }
        },
    );
    let mut out = vec![0.0f64; n * n_labels];
    for (p, &orig) in gr.order.iter().enumerate() {
        for l in 0..n_labels {
            out[orig * n_labels + l] = acc[p * n_labels + l].load(Ordering::Relaxed) as f64 / scale;
        }
    }
    out
}

/// For each anchor (an original index into the stacked rows of `gr`), the sum per label of
/// `kernel(anchor, j)` over all points `j` other than the anchor itself; flat `[anchors × n_labels]`.
/// Anchor blocks × point blocks, each an `sgemm`, summed in fixed point as above.
pub(crate) fn anchor_label_sums(
    gr: &Grouped,
    n_labels: usize,
    anchors: &[usize],
    kernel: Kernel,
) -> Vec<f64> {
    let (n, d) = (gr.n(), gr.d);
    let na = anchors.len();
    let scale = gr.scale(kernel.max_value(gr));
    let quant = |v: f64| (v * scale + 0.5) as u64;
    let mut adata = vec![0.0f32; na * d];
    let mut anorm = vec![0.0f32; na];
    let apos: Vec<usize> = anchors.iter().map(|&a| gr.pos[a]).collect();
    for ((dst, nrm), &p) in adata.chunks_mut(d.max(1)).zip(&mut anorm).zip(&apos) {
        if d > 0 {
            dst.copy_from_slice(&gr.data[p * d..(p + 1) * d]);
        }
        *nrm = gr.norms[p];
    }
    let acc: Vec<AtomicU64> = (0..na * n_labels).map(|_| AtomicU64::new(0)).collect();
    let tiles: Vec<(usize, usize)> = (0..na.div_ceil(BLOCK))
        .flat_map(|i| (0..n.div_ceil(BLOCK)).map(move |j| (i, j)))
        .collect();
    tiles.par_iter().for_each_init(
        || vec![0.0f32; BLOCK * BLOCK],
        |g, &(bi, bj)| {
            let (r0, c0) = (bi * BLOCK, bj * BLOCK);
            let (m, w) = ((r0 + BLOCK).min(na) - r0, (c0 + BLOCK).min(n) - c0);
            let g = &mut g[..m * w];
            neg2_gram(&adata[r0 * d..], &gr.data[c0 * d..], m, w, d, g);
            for (i, row) in g.chunks_exact_mut(w).enumerate() {
                kernel.apply(row, anorm[r0 + i], &gr.norms[c0..c0 + w]);
                let p = apos[r0 + i];
                if (c0..c0 + w).contains(&p) {
                    row[p - c0] = 0.0;
                }
                let base = (r0 + i) * n_labels;
                for r in &gr.block_runs[bj] {
                    let s = sum_f64(&row[r.start - c0..r.end - c0]);
                    acc[base + r.label].fetch_add(quant(s), Ordering::Relaxed);
                }
            }
        },
    );
    acc.iter()
        .map(|a| a.load(Ordering::Relaxed) as f64 / scale)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::distance::{label_distance_sums, prepare};
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn mixture(n: usize, d: usize, k: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let centres = Array2::from_shape_fn((k, d), |_| rng.gen_range(-2.0f32..2.0));
        let labels: Vec<usize> = (0..n).map(|_| rng.gen_range(0..k)).collect();
        let x = Array2::from_shape_fn((n, d), |(i, j)| {
            centres[[labels[i], j]] + rng.gen_range(-1.0f32..1.0) + 5.0
        });
        (x, labels)
    }

    #[test]
    fn blocked_sums_match_the_f64_tiles_across_block_edges() {
        // 1,300 points: three blocks, a partial last one, labels shuffled across blocks
        let (x, labels) = mixture(1300, 37, 4, 3);
        let got = label_distance_sums_f32(&[x.view()], &labels, 4);
        let mean = pooled_mean(&[x.view()]);
        let want = label_distance_sums(&prepare::<f64>(&[x.view()], &mean), &labels, 4);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{g} vs {w}");
        }
    }

    #[test]
    fn blocked_sums_are_identical_at_any_thread_count() {
        let (x, labels) = mixture(1100, 20, 3, 5);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| label_distance_sums_f32(&[x.view()], &labels, 3))
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(5));
    }
}
