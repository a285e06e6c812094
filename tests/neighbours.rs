//! The neighbour search: exact against brute force, approximate recall, determinism at any
//! thread count, and bad input.
use dannscope::neighbours::{knn_graph, query, Method, NeighbourError, NeighbourParams};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Clustered data: 40 Gaussian clusters with different spreads in `d` dimensions.
fn clusters(n: usize, d: usize, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres = Array2::from_shape_fn((40, d), |_| rng.gen_range(-4.0f32..4.0));
    let spread: Vec<f32> = (0..40).map(|_| rng.gen_range(0.5f32..1.5)).collect();
    let mut x = Array2::<f32>::zeros((n, d));
    for mut row in x.rows_mut() {
        let c = rng.gen_range(0..40);
        for (j, v) in row.iter_mut().enumerate() {
            // Sum of uniforms: a bell-shaped, seeded draw.
            let z: f32 = (0..4).map(|_| rng.gen_range(-1.0f32..1.0)).sum::<f32>();
            *v = centres[[c, j]] + spread[c] * z;
        }
    }
    x
}

fn brute(r: &Array2<f32>, q: &Array2<f32>, k: usize, graph: bool) -> Vec<u32> {
    let mut out = Vec::new();
    for i in 0..q.nrows() {
        let mut all: Vec<(f64, u32)> = (0..r.nrows())
            .filter(|&j| !graph || j != i)
            .map(|j| {
                let d: f64 = q
                    .row(i)
                    .iter()
                    .zip(r.row(j))
                    .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
                    .sum();
                (d, j as u32)
            })
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        out.extend(all[..k].iter().map(|p| p.1));
    }
    out
}

#[test]
fn exact_graph_and_query_match_brute_force() {
    let x = clusters(400, 9, 1);
    let q = clusters(60, 9, 2);
    let p = NeighbourParams::with_method(Method::Exact);
    let g = knn_graph(x.view(), 10, &p).unwrap();
    assert_eq!(g.method, Method::Exact);
    assert_eq!(g.indices, brute(&x, &x, 10, true));
    for i in 0..400 {
        let d = g.dist2_row(i);
        assert!(d.windows(2).all(|w| w[0] <= w[1]));
        assert!(!g.row(i).contains(&(i as u32)));
    }
    let r = query(x.view(), q.view(), 7, &p).unwrap();
    assert_eq!(r.indices, brute(&x, &q, 7, false));
}

#[test]
fn approximate_graph_recall_is_at_least_099() {
    let x = clusters(6000, 16, 3);
    let k = 30;
    let exact = knn_graph(x.view(), k, &NeighbourParams::with_method(Method::Exact)).unwrap();
    let approx = knn_graph(
        x.view(),
        k,
        &NeighbourParams::with_method(Method::Approximate),
    )
    .unwrap();
    assert_eq!(approx.method, Method::Approximate);
    let recall = approx.recall(&exact);
    assert!(recall >= 0.99, "recall {recall}");
    // Distances are exact for the rows found, ascending, and self is never a neighbour.
    for i in (0..6000).step_by(97) {
        assert!(!approx.row(i).contains(&(i as u32)));
        let d = approx.dist2_row(i);
        assert!(d.windows(2).all(|w| w[0] <= w[1]));
        let j = approx.row(i)[0] as usize;
        let want: f64 = x
            .row(i)
            .iter()
            .zip(x.row(j))
            .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
            .sum();
        assert_eq!(d[0], want);
    }
}

#[test]
fn approximate_query_recall_is_at_least_099() {
    let x = clusters(5000, 12, 4);
    let q = clusters(800, 12, 5);
    let k = 15;
    let exact = query(
        x.view(),
        q.view(),
        k,
        &NeighbourParams::with_method(Method::Exact),
    )
    .unwrap();
    let approx = query(
        x.view(),
        q.view(),
        k,
        &NeighbourParams::with_method(Method::Approximate),
    )
    .unwrap();
    let recall = approx.recall(&exact);
    assert!(recall >= 0.99, "recall {recall}");
}

#[test]
fn same_lists_with_one_and_two_threads() {
    let x = clusters(3000, 10, 6);
    let q = clusters(300, 10, 7);
    let p = NeighbourParams::with_method(Method::Approximate).seed(11);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                (
                    knn_graph(x.view(), 20, &p).unwrap(),
                    query(x.view(), q.view(), 5, &p).unwrap(),
                )
            })
    };
    let (g1, q1) = run(1);
    let (g2, q2) = run(2);
    assert_eq!(g1, g2);
    assert_eq!(q1, q2);
    // A different seed builds different trees (the lists may still agree where exact).
    let g3 = knn_graph(x.view(), 20, &p.clone().seed(12)).unwrap();
    assert_eq!(g3.k, 20);
}

#[test]
fn auto_is_exact_below_the_threshold_and_approximate_from_it() {
    let x = clusters(500, 6, 8);
    let exact = knn_graph(x.view(), 12, &NeighbourParams::with_method(Method::Exact)).unwrap();
    let auto = knn_graph(x.view(), 12, &NeighbourParams::default()).unwrap();
    assert_eq!(auto, exact);
    let low = NeighbourParams {
        threshold: 500,
        ..Default::default()
    };
    assert_eq!(
        knn_graph(x.view(), 12, &low).unwrap().method,
        Method::Approximate
    );
    assert_eq!(low.resolve(499), Method::Exact);
}

#[test]
fn bad_input_is_an_error_that_says_what() {
    let x = clusters(50, 4, 9);
    let p = NeighbourParams::default();
    let e = knn_graph(x.view(), 50, &p).unwrap_err();
    assert!(
        matches!(
            e,
            NeighbourError::TooFewPoints {
                k: 50,
                available: 49
            }
        ),
        "{e}"
    );
    let mut y = x.clone();
    y[[7, 2]] = f32::NAN;
    let e = knn_graph(y.view(), 5, &p).unwrap_err().to_string();
    assert!(e.contains("row 7, column 2"), "{e}");
    let q = Array2::<f32>::zeros((3, 5));
    let e = query(x.view(), q.view(), 3, &p).unwrap_err().to_string();
    assert!(e.contains("5 columns") && e.contains("4"), "{e}");
    let e = query(x.view(), y.view(), 3, &p).unwrap_err().to_string();
    assert!(e.contains("query set row 7"), "{e}");
    let bad = NeighbourParams {
        delta: 1.5,
        ..Default::default()
    };
    let e = knn_graph(x.view(), 5, &bad).unwrap_err().to_string();
    assert!(e.contains("delta"), "{e}");
    assert_eq!(Method::parse("approximate"), Some(Method::Approximate));
    assert_eq!(Method::parse("annoy"), None);
}

#[test]
fn tsne_is_unchanged_below_the_threshold_and_records_the_method() {
    use dannscope::tsne::{fit, TsneParams};
    let x = clusters(600, 8, 10);
    let base = TsneParams::new().n_iter(50).early_exaggeration_iter(50);
    let auto = fit(x.view(), &base).unwrap();
    let exact = fit(x.view(), &base.clone().neighbours(Method::Exact)).unwrap();
    assert_eq!(auto.neighbours, Method::Exact);
    assert_eq!(auto.coords, exact.coords);
    assert_eq!(auto.kl_divergence.to_bits(), exact.kl_divergence.to_bits());
    let approx = fit(x.view(), &base.clone().neighbour_threshold(600)).unwrap();
    assert_eq!(approx.neighbours, Method::Approximate);
    assert!(approx.coords.iter().all(|v| v.is_finite()));
    let e = fit(x.view(), &base.neighbour_threshold(0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("neighbour_threshold"), "{e}");
}
