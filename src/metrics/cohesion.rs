//! Cohesion and alignment measures of a source/target pair.

use super::distance::{
    knn_indices, label_distance_sums, pair_sq_distances, pooled_mean, prepare, row_sums, Elem,
    Precision, Prepared,
};
use super::domain_classifier::{proxy_a_distance, ProxyAParams};
use super::{softmax_f64, DomainData, MetricsError, MetricsResult};
use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// Hyper-parameters of [`cohesion`] and the single measures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohesionParams {
    /// Precision of the distance matrix products. Default [`Precision::F32`].
    pub precision: Precision,
    /// Neighbours voting in [`knn_transfer_accuracy`]. Default 5.
    pub knn_k: usize,
    /// Neighbours in [`domain_knn_purity`]. Default 10.
    pub purity_k: usize,
    /// Largest pooled sample whose pairwise distances give the exact RBF bandwidth; above it a seeded
    /// subsample of this many points is used. Default 4000.
    pub mmd_median_max_points: usize,
    /// Seed of the bandwidth subsample. Default 0.
    pub seed: u64,
    /// Temperature of [`snd`]. Default 0.05.
    pub snd_temperature: f64,
    /// Proxy A-distance recipe.
    pub proxy_a: ProxyAParams,
}

impl Default for CohesionParams {
    fn default() -> Self {
        Self {
            precision: Precision::F32,
            knn_k: 5,
            purity_k: 10,
            mmd_median_max_points: 4000,
            seed: 0,
            snd_temperature: 0.05,
            proxy_a: ProxyAParams::default(),
        }
    }
}

impl CohesionParams {
    /// Sets the precision.
    pub fn precision(mut self, p: Precision) -> Self {
        self.precision = p;
        self
    }
    /// Sets the kNN transfer `k`.
    pub fn knn_k(mut self, k: usize) -> Self {
        self.knn_k = k;
        self
    }
    /// Sets the purity `k`.
    pub fn purity_k(mut self, k: usize) -> Self {
        self.purity_k = k;
        self
    }
    /// Sets the seed (bandwidth subsample and proxy A-distance split).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self.proxy_a.seed = seed;
        self
    }
    /// Validates the parameters.
    pub fn check(&self) -> MetricsResult<&Self> {
        if self.knn_k == 0 || self.purity_k == 0 {
            return Err(MetricsError::Param {
                name: "knn_k/purity_k",
                expected: "at least 1 neighbour".into(),
                found: format!("{}/{}", self.knn_k, self.purity_k),
            });
        }
        if self.mmd_median_max_points < 2 {
            return Err(MetricsError::Param {
                name: "mmd_median_max_points",
                expected: "at least 2".into(),
                found: self.mmd_median_max_points.to_string(),
            });
        }
        if !(self.snd_temperature > 0.0 && self.snd_temperature.is_finite()) {
            return Err(MetricsError::Param {
                name: "snd_temperature",
                expected: "a finite positive number".into(),
                found: self.snd_temperature.to_string(),
            });
        }
        self.proxy_a.check()?;
        Ok(self)
    }
}

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

fn undefined(metric: &str, reason: impl Into<String>) -> MetricsError {
    MetricsError::Undefined {
        metric: metric.into(),
        reason: reason.into(),
    }
}

fn check_dims(a: ArrayView2<f32>, b: ArrayView2<f32>) -> MetricsResult<()> {
    if a.ncols() != b.ncols() {
        return Err(MetricsError::Shape {
            what: "target embedding".into(),
            expected: format!("{} columns like the source embedding", a.ncols()),
            found: format!("{} columns", b.ncols()),
        });
    }
    Ok(())
}

/// Prepares the stacked parts centred on their pooled mean.
fn prep<T: Elem>(parts: &[ArrayView2<f32>]) -> Prepared<T> {
    let mean = pooled_mean(parts);
    prepare(parts, &mean)
}

fn silhouette_impl<T: Elem>(parts: &[ArrayView2<f32>], labels: &[i64]) -> MetricsResult<f64> {
    let n = labels.len();
    let mut uniq: Vec<i64> = labels.to_vec();
    uniq.sort_unstable();
    uniq.dedup();
    let n_labels = uniq.len();
    if n_labels < 2 || n_labels > n.saturating_sub(1) {
        return Err(undefined(
            "silhouette",
            format!("needs 2 to n−1 distinct labels, found {n_labels} labels among {n} points"),
        ));
    }
    let dense: Vec<usize> = labels
        .iter()
        .map(|l| uniq.binary_search(l).unwrap_or(0))
        .collect();
    let mut freq = vec![0usize; n_labels];
    for &l in &dense {
        freq[l] += 1;
    }
    let x = prep::<T>(parts);
    let sums = label_distance_sums(&x, &dense, n_labels);
    let mut total = 0.0f64;
    for (i, &own) in dense.iter().enumerate() {
        if freq[own] < 2 {
            continue; // singleton cluster scores 0
        }
        let row = &sums[i * n_labels..(i + 1) * n_labels];
        let a = row[own] / (freq[own] - 1) as f64;
        let b = row
            .iter()
            .zip(&freq)
            .enumerate()
            .filter(|(l, _)| *l != own)
            .map(|(_, (&s, &f))| s / f as f64)
            .fold(f64::INFINITY, f64::min);
        let m = a.max(b);
        if m > 0.0 {
            total += (b - a) / m;
        }
    }
    Ok(total / n as f64)
}

/// Mean silhouette coefficient of the rows of `parts` (stacked) clustered by `labels` (Euclidean, as
/// scikit-learn's `silhouette_score`; a point alone in its cluster scores 0). Undefined unless there are
/// between 2 and `n − 1` distinct labels.
pub fn silhouette_score(
    parts: &[ArrayView2<f32>],
    labels: &[i64],
    precision: Precision,
) -> MetricsResult<f64> {
    let n: usize = parts.iter().map(|p| p.nrows()).sum();
    if n != labels.len() {
        return Err(MetricsError::Shape {
            what: "silhouette labels".into(),
            expected: format!("{n} labels (one per row)"),
            found: labels.len().to_string(),
        });
    }
    match precision {
        Precision::F32 => silhouette_impl::<f32>(parts, labels),
        Precision::F64 => silhouette_impl::<f64>(parts, labels),
    }
}

/// Silhouette of the source embedding by class label.
pub fn silhouette_source(source: &DomainData, precision: Precision) -> MetricsResult<f64> {
    silhouette_score(&[source.embedding], &source.labels.to_vec(), precision)
}

/// Silhouette of the target embedding by class label (needs target labels).
pub fn silhouette_target(target: &DomainData, precision: Precision) -> MetricsResult<f64> {
    silhouette_score(&[target.embedding], &target.labels.to_vec(), precision)
}

/// Silhouette of source and target together by class label.
pub fn silhouette_joint(
    source: &DomainData,
    target: &DomainData,
    precision: Precision,
) -> MetricsResult<f64> {
    check_dims(source.embedding, target.embedding)?;
    let labels: Vec<i64> = source
        .labels
        .iter()
        .chain(target.labels.iter())
        .copied()
        .collect();
    silhouette_score(
        &[source.embedding.view(), target.embedding.view()],
        &labels,
        precision,
    )
}

/// Silhouette of source and target together with the domain as cluster label (source 0, target 1).
pub fn silhouette_domain(
    source: &DomainData,
    target: &DomainData,
    precision: Precision,
) -> MetricsResult<f64> {
    check_dims(source.embedding, target.embedding)?;
    let labels: Vec<i64> = std::iter::repeat_n(0, source.len())
        .chain(std::iter::repeat_n(1, target.len()))
        .collect();
    silhouette_score(
        &[source.embedding.view(), target.embedding.view()],
        &labels,
        precision,
    )
}

/// Unbiased MMD² with the linear kernel `k(x, y) = x·y`:
/// `Σ_{i≠j} k(s_i,s_j)/(m(m−1)) + Σ_{i≠j} k(t_i,t_j)/(n(n−1)) − 2 Σ k(s_i,t_j)/(mn)`, computed exactly
/// in `O((m+n)·D)` from sums (in `f64`, on data centred at the pooled mean, which leaves it unchanged).
pub fn mmd2_linear(source: ArrayView2<f32>, target: ArrayView2<f32>) -> MetricsResult<f64> {
    check_dims(source, target)?;
    let (m, n) = (source.nrows(), target.nrows());
    if m < 2 || n < 2 {
        return Err(MetricsError::TooFewPoints {
            metric: "mmd2_linear".into(),
            needed: 2,
            found: m.min(n),
        });
    }
    let mean = pooled_mean(&[source.view(), target.view()]);
    let sums = |x: ArrayView2<f32>| {
        let mut s = vec![0.0f64; mean.len()];
        let mut sq = 0.0f64;
        for r in x.outer_iter() {
            for ((a, &v), &mu) in s.iter_mut().zip(r.iter()).zip(&mean) {
                let c = f64::from(v) - mu;
                *a += c;
                sq += c * c;
            }
        }
        (s, sq)
    };
    let (ss, sq_s) = sums(source);
    let (st, sq_t) = sums(target);
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let (mf, nf) = (m as f64, n as f64);
    Ok(
        (dot(&ss, &ss) - sq_s) / (mf * (mf - 1.0)) + (dot(&st, &st) - sq_t) / (nf * (nf - 1.0))
            - 2.0 * dot(&ss, &st) / (mf * nf),
    )
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let k = v.len() / 2;
    let (_, hi, _) = v.select_nth_unstable_by(k, f64::total_cmp);
    let hi = *hi;
    if v.len() % 2 == 1 {
        return Some(hi);
    }
    let lo = v[..k].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((lo + hi) / 2.0)
}

fn bandwidth_impl<T: Elem>(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    params: &CohesionParams,
) -> MetricsResult<f64> {
    let n = source.nrows() + target.nrows();
    let cap = params.mmd_median_max_points;
    let pooled = if n <= cap {
        prep::<T>(&[source.view(), target.view()])
    } else {
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
        let mut idx = rand::seq::index::sample(&mut rng, n, cap).into_vec();
        idx.sort_unstable();
        let d = source.ncols();
        let mut sub = Array2::<f32>::zeros((cap, d));
        for (mut dst, &i) in sub.outer_iter_mut().zip(&idx) {
            if i < source.nrows() {
                dst.assign(&source.row(i));
            } else {
                dst.assign(&target.row(i - source.nrows()));
            }
        }
        prep::<T>(&[sub.view()])
    };
    let med = median(pair_sq_distances(&pooled))
        .ok_or_else(|| undefined("mmd2_rbf", "fewer than 2 pooled points"))?;
    if med <= 0.0 {
        return Err(undefined(
            "mmd2_rbf",
            "median pairwise squared distance is 0 (points coincide): no bandwidth",
        ));
    }
    Ok(med)
}

/// RBF bandwidth `σ²`: the median of `‖z_i − z_j‖²` over all pairs `i < j` of the pooled sample (numpy's
/// median: mean of the two middle values for an even count). When the pooled sample has more than
/// `params.mmd_median_max_points` points, the median is taken over the pairs of a seeded subsample of that
/// many points (ChaCha8, `params.seed`, drawn without replacement).
pub fn rbf_bandwidth(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    params: &CohesionParams,
) -> MetricsResult<f64> {
    check_dims(source, target)?;
    match params.precision {
        Precision::F32 => bandwidth_impl::<f32>(source, target, params),
        Precision::F64 => bandwidth_impl::<f64>(source, target, params),
    }
}

fn mmd_rbf_impl<T: Elem>(source: ArrayView2<f32>, target: ArrayView2<f32>, sigma2: f64) -> f64 {
    let mean = pooled_mean(&[source.view(), target.view()]);
    let s = prepare::<T>(&[source], &mean);
    let t = prepare::<T>(&[target], &mean);
    let k = |d2: f64| (-d2 / sigma2).exp();
    let sum = |v: Vec<f64>| v.iter().sum::<f64>();
    let (m, n) = (source.nrows() as f64, target.nrows() as f64);
    let kss = sum(row_sums(&s, &s, true, k));
    let ktt = sum(row_sums(&t, &t, true, k));
    let kst = sum(row_sums(&s, &t, false, k));
    kss / (m * (m - 1.0)) + ktt / (n * (n - 1.0)) - 2.0 * kst / (m * n)
}

/// Unbiased MMD² with the Gaussian kernel `k(x, y) = exp(−‖x − y‖² / σ²)`, `σ²` from [`rbf_bandwidth`];
/// same estimator as [`mmd2_linear`]. Returns `(mmd², σ²)`.
pub fn mmd2_rbf(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    params: &CohesionParams,
) -> MetricsResult<(f64, f64)> {
    check_dims(source, target)?;
    let (m, n) = (source.nrows(), target.nrows());
    if m < 2 || n < 2 {
        return Err(MetricsError::TooFewPoints {
            metric: "mmd2_rbf".into(),
            needed: 2,
            found: m.min(n),
        });
    }
    let sigma2 = rbf_bandwidth(source, target, params)?;
    let v = match params.precision {
        Precision::F32 => mmd_rbf_impl::<f32>(source, target, sigma2),
        Precision::F64 => mmd_rbf_impl::<f64>(source, target, sigma2),
    };
    Ok((v, sigma2))
}

/// Majority class among `neighbours` (nearest first); ties go to the tied class met first, i.e. the one
/// holding the nearest neighbour among the tied classes.
fn vote(neighbours: &[usize], labels: &[i64]) -> i64 {
    let mut counts: Vec<(i64, usize)> = Vec::new();
    for &j in neighbours {
        match counts.iter_mut().find(|c| c.0 == labels[j]) {
            Some(c) => c.1 += 1,
            None => counts.push((labels[j], 1)),
        }
    }
    let mut best = counts[0];
    for &c in &counts[1..] {
        if c.1 > best.1 {
            best = c;
        }
    }
    best.0
}

fn knn_impl<T: Elem>(source: &DomainData, target: &DomainData, k: usize) -> f64 {
    let mean = pooled_mean(&[source.embedding.view(), target.embedding.view()]);
    let s = prepare::<T>(&[source.embedding], &mean);
    let t = prepare::<T>(&[target.embedding], &mean);
    let nn = knn_indices(&t, &s, k, false);
    let sl = source.labels.to_vec();
    let hits = nn
        .iter()
        .zip(target.labels.iter())
        .filter(|(nb, &y)| vote(nb, &sl) == y)
        .count();
    hits as f64 / target.len() as f64
}

/// Share of target points whose label equals the majority label of their `k` nearest source points
/// (Euclidean; equal distances ordered by source index; vote ties go to the class of the nearest of the
/// tied neighbours). Needs source and target labels.
pub fn knn_transfer_accuracy(
    source: &DomainData,
    target: &DomainData,
    k: usize,
    precision: Precision,
) -> MetricsResult<f64> {
    check_dims(source.embedding, target.embedding)?;
    if k == 0 || source.len() < k {
        return Err(MetricsError::TooFewPoints {
            metric: format!("knn_transfer_accuracy (k = {k})"),
            needed: k.max(1),
            found: source.len(),
        });
    }
    if target.is_empty() {
        return Err(MetricsError::TooFewPoints {
            metric: "knn_transfer_accuracy (target)".into(),
            needed: 1,
            found: 0,
        });
    }
    Ok(match precision {
        Precision::F32 => knn_impl::<f32>(source, target, k),
        Precision::F64 => knn_impl::<f64>(source, target, k),
    })
}

fn purity_impl<T: Elem>(source: ArrayView2<f32>, target: ArrayView2<f32>, k: usize) -> f64 {
    let x = prep::<T>(&[source.view(), target.view()]);
    let ns = source.nrows();
    let nn = knn_indices(&x, &x, k, true);
    let total: f64 = nn
        .iter()
        .enumerate()
        .map(|(i, nb)| nb.iter().filter(|&&j| (j < ns) == (i < ns)).count() as f64 / k as f64)
        .sum();
    total / nn.len() as f64
}

/// Mean over all pooled points of the share of their `k` nearest pooled neighbours (self excluded,
/// equal distances ordered by pooled index) that come from their own domain. 0.5-ish means mixed domains
/// (for equal sizes); 1 means separated. No labels needed.
pub fn domain_knn_purity(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    k: usize,
    precision: Precision,
) -> MetricsResult<f64> {
    check_dims(source, target)?;
    let n = source.nrows() + target.nrows();
    if k == 0 || n < k + 1 {
        return Err(MetricsError::TooFewPoints {
            metric: format!("domain_knn_purity (k = {k})"),
            needed: k + 1,
            found: n,
        });
    }
    if source.nrows() == 0 || target.nrows() == 0 {
        return Err(undefined("domain_knn_purity", "one domain is empty"));
    }
    Ok(match precision {
        Precision::F32 => purity_impl::<f32>(source, target, k),
        Precision::F64 => purity_impl::<f64>(source, target, k),
    })
}

fn entropy(p: impl Iterator<Item = f64>) -> f64 {
    -p.filter(|&v| v > 0.0).map(|v| v * v.ln()).sum::<f64>()
}

/// Information maximisation `H(mean_i p_i) − mean_i H(p_i)` on the softmax of `logits` (natural log).
/// Higher is better (confident and diverse predictions). No labels needed.
pub fn information_maximization(logits: ArrayView2<f32>) -> MetricsResult<f64> {
    let n = logits.nrows();
    if n == 0 {
        return Err(MetricsError::TooFewPoints {
            metric: "information_maximization".into(),
            needed: 1,
            found: 0,
        });
    }
    super::check_finite(logits, "logits")?;
    let p = softmax_f64(logits);
    let mean_h = p
        .outer_iter()
        .map(|r| entropy(r.iter().copied()))
        .sum::<f64>()
        / n as f64;
    let pbar = p.sum_axis(ndarray::Axis(0)) / n as f64;
    Ok(entropy(pbar.iter().copied()) - mean_h)
}

/// Soft neighbourhood density: softmax rows L2-normalised, cosine similarities with self left out, each
/// row turned into a distribution by `softmax(sim / temperature)`, score = mean row entropy (natural log).
/// Higher is better. No labels needed. Computed in `f64` over tiles of rows.
pub fn snd(logits: ArrayView2<f32>, temperature: f64) -> MetricsResult<f64> {
    let n = logits.nrows();
    if n < 2 {
        return Err(MetricsError::TooFewPoints {
            metric: "snd".into(),
            needed: 2,
            found: n,
        });
    }
    super::check_finite(logits, "logits")?;
    let mut p = softmax_f64(logits);
    for mut r in p.outer_iter_mut() {
        let norm = r.dot(&r).sqrt().max(1e-12);
        r /= norm;
    }
    let x = Prepared {
        data: p,
        norms: vec![0.0; n],
    };
    let inv_t = 1.0 / temperature;
    let blocks = super::distance::par_row_blocks(n, |rows| {
        let mut z = vec![0.0f64; rows.len()];
        let mut a = vec![0.0f64; rows.len()];
        super::distance::for_each_tile(&x, rows.clone(), &x, |r0, c0, g| {
            for (i, grow) in g.outer_iter().enumerate() {
                for (j, &sim) in grow.iter().enumerate() {
                    if r0 + i == c0 + j {
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
    Ok(blocks.into_iter().flatten().sum::<f64>() / n as f64)
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
