//! Per-class transfer of a source→target pair: which target classes land among their own source class,
//! which are pulled into another one, and how far apart each class's two domains still are.
//!
//! For every class `c` ([`ClassTransfer`]): source and target accuracy (recall of `c`, from the logits);
//! the kNN class agreement (mean over target images of class `c` of the share of their `k` nearest
//! *source* neighbours, Euclidean in the embedding space, that have class `c`); the source class that most
//! target images of class `c` land nearest to, by kNN majority and by nearest source centroid;
//! class-conditional MMD² (RBF, bandwidth by the median rule of [`rbf_bandwidth`](super::rbf_bandwidth)
//! applied to the class's own pooled points); and the domain silhouette restricted to class `c` (how
//! separable the class's source and target points still are).
//!
//! The misalignment matrix counts target images by (true class, kNN-majority source class); its
//! off-diagonal cells, ranked by the share of the row, are the "target class `c` is pulled into source
//! class `c′`" list ([`Pull`]). Pure computation; see `docs/metrics.md` for the formulas.

use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::cohesion::{
    mmd2_rbf, mmd2_rbf_scalable, rbf_bandwidth, silhouette_scalable, silhouette_score, vote,
    CohesionParams, ScaleParams,
};
use super::distance::{knn_indices, pooled_mean, prepare, Elem, Precision};
use super::{DomainData, MetricsError, MetricsResult};

/// Parameters of [`transfer`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferParams {
    /// Source neighbours of each target image. Default 10 (reduced, with a notice, when the source has
    /// fewer points).
    pub k: usize,
    /// Precision of the distance products. Default [`Precision::F32`].
    #[serde(skip)]
    pub precision: Precision,
    /// Largest pooled class sample whose pairwise distances give the exact RBF bandwidth (as
    /// [`CohesionParams::mmd_median_max_points`]). Default 4000.
    pub mmd_median_max_points: usize,
    /// Seed of the bandwidth subsample of large classes and of the scalable mode. Default 0.
    pub seed: u64,
    /// Exact or scalable: above the threshold the kNN measures use a stratified sample of target
    /// images, and a class's MMD² and domain silhouette the anchor estimates of the cohesion measures.
    #[serde(default)]
    pub scale: ScaleParams,
    /// Class names in label order, to name classes in notices (empty: classes go by index).
    #[serde(skip)]
    pub class_names: Vec<String>,
}

impl Default for TransferParams {
    fn default() -> Self {
        Self {
            k: 10,
            precision: Precision::F32,
            mmd_median_max_points: 4000,
            seed: 0,
            scale: ScaleParams::default(),
            class_names: Vec::new(),
        }
    }
}

impl TransferParams {
    /// The transfer parameters that go with cohesion parameters (same precision, bandwidth cap and
    /// seed), with the default `k`.
    pub fn from_cohesion(c: &CohesionParams) -> Self {
        Self {
            precision: c.precision,
            mmd_median_max_points: c.mmd_median_max_points,
            seed: c.seed,
            scale: c.scale,
            ..Self::default()
        }
    }

    /// Sets `k`.
    pub fn k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }

    /// Sets the class names used in notices.
    pub fn class_names(mut self, names: &[String]) -> Self {
        self.class_names = names.to_vec();
        self
    }

    /// Sets the precision.
    pub fn precision(mut self, p: Precision) -> Self {
        self.precision = p;
        self
    }

    /// Validates the parameters.
    pub fn check(&self) -> MetricsResult<&Self> {
        if self.k == 0 {
            return Err(MetricsError::Param {
                name: "k",
                expected: "at least 1 neighbour".into(),
                found: "0".into(),
            });
        }
        if self.mmd_median_max_points < 2 {
            return Err(MetricsError::Param {
                name: "mmd_median_max_points",
                expected: "at least 2".into(),
                found: self.mmd_median_max_points.to_string(),
            });
        }
        Ok(self)
    }

    fn cohesion(&self) -> CohesionParams {
        let mut c = CohesionParams::default()
            .precision(self.precision)
            .seed(self.seed);
        c.mmd_median_max_points = self.mmd_median_max_points;
        c.scale(self.scale)
    }
}

/// How one class transfers from the source to the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassTransfer {
    /// Class index (logit order).
    pub class: usize,
    /// Source images of this class.
    pub n_source: usize,
    /// Target images of this class.
    pub n_target: usize,
    /// Source accuracy of the class (recall); `None` without logits or source images.
    pub source_accuracy: Option<f64>,
    /// Target accuracy of the class (recall); `None` without logits or target images.
    pub target_accuracy: Option<f64>,
    /// Mean share of a target image's `k` nearest source neighbours that have its class.
    pub knn_agreement: Option<f64>,
    /// The source class that most of this class's target images get as kNN majority (ties: lowest
    /// index).
    pub knn_nearest_class: Option<usize>,
    /// Share of this class's target images whose kNN majority is [`Self::knn_nearest_class`].
    pub knn_nearest_share: Option<f64>,
    /// The source class whose centroid most of this class's target images are nearest to (ties: lowest
    /// index).
    pub centroid_nearest_class: Option<usize>,
    /// Share of this class's target images nearest to [`Self::centroid_nearest_class`]'s centroid.
    pub centroid_nearest_share: Option<f64>,
    /// Unbiased RBF MMD² between this class's source and target points.
    pub mmd2_rbf: Option<f64>,
    /// The bandwidth `σ²` used for [`Self::mmd2_rbf`].
    pub mmd_sigma2: Option<f64>,
    /// Silhouette of this class's source and target points with the domain as cluster label
    /// (−1…1; higher = the class's domains are still apart).
    pub domain_silhouette: Option<f64>,
}

/// "Target class `target_class` is pulled into source class `source_class`".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pull {
    /// True class of the target images.
    pub target_class: usize,
    /// Their kNN-majority source class (≠ `target_class`).
    pub source_class: usize,
    /// Target images of `target_class` with that kNN majority.
    pub count: u64,
    /// `count` over the target images of `target_class`.
    pub share: f64,
}

/// Per-class transfer of a pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferReport {
    /// Neighbours used (after any reduction to the source size).
    pub k: usize,
    /// One entry per class, in class order.
    pub classes: Vec<ClassTransfer>,
    /// `[target class][kNN-majority source class]` counts of target images.
    pub misalignment: Vec<Vec<u64>>,
    /// Off-diagonal cells of the misalignment matrix with a count, by share (then count) descending,
    /// then by target and source class.
    pub pulls: Vec<Pull>,
    /// Measures that could not be computed for some class, and why.
    pub notices: Vec<String>,
}

/// Index of the largest count (ties: lowest index); `None` when all are zero.
fn mode(counts: &[u64]) -> Option<(usize, u64)> {
    let mut best: Option<(usize, u64)> = None;
    for (i, &c) in counts.iter().enumerate() {
        if c > 0 && best.is_none_or(|b| c > b.1) {
            best = Some((i, c));
        }
    }
    best
}

fn knn<T: Elem>(s: ArrayView2<'_, f32>, t: ArrayView2<'_, f32>, k: usize) -> Vec<Vec<usize>> {
    let mean = pooled_mean(&[s.view(), t.view()]);
    let sp = prepare::<T>(&[s], &mean);
    let tp = prepare::<T>(&[t], &mean);
    knn_indices(&tp, &sp, k, false)
}

fn argmax(row: ndarray::ArrayView1<f32>) -> usize {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = j;
        }
    }
    best
}

/// Per-class recall from the logits (`None` for classes without points).
fn per_class_accuracy(d: &DomainData, labels: &[usize], n_classes: usize) -> Vec<Option<f64>> {
    let Some(l) = d.logits else {
        return vec![None; n_classes];
    };
    let mut hit = vec![0usize; n_classes];
    let mut n = vec![0usize; n_classes];
    for (row, &y) in l.outer_iter().zip(labels) {
        n[y] += 1;
        hit[y] += usize::from(argmax(row) == y);
    }
    hit.iter()
        .zip(&n)
        .map(|(&h, &n)| (n > 0).then(|| h as f64 / n as f64))
        .collect()
}

fn check_labels(d: &DomainData, what: &str, n_classes: usize) -> MetricsResult<Vec<usize>> {
    d.labels
        .iter()
        .enumerate()
        .map(|(row, &l)| {
            usize::try_from(l)
                .ok()
                .filter(|&v| v < n_classes)
                .ok_or_else(|| MetricsError::Label {
                    what: format!("{what} labels"),
                    row,
                    label: l,
                    n_classes,
                })
        })
        .collect()
}

/// Source class centroids in `f64` (`None` for classes without source points).
fn centroids(x: ArrayView2<f32>, labels: &[usize], n_classes: usize) -> Vec<Option<Vec<f64>>> {
    let d = x.ncols();
    let mut sum = vec![vec![0.0f64; d]; n_classes];
    let mut n = vec![0usize; n_classes];
    for (row, &y) in x.outer_iter().zip(labels) {
        n[y] += 1;
        for (s, &v) in sum[y].iter_mut().zip(row.iter()) {
            *s += f64::from(v);
        }
    }
    sum.into_iter()
        .zip(n)
        .map(|(s, n)| (n > 0).then(|| s.into_iter().map(|v| v / n as f64).collect()))
        .collect()
}

/// Nearest centroid of a point (squared Euclidean in `f64`; ties: lowest class index).
fn nearest_centroid(p: ndarray::ArrayView1<f32>, cents: &[Option<Vec<f64>>]) -> usize {
    let mut best = (f64::INFINITY, 0usize);
    for (c, cent) in cents.iter().enumerate() {
        let Some(cent) = cent else { continue };
        let d: f64 = p
            .iter()
            .zip(cent)
            .map(|(&v, &m)| (f64::from(v) - m).powi(2))
            .sum();
        if d < best.0 {
            best = (d, c);
        }
    }
    best.1
}

fn rows_of(x: ArrayView2<f32>, labels: &[usize], c: usize) -> Array2<f32> {
    let idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
    x.select(Axis(0), &idx)
}

/// Per-class transfer of the pair `source → target` with `n_classes` classes (labels index the logit
/// order). Needs source and target labels; accuracies need logits. Input errors (non-finite values,
/// shape mismatches, labels outside `0..n_classes`, an empty domain, bad parameters) are `Err`; a
/// per-class measure that is undefined (too few points of the class in a domain, coinciding points) is
/// `None` with a notice.
pub fn transfer(
    source: &DomainData,
    target: &DomainData,
    n_classes: usize,
    params: &TransferParams,
) -> MetricsResult<TransferReport> {
    params.check()?;
    source.validate("source")?;
    target.validate("target")?;
    if source.embedding.ncols() != target.embedding.ncols() {
        return Err(MetricsError::Shape {
            what: "target embedding".into(),
            expected: format!("{} columns like the source", source.embedding.ncols()),
            found: format!("{} columns", target.embedding.ncols()),
        });
    }
    for (name, n) in [("source", source.len()), ("target", target.len())] {
        if n == 0 {
            return Err(MetricsError::TooFewPoints {
                metric: format!("transfer ({name} domain)"),
                needed: 1,
                found: 0,
            });
        }
    }
    let ys = check_labels(source, "source", n_classes)?;
    let yt = check_labels(target, "target", n_classes)?;
    let mut notices = Vec::new();
    let k = params.k.min(source.len());
    if k < params.k {
        notices.push(format!(
            "the source has {} points: kNN measures use k = {k} instead of {}",
            source.len(),
            params.k
        ));
    }
    // the target images whose neighbours are searched: all, or a stratified sample when scalable
    let sel: Vec<usize> = if params.scale.scalable(source.len() + target.len()) {
        let m = params.scale.anchors * params.scale.repeats;
        let mut strata = vec![Vec::new(); n_classes];
        for (i, &y) in yt.iter().enumerate() {
            strata[y].push(i);
        }
        let s = crate::metrics::cohesion::stratified_sample(&strata, m, params.seed);
        notices.push(format!(
            "scalable mode: the kNN measures use a stratified sample of {} of the {} target images \
             (misalignment counts are counts of sampled images)",
            s.len(),
            target.len()
        ));
        s
    } else {
        (0..target.len()).collect()
    };
    let tsel = target.embedding.select(Axis(0), &sel);
    let nn = match params.precision {
        Precision::F32 => knn::<f32>(source.embedding, tsel.view(), k),
        Precision::F64 => knn::<f64>(source.embedding, tsel.view(), k),
    };
    let mut n_sampled = vec![0usize; n_classes];
    let cents = centroids(source.embedding, &ys, n_classes);
    let mut mis = vec![vec![0u64; n_classes]; n_classes];
    let mut cen = vec![vec![0u64; n_classes]; n_classes];
    let mut agree = vec![0.0f64; n_classes];
    for (&i, nb) in sel.iter().zip(&nn) {
        let y = yt[i];
        n_sampled[y] += 1;
        agree[y] += nb.iter().filter(|&&j| ys[j] == y).count() as f64 / k as f64;
        mis[y][vote(nb, &ys)] += 1;
        cen[y][nearest_centroid(target.embedding.row(i), &cents)] += 1;
    }
    let src_acc = per_class_accuracy(source, &ys, n_classes);
    let tgt_acc = per_class_accuracy(target, &yt, n_classes);
    let coh = params.cohesion();
    let undefined = |e: MetricsError| match e {
        MetricsError::Undefined { .. }
        | MetricsError::TooFewPoints { .. }
        | MetricsError::NoConvergence { .. } => Ok(e.to_string()),
        other => Err(other),
    };
    let mut classes = Vec::with_capacity(n_classes);
    for c in 0..n_classes {
        let n_source = ys.iter().filter(|&&y| y == c).count();
        let n_target = yt.iter().filter(|&&y| y == c).count();
        let share = |count: u64| count as f64 / n_sampled[c] as f64;
        let knn_mode = mode(&mis[c]);
        let cen_mode = mode(&cen[c]);
        let sc = rows_of(source.embedding, &ys, c);
        let tc = rows_of(target.embedding, &yt, c);
        let big = coh.scale.scalable(n_source + n_target);
        // A class with no point in either domain is not part of this pair: nothing to say about it.
        let absent = n_source == 0 && n_target == 0;
        let label = crate::metrics::classification::class_label(&params.class_names, c);
        let (mmd2, sigma2) = match class_mmd(sc.view(), tc.view(), &coh, big) {
            Ok((v, s2)) => (Some(v), Some(s2)),
            Err(e) => {
                let why = undefined(e)?;
                if !absent {
                    notices.push(format!(
                        "class {label}: {}",
                        crate::text::labelled("mmd2_rbf", &why)
                    ));
                }
                (None, None)
            }
        };
        let dom: Vec<i64> = std::iter::repeat_n(0, n_source)
            .chain(std::iter::repeat_n(1, n_target))
            .collect();
        let sil = match if big {
            silhouette_scalable(
                &[sc.view(), tc.view()],
                &dom,
                &coh,
                "class_domain_silhouette",
            )
            .map(|s| s.value)
        } else {
            silhouette_score(&[sc.view(), tc.view()], &dom, params.precision)
        } {
            Ok(v) => Some(v),
            Err(e) => {
                let why = undefined(e)?;
                if !absent {
                    notices.push(format!(
                        "class {label}: {}",
                        crate::text::labelled("domain silhouette", &why)
                    ));
                }
                None
            }
        };
        classes.push(ClassTransfer {
            class: c,
            n_source,
            n_target,
            source_accuracy: src_acc[c],
            target_accuracy: tgt_acc[c],
            knn_agreement: (n_sampled[c] > 0).then(|| agree[c] / n_sampled[c] as f64),
            knn_nearest_class: knn_mode.map(|m| m.0),
            knn_nearest_share: knn_mode.map(|m| share(m.1)),
            centroid_nearest_class: cen_mode.map(|m| m.0),
            centroid_nearest_share: cen_mode.map(|m| share(m.1)),
            mmd2_rbf: mmd2,
            mmd_sigma2: sigma2,
            domain_silhouette: sil,
        });
    }
    let pulls = pulls(&mis);
    Ok(TransferReport {
        k,
        classes,
        misalignment: mis,
        pulls,
        notices,
    })
}

/// Class-conditional RBF MMD² and its bandwidth, exact or by the scalable anchor estimate.
fn class_mmd(
    sc: ArrayView2<f32>,
    tc: ArrayView2<f32>,
    coh: &CohesionParams,
    scalable: bool,
) -> MetricsResult<(f64, f64)> {
    if !scalable || sc.nrows() < 2 || tc.nrows() < 2 {
        return mmd2_rbf(sc, tc, coh);
    }
    let sigma2 = rbf_bandwidth(sc, tc, coh)?;
    Ok((mmd2_rbf_scalable(sc, tc, sigma2, coh).value, sigma2))
}

/// The off-diagonal cells of a misalignment matrix with a count, ranked by share of their row
/// (descending), then count (descending), then target and source class.
pub fn pulls(misalignment: &[Vec<u64>]) -> Vec<Pull> {
    let mut out = Vec::new();
    for (c, row) in misalignment.iter().enumerate() {
        let total: u64 = row.iter().sum();
        for (c2, &count) in row.iter().enumerate() {
            if c2 != c && count > 0 {
                out.push(Pull {
                    target_class: c,
                    source_class: c2,
                    count,
                    share: count as f64 / total as f64,
                });
            }
        }
    }
    out.sort_by(|a, b| {
        b.share
            .total_cmp(&a.share)
            .then(b.count.cmp(&a.count))
            .then(a.target_class.cmp(&b.target_class))
            .then(a.source_class.cmp(&b.source_class))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    #[test]
    fn a_class_moved_onto_another_is_reported_as_pulled() {
        // Source: class 0 near 0, class 1 near 10, class 2 near 20 (1-D). Target: class 0 and 2 stay,
        // class 1 sits on top of source class 2.
        let s: Array2<f32> = array![[0.0], [0.5], [10.0], [10.5], [20.0], [20.5]];
        let ys: Array1<i64> = array![0, 0, 1, 1, 2, 2];
        let t: Array2<f32> = array![[0.2], [20.1], [20.3], [20.2]];
        let yt: Array1<i64> = array![0, 1, 1, 2];
        let r = transfer(
            &DomainData::new(s.view(), None, ys.view()),
            &DomainData::new(t.view(), None, yt.view()),
            3,
            &TransferParams::default().k(1),
        )
        .unwrap();
        assert_eq!(
            r.misalignment,
            vec![vec![1, 0, 0], vec![0, 0, 2], vec![0, 0, 1]]
        );
        assert_eq!(r.classes[1].knn_nearest_class, Some(2));
        assert_eq!(r.classes[1].centroid_nearest_class, Some(2));
        assert_eq!(r.classes[1].knn_agreement, Some(0.0));
        assert_eq!(r.classes[0].knn_agreement, Some(1.0));
        assert_eq!(r.classes[0].target_accuracy, None);
        assert_eq!(
            r.pulls,
            vec![Pull {
                target_class: 1,
                source_class: 2,
                count: 2,
                share: 1.0
            }]
        );
        // one target point of class 0: no class-conditional MMD², a notice says why
        assert!(r.classes[0].mmd2_rbf.is_none());
        assert!(r.notices.iter().any(|n| n.contains("class 0: mmd2_rbf")));
    }

    #[test]
    fn k_is_reduced_to_the_source_size_and_bad_labels_fail() {
        let s: Array2<f32> = array![[0.0], [1.0]];
        let ys: Array1<i64> = array![0, 1];
        let t: Array2<f32> = array![[0.1]];
        let yt: Array1<i64> = array![0];
        let sd = DomainData::new(s.view(), None, ys.view());
        let r = transfer(
            &sd,
            &DomainData::new(t.view(), None, yt.view()),
            2,
            &TransferParams::default(),
        )
        .unwrap();
        assert_eq!(r.k, 2);
        assert!(r.notices[0].contains("k = 2"));
        let bad: Array1<i64> = array![5];
        let e = transfer(
            &sd,
            &DomainData::new(t.view(), None, bad.view()),
            2,
            &TransferParams::default(),
        )
        .unwrap_err();
        assert!(matches!(e, MetricsError::Label { label: 5, .. }), "{e}");
    }
}
