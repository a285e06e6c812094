//! `embed --shard I/N` and `merge` as a user meets them: shards merged in any order give the bytes of a
//! single-process embed (which then takes them for its own finished result), and missing, duplicate,
//! mismatched and foreign shards are refused with the file and the reason. The pure-Rust engine
//! (tract) runs everywhere, so these tests never skip.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::{copy_tree, fixtures, temp_files};
use predicates::prelude::*;

fn dannscope() -> Command {
    let mut c = Command::cargo_bin("dannscope").unwrap();
    for v in [
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_COUNT",
        "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_MAX",
        "SLURM_ARRAY_TASK_STEP",
        "SLURM_JOB_ID",
        "JOB_COMPLETION_INDEX",
        "DANNSCOPE_SHARD_COUNT",
    ] {
        c.env_remove(v);
    }
    c
}

/// `embed`/`merge` arguments: the fixture data, every split, tract, batches of 3 (so that shard
/// boundaries fall inside domains).
fn cmd(sub: &str, model: &Path, out: &Path) -> Command {
    let mut c = dannscope();
    c.arg(sub)
        .arg("--model")
        .arg(model)
        .arg("--data")
        .arg(fixtures().join("data"))
        .arg("--out")
        .arg(out)
        .args(["--split", "all", "--engine", "tract", "--batch-size", "3"]);
    c
}

fn tiny() -> PathBuf {
    fixtures().join("models/tiny.onnx")
}

fn emb(out: &Path) -> PathBuf {
    out.join("embeddings/tiny/all")
}

/// The files of the result (`<Domain>.npz`, `<Domain>.json`), sorted, with their bytes.
fn result_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".npz") || n.ends_with(".json"))
        .map(|n| (n.clone(), std::fs::read(dir.join(&n)).unwrap()))
        .collect();
    v.sort();
    v
}

fn single(out: &Path) {
    cmd("embed", &tiny(), out).assert().success();
}

fn shard(out: &Path, model: &Path, i: usize, n: usize) {
    cmd("embed", model, out)
        .arg("--shard")
        .arg(format!("{i}/{n}"))
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("shard {i}/{n}: embedded")));
}

#[test]
fn merged_shards_are_byte_identical_to_a_single_process() {
    let one = tempfile::tempdir().unwrap();
    single(one.path());
    let want = result_files(&emb(one.path()));
    assert_eq!(want.len(), 4, "two domains, npz + json each");
    // 1, 3, 4 shards, and more shards than batches (empty shards); run in reverse order.
    for n in [1usize, 3, 4, 40] {
        let out = tempfile::tempdir().unwrap();
        for i in (0..n).rev() {
            shard(out.path(), &tiny(), i, n);
        }
        cmd("merge", &tiny(), out.path())
            .assert()
            .success()
            .stdout(predicate::str::contains(format!(
                "merged {n} of {n} shard{}",
                if n == 1 { ":" } else { "s:" }
            )));
        let got = result_files(&emb(out.path()));
        assert_eq!(got.len(), want.len());
        for ((gn, gb), (wn, wb)) in got.iter().zip(&want) {
            assert_eq!(gn, wn);
            assert!(
                gb == wb,
                "{n} shards: {gn} differs from the single-process file"
            );
        }
        // The run log lists one entry per shard that held rows of the domain.
        let log: serde_json::Value =
            serde_json::from_slice(&std::fs::read(emb(out.path()).join("runs/Art.json")).unwrap())
                .unwrap();
        let runs = log["runs"].as_array().unwrap();
        assert!(!runs.is_empty() && runs.len() <= n);
        assert!(runs
            .iter()
            .all(|r| r["shard"].as_str().unwrap().ends_with(&format!("/{n}"))));
        assert!(temp_files(out.path()).is_empty());
        // A plain embed takes the merged files for its own finished result.
        cmd("embed", &tiny(), out.path())
            .assert()
            .success()
            .stderr(predicate::str::contains("(cached)"));
    }
    // Two single-process runs give the same bytes too (no time stamps in the result files).
    let two = tempfile::tempdir().unwrap();
    single(two.path());
    assert!(result_files(&emb(two.path())) == want);
}

#[test]
fn a_missing_shard_is_named_and_finished_shards_are_kept() {
    let out = tempfile::tempdir().unwrap();
    for i in [0, 1, 3] {
        shard(out.path(), &tiny(), i, 4);
    }
    cmd("merge", &tiny(), out.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "1 of 4 shards are not finished: 2",
        ));
    assert!(result_files(&emb(out.path())).is_empty(), "nothing merged");
    // A partial merge writes what is there, never taken for a finished embed.
    cmd("merge", &tiny(), out.path())
        .arg("--partial")
        .assert()
        .success()
        .stdout(predicate::str::contains("merged 3 of 4 shards"))
        .stderr(predicate::str::contains("partial"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(emb(out.path()).join("Real World.json")).unwrap())
            .unwrap();
    assert!(json["fingerprint"]
        .as_str()
        .unwrap()
        .starts_with("partial-"));
    // The last shard, then a full merge replaces the partial files: same bytes as one process.
    shard(out.path(), &tiny(), 2, 4);
    cmd("merge", &tiny(), out.path()).assert().success();
    let one = tempfile::tempdir().unwrap();
    single(one.path());
    assert!(result_files(&emb(out.path())) == result_files(&emb(one.path())));
    // Re-running a finished shard reuses it.
    cmd("embed", &tiny(), out.path())
        .args(["--shard", "2/4"])
        .assert()
        .success()
        .stderr(predicate::str::contains("(cached)"));
}

#[test]
fn shards_of_another_model_are_refused() {
    // The model file retrained in place (one metadata byte differs): the same path, so the same
    // output name, but another sha256. (Another file with the same name gets its own folder: see
    // tests/commands.rs, models_with_the_same_file_name_get_their_own_folders.)
    let model_dir = tempfile::tempdir().unwrap();
    let model = model_dir.path().join("tiny.onnx");
    let first = std::fs::read(tiny()).unwrap();
    let mut retrained = first.clone();
    let at = retrained
        .windows(8)
        .position(|w| w == b"tiny_cnn")
        .expect("the fixture names its architecture");
    retrained[at + 7] = b'm';

    let out = tempfile::tempdir().unwrap();
    std::fs::write(&model, &first).unwrap();
    for i in 0..2 {
        shard(out.path(), &model, i, 2);
    }
    std::fs::write(&model, &retrained).unwrap();
    cmd("merge", &model, out.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("made by another model file"))
        .stderr(predicate::str::contains("1-of-2").or(predicate::str::contains("0-of-2")));
    // One shard redone with the retrained model: two embeds' shards side by side.
    shard(out.path(), &model, 1, 2);
    std::fs::write(&model, &first).unwrap();
    cmd("merge", &model, out.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("belongs to another embed"));
}

#[test]
fn duplicate_and_overlapping_shards_are_refused() {
    let out = tempfile::tempdir().unwrap();
    for i in 0..4 {
        shard(out.path(), &tiny(), i, 4);
    }
    let shards = emb(out.path()).join("shards");
    // Shard 0 copied over shard 1's folder: two copies of the same rows.
    std::fs::remove_dir_all(shards.join("1-of-4")).unwrap();
    copy_tree(&shards.join("0-of-4"), &shards.join("1-of-4"));
    cmd("merge", &tiny(), out.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "is shard 0/4 but lies in the folder of shard 1/4",
        ));
    // Shards of a 2-way split of the same inputs beside the 4-way ones: rows covered twice.
    std::fs::remove_dir_all(shards.join("1-of-4")).unwrap();
    shard(out.path(), &tiny(), 1, 4);
    shard(out.path(), &tiny(), 0, 2);
    cmd("merge", &tiny(), out.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("belongs to another embed"));
    // A shard whose arrays were swapped for another shard's rows.
    std::fs::remove_dir_all(shards.join("0-of-2")).unwrap();
    std::fs::copy(
        shards.join("0-of-4/Art.npz"),
        shards.join("3-of-4/Real World.npz"),
    )
    .unwrap();
    cmd("merge", &tiny(), out.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("Real World.npz"));
    assert!(result_files(&emb(out.path())).is_empty(), "nothing merged");
}

#[test]
fn shard_auto_reads_slurm_and_kubernetes_and_names_what_is_missing() {
    let out = tempfile::tempdir().unwrap();
    cmd("embed", &tiny(), out.path())
        .args(["--shard", "auto"])
        .env("SLURM_JOB_ID", "9")
        .env("SLURM_ARRAY_TASK_ID", "4")
        .env("SLURM_ARRAY_TASK_MIN", "1")
        .env("SLURM_ARRAY_TASK_MAX", "4")
        .env("SLURM_ARRAY_TASK_COUNT", "4")
        .assert()
        .success()
        .stdout(predicate::str::contains("shard 3/4: embedded"));
    assert!(emb(out.path()).join("shards/3-of-4/shard.json").is_file());
    cmd("embed", &tiny(), out.path())
        .args(["--shard", "auto"])
        .env("JOB_COMPLETION_INDEX", "1")
        .env("DANNSCOPE_SHARD_COUNT", "4")
        .assert()
        .success()
        .stdout(predicate::str::contains("shard 1/4: embedded"));
    // Errors come before any work: nothing is written.
    let empty = tempfile::tempdir().unwrap();
    cmd("embed", &tiny(), empty.path())
        .args(["--shard", "auto"])
        .env("JOB_COMPLETION_INDEX", "1")
        .assert()
        .failure()
        .stderr(predicate::str::contains("DANNSCOPE_SHARD_COUNT"));
    cmd("embed", &tiny(), empty.path())
        .args(["--shard", "auto"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("neither SLURM_ARRAY_TASK_ID"));
    cmd("embed", &tiny(), empty.path())
        .args(["--shard", "4/4"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("below 4"));
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
    // Merging with nothing there says what is expected.
    cmd("merge", &tiny(), empty.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("no finished shard"));
}
