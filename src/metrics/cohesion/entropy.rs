//! Measures on the target's predicted class distributions (no labels needed): information
//! maximisation and soft neighbourhood density.

use ndarray::ArrayView2;

use crate::metrics::distance::{for_each_tile, par_row_blocks, Prepared};
use crate::metrics::{check_finite, softmax_f64, MetricsError, MetricsResult};

fn entropy(p: impl Iterator<Item = f64>) -> f64 {
    -p.filter(|&v| v > 0.0).map(|v| v * v.ln()).sum::<f64>()
}

/// Information maximisation `H(mean_i p_i) − mean_i H(p_i)` on the softmax of `logits` (natural log).
/// Higher is better (confident and diverse predictions). No labels needed.
pub fn information_maximization(logits: ArrayView2<f32>) -> MetricsResult<f64> {
    let (p, h) = im_terms(logits)?;
    let ones = vec![1u32; h.len()];
    Ok(im_weighted(&p, &h, &ones))
}

/// The softmax rows of `logits` and their entropies: the terms of [`information_maximization`].
pub(super) fn im_terms(logits: ArrayView2<f32>) -> MetricsResult<(ndarray::Array2<f64>, Vec<f64>)> {
    let n = logits.nrows();
    if n == 0 {
        return Err(MetricsError::TooFewPoints {
            metric: "information_maximization".into(),
            needed: 1,
            found: 0,
        });
    }
    check_finite(logits, "logits")?;
    let p = softmax_f64(logits);
    let h = p.outer_iter().map(|r| entropy(r.iter().copied())).collect();
    Ok((p, h))
}

/// Information maximisation of the rows of `p` (entropies `h`) taken `counts[i]` times each.
pub(super) fn im_weighted(p: &ndarray::Array2<f64>, h: &[f64], counts: &[u32]) -> f64 {
    let w: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    let w = w.max(1) as f64;
    let mut pbar = vec![0.0f64; p.ncols()];
    let mut mean_h = 0.0f64;
    for ((row, &hi), &c) in p.outer_iter().zip(h).zip(counts) {
        if c == 0 {
            continue;
        }
        let c = f64::from(c);
        mean_h += c * hi;
        for (a, &v) in pbar.iter_mut().zip(row) {
            *a += c * v;
        }
    }
    entropy(pbar.iter().map(|v| v / w)) - mean_h / w
}

/// The softmax rows of `logits`, L2-normalised (the points of [`snd`]).
pub(super) fn snd_points(logits: ArrayView2<f32>) -> MetricsResult<Prepared<f64>> {
    let n = logits.nrows();
    if n < 2 {
        return Err(MetricsError::TooFewPoints {
            metric: "snd".into(),
            needed: 2,
            found: n,
        });
    }
    check_finite(logits, "logits")?;
    let mut p = softmax_f64(logits);
    for mut r in p.outer_iter_mut() {
        let norm = r.dot(&r).sqrt().max(1e-12);
        r /= norm;
    }
    Ok(Prepared {
        data: p,
        norms: vec![0.0; n],
    })
}

/// For each query row (`query` row `i` is point `query_index[i]` of `x`), the entropy of
/// `softmax(sim / temperature)` over the cosine similarities to all other points of `x`.
pub(super) fn snd_entropies(
    x: &Prepared<f64>,
    query: &Prepared<f64>,
    query_index: &[usize],
    temperature: f64,
) -> Vec<f64> {
    let inv_t = 1.0 / temperature;
    let blocks = par_row_blocks(query.data.nrows(), |rows| {
        let mut z = vec![0.0f64; rows.len()];
        let mut a = vec![0.0f64; rows.len()];
        for_each_tile(query, rows.clone(), x, |r0, c0, g| {
            for (i, grow) in g.outer_iter().enumerate() {
                let own = query_index[r0 + i];
                for (j, &sim) in grow.iter().enumerate() {
                    if own == c0 + j {
                        continue;
                    }
                    // shift by the largest possible cosine (1) so exp never overflows
                    let u = (sim - 1.0) * inv_t;
                    let e = u.exp();
                    z[i] += e;
                    a[i] += e * u;
                }
            }
        });
        z.iter()
            .zip(&a)
            .map(|(&zi, &ai)| zi.ln() - ai / zi)
            .collect::<Vec<_>>()
    });
    blocks.into_iter().flatten().collect()
}

/// Soft neighbourhood density: softmax rows L2-normalised, cosine similarities with self left out, each
/// row turned into a distribution by `softmax(sim / temperature)`, score = mean row entropy (natural log).
/// Higher is better. No labels needed. Computed in `f64` over tiles of rows.
pub fn snd(logits: ArrayView2<f32>, temperature: f64) -> MetricsResult<f64> {
    let h = snd_terms(logits, temperature)?;
    Ok(h.iter().sum::<f64>() / h.len() as f64)
}

/// The terms of [`snd`]: each target point's neighbourhood entropy.
pub(super) fn snd_terms(logits: ArrayView2<f32>, temperature: f64) -> MetricsResult<Vec<f64>> {
    let x = snd_points(logits)?;
    let index: Vec<usize> = (0..x.data.nrows()).collect();
    Ok(snd_entropies(&x, &x, &index, temperature))
}
