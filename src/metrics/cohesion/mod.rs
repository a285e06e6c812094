//! Cohesion and alignment measures of a source/target pair, one file per family:
//! - `silhouette`: silhouettes by class (source, target, joint) and by domain;
//! - `mmd`: MMD² with linear and Gaussian kernels, and the Gaussian bandwidth;
//! - `neighbours`: kNN transfer accuracy and domain kNN purity;
//! - `entropy`: information maximisation and soft neighbourhood density on the target's predictions;
//! - the proxy A-distance comes from [`crate::metrics::domain_classifier`];
//! - `params`: [`CohesionParams`], and `shared`: input checks and centring used by several families;
//! - `sampling` and `student`: the anchor samples of the scalable mode and the Student-t interval over them;
//! - `points`: the intervals of the exact measures (a bootstrap over the points they average).
//!
//! [`cohesion`] runs them all in a fixed order and assembles the [`CohesionReport`]. The families
//! never import this file (the parameters they read live in `params`), so dependencies point one way.

mod blocked;
mod entropy;
mod mmd;
mod neighbours;
mod params;
mod points;
mod sampling;
mod scalable;
mod shared;
mod silhouette;
mod student;

pub use entropy::{information_maximization, snd};
pub use mmd::{mmd2_linear, mmd2_rbf, rbf_bandwidth};
pub(crate) use neighbours::vote;
pub use neighbours::{domain_knn_purity, knn_transfer_accuracy};
pub use params::{CohesionMode, CohesionParams, ScaleParams};
pub use points::{METHOD as BOOTSTRAP_METHOD, WILSON_METHOD};
pub use sampling::{stratified_sample, Interval};
pub use scalable::{
    knn_transfer_scalable, mmd2_rbf_scalable, purity_scalable, silhouette_scalable, snd_scalable,
    Scaled,
};
pub use silhouette::{
    silhouette_domain, silhouette_joint, silhouette_score, silhouette_source, silhouette_target,
};
pub use student::t_quantile;

use ndarray::ArrayView2;
use serde::Serialize;

use crate::metrics::domain_classifier::proxy_a_distance;
use crate::metrics::{DomainData, MetricsError, MetricsResult};
use entropy::{im_terms, im_weighted, snd_terms};
use mmd::{mmd2_linear_terms, mmd2_rbf_terms, UTerms};
use neighbours::{knn_transfer_points, purity_points};
use points::PointBootstrap;
use shared::{check_dims, undefined};
use silhouette::silhouette_points;

/// One named measure: a value, or the reason it has none.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct MetricValue {
    /// Measure name.
    pub name: String,
    /// Value, when defined.
    pub value: Option<f64>,
    /// Why there is no value.
    pub reason: Option<String>,
    /// `exact`, or `scalable` (an estimate from repeated anchor samples).
    #[serde(default = "exact_mode")]
    pub mode: String,
    /// The interval: for a scalable estimate, over its anchor samples; for an exact value, a
    /// bootstrap over its points (the proxy A-distance: the Wilson interval of its probe's error).
    /// `method`, level and sizes are recorded in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Interval>,
}

fn exact_mode() -> String {
    "exact".into()
}

impl MetricValue {
    /// An exact value, or the reason it has none.
    pub fn exact(name: &str, value: Option<f64>, reason: Option<String>) -> Self {
        Self {
            name: name.into(),
            value,
            reason,
            mode: exact_mode(),
            interval: None,
        }
    }
}

/// Ordered list of measures for a source/target pair.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CohesionReport {
    /// Measures in a fixed order.
    pub metrics: Vec<MetricValue>,
}

impl CohesionReport {
    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Option<&MetricValue> {
        self.metrics.iter().find(|m| m.name == name)
    }
    /// The value of `name`, when present and defined.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(|m| m.value)
    }
}

/// All measures for a source/target pair, in a fixed order. Input errors (non-finite values, shape
/// mismatches, invalid parameters, empty domains) are returned as `Err`; a measure that is undefined for
/// this input (one class, too few points, missing logits) gets `value: None` and a reason. Quadratic
/// measures over more points than `params.scale` allows are scalable estimates with an interval.
pub fn cohesion(
    source: &DomainData,
    target: &DomainData,
    params: &CohesionParams,
) -> MetricsResult<CohesionReport> {
    cohesion_timed(source, target, params).map(|r| r.0)
}

/// [`cohesion`], with the wall time of each measure in seconds (same order as the measures).
pub fn cohesion_timed(
    source: &DomainData,
    target: &DomainData,
    params: &CohesionParams,
) -> MetricsResult<(CohesionReport, Vec<f64>)> {
    params.check()?;
    source.validate("source")?;
    target.validate("target")?;
    check_dims(source.embedding, target.embedding)?;
    for (name, n) in [("source", source.len()), ("target", target.len())] {
        if n == 0 {
            return Err(MetricsError::TooFewPoints {
                metric: format!("cohesion ({name} domain)"),
                needed: 1,
                found: 0,
            });
        }
    }
    let prec = params.precision;
    let sc = &params.scale;
    let (ns, nt) = (source.len(), target.len());
    let mut metrics = Vec::new();
    let mut times = Vec::new();
    let mut clock = std::time::Instant::now();
    let mut push = |name: &str, r: MetricsResult<Estimate>| -> MetricsResult<()> {
        times.push(clock.elapsed().as_secs_f64());
        clock = std::time::Instant::now();
        let (value, reason, interval, mode) = match r {
            Ok(Estimate::Exact(v, iv)) => (Some(v), None, iv, "exact"),
            Ok(Estimate::Scaled(s)) => (Some(s.value), None, Some(s.interval), "scalable"),
            Err(e) => (None, Some(e.into_reason()?), None, "exact"),
        };
        metrics.push(MetricValue {
            mode: mode.into(),
            interval,
            ..MetricValue::exact(name, value, reason)
        });
        Ok(())
    };
    let no_logits = |what: &str| {
        Err(undefined(
            "",
            format!("{what} logits absent (model without a classification head)"),
        ))
    };
    let boot = PointBootstrap {
        resamples: params.n_resamples,
        level: params.ci_level,
        seed: params.seed,
    };
    // An exact value, the mean of `terms` (one slice per domain), with its interval.
    let mean_of = |tag: &str, terms: MetricsResult<Vec<Vec<f64>>>| -> MetricsResult<Estimate> {
        let terms = terms?;
        let refs: Vec<&[f64]> = terms.iter().map(Vec::as_slice).collect();
        let n: usize = refs.iter().map(|t| t.len()).sum();
        let value = refs.iter().flat_map(|t| t.iter()).sum::<f64>() / n as f64;
        Ok(Estimate::Exact(value, boot.of_pooled_mean(tag, &refs)))
    };
    let u_stat = |tag: &str, t: MetricsResult<UTerms>| -> MetricsResult<Estimate> {
        let t = t?;
        let iv = boot.of_u_statistic(tag, t.value, &[&t.source, &t.target]);
        Ok(Estimate::Exact(t.value, iv))
    };
    let scaled = |r: MetricsResult<Scaled>| r.map(Estimate::Scaled);
    let split = |v: Vec<f64>, at: usize| -> Vec<Vec<f64>> {
        let mut a = v;
        let b = a.split_off(at);
        vec![a, b]
    };
    let s_lab = source.labels.to_vec();
    let t_lab = target.labels.to_vec();
    let joint_lab: Vec<i64> = s_lab.iter().chain(&t_lab).copied().collect();
    let dom_lab: Vec<i64> = std::iter::repeat_n(0, ns)
        .chain(std::iter::repeat_n(1, nt))
        .collect();
    let pooled = [source.embedding.view(), target.embedding.view()];
    push(
        "silhouette_source",
        if sc.scalable(ns) {
            scaled(silhouette_scalable(
                &pooled[..1],
                &s_lab,
                params,
                "silhouette_source",
            ))
        } else {
            mean_of(
                "silhouette_source",
                silhouette_points(&pooled[..1], &s_lab, prec).map(|v| vec![v]),
            )
        },
    )?;
    push(
        "silhouette_target",
        if sc.scalable(nt) {
            scaled(silhouette_scalable(
                &pooled[1..],
                &t_lab,
                params,
                "silhouette_target",
            ))
        } else {
            mean_of(
                "silhouette_target",
                silhouette_points(&pooled[1..], &t_lab, prec).map(|v| vec![v]),
            )
        },
    )?;
    let big = sc.scalable(ns + nt);
    push(
        "silhouette_joint",
        if big {
            scaled(silhouette_scalable(
                &pooled,
                &joint_lab,
                params,
                "silhouette_joint",
            ))
        } else {
            mean_of(
                "silhouette_joint",
                silhouette_points(&pooled, &joint_lab, prec).map(|v| split(v, ns)),
            )
        },
    )?;
    push(
        "silhouette_domain",
        if big {
            scaled(silhouette_scalable(
                &pooled,
                &dom_lab,
                params,
                "silhouette_domain",
            ))
        } else {
            mean_of(
                "silhouette_domain",
                silhouette_points(&pooled, &dom_lab, prec).map(|v| split(v, ns)),
            )
        },
    )?;
    push(
        "proxy_a_distance",
        proxy_a_estimate(source.embedding, target.embedding, params),
    )?;
    push(
        "mmd2_linear",
        u_stat(
            "mmd2_linear",
            mmd2_linear_terms(source.embedding, target.embedding),
        ),
    )?;
    push(
        "mmd2_rbf",
        if big {
            scaled(mmd2_rbf_checked(source.embedding, target.embedding, params))
        } else {
            u_stat(
                "mmd2_rbf",
                mmd2_rbf_terms(source.embedding, target.embedding, params, true).map(|t| t.0),
            )
        },
    )?;
    push(
        "knn_transfer_accuracy",
        if big && ns >= params.knn_k {
            scaled(Ok(knn_transfer_scalable(
                source.embedding,
                &s_lab,
                target.embedding,
                &t_lab,
                params.knn_k,
                params,
            )))
        } else {
            mean_of(
                "knn_transfer_accuracy",
                knn_transfer_points(source, target, params.knn_k, prec).map(|v| vec![v]),
            )
        },
    )?;
    match target.logits {
        Some(l) => {
            push(
                "information_maximization",
                im_terms(l).map(|(p, h)| {
                    let ones = vec![1u32; h.len()];
                    let iv = boot.weighted("information_maximization", &[h.len()], |c| {
                        Some(im_weighted(&p, &h, &c[0]))
                    });
                    Estimate::Exact(im_weighted(&p, &h, &ones), iv)
                }),
            )?;
            push(
                "snd",
                if sc.scalable(nt) {
                    scaled(snd_scalable(l, params.snd_temperature, params))
                } else {
                    mean_of("snd", snd_terms(l, params.snd_temperature).map(|v| vec![v]))
                },
            )?;
        }
        None => {
            push("information_maximization", no_logits("target"))?;
            push("snd", no_logits("target"))?;
        }
    }
    push(
        "domain_knn_purity",
        if big && ns + nt > params.purity_k {
            scaled(Ok(purity_scalable(
                source.embedding,
                target.embedding,
                params.purity_k,
                params,
            )))
        } else {
            mean_of(
                "domain_knn_purity",
                purity_points(source.embedding, target.embedding, params.purity_k, prec)
                    .map(|v| split(v, ns)),
            )
        },
    )?;
    Ok((CohesionReport { metrics }, times))
}

/// An exact value (with its bootstrap interval, unless resampling is off) or a scalable estimate.
enum Estimate {
    Exact(f64, Option<Interval>),
    Scaled(Scaled),
}

/// The proxy A-distance `2 (1 − 2 ε)` with the Wilson interval of its held-out error `ε` (the probe
/// stays the one fitted; see [`points::a_distance_wilson`]).
fn proxy_a_estimate(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    params: &CohesionParams,
) -> MetricsResult<Estimate> {
    let fit = proxy_a_distance(source, target, &params.proxy_a)?;
    let iv = (params.n_resamples > 0).then(|| {
        let wrong = (fit.test_error * fit.n_test as f64).round() as usize;
        points::a_distance_wilson(wrong, fit.n_test, params.ci_level)
    });
    Ok(Estimate::Exact(fit.value, iv.flatten()))
}

/// The scalable RBF MMD² with the same bandwidth and the same undefined cases as [`mmd2_rbf`].
fn mmd2_rbf_checked(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    params: &CohesionParams,
) -> MetricsResult<Scaled> {
    let (m, n) = (source.nrows(), target.nrows());
    if m < 2 || n < 2 {
        return Err(MetricsError::TooFewPoints {
            metric: "mmd2_rbf".into(),
            needed: 2,
            found: m.min(n),
        });
    }
    let sigma2 = rbf_bandwidth(source, target, params)?;
    Ok(mmd2_rbf_scalable(source, target, sigma2, params))
}
