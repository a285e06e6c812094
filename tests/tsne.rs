//! Tests of the t-SNE stage against fixtures from scripts/tsne_fixtures.py
//! (scikit-learn trustworthiness, openTSNE maps and KL divergences).
use dannscope::tsne::{
    affinities, fit, procrustes_align, trustworthiness, try_procrustes_align, Init,
    NegativeGradient, TsneEngine, TsneError, TsneParams,
};
use ndarray::{s, Array2};
use ndarray_npy::read_npy;
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tsne");

fn load(name: &str) -> Array2<f32> {
    read_npy(format!("{DIR}/{name}")).expect("fixture readable")
}

fn reference() -> Value {
    let text = std::fs::read_to_string(format!("{DIR}/reference.json")).expect("reference.json");
    serde_json::from_str(&text).expect("valid JSON")
}

/// Gaussian blobs: `n` points in `d` dimensions around 3 centres (no randomness needed).
fn blobs(n: usize, d: usize) -> Array2<f32> {
    Array2::from_shape_fn((n, d), |(i, j)| {
        let c = (i % 3) as f32 * 6.0 * if j.is_multiple_of(2) { 1.0 } else { -1.0 };
        let h = ((i * 7919 + j * 104_729) % 1000) as f32 / 1000.0 - 0.5;
        c + 2.0 * h
    })
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
        .install(f)
}

#[test]
fn trustworthiness_matches_scikit_learn() {
    let (high, low) = (load("trust_high.npy"), load("trust_low.npy"));
    let refs = reference();
    for k in [1usize, 5, 10, 25] {
        let want = refs["trustworthiness"][k.to_string()]
            .as_f64()
            .expect("value");
        let got = trustworthiness(high.view(), low.view(), k);
        assert!((got - want).abs() < 1e-12, "k={k}: {got} vs sklearn {want}");
    }
    assert!(trustworthiness(high.view(), low.view(), 60).is_nan());
    assert!(trustworthiness(high.view(), low.slice(s![..10, ..]), 5).is_nan());
}

#[test]
fn exact_kl_of_opentsne_map_matches_python() {
    let x = load("digits50.npy");
    let y = load("opentsne_digits50.npy");
    let want = reference()["opentsne_digits50"]["kl_exact"]
        .as_f64()
        .expect("value");
    let p = affinities(x.view(), &TsneParams::default()).expect("affinities");
    let got = p.kl_divergence(y.view()).expect("kl");
    assert!(
        (got - want).abs() < 2e-3 * want,
        "KL {got} vs Python {want}"
    );
}

#[test]
fn native_quality_matches_opentsne_and_linfa() {
    let x = load("digits50.npy");
    let refs = reference();
    let kl_ref = refs["opentsne_digits50"]["kl_exact"]
        .as_f64()
        .expect("value");
    let tw_ref = refs["opentsne_digits50"]["trustworthiness_k10"]
        .as_f64()
        .expect("value");
    let native = fit(x.view(), &TsneParams::default()).expect("native fit");
    let linfa = fit(x.view(), &TsneParams::default().engine(TsneEngine::Linfa)).expect("linfa fit");
    let tw_native = trustworthiness(x.view(), native.coords.view(), 10);
    let tw_linfa = trustworthiness(x.view(), linfa.coords.view(), 10);
    eprintln!(
        "native KL {:.4} T {:.4}; linfa KL {:.4} T {:.4}; openTSNE KL {kl_ref:.4} T {tw_ref:.4}",
        native.kl_divergence, tw_native, linfa.kl_divergence, tw_linfa
    );
    assert!(
        tw_native >= tw_linfa - 0.01,
        "{tw_native} vs linfa {tw_linfa}"
    );
    assert!(
        tw_native >= tw_ref - 0.01,
        "{tw_native} vs openTSNE {tw_ref}"
    );
    assert!(
        (native.kl_divergence - kl_ref).abs() < 0.05 * kl_ref,
        "KL {} vs openTSNE {kl_ref}",
        native.kl_divergence
    );
    assert_eq!(native.iterations, 750);
    assert!(native.notices.is_empty());
    assert_eq!(linfa.notices.len(), 1, "{:?}", linfa.notices);
}

#[test]
fn same_seed_gives_identical_bytes_at_any_thread_count() {
    let x = blobs(150, 20);
    for method in [NegativeGradient::BarnesHut, NegativeGradient::Fft] {
        let mut params = TsneParams::default()
            .n_iter(60)
            .early_exaggeration_iter(30)
            .seed(7)
            .negative_gradient(method);
        params.min_num_intervals = 10;
        let a = in_pool(1, || fit(x.view(), &params)).expect("fit");
        let b = in_pool(2, || fit(x.view(), &params)).expect("fit");
        let c = in_pool(2, || fit(x.view(), &params)).expect("fit");
        let bits = |m: &Array2<f32>| m.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&a.coords),
            bits(&b.coords),
            "{method:?}: 1 vs 2 threads"
        );
        assert_eq!(bits(&b.coords), bits(&c.coords), "{method:?}: repeat");
        assert_eq!(a.kl_divergence.to_bits(), b.kl_divergence.to_bits());
        assert!(a.coords.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn different_seeds_give_different_maps() {
    let x = blobs(100, 8);
    for init in [Init::Pca, Init::Random] {
        let p = TsneParams::default()
            .n_iter(50)
            .early_exaggeration_iter(50)
            .init(init);
        let a = fit(x.view(), &p.clone().seed(1)).expect("fit");
        let b = fit(x.view(), &p.seed(2)).expect("fit");
        assert_ne!(a.coords, b.coords);
    }
}

#[test]
fn small_sets_reduce_the_perplexity_with_a_notice() {
    let x = blobs(40, 5);
    let out = fit(x.view(), &TsneParams::default().n_iter(100)).expect("fit");
    assert!(
        (out.perplexity - 13.0).abs() < 1e-12,
        "perplexity {}",
        out.perplexity
    );
    assert_eq!(out.notices.len(), 1);
    assert!(
        out.notices[0].contains("perplexity reduced from 30"),
        "{}",
        out.notices[0]
    );
    assert_eq!(out.coords.dim(), (40, 2));
    assert!(out.kl_divergence.is_finite() && out.kl_divergence > 0.0);
    // A set large enough for the perplexity keeps it and has no notice.
    let out = fit(
        blobs(40, 5).view(),
        &TsneParams::default().perplexity(10.0).n_iter(10),
    )
    .expect("fit");
    assert_eq!(out.perplexity, 10.0);
    assert!(out.notices.is_empty());
}

#[test]
fn bad_input_is_rejected_with_clear_errors() {
    let err = fit(blobs(4, 3).view(), &TsneParams::default()).unwrap_err();
    assert!(matches!(err, TsneError::TooFewPoints { found: 4 }), "{err}");
    assert!(err.to_string().contains("at least 5"));

    let mut x = blobs(30, 3);
    x[[17, 2]] = f32::NAN;
    let err = fit(x.view(), &TsneParams::default()).unwrap_err();
    assert!(
        matches!(
            err,
            TsneError::NonFinite {
                row: 17,
                col: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("row 17"), "{err}");
    x[[17, 2]] = f32::INFINITY;
    assert!(fit(x.view(), &TsneParams::default()).is_err());

    let err = TsneParams::default().perplexity(-1.0).check().unwrap_err();
    assert!(err.to_string().contains("perplexity"), "{err}");
    assert!(TsneParams::default().theta(f64::NAN).check().is_err());
    assert!(TsneParams::default().pca_dims(Some(1)).check().is_err());

    let given = TsneParams::default().init(Init::Given(Array2::zeros((10, 2))));
    let err = fit(blobs(30, 3).view(), &given).unwrap_err();
    assert!(err.to_string().contains("30 rows"), "{err}");
    let given = TsneParams::default().init(Init::Given(Array2::zeros((30, 3))));
    assert!(fit(blobs(30, 3).view(), &given).is_err());
}

#[test]
fn given_init_with_no_iterations_is_returned_unchanged() {
    let x = blobs(30, 4);
    let y0 = Array2::from_shape_fn((30, 2), |(i, j)| (i as f32 * 0.37 + j as f32).sin());
    let p = TsneParams::default()
        .n_iter(0)
        .early_exaggeration_iter(0)
        .init(Init::Given(y0.clone()));
    let out = fit(x.view(), &p).expect("fit");
    assert_eq!(out.coords, y0);
    assert_eq!(out.iterations, 0);
}

#[test]
fn procrustes_recovers_a_similarity_transform() {
    let a = blobs(60, 2);
    let (t, sc) = (0.7f32, 2.5f32);
    for reflect in [false, true] {
        let b = Array2::from_shape_fn((60, 2), |(i, j)| {
            let (x, y) = (a[[i, 0]], if reflect { -a[[i, 1]] } else { a[[i, 1]] });
            let r = if j == 0 {
                t.cos() * x - t.sin() * y
            } else {
                t.sin() * x + t.cos() * y
            };
            sc * r + if j == 0 { 3.0 } else { -1.0 }
        });
        let aligned = procrustes_align(a.view(), b.view());
        let err = (&aligned - &a).iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(err < 1e-4, "reflect={reflect}: max error {err}");
    }
    assert!(try_procrustes_align(a.view(), a.slice(s![..10, ..])).is_err());
}
