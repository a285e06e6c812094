//! Deep embedded validation: importance-weighted source validation risk with a control variate.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::super::domain_classifier::{proxy_a_distance_on_split, stratified_split, ProxyAParams};
use super::super::{softmax_f64, DomainData, MetricsError, MetricsResult};
use super::common::{too_few, undefined};

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
