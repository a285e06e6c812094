//! Timing executable for scripts/bench_tsne.py (no criterion harness).
//!
//! Usage: `cargo bench --bench tsne_compare -- INPUT.npy OUTPUT.npy [REPEATS] [fit-only]
//! [threshold=N]`
//! Reads an `[N, D]` float32 matrix, runs the native engine with default parameters
//! `REPEATS` times (default 1), writes the last map to OUTPUT.npy and prints one JSON line
//! with the wall times in seconds, the KL divergence and the number of rayon threads.
//! Unless `fit-only` is given, it then times the affinities alone (`setup_s`) and the exact
//! KL divergence of the map (`kl_s`, O(N²): skip it for a million points). `threshold=N` sets
//! [`TsneParams::neighbour_threshold`] (e.g. to search approximately on a small set).
use dannscope::tsne::{fit, TsneParams};
use ndarray::Array2;
use ndarray_npy::{read_npy, write_npy};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut params = TsneParams::default();
    let mut args = Vec::new();
    for a in std::env::args().skip(1).filter(|a| a != "--bench") {
        match a.strip_prefix("threshold=") {
            Some(v) => params.neighbour_threshold = v.parse()?,
            None => args.push(a),
        }
    }
    if args.len() < 2 {
        anyhow::bail!("usage: tsne_compare INPUT.npy OUTPUT.npy [REPEATS]");
    }
    let repeats: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(1);
    let x: Array2<f32> = read_npy(&args[0])?;
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        let out = fit(x.view(), &params)?;
        times.push(t.elapsed().as_secs_f64());
        last = Some(out);
    }
    let out = last.expect("at least one run");
    write_npy(&args[1], &out.coords)?;
    let mut report = serde_json::json!({
        "n": x.nrows(), "d": x.ncols(), "times_s": times,
        "kl_divergence": out.kl_divergence, "threads": rayon::current_num_threads(),
    });
    if args.get(3).map(String::as_str) != Some("fit-only") {
        let t = Instant::now();
        let aff = dannscope::tsne::affinities(x.view(), &params)?;
        report["setup_s"] = t.elapsed().as_secs_f64().into();
        let t = Instant::now();
        let _ = aff.kl_divergence(out.coords.view())?;
        report["kl_s"] = t.elapsed().as_secs_f64().into();
    }
    println!("{report}");
    Ok(())
}
