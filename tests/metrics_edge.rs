//! Bad input, edge cases, invariants and thread-count determinism of the metrics stage.
#![allow(clippy::needless_range_loop)] // index loops mirror the reference formulas

use dannscope::metrics::{
    binary_auroc, classification_report, cohesion, domain_knn_purity, knn_transfer_accuracy,
    proxy_a_distance, silhouette_score, stratified_split, ClassificationParams, CohesionParams,
    DomainData, MetricsError, Precision, ProxyAParams,
};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn blobs(n: usize, d: usize, k: usize, shift: f32, seed: u64) -> (Array2<f32>, Array1<i64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres = Array2::from_shape_fn((k, d), |_| rng.gen_range(-3.0f32..3.0));
    let y = Array1::from_shape_fn(n, |i| (i % k) as i64);
    let x = Array2::from_shape_fn((n, d), |(i, j)| {
        centres[[i % k, j]] + shift + rng.gen_range(-1.0f32..1.0)
    });
    (x, y)
}

fn logits_for(y: &Array1<i64>, k: usize, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((y.len(), k), |(i, c)| {
        rng.gen_range(-1.0f32..1.0) + if y[i] as usize == c { 1.0 } else { 0.0 }
    })
}

#[test]
fn sklearn_documented_binary_example() {
    // roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75 in scikit-learn's documentation
    let a = binary_auroc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
    assert!((a - 0.75).abs() < 1e-15);
    // all scores tied: 0.5; one class only: undefined
    assert_eq!(
        binary_auroc(&[0.3; 4], &[false, true, false, true]),
        Some(0.5)
    );
    assert_eq!(binary_auroc(&[0.1, 0.2], &[true, true]), None);
}

#[test]
fn non_finite_embedding_names_the_row() {
    let (mut x, y) = blobs(40, 3, 2, 0.0, 1);
    let (xt, yt) = blobs(30, 3, 2, 0.5, 2);
    x[[17, 2]] = f32::NAN;
    let err = cohesion(
        &DomainData::new(x.view(), None, y.view()),
        &DomainData::new(xt.view(), None, yt.view()),
        &CohesionParams::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            MetricsError::NonFinite {
                row: 17,
                col: 2,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("source embedding") && msg.contains("row 17"),
        "{msg}"
    );
}

#[test]
fn bad_logits_and_labels_are_errors() {
    let y = Array1::from(vec![0i64, 1, 2, 1]);
    let mut l = Array2::<f32>::zeros((4, 3));
    let p = ClassificationParams::default().n_resamples(10);
    l[[2, 1]] = f32::INFINITY;
    assert!(matches!(
        classification_report(l.view(), y.view(), 3, &p),
        Err(MetricsError::NonFinite { row: 2, col: 1, .. })
    ));
    let l = Array2::<f32>::zeros((4, 3));
    assert!(matches!(
        classification_report(l.view(), y.view(), 4, &p),
        Err(MetricsError::Shape { .. })
    ));
    let bad = Array1::from(vec![0i64, 1, 3, 1]);
    let e = classification_report(l.view(), bad.view(), 3, &p).unwrap_err();
    assert!(
        matches!(
            e,
            MetricsError::Label {
                row: 2,
                label: 3,
                ..
            }
        ),
        "{e}"
    );
    let empty = Array2::<f32>::zeros((0, 3));
    assert!(matches!(
        classification_report(empty.view(), Array1::<i64>::zeros(0).view(), 3, &p),
        Err(MetricsError::TooFewPoints { .. })
    ));
    let bad_level = ClassificationParams::default().level(1.5);
    assert!(matches!(
        classification_report(l.view(), y.view(), 3, &bad_level),
        Err(MetricsError::Param { .. })
    ));
}

#[test]
fn one_class_domain_gives_reasons_not_panics() {
    let (x, _) = blobs(30, 4, 1, 0.0, 3);
    let y = Array1::<i64>::zeros(30);
    let l = logits_for(&y, 3, 4);
    let r = classification_report(l.view(), y.view(), 3, &ClassificationParams::default()).unwrap();
    assert_eq!(r.auroc, None);
    assert!(r.auroc_ci.is_none());
    assert_eq!(r.notices.len(), 4, "{:?}", r.notices);
    assert_eq!(r.per_class[1].accuracy, None);
    assert!(matches!(
        silhouette_score(&[x.view()], &y.to_vec(), Precision::F32),
        Err(MetricsError::Undefined { .. })
    ));
    let (xs, ys) = blobs(40, 4, 3, 0.0, 5);
    let ls = logits_for(&ys, 3, 6);
    let rep = cohesion(
        &DomainData::new(xs.view(), Some(ls.view()), ys.view()),
        &DomainData::new(x.view(), Some(l.view()), y.view()),
        &CohesionParams::default(),
    )
    .unwrap();
    let st = rep.get("silhouette_target").unwrap();
    assert!(st.value.is_none() && st.reason.as_deref().unwrap().contains("labels"));
    assert!(rep.value("silhouette_joint").is_some());
}

#[test]
fn too_few_points_and_empty_domains() {
    let (xs, ys) = blobs(3, 2, 2, 0.0, 7);
    let (xt, yt) = blobs(5, 2, 2, 0.0, 8);
    let s = DomainData::new(xs.view(), None, ys.view());
    let t = DomainData::new(xt.view(), None, yt.view());
    assert!(matches!(
        knn_transfer_accuracy(&s, &t, 5, Precision::F32),
        Err(MetricsError::TooFewPoints {
            needed: 5,
            found: 3,
            ..
        })
    ));
    assert!(matches!(
        domain_knn_purity(xs.view(), xt.view(), 10, Precision::F32),
        Err(MetricsError::TooFewPoints { .. })
    ));
    let rep = cohesion(&s, &t, &CohesionParams::default()).unwrap();
    assert!(rep.get("knn_transfer_accuracy").unwrap().reason.is_some());
    assert!(rep.get("domain_knn_purity").unwrap().reason.is_some());
    let empty = Array2::<f32>::zeros((0, 2));
    let e = DomainData::new(empty.view(), None, ndarray::ArrayView1::from(&[] as &[i64]));
    assert!(cohesion(&s, &e, &CohesionParams::default()).is_err());
    let other = Array2::<f32>::zeros((5, 3));
    let t3 = DomainData::new(other.view(), None, yt.view());
    assert!(matches!(
        cohesion(&s, &t3, &CohesionParams::default()),
        Err(MetricsError::Shape { .. })
    ));
    assert!(matches!(
        CohesionParams::default().knn_k(0).check(),
        Err(MetricsError::Param { .. })
    ));
    assert!(stratified_split(1, 10, 0.2, 0).is_err());
}

#[test]
fn separated_and_identical_domains() {
    let (xs, ys) = blobs(150, 6, 3, 0.0, 9);
    let (xt, yt) = blobs(120, 6, 3, 40.0, 10);
    let s = DomainData::new(xs.view(), None, ys.view());
    let t = DomainData::new(xt.view(), None, yt.view());
    let rep = cohesion(&s, &t, &CohesionParams::default()).unwrap();
    assert_eq!(rep.value("proxy_a_distance"), Some(2.0));
    assert_eq!(rep.value("domain_knn_purity"), Some(1.0));
    assert!(rep.value("silhouette_domain").unwrap() > 0.8);
    // a domain against itself: no domain signal
    let same = cohesion(&s, &s, &CohesionParams::default()).unwrap();
    // with k = 1 each point finds itself
    assert_eq!(
        knn_transfer_accuracy(&s, &s, 1, Precision::F32).unwrap(),
        1.0
    );
    assert!(same.value("mmd2_linear").unwrap() < 0.0);
    assert!(same.value("mmd2_rbf").unwrap() < 0.0);
    assert!(same.value("silhouette_domain").unwrap().abs() < 0.05);
    let pad = proxy_a_distance(xs.view(), xs.view(), &ProxyAParams::default()).unwrap();
    assert!(pad.value < 1.0, "{pad:?}");
}

#[test]
fn blocked_silhouette_equals_brute_force() {
    // more rows than one row block and one column tile, several labels incl. a singleton
    let (x, mut y) = blobs(2300, 5, 4, 0.0, 11);
    y[5] = 9;
    let n = x.nrows();
    let dist = |i: usize, j: usize| {
        x.row(i)
            .iter()
            .zip(x.row(j).iter())
            .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let labels: Vec<i64> = y.to_vec();
    let mut uniq = labels.clone();
    uniq.sort();
    uniq.dedup();
    let mut total = 0.0;
    for i in 0..n {
        let mut sums = vec![0.0; uniq.len()];
        let mut cnt = vec![0usize; uniq.len()];
        for j in 0..n {
            let l = uniq.iter().position(|&u| u == labels[j]).unwrap();
            cnt[l] += 1;
            if j != i {
                sums[l] += dist(i, j);
            }
        }
        let own = uniq.iter().position(|&u| u == labels[i]).unwrap();
        if cnt[own] == 1 {
            continue;
        }
        let a = sums[own] / (cnt[own] - 1) as f64;
        let b = (0..uniq.len())
            .filter(|&l| l != own)
            .map(|l| sums[l] / cnt[l] as f64)
            .fold(f64::INFINITY, f64::min);
        total += (b - a) / a.max(b);
    }
    let want = total / n as f64;
    let got64 = silhouette_score(&[x.view()], &labels, Precision::F64).unwrap();
    let got32 = silhouette_score(&[x.view()], &labels, Precision::F32).unwrap();
    assert!((got64 - want).abs() < 1e-10, "{got64} vs {want}");
    assert!((got32 - want).abs() < 1e-6, "{got32} vs {want}");
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let (xs, ys) = blobs(700, 8, 5, 0.0, 12);
    let (xt, yt) = blobs(600, 8, 5, 0.7, 13);
    let ls = logits_for(&ys, 5, 14);
    let lt = logits_for(&yt, 5, 15);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let s = DomainData::new(xs.view(), Some(ls.view()), ys.view());
            let t = DomainData::new(xt.view(), Some(lt.view()), yt.view());
            let params = CohesionParams::default().seed(3);
            let c = cohesion(&s, &t, &params).unwrap();
            let r = classification_report(
                lt.view(),
                yt.view(),
                5,
                &ClassificationParams::default().n_resamples(300).seed(5),
            )
            .unwrap();
            serde_json::to_string(&(c, r)).unwrap()
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
    // another bootstrap seed moves the interval
    let a = classification_report(
        lt.view(),
        yt.view(),
        5,
        &ClassificationParams::default().seed(1),
    )
    .unwrap();
    let b = classification_report(
        lt.view(),
        yt.view(),
        5,
        &ClassificationParams::default().seed(2),
    )
    .unwrap();
    assert_ne!(a.accuracy_ci, b.accuracy_ci);
    assert_eq!(a.accuracy, b.accuracy);
}

#[test]
fn split_is_stratified_and_seeded() {
    let (tr, te) = stratified_split(100, 50, 0.2, 4).unwrap();
    assert_eq!(te.iter().filter(|&&i| i < 100).count(), 20);
    assert_eq!(te.iter().filter(|&&i| i >= 100).count(), 10);
    assert_eq!(tr.len() + te.len(), 150);
    let mut all: Vec<usize> = tr.iter().chain(&te).copied().collect();
    all.sort();
    assert_eq!(all, (0..150).collect::<Vec<_>>());
    assert_eq!(
        stratified_split(100, 50, 0.2, 4).unwrap(),
        (tr.clone(), te.clone())
    );
    assert_ne!(stratified_split(100, 50, 0.2, 5).unwrap().1, te);
}

#[test]
fn negative_labels_are_rejected() {
    let (x, mut y) = blobs(20, 3, 2, 0.0, 16);
    y[4] = -1;
    let d = DomainData::new(x.view(), None, y.view());
    let e = cohesion(&d, &d, &CohesionParams::default()).unwrap_err();
    assert!(matches!(e, MetricsError::Shape { .. }), "{e:?}");
    assert!(e.to_string().contains("-1 at row 4"), "{e}");
}
