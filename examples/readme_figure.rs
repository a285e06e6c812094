//! Draws README's figure from the outputs of `dannscope demo`: the joint t-SNE maps of one pair's
//! source-only baseline and DANN model side by side, titled with their target accuracy and the
//! McNemar p-value of the difference (from the demo's comparison file).
//!
//! `cargo run --example readme_figure -- [DEMO_OUT] [PAIR] [OUT.png]`
//! (defaults: `outputs/demo`, `C-A`, `docs/demo_tsne.png`; the SVG goes to
//! `DEMO_OUT/readme_figure.svg`).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use dannscope::plot::{evolution_grid, ColorBy, EvolutionFrame, EvolutionStyle};
use ndarray::Array2;

/// The first file under `root` (depth first, sorted) whose name is `name`.
fn find(root: &Path, name: &str) -> Option<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(root)
        .ok()?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .ok()?;
    entries.sort();
    entries.iter().find_map(|p| {
        if p.is_dir() {
            find(p, name)
        } else {
            (p.file_name()? == name).then(|| p.clone())
        }
    })
}

/// One joint map as written by `dannscope tsne` (`x,y,domain,role,label,class,row,path`).
struct Map {
    coords: Array2<f32>,
    is_target: Vec<bool>,
    labels: Vec<u32>,
    classes: Vec<String>,
    domains: (String, String),
}

fn read_map(path: &Path) -> Result<Map> {
    let mut r = csv::Reader::from_path(path).with_context(|| path.display().to_string())?;
    let (mut xy, mut is_target, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    let mut classes: Vec<String> = Vec::new();
    let (mut source, mut target) = (String::new(), String::new());
    for row in r.records() {
        let row = row?;
        xy.push(row[0].parse::<f32>()?);
        xy.push(row[1].parse::<f32>()?);
        let t = &row[3] == "target";
        if t {
            target = row[2].to_string();
        } else {
            source = row[2].to_string();
        }
        is_target.push(t);
        let label: u32 = row[4].parse()?;
        if classes.len() <= label as usize {
            classes.resize(label as usize + 1, String::new());
        }
        classes[label as usize] = row[5].to_string();
        labels.push(label);
    }
    let coords = Array2::from_shape_vec((is_target.len(), 2), xy)?;
    Ok(Map {
        coords,
        is_target,
        labels,
        classes,
        domains: (source, target),
    })
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = PathBuf::from(args.first().map_or("outputs/demo", |s| s.as_str()));
    let pair = args.get(1).map_or("C-A", |s| s.as_str());
    let png = PathBuf::from(args.get(2).map_or("docs/demo_tsne.png", |s| s.as_str()));
    let file = format!("{pair}.csv");
    let dann = format!("demo_cnn_{pair}");
    let baseline = format!("demo_cnn_{pair}.source_only");
    let map_of = |model: &str| {
        let path = find(&out.join("tsne").join(model), &file)
            .ok_or_else(|| anyhow!("no map {file} of {model} under {}", out.display()))?;
        read_map(&path)
    };
    let (so, da) = (map_of(&baseline)?, map_of(&dann)?);
    let cmp_dir = out.join("compare").join(format!("{baseline}_vs_{dann}"));
    let cmp_path = find(&cmp_dir, &format!("{pair}.json"))
        .ok_or_else(|| anyhow!("no comparison under {}", cmp_dir.display()))?;
    let cmp: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&cmp_path)?)?;
    let acc = |k: &str| cmp[k].as_f64().map(|v| 100.0 * v).unwrap_or(f64::NAN);
    let p = cmp["mcnemar"]["p_value"].as_f64().unwrap_or(f64::NAN);
    let frames = [
        EvolutionFrame {
            coords: so.coords.view(),
            is_target: &so.is_target,
            labels: &so.labels,
            title: format!("source only: target accuracy {:.1} %", acc("accuracy_a")),
        },
        EvolutionFrame {
            coords: da.coords.view(),
            is_target: &da.is_target,
            labels: &da.labels,
            title: format!("DANN: target accuracy {:.1} %", acc("accuracy_b")),
        },
    ];
    let (s, t) = &da.domains;
    let style = EvolutionStyle {
        class_names: da.classes.clone(),
        source_name: s.clone(),
        target_name: t.clone(),
        title: format!(
            "demo {s} → {t}, joint t-SNE of each model (valid split; McNemar p = {p:.1e})"
        ),
        color_by: ColorBy::Class,
    };
    let svg = out.join("readme_figure.svg");
    evolution_grid(&frames, &style, 2, &svg, &png)?;
    println!("wrote {} and {}", png.display(), svg.display());
    Ok(())
}
