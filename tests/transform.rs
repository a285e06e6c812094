//! Placement of new points into a fixed t-SNE map, against openTSNE's `transform`
//! (fixtures from scripts/transform_fixture.py).
use dannscope::tsne::{transform, TransformParams};
use ndarray::{s, Array1, Array2};
use ndarray_npy::read_npy;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/transform");

fn load(name: &str) -> Array2<f32> {
    read_npy(format!("{DIR}/{name}")).expect("fixture readable")
}

fn labels(name: &str) -> Array1<i64> {
    read_npy(format!("{DIR}/{name}")).expect("fixture readable")
}

fn summary() -> serde_json::Value {
    let text = std::fs::read_to_string(format!("{DIR}/summary.json")).expect("summary readable");
    serde_json::from_str(&text).expect("summary is JSON")
}

/// Class of the reference point nearest (in the map) to each placed point.
fn nearest_class(map: &Array2<f32>, ref_lab: &Array1<i64>, placed: &Array2<f32>) -> Vec<i64> {
    placed
        .rows()
        .into_iter()
        .map(|p| {
            let (best, _) = map
                .rows()
                .into_iter()
                .enumerate()
                .map(|(j, r)| (j, (r[0] - p[0]).powi(2) + (r[1] - p[1]).powi(2)))
                .fold((0, f32::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
            ref_lab[best]
        })
        .collect()
}

struct Fixture {
    ref_x: Array2<f32>,
    ref_map: Array2<f32>,
    new_x: Array2<f32>,
}

fn fixture() -> Fixture {
    Fixture {
        ref_x: load("ref_x.npy"),
        ref_map: load("ref_map.npy"),
        new_x: load("new_x.npy"),
    }
}

#[test]
fn placement_agrees_with_opentsne() {
    let f = fixture();
    let sum = summary();
    let ref_lab = labels("ref_labels.npy");
    let new_lab = labels("new_labels.npy");
    let theirs = load("opentsne_placed.npy");
    let out = transform(
        f.ref_x.view(),
        f.ref_map.view(),
        f.new_x.view(),
        &TransformParams::default(),
    )
    .unwrap();
    let m = f.new_x.nrows();
    assert_eq!(out.coords.dim(), (m, 2));

    // Nearest reference class of each placed point agrees with openTSNE's for ≥ 90 %.
    let ours = nearest_class(&f.ref_map, &ref_lab, &out.coords);
    let want: Vec<i64> = sum["nearest_reference_class"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let agree = ours.iter().zip(&want).filter(|(a, b)| a == b).count() as f64 / m as f64;
    assert!(agree >= 0.95, "nearest-class agreement {agree}");

    // The share landing in their own class matches openTSNE's within 5 points.
    let own = ours
        .iter()
        .zip(new_lab.iter())
        .filter(|(a, b)| a == b)
        .count() as f64
        / m as f64;
    let own_ref = sum["nearest_class_is_true_class"].as_f64().unwrap();
    assert!(
        (own - own_ref).abs() <= 0.05,
        "own class {own} vs {own_ref}"
    );

    // How far points travel from the median start: mean within 5 % of openTSNE's.
    let dist: Vec<f64> = (0..m)
        .map(|i| {
            let dx = (out.coords[[i, 0]] - out.init[[i, 0]]) as f64;
            let dy = (out.coords[[i, 1]] - out.init[[i, 1]]) as f64;
            dx.hypot(dy)
        })
        .collect();
    let mean = dist.iter().sum::<f64>() / m as f64;
    let mean_ref = sum["mean_distance_from_init"].as_f64().unwrap();
    assert!(
        (mean - mean_ref).abs() <= 0.05 * mean_ref,
        "mean distance from init {mean} vs openTSNE {mean_ref}"
    );

    // Placed points lie close to openTSNE's (which uses Barnes-Hut repulsion, theta 0.5):
    // median distance under 0.5 % of the map extent.
    let extent = sum["map_extent"].as_f64().unwrap();
    let mut d: Vec<f64> = (0..m)
        .map(|i| {
            let dx = (out.coords[[i, 0]] - theirs[[i, 0]]) as f64;
            let dy = (out.coords[[i, 1]] - theirs[[i, 1]]) as f64;
            dx.hypot(dy)
        })
        .collect();
    d.sort_by(f64::total_cmp);
    let med = d[m / 2];
    assert!(
        med <= 0.005 * extent,
        "median distance to openTSNE {med}, extent {extent}"
    );
    eprintln!(
        "agreement {agree:.3}, own class {own:.3} (openTSNE {own_ref:.3}), mean travel \
         {mean:.3} (openTSNE {mean_ref:.3}), median distance to openTSNE {med:.3} of extent \
         {extent:.1}"
    );
}

#[test]
fn placement_is_independent_per_point_and_thread_count() {
    let f = fixture();
    let p = TransformParams::default();
    let all = transform(f.ref_x.view(), f.ref_map.view(), f.new_x.view(), &p).unwrap();
    // New points do not interact: placing a subset gives the same rows, bit for bit.
    let part = transform(
        f.ref_x.view(),
        f.ref_map.view(),
        f.new_x.slice(s![50..60, ..]),
        &p,
    )
    .unwrap();
    assert_eq!(part.coords, all.coords.slice(s![50..60, ..]));
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| transform(f.ref_x.view(), f.ref_map.view(), f.new_x.view(), &p).unwrap());
    assert_eq!(one.coords, all.coords);
}

#[test]
fn placing_reference_points_keeps_them_near_their_positions() {
    // A reference point's nearest neighbour is itself; placed back into its own map it should
    // land near where the map has it (within 5 % of the map extent for at least 90 of 100 points).
    let f = fixture();
    let extent = summary()["map_extent"].as_f64().unwrap();
    let sub = f.ref_x.slice(s![..100, ..]);
    let out = transform(
        f.ref_x.view(),
        f.ref_map.view(),
        sub,
        &TransformParams::default(),
    )
    .unwrap();
    let close = (0..100)
        .filter(|&i| {
            let dx = (out.coords[[i, 0]] - f.ref_map[[i, 0]]) as f64;
            let dy = (out.coords[[i, 1]] - f.ref_map[[i, 1]]) as f64;
            dx.hypot(dy) <= 0.05 * extent
        })
        .count();
    assert!(
        close >= 90,
        "{close} of 100 reference points placed near themselves"
    );
}
