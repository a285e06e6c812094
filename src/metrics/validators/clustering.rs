//! Class-cluster agreement: k-means of target embeddings against pseudo-labels, scored by adjusted
//! mutual information.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
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

/// How ClassAMI starts its k-means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClassAmiInit {
    /// From the centroids of the pseudo-labels (a class nobody is predicted as starts at the origin):
    /// pytorch-adapt's `ClassClusterValidator(centroid_init="label_centers")`. Needs no random numbers.
    #[serde(rename = "label-centers")]
    LabelCenters,
    /// Greedy k-means++ (scikit-learn's, `2 + ⌊ln k⌋` candidates per centre), one start, from a seeded
    /// generator: pytorch-adapt's default `ClassClusterValidator()` (`KMeans(n_clusters)`).
    #[serde(rename = "kmeans++")]
    KMeansPlusPlus,
}

/// Default start of ClassAMI: the pseudo-label centres. It needs no random numbers, so the value and
/// the pick do not move with the seed, and it ranked the demo's checkpoints better than k-means++ (see
/// `docs/metrics.md`); [`ClassAmiInit::KMeansPlusPlus`] gives values comparable with pytorch-adapt's
/// default.
pub const DEFAULT_CLASS_AMI_INIT: ClassAmiInit = ClassAmiInit::LabelCenters;

impl ClassAmiInit {
    /// The name used on the command line and in the outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::LabelCenters => "label-centers",
            Self::KMeansPlusPlus => "kmeans++",
        }
    }
}

impl std::fmt::Display for ClassAmiInit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ClassAmiInit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "label-centers" => Ok(Self::LabelCenters),
            "kmeans++" => Ok(Self::KMeansPlusPlus),
            _ => Err(format!("expected label-centers or kmeans++, found \"{s}\"")),
        }
    }
}

/// Greedy k-means++ seeding as scikit-learn's `_kmeans_plusplus`: the first centre is a uniformly drawn
/// row; each further centre is the best (smallest total squared distance to the nearest centre) of
/// `2 + ⌊ln k⌋` rows drawn with probability proportional to their squared distance to the nearest
/// centre so far. Seeded (ChaCha8); the draws differ from numpy's generator, not the procedure.
pub fn kmeans_plus_plus(x: ArrayView2<f64>, k: usize, seed: u64) -> Array2<f64> {
    let (n, d) = x.dim();
    let mut centres = Array2::<f64>::zeros((k, d));
    if n == 0 || k == 0 {
        return centres;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let trials = 2 + (k as f64).ln().floor() as usize;
    let sq = |a: ArrayView1<f64>, b: ArrayView1<f64>| -> f64 {
        a.iter().zip(b.iter()).map(|(u, v)| (u - v) * (u - v)).sum()
    };
    let first = rng.gen_range(0..n);
    centres.row_mut(0).assign(&x.row(first));
    let mut closest: Vec<f64> = x.outer_iter().map(|r| sq(r, x.row(first))).collect();
    let mut pot: f64 = closest.iter().sum();
    for c in 1..k {
        let mut cum = Vec::with_capacity(n);
        let mut acc = 0.0;
        for &v in &closest {
            acc += v;
            cum.push(acc);
        }
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for _ in 0..trials {
            let r = rng.gen::<f64>() * pot;
            // numpy's searchsorted (side "left"), clipped to the last row
            let cand = cum.partition_point(|&v| v < r).min(n - 1);
            let dist: Vec<f64> = x
                .outer_iter()
                .zip(&closest)
                .map(|(row, &old)| old.min(sq(row, x.row(cand))))
                .collect();
            let total: f64 = dist.iter().sum();
            if best.as_ref().is_none_or(|b| total < b.0) {
                best = Some((total, cand, dist));
            }
        }
        if let Some((total, cand, dist)) = best {
            pot = total;
            closest = dist;
            centres.row_mut(c).assign(&x.row(cand));
        }
    }
    centres
}

/// Class-cluster validator (ClassAMI): k-means with one cluster per class on the target embeddings,
/// started as `init` says (`seed` drives k-means++), scored by the adjusted mutual information between
/// clusters and pseudo-labels (`argmax logits`). Higher = the predicted classes form clusters.
///
/// [`ClassAmiInit::LabelCenters`] is pytorch-adapt's `centroid_init="label_centers"`;
/// [`ClassAmiInit::KMeansPlusPlus`] its default, which there draws from an unseeded generator.
pub fn class_ami(
    embedding: ArrayView2<f32>,
    logits: ArrayView2<f32>,
    params: &KMeansParams,
    init: ClassAmiInit,
    seed: u64,
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
    let start = match init {
        ClassAmiInit::LabelCenters => label_centres(x.view(), &pseudo, k),
        ClassAmiInit::KMeansPlusPlus => kmeans_plus_plus(x.view(), k, seed),
    };
    let clusters = kmeans(x.view(), &start, params);
    adjusted_mutual_info(&pseudo, &clusters)
}

/// Mean row of each pseudo-label (`k` rows; a label nobody has stays at the origin).
fn label_centres(x: ArrayView2<f64>, pseudo: &[usize], k: usize) -> Array2<f64> {
    let mut init = Array2::<f64>::zeros((k, x.ncols()));
    let mut count = vec![0usize; k];
    for (row, &c) in x.outer_iter().zip(pseudo) {
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
    init
}
