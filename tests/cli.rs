//! The command line as a user meets it: help with examples, the main commands, and error messages.

mod common;

use assert_cmd::Command;
use common::{fixtures, temp_files, with_metadata};
use predicates::prelude::*;

fn dannscope() -> Command {
    let mut c = Command::cargo_bin("dannscope").unwrap();
    c.env_remove("ORT_DYLIB_PATH");
    c
}

/// A command that cannot find ONNX Runtime (no python package, no library folders).
fn without_ort() -> Command {
    let mut c = dannscope();
    c.env("DANNSCOPE_PYTHON", "/nonexistent/python3")
        .env("LD_LIBRARY_PATH", "");
    c
}

#[test]
fn every_subcommand_help_shows_an_example() {
    for sub in [
        "split", "embed", "eval", "tsne", "curves", "report", "demo", "compare", "select",
    ] {
        dannscope().args([sub, "--help"]).assert().success().stdout(
            predicate::str::contains("Example:")
                .and(predicate::str::contains(format!("dannscope {sub}"))),
        );
    }
}

#[test]
fn embed_writes_numpy_files_and_reuses_them() {
    let out = tempfile::tempdir().unwrap();
    let data = fixtures().join("data");
    let model = fixtures().join("models/tiny.onnx");
    let run = || {
        without_ort()
            .args(["embed", "--model"])
            .arg(&model)
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(out.path())
            .args(["--split", "valid", "--domains", "R"])
            .assert()
            .success()
    };
    run()
        .stderr(predicate::str::contains(
            "using the pure-Rust engine (tract)",
        ))
        .stderr(predicate::str::contains("engine: tract"))
        .stderr(predicate::str::contains("skipped README.txt"))
        .stdout(predicate::str::contains(
            "embedded 8 images (0 skipped) of 1 domain",
        ));
    let dir = out.path().join("embeddings/tiny/valid");
    assert!(dir.join("Real World.npz").is_file() && dir.join("Real World.json").is_file());
    assert!(!dir.join("Art.npz").exists());
    run().stderr(predicate::str::contains("(cached)"));
    assert!(temp_files(out.path()).is_empty());
}

#[test]
fn a_broken_model_is_refused_before_any_image_is_read() {
    let out = tempfile::tempdir().unwrap();
    for (model, want) in [
        (
            "wrong_rank.onnx",
            "must have rank 4 [N, 3, H, W], found rank 3",
        ),
        ("truncated.onnx", "truncated.onnx"),
    ] {
        without_ort()
            .args(["embed", "--model"])
            .arg(fixtures().join("models").join(model))
            .args(["--data", "/nonexistent/data", "--out"])
            .arg(out.path())
            .assert()
            .failure()
            .stderr(predicate::str::contains(want))
            .stderr(predicate::str::contains("/nonexistent/data").not());
    }
    assert!(!out.path().join("embeddings").exists());
}

#[test]
fn bad_arguments_get_clear_errors() {
    dannscope()
        .args(["embed", "--model", "m.onnx", "--engine", "gpu"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("expected auto, ort or tract"));
    dannscope()
        .args(["embed", "--model", "m.onnx", "--batch-size", "0"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--batch-size"));
    let out = tempfile::tempdir().unwrap();
    without_ort()
        .args(["embed", "--model"])
        .arg(fixtures().join("models/tiny.onnx"))
        .arg("--data")
        .arg(fixtures().join("data"))
        .arg("--out")
        .arg(out.path())
        .args(["--domains", "X"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("unknown domain \"X\"")
                .and(predicate::str::contains("R (Real World)")),
        );
    // A manifest with a missing column names the file and the line.
    let m = out.path().join("m.csv");
    std::fs::write(
        &m,
        "path,domain,split\nArt/Circle/circle_00.png,Art,train\n",
    )
    .unwrap();
    without_ort()
        .args(["embed", "--model"])
        .arg(fixtures().join("models/tiny.onnx"))
        .arg("--data")
        .arg(fixtures().join("data"))
        .arg("--manifest")
        .arg(&m)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "m.csv:1: expected the header path,domain,class,split",
        ));
    // The demo's --out naming a file is refused before anything is written, and the file is kept.
    dannscope()
        .args(["demo", "--out"])
        .arg(&m)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "m.csv: is a file; the demo writes a folder there",
        ));
    assert!(std::fs::read_to_string(&m)
        .unwrap()
        .starts_with("path,domain,split"));
}

#[test]
fn split_writes_and_updates_a_manifest() {
    let out = tempfile::tempdir().unwrap();
    let m = out.path().join("splits.csv");
    let run = || {
        dannscope()
            .args(["split", "--data"])
            .arg(fixtures().join("data"))
            .arg("--out")
            .arg(&m)
            .args(["--seed", "3"])
            .assert()
            .success()
    };
    run().stdout(predicate::str::contains(
        "64 images: 40 train, 16 valid, 8 test; seed 3",
    ));
    let first = std::fs::read_to_string(&m).unwrap();
    assert!(first.starts_with("path,domain,class,split\n"));
    run().stderr(predicate::str::contains("64 kept, 0 added, 0 removed"));
    assert_eq!(std::fs::read_to_string(&m).unwrap(), first);
}

#[test]
fn config_file_supplies_defaults_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("dannscope.toml");
    std::fs::write(
        &cfg,
        format!(
            "data = {:?}\nmodel = {:?}\nout = \"from-config\"\nsplit = \"test\"\n",
            fixtures().join("data"),
            fixtures().join("models/tiny.onnx")
        ),
    )
    .unwrap();
    without_ort()
        .current_dir(dir.path())
        .args(["embed", "--domains", "A"])
        .assert()
        .success();
    assert!(dir
        .path()
        .join("from-config/embeddings/tiny/test/Art.npz")
        .is_file());
    without_ort()
        .current_dir(dir.path())
        .args([
            "embed",
            "--domains",
            "A",
            "--out",
            "from-flag",
            "--split",
            "valid",
        ])
        .assert()
        .success();
    assert!(dir
        .path()
        .join("from-flag/embeddings/tiny/valid/Art.npz")
        .is_file());
}

#[test]
fn eval_writes_the_tables_and_they_agree_with_the_arrays() {
    let out = tempfile::tempdir().unwrap();
    without_ort()
        .args(["eval", "--model"])
        .arg(fixtures().join("models/tiny.onnx"))
        .arg("--data")
        .arg(fixtures().join("data"))
        .arg("--out")
        .arg(out.path())
        .args(["--split", "all", "--bootstrap", "200"])
        .assert()
        .success()
        // The model names its pair (Real World → Art) in its metadata.
        .stdout(
            predicate::str::contains("pair R-A").and(predicate::str::contains("silhouette_joint")),
        );
    let dir = out.path().join("metrics/tiny/all");
    let cls = std::fs::read_to_string(dir.join("classification.csv")).unwrap();
    let mut lines = cls.lines();
    assert_eq!(
        lines.next().unwrap(),
        "model,split,domain,n,accuracy,auroc,accuracy_ci_low,accuracy_ci_high,auroc_ci_low,auroc_ci_high"
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        // Accuracy recomputed from the stored logits (argmax) and labels.
        let d = dannscope::store::read_domain(&out.path().join("embeddings/tiny/all"), &row[2])
            .unwrap();
        let logits = d.logits.unwrap();
        let correct = logits
            .view()
            .outer_iter()
            .zip(d.label.iter())
            .filter(|(l, &y)| {
                let best = (0..l.len()).fold(0, |b, j| if l[j] > l[b] { j } else { b });
                best as i64 == y
            })
            .count();
        let acc: f64 = row[4].parse().unwrap();
        assert!(
            (acc - correct as f64 / logits.nrows() as f64).abs() < 1e-12,
            "{row:?}"
        );
        let (lo, hi): (f64, f64) = (row[6].parse().unwrap(), row[7].parse().unwrap());
        assert!(lo <= acc && acc <= hi, "interval {lo}..{hi} around {acc}");
    }
    let coh = std::fs::read_to_string(dir.join("cohesion.csv")).unwrap();
    assert!(coh.starts_with("model,split,pair,metric,value\n"));
    assert_eq!(coh.lines().filter(|l| l.contains(",R-A,")).count(), 11);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(
        json["domains"][0]["classification"]["confusion"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn eval_of_an_embedding_only_model_skips_classification() {
    let out = tempfile::tempdir().unwrap();
    without_ort()
        .args(["eval", "--model"])
        .arg(fixtures().join("models/embedding_only.onnx"))
        .arg("--data")
        .arg(fixtures().join("data"))
        .arg("--out")
        .arg(out.path())
        .args(["--split", "all", "--pair", "A-R"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "no logits; accuracy and AUROC are skipped",
        ));
    let coh = std::fs::read_to_string(out.path().join("metrics/embedding_only/all/cohesion.csv"))
        .unwrap();
    assert!(
        coh.contains("A-R,silhouette_joint,0.") || coh.contains("A-R,silhouette_joint,-0."),
        "{coh}"
    );
    assert!(coh.contains("A-R,snd,\n"), "snd needs logits: {coh}");
}

#[test]
fn report_marks_a_broken_run_and_agrees_with_the_metrics_files() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = fixtures().join("models/tiny.onnx");
    std::fs::write(
        dir.path().join("dannscope.toml"),
        format!(
            "data = {:?}\nout = \"out\"\nsplit = \"all\"\n\n\
             [[run]]\nmodel = {:?}\npair = \"R-A\"\nname = \"tiny\"\n\n\
             [[run]]\nmodel = \"missing.onnx\"\npair = \"A-R\"\nname = \"gone\"\ngroup = \"reversed\"\n",
            fixtures().join("data"),
            tiny
        ),
    )
    .unwrap();
    without_ort()
        .current_dir(dir.path())
        .args(["report", "--bootstrap", "50"])
        .assert()
        // Every run is finished and the report written, then the status says that a run failed.
        .code(3)
        .stderr(predicate::str::contains("1 of 2 runs failed"))
        .stderr(predicate::str::contains("gone A-R"))
        .stdout(predicate::str::contains("report: out/report/index.html"));
    let report = dir.path().join("out/report");
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    dannscope::report::check_self_contained(&html).unwrap();
    assert!(
        html.contains("missing.onnx"),
        "the broken run is named in the report"
    );
    // The deck is written next to the page (its content: tests/report_pptx.rs).
    let deck = std::fs::read(report.join("report.pptx")).unwrap();
    assert!(
        deck.starts_with(b"PK\x03\x04"),
        "report.pptx is a zip package"
    );
    // The finished run's explore page sits next to index.html and is linked from its section.
    let page = std::fs::read_to_string(report.join("explore-tiny-r-a.html")).unwrap();
    dannscope::report::check_self_contained(&page).unwrap();
    assert!(html.contains("href=\"explore-tiny-r-a.html\""));
    // The discriminator's outputs are stored with the embeddings (tiny.onnx has `domain_logits`).
    let d =
        dannscope::store::read_domain(&dir.path().join("out/embeddings/tiny/all"), "Art").unwrap();
    assert_eq!(
        d.domain_logits.as_ref().map(|x| x.len()),
        Some(d.embedding.nrows())
    );
    // Every number in results.csv equals the one in the run's metrics.json.
    let m = dannscope::pipeline::eval::read(&dir.path().join("out/metrics/tiny/all")).unwrap();
    let csv = std::fs::read_to_string(report.join("results.csv")).unwrap();
    let mut checked = 0;
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (domain, metric, value) = (f[3], f[4], f[5]);
        let want = if domain == "pair" {
            let c = &m.pairs[0].cohesion;
            let bound = |key: &str, upper: bool| {
                let iv = c.get(key)?.interval.as_ref()?;
                Some(if upper { iv.upper } else { iv.lower })
            };
            match (
                metric.strip_suffix("_ci_low"),
                metric.strip_suffix("_ci_high"),
            ) {
                (Some(key), _) => bound(key, false),
                (_, Some(key)) => bound(key, true),
                _ => c.value(metric),
            }
        } else {
            let c = m.domain(domain).unwrap().classification.as_ref().unwrap();
            match metric {
                "accuracy" => Some(c.accuracy),
                "auroc" => c.auroc,
                _ => continue,
            }
        };
        let got: Option<f64> = if value.is_empty() {
            None
        } else {
            Some(value.parse().unwrap())
        };
        assert_eq!(got, want, "{line}");
        checked += 1;
    }
    assert!(checked >= 4 + 11, "only {checked} values checked");
}

#[test]
fn tsne_maps_source_and_target_jointly_and_reproducibly() {
    let out = tempfile::tempdir().unwrap();
    let run = || {
        without_ort()
            .args(["tsne", "--pair", "R-A", "--model"])
            .arg(fixtures().join("models/tiny.onnx"))
            .arg("--data")
            .arg(fixtures().join("data"))
            .arg("--out")
            .arg(out.path())
            .args(["--split", "all", "--seed", "5"])
            .assert()
            .success()
    };
    run().stderr(predicate::str::contains("perplexity reduced"));
    let base = out.path().join("tsne/tiny/all/R-A");
    let npz = base.with_extension("npz");
    let mut z = ndarray_npy::NpzReader::new(std::fs::File::open(&npz).unwrap()).unwrap();
    let coords: ndarray::Array2<f32> = z.by_name("coords").unwrap();
    let domain: ndarray::Array1<i64> = z.by_name("domain").unwrap();
    // One map for both domains: 32 source rows, then 32 target rows.
    assert_eq!(coords.dim(), (64, 2));
    assert!(domain.iter().take(32).all(|&d| d == 0) && domain.iter().skip(32).all(|&d| d == 1));
    let csv = std::fs::read_to_string(base.with_extension("csv")).unwrap();
    assert_eq!(csv.lines().count(), 65);
    assert!(csv.starts_with("x,y,domain,role,label,class,row,path\n"));
    let png = image::open(base.with_extension("png")).unwrap();
    assert!(png.width() >= 1600, "PNG is {} px wide", png.width());
    let svg = std::fs::read_to_string(base.with_extension("svg")).unwrap();
    assert!(roxmltree::Document::parse(&svg).is_ok());
    // Same inputs and seed: the same coordinates, byte for byte (after removing the cached map).
    let first = std::fs::read(&npz).unwrap();
    std::fs::remove_file(base.with_extension("json")).unwrap();
    run().stdout(predicate::str::contains("mapped 64 points"));
    assert_eq!(std::fs::read(&npz).unwrap(), first);
    run().stdout(predicate::str::contains("reused the map"));
}

#[test]
fn eval_writes_the_per_class_transfer_and_its_heat_map() {
    let out = tempfile::tempdir().unwrap();
    without_ort()
        .args(["eval", "--model"])
        .arg(fixtures().join("models/tiny.onnx"))
        .arg("--data")
        .arg(fixtures().join("data"))
        .arg("--out")
        .arg(out.path())
        .args(["--split", "all", "--bootstrap", "0"])
        .assert()
        .success();
    let dir = out.path().join("metrics/tiny/all");
    let t = std::fs::read_to_string(dir.join("transfer.csv")).unwrap();
    assert!(t.starts_with("model,split,pair,class_index,class,n_source,n_target,"));
    // one row per class of the pair
    assert_eq!(t.lines().filter(|l| l.contains(",R-A,")).count(), 4, "{t}");
    let m = std::fs::read_to_string(dir.join("misalignment.csv")).unwrap();
    assert_eq!(m.lines().filter(|l| l.contains(",R-A,")).count(), 16, "{m}");
    let r = dannscope::pipeline::eval::read(&dir).unwrap();
    let tr = &r.transfer[0].transfer;
    let n_target: u64 = tr.misalignment.iter().flatten().sum();
    assert_eq!(n_target as usize, r.domain("Art").unwrap().n);
    for ext in ["svg", "png"] {
        assert!(out
            .path()
            .join(format!("tsne/tiny/all/R-A_misalignment.{ext}"))
            .is_file());
    }
}

#[test]
fn compare_of_a_model_with_its_copy_finds_no_difference() {
    let out = tempfile::tempdir().unwrap();
    let copy = out.path().join("tiny_copy.onnx");
    std::fs::copy(fixtures().join("models/tiny.onnx"), &copy).unwrap();
    without_ort()
        .args(["compare", "--model"])
        .arg(fixtures().join("models/tiny.onnx"))
        .arg("--model")
        .arg(&copy)
        .arg("--data")
        .arg(fixtures().join("data"))
        .arg("--out")
        .arg(out.path())
        .args(["--split", "all", "--bootstrap", "50", "--pair", "R-A"])
        .assert()
        .success()
        .stdout(predicate::str::contains("p = 1.0000"));
    let base = out.path().join("compare/tiny_vs_tiny_copy/all/R-A");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(base.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(j["difference"], 0.0);
    assert_eq!(j["fixed"].as_array().unwrap().len(), 0);
    assert_eq!(j["broken"].as_array().unwrap().len(), 0);
    for o in j["space_overlap"].as_array().unwrap() {
        assert_eq!(o["mean_jaccard"], 1.0, "{o}");
    }
    let csv = std::fs::read_to_string(base.with_extension("csv")).unwrap();
    assert!(csv.starts_with(
        "model_a,model_b,split,pair,class_index,class,n,accuracy_a,accuracy_b,delta\n"
    ));
    // exactly two models
    without_ort()
        .args(["compare", "--model"])
        .arg(&copy)
        .arg("--out")
        .arg(out.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("exactly two models"));
}

#[test]
fn select_scores_every_checkpoint_without_target_labels() {
    let out = tempfile::tempdir().unwrap();
    let ck = out.path().join("ck");
    // The same weights as two checkpoints of one run (epochs 1 and 2).
    for (name, epoch) in [("a.onnx", "1"), ("b.onnx", "2")] {
        with_metadata(
            &fixtures().join("models/tiny.onnx"),
            &ck.join(name),
            &[("dannscope.epoch", Some(epoch))],
        );
    }
    let run = |extra: &[&str]| {
        without_ort()
            .args(["select", "--model"])
            .arg(&ck)
            .arg("--data")
            .arg(fixtures().join("data"))
            .arg("--out")
            .arg(out.path())
            .args(["--split", "all", "--pair", "R-A", "--resamples", "40"])
            .args(extra)
            .assert()
    };
    run(&[])
        .success()
        .stdout(predicate::str::contains("class_ami"))
        .stdout(predicate::str::contains("ClassAMI start label-centers"))
        .stdout(predicate::str::contains("tie: epochs 1, 2"))
        .stdout(predicate::str::contains(
            "DEV: discriminator held-out accuracy",
        ));
    let base = out.path().join("select/b/all/R-A");
    let read = |ext: &str| std::fs::read_to_string(base.with_extension(ext)).unwrap();
    let csv = read("csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "epoch,model,true_accuracy,entropy,im,snd,bnm,class_ami,dev,atc_mc,atc_ne,\
         dev_discriminator_accuracy,dev_ess,dev_small_ess,not_informative"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2);
    // the same weights twice: the same scores
    assert_eq!(
        rows[0].split_once(",a,").unwrap().1,
        rows[1].split_once(",b,").unwrap().1
    );
    // ... so every informative validator ties, picks the earlier epoch, and does so in every
    // resample (both epochs see the same resampled images)
    let json: serde_json::Value = serde_json::from_str(&read("json")).unwrap();
    assert_eq!(json["settings"]["class_ami_init"], "label-centers");
    assert_eq!(json["resamples"], 40);
    for v in json["summary"].as_array().unwrap() {
        if v["picked_epoch"].is_null() {
            continue;
        }
        assert_eq!(v["picked_epoch"], 1, "{v}");
        assert_eq!(v["tied_epochs"], serde_json::json!([1, 2]), "{v}");
        assert_eq!(v["stability"]["pick_share"], 1.0, "{v}");
        assert_eq!(v["stability"]["flips"], false, "{v}");
    }
    let dev = &json["epochs"][0]["validators"][5];
    assert_eq!(dev["name"], "dev");
    if let Some(d) = dev.get("dev") {
        let ess = d["ess"].as_f64().unwrap();
        assert!(
            ess >= 1.0 && ess <= d["n_validation"].as_f64().unwrap(),
            "{d}"
        );
        assert_eq!(d["folds"], 3);
    }
    let summary = std::fs::read_to_string(out.path().join("select/b/all/R-A_summary.csv")).unwrap();
    assert!(
        summary.starts_with("validator,setting,spearman,n_epochs,picked_epoch"),
        "{summary}"
    );
    assert!(
        summary.contains("class_ami,init label-centers,"),
        "{summary}"
    );
    assert!(summary.contains("dev,3 folds,"), "{summary}");
    assert!(out.path().join("select/b/all/R-A.png").is_file());
    // seeded: a second run writes the same JSON; another start is recorded as such
    let first = read("json");
    run(&[]).success();
    assert_eq!(read("json"), first);
    run(&["--class-ami-init", "kmeans++", "--dev-folds", "4"]).success();
    let json: serde_json::Value = serde_json::from_str(&read("json")).unwrap();
    assert_eq!(json["settings"]["class_ami_init"], "kmeans++");
    assert_eq!(json["settings"]["dev"]["folds"], 4);
    // bad values are command-line errors
    run(&["--dev-folds", "1"]).code(2);
    run(&["--class-ami-init", "random"])
        .code(2)
        .stderr(predicate::str::contains("label-centers or kmeans++"));
}

#[test]
fn report_compares_a_run_with_its_baseline_and_shows_galleries_and_the_discriminator() {
    let dir = tempfile::tempdir().unwrap();
    // The same network under another name as the baseline: the comparison must find no difference.
    let tiny = fixtures().join("models/tiny.onnx");
    let twin = dir.path().join("tiny_twin.onnx");
    std::fs::copy(&tiny, &twin).unwrap();
    std::fs::write(
        dir.path().join("dannscope.toml"),
        format!(
            "data = {:?}\nout = \"out\"\nsplit = \"all\"\n\n\
             [[run]]\nmodel = {:?}\npair = \"R-A\"\nname = \"tiny\"\n\n\
             [[run]]\nmodel = {:?}\npair = \"R-A\"\nname = \"tiny · source only\"\ngroup = \"baseline\"\n",
            fixtures().join("data"),
            tiny,
            twin
        ),
    )
    .unwrap();
    without_ort()
        .current_dir(dir.path())
        .args(["report", "--bootstrap", "50"])
        .assert()
        .success();
    let report = dir.path().join("out/report");
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    dannscope::report::check_self_contained(&html).unwrap();
    for part in [
        "<h4>Per-class transfer</h4>",
        "Misalignment: target class",
        "<h4>Against the source-only baseline</h4>",
        "What adaptation changes (1 of 2): target accuracy",
        "<h4>Confidently wrong target images</h4>",
        "<h4>Most typical image per class (medoids)</h4>",
        "<h4>Domain discriminator</h4>",
        "href=\"gallery-tiny-r-a.csv\"",
        "data:image/jpeg;base64,",
    ] {
        assert!(html.contains(part), "index.html lacks {part}");
    }
    // Identical models: no difference, nothing fixed or broken, McNemar p = 1, identical neighbourhoods.
    assert!(
        html.contains("difference <strong>0.0</strong> points"),
        "the twin baseline must give a zero difference"
    );
    assert!(html.contains(
        "McNemar exact p = 1.0000 (0 images right only with this model, 0 only with the baseline)"
    ));
    let cmp: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join("out/compare/tiny_twin_vs_tiny/all/R-A.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(cmp["difference"].as_f64(), Some(0.0));
    for o in cmp["space_overlap"].as_array().unwrap() {
        assert_eq!(o["mean_jaccard"].as_f64(), Some(1.0), "{o}");
    }
    // The gallery CSV: every path exists under the data root, neighbours are source (Real World)
    // images, wrong images are target (Art) images, medoids one per class and domain at most.
    let csv = std::fs::read_to_string(report.join("gallery-tiny-r-a.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("section,rank,neighbour,domain,path,class,predicted,confidence,distance,neighbour_of")
    );
    let (mut medoids, mut rows) = (0, 0);
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert!(fixtures().join("data").join(f[4]).is_file(), "{line}");
        match f[0] {
            "wrong" => assert_eq!(f[3], "Art", "{line}"),
            "neighbour" => assert_eq!(f[3], "Real World", "{line}"),
            "source_medoid" | "target_medoid" => medoids += 1,
            other => panic!("unknown section {other}"),
        }
        if f[0] == "wrong" {
            assert_ne!(f[5], f[6], "a wrong image has another prediction: {line}");
        }
        rows += 1;
    }
    assert!(medoids > 0 && medoids <= 8, "{medoids} medoids");
    assert!(rows >= medoids);
    // The report's markdown carries the same parts.
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(md.contains("#### Per-class transfer"));
    assert!(md.contains("**Against the source-only baseline** (tiny · source only)"));
    assert!(md.contains("**Domain discriminator**: AUROC target vs source"));
    // From scratch on one thread: the same bytes (galleries, comparison, discriminator included).
    std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    without_ort()
        .current_dir(dir.path())
        .env("RAYON_NUM_THREADS", "1")
        .args(["report", "--bootstrap", "50"])
        .assert()
        .success();
    for f in ["index.html", "gallery-tiny-r-a.csv", "report.md"] {
        let again = std::fs::read_to_string(report.join(f)).unwrap();
        let first = match f {
            "index.html" => &html,
            "gallery-tiny-r-a.csv" => &csv,
            _ => &md,
        };
        assert!(
            again == *first,
            "{f} differs between a run on all threads and one on one thread"
        );
    }
}

#[test]
fn tsne_place_target_adds_the_placed_view_and_keeps_the_joint_map() {
    let out = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        without_ort()
            .args(["tsne", "--pair", "R-A", "--model"])
            .arg(fixtures().join("models/tiny.onnx"))
            .arg("--data")
            .arg(fixtures().join("data"))
            .arg("--out")
            .arg(out.path())
            .args(["--split", "all", "--seed", "5"])
            .args(extra)
            .assert()
            .success()
    };
    run(&[]);
    let base = out.path().join("tsne/tiny/all/R-A");
    let joint = std::fs::read(base.with_extension("npz")).unwrap();
    let placed = out.path().join("tsne/tiny/all/R-A_placed");
    assert!(!placed.with_extension("npz").exists());
    run(&["--place-target"]).stdout(predicate::str::contains("placed the target"));
    // The joint map is untouched; the placed view has its own files.
    assert_eq!(std::fs::read(base.with_extension("npz")).unwrap(), joint);
    let mut z =
        ndarray_npy::NpzReader::new(std::fs::File::open(placed.with_extension("npz")).unwrap())
            .unwrap();
    let coords: ndarray::Array2<f32> = z.by_name("coords").unwrap();
    let domain: ndarray::Array1<i64> = z.by_name("domain").unwrap();
    assert_eq!(coords.dim(), (64, 2));
    assert!(domain.iter().take(32).all(|&d| d == 0) && domain.iter().skip(32).all(|&d| d == 1));
    assert!(coords.iter().all(|v| v.is_finite()));
    let svg = std::fs::read_to_string(placed.with_extension("svg")).unwrap();
    assert!(svg.contains("target placed on the source map"));
    assert!(svg.contains("the joint map is the honest view"));
    assert!(placed.with_extension("png").exists() && placed.with_extension("csv").exists());
    // Same inputs and seed: the same placed coordinates, byte for byte.
    let first = std::fs::read(placed.with_extension("npz")).unwrap();
    run(&["--place-target"]);
    assert_eq!(std::fs::read(placed.with_extension("npz")).unwrap(), first);
}
