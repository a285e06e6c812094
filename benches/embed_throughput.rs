//! Throughput of `embed` against its bound on shared cores.
//!
//! In one process, on the same images, this measures (median of `--runs` timed runs after one warm-up
//! each, interleaved so that a change of machine load hits all three alike):
//! - `R_prep`: decode + resize + crop + normalise of every image on all cores (rayon, the
//!   [`Preprocessor`] that `embed` uses);
//! - `R_infer`: ONNX Runtime on the CPU over the pre-decoded tensors, in batches, all cores;
//! - `R_e2e`: `dannscope::pipeline::embed::run` with `force` (JPEG → ONNX Runtime → `.npz`);
//! - `R_prep` and `R_e2e` again with the opt-in fast decode (`PreprocessConfig::fast_decode`,
//!   reduced-DCT JPEG decoding) beside the default full decode.
//!
//! When preprocessing and inference share the cores, the best end-to-end rate is
//! `1 / (1/R_prep + 1/R_infer)`; the bench prints each rate, that bound and `R_e2e / bound`, and writes
//! them as JSON.
//!
//! Inputs come from `scripts/make_bench_images.py`. Run:
//! `cargo bench --bench embed_throughput -- --data outputs/bench/images --model outputs/bench/mobilenetv3_large_100.onnx`
//! (or set `DANNSCOPE_BENCH_DATA` / `DANNSCOPE_BENCH_MODEL`). Options: `--runs N` (3), `--batch N` (16),
//! `--threads N` (0 = all cores), `--json FILE`, `--spin-ab` (also time `embed` with spinning ONNX Runtime
//! workers).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use dannscope::engine::{self, Device, Engine, EngineKind, EngineOptions};
use dannscope::model::{ModelInfo, OutputOverrides};
use dannscope::pipeline::embed;
use dannscope::preprocess::{PreprocessConfig, Preprocessor};
use dannscope::project::{Project, ProjectOptions};
use rayon::prelude::*;

struct Args {
    data: PathBuf,
    model: PathBuf,
    runs: usize,
    batch: usize,
    threads: usize,
    json: Option<PathBuf>,
    spin_ab: bool,
}

fn parse_args() -> Result<Args> {
    let mut data = std::env::var_os("DANNSCOPE_BENCH_DATA").map(PathBuf::from);
    let mut model = std::env::var_os("DANNSCOPE_BENCH_MODEL").map(PathBuf::from);
    let (mut runs, mut batch, mut threads, mut json) = (3usize, 16usize, 0usize, None);
    let mut spin_ab = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = || it.next().with_context(|| format!("{a} expects a value"));
        match a.as_str() {
            "--data" => data = Some(PathBuf::from(val()?)),
            "--model" => model = Some(PathBuf::from(val()?)),
            "--runs" => runs = val()?.parse().context("--runs expects an integer")?,
            "--batch" => batch = val()?.parse().context("--batch expects an integer")?,
            "--threads" => threads = val()?.parse().context("--threads expects an integer")?,
            "--json" => json = Some(PathBuf::from(val()?)),
            "--spin-ab" => spin_ab = true,
            // `cargo bench` passes `--bench`; ignore it and any filter.
            "--bench" => {}
            other if other.starts_with("--") => bail!("unknown option {other}"),
            _ => {}
        }
    }
    let data = data.context(
        "no images: pass --data DIR or set DANNSCOPE_BENCH_DATA (make them with \
         scripts/make_bench_images.py)",
    )?;
    let model = model.context("no model: pass --model FILE or set DANNSCOPE_BENCH_MODEL")?;
    if runs == 0 || batch == 0 {
        bail!("--runs and --batch must be at least 1");
    }
    Ok(Args {
        data,
        model,
        runs,
        batch,
        threads,
        json,
        spin_ab,
    })
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("embed_throughput: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let a = parse_args()?;
    // The default (exact, full-resolution decode) and the opt-in fast decode, side by side.
    let model = ModelInfo::load(&a.model, &OutputOverrides::default())?;
    let fast_model = ModelInfo {
        preprocess: model.preprocess.clone().with_fast_decode(true),
        ..model.clone()
    };
    let out = tempfile::tempdir()?;
    let project = Project::open(
        &ProjectOptions {
            data: Some(a.data.clone()),
            out: out.path().to_path_buf(),
            ..Default::default()
        },
        0,
    )?;
    let dir =
        dannscope::layout::Layout::new(&project.out).embeddings(&dannscope::layout::StoreKey {
            model: model.stem.clone(),
            split: dannscope::split::SplitSel::All,
            fast_decode: model.preprocess.fast_decode,
        })?;
    let mut job = embed::EmbedJob::new(
        &project,
        dannscope::split::SplitSel::All,
        (0..project.domains.len()).collect(),
        dir,
    );
    job.force = true;
    job.strict = true;
    let files: Vec<PathBuf> = job
        .items
        .iter()
        .map(|i| job.data_root.join(&i.rel_path))
        .collect();
    let n = files.len();
    if n == 0 {
        bail!("{}: no images found", a.data.display());
    }
    let opts = EngineOptions {
        kind: EngineKind::Ort,
        device: Device::Cpu,
        threads: a.threads,
        batch_size: a.batch,
        ..Default::default()
    };
    let cores = engine::available_cores();
    let per = model.preprocess.tensor_len();

    // Preprocessing alone: every image on all cores, each straight into its slot of one buffer, as
    // `embed` fills its batch buffers.
    let prep = |cfg: &PreprocessConfig| -> Result<(f64, Vec<f32>)> {
        let t = Instant::now();
        let mut tensors = vec![0f32; n * per];
        tensors
            .par_chunks_mut(per)
            .zip(files.par_iter())
            .map_init(
                || Preprocessor::new(cfg.clone()),
                |p, (slot, f)| {
                    p.process_file(f, slot)
                        .with_context(|| f.display().to_string())
                },
            )
            .collect::<Result<Vec<()>>>()?;
        Ok((n as f64 / t.elapsed().as_secs_f64(), tensors))
    };
    prep(&fast_model.preprocess)?; // warm-up
    let (_, tensors) = prep(&model.preprocess)?; // warm-up (page cache) and the inference inputs

    // Inference alone, with idle ONNX Runtime workers sleeping (the engine's default) and spinning; the
    // bound takes the faster of the two.
    let open_engine = |spin: bool| -> Result<(Box<dyn Engine>, f64)> {
        std::env::set_var("DANNSCOPE_ORT_SPIN", if spin { "1" } else { "0" });
        let t = Instant::now();
        let eng = engine::open(&model, &opts);
        std::env::remove_var("DANNSCOPE_ORT_SPIN");
        Ok((eng?, t.elapsed().as_secs_f64()))
    };
    let (mut eng_sleep, open_s) = open_engine(false)?;
    let (mut eng_spin, _) = open_engine(true)?;
    let info = eng_sleep.info().clone();
    let infer = |eng: &mut Box<dyn Engine>| -> Result<f64> {
        let t = Instant::now();
        for x in tensors.chunks(a.batch * per) {
            let o = eng.run(x, x.len() / per)?;
            std::hint::black_box(&o.embedding);
        }
        Ok(n as f64 / t.elapsed().as_secs_f64())
    };
    infer(&mut eng_sleep)?; // warm-up
    infer(&mut eng_spin)?;

    let e2e = |model: &ModelInfo, spin: bool| -> Result<f64> {
        if spin {
            std::env::set_var("DANNSCOPE_ORT_SPIN", "1");
        }
        let t = Instant::now();
        let s = embed::run(&job, model, &opts, &|_| {});
        let rate = n as f64 / t.elapsed().as_secs_f64();
        std::env::remove_var("DANNSCOPE_ORT_SPIN");
        let s = s?;
        let done: usize = s.domains.iter().map(|d| d.n + d.skipped).sum();
        if done != n || s.domains.iter().any(|d| d.cached || d.skipped > 0) {
            bail!("embed did not process all {n} images: {:?}", s.domains);
        }
        Ok(rate)
    };
    e2e(&model, false)?; // warm-up
    e2e(&fast_model, false)?;

    // Interleaved rounds, so that a change of machine load hits every measurement alike.
    let (mut rp, mut ri_sleep, mut ri_spin) = (Vec::new(), Vec::new(), Vec::new());
    let (mut re, mut re_spin) = (Vec::new(), Vec::new());
    let (mut rp_fast, mut re_fast) = (Vec::new(), Vec::new());
    for r in 0..a.runs {
        rp.push(prep(&model.preprocess)?.0);
        rp_fast.push(prep(&fast_model.preprocess)?.0);
        ri_sleep.push(infer(&mut eng_sleep)?);
        ri_spin.push(infer(&mut eng_spin)?);
        re.push(e2e(&model, false)?);
        re_fast.push(e2e(&fast_model, false)?);
        if a.spin_ab {
            re_spin.push(e2e(&model, true)?);
        }
        eprintln!(
            "run {}: prep {:.1} (fast decode {:.1}), infer {:.1} (spinning {:.1}), embed {:.1} \
             (fast decode {:.1}){} images/s",
            r + 1,
            rp[r],
            rp_fast[r],
            ri_sleep[r],
            ri_spin[r],
            re[r],
            re_fast[r],
            re_spin
                .get(r)
                .map(|v| format!(" (spinning {v:.1})"))
                .unwrap_or_default()
        );
    }
    let (i_sleep, i_spin) = (median(&ri_sleep), median(&ri_spin));
    let ri = if i_spin > i_sleep {
        &ri_spin
    } else {
        &ri_sleep
    };
    let (p, i, e) = (median(&rp), median(ri), median(&re));
    let (p_fast, e_fast) = (median(&rp_fast), median(&re_fast));
    let bound = 1.0 / (1.0 / p + 1.0 / i);
    let ratio = e / bound;
    println!(
        "embed throughput: {n} images, {} cores, batch {}, {} {} ({} threads), model {}",
        cores, a.batch, info.engine, info.provider, info.threads, model.arch
    );
    println!(
        "  (opening the ONNX Runtime session took {open_s:.2} s; `embed` pays it once per run)"
    );
    println!("  R_prep   (preprocess only, all cores) {p:8.1} images/s");
    println!(
        "  R_infer  (ONNX Runtime on tensors)    {i:8.1} images/s  (best of: workers sleeping {i_sleep:.1}, spinning {i_spin:.1})"
    );
    println!("  bound    1/(1/R_prep + 1/R_infer)     {bound:8.1} images/s");
    println!("  R_e2e    (embed: JPEG → npz)          {e:8.1} images/s");
    println!(
        "  R_e2e / bound                         {:8.1} %",
        100.0 * ratio
    );
    println!(
        "  with the opt-in fast decode: R_prep {p_fast:.1} ({:.2}x), R_e2e {e_fast:.1} ({:.2}x) images/s",
        p_fast / p,
        e_fast / e
    );
    if let Some(path) = &a.json {
        let j = serde_json::json!({
            "images": n,
            "cores": cores,
            "batch": a.batch,
            "runs": a.runs,
            "engine": info,
            "model": model.arch,
            "input_size": model.preprocess.input_size,
            "session_open_s": open_s,
            "fast_decode_prep_per_s": rp_fast,
            "fast_decode_embed_per_s": re_fast,
            "prep_per_s": rp,
            "infer_per_s": ri,
            "embed_per_s": re,
            "infer_sleeping_per_s": ri_sleep,
            "infer_spinning_per_s": ri_spin,
            "embed_spinning_per_s": re_spin,
            "median": {"prep": p, "infer": i, "embed": e, "bound": bound, "embed_over_bound": ratio,
                       "prep_fast_decode": p_fast, "embed_fast_decode": e_fast},
        });
        std::fs::write(path, serde_json::to_string_pretty(&j)?)
            .with_context(|| path.display().to_string())?;
    }
    Ok(())
}
