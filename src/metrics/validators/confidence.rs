//! Validators of the target softmax alone: entropy and batch nuclear-norm maximisation.

use ndarray::{Array2, ArrayView2};

use super::super::{check_finite, softmax_f64, MetricsResult};
use super::common::too_few;

/// Entropy validator: `−mean_i H(softmax(logits_i))` (natural log). Higher = more confident.
pub fn entropy_score(logits: ArrayView2<f32>) -> MetricsResult<f64> {
    let n = logits.nrows();
    if n == 0 {
        return Err(too_few("entropy", 1, 0));
    }
    check_finite(logits, "logits")?;
    let p = softmax_f64(logits);
    let h: f64 = p
        .outer_iter()
        .map(|r| {
            -r.iter()
                .filter(|&&v| v > 0.0)
                .map(|v| v * v.ln())
                .sum::<f64>()
        })
        .sum();
    Ok(-h / n as f64)
}

/// Singular values of `a` (`[N, C]`) by one-sided Jacobi rotations (Hestenes) in `f64`, in column
/// order (not sorted). Accurate to rounding for the small matrices of a softmax batch.
pub fn singular_values(a: &Array2<f64>) -> Vec<f64> {
    let (n, c) = a.dim();
    let mut cols: Vec<Vec<f64>> = (0..c).map(|j| a.column(j).to_vec()).collect();
    let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>();
    for _sweep in 0..100 {
        let mut rotated = false;
        for p in 0..c {
            for q in p + 1..c {
                let alpha = dot(&cols[p], &cols[p]);
                let beta = dot(&cols[q], &cols[q]);
                let gamma = dot(&cols[p], &cols[q]);
                if gamma == 0.0 || gamma.abs() <= 1e-15 * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let cs = 1.0 / (1.0 + t * t).sqrt();
                let sn = cs * t;
                let (lo, hi) = cols.split_at_mut(q);
                let (cp, cq) = (&mut lo[p], &mut hi[0]);
                for i in 0..n {
                    let (x, y) = (cp[i], cq[i]);
                    cp[i] = cs * x - sn * y;
                    cq[i] = sn * x + cs * y;
                }
            }
        }
        if !rotated {
            break;
        }
    }
    cols.iter().map(|c| dot(c, c).sqrt()).collect()
}

/// Batch nuclear-norm validator: `‖softmax(logits)‖_* / N` (sum of the singular values of the softmax
/// matrix over the number of rows), the negative of pytorch-adapt's `BNMLoss`. Higher = confident and
/// diverse predictions.
pub fn bnm(logits: ArrayView2<f32>) -> MetricsResult<f64> {
    let n = logits.nrows();
    if n == 0 {
        return Err(too_few("bnm", 1, 0));
    }
    check_finite(logits, "logits")?;
    let p = softmax_f64(logits);
    Ok(singular_values(&p).iter().sum::<f64>() / n as f64)
}
