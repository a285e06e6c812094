//! Class-cluster agreement: k-means of target embeddings against pseudo-labels, scored by adjusted
//! mutual information.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::super::{check_finite, MetricsError, MetricsResult};
use super::common::too_few;

/// `ln(m!)` for `m = 0..=n`, summed with Kahan compensation.
fn ln_factorials(n: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(n + 1);
    let (mut sum, mut comp) = (0.0f64, 0.0f64);
    out.push(0.0);
    for i in 1..=n {
        let y = (i as f64).ln() - comp;
        let t = sum + y;
        comp = (t - sum) - y;
        sum = t;
        out.push(sum);
    }
    out
}

/// Adjusted mutual information of two labelings (arithmetic normalisation), as scikit-learn's
/// `adjusted_mutual_info_score`: `(MI − E[MI]) / (mean(H(U), H(V)) − E[MI])`, with the expected mutual
/// information of the hypergeometric model. Both labelings having a single (same-sized) cluster gives 1.
pub fn adjusted_mutual_info(a: &[usize], b: &[usize]) -> MetricsResult<f64> {
    let n = a.len();
    if b.len() != n {
        return Err(MetricsError::Shape {
            what: "second labeling".into(),
            expected: format!("{n} labels"),
            found: b.len().to_string(),
        });
    }
    if n == 0 {
        return Err(too_few("adjusted mutual information", 1, 0));
    }
    let dense = |v: &[usize]| {
        let mut u: Vec<usize> = v.to_vec();
        u.sort_unstable();
        u.dedup();
        let idx: Vec<usize> = v.iter().map(|x| u.binary_search(x).unwrap_or(0)).collect();
        (u.len(), idx)
    };
    let (r, ia) = dense(a);
    let (c, ib) = dense(b);
    if r == c && r == 1 {
        return Ok(1.0);
    }
    let mut cont = vec![vec![0usize; c]; r];
    for (&i, &j) in ia.iter().zip(&ib) {
        cont[i][j] += 1;
    }
    let ai: Vec<usize> = cont.iter().map(|row| row.iter().sum()).collect();
    let bj: Vec<usize> = (0..c)
        .map(|j| cont.iter().map(|row| row[j]).sum())
        .collect();
    let nf = n as f64;
    // mutual information (scikit-learn's `mutual_info_score` from the contingency table)
    let mi = if r == 1 || c == 1 {
        0.0
    } else {
        let mut total = 0.0;
        for (i, row) in cont.iter().enumerate() {
            for (j, &nij) in row.iter().enumerate() {
                if nij == 0 {
                    continue;
                }
                let p = nij as f64 / nf;
                let outer = (ai[i] as f64) * (bj[j] as f64);
                let term =
                    p * ((nij as f64).ln() - nf.ln()) + p * (-outer.ln() + nf.ln() + nf.ln());
                total += if term.abs() < f64::EPSILON { 0.0 } else { term };
            }
        }
        total.max(0.0)
    };
    let entropy = |counts: &[usize]| {
        let nz: Vec<f64> = counts
            .iter()
            .filter(|&&v| v > 0)
            .map(|&v| v as f64)
            .collect();
        if nz.len() == 1 {
            return 0.0;
        }
        let s: f64 = nz.iter().sum();
        -nz.iter().map(|&v| (v / s) * (v.ln() - s.ln())).sum::<f64>()
    };
    let (ha, hb) = (entropy(&ai), entropy(&bj));
    // expected mutual information (scikit-learn's `expected_mutual_information`)
    let emi = if r == 1 || c == 1 {
        0.0
    } else {
        let lf = ln_factorials(n);
        let mut emi = 0.0f64;
        for &a_i in &ai {
            for &b_j in &bj {
                let start = (a_i + b_j).saturating_sub(n).max(1);
                let end = a_i.min(b_j);
                for nij in start..=end {
                    let nijf = nij as f64;
                    let term1 = nijf / nf;
                    let term2 = nf.ln() + nijf.ln() - (a_i as f64).ln() - (b_j as f64).ln();
                    let gln = lf[a_i] + lf[b_j] + lf[n - a_i] + lf[n - b_j]
                        - lf[nij]
                        - lf[n]
                        - lf[a_i - nij]
                        - lf[b_j - nij]
                        - lf[n + nij - a_i - b_j];
                    emi += term1 * term2 * gln.exp();
                }
            }
        }
        emi
    };
    let mut denom = (ha + hb) / 2.0 - emi;
    denom = if denom < 0.0 {
        denom.min(-f64::EPSILON)
    } else {
        denom.max(f64::EPSILON)
    };
    Ok((mi - emi) / denom)
}

/// Parameters of [`kmeans`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeansParams {
    /// Largest number of Lloyd iterations. Default 300 (scikit-learn's).
    pub max_iter: usize,
    /// Relative tolerance on the squared centre shift (times the mean feature variance). Default 1e-4.
    pub tol: f64,
}

impl Default for KMeansParams {
    fn default() -> Self {
        Self {
            max_iter: 300,
            tol: 1e-4,
        }
    }
}

fn nearest(x: ArrayView1<f64>, centres: &Array2<f64>) -> (usize, f64) {
    let mut best = (0usize, f64::INFINITY);
    for (k, c) in centres.outer_iter().enumerate() {
        let d: f64 = x.iter().zip(c.iter()).map(|(a, b)| (a - b) * (a - b)).sum();
        if d < best.1 {
            best = (k, d);
        }
    }
    best
}

/// Lloyd's k-means from given initial centres, following scikit-learn's `KMeans(init=centres,
/// n_init=1, algorithm="lloyd")`: stop when the labels no longer change or the total squared centre
/// shift is at most `tol ·` mean feature variance; an empty cluster takes the point farthest from its
/// centre (farthest first, ties by row); a final assignment step makes the labels match the centres.
/// Returns the labels.
pub fn kmeans(x: ArrayView2<f64>, init: &Array2<f64>, params: &KMeansParams) -> Vec<usize> {
    let (n, d) = x.dim();
    let k = init.nrows();
    let tol = {
        let var = x.var_axis(Axis(0), 0.0);
        var.mean().unwrap_or(0.0) * params.tol
    };
    let mut centres = init.clone();
    let mut labels = vec![usize::MAX; n];
    let mut strict = false;
    for _ in 0..params.max_iter {
        let old_labels = labels.clone();
        let mut dist = vec![0.0f64; n];
        for (i, row) in x.outer_iter().enumerate() {
            let (l, dd) = nearest(row, &centres);
            labels[i] = l;
            dist[i] = dd;
        }
        let mut sums = Array2::<f64>::zeros((k, d));
        let mut weight = vec![0usize; k];
        for (i, row) in x.outer_iter().enumerate() {
            let mut s = sums.row_mut(labels[i]);
            s += &row;
            weight[labels[i]] += 1;
        }
        let empty: Vec<usize> = (0..k).filter(|&c| weight[c] == 0).collect();
        if !empty.is_empty() {
            let mut far: Vec<usize> = (0..n).collect();
            far.sort_by(|&a, &b| dist[b].total_cmp(&dist[a]).then(a.cmp(&b)));
            for (&c, &i) in empty.iter().zip(&far) {
                let old = labels[i];
                let row = x.row(i);
                let mut so = sums.row_mut(old);
                so -= &row;
                sums.row_mut(c).assign(&row);
                weight[old] -= 1;
                weight[c] = 1;
            }
        }
        let mut new = centres.clone();
        for ((mut r, s), &w) in new.outer_iter_mut().zip(sums.outer_iter()).zip(&weight) {
            if w > 0 {
                r.assign(&s);
                r /= w as f64;
            }
        }
        let shift: f64 = (&new - &centres).mapv(|v| v * v).sum();
        centres = new;
        if labels == old_labels {
            strict = true;
            break;
        }
        if shift <= tol {
            break;
        }
    }
    if !strict {
        for (i, row) in x.outer_iter().enumerate() {
            labels[i] = nearest(row, &centres).0;
        }
    }
    labels
}

/// Class-cluster validator (ClassAMI): k-means with one cluster per class on the target embeddings,
/// started from the centroids of the pseudo-labels (`argmax logits`; a class nobody is predicted as
/// starts at the origin), scored by the adjusted mutual information between clusters and
/// pseudo-labels. Higher = the predicted classes form clusters.
///
/// pytorch-adapt's `ClassClusterValidator` offers this start as `centroid_init="label_centers"`; its
/// default starts scikit-learn's k-means++ from an unseeded generator, which no seed reproduces.
pub fn class_ami(
    embedding: ArrayView2<f32>,
    logits: ArrayView2<f32>,
    params: &KMeansParams,
) -> MetricsResult<f64> {
    let n = embedding.nrows();
    if logits.nrows() != n {
        return Err(MetricsError::Shape {
            what: "logits".into(),
            expected: format!("{n} rows (one per embedding row)"),
            found: logits.nrows().to_string(),
        });
    }
    if n < 2 {
        return Err(too_few("class_ami", 2, n));
    }
    check_finite(embedding, "embedding")?;
    check_finite(logits, "logits")?;
    let k = logits.ncols();
    let pseudo = super::super::compare::predictions(logits);
    let x = embedding.mapv(f64::from);
    let mut init = Array2::<f64>::zeros((k, x.ncols()));
    let mut count = vec![0usize; k];
    for (row, &c) in x.outer_iter().zip(&pseudo) {
        let mut r = init.row_mut(c);
        r += &row;
        count[c] += 1;
    }
    for (c, &m) in count.iter().enumerate() {
        if m > 0 {
            let mut r = init.row_mut(c);
            r /= m as f64;
        }
    }
    let clusters = kmeans(x.view(), &init, params);
    adjusted_mutual_info(&pseudo, &clusters)
}
