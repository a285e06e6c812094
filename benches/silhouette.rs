//! Silhouette benchmark (plain binary, run with `cargo bench --bench silhouette -- [options]`).
//!
//! Options: `--data X.npy --labels Y.npy` (float32 `[N, D]`, int64 `[N]`; without them a seeded
//! 4,000 × 256 Gaussian mixture is generated), `--repeats R` (default 1), `--precision f32|f64`.
//! Prints the score and the median wall time; scripts/bench_silhouette.py compares it with scikit-learn.

use dannscope::metrics::{silhouette_score, Precision};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// CPU seconds (user + system, all threads) of this process so far, from `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // fields 14 and 15 of stat (utime, stime), counted after the ")" that ends field 2
    (ticks(11) + ticks(12)) / 100.0
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let repeats: usize = get("--repeats").map_or(Ok(1), |v| v.parse())?;
    let precision = match get("--precision").as_deref() {
        Some("f64") => Precision::F64,
        _ => Precision::F32,
    };
    let (x, y): (Array2<f32>, Array1<i64>) = match (get("--data"), get("--labels")) {
        (Some(d), Some(l)) => (ndarray_npy::read_npy(d)?, ndarray_npy::read_npy(l)?),
        _ => {
            let (n, d, k) = (4000, 256, 10);
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            let centres = Array2::from_shape_fn((k, d), |_| rng.gen_range(-1.0f32..1.0));
            let y = Array1::from_shape_fn(n, |i| (i % k) as i64);
            let x = Array2::from_shape_fn((n, d), |(i, j)| {
                centres[[i % k, j]] + rng.gen_range(-1.0f32..1.0)
            });
            (x, y)
        }
    };
    let labels = y.to_vec();
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut score = 0.0;
    for _ in 0..repeats.max(1) {
        let (t0, c0) = (Instant::now(), cpu_seconds());
        score = silhouette_score(&[x.view()], &labels, precision)?;
        times.push(t0.elapsed().as_secs_f64());
        cpu.push(cpu_seconds() - c0);
    }
    times.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    println!(
        "rust silhouette: n={} d={} threads={} precision={:?} score={:.9} median_s={:.3} cpu_s={:.3} runs={:?}",
        x.nrows(),
        x.ncols(),
        rayon::current_num_threads(),
        precision,
        score,
        times[times.len() / 2],
        cpu[cpu.len() / 2],
        times
    );
    Ok(())
}
