//! Tests of the plot stage: decoded images, parsed SVG, GIF frames, CSV errors, bad input.
//!
//! Set `DANNSCOPE_PLOT_OUT` to a folder to keep the rendered figures for inspection.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use dannscope::plot::{
    class_color, confusion_heatmap, confusion_heatmap_svg, curves_figure, evolution_gif,
    evolution_grid, per_class_bars_svg, tsne_figure, tsne_figure_svg, ColorBy, EvolutionFrame,
    EvolutionStyle, PlotError, TsneFigure, SOURCE_COLOR, TARGET_COLOR,
};
use dannscope::traininglog::{read_curves, TrainingLogError};
use image::AnimationDecoder;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CLASSES: [&str; 10] = [
    "Bed",
    "File_Cabinet",
    "Webcam",
    "Drill",
    "Toys",
    "Postit_Notes",
    "Soda",
    "Trash_Can",
    "Knives",
    "Shelf",
];

fn names() -> Vec<String> {
    CLASSES.iter().map(|s| s.to_string()).collect()
}

/// Folder for outputs: `DANNSCOPE_PLOT_OUT` if set (kept), else a temporary folder.
fn out_dir() -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("DANNSCOPE_PLOT_OUT") {
        Some(p) => {
            let p = PathBuf::from(p);
            std::fs::create_dir_all(&p).unwrap();
            (None, p)
        }
        None => {
            let t = tempfile::tempdir().unwrap();
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    }
}

fn gauss(rng: &mut ChaCha8Rng) -> f32 {
    // Box-Muller.
    let u1: f64 = rng.gen_range(1e-12..1.0);
    let u2: f64 = rng.gen();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

/// Clustered synthetic map: per class `n_src` source then `n_tgt` target points per class
/// (source rows first), target clusters shifted by `shift`.
fn synthetic(
    seed: u64,
    n_src: usize,
    n_tgt: usize,
    spread: f32,
    shift: f32,
) -> (Array2<f32>, Vec<bool>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = Vec::new();
    let mut is_t = Vec::new();
    let mut labels = Vec::new();
    for target in [false, true] {
        for c in 0..10u32 {
            let a = c as f32 / 10.0 * std::f32::consts::TAU;
            let (cx, cy) = (30.0 * a.cos(), 30.0 * a.sin());
            let n = if target { n_tgt } else { n_src };
            for _ in 0..n {
                let off = if target { shift } else { 0.0 };
                rows.push([
                    cx + off + spread * gauss(&mut rng),
                    cy + spread * gauss(&mut rng),
                ]);
                is_t.push(target);
                labels.push(c);
            }
        }
    }
    let arr = Array2::from_shape_vec((rows.len(), 2), rows.concat()).unwrap();
    (arr, is_t, labels)
}

fn colours(img: &image::RgbImage) -> HashSet<[u8; 3]> {
    img.pixels().map(|p| p.0).collect()
}

fn near(img: &image::RgbImage, want: [u8; 3], tol: i32) -> usize {
    img.pixels()
        .filter(|p| (0..3).all(|k| (p.0[k] as i32 - want[k] as i32).abs() <= tol))
        .count()
}

fn over_white(c: plotters::style::RGBColor, alpha: f64) -> [u8; 3] {
    let f = |v: u8| (v as f64 * alpha + 255.0 * (1.0 - alpha)).round() as u8;
    [f(c.0), f(c.1), f(c.2)]
}

fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("SVG parses as XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.tag_name().name() == "text")
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

fn no_temp_files(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!name.ends_with(".tmp"), "leftover temporary file {name}");
    }
}

#[test]
fn tsne_png_is_large_and_uses_class_and_domain_colours() {
    let (_keep, dir) = out_dir();
    let (coords, is_t, labels) = synthetic(7, 25, 20, 2.5, 4.0);
    let cn = names();
    let fig = TsneFigure {
        coords: coords.view(),
        is_target: &is_t,
        labels: &labels,
        class_names: &cn,
        source_name: "Real World".into(),
        target_name: "Product".into(),
        title: "mobilenetv3_rw · Real World → Product · valid".into(),
        subtitle: Some("target acc 87.8% · AUROC 98.2%".into()),
    };
    let (svg, png) = (dir.join("tsne.svg"), dir.join("tsne.png"));
    tsne_figure(&fig, &svg, &png).unwrap();
    no_temp_files(&dir);

    let img = image::open(&png).expect("PNG decodes").to_rgb8();
    assert!(img.width() >= 1600, "width {}", img.width());
    assert!(img.height() >= 800);
    // White background.
    assert_eq!(img.get_pixel(2, 2).0, [255, 255, 255]);
    let cs = colours(&img);
    assert!(cs.len() > 30, "only {} distinct colours", cs.len());
    // Legend swatches are the exact tab10 colours; scatter markers are those colours at 60 %
    // opacity over white.
    for i in 0..10 {
        let c = class_color(i, 10);
        assert!(
            cs.contains(&[c.0, c.1, c.2]),
            "class {i} colour {c:?} missing"
        );
        assert!(
            near(&img, over_white(c, 0.6), 3) > 20,
            "class {i} markers missing"
        );
    }
    assert!(
        near(&img, over_white(SOURCE_COLOR, 0.6), 3) > 100,
        "source domain colour missing"
    );
    assert!(
        near(&img, [TARGET_COLOR.0, TARGET_COLOR.1, TARGET_COLOR.2], 40) > 100,
        "target domain colour missing"
    );
    // The title band holds dark text pixels: text renders from the embedded font.
    let dark = (0..img.width())
        .flat_map(|x| (10..60).map(move |y| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&v| v < 100))
        .count();
    assert!(dark > 500, "title text missing ({dark} dark pixels)");

    let text = std::fs::read_to_string(&svg).unwrap();
    let texts = svg_texts(&text);
    assert!(
        texts.iter().any(|t| t.contains("Real World → Product")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t == "target acc 87.8% · AUROC 98.2%"));
    for c in CLASSES {
        assert!(
            texts.contains(&format!("{c} (25/20)")),
            "legend entry for {c} missing"
        );
    }
    assert!(texts.iter().any(|t| t == "source: Real World (250)"));
    assert!(texts.iter().any(|t| t == "target: Product (200)"));
    // One marker per point in each of the two panels, plus legend swatches: discs for the 250
    // source points, closed triangles (4-point polylines) for the 200 target points.
    let circles = text.matches("<circle").count();
    assert!(circles >= 2 * 250, "{circles} circles");
    let triangles = text
        .split("<polyline")
        .skip(1)
        .filter(|p| {
            let pts = p.split("points=\"").nth(1).unwrap_or("");
            let pts = &pts[..pts.find('"').unwrap_or(0)];
            let v: Vec<&str> = pts.split_whitespace().collect();
            v.len() == 4 && v[0] == v[3]
        })
        .count();
    assert!(triangles >= 2 * 200, "{triangles} triangles");
    assert!(text.contains("font-family=\"DejaVu Sans, sans-serif\""));

    // The inline string is the same document as the file.
    assert_eq!(tsne_figure_svg(&fig).unwrap(), text);
}

#[test]
fn tsne_counts_in_legend_follow_the_data() {
    let cn: Vec<String> = vec!["a".into(), "b".into(), "c".into()];
    let coords = Array2::from_shape_vec(
        (5, 2),
        vec![0.0, 0.0, 1.0, 1.0, 2.0, 0.5, 3.0, 3.0, 0.0, 4.0],
    )
    .unwrap();
    let is_t = [false, false, true, true, true];
    let labels = [0, 2, 2, 2, 1];
    let fig = TsneFigure {
        coords: coords.view(),
        is_target: &is_t,
        labels: &labels,
        class_names: &cn,
        source_name: "Art".into(),
        target_name: "Clipart".into(),
        title: "t".into(),
        subtitle: None,
    };
    let texts = svg_texts(&tsne_figure_svg(&fig).unwrap());
    for want in [
        "a (1/0)",
        "b (0/1)",
        "c (1/2)",
        "source: Art (2)",
        "target: Clipart (3)",
    ] {
        assert!(
            texts.iter().any(|t| t == want),
            "{want} missing from {texts:?}"
        );
    }
}

#[test]
fn tsne_bad_input_is_an_error_not_a_panic() {
    let cn = names();
    let coords = Array2::<f32>::zeros((4, 2));
    let base = TsneFigure {
        coords: coords.view(),
        is_target: &[false, false, true, true],
        labels: &[0, 1, 2, 3],
        class_names: &cn,
        source_name: "A".into(),
        target_name: "C".into(),
        title: "t".into(),
        subtitle: None,
    };
    assert!(tsne_figure_svg(&base).is_ok());

    let f = TsneFigure {
        is_target: &[false, true],
        ..base.clone()
    };
    match tsne_figure_svg(&f) {
        Err(PlotError::LengthMismatch {
            expected: 4,
            found: 2,
            ..
        }) => {}
        other => panic!("expected a length mismatch, got {other:?}"),
    }
    let f = TsneFigure {
        labels: &[0, 1, 2],
        ..base.clone()
    };
    assert!(matches!(
        tsne_figure_svg(&f),
        Err(PlotError::LengthMismatch {
            expected: 4,
            found: 3,
            ..
        })
    ));
    let f = TsneFigure {
        labels: &[0, 1, 2, 10],
        ..base.clone()
    };
    assert!(matches!(
        tsne_figure_svg(&f),
        Err(PlotError::LabelOutOfRange {
            index: 3,
            label: 10,
            n_classes: 10
        })
    ));
    let three = Array2::<f32>::zeros((4, 3));
    let f = TsneFigure {
        coords: three.view(),
        ..base.clone()
    };
    assert!(matches!(
        tsne_figure_svg(&f),
        Err(PlotError::InvalidArgument(_))
    ));
    let mut nan = Array2::<f32>::zeros((4, 2));
    nan[[2, 1]] = f32::NAN;
    let f = TsneFigure {
        coords: nan.view(),
        ..base.clone()
    };
    assert!(matches!(
        tsne_figure_svg(&f),
        Err(PlotError::NonFinite { index: 2, .. })
    ));
    let empty = Array2::<f32>::zeros((0, 2));
    let f = TsneFigure {
        coords: empty.view(),
        is_target: &[],
        labels: &[],
        ..base.clone()
    };
    assert!(matches!(tsne_figure_svg(&f), Err(PlotError::Empty(_))));

    // A folder that does not exist: an I/O error naming the file, no panic.
    let d = tempfile::tempdir().unwrap();
    let bad = d.path().join("nope").join("x.svg");
    let err = tsne_figure(&base, &bad, &d.path().join("x.png")).unwrap_err();
    assert!(err.to_string().contains("x.svg"), "{err}");
}

fn frames_data(n: usize) -> Vec<(Array2<f32>, Vec<bool>, Vec<u32>)> {
    // Target clusters drift towards the source ones over the epochs.
    (0..n)
        .map(|e| {
            synthetic(
                100 + e as u64,
                12,
                10,
                3.0,
                20.0 * (1.0 - e as f32 / n as f32),
            )
        })
        .collect()
}

fn style(color_by: ColorBy) -> EvolutionStyle {
    EvolutionStyle {
        class_names: names(),
        source_name: "Clipart".into(),
        target_name: "Art".into(),
        title: "mobilenetv3_rw · Clipart → Art · valid".into(),
        color_by,
    }
}

#[test]
fn evolution_grid_and_gif() {
    let (_keep, dir) = out_dir();
    let data = frames_data(20);
    let frames: Vec<EvolutionFrame> = data
        .iter()
        .enumerate()
        .map(|(e, (c, t, l))| EvolutionFrame {
            coords: c.view(),
            is_target: t,
            labels: l,
            title: format!(
                "Epoch {:02} acc {:.1} auroc {:.1}",
                e + 1,
                40.0 + e as f64,
                80.0 + e as f64 / 2.0
            ),
        })
        .collect();
    let (svg, png) = (dir.join("evolution.svg"), dir.join("evolution.png"));
    evolution_grid(&frames, &style(ColorBy::Class), 5, &svg, &png).unwrap();
    let img = image::open(&png).unwrap().to_rgb8();
    assert!(img.width() >= 1600);
    assert!(
        img.height() > img.width() / 2,
        "4 rows of 5 should be tall: {:?}",
        img.dimensions()
    );
    let cs = colours(&img);
    for i in 0..10 {
        let c = class_color(i, 10);
        assert!(cs.contains(&[c.0, c.1, c.2]));
    }
    let texts = svg_texts(&std::fs::read_to_string(&svg).unwrap());
    for f in &frames {
        assert!(texts.contains(&f.title), "{} missing", f.title);
    }
    assert!(
        texts.iter().filter(|t| *t == "Bed").count() == 1,
        "one shared legend"
    );

    let (svg2, png2) = (
        dir.join("evolution_domain.svg"),
        dir.join("evolution_domain.png"),
    );
    evolution_grid(&frames, &style(ColorBy::Domain), 4, &svg2, &png2).unwrap();
    let img2 = image::open(&png2).unwrap().to_rgb8();
    assert!(near(&img2, [SOURCE_COLOR.0, SOURCE_COLOR.1, SOURCE_COLOR.2], 0) > 0);
    assert_eq!(
        near(&img2, [0x2c, 0xa0, 0x2c], 0),
        0,
        "no class colours when colouring by domain"
    );

    let gif = dir.join("evolution.gif");
    evolution_gif(&frames[..6], &style(ColorBy::Class), &gif, 400).unwrap();
    no_temp_files(&dir);
    let bytes = std::fs::read(&gif).unwrap();
    assert!(
        bytes.windows(11).any(|w| w == b"NETSCAPE2.0"),
        "looping extension missing"
    );
    let dec = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&bytes)).unwrap();
    let decoded = dec.into_frames().collect_frames().unwrap();
    assert_eq!(decoded.len(), 6);
    for f in &decoded {
        let (n, d) = f.delay().numer_denom_ms();
        assert_eq!(n / d, 400);
        assert_eq!(f.buffer().dimensions(), decoded[0].buffer().dimensions());
    }
    // Frames differ (the target clusters move).
    assert_ne!(decoded[0].buffer().as_raw(), decoded[5].buffer().as_raw());
}

#[test]
fn evolution_bad_input() {
    let d = tempfile::tempdir().unwrap();
    let (svg, png, gif) = (
        d.path().join("a.svg"),
        d.path().join("a.png"),
        d.path().join("a.gif"),
    );
    let st = style(ColorBy::Class);
    assert!(matches!(
        evolution_grid(&[], &st, 5, &svg, &png),
        Err(PlotError::Empty(_))
    ));
    let c = Array2::<f32>::zeros((3, 2));
    let frames = [
        EvolutionFrame {
            coords: c.view(),
            is_target: &[false, true, true],
            labels: &[0, 1, 2],
            title: "1".into(),
        },
        EvolutionFrame {
            coords: c.view(),
            is_target: &[false, true],
            labels: &[0, 1, 2],
            title: "2".into(),
        },
    ];
    let err = evolution_grid(&frames, &st, 5, &svg, &png).unwrap_err();
    assert!(
        matches!(
            err,
            PlotError::LengthMismatch {
                expected: 3,
                found: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("frame 1"), "{err}");
    assert!(matches!(
        evolution_grid(&frames[..1], &st, 0, &svg, &png),
        Err(PlotError::InvalidArgument(_))
    ));
    assert!(matches!(
        evolution_gif(&frames[..1], &st, &gif, 0),
        Err(PlotError::InvalidArgument(_))
    ));
    assert!(matches!(
        evolution_gif(&frames, &st, &gif, 100),
        Err(PlotError::LengthMismatch { .. })
    ));
    assert!(!svg.exists() && !png.exists() && !gif.exists());
}

const CURVES_CSV: &str = "epoch,domain,split,metric,value
1,source,train,accuracy,0.41
1,target,valid,accuracy,0.30
1,source,train,auroc,0.80
1,target,valid,auroc,0.74
2,source,train,accuracy,0.62
2,target,valid,accuracy,0.48
2,source,train,auroc,0.90
2,target,valid,auroc,0.85
3,source,train,accuracy,0.78
3,target,valid,accuracy,0.61
3,source,train,auroc,0.95
3,target,valid,auroc,0.93
";

#[test]
fn curves_read_and_draw() {
    let (_keep, dir) = out_dir();
    let csv = dir.join("curves.csv");
    std::fs::write(&csv, CURVES_CSV).unwrap();
    let c = read_curves(&csv).unwrap();
    assert_eq!(c.points.len(), 12);
    assert_eq!(
        c.metrics(),
        vec!["accuracy".to_string(), "auroc".to_string()]
    );
    let acc = c.values("accuracy", "target", "valid");
    assert_eq!(acc.len(), 3);
    for ((e, v), (we, wv)) in acc.iter().zip([(1, 30.0), (2, 48.0), (3, 61.0)]) {
        assert_eq!(*e, we);
        assert!((v - wv).abs() < 1e-9, "{v} vs {wv}");
    }
    let (svg, png) = (dir.join("curves.svg"), dir.join("curves.png"));
    curves_figure(&c, "mobilenetv3_rw · Clipart → Art", &svg, &png).unwrap();
    let img = image::open(&png).unwrap().to_rgb8();
    assert!(img.width() >= 1600);
    assert!(near(&img, [SOURCE_COLOR.0, SOURCE_COLOR.1, SOURCE_COLOR.2], 0) > 50);
    assert!(near(&img, [TARGET_COLOR.0, TARGET_COLOR.1, TARGET_COLOR.2], 0) > 50);
    let text = std::fs::read_to_string(&svg).unwrap();
    let texts = svg_texts(&text);
    for want in [
        "Accuracy",
        "source · train",
        "target · valid",
        "epoch",
        "accuracy (%)",
        "AUROC (%)",
    ] {
        assert!(
            texts.iter().any(|t| t == want),
            "{want} missing from {texts:?}"
        );
    }
    assert!(texts.iter().any(|t| t == "mobilenetv3_rw · Clipart → Art"));
}

#[test]
fn curves_legend_wraps_instead_of_running_off_the_canvas() {
    // Nine long series (as `select` draws: the true accuracy and every validator).
    let (_keep, dir) = out_dir();
    let mut body = String::from("epoch,domain,split,metric,value\n");
    let names: Vec<String> = (0..9)
        .map(|k| format!("a rather long validator name number {k}"))
        .collect();
    for n in &names {
        for e in 1..=3 {
            body.push_str(&format!("{e},{n},valid,score,{}\n", 0.1 * e as f64));
        }
    }
    let csv = dir.join("many.csv");
    std::fs::write(&csv, body).unwrap();
    let c = read_curves(&csv).unwrap();
    let (svg, png) = (dir.join("many.svg"), dir.join("many.png"));
    curves_figure(&c, "many series", &svg, &png).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let width: f64 = doc
        .root_element()
        .attribute("width")
        .unwrap()
        .parse()
        .unwrap();
    let mut rows = std::collections::BTreeSet::new();
    let mut seen = 0;
    for n in doc.descendants().filter(|n| n.tag_name().name() == "text") {
        let t = n.text().unwrap_or("").trim();
        if !names.iter().any(|name| t.starts_with(name.as_str())) {
            continue;
        }
        seen += 1;
        let x: f64 = n.attribute("x").unwrap().parse().unwrap();
        let y: f64 = n.attribute("y").unwrap().parse().unwrap();
        assert!(x >= 0.0 && x < width, "{t} starts at x = {x}");
        rows.insert(y as i64);
    }
    assert_eq!(seen, names.len(), "every series is in the legend");
    assert!(
        rows.len() >= 2,
        "nine long entries need more than one legend row"
    );
    let img = image::open(&png).unwrap().to_rgb8();
    // No ink in the last columns of the legend band (rows of entries and the note under them).
    let (w, h) = img.dimensions();
    for y in h - 3 * 36..h {
        for x in w - 12..w {
            let p = img.get_pixel(x, y).0;
            assert!(
                p.iter().all(|&c| c > 200),
                "legend ink at ({x}, {y}): {p:?}"
            );
        }
    }
    let small = image::open(dir.join("curves.png")).ok();
    if let Some(small) = small {
        assert!(img.height() > small.height());
    }
}

fn csv_error(body: &str) -> String {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("curves.csv");
    std::fs::write(&p, body).unwrap();
    let e = read_curves(&p).unwrap_err();
    let s = e.to_string();
    assert!(s.contains("curves.csv"), "{s}");
    s
}

#[test]
fn curves_errors_name_file_and_line() {
    let s = csv_error("epoch,domain,split,metric,value\n1,source,train,accuracy,0.4\n2,source,train,accuracy,abc\n");
    assert!(s.contains("curves.csv:3:") && s.contains("'abc'"), "{s}");
    let s = csv_error("epoch,domain,split,metric,value\n1,source,train,accuracy,0.4\n\n1,target,valid,auroc,0.5\nx,target,valid,auroc,0.5\n");
    assert!(s.contains("curves.csv:5:") && s.contains("epoch"), "{s}");
    let s =
        csv_error("epoch,domain,split,metric,value\n1,source,train,accuracy,0.4\n1,source,train\n");
    assert!(s.contains("curves.csv:3:"), "{s}");
    let s = csv_error("epoch,domain,metric,value\n1,source,accuracy,0.4\n");
    assert!(s.contains("curves.csv:1:") && s.contains("split"), "{s}");
    let s = csv_error(
        "epoch,domain,split,metric,value\n1,source,train,accuracy,0.4\n1,source,train,acc,0.5\n",
    );
    assert!(s.contains("curves.csv:3:") && s.contains("line 2"), "{s}");
    let s = csv_error("epoch,domain,split,metric,value\n1,source,train,auroc,140\n");
    assert!(s.contains("curves.csv:2:") && s.contains("140"), "{s}");
    let s = csv_error("epoch,domain,split,metric,value\n1,source,train,loss,NaN\n");
    assert!(s.contains("curves.csv:2:"), "{s}");
    let s = csv_error("epoch,domain,split,metric,value\n");
    assert!(s.contains("no data rows"), "{s}");
    let missing = read_curves(Path::new("/nonexistent/curves.csv")).unwrap_err();
    assert!(matches!(missing, TrainingLogError::Io { .. }));
}

#[test]
fn palette_is_tab10_and_stable() {
    let tab10 = [
        "1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2", "7f7f7f", "bcbd22",
        "17becf",
    ];
    for (i, hex) in tab10.iter().enumerate() {
        let c = class_color(i, 10);
        assert_eq!(
            format!("{:02x}{:02x}{:02x}", c.0, c.1, c.2),
            *hex,
            "class {i}"
        );
    }
    for i in 0..65 {
        assert_eq!(class_color(i, 65), class_color(i, 65));
        // A class keeps its colour whatever the class count.
        assert_eq!(class_color(i, 65), class_color(i, 200));
    }
    let distinct: HashSet<_> = (0..65)
        .map(|i| {
            let c = class_color(i, 65);
            (c.0, c.1, c.2)
        })
        .collect();
    assert_eq!(distinct.len(), 65);
}

#[test]
fn report_charts() {
    let (_keep, dir) = out_dir();
    let cn: Vec<String> = CLASSES[..4].iter().map(|s| s.to_string()).collect();
    let m = vec![
        vec![9, 1, 0, 0],
        vec![2, 7, 1, 0],
        vec![0, 0, 0, 0],
        vec![0, 3, 0, 12],
    ];
    let svg = confusion_heatmap_svg(&m, &cn, "Confusion · target valid").unwrap();
    let texts = svg_texts(&svg);
    assert!(texts.iter().any(|t| t == "Confusion · target valid"));
    for want in ["9", "7", "12", "3"] {
        assert!(texts.iter().any(|t| t == want), "count {want} missing");
    }
    assert_eq!(
        texts.iter().filter(|t| *t == "Bed").count(),
        2,
        "row and column label"
    );
    // A row without samples is grey; zero cells of other rows get the scale's lightest colour.
    assert_eq!(svg.matches("fill=\"#EEEEEE\"").count(), 4);
    assert!(svg.contains("fill=\"#F7FBFF\""));
    let (hs, hp) = (dir.join("confusion.svg"), dir.join("confusion.png"));
    confusion_heatmap(&m, &cn, "Confusion · target valid", &hs, &hp).unwrap();
    assert_eq!(std::fs::read_to_string(&hs).unwrap(), svg);
    let img = image::open(&hp).unwrap().to_rgb8();
    assert!(
        near(&img, [0xee, 0xee, 0xee], 0) > 4 * 30 * 30,
        "grey empty row missing"
    );
    let err = confusion_heatmap_svg(&m[..3], &cn, "x").unwrap_err();
    assert!(matches!(
        err,
        PlotError::LengthMismatch {
            expected: 4,
            found: 3,
            ..
        }
    ));
    let mut ragged = m.clone();
    ragged[1].pop();
    assert!(matches!(
        confusion_heatmap_svg(&ragged, &cn, "x"),
        Err(PlotError::LengthMismatch { .. })
    ));
    assert!(matches!(
        confusion_heatmap_svg(&[], &[], "x"),
        Err(PlotError::Empty(_))
    ));

    let vals = vec![
        ("Bed".to_string(), Some(0.875)),
        ("Webcam".to_string(), None),
        ("Drill".to_string(), Some(0.0)),
    ];
    let svg = per_class_bars_svg(&vals, "Per-class accuracy").unwrap();
    std::fs::write(dir.join("bars.svg"), &svg).unwrap();
    let texts = svg_texts(&svg);
    for want in ["Per-class accuracy", "87.5%", "n/a", "0.0%", "Webcam"] {
        assert!(
            texts.iter().any(|t| t == want),
            "{want} missing from {texts:?}"
        );
    }
    let bad = vec![("Bed".to_string(), Some(87.5))];
    assert!(matches!(
        per_class_bars_svg(&bad, "x"),
        Err(PlotError::OutOfRange { .. })
    ));
    assert!(matches!(
        per_class_bars_svg(&[], "x"),
        Err(PlotError::Empty(_))
    ));
}

#[test]
fn same_input_gives_same_bytes() {
    let d = tempfile::tempdir().unwrap();
    let (coords, is_t, labels) = synthetic(3, 8, 6, 2.0, 3.0);
    let cn = names();
    let fig = TsneFigure {
        coords: coords.view(),
        is_target: &is_t,
        labels: &labels,
        class_names: &cn,
        source_name: "Art".into(),
        target_name: "Clipart".into(),
        title: "t".into(),
        subtitle: None,
    };
    let mut outs = Vec::new();
    for k in 0..2 {
        let (s, p) = (
            d.path().join(format!("{k}.svg")),
            d.path().join(format!("{k}.png")),
        );
        tsne_figure(&fig, &s, &p).unwrap();
        outs.push((std::fs::read(&s).unwrap(), std::fs::read(&p).unwrap()));
    }
    assert_eq!(outs[0], outs[1]);
}
