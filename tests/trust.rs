//! Data safety through the files on disk: splits that never move, names that never escape `--out`,
//! honest exit codes, and runs that are killed or run side by side.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::{copy_tree, fixtures, temp_files};
use predicates::prelude::*;

/// The binary, with ONNX Runtime hidden so that every run uses the same engine (tract).
fn dannscope() -> Command {
    let mut c = Command::cargo_bin("dannscope").unwrap();
    c.env_remove("ORT_DYLIB_PATH")
        .env("DANNSCOPE_PYTHON", "/nonexistent/python3")
        .env("LD_LIBRARY_PATH", "");
    c
}

fn tiny() -> PathBuf {
    fixtures().join("models/tiny.onnx")
}

/// `path -> split` of a manifest CSV.
fn manifest_rows(path: &Path) -> Vec<(String, String)> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let mut rows: Vec<(String, String)> = r
        .records()
        .map(|x| {
            let x = x.unwrap();
            (x[0].to_string(), x[3].to_string())
        })
        .collect();
    rows.sort();
    rows
}

fn only_manifest(out: &Path) -> PathBuf {
    let dir = out.join("manifests");
    let v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    assert_eq!(v.len(), 1, "{v:?}");
    v[0].clone()
}

#[test]
fn splits_never_move_when_images_are_deleted_or_added() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    copy_tree(&fixtures().join("data"), &data);
    let out = tmp.path().join("out");
    let embed = || {
        dannscope()
            .args(["embed", "--split", "all", "--model"])
            .arg(tiny())
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&out)
            .assert()
            .success()
    };
    embed();
    let manifest = only_manifest(&out);
    let before = manifest_rows(&manifest);
    assert!(before.len() > 40);
    // Delete one image of each split: every other row keeps its split.
    let mut gone = Vec::new();
    for split in ["train", "valid", "test"] {
        let (p, _) = before.iter().find(|(_, s)| s == split).unwrap();
        std::fs::remove_file(data.join(p)).unwrap();
        gone.push(p.clone());
    }
    embed().stderr(predicate::str::contains("3 deleted images dropped"));
    let after = manifest_rows(&manifest);
    assert_eq!(after.len(), before.len() - 3);
    for (p, s) in &after {
        let old = before.iter().find(|(q, _)| q == p).unwrap();
        assert_eq!(&old.1, s, "{p} moved from {} to {s}", old.1);
    }
    assert!(gone.iter().all(|g| after.iter().all(|(p, _)| p != g)));
    // A new image is assigned without moving any existing one.
    let src = data.join(&after[0].0);
    let new = src.with_file_name("zz_new_image.png");
    std::fs::copy(&src, &new).unwrap();
    embed();
    let again = manifest_rows(&manifest);
    assert_eq!(again.len(), after.len() + 1);
    for (p, s) in &after {
        assert!(again.contains(&(p.clone(), s.clone())), "{p} moved");
    }
}

#[test]
fn names_from_manifests_and_flags_never_escape_out() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // A manifest whose domain column would climb out of --out.
    let m = tmp.path().join("evil.csv");
    let mut text = String::from("path,domain,class,split\n");
    for (i, f) in ["circle_00.png", "circle_03.png", "circle_04.png"]
        .iter()
        .enumerate()
    {
        let domain = if i == 0 { "../../../../escaped" } else { "Art" };
        text.push_str(&format!("Art/Circle/{f},{domain},Circle,valid\n"));
    }
    std::fs::write(&m, text).unwrap();
    dannscope()
        .args(["embed", "--model"])
        .arg(tiny())
        .arg("--data")
        .arg(fixtures().join("data"))
        .arg("--manifest")
        .arg(&m)
        .arg("--out")
        .arg(&out)
        .assert()
        .failure()
        .stderr(predicate::str::contains("../../../../escaped"))
        .stderr(predicate::str::contains("evil.csv"));
    // A domain code override with a separator.
    dannscope()
        .args(["embed", "--model"])
        .arg(tiny())
        .arg("--data")
        .arg(fixtures().join("data"))
        .arg("--out")
        .arg(&out)
        .args(["--domain-code", "Art=../x"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("domain code \"../x\""))
        .stderr(predicate::str::contains("domain-code override"));
    // Nothing was written anywhere: not outside --out, and not inside it either.
    let mut seen: Vec<PathBuf> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    seen.sort();
    assert_eq!(seen, vec![m.clone()], "files appeared next to --out");
    assert!(!out.exists());
}

fn make_slow_dataset(root: &Path) {
    // "Alpha": a few small images; "Beta": many large JPEGs (full decode takes a while).
    let classes = ["Circle", "Cross", "Square", "Triangle"];
    let mut big = image::RgbImage::new(1600, 1200);
    for (x, y, p) in big.enumerate_pixels_mut() {
        let v = ((x * 7 + y * 3) % 251) as u8;
        *p = image::Rgb([v, (x / 7) as u8, (y / 5) as u8]);
    }
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&big)
        .unwrap();
    for c in classes {
        let a = root.join("Alpha").join(c);
        std::fs::create_dir_all(&a).unwrap();
        let src = fixtures().join("data/Art").join(c);
        for e in std::fs::read_dir(&src).unwrap().take(3) {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "png") {
                std::fs::copy(&p, a.join(p.file_name().unwrap())).unwrap();
            }
        }
        let b = root.join("Beta").join(c);
        std::fs::create_dir_all(&b).unwrap();
        for i in 0..60 {
            std::fs::write(b.join(format!("img_{i:03}.jpg")), &jpeg).unwrap();
        }
    }
}

fn embed_cmd(data: &Path, out: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("dannscope"));
    c.args([
        "embed",
        "--split",
        "all",
        "--engine",
        "tract",
        "--batch-size",
        "4",
    ])
    .arg("--model")
    .arg(tiny())
    .arg("--data")
    .arg(data)
    .arg("--out")
    .arg(out)
    .env_remove("ORT_DYLIB_PATH")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    c
}

fn arrays(
    out: &Path,
    domain: &str,
) -> (ndarray::Array2<f32>, Option<ndarray::Array2<f32>>, Vec<i64>) {
    let d = dannscope::store::read_domain(&out.join("embeddings/tiny/all"), domain).unwrap();
    (
        d.embedding.into_owned(),
        d.logits.map(|l| l.into_owned()),
        d.label.to_vec(),
    )
}

#[test]
fn a_killed_embed_loses_nothing_and_two_embeds_at_once_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    make_slow_dataset(&data);
    // Reference: one uninterrupted run.
    let reference = tmp.path().join("reference");
    let st = embed_cmd(&data, &reference).status().unwrap();
    assert!(st.success());

    // Kill a run in the middle of the second domain (after Alpha is finished, before Beta is).
    let out = tmp.path().join("killed");
    let dir = out.join("embeddings/tiny/all");
    let mut child = embed_cmd(&data, &out).spawn().unwrap();
    let t0 = Instant::now();
    while !dir.join("Alpha.json").is_file() {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "Alpha never finished"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(150));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !dir.join("Beta.npz").exists() && !dir.join("Beta.json").exists(),
        "Beta finished before the kill: make the test data larger"
    );
    // Nothing partial under a final name; a half-written pair is never read as finished.
    assert!(dannscope::store::read_domain(&dir, "Beta").is_err());
    let rerun = embed_cmd(&data, &out).output().unwrap();
    assert!(rerun.status.success());
    let log = String::from_utf8_lossy(&rerun.stderr);
    assert!(log.contains("Alpha: ") && log.contains("(cached)"), "{log}");
    for d in ["Alpha", "Beta"] {
        assert_eq!(arrays(&out, d), arrays(&reference, d), "{d}");
    }

    // Two processes embedding into one output root at once: both succeed, files equal the reference.
    let both = tmp.path().join("both");
    let a = embed_cmd(&data, &both).spawn().unwrap();
    let b = embed_cmd(&data, &both).spawn().unwrap();
    for c in [a, b] {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for d in ["Alpha", "Beta"] {
        assert_eq!(arrays(&both, d), arrays(&reference, d), "{d}");
    }
    assert!(temp_files(&both).is_empty());
}

#[test]
fn non_finite_logits_are_refused_before_anything_is_cached() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    dannscope()
        .args(["embed", "--split", "all", "--model"])
        .arg(fixtures().join("models/nan_logits.onnx"))
        .arg("--data")
        .arg(fixtures().join("data"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("logits row 0"))
        .stderr(predicate::str::contains("non-finite"));
    let dir = out.join("embeddings/nan_logits/all");
    let cached: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "npz" || x == "json"))
                .collect()
        })
        .unwrap_or_default();
    assert!(cached.is_empty(), "{cached:?}");
}

#[test]
fn a_pair_write_interrupted_between_its_two_files_is_never_read_as_finished() {
    // The window a kill can hit: a new run wrote `<Domain>.npz` and died before `<Domain>.json`.
    let tmp = tempfile::tempdir().unwrap();
    let embed = |model: &str, out: &Path| {
        dannscope()
            .args(["embed", "--split", "all", "--model"])
            .arg(fixtures().join("models").join(model))
            .arg("--data")
            .arg(fixtures().join("data"))
            .arg("--out")
            .arg(out)
            .assert()
            .success()
    };
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    embed("tiny.onnx", &a);
    // Same shapes, other weights: arrays that fit the record's row counts but are not its arrays.
    embed("tiny_nometa.onnx", &b);
    let dir = a.join("embeddings/tiny/all");
    let good = dannscope::store::read_domain(&dir, "Art").unwrap();
    // Replaced the way dannscope writes (a new file renamed over the old one): `good` views the old
    // file in a memory mapping, which a rename leaves intact (overwriting it in place would not).
    let swap = dir.join(".Art.npz.swap.tmp");
    std::fs::copy(b.join("embeddings/tiny_nometa/all/Art.npz"), &swap).unwrap();
    std::fs::rename(&swap, dir.join("Art.npz")).unwrap();
    let err = dannscope::store::read_domain(&dir, "Art")
        .unwrap_err()
        .to_string();
    assert!(err.contains("interrupted"), "{err}");
    // A rerun recomputes the domain instead of reusing the mixed pair.
    embed("tiny.onnx", &a).stderr(
        predicate::str::is_match(r"Art: \d+ images \(cached\)")
            .unwrap()
            .not(),
    );
    let again = dannscope::store::read_domain(&dir, "Art").unwrap();
    assert_eq!(again.embedding, good.embedding);
}
