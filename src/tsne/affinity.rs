//! Perplexity calibration and the symmetric sparse affinity matrix P.
use crate::neighbours::Neighbours;
use rayon::prelude::*;

/// A square sparse matrix in compressed-row form (columns sorted within each row).
#[derive(Debug, Clone)]
pub struct Csr {
    /// Row start offsets, length N+1.
    pub indptr: Vec<usize>,
    /// Column indices.
    pub indices: Vec<u32>,
    /// Values.
    pub data: Vec<f64>,
}

impl Csr {
    /// Number of rows.
    pub fn n(&self) -> usize {
        self.indptr.len() - 1
    }
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

/// Joint affinities `P = (P_cond + P_condᵀ) / (2N)` from calibrated neighbour lists.
pub fn joint_probabilities(knn: &Neighbours, perplexity: f64) -> Csr {
    let k = knn.k;
    let n = knn.indices.len().checked_div(k).unwrap_or(0);
    let mut cond = vec![0f64; n * k];
    cond.par_chunks_mut(k.max(1))
        .zip(knn.dist2.par_chunks(k.max(1)))
        .for_each(|(out, d2)| calibrate_row(d2, perplexity, out));
    // Entries of row i: its own neighbours plus the rows that list i as a neighbour.
    let mut counts = vec![0usize; n + 1];
    for i in 0..n {
        counts[i] += k;
        for &j in &knn.indices[i * k..(i + 1) * k] {
            counts[j as usize] += 1;
        }
    }
    let mut start = vec![0usize; n + 1];
    for i in 0..n {
        start[i + 1] = start[i] + counts[i];
    }
    let mut fill = start.clone();
    let mut cols = vec![0u32; start[n]];
    let mut vals = vec![0f64; start[n]];
    for i in 0..n {
        for t in 0..k {
            let j = knn.indices[i * k + t] as usize;
            let p = cond[i * k + t];
            cols[fill[i]] = j as u32;
            vals[fill[i]] = p;
            fill[i] += 1;
            cols[fill[j]] = i as u32;
            vals[fill[j]] = p;
            fill[j] += 1;
        }
    }
    let norm = 1.0 / (2.0 * n as f64);
    let rows: Vec<Vec<(u32, f64)>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut e: Vec<(u32, f64)> = cols[start[i]..start[i + 1]]
                .iter()
                .cloned()
                .zip(vals[start[i]..start[i + 1]].iter().cloned())
                .collect();
            // Stable sort keeps insertion order among equal columns, so sums are fixed.
            e.sort_by_key(|p| p.0);
            let mut merged: Vec<(u32, f64)> = Vec::with_capacity(e.len());
            for (c, v) in e {
                match merged.last_mut() {
                    Some(last) if last.0 == c => last.1 += v,
                    _ => merged.push((c, v)),
                }
            }
            for m in merged.iter_mut() {
                m.1 *= norm;
            }
            merged
        })
        .collect();
    let mut indptr = Vec::with_capacity(n + 1);
    indptr.push(0);
    let total: usize = rows.iter().map(|r| r.len()).sum();
    let mut indices = Vec::with_capacity(total);
    let mut data = Vec::with_capacity(total);
    for r in rows {
        for (c, v) in r {
            indices.push(c);
            data.push(v);
        }
        indptr.push(indices.len());
    }
    Csr {
        indptr,
        indices,
        data,
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

    #[test]
    fn joint_matrix_is_symmetric_and_normalised() {
        let knn = Neighbours {
            k: 2,
            indices: vec![1, 2, 0, 2, 1, 0, 0, 1],
            dist2: vec![1.0, 2.0, 1.0, 1.5, 1.5, 2.0, 3.0, 3.5],
            method: crate::neighbours::Method::Exact,
        };
        let p = joint_probabilities(&knn, 1.5);
        let total: f64 = p.data.iter().sum();
        assert!((total - 1.0).abs() < 1e-12);
        let get = |i: usize, j: u32| {
            (p.indptr[i]..p.indptr[i + 1])
                .find(|&t| p.indices[t] == j)
                .map(|t| p.data[t])
                .unwrap_or(0.0)
        };
        for i in 0..4 {
            for j in 0..4u32 {
                assert!((get(i, j) - get(j as usize, i as u32)).abs() < 1e-15);
            }
        }
    }
}
