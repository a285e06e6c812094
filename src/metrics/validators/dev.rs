//! Deep embedded validation: importance-weighted source validation risk with a control variate, every
//! source point weighted by a cross-fitted domain discriminator.

use ndarray::ArrayView2;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::super::domain_classifier::{proxy_a_distance_on_split, ProxyAParams};
use super::super::{softmax_f64, DomainData, MetricsError, MetricsResult};
use super::common::{too_few, undefined};

/// Default number of cross-fitting folds of [`dev`] (chosen by the Spearman correlation with the true
/// target accuracy over 20 seeds on the demo's checkpoints; see `docs/metrics.md`).
pub const DEFAULT_DEV_FOLDS: usize = 3;

/// Below this effective sample size of the importance weights, [`Dev::small_ess`] is set: an
/// importance-weighted mean of fewer than about 30 effective points is unreliable.
pub const SMALL_ESS: f64 = 30.0;

/// Parameters of [`dev`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DevParams {
    /// Cross-fitting folds (≥ 2): each fold's discriminator is fitted on the other folds and weighs
    /// the source points of its own fold. Default [`DEFAULT_DEV_FOLDS`].
    pub folds: usize,
    /// Inverse L2 strength of the logistic discriminator. Default 1.
    pub c: f64,
}

impl Default for DevParams {
    fn default() -> Self {
        Self {
            folds: DEFAULT_DEV_FOLDS,
            c: 1.0,
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
    /// Mean cross-entropy of the classifier on the source points.
    pub mean_error: f64,
    /// Accuracy of the discriminators on the points they did not see (every source and target point
    /// is predicted once, by the discriminator of its fold).
    pub discriminator_accuracy: f64,
    /// Source points weighted (every source point).
    pub n_validation: usize,
    /// Cross-fitting folds.
    pub folds: usize,
    /// Effective sample size of the importance weights, `(Σw)² / Σw²` (Kish).
    pub ess: f64,
    /// `ess` below [`SMALL_ESS`]: few points carry the estimate.
    pub small_ess: bool,
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

/// Effective sample size of importance weights, `(Σw)² / Σw²` (Kish): `n` for equal weights, 1 when a
/// single weight carries everything. 0 for no positive weight.
pub fn effective_sample_size(weights: &[f64]) -> f64 {
    let s: f64 = weights.iter().sum();
    let s2: f64 = weights.iter().map(|w| w * w).sum();
    if s2 > 0.0 {
        s * s / s2
    } else {
        0.0
    }
}

/// The seeded fold of every pooled row `[source…, target…]`, stratified by domain: each domain's
/// indices are shuffled by one ChaCha8 generator seeded from `seed` (source first, then target, as the
/// proxy A-distance split), and the `j`-th shuffled index goes to fold `j mod folds`. Each domain needs
/// at least `folds` points, so that every fold holds both domains.
pub fn dev_folds(
    n_source: usize,
    n_target: usize,
    folds: usize,
    seed: u64,
) -> MetricsResult<Vec<usize>> {
    if folds < 2 {
        return Err(MetricsError::Param {
            name: "folds",
            expected: "at least 2 cross-fitting folds".into(),
            found: folds.to_string(),
        });
    }
    for (name, n) in [("source", n_source), ("target", n_target)] {
        if n < folds {
            return Err(too_few(
                &format!("dev ({name} points, one per fold)"),
                folds,
                n,
            ));
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold = vec![0; n_source + n_target];
    for (offset, n) in [(0, n_source), (n_source, n_target)] {
        let mut perm: Vec<usize> = (0..n).collect();
        perm.shuffle(&mut rng);
        for (j, &i) in perm.iter().enumerate() {
            fold[offset + i] = j % folds;
        }
    }
    Ok(fold)
}

/// DEV cross-fitted over the given folds of the pooled rows `[source…, target…]` (`fold[i]` in
/// `0..folds`): for each fold, a logistic domain discriminator (source = 1; the proxy A-distance's
/// standardisation and solver) is fitted on the rows of the other folds and scores the rows of its
/// fold. Weight of a source point `x`: `p(target | x) / p(source | x) · N_s / N_t` with the counts its
/// discriminator was trained on; error: the classifier's cross-entropy on its label. The risk is
/// [`dev_risk`] over every source point.
pub fn dev_on_folds(
    source: &DomainData,
    target: ArrayView2<f32>,
    fold: &[usize],
    c: f64,
) -> MetricsResult<Dev> {
    let logits = source
        .logits
        .ok_or_else(|| undefined("dev", "source logits absent"))?;
    let ns = source.len();
    if fold.len() != ns + target.nrows() {
        return Err(MetricsError::Shape {
            what: "DEV folds".into(),
            expected: format!(
                "{} values (one per source and target row)",
                ns + target.nrows()
            ),
            found: fold.len().to_string(),
        });
    }
    let folds = fold.iter().max().map_or(0, |m| m + 1);
    let params = ProxyAParams::default().c(c);
    let mut weight = vec![f64::NAN; ns];
    let mut right = 0usize;
    for f in 0..folds {
        let (test, train): (Vec<usize>, Vec<usize>) = (0..fold.len()).partition(|&i| fold[i] == f);
        if test.is_empty() {
            continue;
        }
        let fit = proxy_a_distance_on_split(source.embedding, target, &train, &test, &params)?;
        let n_s = train.iter().filter(|&&i| i < ns).count() as f64;
        let n_t = train.len() as f64 - n_s;
        for (&i, &z) in test.iter().zip(&fit.test_scores) {
            right += usize::from((z > 0.0) == (i < ns));
            if i < ns {
                // z = ln p(source|x) / p(target|x)
                weight[i] = (-z).exp() * n_s / n_t;
            }
        }
    }
    let p = softmax_f64(logits);
    let bad_label = |i: usize| MetricsError::Label {
        what: "source labels".into(),
        row: i,
        label: source.labels[i],
        n_classes: p.ncols(),
    };
    let errors = (0..ns)
        .map(|i| {
            let y = usize::try_from(source.labels[i]).map_err(|_| bad_label(i))?;
            let py = *p.get((i, y)).ok_or_else(|| bad_label(i))?;
            Ok(-py.max(f64::MIN_POSITIVE).ln())
        })
        .collect::<MetricsResult<Vec<f64>>>()?;
    let risk = dev_risk(&weight, &errors)?;
    let ess = effective_sample_size(&weight);
    Ok(Dev {
        score: -risk,
        risk,
        mean_error: errors.iter().sum::<f64>() / ns as f64,
        discriminator_accuracy: right as f64 / fold.len() as f64,
        n_validation: ns,
        folds,
        ess,
        small_ess: ess < SMALL_ESS,
    })
}

/// DEV with the stratified folds of [`dev_folds`] drawn from `seed` (see [`dev_on_folds`]).
pub fn dev(
    source: &DomainData,
    target: ArrayView2<f32>,
    params: &DevParams,
    seed: u64,
) -> MetricsResult<Dev> {
    let fold = dev_folds(source.len(), target.nrows(), params.folds, seed)?;
    dev_on_folds(source, target, &fold, params.c)
}
