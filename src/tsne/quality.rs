//! Quality measures and helpers on maps: exact KL divergence, trustworthiness,
//! Procrustes alignment and stratified subsampling.
use super::affinity::Csr;
use super::params::TsneError;
use crate::neighbours::dist2_f64;
use ndarray::{Array2, ArrayView2};
use rand::{seq::SliceRandom, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Columns summed in f32 before a sum is promoted to f64 (bounds the f32 rounding error).
const KL_CHUNK: usize = 1024;
/// Rows of one block of the exact normaliser: a block streams each column chunk once.
const KL_ROWS: usize = 64;
/// Independent f32 accumulators of a chunk (SIMD lanes).
const KL_LANES: usize = 8;

/// `Σ_j 1/(1 + (x − xs_j)² + (y − ys_j)²)` over one chunk, in `KL_LANES` f32 lanes summed
/// in a fixed order.
#[inline(always)]
fn kernel_sum(x: f32, y: f32, xs: &[f32], ys: &[f32]) -> f32 {
    let mut acc = [0f32; KL_LANES];
    let (cx, cy) = (xs.chunks_exact(KL_LANES), ys.chunks_exact(KL_LANES));
    let (rx, ry) = (cx.remainder(), cy.remainder());
    for (a, b) in cx.zip(cy) {
        for l in 0..KL_LANES {
            let (dx, dy) = (x - a[l], y - b[l]);
            acc[l] += 1.0 / (1.0 + dx * dx + dy * dy);
        }
    }
    let mut s = 0f32;
    for (&a, &b) in rx.iter().zip(ry) {
        let (dx, dy) = (x - a, y - b);
        s += 1.0 / (1.0 + dx * dx + dy * dy);
    }
    for v in acc {
        s += v;
    }
    s
}

/// Sums over `j > i` of the rows `i` in `r0..r1`, added into `out` (one entry per row):
/// chunks of columns aligned to multiples of `KL_CHUNK`, each promoted to f64.
#[inline(always)]
fn block_sums(xs: &[f32], ys: &[f32], r0: usize, r1: usize, out: &mut [f64]) {
    let n = xs.len();
    let mut c0 = (r0 + 1) / KL_CHUNK * KL_CHUNK;
    while c0 < n {
        let c1 = (c0 + KL_CHUNK).min(n);
        for (i, o) in (r0..r1).zip(out.iter_mut()) {
            let lo = c0.max(i + 1);
            if lo < c1 {
                *o += kernel_sum(xs[i], ys[i], &xs[lo..c1], &ys[lo..c1]) as f64;
            }
        }
        c0 = c1;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
/// [`block_sums`] compiled for AVX: the same operations in the same order, so the same bits.
unsafe fn block_sums_avx(xs: &[f32], ys: &[f32], r0: usize, r1: usize, out: &mut [f64]) {
    block_sums(xs, ys, r0, r1, out)
}

/// `Σ_{i<j} 1/(1 + d_ij²)` of the map, the same bits on every machine and thread count.
fn half_normaliser(xs: &[f32], ys: &[f32]) -> f64 {
    let n = xs.len();
    #[cfg(target_arch = "x86_64")]
    let avx = std::arch::is_x86_feature_detected!("avx");
    let blocks: Vec<f64> = (0..n.div_ceil(KL_ROWS))
        .into_par_iter()
        .map(|b| {
            let (r0, r1) = (b * KL_ROWS, ((b + 1) * KL_ROWS).min(n));
            let mut out = [0f64; KL_ROWS];
            #[cfg(target_arch = "x86_64")]
            if avx {
                // SAFETY: the CPU supports AVX (checked above).
                unsafe { block_sums_avx(xs, ys, r0, r1, &mut out) };
            } else {
                block_sums(xs, ys, r0, r1, &mut out);
            }
            #[cfg(not(target_arch = "x86_64"))]
            block_sums(xs, ys, r0, r1, &mut out);
            out[..r1 - r0].iter().sum::<f64>()
        })
        .collect();
    blocks.iter().sum()
}

/// Exact `KL(P‖Q)` of a 2-D map against sparse P, with `Q` normalised over all pairs
/// (`Z = Σ_{i≠j} 1/(1+d²)` summed exactly, O(N²), in f32 kernel values and f64 chunk sums).
pub fn kl_divergence_exact(p: &Csr, y: &[[f64; 2]]) -> f64 {
    let n = y.len();
    let xs: Vec<f32> = y.iter().map(|q| q[0] as f32).collect();
    let ys: Vec<f32> = y.iter().map(|q| q[1] as f32).collect();
    let z = 2.0 * half_normaliser(&xs, &ys);
    // Terms per stored row, from the points in stored order, summed in row order.
    let mut local = vec![[0.0f64; 2]; n];
    p.gather(y, &mut local);
    let terms: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|r| {
            let yi = local[r];
            let mut s = 0.0;
            for t in p.indptr[r]..p.indptr[r + 1] {
                let pij = f64::from(p.data[t]);
                if pij <= 0.0 {
                    continue;
                }
                let yj = local[p.indices[t] as usize];
                let (dx, dy) = (yi[0] - yj[0], yi[1] - yj[1]);
                let q = 1.0 / (1.0 + dx * dx + dy * dy) / z;
                s += pij * (pij / q).ln();
            }
            s
        })
        .collect();
    p.rank.iter().map(|&r| terms[r as usize]).sum()
}

/// Trustworthiness of `low` as an embedding of `high` with `k` neighbours, as defined by
/// scikit-learn's `sklearn.manifold.trustworthiness` (euclidean). Errors name the problem.
pub fn try_trustworthiness(
    high: ArrayView2<f32>,
    low: ArrayView2<f32>,
    k: usize,
) -> Result<f64, TsneError> {
    let n = high.nrows();
    if low.nrows() != n {
        return Err(TsneError::Shape {
            what: "trustworthiness: rows of the embedding",
            expected: format!("{n} rows"),
            found: format!("{} rows", low.nrows()),
        });
    }
    if k == 0 || 2 * k >= n {
        return Err(TsneError::InvalidParam {
            name: "k",
            expected: "1 <= k < n_samples / 2",
            found: format!("{k} with {n} samples"),
        });
    }
    let penalty: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| {
            let dh: Vec<f64> = (0..n)
                .map(|j| dist2_f64(high.row(i), high.row(j)))
                .collect();
            let mut dl: Vec<(f64, usize)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| (dist2_f64(low.row(i), low.row(j)), j))
                .collect();
            dl.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut s = 0.0;
            for &(_, j) in &dl[..k] {
                // Rank (1-based) of j among i's neighbours in the input space.
                let rank = 1
                    + (0..n)
                        .filter(|&m| m != i && (dh[m] < dh[j] || (dh[m] == dh[j] && m < j)))
                        .count();
                if rank > k {
                    s += (rank - k) as f64;
                }
            }
            s
        })
        .collect();
    let total: f64 = penalty.iter().sum();
    let (nf, kf) = (n as f64, k as f64);
    Ok(1.0 - total * 2.0 / (nf * kf * (2.0 * nf - 3.0 * kf - 1.0)))
}

/// Trustworthiness as in scikit-learn (see [`try_trustworthiness`]); returns NaN when the
/// shapes disagree or `k` is not in `1..n/2`.
pub fn trustworthiness(high: ArrayView2<f32>, low: ArrayView2<f32>, k: usize) -> f64 {
    try_trustworthiness(high, low, k).unwrap_or(f64::NAN)
}

/// Aligns a 2-D map `moving` onto `reference` (rows paired) by the similarity transform
/// (rotation or reflection, uniform scale, translation) minimising the squared error.
pub fn try_procrustes_align(
    reference: ArrayView2<f32>,
    moving: ArrayView2<f32>,
) -> Result<Array2<f32>, TsneError> {
    if reference.dim() != moving.dim() || reference.ncols() != 2 {
        return Err(TsneError::Shape {
            what: "procrustes: maps",
            expected: format!("two equal [N, 2] maps (reference is {:?})", reference.dim()),
            found: format!("{:?}", moving.dim()),
        });
    }
    let n = reference.nrows();
    if n == 0 {
        return Ok(moving.to_owned());
    }
    let mean = |m: &ArrayView2<f32>| {
        let mut s = [0.0f64; 2];
        for r in m.rows() {
            s[0] += r[0] as f64;
            s[1] += r[1] as f64;
        }
        [s[0] / n as f64, s[1] / n as f64]
    };
    let (ma, mb) = (mean(&reference), mean(&moving));
    // Cross terms of the centred maps: M = Bᵀ A.
    let (mut sxx, mut sxy, mut syx, mut syy, mut bb) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (a, b) in reference.rows().into_iter().zip(moving.rows()) {
        let (ax, ay) = (a[0] as f64 - ma[0], a[1] as f64 - ma[1]);
        let (bx, by) = (b[0] as f64 - mb[0], b[1] as f64 - mb[1]);
        sxx += bx * ax;
        sxy += bx * ay;
        syx += by * ax;
        syy += by * ay;
        bb += bx * bx + by * by;
    }
    // Best rotation: maximise trace(Rᵀ M); best reflection: same after flipping y of B.
    let rot_score = ((sxx + syy).powi(2) + (sxy - syx).powi(2)).sqrt();
    let ref_score = ((sxx - syy).powi(2) + (sxy + syx).powi(2)).sqrt();
    // Map b -> s * R b, with R as a 2×2 matrix [[r00, r01], [r10, r11]] acting on columns.
    let (r, score) = if rot_score >= ref_score {
        let t = (sxy - syx).atan2(sxx + syy);
        let (c, s) = (t.cos(), t.sin());
        ([[c, -s], [s, c]], rot_score)
    } else {
        let t = (sxy + syx).atan2(sxx - syy);
        let (c, s) = (t.cos(), t.sin());
        ([[c, s], [s, -c]], ref_score)
    };
    let scale = if bb > 0.0 { score / bb } else { 1.0 };
    let mut out = Array2::<f32>::zeros((n, 2));
    for (mut o, b) in out.rows_mut().into_iter().zip(moving.rows()) {
        let (bx, by) = (b[0] as f64 - mb[0], b[1] as f64 - mb[1]);
        o[0] = (scale * (r[0][0] * bx + r[0][1] * by) + ma[0]) as f32;
        o[1] = (scale * (r[1][0] * bx + r[1][1] * by) + ma[1]) as f32;
    }
    Ok(out)
}

/// Aligns `moving` onto `reference` (see [`try_procrustes_align`]); when the shapes are
/// not two equal `[N, 2]` maps, returns `moving` unchanged.
pub fn procrustes_align(reference: ArrayView2<f32>, moving: ArrayView2<f32>) -> Array2<f32> {
    try_procrustes_align(reference, moving).unwrap_or_else(|_| moving.to_owned())
}

/// Sorted row indices of a seeded subsample of at most `max_points` rows, with each stratum
/// (e.g. domain × class) represented in proportion to its size (largest remainders, ties
/// to the smaller stratum id). All rows are returned when there are at most `max_points`.
pub fn stratified_subsample(strata: &[u32], max_points: usize, seed: u64) -> Vec<usize> {
    let n = strata.len();
    if n <= max_points {
        return (0..n).collect();
    }
    let mut groups: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, &s) in strata.iter().enumerate() {
        groups.entry(s).or_default().push(i);
    }
    let mut quotas: Vec<(u32, usize, f64)> = groups
        .iter()
        .map(|(&s, rows)| {
            let exact = rows.len() as f64 * max_points as f64 / n as f64;
            (s, exact.floor() as usize, exact - exact.floor())
        })
        .collect();
    let assigned: usize = quotas.iter().map(|q| q.1).sum();
    let mut order: Vec<usize> = (0..quotas.len()).collect();
    order.sort_by(|&a, &b| quotas[b].2.total_cmp(&quotas[a].2).then(a.cmp(&b)));
    for &g in order.iter().take(max_points - assigned) {
        quotas[g].1 += 1;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(max_points);
    for (s, quota, _) in quotas {
        let mut rows = groups[&s].clone();
        let (chosen, _) = rows.partial_shuffle(&mut rng, quota);
        out.extend_from_slice(chosen);
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsample_is_proportional_and_seeded() {
        let strata: Vec<u32> = (0..1000)
            .map(|i| if i < 700 { 0 } else { 1 + (i % 3) })
            .collect();
        let a = stratified_subsample(&strata, 100, 5);
        assert_eq!(a.len(), 100);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(a.iter().filter(|&&i| strata[i] == 0).count(), 70);
        assert_eq!(a, stratified_subsample(&strata, 100, 5));
        assert_ne!(a, stratified_subsample(&strata, 100, 6));
        assert_eq!(stratified_subsample(&strata, 5000, 1).len(), 1000);
    }
}
