//! The model's self-check (`dannscope.selfcheck`): the expected outputs on the fixed input are taken
//! from one engine, written into a copy of a fixture model's metadata, and checked on opening — by
//! tract and, when its library is found, ONNX Runtime. A model whose recorded outputs are not what
//! the engine computes (a wrong export, a broken engine) is refused, naming the file, engine, device
//! and output; `--no-self-check` (`EngineOptions::self_check = None`) opens it anyway; a malformed
//! record is an error naming the file; and the binary refuses such a model before any image is read.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::{fixtures, ort_available};
use dannscope::engine::selfcheck::{self, BATCH};
use dannscope::engine::{self, EngineKind, EngineOptions};
use dannscope::model::{ModelInfo, OutputOverrides};
use prost::Message;

fn tiny() -> ModelInfo {
    ModelInfo::load(
        &fixtures().join("models/tiny.onnx"),
        &OutputOverrides::default(),
    )
    .unwrap()
}

fn opts(kind: EngineKind, check: bool) -> EngineOptions {
    EngineOptions {
        kind,
        batch_size: 4,
        self_check: check.then_some(selfcheck::DEFAULT_TOLERANCE),
        ..Default::default()
    }
}

/// The self-check JSON for `model` from tract's outputs, with every value multiplied by `scale`.
fn record(model: &ModelInfo, scale: f64) -> String {
    let mut e = engine::open(model, &opts(EngineKind::Tract, false)).unwrap();
    let size = model.preprocess.input_size as usize;
    let out = e.run(&selfcheck::input(size), BATCH).unwrap();
    let entry = |rows: &[f32], width: usize| {
        let head: Vec<Vec<f64>> = rows
            .chunks_exact(width)
            .map(|r| r.iter().take(8).map(|&v| v as f64 * scale).collect())
            .collect();
        let norm: Vec<f64> = rows
            .chunks_exact(width)
            .map(|r| r.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt() * scale)
            .collect();
        serde_json::json!({"shape": [BATCH, width], "head": head, "norm": norm})
    };
    let mut outputs = serde_json::Map::new();
    outputs.insert("embedding".into(), entry(&out.embedding, out.dim));
    if let Some((l, c)) = &out.logits {
        outputs.insert("logits".into(), entry(l, *c));
    }
    serde_json::json!({"version": 1, "batch": BATCH, "size": size, "outputs": outputs}).to_string()
}

/// A copy of the fixture model with `dannscope.selfcheck` set to `value`.
fn with_check(dir: &Path, name: &str, value: &str) -> PathBuf {
    let bytes = std::fs::read(fixtures().join("models/tiny.onnx")).unwrap();
    let mut proto = tract_onnx::pb::ModelProto::decode(bytes.as_slice()).unwrap();
    proto
        .metadata_props
        .retain(|p| p.key != selfcheck::METADATA_KEY);
    proto
        .metadata_props
        .push(tract_onnx::pb::StringStringEntryProto {
            key: selfcheck::METADATA_KEY.into(),
            value: value.into(),
        });
    let p = dir.join(name);
    std::fs::write(&p, proto.encode_to_vec()).unwrap();
    p
}

fn load(p: &Path) -> ModelInfo {
    ModelInfo::load(p, &OutputOverrides::default()).unwrap()
}

fn engines() -> Vec<EngineKind> {
    let mut v = vec![EngineKind::Tract];
    if ort_available() {
        v.push(EngineKind::Ort);
    }
    v
}

#[test]
fn a_matching_record_passes_on_every_engine_and_is_recorded() {
    let d = tempfile::tempdir().unwrap();
    let m = load(&with_check(d.path(), "ok.onnx", &record(&tiny(), 1.0)));
    for kind in engines() {
        let e = engine::open(&m, &opts(kind, true)).unwrap();
        let r = e.info().self_check.clone().expect("self-check recorded");
        assert_eq!(r.outputs, ["embedding", "logits"], "{kind:?}");
        assert!(
            r.max_relative_diff < 1e-5,
            "{kind:?}: {}",
            r.max_relative_diff
        );
    }
}

#[test]
fn a_model_that_computes_something_else_is_refused_by_name() {
    let d = tempfile::tempdir().unwrap();
    // 3 % off everywhere: what a wrong export (BatchNorm statistics, a missing layer) looks like, small.
    let p = with_check(d.path(), "drifted.onnx", &record(&tiny(), 1.03));
    let m = load(&p);
    for kind in engines() {
        let err = engine::open(&m, &opts(kind, true))
            .err()
            .expect("refused")
            .to_string();
        let name = if kind == EngineKind::Tract {
            "tract"
        } else {
            "onnxruntime"
        };
        for part in [
            "drifted.onnx",
            "self-check failed",
            name,
            "(CPU)",
            "output embedding",
            "--no-self-check",
        ] {
            assert!(err.contains(part), "{kind:?}: missing {part:?} in {err}");
        }
        // Skipping the check opens it.
        let e = engine::open(&m, &opts(kind, false)).unwrap();
        assert!(e.info().self_check.is_none());
    }
    // Within the tolerance (0.5 % off) it passes.
    let m = load(&with_check(d.path(), "close.onnx", &record(&tiny(), 1.005)));
    assert!(engine::open(&m, &opts(EngineKind::Tract, true)).is_ok());
}

#[test]
fn a_malformed_record_is_an_error_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    let good = record(&tiny(), 1.0);
    for (name, value) in [
        ("garbage.onnx", "not json".to_string()),
        (
            "version.onnx",
            good.replace("\"version\":1", "\"version\":7"),
        ),
        (
            "size.onnx",
            good.replace(
                &format!("\"size\":{}", tiny().preprocess.input_size),
                "\"size\":5",
            ),
        ),
    ] {
        let m = load(&with_check(d.path(), name, &value));
        let err = engine::open(&m, &opts(EngineKind::Tract, true))
            .err()
            .expect(name)
            .to_string();
        assert!(
            err.contains(name) && err.contains("dannscope.selfcheck"),
            "{err}"
        );
    }
}

#[test]
fn the_binary_refuses_a_drifted_model_before_reading_images_and_skips_on_request() {
    let d = tempfile::tempdir().unwrap();
    let model = with_check(d.path(), "drifted.onnx", &record(&tiny(), 1.5));
    let data = d.path().join("data");
    common::copy_tree(&fixtures().join("data"), &data);
    let run = |extra: &[&str]| {
        Command::cargo_bin("dannscope")
            .unwrap()
            .current_dir(d.path())
            .args(["embed", "--engine", "tract", "--split", "all", "--model"])
            .arg(&model)
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(d.path().join("out"))
            .args(extra)
            .output()
            .unwrap()
    };
    let refused = run(&[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(
        stderr.contains("self-check failed on tract (CPU)"),
        "{stderr}"
    );
    assert!(stderr.contains("drifted.onnx"), "{stderr}");
    let skipped = run(&["--no-self-check"]);
    assert!(
        skipped.status.success(),
        "{}",
        String::from_utf8_lossy(&skipped.stderr)
    );
}

#[test]
fn a_passed_check_is_recorded_in_the_run_log() {
    let d = tempfile::tempdir().unwrap();
    let model = with_check(d.path(), "checked.onnx", &record(&tiny(), 1.0));
    let data = d.path().join("data");
    common::copy_tree(&fixtures().join("data"), &data);
    let out = d.path().join("out");
    let status = Command::cargo_bin("dannscope")
        .unwrap()
        .args(["embed", "--engine", "tract", "--split", "all", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let logs: Vec<PathBuf> = common::files_under(&out)
        .into_iter()
        .filter(|p| p.parent().is_some_and(|d| d.ends_with("runs")))
        .collect();
    assert!(!logs.is_empty(), "no run logs under {}", out.display());
    for log in logs {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&log).unwrap()).unwrap();
        let check = &v["runs"][0]["self_check"];
        assert_eq!(
            check["outputs"],
            serde_json::json!(["embedding", "logits"]),
            "{}",
            log.display()
        );
        assert!(check["max_relative_diff"].as_f64().unwrap() < 1e-5);
        assert_eq!(
            check["tolerance"].as_f64(),
            Some(selfcheck::DEFAULT_TOLERANCE)
        );
    }
}
