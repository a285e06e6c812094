//! The scalable mode of the quadratic cohesion measures: chosen by size, forced by the mode, recorded
//! per measure; each anchor value is exact (with every point an anchor the estimate is the exact value);
//! the interval covers the exact value on a fixed seeded case; same bytes at any thread count.

use dannscope::metrics::cohesion::{BOOTSTRAP_METHOD, WILSON_METHOD};
use dannscope::metrics::{
    cohesion, silhouette_score, CohesionMode, CohesionParams, CohesionReport, DomainData,
    MetricsError, Precision, ScaleParams,
};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const QUADRATIC: [&str; 8] = [
    "silhouette_source",
    "silhouette_target",
    "silhouette_joint",
    "silhouette_domain",
    "mmd2_rbf",
    "knn_transfer_accuracy",
    "snd",
    "domain_knn_purity",
];

struct Domain {
    x: Array2<f32>,
    logits: Array2<f32>,
    y: Array1<i64>,
}

impl Domain {
    fn data(&self) -> DomainData<'_> {
        DomainData::new(self.x.view(), Some(self.logits.view()), self.y.view())
    }
}

/// A seeded mixture: `k` classes, a domain offset, uniform noise; logits a noisy class read-out.
fn domain(n: usize, d: usize, k: usize, seed: u64, offset: f32) -> Domain {
    let mut c = ChaCha8Rng::seed_from_u64(99);
    let centres = Array2::from_shape_fn((k, d), |_| c.gen_range(-2.0f32..2.0));
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let y = Array1::from_shape_fn(n, |i| ((i * 7 + i / 3) % k) as i64);
    let x = Array2::from_shape_fn((n, d), |(i, j)| {
        centres[[y[i] as usize, j]] + offset + r.gen_range(-1.5f32..1.5)
    });
    let logits = Array2::from_shape_fn((n, k), |(i, c)| {
        (if y[i] as usize == c { 2.0 } else { 0.0 }) + r.gen_range(-1.0f32..1.0)
    });
    Domain { x, logits, y }
}

fn params(mode: CohesionMode, anchors: usize, repeats: usize, seed: u64) -> CohesionParams {
    CohesionParams::default().seed(seed).scale(ScaleParams {
        mode,
        anchors,
        repeats,
        ..ScaleParams::default()
    })
}

fn pair() -> (Domain, Domain) {
    (domain(700, 12, 4, 1, 0.0), domain(500, 12, 4, 2, 0.4))
}

#[test]
fn below_the_threshold_auto_is_the_exact_path() {
    let (s, t) = pair();
    let auto = cohesion(&s.data(), &t.data(), &CohesionParams::default()).unwrap();
    let exact = cohesion(
        &s.data(),
        &t.data(),
        &params(CohesionMode::Exact, 400, 10, 0),
    )
    .unwrap();
    assert_eq!(auto, exact);
    // Exact values carry the bootstrap interval over their points, around the value.
    for m in &auto.metrics {
        let iv = m.interval.as_ref().unwrap();
        let method = if m.name == "proxy_a_distance" {
            WILSON_METHOD
        } else {
            BOOTSTRAP_METHOD
        };
        assert_eq!(
            (m.mode.as_str(), iv.method.as_str(), iv.level),
            ("exact", method, 0.95),
            "{m:?}"
        );
        let v = m.value.unwrap();
        assert!(
            iv.lower <= v && v <= iv.upper && iv.lower < iv.upper,
            "{m:?}"
        );
    }
    // the blocked silhouette is the old exact value (f64 tiles) within f32 accuracy
    let sil64 = silhouette_score(&[s.x.view()], &s.y.to_vec(), Precision::F64).unwrap();
    assert!((auto.value("silhouette_source").unwrap() - sil64).abs() < 1e-6);
    // a threshold below the pooled size switches the pooled measures only
    let mut p = CohesionParams::default();
    p.scale.threshold = 1000;
    let r = cohesion(&s.data(), &t.data(), &p).unwrap();
    let mode = |r: &CohesionReport, n: &str| r.get(n).unwrap().mode.clone();
    assert_eq!(mode(&r, "silhouette_source"), "exact");
    assert_eq!(mode(&r, "silhouette_joint"), "scalable");
    assert_eq!(mode(&r, "domain_knn_purity"), "scalable");
    assert_eq!(mode(&r, "mmd2_linear"), "exact");
}

#[test]
fn with_every_point_an_anchor_the_estimate_is_the_exact_value() {
    let (s, t) = pair();
    let exact = cohesion(&s.data(), &t.data(), &params(CohesionMode::Exact, 2, 2, 0)).unwrap();
    let all = cohesion(
        &s.data(),
        &t.data(),
        &params(CohesionMode::Scalable, 5000, 3, 0),
    )
    .unwrap();
    for name in QUADRATIC {
        let (e, m) = (exact.value(name).unwrap(), all.get(name).unwrap());
        let iv = m.interval.as_ref().unwrap();
        assert_eq!(m.mode, "scalable");
        let tol = 1e-5 * e.abs().max(1.0);
        assert!((m.value.unwrap() - e).abs() < tol, "{name}: {m:?} vs {e}");
        assert!(iv.upper - iv.lower < tol, "{name}: {iv:?}");
    }
}

#[test]
fn the_interval_covers_the_exact_value_on_a_seeded_case() {
    let (s, t) = pair();
    let exact = cohesion(&s.data(), &t.data(), &params(CohesionMode::Exact, 2, 2, 0)).unwrap();
    let r = cohesion(
        &s.data(),
        &t.data(),
        &params(CohesionMode::Scalable, 60, 10, 3),
    )
    .unwrap();
    for name in QUADRATIC {
        let (e, m) = (exact.value(name).unwrap(), r.get(name).unwrap());
        let iv = m.interval.as_ref().unwrap();
        assert!(
            iv.lower <= e && e <= iv.upper,
            "{name}: exact {e} outside {iv:?}"
        );
        assert!(iv.upper > iv.lower, "{name}: a sample of 60 has spread");
        assert_eq!((iv.repeats, iv.anchors), (10, 60));
    }
    // another seed draws other anchors
    let r2 = cohesion(
        &s.data(),
        &t.data(),
        &params(CohesionMode::Scalable, 60, 10, 4),
    )
    .unwrap();
    assert_ne!(r.value("silhouette_joint"), r2.value("silhouette_joint"));
}

#[test]
fn the_level_scales_the_half_width_by_the_t_quantile_and_is_recorded() {
    let (s, t) = pair();
    let at = |level: f64| {
        let mut p = params(CohesionMode::Scalable, 60, 10, 3);
        p.scale.level = level;
        cohesion(&s.data(), &t.data(), &p).unwrap()
    };
    let (wide, narrow) = (at(0.99), at(0.95));
    // scipy.stats.t.ppf(0.995, 9) / scipy.stats.t.ppf(0.975, 9)
    let ratio = 3.249835541592126 / 2.262157162798205;
    for name in QUADRATIC {
        let (w, n) = (wide.get(name).unwrap(), narrow.get(name).unwrap());
        assert_eq!(
            w.value, n.value,
            "{name}: the level does not move the estimate"
        );
        let (wi, ni) = (w.interval.as_ref().unwrap(), n.interval.as_ref().unwrap());
        assert_eq!((wi.level, ni.level), (0.99, 0.95));
        let r = (wi.upper - wi.lower) / (ni.upper - ni.lower);
        assert!(
            (r - ratio).abs() < 1e-9,
            "{name}: width ratio {r}, expected {ratio}"
        );
    }
    assert_eq!(ScaleParams::default().level, 0.99);
    let mut bad = params(CohesionMode::Scalable, 60, 10, 3);
    bad.scale.level = 1.0;
    assert!(cohesion(&s.data(), &t.data(), &bad).is_err());
}

#[test]
fn scalable_results_are_identical_at_any_thread_count() {
    let (s, t) = pair();
    let p = params(CohesionMode::Scalable, 50, 4, 9);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| cohesion(&s.data(), &t.data(), &p).unwrap())
    };
    let one = serde_json::to_string(&run(1)).unwrap();
    assert_eq!(one, serde_json::to_string(&run(2)).unwrap());
    assert_eq!(one, serde_json::to_string(&run(4)).unwrap());
}

#[test]
fn bad_input_and_settings_are_errors_in_the_scalable_mode() {
    let (s, mut t) = pair();
    let p = params(CohesionMode::Scalable, 50, 4, 0);
    let mut bad = p.clone();
    bad.scale.repeats = 1;
    assert!(matches!(
        cohesion(&s.data(), &t.data(), &bad),
        Err(MetricsError::Param { .. })
    ));
    let short = Array1::from(vec![0i64; 10]);
    let e =
        dannscope::metrics::cohesion::silhouette_scalable(&[s.x.view()], &short.to_vec(), &p, "x")
            .unwrap_err();
    assert!(e.to_string().contains("700 labels"), "{e}");
    t.x[[3, 2]] = f32::NAN;
    let e = cohesion(&s.data(), &t.data(), &p).unwrap_err();
    assert!(
        matches!(e, MetricsError::NonFinite { row: 3, col: 2, .. }),
        "{e}"
    );
    // one class: the silhouettes are undefined with a reason, the rest still computed
    let one = domain(300, 5, 1, 5, 0.0);
    let r = cohesion(&one.data(), &one.data(), &p).unwrap();
    let m = r.get("silhouette_source").unwrap();
    assert!(m.value.is_none() && m.reason.as_ref().unwrap().contains("labels"));
    assert!(r.value("domain_knn_purity").is_some());
}
