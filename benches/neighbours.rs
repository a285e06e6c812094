//! Timing executable for the neighbour search (no criterion harness).
//!
//! Usage: `cargo bench --bench neighbours -- INPUT.npy [K] [key=value ...]`
//! Reads an `[N, D]` float32 matrix and prints one JSON line: the time of the approximate
//! search (random-projection forest + NN-descent) with the given parameters (`trees`, `leaf`,
//! `cand`, `iter`, `delta`, `seed`), and, unless `exact=0`, the time of the exact search and
//! the approximate lists' recall against it. `exact=FILE.npy` caches the exact lists.
use dannscope::neighbours::{knn_graph, Method, NeighbourParams, Neighbours};
use ndarray::Array2;
use ndarray_npy::{read_npy, write_npy};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(input) = args.first() else {
        anyhow::bail!("usage: neighbours INPUT.npy [K] [key=value ...]");
    };
    let x: Array2<f32> = read_npy(input)?;
    let k: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(90);
    let mut p = NeighbourParams::with_method(Method::Approximate);
    let mut exact: Option<String> = Some(String::new());
    for a in args.iter().skip(2) {
        let (key, v) = a
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("{a}: key=value"))?;
        match key {
            "trees" => p.n_trees = v.parse()?,
            "leaf" => p.leaf_size = v.parse()?,
            "cand" => p.max_candidates = v.parse()?,
            "iter" => p.max_iter = v.parse()?,
            "delta" => p.delta = v.parse()?,
            "seed" => p.seed = v.parse()?,
            "exact" if v == "0" => exact = None,
            "exact" => exact = Some(v.to_string()),
            _ => anyhow::bail!("unknown key {key}"),
        }
    }
    let t = Instant::now();
    let approx = knn_graph(x.view(), k, &p)?;
    let approx_s = t.elapsed().as_secs_f64();
    let mut out = serde_json::json!({
        "n": x.nrows(), "d": x.ncols(), "k": k, "threads": rayon::current_num_threads(),
        "approx_s": approx_s, "trees": p.trees_for(x.nrows()), "leaf": p.leaf_size_for(k),
        "cand": p.max_candidates, "iter": p.max_iter,
    });
    if let Some(cache) = exact {
        let t = Instant::now();
        let ex = match std::path::Path::new(&cache).is_file() {
            true => {
                let idx: Array2<u32> = read_npy(&cache)?;
                Neighbours {
                    k,
                    indices: idx.into_raw_vec_and_offset().0,
                    dist2: Vec::new(),
                    method: Method::Exact,
                }
            }
            false => {
                let e = knn_graph(x.view(), k, &NeighbourParams::with_method(Method::Exact))?;
                if !cache.is_empty() {
                    write_npy(
                        &cache,
                        &Array2::from_shape_vec((x.nrows(), k), e.indices.clone())?,
                    )?;
                }
                e
            }
        };
        out["exact_s"] = t.elapsed().as_secs_f64().into();
        out["recall"] = approx.recall(&ex).into();
    }
    println!("{out}");
    Ok(())
}
