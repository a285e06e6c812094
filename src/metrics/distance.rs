//! Blocked pairwise squared Euclidean distances.
//!
//! Points are centred on a common mean (distances do not change, cancellation in
//! `‖x‖² + ‖y‖² − 2x·y` shrinks) and stored in the working precision. A row block of the
//! query set is multiplied against column tiles of the reference set with a matrix product; the consumer
//! receives one tile at a time, so memory stays at `rows × cols` per worker, never `N × N`.
//! Row blocks run in parallel (rayon); each row's sums are formed by one worker in column order, so the
//! results are identical at any thread count.

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2, LinalgScalar};
use rayon::prelude::*;
use serde::Serialize;

/// Working precision of the matrix products behind distance-based measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum Precision {
    /// `f32` products (fast); norms and all sums in `f64`.
    #[default]
    F32,
    /// `f64` products throughout (about twice as slow, closest to a float64 reference).
    F64,
}

/// Element type of the matrix products.
pub trait Elem: LinalgScalar + Send + Sync + 'static {
    /// Widens to `f64`.
    fn to_f64(self) -> f64;
    /// Narrows from `f64`.
    fn from_f64(v: f64) -> Self;
}

impl Elem for f32 {
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Elem for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> Self {
        v
    }
}

/// Rows per parallel work item.
pub(crate) const ROW_BLOCK: usize = 256;
/// Columns per tile.
pub(crate) const COL_BLOCK: usize = 2048;

/// Points prepared for blocked distance computation.
pub(crate) struct Prepared<T> {
    /// Centred coordinates `[N, D]`.
    pub data: Array2<T>,
    /// Squared norms of the centred rows (`f64`, from the stored values).
    pub norms: Vec<f64>,
}

/// Column means (`f64`) over the rows of all given arrays together.
pub(crate) fn pooled_mean(parts: &[ArrayView2<f32>]) -> Vec<f64> {
    let d = parts.first().map_or(0, |p| p.ncols());
    let mut sum = vec![0.0f64; d];
    let mut n = 0usize;
    for p in parts {
        for row in p.outer_iter() {
            for (s, &v) in sum.iter_mut().zip(row.iter()) {
                *s += f64::from(v);
            }
            n += 1;
        }
    }
    if n > 0 {
        for s in &mut sum {
            *s /= n as f64;
        }
    }
    sum
}

/// Stacks the rows of `parts`, centres them on `mean` and stores them in precision `T`.
pub(crate) fn prepare<T: Elem>(parts: &[ArrayView2<f32>], mean: &[f64]) -> Prepared<T> {
    let n: usize = parts.iter().map(|p| p.nrows()).sum();
    let d = mean.len();
    let mut data = Array2::<T>::zeros((n, d));
    let mut norms = vec![0.0f64; n];
    if d == 0 || n == 0 {
        return Prepared { data, norms };
    }
    let src_rows: Vec<_> = parts.iter().flat_map(|p| p.outer_iter()).collect();
    if let Some(flat) = data.as_slice_mut() {
        flat.par_chunks_mut(d)
            .zip(src_rows.into_par_iter())
            .zip(norms.par_iter_mut())
            .for_each(|((dst, src), nrm)| {
                let mut acc = 0.0f64;
                for ((o, &v), &m) in dst.iter_mut().zip(src.iter()).zip(mean.iter()) {
                    let t = T::from_f64(f64::from(v) - m);
                    *o = t;
                    let w = t.to_f64();
                    acc += w * w;
                }
                *nrm = acc;
            });
    }
    Prepared { data, norms }
}

/// Calls `f(row_start, col_start, g)` for every tile of the row block `rows` of `a` against `b`, where
/// `g[i][j] = a[row_start+i] · b[col_start+j]`. Tiles are visited in increasing column order.
pub(crate) fn for_each_tile<T: Elem, F>(
    a: &Prepared<T>,
    rows: std::ops::Range<usize>,
    b: &Prepared<T>,
    mut f: F,
) where
    F: FnMut(usize, usize, ArrayView2<T>),
{
    let ar = a.data.slice(s![rows.clone(), ..]);
    let nb = b.data.nrows();
    let mut buf = Array2::<T>::zeros((rows.len(), COL_BLOCK.min(nb.max(1))));
    let mut c0 = 0;
    while c0 < nb {
        let c1 = (c0 + COL_BLOCK).min(nb);
        let mut g = buf.slice_mut(s![.., ..c1 - c0]);
        general_mat_mul(
            T::one(),
            &ar,
            &b.data.slice(s![c0..c1, ..]).t(),
            T::zero(),
            &mut g,
        );
        f(rows.start, c0, g.view());
        c0 = c1;
    }
}

/// Runs `per_block(rows)` for each row block of `0..n` in parallel and returns the results in block order.
pub(crate) fn par_row_blocks<R: Send, F>(n: usize, per_block: F) -> Vec<R>
where
    F: Fn(std::ops::Range<usize>) -> R + Sync + Send,
{
    let n_blocks = n.div_ceil(ROW_BLOCK);
    (0..n_blocks)
        .into_par_iter()
        .map(|bi| {
            let r0 = bi * ROW_BLOCK;
            per_block(r0..(r0 + ROW_BLOCK).min(n))
        })
        .collect()
}

/// Squared distance from the stored norms and a dot product, clamped at zero.
#[inline]
pub(crate) fn sq_dist<T: Elem>(na: f64, nb: f64, g: T) -> f64 {
    (na + nb - 2.0 * g.to_f64()).max(0.0)
}

/// The `k` nearest rows of `reference` for every row of `query` (sorted by distance, then by index),
/// excluding `reference` row `i` for query row `i` when `exclude_self` is set (query and reference are then
/// the same set). Returns `[n_query][k]` reference indices.
pub(crate) fn knn_indices<T: Elem>(
    query: &Prepared<T>,
    reference: &Prepared<T>,
    k: usize,
    exclude_self: bool,
) -> Vec<Vec<usize>> {
    let blocks = par_row_blocks(query.data.nrows(), |rows| {
        let mut best: Vec<Vec<(f64, usize)>> = vec![Vec::with_capacity(k + 1); rows.len()];
        for_each_tile(query, rows.clone(), reference, |r0, c0, g| {
            for (i, grow) in g.outer_iter().enumerate() {
                let qi = r0 + i;
                let list = &mut best[i];
                let na = query.norms[qi];
                for (j, &gv) in grow.iter().enumerate() {
                    let rj = c0 + j;
                    if exclude_self && rj == qi {
                        continue;
                    }
                    let d = sq_dist(na, reference.norms[rj], gv);
                    if list.len() == k && d >= list[k - 1].0 {
                        continue;
                    }
                    // insert after every entry with distance <= d (earlier index wins ties)
                    let pos = list.partition_point(|e| e.0 <= d);
                    list.insert(pos, (d, rj));
                    list.truncate(k);
                }
            }
        });
        best.into_iter()
            .map(|l| l.into_iter().map(|e| e.1).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    });
    blocks.into_iter().flatten().collect()
}

/// Per query row, `Σ_j f(d²(q_i, r_j))` over reference rows, skipping `j == i` when `exclude_self`.
/// Sums are formed in column order in `f64`.
pub(crate) fn row_sums<T: Elem, F>(
    query: &Prepared<T>,
    reference: &Prepared<T>,
    exclude_self: bool,
    f: F,
) -> Vec<f64>
where
    F: Fn(f64) -> f64 + Sync + Send,
{
    let blocks = par_row_blocks(query.data.nrows(), |rows| {
        let mut sums = vec![0.0f64; rows.len()];
        for_each_tile(query, rows.clone(), reference, |r0, c0, g| {
            for (i, grow) in g.outer_iter().enumerate() {
                let qi = r0 + i;
                let na = query.norms[qi];
                let mut acc = sums[i];
                for (j, &gv) in grow.iter().enumerate() {
                    let rj = c0 + j;
                    if exclude_self && rj == qi {
                        continue;
                    }
                    acc += f(sq_dist(na, reference.norms[rj], gv));
                }
                sums[i] = acc;
            }
        });
        sums
    });
    blocks.into_iter().flatten().collect()
}

/// Per row and per label `l`, the sum of Euclidean distances to the other rows with label `l`
/// (`labels[j] < n_labels`). Returns a flat `[n × n_labels]` vector.
///
/// Each pair of row blocks `(I, J)`, `I ≤ J`, is multiplied once and feeds both the rows of `I` and the
/// rows of `J` (half the products of a full sweep). So that the sums do not depend on the order in which
/// workers finish, distances are added as fixed-point integers (integer addition is associative): the
/// quantum is `2·N·max‖x‖ / 2⁶²`, so no row sum can overflow and each mean distance is exact to about
/// `1e-14 · max‖x‖` for `N` = 20,000.
pub(crate) fn label_distance_sums<T: Elem>(
    x: &Prepared<T>,
    labels: &[usize],
    n_labels: usize,
) -> Vec<f64> {
    let n = x.data.nrows();
    let max_norm = x.norms.iter().fold(0.0f64, |m, &v| m.max(v)).sqrt();
    let bound = 2.0 * max_norm * n.max(1) as f64;
    let scale = if bound > 0.0 {
        (1u64 << 62) as f64 / bound
    } else {
        1.0
    };
    let n_blocks = n.div_ceil(ROW_BLOCK);
    let pairs: Vec<(usize, usize)> = (0..n_blocks)
        .flat_map(|i| (i..n_blocks).map(move |j| (i, j)))
        .collect();
    let width = n * n_labels;
    let acc = pairs
        .par_iter()
        .with_min_len(4)
        .fold(
            || {
                (
                    vec![0u64; width],
                    Array2::<T>::zeros((ROW_BLOCK, ROW_BLOCK)),
                )
            },
            |(mut acc, mut buf), &(bi, bj)| {
                let (r0, c0) = (bi * ROW_BLOCK, bj * ROW_BLOCK);
                let (r1, c1) = ((r0 + ROW_BLOCK).min(n), (c0 + ROW_BLOCK).min(n));
                let mut g = buf.slice_mut(s![..r1 - r0, ..c1 - c0]);
                let mut own = vec![0u64; n_labels];
                general_mat_mul(
                    T::one(),
                    &x.data.slice(s![r0..r1, ..]),
                    &x.data.slice(s![c0..c1, ..]).t(),
                    T::zero(),
                    &mut g,
                );
                for (i, grow) in g.outer_iter().enumerate() {
                    let qi = r0 + i;
                    let na = x.norms[qi];
                    let li = labels[qi];
                    // on the diagonal block only pairs j > i, each feeding both rows
                    let j0 = if bi == bj { i + 1 } else { 0 };
                    own.fill(0);
                    for (j, &gv) in grow.iter().enumerate().skip(j0) {
                        let rj = c0 + j;
                        let q = (sq_dist(na, x.norms[rj], gv).sqrt() * scale + 0.5) as u64;
                        own[labels[rj]] += q;
                        acc[rj * n_labels + li] += q;
                    }
                    for (a, o) in acc[qi * n_labels..(qi + 1) * n_labels].iter_mut().zip(&own) {
                        *a += o;
                    }
                }
                (acc, buf)
            },
        )
        .map(|(acc, _)| acc)
        .reduce(
            || vec![0u64; width],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        );
    acc.into_iter().map(|v| v as f64 / scale).collect()
}

/// All squared distances `d²(x_i, x_j)` for `i < j`, in row-major pair order.
pub(crate) fn pair_sq_distances<T: Elem>(x: &Prepared<T>) -> Vec<f64> {
    let blocks = par_row_blocks(x.data.nrows(), |rows| {
        let mut out = Vec::new();
        let mut per_row: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
        for_each_tile(x, rows.clone(), x, |r0, c0, g| {
            for (i, grow) in g.outer_iter().enumerate() {
                let qi = r0 + i;
                for (j, &gv) in grow.iter().enumerate() {
                    let rj = c0 + j;
                    if rj > qi {
                        per_row[i].push(sq_dist(x.norms[qi], x.norms[rj], gv));
                    }
                }
            }
        });
        for r in per_row {
            out.extend(r);
        }
        out
    });
    blocks.into_iter().flatten().collect()
}
