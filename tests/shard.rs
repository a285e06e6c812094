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

/// What a finished command wrote to stderr.
fn stderr_of(a: assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// The commands an error or warning offers (`  run: …` lines).
fn run_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("run: "))
        .map(str::to_string)
        .collect()
}

/// The environment of a task of `sbatch --array=<ids>` (task `id` of `count`, from `min` to `max`).
fn slurm_task(c: &mut Command, id: usize, min: usize, max: usize, count: usize) -> &mut Command {
    c.env("SLURM_JOB_ID", "41")
        .env("SLURM_ARRAY_JOB_ID", "40")
        .env("SLURM_ARRAY_TASK_ID", id.to_string())
        .env("SLURM_ARRAY_TASK_MIN", min.to_string())
        .env("SLURM_ARRAY_TASK_MAX", max.to_string())
        .env("SLURM_ARRAY_TASK_COUNT", count.to_string())
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
    let err = stderr_of(
        cmd("merge", &tiny(), out.path())
            .assert()
            .failure()
            .stderr(predicate::str::contains("shard 2/4 is not finished;")),
    );
    assert!(result_files(&emb(out.path())).is_empty(), "nothing merged");
    // The command to run it: this merge's command line as an embed of shard 2/4.
    let run = run_lines(&err);
    assert_eq!(run.len(), 1, "{err}");
    assert!(
        run[0].contains(" embed ") && run[0].ends_with("--shard 2/4") && !run[0].contains("merge"),
        "{err}"
    );
    // A partial merge writes what is there, never taken for a finished embed, and says what it
    // leaves out: the images that a single process embeds and the partial files lack.
    let one = tempfile::tempdir().unwrap();
    single(one.path());
    let rows = |dir: &Path| -> usize {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("Real World.json")).unwrap()).unwrap();
        json["n"].as_u64().unwrap() as usize + json["skipped"].as_array().unwrap().len()
    };
    let err = stderr_of(
        cmd("merge", &tiny(), out.path())
            .arg("--partial")
            .assert()
            .success()
            .stdout(predicate::str::contains("merged 3 of 4 shards")),
    );
    let left_out = rows(&emb(one.path())) - rows(&emb(out.path()));
    assert!(left_out > 0);
    assert!(
        err.contains(&format!(
            "warning: partial merge: shard 2/4 left out ({left_out} images of Real World); the \
             merged files lack those rows"
        )),
        "{err}"
    );
    assert_eq!(run_lines(&err), run, "{err}");
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
    // Shard 0 of a 2-way split of the same inputs (embedded elsewhere, then copied) beside the 4-way
    // ones: rows covered twice. The merge names the one cause.
    std::fs::remove_dir_all(shards.join("1-of-4")).unwrap();
    shard(out.path(), &tiny(), 1, 4);
    let two = tempfile::tempdir().unwrap();
    shard(two.path(), &tiny(), 0, 2);
    copy_tree(
        &emb(two.path()).join("shards/0-of-2"),
        &shards.join("0-of-2"),
    );
    let err = stderr_of(cmd("merge", &tiny(), out.path()).assert().failure());
    assert!(
        err.contains("shard 0/2 belongs to another embed than the 4 other finished shards (a plan of 4 shards): it is of a plan of 2 shards")
            && err.contains("0-of-2 away"),
        "{err}"
    );
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

#[test]
fn a_resubmitted_array_task_keeps_the_plan_on_disk_or_refuses_before_computing() {
    let out = tempfile::tempdir().unwrap();
    for i in [0, 1, 3] {
        shard(out.path(), &tiny(), i, 4);
    }
    let shards = emb(out.path()).join("shards");
    let folders = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&shards)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let before = folders();
    // `sbatch --array=2 ...`: Slurm runs one task of a one-task array, shard 0/1 (the whole
    // dataset). Refused before anything is computed, naming the plan on disk and the commands.
    let mut c = cmd("embed", &tiny(), out.path());
    c.args(["--shard", "auto"]);
    let err = stderr_of(slurm_task(&mut c, 2, 2, 2, 1).assert().failure());
    assert!(
        err.contains(
            "holds shards of this embed split into 4 (finished: 0/4, 1/4, 3/4; not finished: 2/4), \
             but this task is shard 0/1, a plan of 1 shard; nothing was computed"
        ),
        "{err}"
    );
    let run = run_lines(&err);
    assert_eq!(run.len(), 2, "{err}");
    assert!(
        run[0].ends_with("--shard 2/4") && !run[0].contains("auto"),
        "{err}"
    );
    assert!(
        run[1].starts_with("DANNSCOPE_SHARD_COUNT=4 sbatch --array=2 "),
        "{err}"
    );
    assert_eq!(folders(), before, "nothing written");
    // Another explicit count is refused the same way (no Slurm: no sbatch line).
    let err = stderr_of(
        cmd("embed", &tiny(), out.path())
            .args(["--shard", "1/3"])
            .assert()
            .failure(),
    );
    assert!(err.contains("this task is shard 1/3"), "{err}");
    assert_eq!(run_lines(&err).len(), 1, "{err}");
    assert_eq!(folders(), before, "nothing written");
    // Resubmitted with the plan's count, as the refusal says: task ID 2 is shard 2/4.
    let mut c = cmd("embed", &tiny(), out.path());
    c.args(["--shard", "auto"])
        .env("DANNSCOPE_SHARD_COUNT", "4");
    slurm_task(&mut c, 2, 2, 2, 1)
        .assert()
        .success()
        .stdout(predicate::str::contains("shard 2/4: embedded"));
    cmd("merge", &tiny(), out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("merged 4 of 4 shards"));
    let one = tempfile::tempdir().unwrap();
    single(one.path());
    assert!(result_files(&emb(out.path())) == result_files(&emb(one.path())));
    // All shards of the plan finished: a task of another count is told to merge them.
    let err = stderr_of(
        cmd("embed", &tiny(), out.path())
            .args(["--shard", "0/2"])
            .assert()
            .failure(),
    );
    assert!(
        err.contains("(all 4 finished)") && err.contains("Merge those shards"),
        "{err}"
    );
}

#[test]
fn missing_shards_come_with_the_commands_that_run_them() {
    let out = tempfile::tempdir().unwrap();
    for i in [0, 3] {
        shard(out.path(), &tiny(), i, 4);
    }
    // A merge job on Slurm (after the array, whatever its outcome): the loop of embeds and the
    // array tasks to resubmit.
    let mut c = cmd("merge", &tiny(), out.path());
    c.env("SLURM_JOB_ID", "42");
    let err = stderr_of(c.assert().failure());
    assert!(
        err.contains("shards 1/4, 2/4 are not finished;") && !err.contains("started"),
        "{err}"
    );
    let run = run_lines(&err);
    assert_eq!(run.len(), 2, "{err}");
    assert!(
        run[0].starts_with("for i in 1 2; do ") && run[0].ends_with(" --shard $i/4; done"),
        "{err}"
    );
    assert!(
        run[1].starts_with("DANNSCOPE_SHARD_COUNT=4 sbatch --array=1,2 "),
        "{err}"
    );
    // A started shard (its folder, no shard.json) is told apart.
    std::fs::create_dir_all(emb(out.path()).join("shards/1-of-4")).unwrap();
    cmd("merge", &tiny(), out.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "(1/4 was started: its folder has no shard.json yet)",
        ));
    // The offered command, run as printed, finishes the plan.
    let line = run[0].clone();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(&line)
        .env_remove("SLURM_JOB_ID")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("DANNSCOPE_SHARD_COUNT")
        .output()
        .unwrap();
    assert!(status.status.success(), "{line}: {status:?}");
    cmd("merge", &tiny(), out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("merged 4 of 4 shards"));
}

/// The failure and resubmission paths of `examples/slurm/embed.sbatch` on a real Slurm cluster
/// (`scripts/slurm_check.sh`: task 2 of a 4-task array fails, the `afterany` merge names it, a plain
/// `sbatch --array=2` is refused before computing, `DANNSCOPE_SHARD_COUNT=4 sbatch --array=2` runs
/// shard 2/4, and the merge gives the bytes of one process). About 15 s on the one-node cluster of
/// `scripts/slurm_local.sh`. Skipped with a note where no cluster answers, unless
/// `DANNSCOPE_REQUIRE_SLURM=1` (CI starts one).
#[test]
fn failure_and_resubmission_on_a_real_slurm_cluster() {
    let up = std::process::Command::new("timeout")
        .args(["10", "sinfo", "-h", "-o", "%t"])
        .output()
        .map(|o| {
            let s = String::from_utf8_lossy(&o.stdout);
            o.status.success() && (s.contains("idle") || s.contains("mix"))
        })
        .unwrap_or(false);
    if !up {
        assert!(
            std::env::var("DANNSCOPE_REQUIRE_SLURM").map_or(true, |v| v != "1"),
            "DANNSCOPE_REQUIRE_SLURM=1 but no Slurm node takes jobs here (scripts/slurm_local.sh start)"
        );
        eprintln!(
            "skipped: no Slurm cluster answers here (`scripts/slurm_local.sh start` starts one)"
        );
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("bash")
        .arg(root.join("scripts/slurm_check.sh"))
        .arg(env!("CARGO_BIN_EXE_dannscope"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("FAILED"), "{text}");
    assert!(
        text.contains("merged files byte-identical to one process"),
        "{text}"
    );
}
