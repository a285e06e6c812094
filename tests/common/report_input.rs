//! A report input for the report tests: real evaluations (metrics stage) of synthetic domains.
#![allow(dead_code)]

use std::path::PathBuf;

use dannscope::config::RunConfig;
use dannscope::metrics::eval::{DomainResult, EvalResults, EvalSettings, PairResult};
use dannscope::metrics::{
    classification_report, cohesion, ClassificationParams, CohesionParams, DomainData,
};
use dannscope::report::{RunOutcome, RunResults, RunStatus};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const CLASSES: [&str; 4] = ["Bed", "File_Cabinet", "Webcam", "Drill"];

/// One synthetic domain: class-clustered embeddings and logits whose true-class margin is `skill`.
pub fn domain_arrays(
    seed: u64,
    n: usize,
    shift: f32,
    skill: f32,
) -> (Array2<f32>, Array2<f32>, Array1<i64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let c = CLASSES.len();
    let d = 6;
    let labels: Array1<i64> = (0..n).map(|i| (i % c) as i64).collect();
    let emb = Array2::from_shape_fn((n, d), |(i, j)| {
        let centre = if j == (i % c) { 3.0 } else { 0.0 };
        centre + shift + rng.gen_range(-1.0f32..1.0)
    });
    let logits = Array2::from_shape_fn((n, c), |(i, j)| {
        let bump = if j == i % c { skill } else { 0.0 };
        bump + rng.gen_range(-1.0f32..1.0)
    });
    (emb, logits, labels)
}

pub fn domain_name(code: &str) -> &'static str {
    match code {
        "A" => "Art",
        "C" => "Clipart",
        "P" => "Product",
        _ => "Real World",
    }
}

/// A real evaluation of one pair, built with the metrics stage.
pub fn eval_of(model: &str, pair: &str, seed: u64, skill: f32) -> EvalResults {
    let (s, t) = pair.split_once('-').unwrap();
    let cls = ClassificationParams::default().n_resamples(40).seed(seed);
    let coh = CohesionParams::default().seed(seed);
    let (se, sl, sy) = domain_arrays(seed, 48, 0.0, skill + 1.0);
    let (te, tl, ty) = domain_arrays(seed + 1000, 40, 0.7, skill);
    let names: Vec<String> = CLASSES.iter().map(|s| s.to_string()).collect();
    let mut domains = Vec::new();
    for (code, l, y) in [(s, &sl, &sy), (t, &tl, &ty)] {
        let r = classification_report(l.view(), y.view(), CLASSES.len(), &cls).unwrap();
        domains.push(DomainResult {
            domain: domain_name(code).into(),
            code: code.into(),
            n: y.len(),
            classification: Some(r),
        });
    }
    let c = cohesion(
        &DomainData::new(se.view(), Some(sl.view()), sy.view()),
        &DomainData::new(te.view(), Some(tl.view()), ty.view()),
        &coh,
    )
    .unwrap();
    EvalResults {
        model: model.into(),
        model_sha256: format!("{:064x}", seed),
        split: "test".into(),
        class_names: names,
        domains,
        pairs: vec![PairResult {
            pair: pair.into(),
            source: domain_name(s).into(),
            target: domain_name(t).into(),
            cohesion: c,
        }],
        transfer: Vec::new(),
        settings: EvalSettings {
            bootstrap_resamples: 40,
            level: 0.95,
            seed,
            knn_k: 5,
            purity_k: 10,
            cohesion_scale: Default::default(),
        },
        notices: vec!["Product: a <notice> & more".into()],
        dannscope_version: "test".into(),
    }
}

pub fn run(name: &str, group: &str, pair: &str, seed: u64, skill: f32) -> RunOutcome {
    let (s, t) = pair.split_once('-').unwrap();
    let cfg = RunConfig {
        model: PathBuf::from(format!("models/{}.onnx", name.replace(' ', "_"))),
        pair: pair.into(),
        name: Some(name.into()),
        group: Some(group.into()),
        curves: None,
        checkpoints: vec![],
        baseline: None,
    };
    let e = eval_of(name, pair, seed, skill);
    RunOutcome::done(
        cfg,
        name,
        group,
        pair,
        RunResults {
            model_sha256: e.model_sha256.clone(),
            embedding: "G(x): what the classifier and the discriminator see".into(),
            eval: e,
            source: domain_name(s).into(),
            target: domain_name(t).into(),
            tsne_png: None,
            tsne_svg: None,
            map_npz: None,
            versus_png: None,
            versus_svg: None,
            evolution_png: None,
            curves_png: None,
            curves_svg: None,
            explore_html: None,
            diagnosis: Default::default(),
        },
    )
}

/// The results of a finished test run, to change.
pub fn results(r: &mut RunOutcome) -> &mut RunResults {
    match &mut r.status {
        RunStatus::Done(d) => d,
        RunStatus::Failed(_) => panic!("a failed run has no results"),
    }
}
