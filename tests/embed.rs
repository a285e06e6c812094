//! The embed stage against independently computed outputs (onnxruntime + PIL in Python, committed under
//! tests/fixtures/reference by tests/fixtures/make_fixtures.py), across both engines, and on bad input.

mod common;

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use common::{fixtures, ort_available, temp_files};
use dannscope::engine::{Device, Discovery, EngineKind, EngineOptions};
use dannscope::layout::{Layout, StoreKey};
use dannscope::model::{ModelInfo, OutputOverrides};
use dannscope::pipeline::embed::{self, EmbedJob};
use dannscope::project::{Project, ProjectOptions};
use dannscope::split::SplitSel;
use dannscope::store;
use ndarray::Array2;
use ndarray_npy::NpzReader;

fn tiny() -> ModelInfo {
    let m = ModelInfo::load(
        &fixtures().join("models/tiny.onnx"),
        &OutputOverrides::default(),
    )
    .unwrap();
    assert!(!m.preprocess.fast_decode, "the exact decode is the default");
    m
}

fn project(out: &Path) -> Project {
    Project::open(
        &ProjectOptions {
            data: Some(fixtures().join("data")),
            out: out.to_path_buf(),
            ..Default::default()
        },
        0,
    )
    .unwrap()
}

fn engine(kind: EngineKind) -> EngineOptions {
    EngineOptions {
        kind,
        batch_size: 5,
        ..Default::default()
    }
}

fn dir(out: &Path, model: &str, split: SplitSel) -> std::path::PathBuf {
    Layout::new(out)
        .embeddings(&StoreKey {
            model: model.into(),
            split,
            fast_decode: false,
        })
        .unwrap()
}

fn job(
    p: &Project,
    model: &str,
    split: SplitSel,
    domains: Vec<usize>,
    force: bool,
    strict: bool,
) -> EmbedJob {
    let mut j = EmbedJob::new(p, split, domains, dir(&p.out, model, split));
    j.force = force;
    j.strict = strict;
    j
}

fn all_job(p: &Project) -> EmbedJob {
    job(
        p,
        "tiny",
        SplitSel::All,
        (0..p.domains.len()).collect(),
        false,
        false,
    )
}

fn reference(domain: &str) -> (HashMap<String, usize>, Array2<f32>, Array2<f32>) {
    let dir = fixtures().join("reference");
    let paths: serde_json::Value =
        serde_json::from_reader(File::open(dir.join(format!("tiny_{domain}.json"))).unwrap())
            .unwrap();
    let idx = paths["paths"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str().unwrap().to_string(), i))
        .collect();
    let mut z =
        NpzReader::new(File::open(dir.join(format!("tiny_{domain}.npz"))).unwrap()).unwrap();
    (
        idx,
        z.by_name("embedding").unwrap(),
        z.by_name("logits").unwrap(),
    )
}

fn max_diff(a: ndarray::ArrayView1<f32>, b: ndarray::ArrayView1<f32>) -> f32 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Embed every image with one engine and compare the PNGs at input size with the Python reference.
fn check_against_reference(kind: EngineKind) -> Vec<store::DomainEmbeddings> {
    let out = tempfile::tempdir().unwrap();
    let p = project(out.path());
    let m = tiny();
    let summary = embed::run(&all_job(&p), &m, &engine(kind), &|_| {}).unwrap();
    assert_eq!(summary.domains.len(), 2);
    let mut all = Vec::new();
    for d in ["Art", "Real World"] {
        let got = store::read_domain(&dir(out.path(), "tiny", SplitSel::All), d).unwrap();
        let (idx, emb, logits) = reference(d);
        let mut compared = 0;
        for (row, path) in got.record.paths.iter().enumerate() {
            if let Some(&r) = idx.get(path) {
                let de = max_diff(got.embedding.view().row(row), emb.row(r));
                let dl = max_diff(got.logits.as_ref().unwrap().view().row(row), logits.row(r));
                assert!(
                    de <= 1e-4 && dl <= 1e-4,
                    "{path}: embedding diff {de}, logits diff {dl}"
                );
                compared += 1;
            }
        }
        assert_eq!(
            compared,
            idx.len(),
            "every reference image was embedded ({d})"
        );
        // Labels follow the model's class order (dannscope.classes) and the folder of each image.
        for (row, path) in got.record.paths.iter().enumerate() {
            let class = path.split('/').nth(1).unwrap();
            let want = got
                .record
                .class_names
                .iter()
                .position(|c| c == class)
                .unwrap() as i64;
            assert_eq!(got.label[row], want, "{path}");
        }
        all.push(got);
    }
    all
}

#[test]
fn onnxruntime_matches_python_reference() {
    if !ort_available() {
        return;
    }
    let got = check_against_reference(EngineKind::Ort);
    assert_eq!(got[0].record.engine, "onnxruntime");
}

#[test]
fn tract_matches_python_reference() {
    let got = check_against_reference(EngineKind::Tract);
    assert_eq!(got[0].record.engine, "tract");
}

#[test]
fn both_engines_agree_on_every_image() {
    if !ort_available() {
        return;
    }
    let m = tiny();
    let mut results = Vec::new();
    for kind in [EngineKind::Ort, EngineKind::Tract] {
        let out = tempfile::tempdir().unwrap();
        let p = project(out.path());
        embed::run(&all_job(&p), &m, &engine(kind), &|_| {}).unwrap();
        let dir = dir(out.path(), "tiny", SplitSel::All);
        results.push(store::read_domain(&dir, "Real World").unwrap());
    }
    let (a, b) = (&results[0], &results[1]);
    assert_eq!(a.record.paths, b.record.paths);
    assert!(a.record.paths.iter().any(|p| p.ends_with(".jpg")));
    assert!(a.record.paths.iter().any(|p| p.contains("_big")));
    let d = (&a.embedding.view() - &b.embedding.view())
        .mapv(f32::abs)
        .fold(0.0f32, |m, v| m.max(*v));
    let l = (&a.logits.as_ref().unwrap().view() - &b.logits.as_ref().unwrap().view())
        .mapv(f32::abs)
        .fold(0.0f32, |m, v| m.max(*v));
    assert!(
        d <= 1e-4 && l <= 1e-4,
        "max abs difference: embedding {d}, logits {l}"
    );
}

#[test]
fn falls_back_to_tract_without_onnxruntime() {
    let opts = EngineOptions {
        kind: EngineKind::Auto,
        batch_size: 4,
        discovery: Discovery {
            env_path: None,
            python: Some("/nonexistent/python3".into()),
            dirs: vec![],
        },
        ..Default::default()
    };
    let e = dannscope::engine::open(&tiny(), &opts).unwrap();
    assert_eq!(e.info().engine, "tract");
    assert!(
        e.info().notes[0].contains("no ONNX Runtime library found"),
        "{:?}",
        e.info().notes
    );
    let strict = EngineOptions {
        kind: EngineKind::Ort,
        ..opts
    };
    let err = dannscope::engine::open(&tiny(), &strict)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("no ONNX Runtime library found"), "{err}");
}

#[test]
fn cuda_that_cannot_load_is_explained_by_library_name() {
    if !ort_available() {
        return;
    }
    let m = tiny();
    let opts = |device| EngineOptions {
        device,
        ..engine(EngineKind::Ort)
    };
    match dannscope::engine::open(&m, &opts(Device::Cuda)) {
        // A machine with a working CUDA provider.
        Ok(e) => assert_eq!(e.info().provider, "CUDA"),
        Err(e) => {
            let e = e.to_string();
            eprintln!("--device cuda: {e}");
            assert!(
                e.contains("could not register CUDA") && e.contains(".so"),
                "the error names the library: {e}"
            );
        }
    }
    let auto = dannscope::engine::open(&m, &opts(Device::Auto)).unwrap();
    if auto.info().provider == "CPU" {
        let note = auto.info().notes.join(" ");
        eprintln!("--device auto: {note}");
        assert!(
            note.contains("CUDA execution provider unavailable") && note.contains(".so"),
            "{note}"
        );
    }
}

#[test]
fn rerun_reuses_finished_domains_and_force_recomputes() {
    let out = tempfile::tempdir().unwrap();
    let p = project(out.path());
    let m = tiny();
    let job = job(&p, "tiny", SplitSel::Valid, vec![0], false, false);
    let first = embed::run(&job, &m, &engine(EngineKind::Tract), &|_| {}).unwrap();
    assert!(!first.domains[0].cached);
    let npz = &first.domains[0].npz;
    let bytes = std::fs::read(npz).unwrap();
    let again = embed::run(&job, &m, &engine(EngineKind::Tract), &|_| {}).unwrap();
    assert!(again.domains[0].cached);
    assert!(
        again.engine.is_none(),
        "no engine is opened when everything is cached"
    );
    let forced = EmbedJob { force: true, ..job };
    let third = embed::run(&forced, &m, &engine(EngineKind::Tract), &|_| {}).unwrap();
    assert!(!third.domains[0].cached);
    assert_eq!(
        std::fs::read(npz).unwrap(),
        bytes,
        "same inputs give the same file"
    );
    assert!(temp_files(out.path()).is_empty());
}

#[test]
fn fast_decode_is_recorded_and_changes_the_fingerprint() {
    let out = tempfile::tempdir().unwrap();
    let p = project(out.path());
    let m = tiny();
    let job = job(&p, "tiny", SplitSel::Valid, vec![0], false, false);
    let exact = embed::run(&job, &m, &engine(EngineKind::Tract), &|_| {}).unwrap();
    let json = exact.domains[0].npz.with_extension("json");
    let rec: serde_json::Value = serde_json::from_reader(File::open(&json).unwrap()).unwrap();
    assert_eq!(rec["preprocess"]["fast_decode"], serde_json::json!(false));
    // The same job with the fast decode is not taken for the exact one.
    let fast = ModelInfo {
        preprocess: m.preprocess.clone().with_fast_decode(true),
        ..m.clone()
    };
    let again = embed::run(&job, &fast, &engine(EngineKind::Tract), &|_| {}).unwrap();
    assert!(
        !again.domains[0].cached,
        "a fast-decode run must not reuse exact results"
    );
    let rec: serde_json::Value = serde_json::from_reader(File::open(&json).unwrap()).unwrap();
    assert_eq!(rec["preprocess"]["fast_decode"], serde_json::json!(true));
}

#[test]
fn odd_images_are_decoded_or_skipped_with_a_count() {
    let out = tempfile::tempdir().unwrap();
    let p = Project::open(
        &ProjectOptions {
            data: Some(fixtures().join("odd")),
            out: out.path().to_path_buf(),
            ..Default::default()
        },
        0,
    )
    .unwrap();
    let m = ModelInfo::load(
        &fixtures().join("models/tiny_nometa.onnx"),
        &OutputOverrides::default(),
    );
    // tiny_nometa has 4 logits but odd/ has 2 classes: refused by count, before any image is read.
    let err = embed::run(
        &all_job(&p),
        &m.unwrap(),
        &engine(EngineKind::Tract),
        &|_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("4 classes") && err.contains("2"), "{err}");

    let m = tiny(); // names its classes: Circle and Square are a subset, which is fine
    let skipped = std::sync::Mutex::new(Vec::new());
    let s = embed::run(&all_job(&p), &m, &engine(EngineKind::Tract), &|e| {
        if let embed::Event::Skipped(path, reason) = e {
            skipped.lock().unwrap().push(format!("{path}: {reason}"));
        }
    })
    .unwrap();
    let skipped = skipped.into_inner().unwrap();
    assert_eq!(s.domains[0].skipped, 3, "{skipped:?}");
    for name in ["empty.jpg", "truncated.jpg", "text.png"] {
        assert!(
            skipped.iter().any(|s| s.contains(name)),
            "{name} not reported: {skipped:?}"
        );
    }
    let got = store::read_domain(&dir(out.path(), "tiny", SplitSel::All), "Art").unwrap();
    for name in ["one_pixel.png", "sixteen_bit.png", "cmyk.jpg"] {
        assert!(
            got.record.paths.iter().any(|p| p.ends_with(name)),
            "{name} missing"
        );
    }
    assert_eq!(got.record.skipped.len(), 3);
    assert!(got.embedding.view().iter().all(|v| v.is_finite()));

    // --strict: the first unreadable file is fatal and named; nothing partial is written.
    let out2 = tempfile::tempdir().unwrap();
    let p2 = Project::open(
        &ProjectOptions {
            data: Some(fixtures().join("odd")),
            out: out2.path().to_path_buf(),
            ..Default::default()
        },
        0,
    )
    .unwrap();
    let strict = job(&p2, "tiny", SplitSel::All, vec![0], false, true);
    let err = embed::run(&strict, &m, &engine(EngineKind::Tract), &|_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("odd/Art/Circle/"), "{err}");
    let dir = dir(out2.path(), "tiny", SplitSel::All);
    assert!(!dir.join("Art.npz").exists() && !dir.join("Art.json").exists());
    assert!(temp_files(out2.path()).is_empty());
}

#[test]
fn sixteen_bit_is_scaled_not_clipped_and_cmyk_converts() {
    let m = tiny();
    let img = dannscope::preprocess::load_rgb8(
        &fixtures().join("odd/Art/Square/sixteen_bit.png"),
        &m.preprocess,
    )
    .unwrap();
    let px: Vec<u8> = img.pixels().map(|p| p[0]).collect();
    // A 0..65535 ramp becomes a 0..255 ramp, not a block of 255s.
    assert_eq!(px[0], 0);
    assert_eq!(*px.last().unwrap(), 255);
    let mid = px[px.len() / 2];
    assert!((120..=136).contains(&mid), "middle of the ramp is {mid}");
    let cmyk = dannscope::preprocess::load_rgb8(
        &fixtures().join("odd/Art/Square/cmyk.jpg"),
        &m.preprocess,
    )
    .unwrap();
    assert_eq!(cmyk.dimensions(), (32, 32));
}

#[test]
fn models_that_break_the_contract_are_refused_with_reasons() {
    let load = |n: &str| {
        ModelInfo::load(
            &fixtures().join("models").join(n),
            &OutputOverrides::default(),
        )
    };
    let e = load("wrong_rank.onnx").unwrap_err().to_string();
    assert!(
        e.contains("wrong_rank.onnx") && e.contains("rank 4") && e.contains("rank 3"),
        "{e}"
    );
    let e = load("truncated.onnx").unwrap_err().to_string();
    assert!(e.contains("truncated.onnx"), "{e}");
    let e = load("missing.onnx").unwrap_err().to_string();
    assert!(e.contains("missing.onnx"), "{e}");
    let m = load("three_classes.onnx").unwrap();
    let classes: Vec<String> = ["Circle", "Cross", "Square", "Triangle"]
        .map(String::from)
        .to_vec();
    let e = m.class_mapping(&classes).unwrap_err().to_string();
    assert!(e.contains("do not cover") && e.contains("Triangle"), "{e}");
    // Embedding-only model: a single unnamed rank-2 output.
    let m = load("embedding_only.onnx").unwrap();
    assert_eq!(m.outputs.embedding, "features");
    assert!(m.outputs.logits.is_none());
    // Overrides must name real outputs.
    let e = ModelInfo::load(
        &fixtures().join("models/tiny.onnx"),
        &OutputOverrides {
            embedding: Some("nope".into()),
            logits: None,
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("\"nope\"") && e.contains("embedding"), "{e}");
    // Defaults from the contract when metadata is absent; the static 32×32 input sets the size.
    let m = load("tiny_nometa.onnx").unwrap();
    assert_eq!(m.preprocess.input_size, 32);
    assert_eq!(m.preprocess.resize_shorter, 36, "timm: floor(32 / 0.875)");
    assert_eq!(m.arch, "tiny_nometa");
    let m = load("tiny.onnx").unwrap();
    assert_eq!(m.epoch, Some(3));
    assert_eq!(m.source.as_deref(), Some("Real World"));
}

#[test]
fn embedding_only_models_write_no_logits() {
    let out = tempfile::tempdir().unwrap();
    let p = project(out.path());
    let m = ModelInfo::load(
        &fixtures().join("models/embedding_only.onnx"),
        &OutputOverrides::default(),
    )
    .unwrap();
    let job = job(&p, "embedding_only", SplitSel::Test, vec![1], false, false);
    embed::run(&job, &m, &engine(EngineKind::Tract), &|_| {}).unwrap();
    let d = store::read_domain(
        &dir(out.path(), "embedding_only", SplitSel::Test),
        "Real World",
    )
    .unwrap();
    assert!(d.logits.is_none());
    assert_eq!(d.embedding.ncols(), 16);
    assert_eq!(d.record.n_classes, 0);
}

#[test]
fn a_batch_that_cannot_run_is_a_typed_inference_error() {
    let m = tiny();
    let mut e = dannscope::engine::open(&m, &engine(EngineKind::Tract)).unwrap();
    let short = vec![0f32; m.preprocess.tensor_len() * 2 - 1];
    match e.run(&short, 2) {
        Err(dannscope::Error::Engine(dannscope::engine::EngineError::Inference {
            engine,
            model,
            rows,
            message,
        })) => {
            assert_eq!(engine, "tract");
            assert_eq!(model, m.path);
            assert_eq!(rows, 2);
            assert!(
                message.contains(&format!("has {} values", short.len())),
                "{message}"
            );
        }
        other => panic!("expected an inference error, got {other:?}"),
    }
}

#[test]
fn rows_after_skipped_images_hold_their_own_embeddings() {
    // odd/Art/Circle mixes three readable images with three unreadable ones in one batch; each kept row
    // must equal that image run alone.
    let out = tempfile::tempdir().unwrap();
    let p = Project::open(
        &ProjectOptions {
            data: Some(fixtures().join("odd")),
            out: out.path().to_path_buf(),
            ..Default::default()
        },
        0,
    )
    .unwrap();
    let m = tiny();
    embed::run(&all_job(&p), &m, &engine(EngineKind::Tract), &|_| {}).unwrap();
    let got = store::read_domain(&dir(out.path(), "tiny", SplitSel::All), "Art").unwrap();
    let mut e = dannscope::engine::open(&m, &engine(EngineKind::Tract)).unwrap();
    let mut pre = dannscope::preprocess::Preprocessor::new(m.preprocess.clone());
    for (row, path) in got.record.paths.iter().enumerate() {
        let mut buf = vec![0f32; m.preprocess.tensor_len()];
        pre.process_file(&fixtures().join("odd").join(path), &mut buf)
            .unwrap();
        let alone = e.run(&buf, 1).unwrap();
        let d = max_diff(
            got.embedding.view().row(row),
            ndarray::ArrayView1::from(&alone.embedding[..]),
        );
        assert!(
            d <= 1e-5,
            "{path}: row {row} differs from the image alone by {d}"
        );
    }
}
