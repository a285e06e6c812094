//! JPEG decode throughput: dannscope's decoder (libjpeg-turbo with Pillow's settings, exact) against
//! the `image` crate's (zune-jpeg, what dannscope used before; not Pillow's pixels), single thread, on
//! the same files in one process. `scripts/bench_jpeg.py` makes the files, times Pillow on them and
//! runs this bench, so that all three come from one run:
//! `python3 scripts/bench_jpeg.py` (or `cargo bench --bench jpeg_decode -- DIR` on a folder of JPEGs).
//!
//! Prints one JSON object: per file group (name prefix up to the first `_`), median milliseconds per
//! image of each decoder over `--runs` interleaved runs (default 5).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut dir = None;
    let mut runs = 5usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            "--bench" => {}
            other if !other.starts_with('-') => dir = Some(PathBuf::from(other)),
            _ => {}
        }
    }
    let dir = dir
        .or_else(|| std::env::var_os("DANNSCOPE_BENCH_JPEG").map(PathBuf::from))
        .expect("usage: jpeg_decode DIR (a folder of .jpg files)");
    let mut groups: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("folder of JPEGs")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
        .collect();
    names.sort();
    for p in names {
        let stem = p.file_stem().unwrap().to_string_lossy().to_string();
        let group = stem.split('_').next().unwrap_or(&stem).to_string();
        groups
            .entry(group)
            .or_default()
            .push(std::fs::read(&p).unwrap());
    }
    let mut out = serde_json::Map::new();
    for (group, files) in &groups {
        let (mut ours, mut zune) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let t = Instant::now();
            for f in files {
                std::hint::black_box(dannscope::preprocess::jpeg::decode(f).unwrap());
            }
            ours.push(t.elapsed().as_secs_f64() * 1e3 / files.len() as f64);
            let t = Instant::now();
            for f in files {
                let img = image::load_from_memory_with_format(f, image::ImageFormat::Jpeg).unwrap();
                std::hint::black_box(img.to_rgb8());
            }
            zune.push(t.elapsed().as_secs_f64() * 1e3 / files.len() as f64);
        }
        out.insert(
            group.clone(),
            serde_json::json!({
                "images": files.len(),
                "libjpeg_turbo_ms": median(ours),
                "zune_jpeg_ms": median(zune),
            }),
        );
    }
    println!("{}", serde_json::Value::Object(out));
}
