//! JPEG decoding against Pillow, pixel for pixel: every layout of `tests/fixtures/jpeg/` (4:4:4,
//! 4:2:2, 4:2:0, 4:4:0, 4:1:1, progressive, greyscale, restart markers, arithmetic coding, RGB, CMYK,
//! odd and tiny sizes) decodes to exactly the bytes of `Image.open(f).convert("RGB")`, and the files
//! Pillow refuses as truncated are refused here too. `make_jpeg_fixtures.py` beside the fixtures made
//! them (it records the Pillow and libjpeg-turbo versions in `cases.json`).
//!
//! The table of every case (max and mean difference in grey levels) is printed by
//! `cargo test --test jpeg_fidelity -- --nocapture`.

mod common;

use std::path::PathBuf;

use dannscope::preprocess::{load_rgb8, ImageError, Interpolation, PreprocessConfig};

struct Case {
    name: String,
    layout: String,
    jpeg: PathBuf,
    /// Pillow's pixels; `None` where Pillow refused the file.
    reference: Option<PathBuf>,
}

fn cases() -> Vec<Case> {
    let dir = common::fixtures().join("jpeg");
    let meta: serde_json::Value =
        serde_json::from_reader(std::fs::File::open(dir.join("cases.json")).unwrap()).unwrap();
    meta["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let name = c["case"].as_str().unwrap().to_string();
            let decoded = c["pillow"].as_str().unwrap() == "decoded";
            Case {
                jpeg: dir.join(format!("{name}.jpg")),
                reference: decoded.then(|| dir.join(format!("{name}.png"))),
                layout: c["layout"].as_str().unwrap().to_string(),
                name,
            }
        })
        .collect()
}

fn config() -> PreprocessConfig {
    PreprocessConfig::new(
        224,
        0.875,
        Interpolation::Bilinear,
        [0.485, 0.456, 0.406],
        [0.229, 0.224, 0.225],
    )
}

#[test]
fn every_layout_decodes_to_pillows_pixels() {
    let cases = cases();
    assert!(cases.len() >= 19, "expected the committed fixture cases");
    let mut failures = Vec::new();
    println!("| case | layout | max | mean (grey levels) |");
    println!("|---|---|---|---|");
    for case in &cases {
        let got = load_rgb8(&case.jpeg, &config());
        match (&case.reference, got) {
            (Some(reference), Ok(img)) => {
                let want = image::open(reference).unwrap().to_rgb8();
                if want.dimensions() != img.dimensions() {
                    failures.push(format!(
                        "{}: {:?} pixels, Pillow {:?}",
                        case.name,
                        img.dimensions(),
                        want.dimensions()
                    ));
                    continue;
                }
                let diffs: Vec<u8> = img
                    .as_raw()
                    .iter()
                    .zip(want.as_raw())
                    .map(|(a, b)| a.abs_diff(*b))
                    .collect();
                let max = diffs.iter().copied().max().unwrap_or(0);
                let mean = diffs.iter().map(|&d| d as f64).sum::<f64>() / diffs.len() as f64;
                println!("| {} | {} | {max} | {mean:.4} |", case.name, case.layout);
                if max != 0 {
                    failures.push(format!(
                        "{} ({}): max {max}, mean {mean:.4}",
                        case.name, case.layout
                    ));
                }
            }
            (Some(_), Err(e)) => {
                failures.push(format!("{}: refused ({e}), Pillow decodes it", case.name))
            }
            (None, Ok(_)) => failures.push(format!("{}: decoded, Pillow refuses it", case.name)),
            (None, Err(e)) => {
                println!("| {} | {} | refused | refused |", case.name, case.layout);
                if !matches!(e, ImageError::Truncated) {
                    failures.push(format!(
                        "{}: refused as {e:?}, expected Truncated",
                        case.name
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "differs from Pillow:\n{}",
        failures.join("\n")
    );
}

#[test]
fn truncated_files_name_the_reason() {
    let case = cases()
        .into_iter()
        .find(|c| c.name == "truncated_half")
        .unwrap();
    let err = load_rgb8(&case.jpeg, &config()).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn garbage_after_the_jpeg_marker_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("magic_only.jpg", vec![0xFF, 0xD8, 0xFF]),
        (
            "noise.jpg",
            [0xFF, 0xD8, 0xFF]
                .into_iter()
                .chain((0..2000u32).map(|i| (i * 7919 % 251) as u8))
                .collect(),
        ),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let err = load_rgb8(&p, &config()).unwrap_err();
        assert!(!err.to_string().is_empty(), "{name}");
    }
}
