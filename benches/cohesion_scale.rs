//! Cohesion measures at scale (plain binary: `cargo bench --bench cohesion_scale -- <command> ...`).
//!
//! - `write --out DIR --n N --d D --classes C --seed S`: seeded clustered source/target embeddings
//!   ([`clustered`]) with logits, written as a store (`Source.npz`/`.json`, `Target.npz`/`.json`) in DIR.
//!   With `--npy EMB.npy --labels L.npy --domains D.npy` instead, the rows of an existing `[N, D]`
//!   float32 embedding (e.g. `scripts/make_tsne_data.py`'s), mapped, not read: rows whose domain is
//!   below half the number of domains are the source, the others the target (no logits).
//! - `map --store DIR [--out DIR] [--max-points N]`: the joint map of the store's two domains as
//!   `dannscope tsne` makes it (store mapped; streaming PCA, neighbours, fit, coordinate files,
//!   SVG and PNG), printing the wall time of each step and the peak RSS; with
//!   `DANNSCOPE_PHASE_LOG=1`, also the fit's phases.
//! - `eval --store DIR [--out DIR] [metric flags]`: reads the store and runs what `dannscope eval` runs
//!   after embedding (classification, cohesion, per-class transfer, the CSV/JSON files), printing the
//!   wall time of each step and each cohesion measure.
//! - `accuracy --n N --d D --classes C --seeds R [--data-seed S]`: the exact measures once, then the
//!   scalable mode with seeds `0..R`; prints per measure the exact value, and over the seeds the share of
//!   intervals that cover it, the mean bias and the mean interval width.
//!
//! Metric flags: `--mode auto|exact|scalable`, `--threshold N`, `--anchors M`, `--repeats R`,
//! `--level P` (confidence level of the intervals). `accuracy` reports the coverage at `P` and, from the
//! same samples, at 0.95.

use std::path::{Path, PathBuf};
use std::time::Instant;

use dannscope::dataset::Domain;
use dannscope::metrics::cohesion::{cohesion_timed, t_quantile};
use dannscope::metrics::eval::{domain_result, pair_transfer, EvalDomain};
use dannscope::metrics::transfer::TransferParams;
use dannscope::metrics::{
    ClassificationParams, CohesionMode, CohesionParams, DomainData, ScaleParams,
};
use dannscope::model::OutputNames;
use dannscope::preprocess::{Interpolation, PreprocessConfig};
use dannscope::store::{read_domain, write_domain, DomainEmbeddings, EmbeddingRecord, ModelRecord};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn arg(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
}

fn num<T: std::str::FromStr>(args: &[String], flag: &str, default: T) -> T {
    arg(args, flag)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Seeded clustered data for one domain: `classes` classes with Zipf-like sizes; class centres shared
/// by the domains (seed `seed`), a domain offset and a per-class domain shift (seed `seed + 1 + domain`),
/// per-point scale jitter, Gaussian noise, ReLU (non-negative, like pooled CNN features). Logits are a
/// noisy linear read-out of the class centres.
pub fn clustered(
    n: usize,
    d: usize,
    classes: usize,
    seed: u64,
    domain: u64,
) -> (Array2<f32>, Array2<f32>, Array1<i64>) {
    let normal = Gauss;
    let mut g = ChaCha8Rng::seed_from_u64(seed);
    let centres = Array2::from_shape_fn((classes, d), |_| 0.6 * normal.sample(&mut g));
    let mut h = ChaCha8Rng::seed_from_u64(seed.wrapping_add(1 + domain));
    let offset: Vec<f32> = (0..d).map(|_| 0.25 * normal.sample(&mut h)).collect();
    let shift = Array2::from_shape_fn((classes, d), |_| 0.2 * normal.sample(&mut h));
    let weights: Vec<f64> = (0..classes).map(|c| 1.0 / (1.0 + c as f64 / 8.0)).collect();
    let total: f64 = weights.iter().sum();
    let mut labels = Vec::with_capacity(n);
    for (c, w) in weights.iter().enumerate() {
        let k = ((w / total) * n as f64).round() as usize;
        labels.extend(std::iter::repeat_n(c as i64, k));
    }
    labels.resize(n, 0);
    let mut x = Array2::<f32>::zeros((n, d));
    for (mut row, &y) in x.outer_iter_mut().zip(&labels) {
        let c = y as usize;
        let scale = 0.8 + 0.4 * h.gen::<f32>();
        for (j, v) in row.iter_mut().enumerate() {
            let mu = centres[[c, j]] + offset[j] + shift[[c, j]];
            *v = (scale * mu + 0.9 * normal.sample(&mut h)).max(0.0);
        }
    }
    let mut logits = Array2::<f32>::zeros((n, classes));
    for ((mut lrow, xrow), &y) in logits.outer_iter_mut().zip(x.outer_iter()).zip(&labels) {
        for (c, v) in lrow.iter_mut().enumerate() {
            let dot: f32 = xrow
                .iter()
                .zip(centres.row(c))
                .map(|(a, b)| a * b)
                .sum::<f32>()
                / (d as f32).sqrt();
            *v = dot + if c as i64 == y { 1.0 } else { 0.0 } + normal.sample(&mut h);
        }
    }
    (x, logits, Array1::from(labels))
}

/// Standard normal draws (Box-Muller).
struct Gauss;

impl Gauss {
    fn sample(&self, r: &mut ChaCha8Rng) -> f32 {
        let u: f64 = r.gen_range(f64::EPSILON..1.0);
        let v: f64 = r.gen();
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }
}

fn scale(args: &[String]) -> ScaleParams {
    let d = ScaleParams::default();
    ScaleParams {
        mode: arg(args, "--mode")
            .as_deref()
            .and_then(CohesionMode::parse)
            .unwrap_or(d.mode),
        threshold: num(args, "--threshold", d.threshold),
        anchors: num(args, "--anchors", d.anchors),
        repeats: num(args, "--repeats", d.repeats),
        level: num(args, "--level", d.level),
    }
}

fn write(args: &[String]) -> anyhow::Result<()> {
    let out = PathBuf::from(arg(args, "--out").expect("--out DIR"));
    let (n, d, c, seed) = (
        num(args, "--n", 100_000usize),
        num(args, "--d", 1280usize),
        num(args, "--classes", 65usize),
        num(args, "--seed", 0u64),
    );
    std::fs::create_dir_all(&out)?;
    let template = template();
    if let Some(emb) = arg(args, "--npy") {
        return write_from_npy(&out, Path::new(&emb), args, &template);
    }
    for (dom, name) in [(0u64, "Source"), (1, "Target")] {
        let t0 = Instant::now();
        let (x, logits, label) = clustered(n / 2, d, c, seed, dom);
        let rows: Vec<usize> = (0..x.nrows()).collect();
        let fingerprint = format!("bench-{n}-{d}-{c}-{seed}");
        let record = domain_record(&template, name, &rows, d, c, fingerprint);
        let de = DomainEmbeddings {
            embedding: x.into(),
            logits: Some(logits.into()),
            label,
            domain_logits: None,
            record,
        };
        write_domain(&out, &de)?;
        println!(
            "wrote {name}: {} x {d} in {:.1} s",
            n / 2,
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The record every bench store's domains start from.
fn template() -> EmbeddingRecord {
    EmbeddingRecord {
        format: 1,
        dannscope_version: env!("CARGO_PKG_VERSION").into(),
        domain: String::new(),
        domain_code: String::new(),
        split: "valid".into(),
        n: 0,
        dim: 0,
        n_classes: 0,
        class_names: Vec::new(),
        paths: Vec::new(),
        skipped: Vec::new(),
        model: ModelRecord {
            path: "bench.onnx".into(),
            sha256: "0".repeat(64),
            arch: "bench".into(),
            metadata: Default::default(),
            outputs: OutputNames {
                embedding: "embedding".into(),
                logits: Some("logits".into()),
                domain_logits: None,
            },
        },
        preprocess: PreprocessConfig::new(224, 0.875, Interpolation::Bilinear, [0.5; 3], [0.5; 3]),
        engine: "bench".into(),
        provider: "CPU".into(),
        batch_size: 0,
        fingerprint: String::new(),
        data_root: ".".into(),
    }
}

/// The record of domain `name` holding `rows` (named `<name>/<row>.jpg`), `d` wide, `c` classes.
fn domain_record(
    template: &EmbeddingRecord,
    name: &str,
    rows: &[usize],
    d: usize,
    c: usize,
    fingerprint: String,
) -> EmbeddingRecord {
    let mut record = template.clone();
    record.domain = name.into();
    record.domain_code = name[..1].into();
    record.n = rows.len();
    record.dim = d;
    record.n_classes = c;
    record.class_names = (0..c).map(|i| format!("class{i:03}")).collect();
    record.paths = rows.iter().map(|i| format!("{name}/{i}.jpg")).collect();
    record.fingerprint = fingerprint;
    record
}

/// `write --npy`: the source and target domains of a store from the rows of a mapped `.npy`.
fn write_from_npy(
    out: &Path,
    emb: &Path,
    args: &[String],
    template: &EmbeddingRecord,
) -> anyhow::Result<()> {
    use ndarray_npy::ViewNpyExt;
    let file = std::fs::File::open(emb)?;
    // SAFETY: the file is only read, and not changed while this process runs.
    let map = unsafe { memmap2::Mmap::map(&file)? };
    let x = ndarray::ArrayView2::<f32>::view_npy(&map)?;
    let read = |flag: &str| -> anyhow::Result<Array1<i64>> {
        let path = arg(args, flag).ok_or_else(|| anyhow::anyhow!("{flag} FILE.npy is needed"))?;
        Ok(ndarray_npy::read_npy(&path)?)
    };
    let (labels, domains) = (read("--labels")?, read("--domains")?);
    anyhow::ensure!(
        labels.len() == x.nrows() && domains.len() == x.nrows(),
        "{} rows, but {} labels and {} domains",
        x.nrows(),
        labels.len(),
        domains.len()
    );
    let n_domains = domains.iter().max().map_or(0, |&m| m + 1);
    let n_classes = labels.iter().max().map_or(0, |&m| m as usize + 1);
    let (n, d) = x.dim();
    for (is_target, name) in [(false, "Source"), (true, "Target")] {
        let t0 = Instant::now();
        let rows: Vec<usize> = (0..n)
            .filter(|&i| (2 * domains[i] >= n_domains) == is_target)
            .collect();
        let e = x.select(ndarray::Axis(0), &rows);
        let fingerprint = format!("bench-npy-{}-{n}-{d}", emb.display());
        let mut record = domain_record(template, name, &rows, d, n_classes, fingerprint);
        record.model.outputs.logits = None;
        let de = DomainEmbeddings {
            embedding: e.into(),
            logits: None,
            label: rows.iter().map(|&i| labels[i]).collect(),
            domain_logits: None,
            record,
        };
        write_domain(out, &de)?;
        println!(
            "wrote {name}: {} x {d} in {:.1} s",
            rows.len(),
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// `map`: the pair's joint map from the store, as `dannscope tsne` makes it, step by step.
fn map(args: &[String]) -> anyhow::Result<()> {
    use dannscope::pipeline::map::{draw_pair, map_pair, MapFiles};
    use dannscope::settings::{MapSettings, Seeds};
    use dannscope::tsne::TsneParams;
    let store = PathBuf::from(arg(args, "--store").expect("--store DIR"));
    let out = PathBuf::from(arg(args, "--out").unwrap_or_else(|| "/tmp/map_scale".into()));
    std::fs::create_dir_all(&out)?;
    let step = |what: &str, t: Instant| {
        println!(
            "{what}: {:.1} s (peak RSS so far {:.0} MiB)",
            t.elapsed().as_secs_f64(),
            dannscope::phase_log::peak_rss_mib().unwrap_or(f64::NAN)
        )
    };
    let t_all = Instant::now();
    let t = Instant::now();
    let s = read_domain(&store, "Source")?;
    let tg = read_domain(&store, "Target")?;
    step("read store (mapped)", t);
    let max_points = arg(args, "--max-points").and_then(|v| v.parse().ok());
    let set = MapSettings::new(TsneParams::default(), max_points)?;
    let seeds = Seeds::default();
    let domain = |name: &str, code: &str| Domain {
        name: name.into(),
        code: code.into(),
    };
    let files = MapFiles::new(&out, &domain("Source", "S"), &domain("Target", "T"))?;
    // A fresh fit every time: no earlier map is reused.
    let _ = std::fs::remove_file(files.with("json"));
    let t = Instant::now();
    let m = map_pair(&s, &tg, &files, &set, &seeds)?;
    step("fit and coordinate files", t);
    let t = Instant::now();
    draw_pair(
        &files,
        &m,
        &s.record.class_names,
        "Source",
        "Target",
        format!("{} points", m.coords.nrows()),
        None,
    )?;
    step("figure (SVG and PNG)", t);
    println!(
        "map of {} points, KL {:.4}: {:.1} s in all; files in {}",
        m.coords.nrows(),
        m.kl_divergence,
        t_all.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

fn data(e: &DomainEmbeddings) -> DomainData<'_> {
    DomainData::new(
        e.embedding.view(),
        e.logits.as_ref().map(|l| l.view()),
        e.label.view(),
    )
}

fn eval(args: &[String]) -> anyhow::Result<()> {
    let store = PathBuf::from(arg(args, "--store").expect("--store DIR"));
    let t0 = Instant::now();
    let s = read_domain(&store, "Source")?;
    let t = read_domain(&store, "Target")?;
    println!("read store: {:.1} s", t0.elapsed().as_secs_f64());
    let coh = CohesionParams::default().scale(scale(args));
    let n_classes = s.record.class_names.len();
    let (sd, td) = (data(&s), data(&t));
    let domain = |name: &str, code: &str| Domain {
        name: name.into(),
        code: code.into(),
    };
    let (sdom, tdom) = (domain("Source", "S"), domain("Target", "T"));
    let (se, te) = (
        EvalDomain {
            domain: &sdom,
            data: sd,
        },
        EvalDomain {
            domain: &tdom,
            data: td,
        },
    );
    let t1 = Instant::now();
    let cls = ClassificationParams::default();
    domain_result(&se, n_classes, &cls)?;
    domain_result(&te, n_classes, &cls)?;
    println!(
        "classification (both domains): {:.1} s",
        t1.elapsed().as_secs_f64()
    );
    let t2 = Instant::now();
    let (rep, times) = cohesion_timed(&sd, &td, &coh)?;
    for (m, secs) in rep.metrics.iter().zip(&times) {
        let iv = m
            .interval
            .as_ref()
            .map(|i| format!(" [{:.5}, {:.5}]", i.lower, i.upper))
            .unwrap_or_default();
        println!(
            "  {:<26} {:>8.1} s  {:<8} {}{iv}",
            m.name,
            secs,
            m.mode,
            m.value.map(|v| format!("{v:.5}")).unwrap_or("-".into())
        );
    }
    println!("cohesion: {:.1} s", t2.elapsed().as_secs_f64());
    let t3 = Instant::now();
    pair_transfer(&se, &te, n_classes, &TransferParams::from_cohesion(&coh))?;
    println!("per-class transfer: {:.1} s", t3.elapsed().as_secs_f64());
    println!(
        "eval total (after reading): {:.1} s",
        t1.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Per measure: name, exact value, exact seconds, and per seed (estimate, lower, upper).
type Row = (String, f64, f64, Vec<(f64, f64, f64)>);

fn accuracy(args: &[String]) -> anyhow::Result<()> {
    let (n, d, c, seeds, data_seed) = (
        num(args, "--n", 20_000usize),
        num(args, "--d", 256usize),
        num(args, "--classes", 65usize),
        num(args, "--seeds", 20u64),
        num(args, "--data-seed", 0u64),
    );
    let (xs, ls, ys) = clustered(n / 2, d, c, data_seed, 0);
    let (xt, lt, yt) = clustered(n / 2, d, c, data_seed, 1);
    let sd = DomainData::new(xs.view(), Some(ls.view()), ys.view());
    let td = DomainData::new(xt.view(), Some(lt.view()), yt.view());
    let base = scale(args);
    let exact_p = CohesionParams::default().scale(ScaleParams {
        mode: CohesionMode::Exact,
        ..base
    });
    let t0 = Instant::now();
    let (exact, et) = cohesion_timed(&sd, &td, &exact_p)?;
    println!("exact: {:.1} s", t0.elapsed().as_secs_f64());
    let mut rows: Vec<Row> = Vec::new();
    let mut st = vec![0.0; et.len()];
    for seed in 0..seeds {
        let p = CohesionParams::default().seed(seed).scale(ScaleParams {
            mode: CohesionMode::Scalable,
            ..base
        });
        let (r, times) = cohesion_timed(&sd, &td, &p)?;
        for (s, t) in st.iter_mut().zip(&times) {
            *s += t / seeds as f64;
        }
        for m in &r.metrics {
            let (Some(iv), Some(v)) = (&m.interval, m.value) else {
                continue;
            };
            let Some(ex) = exact.value(&m.name) else {
                continue;
            };
            match rows.iter_mut().find(|r| r.0 == m.name) {
                Some(row) => row.3.push((v, iv.lower, iv.upper)),
                None => {
                    let i = exact.metrics.iter().position(|e| e.name == m.name).unwrap();
                    rows.push((m.name.clone(), ex, et[i], vec![(v, iv.lower, iv.upper)]));
                }
            }
        }
    }
    // the same samples' interval at 0.95: the half-width scales with the t quantile
    let r = base.repeats.saturating_sub(1);
    let to95 = t_quantile(0.975, r) / t_quantile((1.0 + base.level) / 2.0, r);
    println!(
        "| n | measure | exact | exact s | scalable s | coverage at {} | coverage at 0.95 | mean bias | mean |bias|/half-width | mean width |",
        base.level
    );
    for (name, ex, secs, v) in &rows {
        let k = v.len() as f64;
        let cover = v.iter().filter(|(_, l, u)| l <= ex && ex <= u).count();
        let cover95 = v
            .iter()
            .filter(|(e, l, u)| (e - ex).abs() <= to95 * (u - l) / 2.0)
            .count();
        let bias = v.iter().map(|(e, _, _)| e - ex).sum::<f64>() / k;
        let width = v.iter().map(|(_, l, u)| u - l).sum::<f64>() / k;
        let rel = v
            .iter()
            .map(|(e, l, u)| (e - ex).abs() / ((u - l) / 2.0))
            .sum::<f64>()
            / k;
        let i = exact.metrics.iter().position(|e| &e.name == name).unwrap();
        println!(
            "| {n} | {name} | {ex:.6} | {secs:.1} | {:.1} | {cover}/{} | {cover95}/{} | {bias:+.2e} | {rel:.2} | {width:.2e} |",
            st[i],
            v.len(),
            v.len()
        );
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args
        .iter()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(String::as_str)
    {
        Some("write") => write(&args),
        Some("map") => map(&args),
        Some("eval") => eval(&args),
        Some("accuracy") => accuracy(&args),
        _ => {
            eprintln!(
                "usage: cohesion_scale write|map|eval|accuracy [options] (see the file's doc)"
            );
            let _ = Path::new(".");
            Ok(())
        }
    }
}
