//! Criterion benches of the native t-SNE engine on small synthetic sets.
use criterion::{criterion_group, criterion_main, Criterion};
use dannscope::tsne::{fit, NegativeGradient, TsneParams};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn mixture(n: usize, d: usize, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres = Array2::from_shape_fn((10, d), |_| rng.gen_range(-5.0f32..5.0));
    Array2::from_shape_fn((n, d), |(i, j)| {
        centres[[i % 10, j]] + rng.gen_range(-1.0f32..1.0)
    })
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("tsne");
    g.sample_size(10);
    for n in [500usize, 2000] {
        let x = mixture(n, 50, 1);
        for (name, m) in [
            ("bh", NegativeGradient::BarnesHut),
            ("fft", NegativeGradient::Fft),
        ] {
            let p = TsneParams::default().negative_gradient(m);
            g.bench_function(format!("fit_{name}_{n}x50"), |b| {
                b.iter(|| fit(x.view(), &p))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
