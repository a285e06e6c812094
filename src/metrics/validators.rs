//! Label-free validators: scores that rank checkpoints without target labels, oriented so that higher
//! is better (as pytorch-adapt's validators), and the helpers to judge them against the truth (Spearman
//! correlation).
//!
//! | name | score | source |
//! |---|---|---|
//! | `entropy` | `−mean_i H(p_i)` on target softmax | pytorch-adapt `EntropyValidator` |
//! | `im` | `H(mean_i p_i) − mean_i H(p_i)` | pytorch-adapt `IMValidator` |
//! | `snd` | soft neighbourhood density of target softmax rows, `T = 0.05` | pytorch-adapt `SNDValidator` |
//! | `bnm` | `‖softmax(logits)‖_* / N` (nuclear norm) | pytorch-adapt `BNMValidator` |
//! | `class_ami` | AMI of k-means clusters of target embeddings vs pseudo-labels | pytorch-adapt `ClassClusterValidator` |
//! | `dev` | `−` DEV risk: importance-weighted source validation loss with control variate | pytorch-adapt `DeepEmbeddedValidator` |
//! | `atc_mc`, `atc_ne` | ATC estimate of target accuracy (max confidence / negative entropy) | Garg et al. 2022 |
//!
//! Deviations from the references (seeded, deterministic) are documented on each function and in
//! `docs/metrics.md`.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::cohesion::{information_maximization, snd, MetricValue};
use super::domain_classifier::{proxy_a_distance_on_split, stratified_split, ProxyAParams};
use super::{check_finite, softmax_f64, DomainData, MetricsError, MetricsResult};

/// Names of the validators of [`label_free_validators`], in output order.
pub const VALIDATORS: [&str; 8] = [
    "entropy",
    "im",
    "snd",
    "bnm",
    "class_ami",
    "dev",
    "atc_mc",
    "atc_ne",
];

fn too_few(metric: &str, needed: usize, found: usize) -> MetricsError {
    MetricsError::TooFewPoints {
        metric: metric.into(),
        needed,
        found,
    }
}

fn undefined(metric: &str, reason: impl Into<String>) -> MetricsError {
    MetricsError::Undefined {
        metric: metric.into(),
        reason: reason.into(),
    }
}

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
    let pseudo = super::compare::predictions(logits);
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

/// Parameters of [`dev`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DevParams {
    /// Share of each domain held out: the held-out source points are DEV's validation set. Default 0.2.
    pub test_fraction: f64,
    /// Inverse L2 strength of the logistic discriminator. Default 1.
    pub c: f64,
    /// Seed of the split.
    pub seed: u64,
}

impl Default for DevParams {
    fn default() -> Self {
        Self {
            test_fraction: 0.2,
            c: 1.0,
            seed: 0,
        }
    }
}

/// The DEV estimate and what it was made of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dev {
    /// `−risk` (higher is better, as pytorch-adapt's validator).
    pub score: f64,
    /// DEV risk: `mean(w·e) + η·mean(w) − η`, `η = −Cov(w·e, w) / Var(w)`.
    pub risk: f64,
    /// Mean cross-entropy of the classifier on the source validation points.
    pub mean_error: f64,
    /// Accuracy of the domain discriminator on all held-out points (source and target).
    pub discriminator_accuracy: f64,
    /// Source validation points.
    pub n_validation: usize,
}

/// DEV risk of per-sample `errors` with importance `weights` (pytorch-adapt's `get_dev_risk` with no
/// normalisation): `mean(w·e) + η·mean(w) − η` with `η = −Cov(w·e, w) / Var(w)` (both with `ddof = 1`).
/// Undefined for fewer than 2 points or constant weights.
pub fn dev_risk(weights: &[f64], errors: &[f64]) -> MetricsResult<f64> {
    let n = weights.len();
    if errors.len() != n {
        return Err(MetricsError::Shape {
            what: "DEV errors".into(),
            expected: format!("{n} values (one per weight)"),
            found: errors.len().to_string(),
        });
    }
    if n < 2 {
        return Err(too_few("dev", 2, n));
    }
    if weights.iter().chain(errors).any(|v| !v.is_finite()) {
        return Err(undefined(
            "dev",
            "an importance weight or error is not finite (the discriminator separates the domains completely)",
        ));
    }
    let nf = n as f64;
    let we: Vec<f64> = weights.iter().zip(errors).map(|(w, e)| w * e).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / nf;
    let (mw, mwe) = (mean(weights), mean(&we));
    let cov = we
        .iter()
        .zip(weights)
        .map(|(a, b)| (a - mwe) * (b - mw))
        .sum::<f64>()
        / (nf - 1.0);
    let var = weights.iter().map(|w| (w - mw) * (w - mw)).sum::<f64>() / (nf - 1.0);
    if var <= 0.0 {
        return Err(undefined("dev", "all importance weights are equal"));
    }
    let eta = -cov / var;
    Ok(mwe + eta * mw - eta)
}

/// DEV on a given split of the pooled rows `[source…, target…]`: a logistic domain discriminator
/// (source = 1; the proxy A-distance's standardisation and solver) is fitted on the `train` rows; the
/// source rows of `test` are the validation set. Weight of a validation point `x`:
/// `p(target | x) / p(source | x) · N_s / N_t` with the training counts; error: the classifier's
/// cross-entropy on its label.
pub fn dev_on_split(
    source: &DomainData,
    target: ArrayView2<f32>,
    train: &[usize],
    test: &[usize],
    c: f64,
) -> MetricsResult<Dev> {
    let logits = source
        .logits
        .ok_or_else(|| undefined("dev", "source logits absent"))?;
    let ns = source.len();
    let fit = proxy_a_distance_on_split(
        source.embedding,
        target,
        train,
        test,
        &ProxyAParams::default().c(c),
    )?;
    // the discriminator's standardisation (training rows' mean and population deviation, 0 → 1)
    let row = |i: usize| {
        if i < ns {
            source.embedding.row(i)
        } else {
            target.row(i - ns)
        }
    };
    let d = source.embedding.ncols();
    let mut mean = vec![0.0f64; d];
    for &i in train {
        for (m, &v) in mean.iter_mut().zip(row(i).iter()) {
            *m += f64::from(v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= train.len() as f64);
    let mut sd = vec![0.0f64; d];
    for &i in train {
        for ((s, &v), m) in sd.iter_mut().zip(row(i).iter()).zip(&mean) {
            *s += (f64::from(v) - m).powi(2);
        }
    }
    sd.iter_mut().for_each(|s| {
        *s = (*s / train.len() as f64).sqrt();
        if *s <= 0.0 {
            *s = 1.0;
        }
    });
    let n_s = train.iter().filter(|&&i| i < ns).count() as f64;
    let n_t = train.len() as f64 - n_s;
    let val: Vec<usize> = test.iter().copied().filter(|&i| i < ns).collect();
    if val.len() < 2 {
        return Err(too_few("dev (source validation points)", 2, val.len()));
    }
    let p = softmax_f64(logits);
    let mut weights = Vec::with_capacity(val.len());
    let mut errors = Vec::with_capacity(val.len());
    for &i in &val {
        let z: f64 = row(i)
            .iter()
            .zip(&mean)
            .zip(&sd)
            .zip(&fit.fit.coef)
            .map(|(((&v, m), s), w)| (f64::from(v) - m) / s * w)
            .sum::<f64>()
            + fit.fit.intercept;
        // z = ln p(source|x) / p(target|x)
        weights.push((-z).exp() * n_s / n_t);
        let y = usize::try_from(source.labels[i]).map_err(|_| MetricsError::Label {
            what: "source labels".into(),
            row: i,
            label: source.labels[i],
            n_classes: p.ncols(),
        })?;
        let py = *p.get((i, y)).ok_or(MetricsError::Label {
            what: "source labels".into(),
            row: i,
            label: source.labels[i],
            n_classes: p.ncols(),
        })?;
        errors.push(-py.max(f64::MIN_POSITIVE).ln());
    }
    let risk = dev_risk(&weights, &errors)?;
    Ok(Dev {
        score: -risk,
        risk,
        mean_error: errors.iter().sum::<f64>() / errors.len() as f64,
        discriminator_accuracy: 1.0 - fit.test_error,
        n_validation: val.len(),
    })
}

/// DEV with the seeded stratified split of the proxy A-distance (see [`dev_on_split`]).
pub fn dev(source: &DomainData, target: ArrayView2<f32>, params: &DevParams) -> MetricsResult<Dev> {
    let (train, test) = stratified_split(
        source.len(),
        target.nrows(),
        params.test_fraction,
        params.seed,
    )?;
    dev_on_split(source, target, &train, &test, params.c)
}

/// The per-point score that ATC thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AtcScore {
    /// Largest softmax probability.
    MaxConfidence,
    /// Negative entropy `Σ_c p_c ln(p_c + 1e-20)` (the authors' `get_entropy`).
    NegativeEntropy,
}

/// ATC scores of every row.
pub fn atc_scores(logits: ArrayView2<f32>, kind: AtcScore) -> Vec<f64> {
    let p = softmax_f64(logits);
    p.outer_iter()
        .map(|r| match kind {
            AtcScore::MaxConfidence => r.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            AtcScore::NegativeEntropy => r.iter().map(|&v| v * (v + 1e-20).ln()).sum(),
        })
        .collect()
}

/// ATC threshold (the authors' `find_ATC_threshold`): walk the source scores in ascending order (stable
/// sort) and keep the score at which `|#wrong above − #right at or below|` is smallest (first minimum).
/// The walk starts from "every point above the threshold", whose threshold is −∞ (the authors start
/// from 0, which is −∞ for max-confidence scores but not for negative entropy).
pub fn atc_threshold(scores: &[f64], correct: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut fp = correct.iter().filter(|&&c| !c).count() as i64;
    let mut fn_ = 0i64;
    let mut best = (fp - fn_).abs();
    let mut thres = f64::NEG_INFINITY;
    for &i in &idx {
        if correct[i] {
            fn_ += 1;
        } else {
            fp -= 1;
        }
        if (fp - fn_).abs() < best {
            best = (fp - fn_).abs();
            thres = scores[i];
        }
    }
    thres
}

/// ATC (Garg et al. 2022, "Leveraging unlabeled data to predict out-of-distribution performance"):
/// the share of target points whose score is at least the threshold learnt on the labelled source.
pub fn atc(
    source: &DomainData,
    target_logits: ArrayView2<f32>,
    kind: AtcScore,
) -> MetricsResult<f64> {
    let sl = source
        .logits
        .ok_or_else(|| undefined("atc", "source logits absent"))?;
    if source.is_empty() || target_logits.nrows() == 0 {
        return Err(too_few("atc", 1, 0));
    }
    let pred = super::compare::predictions(sl);
    let correct: Vec<bool> = pred
        .iter()
        .zip(source.labels.iter())
        .map(|(&p, &y)| i64::try_from(p).is_ok_and(|p| p == y))
        .collect();
    let t = atc_threshold(&atc_scores(sl, kind), &correct);
    let ts = atc_scores(target_logits, kind);
    Ok(ts.iter().filter(|&&s| s >= t).count() as f64 / ts.len() as f64)
}

/// Parameters of [`label_free_validators`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorParams {
    /// SND temperature. Default 0.05.
    pub snd_temperature: f64,
    /// k-means of ClassAMI.
    pub kmeans: KMeansParams,
    /// DEV discriminator split.
    pub dev: DevParams,
}

impl Default for ValidatorParams {
    fn default() -> Self {
        Self {
            snd_temperature: 0.05,
            kmeans: KMeansParams::default(),
            dev: DevParams::default(),
        }
    }
}

/// Every validator of [`VALIDATORS`] for one checkpoint: target logits and embeddings, plus the labelled
/// source for DEV and ATC. Target labels are not read. A validator that cannot be computed (no logits,
/// too few points, constant weights) gets `value: None` and a reason; invalid input is `Err`.
pub fn label_free_validators(
    source: &DomainData,
    target: &DomainData,
    params: &ValidatorParams,
) -> MetricsResult<Vec<MetricValue>> {
    source.validate("source")?;
    check_finite(target.embedding, "target embedding")?;
    let mut out = Vec::new();
    let mut push = |name: &str, r: MetricsResult<f64>| -> MetricsResult<()> {
        let (value, reason) = match r {
            Ok(v) => (Some(v), None),
            Err(
                e @ (MetricsError::Undefined { .. }
                | MetricsError::TooFewPoints { .. }
                | MetricsError::NoConvergence { .. }),
            ) => (None, Some(e.to_string())),
            Err(e) => return Err(e),
        };
        out.push(MetricValue::exact(name, value, reason));
        Ok(())
    };
    let Some(tl) = target.logits else {
        for name in VALIDATORS {
            push(name, Err(undefined(name, "target logits absent")))?;
        }
        return Ok(out);
    };
    push("entropy", entropy_score(tl))?;
    push("im", information_maximization(tl))?;
    push("snd", snd(tl, params.snd_temperature))?;
    push("bnm", bnm(tl))?;
    push("class_ami", class_ami(target.embedding, tl, &params.kmeans))?;
    push(
        "dev",
        dev(source, target.embedding, &params.dev).map(|d| d.score),
    )?;
    push("atc_mc", atc(source, tl, AtcScore::MaxConfidence))?;
    push("atc_ne", atc(source, tl, AtcScore::NegativeEntropy))?;
    Ok(out)
}

/// Average ranks (1-based; ties share the mean of their ranks), as scipy's `rankdata`.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman rank correlation (Pearson correlation of average ranks, as scipy's `spearmanr`); `None`
/// for fewer than 2 pairs or a constant series.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn singular_values_of_a_known_matrix() {
        // [[3, 0], [4, 5]] has singular values √45 and √5
        let a = array![[3.0, 0.0], [4.0, 5.0]];
        let mut s = singular_values(&a);
        s.sort_by(f64::total_cmp);
        assert!((s[0] - 5f64.sqrt()).abs() < 1e-12 && (s[1] - 45f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn ami_of_identical_and_independent_labelings() {
        let a = [0, 0, 1, 1, 2, 2];
        assert!((adjusted_mutual_info(&a, &[5, 5, 3, 3, 4, 4]).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(adjusted_mutual_info(&[0, 0], &[1, 1]).unwrap(), 1.0);
    }

    #[test]
    fn atc_threshold_matches_source_accuracy() {
        let scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
        let correct = [false, false, true, false, true, true, true, true];
        // 3 wrong: the threshold leaves 5 points at or above it
        let t = atc_threshold(&scores, &correct);
        assert_eq!(t, 0.3);
        // every point right: no threshold, everything counts
        assert_eq!(atc_threshold(&scores, &[true; 8]), f64::NEG_INFINITY);
    }

    #[test]
    fn spearman_with_ties() {
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), Some(1.0));
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
        assert!((r - 0.9486832980505138).abs() < 1e-12, "{r}");
    }
}
