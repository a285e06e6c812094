//! Cohesion and alignment measures of a source/target pair, one file per family:
//! - `silhouette`: silhouettes by class (source, target, joint) and by domain;
//! - `mmd`: MMD² with linear and Gaussian kernels, and the Gaussian bandwidth;
//! - `neighbours`: kNN transfer accuracy and domain kNN purity;
//! - `entropy`: information maximisation and soft neighbourhood density on the target's predictions;
//! - the proxy A-distance comes from [`crate::metrics::domain_classifier`];
//! - `params`: [`CohesionParams`], and `shared`: input checks and centring used by several families.
//!
//! [`cohesion`] runs them all in a fixed order and assembles the [`CohesionReport`]. The families
//! never import this file (the parameters they read live in `params`), so dependencies point one way.

mod entropy;
mod mmd;
mod neighbours;
mod params;
mod shared;
mod silhouette;

pub use entropy::{information_maximization, snd};
pub use mmd::{mmd2_linear, mmd2_rbf, rbf_bandwidth};
pub use neighbours::{domain_knn_purity, knn_transfer_accuracy};
pub use params::CohesionParams;
pub use silhouette::{
    silhouette_domain, silhouette_joint, silhouette_score, silhouette_source, silhouette_target,
};

use serde::Serialize;

use crate::metrics::domain_classifier::proxy_a_distance;
use crate::metrics::{DomainData, MetricsError, MetricsResult};
use shared::{check_dims, undefined};

/// One named measure: a value, or the reason it has none.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct MetricValue {
    /// Measure name.
    pub name: String,
    /// Value, when defined.
    pub value: Option<f64>,
    /// Why there is no value.
    pub reason: Option<String>,
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
/// this input (one class, too few points, missing logits) gets `value: None` and a reason.
pub fn cohesion(
    source: &DomainData,
    target: &DomainData,
    params: &CohesionParams,
) -> MetricsResult<CohesionReport> {
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
    let mut metrics = Vec::new();
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
        metrics.push(MetricValue {
            name: name.to_string(),
            value,
            reason,
        });
        Ok(())
    };
    let no_logits = |what: &str| {
        Err(undefined(
            "",
            format!("{what} logits absent (model without a classification head)"),
        ))
    };
    push("silhouette_source", silhouette_source(source, prec))?;
    push("silhouette_target", silhouette_target(target, prec))?;
    push("silhouette_joint", silhouette_joint(source, target, prec))?;
    push("silhouette_domain", silhouette_domain(source, target, prec))?;
    push(
        "proxy_a_distance",
        proxy_a_distance(source.embedding, target.embedding, &params.proxy_a).map(|p| p.value),
    )?;
    push(
        "mmd2_linear",
        mmd2_linear(source.embedding, target.embedding),
    )?;
    push(
        "mmd2_rbf",
        mmd2_rbf(source.embedding, target.embedding, params).map(|v| v.0),
    )?;
    push(
        "knn_transfer_accuracy",
        knn_transfer_accuracy(source, target, params.knn_k, prec),
    )?;
    match target.logits {
        Some(l) => {
            push("information_maximization", information_maximization(l))?;
            push("snd", snd(l, params.snd_temperature))?;
        }
        None => {
            push("information_maximization", no_logits("target"))?;
            push("snd", no_logits("target"))?;
        }
    }
    push(
        "domain_knn_purity",
        domain_knn_purity(source.embedding, target.embedding, params.purity_k, prec),
    )?;
    Ok(CohesionReport { metrics })
}
