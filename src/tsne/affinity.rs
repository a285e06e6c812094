//! Perplexity calibration and the symmetric sparse affinity matrix P.
use crate::neighbours::Neighbours;
use rayon::prelude::*;

/// A square sparse matrix in compressed-row form, its rows stored in a locality order: stored
/// row `r` is row `row_of[r]` of the matrix, and row `i` is stored at `rank[i]`. Columns are
/// named by their stored row too (matrix column `j` is `rank[j]`) and kept in ascending matrix
/// column order within each row. A loop over the stored rows reads P in order, and the rows it
/// visits one after another, and the columns they name, are near each other: a copy of the
/// points in stored order keeps the points such a loop reads in cache.
#[derive(Debug, Clone)]
pub struct Csr {
    /// Stored-row start offsets, length N+1.
    pub indptr: Vec<usize>,
    /// Column indices, as stored rows.
    pub indices: Vec<u32>,
    /// Values, in `f32`: half the memory of P and of the traffic of every attractive pass;
    /// sums over them are taken in `f64`.
    pub data: Vec<f32>,
    /// The matrix row of each stored row.
    pub row_of: Vec<u32>,
    /// The stored row of each matrix row (the inverse of `row_of`).
    pub rank: Vec<u32>,
}

impl Csr {
    /// Number of rows.
    pub fn n(&self) -> usize {
        self.indptr.len() - 1
    }
    /// Matrix columns and values of matrix row `i`.
    #[cfg(test)]
    pub fn row(&self, i: usize) -> (Vec<u32>, &[f32]) {
        let r = self.rank[i] as usize;
        let span = self.indptr[r]..self.indptr[r + 1];
        let cols = self.indices[span.clone()]
            .iter()
            .map(|&c| self.row_of[c as usize]);
        (cols.collect(), &self.data[span])
    }
    /// `y` (indexed by matrix row) copied into `out` in stored order.
    pub fn gather<T: Copy + Send + Sync>(&self, y: &[T], out: &mut [T]) {
        out.par_iter_mut()
            .zip(self.row_of.par_iter())
            .with_min_len(4096)
            .for_each(|(o, &i)| *o = y[i as usize]);
    }
    /// The same matrix with its rows stored in `row_of` (a permutation of `0..N`): every row
    /// keeps its values and the order of its terms (ascending matrix column), only the names
    /// of the stored rows change. A sum over a row therefore gives the same bits before and
    /// after; loops over the stored rows read memory in the new order.
    pub fn reorder(&mut self, row_of: Vec<u32>) {
        let n = self.n();
        assert_eq!(row_of.len(), n, "a permutation of the rows");
        let mut rank = vec![0u32; n];
        for (r, &i) in row_of.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        // Old stored row -> new stored row, for renaming the columns.
        let rename: Vec<u32> = self.row_of.iter().map(|&i| rank[i as usize]).collect();
        let mut indptr = Vec::with_capacity(n + 1);
        indptr.push(0usize);
        for &i in &row_of {
            let r = self.rank[i as usize] as usize;
            indptr.push(indptr[indptr.len() - 1] + self.indptr[r + 1] - self.indptr[r]);
        }
        let nnz = indptr[n];
        let mut cols = vec![0u32; nnz];
        let mut vals = vec![0f32; nnz];
        let old = &*self;
        row_blocks(&indptr, &mut cols, &mut vals)
            .into_par_iter()
            .for_each(|(b0, b1, c, v)| {
                let mut at = 0;
                for &i in &row_of[b0..b1] {
                    let r = old.rank[i as usize] as usize;
                    let span = old.indptr[r]..old.indptr[r + 1];
                    let len = span.len();
                    for (o, &col) in c[at..at + len].iter_mut().zip(&old.indices[span.clone()]) {
                        *o = rename[col as usize];
                    }
                    v[at..at + len].copy_from_slice(&old.data[span]);
                    at += len;
                }
            });
        *self = Csr {
            indptr,
            indices: cols,
            data: vals,
            row_of,
            rank,
        };
    }
}

/// The points of a 2-D map along a Z-order (Morton) curve over its bounding box, ties by
/// index: points near each other on the map are mostly near each other in this order.
pub fn map_order(y: &[[f64; 2]]) -> Vec<u32> {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for q in y {
        for d in 0..2 {
            lo[d] = lo[d].min(q[d]);
            hi[d] = hi[d].max(q[d]);
        }
    }
    let cell = |v: f64, d: usize| -> u64 {
        let span = hi[d] - lo[d];
        if span > 0.0 && span.is_finite() {
            (((v - lo[d]) / span) * 65535.0).clamp(0.0, 65535.0) as u64
        } else {
            0
        }
    };
    // Interleaves the bits of a 16-bit value with zeros.
    let spread = |mut v: u64| {
        v = (v | (v << 8)) & 0x00ff_00ff;
        v = (v | (v << 4)) & 0x0f0f_0f0f;
        v = (v | (v << 2)) & 0x3333_3333;
        (v | (v << 1)) & 0x5555_5555
    };
    let mut keys: Vec<u64> = y
        .par_iter()
        .enumerate()
        .map(|(i, q)| {
            let z = spread(cell(q[0], 0)) | (spread(cell(q[1], 1)) << 1);
            (z << 32) | i as u64
        })
        .collect();
    keys.par_sort_unstable();
    keys.into_iter().map(|k| k as u32).collect()
}

/// Gaussian conditional probabilities of one row with entropy ln(perplexity), found by
/// bisection on the precision. `d2` are squared distances.
pub(super) fn calibrate_row(d2: &[f64], perplexity: f64, out: &mut [f64]) {
    let target = perplexity.ln();
    let dmin = d2.iter().cloned().fold(f64::INFINITY, f64::min);
    let (mut beta, mut lo, mut hi) = (1.0f64, f64::NEG_INFINITY, f64::INFINITY);
    for _ in 0..200 {
        let mut sum = 0.0;
        let mut wsum = 0.0;
        for (o, &d) in out.iter_mut().zip(d2) {
            let p = (-(d - dmin) * beta).exp();
            *o = p;
            sum += p;
            wsum += (d - dmin) * p;
        }
        let h = sum.ln() + beta * wsum / sum;
        if (h - target).abs() < 1e-8 {
            break;
        }
        if h > target {
            lo = beta;
            beta = if hi.is_finite() {
                (beta + hi) / 2.0
            } else {
                beta * 2.0
            };
        } else {
            hi = beta;
            beta = if lo.is_finite() {
                (beta + lo) / 2.0
            } else {
                beta / 2.0
            };
        }
    }
    let sum: f64 = out.iter().sum();
    for o in out.iter_mut() {
        *o /= sum;
    }
}

/// Where each row is listed by others: row `j`'s sources are `pos[start[j]..start[j + 1]]`,
/// the flat positions `i·k + t` of the entries `(i, t)` that list `j`, in ascending `i`.
struct Reverse<P> {
    start: Vec<usize>,
    pos: Vec<P>,
}

fn reverse<P>(indices: &[u32], n: usize) -> Reverse<P>
where
    P: Copy + Default + TryFrom<usize>,
{
    let mut start = vec![0usize; n + 1];
    for &j in indices {
        start[j as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut pos = vec![P::default(); indices.len()];
    for (at, &j) in indices.iter().enumerate() {
        let slot = &mut fill[j as usize];
        pos[*slot] = P::try_from(at).unwrap_or_else(|_| unreachable!("positions fit the type"));
        *slot += 1;
    }
    Reverse { start, pos }
}

/// Rows of output assembled per parallel task.
const ROW_BLOCK: usize = 2048;

/// A block of stored rows `b0..b1` and its disjoint slices of the columns and values.
type RowBlock<'a> = (usize, usize, &'a mut [u32], &'a mut [f32]);

/// The output of a matrix with row offsets `indptr`, cut into blocks of [`ROW_BLOCK`] rows that
/// parallel tasks fill independently.
fn row_blocks<'a>(indptr: &[usize], cols: &'a mut [u32], vals: &'a mut [f32]) -> Vec<RowBlock<'a>> {
    let n = indptr.len() - 1;
    let mut blocks = Vec::with_capacity(n.div_ceil(ROW_BLOCK));
    let (mut rc, mut rv) = (cols, vals);
    for b0 in (0..n).step_by(ROW_BLOCK) {
        let b1 = (b0 + ROW_BLOCK).min(n);
        let len = indptr[b1] - indptr[b0];
        let (c, rest_c) = std::mem::take(&mut rc).split_at_mut(len);
        let (v, rest_v) = std::mem::take(&mut rv).split_at_mut(len);
        (rc, rv) = (rest_c, rest_v);
        blocks.push((b0, b1, c, v));
    }
    blocks
}

/// The symmetric matrix from conditional probabilities `cond` (`[N, k]`, aligned with
/// `indices`) and the reverse lists: row `i` holds `(p_{j|i} + p_{i|j}) / (2N)` for every `j`
/// that lists `i` or that `i` lists, in ascending column order, each column named by its
/// stored row.
fn assemble<P>(indices: &[u32], cond: &[f64], k: usize, rev: &Reverse<P>, row_of: Vec<u32>) -> Csr
where
    P: Copy + Send + Sync + Into<u64>,
{
    let n = rev.start.len() - 1;
    let sources = |i: usize| &rev.pos[rev.start[i]..rev.start[i + 1]];
    let source_row = |p: P| (p.into() as usize / k) as u32;
    // Row lengths: own entries plus the sources not listed by the row itself.
    let lens: Vec<usize> = row_of
        .par_iter()
        .map_init(Vec::new, |own: &mut Vec<u32>, &i| {
            let i = i as usize;
            own.clear();
            own.extend_from_slice(&indices[i * k..(i + 1) * k]);
            own.sort_unstable();
            let dup = sources(i)
                .iter()
                .filter(|&&p| own.binary_search(&source_row(p)).is_ok())
                .count();
            k + sources(i).len() - dup
        })
        .collect();
    let mut indptr = Vec::with_capacity(n + 1);
    indptr.push(0usize);
    for l in &lens {
        indptr.push(indptr[indptr.len() - 1] + l);
    }
    drop(lens);
    let mut rank = vec![0u32; n];
    for (r, &i) in row_of.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    let nnz = indptr[n];
    let mut cols = vec![0u32; nnz];
    let mut vals = vec![0f32; nnz];
    let norm = 1.0 / (2.0 * n as f64);
    row_blocks(&indptr, &mut cols, &mut vals)
        .into_par_iter()
        .for_each_init(Vec::new, |e: &mut Vec<(u32, f64)>, (b0, b1, c, v)| {
            let mut at = 0;
            for &i in &row_of[b0..b1] {
                let i = i as usize;
                e.clear();
                let own = (i * k..(i + 1) * k).map(|t| (indices[t], cond[t]));
                let back = sources(i)
                    .iter()
                    .map(|&p| (source_row(p), cond[p.into() as usize]));
                e.extend(own.chain(back));
                // At most two entries share a column (i lists j, j lists i); their sum is the
                // same in either order.
                e.sort_unstable_by_key(|p| p.0);
                let mut t = 0;
                while t < e.len() {
                    let (col, mut val) = e[t];
                    if t + 1 < e.len() && e[t + 1].0 == col {
                        val += e[t + 1].1;
                        t += 1;
                    }
                    c[at] = rank[col as usize];
                    v[at] = (val * norm) as f32;
                    at += 1;
                    t += 1;
                }
            }
            debug_assert_eq!(at, c.len());
        });
    Csr {
        indptr,
        indices: cols,
        data: vals,
        row_of,
        rank,
    }
}

/// Joint affinities `P = (P_cond + P_condᵀ) / (2N)` from neighbour lists, calibrated row by
/// row (the lists' distances are overwritten by the conditional probabilities, so no second
/// `[N, k]` array is held); rows stored in `order` (a permutation of `0..N`).
pub fn joint_probabilities(knn: Neighbours, perplexity: f64, order: Vec<u32>) -> Csr {
    let k = knn.k;
    let n = knn.indices.len().checked_div(k).unwrap_or(0);
    let Neighbours {
        indices, mut dist2, ..
    } = knn;
    dist2
        .par_chunks_mut(k.max(1))
        .for_each_init(Vec::new, |d2: &mut Vec<f64>, row| {
            d2.clear();
            d2.extend_from_slice(row);
            calibrate_row(d2, perplexity, row);
        });
    let cond = dist2;
    if indices.len() <= u32::MAX as usize {
        assemble(&indices, &cond, k, &reverse::<u32>(&indices, n), order)
    } else {
        assemble(&indices, &cond, k, &reverse::<u64>(&indices, n), order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibrated_row_has_target_perplexity() {
        let d2: Vec<f64> = (1..=90).map(|i| (i as f64).sqrt()).collect();
        let mut p = vec![0.0; 90];
        calibrate_row(&d2, 30.0, &mut p);
        let h: f64 = -p
            .iter()
            .filter(|&&v| v > 0.0)
            .map(|&v| v * v.ln())
            .sum::<f64>();
        assert!((h.exp() - 30.0).abs() < 1e-4, "perplexity {}", h.exp());
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    /// Two neighbours of each of four points.
    fn tiny_knn() -> Neighbours {
        Neighbours {
            k: 2,
            indices: vec![1, 2, 0, 2, 1, 0, 0, 1],
            dist2: vec![1.0, 2.0, 1.0, 1.5, 1.5, 2.0, 3.0, 3.5],
            method: crate::neighbours::Method::Exact,
        }
    }

    #[test]
    fn joint_matrix_is_symmetric_and_normalised() {
        let p = joint_probabilities(tiny_knn(), 1.5, vec![2, 0, 3, 1]);
        let total: f64 = p.data.iter().map(|&v| f64::from(v)).sum();
        assert!((total - 1.0).abs() < 1e-6);
        let get = |i: usize, j: u32| {
            let (cols, vals) = p.row(i);
            cols.iter()
                .position(|&c| c == j)
                .map(|t| vals[t])
                .unwrap_or(0.0)
        };
        for i in 0..4 {
            for j in 0..4u32 {
                assert!((get(i, j) - get(j as usize, i as u32)).abs() < 1e-15);
            }
        }
    }

    #[test]
    fn reordered_rows_keep_their_terms_in_order() {
        let mut p = joint_probabilities(tiny_knn(), 1.5, vec![2, 0, 3, 1]);
        let before: Vec<(Vec<u32>, Vec<f32>)> = (0..4)
            .map(|i| {
                let (c, v) = p.row(i);
                (c, v.to_vec())
            })
            .collect();
        p.reorder(vec![3, 1, 0, 2]);
        assert_eq!(p.row_of, vec![3, 1, 0, 2]);
        for (i, (c, v)) in before.iter().enumerate() {
            let (c2, v2) = p.row(i);
            assert_eq!(&c2, c, "row {i}: columns");
            assert_eq!(v2, &v[..], "row {i}: values");
            assert_eq!(p.row_of[p.rank[i] as usize] as usize, i);
        }
    }

    #[test]
    fn map_order_follows_the_z_curve() {
        // Four corners and the centre: Z order visits (lo, lo), (hi, lo), (lo, hi), (hi, hi).
        let y = [[1.0, 1.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.25, 0.25]];
        assert_eq!(map_order(&y), vec![1, 4, 2, 3, 0]);
        // A degenerate map keeps the index order.
        assert_eq!(map_order(&[[2.0, 2.0]; 3]), vec![0, 1, 2]);
    }
}
