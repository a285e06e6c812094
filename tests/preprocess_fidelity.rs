//! dannscope's preprocessing against the training side's eval transform (PIL decode + torchvision
//! Resize / CenterCrop / ToTensor / Normalize), on the images and references that
//! tests/fixtures/preprocess/make_preprocess_fixtures.py made.
//!
//! Differences are measured in grey levels: dannscope's normalised tensor converted back
//! (`x · std · 255 + mean · 255`) minus the reference's uint8 pixels, over all 3 · S² values.
//! With the default (full) decode every case, JPEG or PNG, must match exactly: JPEGs decode through
//! libjpeg-turbo with Pillow's settings and the resize is Pillow's to the bit, so [`MEAN_MAX`] and
//! [`MAX_MAX`] only absorb the float rounding of the normalised tensor. The table of every case, full and fast decode, is printed by
//! `cargo test --release --test preprocess_fidelity -- --ignored --nocapture fidelity_table`.

mod common;

use std::path::{Path, PathBuf};

use dannscope::preprocess::{load_rgb8, Interpolation, PreprocessConfig, Preprocessor};

/// Largest mean absolute difference allowed per case, grey levels: float rounding only.
const MEAN_MAX: f64 = 0.001;
/// Largest absolute difference allowed at any value, grey levels: float rounding only.
const MAX_MAX: f64 = 0.01;

struct Case {
    name: String,
    kind: String,
    image: PathBuf,
    reference: PathBuf,
    cfg: PreprocessConfig,
}

fn dir() -> PathBuf {
    common::fixtures().join("preprocess")
}

fn cases() -> Vec<Case> {
    let manifest: serde_json::Value =
        serde_json::from_reader(std::fs::File::open(dir().join("cases.json")).expect("cases.json"))
            .unwrap();
    let triple = |v: &serde_json::Value| -> [f32; 3] {
        let a = v.as_array().unwrap();
        std::array::from_fn(|i| a[i].as_f64().unwrap() as f32)
    };
    manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            name: c["case"].as_str().unwrap().to_string(),
            kind: c["kind"].as_str().unwrap().to_string(),
            image: dir().join(c["image"].as_str().unwrap()),
            reference: dir().join(c["reference"].as_str().unwrap()),
            cfg: PreprocessConfig::new(
                c["input_size"].as_u64().unwrap() as u32,
                c["crop_pct"].as_f64().unwrap(),
                Interpolation::parse(c["interpolation"].as_str().unwrap()).unwrap(),
                triple(&c["mean"]),
                triple(&c["std"]),
            ),
        })
        .collect()
}

/// The reference as HWC uint8.
fn reference(path: &Path) -> image::RgbImage {
    image::open(path).expect("reference PNG").to_rgb8()
}

/// Mean and max absolute difference in grey levels between dannscope's tensor and the reference.
fn measure(case: &Case, fast_decode: bool) -> (f64, f64) {
    let cfg = case.cfg.clone().with_fast_decode(fast_decode);
    let s = cfg.input_size as usize;
    let mut t = vec![0f32; cfg.tensor_len()];
    Preprocessor::new(cfg.clone())
        .process_file(&case.image, &mut t)
        .unwrap_or_else(|e| panic!("{}: {e}", case.image.display()));
    let r = reference(&case.reference);
    assert_eq!(r.dimensions(), (s as u32, s as u32), "{}", case.name);
    let (mut sum, mut max) = (0f64, 0f64);
    for (i, px) in r.as_raw().chunks_exact(3).enumerate() {
        for c in 0..3 {
            let x = t[c * s * s + i] as f64;
            let grey = x * cfg.std[c] as f64 * 255.0 + cfg.mean[c] as f64 * 255.0;
            let d = (grey - px[c] as f64).abs();
            sum += d;
            max = max.max(d);
        }
    }
    (sum / (3 * s * s) as f64, max)
}

#[test]
fn default_preprocessing_matches_pil_torchvision() {
    let cases = cases();
    assert!(cases.len() >= 20, "expected the committed fixture cases");
    let mut failures = Vec::new();
    for case in &cases {
        let (mean, max) = measure(case, false);
        let (mean_lim, max_lim) = (MEAN_MAX, MAX_MAX);
        eprintln!(
            "{:44} {:28} mean {mean:.4} max {max:.1}",
            case.name, case.kind
        );
        if mean > mean_lim || max > max_lim {
            failures.push(format!(
                "{} ({}): mean {mean:.4} (limit {mean_lim}), max {max:.1} (limit {max_lim})",
                case.name, case.kind
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "beyond the limits:\n{}",
        failures.join("\n")
    );
}

#[test]
fn normalisation_is_totensor_then_normalize() {
    // On the reference pixels themselves: ((p / 255) − mean) / std in float32, as torchvision.
    let case = &cases()[0];
    let r = reference(&case.reference);
    let p = Preprocessor::new(case.cfg.clone());
    let s = case.cfg.input_size as usize;
    let mut t = vec![0f32; case.cfg.tensor_len()];
    p.normalise_into(&r, &mut t);
    let mut worst = 0f32;
    for (i, px) in r.as_raw().chunks_exact(3).enumerate() {
        for c in 0..3 {
            let want = (px[c] as f32 / 255.0 - case.cfg.mean[c]) / case.cfg.std[c];
            worst = worst.max((t[c * s * s + i] - want).abs());
        }
    }
    assert!(worst <= 2e-6, "normalised values differ by {worst}");
}

#[test]
fn fast_decode_only_when_asked() {
    let cases = cases();
    let find = |name: &str| cases.iter().find(|c| c.name == name).unwrap();
    let big = find("photo_4032x3024_420_bilinear");
    // Default: full resolution.
    let full = load_rgb8(&big.image, &big.cfg).unwrap();
    assert_eq!(full.dimensions(), (4032, 3024));
    // Asked for: a reduced DCT scale (1/8 here), still at least the resize target.
    let fast_cfg = big.cfg.clone().with_fast_decode(true);
    let fast = load_rgb8(&big.image, &fast_cfg).unwrap();
    assert_eq!(fast.dimensions(), (504, 378));
    assert!(fast.height() >= fast_cfg.resize_shorter);
    // A JPEG whose shorter side is below twice the target, and a PNG, are decoded in full anyway.
    for name in ["wide_3000x200_bilinear", "photo_512x384_bilinear"] {
        let c = find(name);
        let img = load_rgb8(&c.image, &c.cfg.clone().with_fast_decode(true)).unwrap();
        let full = load_rgb8(&c.image, &c.cfg).unwrap();
        assert_eq!(img, full, "{name}");
    }
    // The tensors differ only when the fast decode is on.
    let run = |cfg: &PreprocessConfig| {
        let mut t = vec![0f32; cfg.tensor_len()];
        Preprocessor::new(cfg.clone())
            .process_file(&big.image, &mut t)
            .unwrap();
        t
    };
    let default = run(&big.cfg);
    assert_eq!(default, run(&big.cfg.clone().with_fast_decode(false)));
    assert_ne!(default, run(&fast_cfg));
}

/// Prints the fidelity table (full and fast decode) of every case.
#[test]
#[ignore = "prints the fidelity table; run with --ignored --nocapture"]
fn fidelity_table() {
    println!("| case | kind | interpolation | full decode mean / max | fast decode mean / max |");
    println!("|---|---|---|---|---|");
    for case in cases() {
        let (fm, fx) = measure(&case, false);
        let (qm, qx) = measure(&case, true);
        let interp = match case.cfg.interpolation {
            Interpolation::Bilinear => "bilinear",
            Interpolation::Bicubic => "bicubic",
        };
        let file = case
            .image
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        println!(
            "| {file} | {} | {interp} | {fm:.3} / {fx:.0} | {qm:.3} / {qx:.0} |",
            case.kind
        );
    }
}
