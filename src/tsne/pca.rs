//! Deterministic principal component analysis (f64 internally).
//!
//! Up to [`EXACT_MAX_DIMS`] columns the covariance matrix is diagonalised exactly (cyclic
//! Jacobi); above, a seeded randomized subspace iteration finds the leading subspace first.
//! Each component's sign is fixed so that its largest-magnitude loading is positive.
use ndarray::{s, Array1, Array2, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Largest input width handled by the exact covariance eigendecomposition.
pub const EXACT_MAX_DIMS: usize = 200;
/// Rows per chunk of the deterministic parallel reductions.
const CHUNK: usize = 2048;

/// Draws a standard normal number (Box–Muller; uses two uniform draws).
pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Eigendecomposition of a symmetric matrix by cyclic Jacobi rotations.
/// Returns eigenvalues in descending order and eigenvectors as columns.
pub(crate) fn symmetric_eigen(a: &Array2<f64>) -> (Array1<f64>, Array2<f64>) {
    let n = a.nrows();
    let mut a = a.clone();
    let mut v = Array2::<f64>::eye(n);
    for _sweep in 0..100 {
        let mut off = 0.0;
        let mut total = 0.0;
        for i in 0..n {
            for j in 0..n {
                let x = a[[i, j]] * a[[i, j]];
                total += x;
                if i != j {
                    off += x;
                }
            }
        }
        if off <= 1e-30 * total.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..n {
            for q in (p + 1)..n {
                let apq = a[[p, q]];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[[q, q]] - a[[p, p]]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let sn = t * c;
                for k in 0..n {
                    let akp = a[[k, p]];
                    let akq = a[[k, q]];
                    a[[k, p]] = c * akp - sn * akq;
                    a[[k, q]] = sn * akp + c * akq;
                }
                for k in 0..n {
                    let apk = a[[p, k]];
                    let aqk = a[[q, k]];
                    a[[p, k]] = c * apk - sn * aqk;
                    a[[q, k]] = sn * apk + c * aqk;
                }
                for k in 0..n {
                    let vkp = v[[k, p]];
                    let vkq = v[[k, q]];
                    v[[k, p]] = c * vkp - sn * vkq;
                    v[[k, q]] = sn * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[[j, j]].total_cmp(&a[[i, i]]).then(i.cmp(&j)));
    let vals = Array1::from_iter(order.iter().map(|&i| a[[i, i]]));
    let mut vecs = Array2::<f64>::zeros((n, n));
    for (dst, &src) in order.iter().enumerate() {
        vecs.column_mut(dst).assign(&v.column(src));
    }
    (vals, vecs)
}

/// `x · m` computed in parallel over fixed row chunks (each output row is independent).
fn par_dot(x: &Array2<f64>, m: &Array2<f64>) -> Array2<f64> {
    let chunks: Vec<_> = x.axis_chunks_iter(Axis(0), CHUNK).collect();
    let parts: Vec<Array2<f64>> = chunks.par_iter().map(|xc| xc.dot(m)).collect();
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    ndarray::concatenate(Axis(0), &views).unwrap_or_else(|_| Array2::zeros((0, m.ncols())))
}

/// `xᵀ · y` as a sum of per-chunk products added in chunk order.
fn par_tdot(x: &Array2<f64>, y: &Array2<f64>) -> Array2<f64> {
    let pairs: Vec<_> = x
        .axis_chunks_iter(Axis(0), CHUNK)
        .zip(y.axis_chunks_iter(Axis(0), CHUNK))
        .collect();
    let parts: Vec<Array2<f64>> = pairs.par_iter().map(|(xc, yc)| xc.t().dot(yc)).collect();
    let mut acc = Array2::<f64>::zeros((x.ncols(), y.ncols()));
    for p in parts {
        acc += &p;
    }
    acc
}

/// Orthonormalises the columns of `q` in place (modified Gram–Schmidt, two passes).
pub(crate) fn orthonormalize(q: &mut Array2<f64>) {
    for _ in 0..2 {
        for j in 0..q.ncols() {
            for i in 0..j {
                let d = q.column(i).dot(&q.column(j));
                let ci = q.column(i).to_owned();
                q.column_mut(j).scaled_add(-d, &ci);
            }
            let norm = q.column(j).dot(&q.column(j)).sqrt();
            if norm > 0.0 {
                q.column_mut(j).mapv_inplace(|v| v / norm);
            }
        }
    }
}

/// Flips each column of `comps` (and the matching column of `scores`) so that the
/// largest-magnitude entry of the component is positive.
pub(crate) fn fix_signs(comps: &mut Array2<f64>, scores: &mut Array2<f64>) {
    for j in 0..comps.ncols() {
        let mut best = 0.0f64;
        for &v in comps.column(j) {
            if v.abs() > best.abs() {
                best = v;
            }
        }
        if best < 0.0 {
            comps.column_mut(j).mapv_inplace(|v| -v);
            scores.column_mut(j).mapv_inplace(|v| -v);
        }
    }
}

/// Scores of the first `k` principal components of `x` (rows = samples), `[N, k]`.
/// `k` is clipped to the number of columns. Deterministic for a given `seed`.
pub fn pca_scores(x: ArrayView2<f64>, k: usize, seed: u64) -> Array2<f64> {
    let (n, d) = x.dim();
    let k = k.min(d).min(n);
    let mean = x.sum_axis(Axis(0)) / n as f64;
    let xc = &x - &mean;
    let (mut comps, mut scores) = if d <= EXACT_MAX_DIMS {
        let cov = par_tdot(&xc, &xc);
        let (_vals, vecs) = symmetric_eigen(&cov);
        let comps = vecs.slice(s![.., ..k]).to_owned();
        let scores = par_dot(&xc, &comps);
        (comps, scores)
    } else {
        let l = (k + 10).min(d).min(n);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5ca1_ab1e);
        let mut q = Array2::<f64>::from_shape_simple_fn((d, l), || normal(&mut rng));
        orthonormalize(&mut q);
        for _ in 0..7 {
            let z = par_dot(&xc, &q);
            q = par_tdot(&xc, &z);
            orthonormalize(&mut q);
        }
        let z = par_dot(&xc, &q);
        let m = z.t().dot(&z);
        let (_vals, vecs) = symmetric_eigen(&m);
        let v = vecs.slice(s![.., ..k]).to_owned();
        (q.dot(&v), z.dot(&v))
    };
    fix_signs(&mut comps, &mut scores);
    scores
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn jacobi_reconstructs_matrix() {
        let a = array![[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 1.0]];
        let (vals, vecs) = symmetric_eigen(&a);
        assert!(vals[0] >= vals[1] && vals[1] >= vals[2]);
        let rec = vecs.dot(&Array2::from_diag(&vals)).dot(&vecs.t());
        for (x, y) in rec.iter().zip(a.iter()) {
            assert!((x - y).abs() < 1e-12);
        }
    }

    #[test]
    fn randomized_matches_gram_eigendecomposition() {
        // 40 × 230 data (randomized path) of rank 3 plus noise; reference scores from the
        // eigendecomposition of the 40 × 40 Gram matrix of the centred data, up to sign.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let basis = Array2::from_shape_simple_fn((3, 230), || normal(&mut rng));
        let coef =
            Array2::from_shape_simple_fn((40, 3), || normal(&mut rng)) * array![[10.0, 5.0, 2.0]];
        let noise = Array2::from_shape_simple_fn((40, 230), || 1e-3 * normal(&mut rng));
        let x = coef.dot(&basis) + noise;
        let r = pca_scores(x.view(), 3, 1);
        let mean = x.sum_axis(Axis(0)) / 40.0;
        let xc = &x - &mean;
        let (vals, vecs) = symmetric_eigen(&xc.dot(&xc.t()));
        for c in 0..3 {
            let want = vecs.column(c).mapv(|v| v * vals[c].sqrt());
            let sign = if want.dot(&r.column(c)) < 0.0 {
                -1.0
            } else {
                1.0
            };
            for (a, b) in r.column(c).iter().zip(want.iter()) {
                assert!((a - sign * b).abs() < 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
            }
        }
    }
}
