//! Compares the metrics stage with values computed by scripts/metrics_fixtures.py (scikit-learn, numpy).
#![allow(clippy::needless_range_loop)] // index loops mirror the reference formulas

use dannscope::metrics::{
    classification_report, cohesion, domain_knn_purity, information_maximization,
    knn_transfer_accuracy, mmd2_linear, mmd2_rbf, percentile, proxy_a_distance_on_split,
    silhouette_domain, silhouette_joint, silhouette_source, silhouette_target, snd,
    ClassificationParams, CohesionParams, DomainData, Precision, ProxyAParams,
};
use ndarray::{Array1, Array2};
use ndarray_npy::read_npy;
use serde_json::Value;
use std::path::PathBuf;

const CASES: [&str; 5] = ["random", "structured", "ties", "missing_class", "one_class"];

struct Domain {
    emb: Array2<f32>,
    logits: Array2<f32>,
    labels: Array1<i64>,
}

impl Domain {
    fn data(&self) -> DomainData<'_> {
        DomainData::new(
            self.emb.view(),
            Some(self.logits.view()),
            self.labels.view(),
        )
    }
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metrics")
}

fn load(case: &str) -> (Domain, Domain, Value) {
    let dom = |tag: &str| Domain {
        emb: read_npy(dir().join(format!("{case}_{tag}_emb.npy"))).unwrap(),
        logits: read_npy(dir().join(format!("{case}_{tag}_logits.npy"))).unwrap(),
        labels: read_npy(dir().join(format!("{case}_{tag}_labels.npy"))).unwrap(),
    };
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join(format!("{case}.json"))).unwrap())
            .unwrap();
    (dom("s"), dom("t"), json)
}

fn close(case: &str, what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{case} {what}: got {got}, expected {want} (tolerance {tol})"
    );
}

fn opt(case: &str, what: &str, got: Option<f64>, want: &Value, tol: f64) {
    match (got, want.as_f64()) {
        (Some(g), Some(w)) => close(case, what, g, w, tol),
        (None, None) => {}
        (g, w) => panic!("{case} {what}: got {g:?}, expected {w:?}"),
    }
}

#[test]
fn classification_matches_sklearn() {
    for case in CASES {
        let (s, t, exp) = load(case);
        let c = exp["n_classes"].as_u64().unwrap() as usize;
        for (tag, d) in [("source", &s), ("target", &t)] {
            let params = ClassificationParams::default().n_resamples(200).seed(7);
            let r = classification_report(d.logits.view(), d.labels.view(), c, &params).unwrap();
            let e = &exp[tag];
            let what = format!("{tag} accuracy");
            close(
                case,
                &what,
                r.accuracy,
                e["accuracy"].as_f64().unwrap(),
                1e-9,
            );
            opt(case, &format!("{tag} auroc"), r.auroc, &e["auroc"], 1e-9);
            for k in 0..c {
                opt(
                    case,
                    &format!("{tag} auroc[{k}]"),
                    r.per_class[k].auroc,
                    &e["per_class_auroc"][k],
                    1e-9,
                );
                opt(
                    case,
                    &format!("{tag} acc[{k}]"),
                    r.per_class[k].accuracy,
                    &e["per_class_accuracy"][k],
                    1e-12,
                );
                for j in 0..c {
                    assert_eq!(
                        r.confusion[k][j],
                        e["confusion"][k][j].as_u64().unwrap(),
                        "{case} {tag} confusion"
                    );
                }
            }
            // notices name every class left out of the macro mean
            let left_out = e["per_class_auroc"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|v| v.is_null())
                .count();
            assert!(r.notices.len() >= left_out, "{case} {tag}: {:?}", r.notices);
            let ci = r.accuracy_ci.as_ref().unwrap();
            assert!(
                ci.lower <= r.accuracy && r.accuracy <= ci.upper,
                "{case} {tag} accuracy CI {ci:?}"
            );
            match (r.auroc, &r.auroc_ci) {
                (Some(a), Some(ci)) => {
                    assert!(
                        ci.lower <= ci.upper && ci.lower <= a + 0.05 && a - 0.05 <= ci.upper,
                        "{case} {tag} {ci:?}"
                    );
                    assert!(ci.used > 0 && ci.used <= 200);
                }
                (None, ci) => assert!(
                    ci.is_none(),
                    "{case} {tag}: interval without a point estimate"
                ),
                (Some(_), None) => panic!("{case} {tag}: missing AUROC interval"),
            }
        }
    }
}

#[test]
fn cohesion_measures_match_numpy_and_sklearn() {
    for case in CASES {
        let (s, t, exp) = load(case);
        let (sd, td) = (s.data(), t.data());
        for prec in [Precision::F64, Precision::F32] {
            // f64 products agree to rounding; f32 products to the stated 1e-6
            let tol = if prec == Precision::F64 { 1e-9 } else { 1e-6 };
            opt(
                case,
                "silhouette_source",
                silhouette_source(&sd, prec).ok(),
                &exp["silhouette_source"],
                tol,
            );
            opt(
                case,
                "silhouette_target",
                silhouette_target(&td, prec).ok(),
                &exp["silhouette_target"],
                tol,
            );
            opt(
                case,
                "silhouette_joint",
                silhouette_joint(&sd, &td, prec).ok(),
                &exp["silhouette_joint"],
                tol,
            );
            opt(
                case,
                "silhouette_domain",
                silhouette_domain(&sd, &td, prec).ok(),
                &exp["silhouette_domain"],
                tol,
            );
            let params = CohesionParams::default().precision(prec);
            let (mmd, sigma2) = mmd2_rbf(s.emb.view(), t.emb.view(), &params).unwrap();
            close(
                case,
                "rbf sigma2",
                sigma2,
                exp["rbf_sigma2"].as_f64().unwrap(),
                tol * 100.0,
            );
            close(
                case,
                "mmd2_rbf",
                mmd,
                exp["mmd2_rbf"].as_f64().unwrap(),
                tol,
            );
            let knn = knn_transfer_accuracy(&sd, &td, 5, prec).unwrap();
            close(
                case,
                "knn",
                knn,
                exp["knn_transfer_accuracy"].as_f64().unwrap(),
                1e-12,
            );
            let pur = domain_knn_purity(s.emb.view(), t.emb.view(), 10, prec).unwrap();
            close(
                case,
                "purity",
                pur,
                exp["domain_knn_purity"].as_f64().unwrap(),
                1e-12,
            );
        }
        close(
            case,
            "mmd2_linear",
            mmd2_linear(s.emb.view(), t.emb.view()).unwrap(),
            exp["mmd2_linear"].as_f64().unwrap(),
            1e-9,
        );
        let im = information_maximization(t.logits.view()).unwrap();
        close(
            case,
            "im",
            im,
            exp["information_maximization"].as_f64().unwrap(),
            1e-10,
        );
        close(
            case,
            "snd",
            snd(t.logits.view(), 0.05).unwrap(),
            exp["snd"].as_f64().unwrap(),
            1e-10,
        );
    }
}

#[test]
fn proxy_a_distance_matches_sklearn_recipe() {
    for case in CASES {
        let (s, t, exp) = load(case);
        let p = &exp["proxy_a"];
        let idx = |k: &str| -> Vec<usize> {
            p[k].as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect()
        };
        let params = ProxyAParams::default().c(p["c"].as_f64().unwrap());
        let r = proxy_a_distance_on_split(
            s.emb.view(),
            t.emb.view(),
            &idx("train"),
            &idx("test"),
            &params,
        )
        .unwrap();
        let coef: Vec<f64> = p["coef"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        for (k, (g, w)) in r.fit.coef.iter().zip(&coef).enumerate() {
            close(case, &format!("coef[{k}]"), *g, *w, 1e-7);
        }
        close(
            case,
            "intercept",
            r.fit.intercept,
            p["intercept"].as_f64().unwrap(),
            1e-7,
        );
        // the error is a count over the test split: the same classifier gives the same count
        close(
            case,
            "proxy A-distance",
            r.value,
            p["value"].as_f64().unwrap(),
            1e-12,
        );
        close(
            case,
            "test error",
            r.test_error,
            p["test_error"].as_f64().unwrap(),
            1e-12,
        );
    }
}

#[test]
fn cohesion_report_lists_every_measure_with_reasons() {
    for case in CASES {
        let (s, t, exp) = load(case);
        let rep = cohesion(
            &s.data(),
            &t.data(),
            &CohesionParams::default().precision(Precision::F64),
        )
        .unwrap();
        let names: Vec<&str> = rep.metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "silhouette_source",
                "silhouette_target",
                "silhouette_joint",
                "silhouette_domain",
                "proxy_a_distance",
                "mmd2_linear",
                "mmd2_rbf",
                "knn_transfer_accuracy",
                "information_maximization",
                "snd",
                "domain_knn_purity",
            ]
        );
        for m in &rep.metrics {
            assert!(
                m.value.is_some() != m.reason.is_some(),
                "{case} {}: {m:?}",
                m.name
            );
        }
        for key in [
            "silhouette_source",
            "silhouette_target",
            "silhouette_joint",
            "silhouette_domain",
            "mmd2_rbf",
            "snd",
        ] {
            opt(case, key, rep.value(key), &exp[key], 1e-9);
        }
        let a = rep.value("proxy_a_distance").unwrap();
        assert!((-2.0..=2.0).contains(&a), "{case} proxy A {a}");
        // without logits the logit measures carry a reason and the rest is unchanged
        let t_plain = DomainData::new(t.emb.view(), None, t.labels.view());
        let rep2 = cohesion(
            &s.data(),
            &t_plain,
            &CohesionParams::default().precision(Precision::F64),
        )
        .unwrap();
        for key in ["information_maximization", "snd"] {
            let m = rep2.get(key).unwrap();
            assert!(
                m.value.is_none() && m.reason.as_deref().unwrap().contains("logits"),
                "{m:?}"
            );
        }
        assert_eq!(rep2.value("mmd2_rbf"), rep.value("mmd2_rbf"));
    }
    let (_, _, exp) = load("one_class");
    assert!(exp["silhouette_target"].is_null());
}

#[test]
fn percentile_matches_numpy() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("percentile.json")).unwrap())
            .unwrap();
    let values: Vec<f64> = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    for (q, e) in v["q"]
        .as_array()
        .unwrap()
        .iter()
        .zip(v["expected"].as_array().unwrap())
    {
        let got = percentile(&values, q.as_f64().unwrap()).unwrap();
        close(
            "percentile",
            &q.to_string(),
            got,
            e.as_f64().unwrap(),
            1e-12,
        );
    }
    assert_eq!(percentile(&[], 50.0), None);
}
