//! PCA of large f32 inputs given as several row blocks (e.g. the source and the target
//! domain), without an f64 or centred copy of the data and without joining the blocks: every
//! pass converts one chunk of rows at a time. Up to [`pca::EXACT_MAX_DIMS`] columns the
//! covariance is diagonalised exactly; above, a seeded randomized subspace iteration (the same
//! recipe as [`pca::pca_scores`]) finds the leading subspace. Peak extra memory is the `[N, k+10]`
//! f64 sketch plus one chunk per thread. Chunks are reduced in a fixed order, so the result does
//! not depend on the thread count.
use ndarray::{s, Array1, Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::pca::{self, normal, EXACT_MAX_DIMS};

const CHUNK: usize = 2048;

/// Row chunks of all blocks, in order.
fn chunks<'a>(parts: &[ArrayView2<'a, f32>]) -> Vec<ArrayView2<'a, f32>> {
    parts
        .iter()
        .flat_map(|p| {
            (0..p.nrows())
                .step_by(CHUNK)
                .map(|a| (*p).slice_move(s![a..(a + CHUNK).min(p.nrows()), ..]))
        })
        .collect()
}

fn centred(c: &ArrayView2<f32>, mean: &Array1<f64>) -> Array2<f64> {
    let mut out = c.mapv(|v| v as f64);
    out -= mean;
    out
}

/// `Σ_chunks f(centred chunk, i)`, added in chunk order.
fn reduce<F>(cs: &[ArrayView2<f32>], mean: &Array1<f64>, shape: (usize, usize), f: F) -> Array2<f64>
where
    F: Fn(&Array2<f64>, usize) -> Array2<f64> + Sync,
{
    let parts: Vec<Array2<f64>> = cs
        .par_iter()
        .enumerate()
        .map(|(i, c)| f(&centred(c, mean), i))
        .collect();
    let mut acc = Array2::<f64>::zeros(shape);
    for p in parts {
        acc += &p;
    }
    acc
}

/// `X_c · m` for the centred rows, `[N, m.ncols()]`.
fn project(cs: &[ArrayView2<f32>], mean: &Array1<f64>, m: &Array2<f64>) -> Array2<f64> {
    let parts: Vec<Array2<f64>> = cs.par_iter().map(|c| centred(c, mean).dot(m)).collect();
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    ndarray::concatenate(Axis(0), &views).unwrap_or_else(|_| Array2::zeros((0, m.ncols())))
}

/// Scores of the first `k` principal components of the rows of all `parts` (same width),
/// `[N, k]`, signs fixed as in [`pca::pca_scores`]. Deterministic for a given `seed`.
pub fn pca_scores_parts(parts: &[ArrayView2<f32>], k: usize, seed: u64) -> Array2<f64> {
    let d = parts.first().map_or(0, |p| p.ncols());
    let n: usize = parts.iter().map(|p| p.nrows()).sum();
    let k = k.min(d).min(n);
    let cs = chunks(parts);
    let sums: Vec<Array1<f64>> = cs
        .par_iter()
        .map(|c| {
            let mut s = Array1::<f64>::zeros(d);
            for r in c.rows() {
                s.zip_mut_with(&r, |a, &b| *a += b as f64);
            }
            s
        })
        .collect();
    let mut mean = Array1::<f64>::zeros(d);
    for s in sums {
        mean += &s;
    }
    mean /= n.max(1) as f64;
    let (mut comps, mut scores) = if d <= EXACT_MAX_DIMS {
        let cov = reduce(&cs, &mean, (d, d), |c, _| c.t().dot(c));
        let (_vals, vecs) = pca::symmetric_eigen(&cov);
        let comps = vecs.slice(s![.., ..k]).to_owned();
        let scores = project(&cs, &mean, &comps);
        (comps, scores)
    } else {
        let l = (k + 10).min(d).min(n);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5ca1_ab1e);
        let mut q = Array2::<f64>::from_shape_simple_fn((d, l), || normal(&mut rng));
        pca::orthonormalize(&mut q);
        let starts: Vec<usize> = cs
            .iter()
            .scan(0, |acc, c| {
                let s = *acc;
                *acc += c.nrows();
                Some(s)
            })
            .collect();
        for _ in 0..7 {
            let z = project(&cs, &mean, &q);
            q = reduce(&cs, &mean, (d, l), |c, i| {
                let zc = z.slice(s![starts[i]..starts[i] + c.nrows(), ..]);
                c.t().dot(&zc)
            });
            pca::orthonormalize(&mut q);
        }
        let z = project(&cs, &mean, &q);
        let m = z.t().dot(&z);
        let (_vals, vecs) = pca::symmetric_eigen(&m);
        let v = vecs.slice(s![.., ..k]).to_owned();
        (q.dot(&v), z.dot(&v))
    };
    pca::fix_signs(&mut comps, &mut scores);
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Orthonormal basis of the column space of `a` (for subspace comparisons).
    fn basis(a: &Array2<f64>) -> Array2<f64> {
        let mut q = a.clone();
        pca::orthonormalize(&mut q);
        q
    }

    #[test]
    fn randomized_parts_span_the_exact_principal_subspace() {
        // 3,000 × 240 f32 rows (randomized path) with a decaying spectrum, in two blocks.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let basis_rows = Array2::from_shape_simple_fn((12, 240), || normal(&mut rng));
        let scale = Array1::from_iter((0..12).map(|i| 20.0 / (1.0 + i as f64)));
        let coef = Array2::from_shape_simple_fn((3000, 12), || normal(&mut rng)) * &scale;
        let noise = Array2::from_shape_simple_fn((3000, 240), || 0.05 * normal(&mut rng));
        let x = (coef.dot(&basis_rows) + noise + 3.0).mapv(|v| v as f32);
        let k = 8;
        let r = pca_scores_parts(&[x.slice(s![..1234, ..]), x.slice(s![1234.., ..])], k, 1);
        // Exact reference: eigenvectors of the covariance, scores of the centred data.
        let xf = x.mapv(|v| v as f64);
        let mean = xf.sum_axis(Axis(0)) / 3000.0;
        let xc = &xf - &mean;
        let (_vals, vecs) = pca::symmetric_eigen(&xc.t().dot(&xc));
        let exact = xc.dot(&vecs.slice(s![.., ..k]));
        // Same column space: projecting one orthonormal basis on the other keeps its norm.
        let (qa, qb) = (basis(&r), basis(&exact));
        let overlap = qa.t().dot(&qb);
        let sv2: f64 = overlap.iter().map(|v| v * v).sum();
        assert!(
            (sv2 - k as f64).abs() < 1e-8,
            "subspace overlap {sv2} of {k}"
        );
        // And the same components, up to sign, column by column.
        for c in 0..k {
            let (a, b) = (r.column(c), exact.column(c));
            let cos = a.dot(&b) / (a.dot(&a).sqrt() * b.dot(&b).sqrt());
            assert!(cos.abs() > 1.0 - 1e-9, "component {c}: |cos| {}", cos.abs());
        }
    }

    #[test]
    fn exact_path_matches_the_in_memory_pca() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let x = Array2::from_shape_simple_fn((5000, 30), || normal(&mut rng) as f32)
            * Array1::from_iter((0..30).map(|i| 1.0 + i as f32));
        let a = pca_scores_parts(&[x.view()], 5, 0);
        let b = pca::pca_scores(x.mapv(|v| v as f64).view(), 5, 0);
        for (u, v) in a.iter().zip(b.iter()) {
            assert!((u - v).abs() < 1e-9 * (1.0 + v.abs()), "{u} vs {v}");
        }
    }
}
