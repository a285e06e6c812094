//! Generated bad input, seeded: the manifest CSV, `dannscope.toml`, the training-log CSV, ONNX metadata
//! values and arbitrary bytes given as images. Whatever the input, the outcome is a value or a named
//! error (or, for images, a counted skip), never a panic.

mod common;

use std::path::Path;

use common::fixtures;
use dannscope::config::Config;
use dannscope::model::{ModelInfo, OutputOverrides};
use dannscope::preprocess::{PreprocessConfig, Preprocessor};
use dannscope::split::Manifest;
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestRng, TestRunner};
use prost::Message;

/// A seeded runner with `cases` cases (the same cases on every run).
fn runner(cases: u32) -> TestRunner {
    TestRunner::new_with_rng(
        RunnerConfig {
            cases,
            failure_persistence: None,
            ..RunnerConfig::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Strings made of the characters that matter to each format, plus anything else.
fn fieldish() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_ ./\\\\-]{0,12}",
        "[,\"\\r\\n=\\[\\]{}#'\\t]{0,6}",
        any::<String>(),
        Just("Art/Circle/circle_00.png".to_string()),
        Just("../../etc/passwd".to_string()),
        Just("train".to_string()),
        Just("valid".to_string()),
    ]
}

#[test]
fn manifest_csv_never_panics() {
    let d = tempfile::tempdir().unwrap();
    let root = fixtures().join("data");
    let header = prop_oneof![
        Just("path,domain,class,split".to_string()),
        Just("\u{feff}path,domain,class,split".to_string()),
        Just("split,class,domain,path".to_string()),
        "[a-z,]{0,30}",
    ];
    let row = prop::collection::vec(fieldish(), 0..6).prop_map(|f| f.join(","));
    let text =
        (header, prop::collection::vec(row, 0..8), prop::bool::ANY).prop_map(|(h, rows, crlf)| {
            let nl = if crlf { "\r\n" } else { "\n" };
            format!("{h}{nl}{}", rows.join(nl))
        });
    let input = prop_oneof![
        text.prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..200)
    ];
    runner(3000)
        .run(&input, |bytes| {
            let p = write(d.path(), "m.csv", &bytes);
            for require in [true, false] {
                if let Err(e) = Manifest::read_with(&p, &root, require) {
                    prop_assert!(e.to_string().contains("m.csv"), "unnamed: {e}");
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn config_toml_never_panics() {
    let d = tempfile::tempdir().unwrap();
    let key = prop_oneof![
        Just("data"),
        Just("split"),
        Just("seed"),
        Just("map_seed"),
        Just("engine"),
        Just("device"),
        Just("batch_size"),
        Just("perplexity"),
        Just("classes"),
        Just("fast_decode"),
        Just("bogus"),
    ];
    let value = prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        fieldish().prop_map(|s| format!("{s:?}")),
        Just("true".to_string()),
        Just("[\"A\", 3]".to_string()),
        "[^\\n]{0,10}",
    ];
    let line = (key, value).prop_map(|(k, v)| format!("{k} = {v}"));
    let text = prop_oneof![
        prop::collection::vec(line, 0..6).prop_map(|l| l.join("\n")),
        prop::collection::vec(any::<u8>(), 0..120)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        Just("[[run]]\nmodel = 3\n".to_string()),
    ];
    runner(3000)
        .run(&text, |t| {
            let p = write(d.path(), "dannscope.toml", t.as_bytes());
            if let Err(e) = Config::read(&p) {
                prop_assert!(e.to_string().contains("dannscope.toml"), "unnamed: {e}");
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn training_log_csv_never_panics() {
    let d = tempfile::tempdir().unwrap();
    let number = prop_oneof![
        any::<f64>().prop_map(|v| v.to_string()),
        Just("NaN".to_string()),
        Just("87.5".to_string()),
        Just("-1".to_string()),
        Just("".to_string()),
    ];
    let row = (
        number.clone(),
        prop_oneof![Just("source"), Just("target"), Just("Art"), Just("")],
        prop_oneof![Just("valid"), Just("train"), Just("x")],
        prop_oneof![Just("accuracy"), Just("auroc"), Just("loss")],
        number,
    )
        .prop_map(|(e, d, s, m, v)| format!("{e},{d},{s},{m},{v}"));
    let text = prop_oneof![
        prop::collection::vec(row, 0..10)
            .prop_map(|r| format!("epoch,domain,split,metric,value\n{}", r.join("\n"))),
        prop::collection::vec(fieldish(), 0..10).prop_map(|f| f.join("\n")),
    ];
    runner(3000)
        .run(&text, |t| {
            let p = write(d.path(), "log.csv", t.as_bytes());
            if let Err(e) = dannscope::traininglog::read_curves(&p) {
                prop_assert!(e.to_string().contains("log.csv"), "unnamed: {e}");
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn onnx_metadata_values_never_panic() {
    let d = tempfile::tempdir().unwrap();
    let base = std::fs::read(fixtures().join("models/tiny.onnx")).unwrap();
    let proto = tract_onnx::pb::ModelProto::decode(base.as_slice()).unwrap();
    let key = prop_oneof![
        Just("dannscope.input_size"),
        Just("dannscope.crop_pct"),
        Just("dannscope.interpolation"),
        Just("dannscope.mean"),
        Just("dannscope.std"),
        Just("dannscope.classes"),
        Just("dannscope.epoch"),
        Just("dannscope.source"),
        Just("dannscope.arch"),
    ];
    let value = prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<u32>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
        Just("0".to_string()),
        Just("1e9".to_string()),
        Just("0.5,0.5".to_string()),
        Just("[\"a\",\"b\"]".to_string()),
        Just("[1,2,3,4]".to_string()),
        Just("NaN".to_string()),
        fieldish(),
    ];
    let meta = prop::collection::vec((key, value), 1..4);
    runner(1500)
        .run(&meta, |kv| {
            let mut m = proto.clone();
            for (k, v) in kv {
                m.metadata_props.retain(|p| p.key != k);
                m.metadata_props
                    .push(tract_onnx::pb::StringStringEntryProto {
                        key: k.to_string(),
                        value: v,
                    });
            }
            let p = write(d.path(), "m.onnx", &m.encode_to_vec());
            match ModelInfo::load(&p, &OutputOverrides::default()) {
                Ok(info) => {
                    // Whatever was accepted is usable: a sane input size and crop.
                    prop_assert!((1..=dannscope::model::MAX_INPUT_SIZE)
                        .contains(&info.preprocess.input_size));
                    prop_assert!(info.preprocess.crop_pct > 0.0 && info.preprocess.crop_pct <= 1.0);
                }
                Err(e) => prop_assert!(e.to_string().contains("m.onnx"), "unnamed: {e}"),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_bytes_as_images_are_errors_not_panics() {
    let d = tempfile::tempdir().unwrap();
    let png = std::fs::read(fixtures().join("data/Art/Circle/circle_00.png")).unwrap();
    let jpg = std::fs::read(fixtures().join("data/Art/Circle/circle_jpeg.jpg")).unwrap();
    // Random bytes, and real files cut short or with bytes flipped.
    let mangled = |src: Vec<u8>| {
        let n = src.len();
        (0..=n, prop::collection::vec((0..n, any::<u8>()), 0..8)).prop_map(move |(cut, flips)| {
            let mut b = src.clone();
            for (i, v) in flips {
                b[i] = v;
            }
            b.truncate(cut);
            b
        })
    };
    let input = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        mangled(png),
        mangled(jpg),
    ];
    let cfg = PreprocessConfig::new(
        32,
        1.0,
        dannscope::preprocess::Interpolation::Bilinear,
        [0.5; 3],
        [0.5; 3],
    );
    let pre = std::cell::RefCell::new(Preprocessor::new(cfg.clone()));
    let out = std::cell::RefCell::new(vec![0f32; cfg.tensor_len()]);
    runner(3000)
        .run(&input, |bytes| {
            for name in ["x.jpg", "x.png"] {
                let p = write(d.path(), name, &bytes);
                let mut out = out.borrow_mut();
                if pre.borrow_mut().process_file(&p, &mut out).is_ok() {
                    prop_assert!(out.iter().all(|v| v.is_finite()));
                }
            }
            Ok(())
        })
        .unwrap();
}
