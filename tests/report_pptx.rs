//! `report.pptx`: the package's structure (parts, content types, relationships, well-formed XML,
//! 16:9, one font), native tables in the study's order, the same bytes for the same input, and, when
//! the tools are installed, LibreOffice Impress converting it to a PDF of one page per slide and
//! python-pptx reading every table back with the numbers of `results.csv`
//! (`scripts/read_pptx_tables.py`). With `DANNSCOPE_REQUIRE_OFFICE=1` (CI) a missing tool is a
//! failure instead of a skip. Set `DANNSCOPE_PPTX_OUT` to a folder to keep the deck and its PDF.

#[path = "common/report_input.rs"]
mod report_input;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use dannscope::config::RunConfig;
use dannscope::plot::{
    side_by_side, tsne_figure, ColorBy, EvolutionFrame, EvolutionStyle, TsneFigure,
    SIDE_BY_SIDE_TEXT_PX,
};
use dannscope::report::{
    points_interval, run_ids, signed_points, study_tables, write_report, BaselineComparison,
    ReportFiles, ReportInput, RunOutcome,
};
use ndarray::Array2;
use report_input::{results, run, CLASSES};

/// Forward, reversed and baseline runs (the baseline named like the adapted model and configured
/// first), a failed run, and figures: t-SNE for two runs, an evolution grid and training curves.
fn input(dir: &Path) -> ReportInput {
    let mut runs = vec![
        run("MobileNetV3", "baseline", "R-P", 5, 0.3),
        run("MobileNetV3", "forward", "R-P", 1, 1.1),
        run("MobileNetV3", "forward", "P-C", 2, 0.9),
        run("ResMLP <12> & co", "forward", "R-P", 3, 0.6),
        run("MobileNetV3", "reversed", "P-R", 4, 1.0),
    ];
    runs.push(RunOutcome::failed_with(
        RunConfig {
            model: "models/broken.onnx".into(),
            pair: "C-A".into(),
            name: Some("Broken".into()),
            group: None,
            curves: None,
            checkpoints: vec![],
            baseline: None,
        },
        "Broken",
        "forward",
        "C-A",
        "engine: cannot open models/broken.onnx: expected an ONNX file, found 0 bytes",
    ));
    let n = 40;
    let coords = Array2::from_shape_fn((n, 2), |(i, j)| ((i * 7 + j * 3) % 11) as f32);
    let is_target: Vec<bool> = (0..n).map(|i| i >= n / 2).collect();
    let labels: Vec<u32> = (0..n).map(|i| (i % 4) as u32).collect();
    let class_names: Vec<String> = CLASSES.iter().map(|s| s.to_string()).collect();
    for k in [0, 1] {
        let (svg, png) = (dir.join(format!("t{k}.svg")), dir.join(format!("t{k}.png")));
        tsne_figure(
            &TsneFigure {
                coords: coords.view(),
                is_target: &is_target,
                labels: &labels,
                class_names: &class_names,
                source_name: "Real World".into(),
                target_name: "Product".into(),
                title: "R→P".into(),
                subtitle: None,
            },
            &svg,
            &png,
        )
        .unwrap();
        results(&mut runs[k]).tsne_png = Some(png);
        results(&mut runs[k]).tsne_svg = Some(svg);
    }
    // The adapted R→P run beside its baseline: the pair slide.
    let frame = |title: &str| EvolutionFrame {
        coords: coords.view(),
        is_target: &is_target,
        labels: &labels,
        title: title.into(),
    };
    let (svg, png) = (dir.join("versus.svg"), dir.join("versus.png"));
    side_by_side(
        &[frame("MobileNetV3 · baseline"), frame("MobileNetV3")],
        &EvolutionStyle {
            class_names: class_names.clone(),
            source_name: "Real World".into(),
            target_name: "Product".into(),
            title: String::new(),
            color_by: ColorBy::Class,
        },
        &svg,
        &png,
    )
    .unwrap();
    results(&mut runs[1]).versus_png = Some(png);
    results(&mut runs[1]).versus_svg = Some(svg);
    let baseline_id = run_ids(&runs)[0].clone();
    // On the same target images: the difference of the two runs' own target accuracies.
    let (acc_base, acc_run) = (
        runs[0].target_accuracy().unwrap(),
        runs[1].target_accuracy().unwrap(),
    );
    let difference = acc_run - acc_base;
    results(&mut runs[1]).diagnosis.baseline = Some(BaselineComparison {
        baseline: runs[0].name.clone(),
        baseline_id: Some(baseline_id),
        n: 40,
        accuracy_baseline: acc_base,
        accuracy_run: acc_run,
        difference,
        difference_ci: Some((difference - 0.15, difference + 0.15)),
        level: 0.95,
        baseline_only: 1,
        run_only: 11,
        p_value: 0.0063,
        per_class: vec![],
        overlap: vec![],
        fixed: vec![],
        broken: vec![],
        json: None,
    });
    let evo = dir.join("evolution.png");
    image::RgbImage::from_pixel(30, 20, image::Rgb([10, 200, 30]))
        .save(&evo)
        .unwrap();
    let curves = dir.join("curves.png");
    image::RgbImage::from_pixel(40, 20, image::Rgb([200, 20, 30]))
        .save(&curves)
        .unwrap();
    results(&mut runs[1]).evolution_png = Some(evo);
    results(&mut runs[1]).curves_png = Some(curves.clone());
    results(&mut runs[0]).curves_png = Some(curves);
    ReportInput {
        title: "DANN study: OfficeHome & co".into(),
        split: "test".into(),
        runs,
        settings: vec![],
    }
}

struct Deck {
    _tmp: tempfile::TempDir,
    input: ReportInput,
    files: ReportFiles,
    parts: BTreeMap<String, Vec<u8>>,
    order: Vec<String>,
}

fn deck() -> Deck {
    let tmp = tempfile::tempdir().unwrap();
    let figs = tmp.path().join("figs");
    std::fs::create_dir_all(&figs).unwrap();
    let input = input(&figs);
    let files = write_report(&tmp.path().join("report"), &input).unwrap();
    if let Some(keep) = std::env::var_os("DANNSCOPE_PPTX_OUT") {
        write_report(Path::new(&keep), &input).unwrap();
    }
    let bytes = std::fs::read(&files.report_pptx).unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut parts = BTreeMap::new();
    let mut order = Vec::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let mut b = Vec::new();
        e.read_to_end(&mut b).unwrap();
        order.push(e.name().to_string());
        assert!(
            parts.insert(e.name().to_string(), b).is_none(),
            "duplicate part {}",
            e.name()
        );
    }
    Deck {
        _tmp: tmp,
        input,
        files,
        parts,
        order,
    }
}

fn text(d: &Deck, part: &str) -> String {
    String::from_utf8(d.parts[part].clone()).unwrap_or_else(|_| panic!("{part} is not UTF-8"))
}

/// Slides in presentation order: part names from the presentation's relationships.
fn slide_parts(d: &Deck) -> Vec<String> {
    let pres = text(d, "ppt/presentation.xml");
    let rels = text(d, "ppt/_rels/presentation.xml.rels");
    let pdoc = roxmltree::Document::parse(&pres).unwrap();
    let rdoc = roxmltree::Document::parse(&rels).unwrap();
    pdoc.descendants()
        .filter(|n| n.has_tag_name("sldId"))
        .map(|n| {
            let rid = n
                .attributes()
                .find(|a| a.name() == "id" && a.namespace().is_some())
                .unwrap()
                .value();
            let target = rdoc
                .descendants()
                .find(|r| r.attribute("Id") == Some(rid))
                .unwrap()
                .attribute("Target")
                .unwrap();
            format!("ppt/{target}")
        })
        .collect()
}

/// Resolves a relationship target against the folder of the part that owns the `.rels` file.
fn resolve(rels_part: &str, target: &str) -> String {
    let owner_dir = rels_part
        .strip_suffix(".rels")
        .unwrap()
        .replace("_rels/", "");
    let mut parts: Vec<&str> = owner_dir.split('/').collect();
    parts.pop();
    for seg in target.split('/') {
        match seg {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            s => parts.push(s),
        }
    }
    parts.join("/")
}

#[test]
fn package_parts_types_and_relationships_are_complete() {
    let d = deck();
    assert_eq!(d.order[0], "[Content_Types].xml", "content types first");
    // Every XML part is well formed.
    for (name, bytes) in &d.parts {
        if name.ends_with(".xml") || name.ends_with(".rels") {
            let s = std::str::from_utf8(bytes).unwrap();
            roxmltree::Document::parse(s).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    // Every part has a content type, every override names an existing part.
    let ct = text(&d, "[Content_Types].xml");
    let ct = roxmltree::Document::parse(&ct).unwrap();
    let defaults: Vec<&str> = ct
        .descendants()
        .filter(|n| n.has_tag_name("Default"))
        .map(|n| n.attribute("Extension").unwrap())
        .collect();
    let overrides: Vec<&str> = ct
        .descendants()
        .filter(|n| n.has_tag_name("Override"))
        .map(|n| n.attribute("PartName").unwrap())
        .collect();
    for o in &overrides {
        assert!(
            d.parts.contains_key(&o[1..]),
            "override of a missing part {o}"
        );
    }
    for name in d.parts.keys().filter(|n| *n != "[Content_Types].xml") {
        let ext = name.rsplit('.').next().unwrap();
        assert!(
            overrides.contains(&format!("/{name}").as_str()) || defaults.contains(&ext),
            "{name} has no content type"
        );
    }
    // Every relationship resolves to a part of the package.
    let mut n_rels = 0;
    for name in d.parts.keys().filter(|n| n.ends_with(".rels")) {
        let s = text(&d, name);
        let doc = roxmltree::Document::parse(&s).unwrap();
        for r in doc.descendants().filter(|n| n.has_tag_name("Relationship")) {
            let target = resolve(name, r.attribute("Target").unwrap());
            assert!(d.parts.contains_key(&target), "{name}: {target} is missing");
            n_rels += 1;
        }
    }
    assert!(n_rels > 20, "{n_rels}");
    // Every slide is listed once, 16:9, one content type override per slide.
    let slides = slide_parts(&d);
    let n_slide_parts = d
        .parts
        .keys()
        .filter(|n| n.starts_with("ppt/slides/slide") && n.ends_with(".xml"))
        .count();
    assert_eq!(slides.len(), n_slide_parts);
    assert_eq!(
        overrides
            .iter()
            .filter(|o| o.starts_with("/ppt/slides/"))
            .count(),
        n_slide_parts
    );
    let pres = text(&d, "ppt/presentation.xml");
    assert!(
        pres.contains("<p:sldSz cx=\"12192000\" cy=\"6858000\"/>"),
        "16:9"
    );
    // Every typeface named is Arial (theme and runs).
    for (name, bytes) in &d.parts {
        let s = String::from_utf8_lossy(bytes);
        for t in s.split("typeface=\"").skip(1) {
            let face = &t[..t.find('"').unwrap()];
            assert!(
                face == "Arial" || face.is_empty(),
                "{name}: typeface {face}"
            );
        }
    }
    // A picture per bitmap: one pair slide's maps (the adapted run beside its baseline, whose own
    // t-SNE maps therefore have no slide), one evolution grid, two curves.
    let media = d
        .parts
        .keys()
        .filter(|n| n.starts_with("ppt/media/"))
        .count();
    assert_eq!(media, 4);
}

/// Texts of the first cell of each row of the named tables of a slide, and the tables' names.
fn tables(xml: &str) -> Vec<(String, Vec<Vec<String>>)> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("graphicFrame"))
        .map(|f| {
            let name = f
                .descendants()
                .find(|n| n.has_tag_name("cNvPr"))
                .unwrap()
                .attribute("name")
                .unwrap()
                .to_string();
            let rows = f
                .descendants()
                .filter(|n| n.has_tag_name("tr"))
                .map(|tr| {
                    tr.children()
                        .filter(|c| c.has_tag_name("tc"))
                        .map(|tc| {
                            tc.descendants()
                                .filter(|t| t.has_tag_name("t"))
                                .filter_map(|t| t.text())
                                .collect::<Vec<_>>()
                                .join("\n")
                        })
                        .collect()
                })
                .collect();
            (name, rows)
        })
        .collect()
}

#[test]
fn tables_are_native_in_the_study_order_with_baselines_last() {
    let d = deck();
    let slides = slide_parts(&d);
    let all: Vec<(usize, String, Vec<Vec<String>>)> = slides
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            tables(&text(&d, s))
                .into_iter()
                .map(move |(n, r)| (i, n, r))
        })
        .collect();
    let study: Vec<&(usize, String, Vec<Vec<String>>)> = all
        .iter()
        .filter(|t| t.1.starts_with("Study table: "))
        .collect();
    let want = study_tables(&d.input.runs);
    assert_eq!(study.len(), want.len());
    // Forward table: header, then the adapted models, the labelled baseline last.
    let fw = &study[0].2;
    assert_eq!(fw[0], ["Model", "Metric", "R→P", "P→C", "C→A", "Average"]);
    let labels: Vec<&str> = fw[1..]
        .iter()
        .map(|r| r[0].as_str())
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        labels,
        [
            "MobileNetV3",
            "ResMLP <12> & co",
            "Broken\n(failed: C→A)",
            "MobileNetV3 · source only"
        ]
    );
    // The baseline's block: its accuracy line (label in its first cell), then its AUROC line.
    let base = &d.input.runs[0];
    let n = fw.len();
    assert_eq!(fw[n - 2][0], "MobileNetV3 · source only");
    assert_eq!(fw[n - 2][1], "Accuracy");
    let pct = |v: f64| format!("{:.2}", v * 100.0);
    // A value, and below it its bootstrap interval with one decimal.
    let lines = |s: &str| s.split('\n').map(str::to_string).collect::<Vec<_>>();
    let c = base
        .domain(base.target())
        .and_then(|d| d.classification.clone())
        .unwrap();
    let iv = c
        .accuracy_ci
        .as_ref()
        .expect("the test runs have intervals");
    assert_eq!(
        lines(&fw[n - 2][2]),
        [
            pct(c.accuracy),
            format!("[{:.1}, {:.1}]", iv.lower * 100.0, iv.upper * 100.0)
        ]
    );
    assert_eq!(
        (fw[n - 1][0].as_str(), fw[n - 1][1].as_str()),
        ("", "AUROC")
    );
    assert_eq!(lines(&fw[n - 1][2])[0], pct(base.target_auroc().unwrap()));
    // Order of the kinds of table over the deck: study, effect (accuracy then alignment), cohesion,
    // then key numbers per run.
    let kinds: Vec<&str> = all.iter().map(|t| t.1.split(':').next().unwrap()).collect();
    let first = |k: &str| kinds.iter().position(|x| *x == k).unwrap();
    let last = |k: &str| kinds.iter().rposition(|x| *x == k).unwrap();
    assert!(last("Study table") < first("Effect table"));
    assert!(last("Effect table") < first("Cohesion table"));
    assert!(last("Cohesion table") < first("Key numbers"));
    let effect: Vec<&Vec<Vec<String>>> = all
        .iter()
        .filter(|t| t.1 == "Effect table")
        .map(|t| &t.2)
        .collect();
    assert_eq!(effect.len(), 2, "accuracy and alignment halves");
    for h in ["Δ target acc. (points)", "Interval of Δ", "McNemar p"] {
        assert!(effect[0][0].contains(&h.to_string()), "{h}");
    }
    assert!(effect[1][0].contains(&"A-distance adapted".to_string()));
    let coh = &all[last("Cohesion table")].2;
    assert_eq!(coh.last().unwrap()[0], "MobileNetV3 · source only");
    // One slide per run, with its key numbers (the failed run: its error instead), except the adapted
    // run shown beside its baseline on one pair slide, and that baseline.
    let ok_runs = d.input.runs.iter().filter(|r| !r.failed()).count() - 2;
    assert_eq!(
        kinds.iter().filter(|k| **k == "Key numbers").count(),
        ok_runs
    );
    let failed_slide = slides
        .iter()
        .map(|s| text(&d, s))
        .find(|x| x.contains("Broken · C→A · FAILED"))
        .expect("a slide for the failed run");
    assert!(failed_slide.contains("expected an ONNX file, found 0 bytes"));
    // The odd name is escaped in the XML and read back intact.
    assert!(all
        .iter()
        .any(|t| t.1 == "Key numbers: ResMLP <12> & co (R-P)"));
}

#[test]
fn same_input_gives_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let input = input(tmp.path());
    let a = write_report(&tmp.path().join("a"), &input).unwrap();
    let b = write_report(&tmp.path().join("b"), &input).unwrap();
    let (x, y) = (
        std::fs::read(&a.report_pptx).unwrap(),
        std::fs::read(&b.report_pptx).unwrap(),
    );
    assert_eq!(x, y);
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(x)).unwrap();
    for i in 0..z.len() {
        let e = z.by_index(i).unwrap();
        let t = e.last_modified().unwrap();
        assert_eq!(
            (t.year(), t.month(), t.day(), t.hour(), t.minute()),
            (1980, 1, 1, 0, 0)
        );
    }
}

/// Whether the office tools are required (CI) rather than optional.
fn required() -> bool {
    std::env::var("DANNSCOPE_REQUIRE_OFFICE").as_deref() == Ok("1")
}

fn skip_or_fail(why: &str) {
    if required() {
        panic!("DANNSCOPE_REQUIRE_OFFICE=1 but {why}");
    }
    eprintln!("skipping: {why}");
}

fn pdf_pages(pdf: &Path) -> usize {
    let out = Command::new("pdfinfo").arg(pdf).output();
    if let Some(o) = out.ok().filter(|o| o.status.success()) {
        let s = String::from_utf8_lossy(&o.stdout).to_string();
        if let Some(l) = s.lines().find(|l| l.starts_with("Pages:")) {
            return l[6..].trim().parse().unwrap();
        }
    }
    // Without pdfinfo: count the page objects (LibreOffice writes them uncompressed).
    let b = std::fs::read(pdf).unwrap();
    let s = String::from_utf8_lossy(&b);
    s.matches("/Type/Page").count() - s.matches("/Type/Pages").count()
}

#[test]
fn libreoffice_opens_the_deck_with_one_page_per_slide() {
    let d = deck();
    if Command::new("soffice").arg("--version").output().is_err() {
        return skip_or_fail("soffice (Debian libreoffice-impress) is not installed");
    }
    let out = tempfile::tempdir().unwrap();
    let profile = out.path().join("profile");
    let status = Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(out.path())
        .arg(&d.files.report_pptx)
        .output()
        .unwrap();
    let pdf = out.path().join("report.pdf");
    assert!(
        pdf.is_file(),
        "LibreOffice wrote no PDF: {}{}",
        String::from_utf8_lossy(&status.stdout),
        String::from_utf8_lossy(&status.stderr)
    );
    assert_eq!(pdf_pages(&pdf), slide_parts(&d).len());
    if let Some(keep) = std::env::var_os("DANNSCOPE_PPTX_OUT") {
        std::fs::copy(&pdf, PathBuf::from(keep).join("report.pdf")).unwrap();
    }
}

#[test]
fn python_pptx_reads_every_table_with_the_numbers_of_results_csv() {
    let d = deck();
    let has = Command::new("python3")
        .args(["-c", "import pptx"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        return skip_or_fail("python-pptx is not installed (pip install python-pptx)");
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/read_pptx_tables.py");
    let o = Command::new("python3")
        .arg(script)
        .arg(&d.files.report_pptx)
        .arg(&d.files.results_csv)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let last = stdout.lines().last().unwrap();
    let checked: usize = last.split_whitespace().nth(1).unwrap().parse().unwrap();
    // Study tables (values and intervals), effect table, key numbers, pair measures and cohesion.
    assert!(checked >= 140, "{last}");
    let n_tables: usize = last.split_whitespace().nth(4).unwrap().parse().unwrap();
    // Two tables (key numbers, pair measures) per run slide: every finished run but the adapted run
    // and its baseline shown together on a pair slide.
    let ok_runs = d.input.runs.iter().filter(|r| !r.failed()).count() - 2;
    // The cohesion table's measures are split over slides of at most six columns.
    let cohesion_slides = dannscope::report::cohesion_table(&d.input.runs)
        .metrics
        .len()
        .div_ceil(6);
    assert_eq!(
        n_tables,
        study_tables(&d.input.runs).len() + 2 + 2 * ok_runs + cohesion_slides,
        "{last}"
    );
}

/// A shape's rectangle in EMU: (name, x, y, width, height); a table's height is the sum of its rows'.
fn shape_rects(xml: &str) -> Vec<(String, i64, i64, i64, i64)> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let tree = doc
        .descendants()
        .find(|n| n.has_tag_name("spTree"))
        .expect("a shape tree");
    let num =
        |n: roxmltree::Node<'_, '_>, a: &str| -> i64 { n.attribute(a).unwrap().parse().unwrap() };
    tree.children()
        .filter(|n| n.is_element() && ["sp", "pic", "graphicFrame"].contains(&n.tag_name().name()))
        .map(|s| {
            let name = s
                .descendants()
                .find(|n| n.has_tag_name("cNvPr"))
                .and_then(|n| n.attribute("name"))
                .unwrap_or("")
                .to_string();
            let off = s.descendants().find(|n| n.has_tag_name("off")).unwrap();
            let ext = s.descendants().find(|n| n.has_tag_name("ext")).unwrap();
            let rows: i64 = s
                .descendants()
                .filter(|n| n.has_tag_name("tr"))
                .map(|n| num(n, "h"))
                .sum();
            let h = num(ext, "cy").max(rows);
            (name, num(off, "x"), num(off, "y"), num(ext, "cx"), h)
        })
        .collect()
}

#[test]
fn every_slide_keeps_its_shapes_on_the_slide_apart_and_its_text_at_12_pt_or_more() {
    let d = deck();
    let pres = text(&d, "ppt/presentation.xml");
    let doc = roxmltree::Document::parse(&pres).unwrap();
    let size = doc.descendants().find(|n| n.has_tag_name("sldSz")).unwrap();
    let (w, h): (i64, i64) = (
        size.attribute("cx").unwrap().parse().unwrap(),
        size.attribute("cy").unwrap().parse().unwrap(),
    );
    let slides = slide_parts(&d);
    assert!(slides.len() >= 8, "{} slides", slides.len());
    for s in &slides {
        let xml = text(&d, s);
        let rects = shape_rects(&xml);
        assert!(!rects.is_empty(), "{s}: no shapes");
        for (name, x, y, cx, cy) in &rects {
            assert!(
                *x >= 0 && *y >= 0 && x + cx <= w && y + cy <= h,
                "{s}: {name:?} runs off the slide: ({x}, {y}) + ({cx} × {cy}) on {w} × {h}"
            );
        }
        for (i, a) in rects.iter().enumerate() {
            for b in &rects[i + 1..] {
                let apart =
                    a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1 || a.2 + a.4 <= b.2 || b.2 + b.4 <= a.2;
                assert!(apart, "{s}: {:?} overlaps {:?}", a.0, b.0);
            }
        }
        // Every run of text states its size; none below 12 pt (sz in hundredths of a point).
        let xdoc = roxmltree::Document::parse(&xml).unwrap();
        for r in xdoc.descendants().filter(|n| n.has_tag_name("rPr")) {
            let sz: u32 = r
                .attribute("sz")
                .unwrap_or_else(|| panic!("{s}: a text run without a size"))
                .parse()
                .unwrap();
            assert!(sz >= 1200, "{s}: text at {} pt", sz as f64 / 100.0);
        }
    }
}

/// The pixel size of a slide's picture, decoded from its media part.
fn picture_pixels(d: &Deck, slide: &str, rid: &str) -> (u32, u32) {
    let (dir, file) = slide.rsplit_once('/').unwrap();
    let rels_part = format!("{dir}/_rels/{file}.rels");
    let rels = text(d, &rels_part);
    let doc = roxmltree::Document::parse(&rels).unwrap();
    let target = doc
        .descendants()
        .find(|r| r.attribute("Id") == Some(rid))
        .and_then(|r| r.attribute("Target"))
        .unwrap_or_else(|| panic!("{slide}: no relationship {rid}"));
    let media = resolve(&rels_part, target);
    image::ImageReader::new(std::io::Cursor::new(&d.parts[&media]))
        .with_guessed_format()
        .unwrap()
        .into_dimensions()
        .unwrap()
}

#[test]
fn a_pair_slide_shows_the_run_beside_its_baseline_with_its_verdict_and_legible_maps() {
    let d = deck();
    let slides = slide_parts(&d);
    let with_verdict: Vec<&String> = slides
        .iter()
        .filter(|s| shape_rects(&text(&d, s)).iter().any(|r| r.0 == "Verdict"))
        .collect();
    assert_eq!(
        with_verdict.len(),
        1,
        "one adapted run has a baseline figure"
    );
    let xml = text(&d, with_verdict[0]);
    assert!(
        xml.contains("R→P · MobileNetV3 against MobileNetV3 · source only"),
        "{xml}"
    );
    // The verdict states the difference with its interval and McNemar p.
    let b = d.input.runs[1]
        .results()
        .unwrap()
        .diagnosis
        .baseline
        .clone()
        .unwrap();
    let (lo, hi) = b.difference_ci.unwrap();
    let stated = format!(
        "{} points {}",
        signed_points(100.0 * b.difference),
        points_interval((100.0 * lo, 100.0 * hi))
    );
    assert!(xml.contains(&stated), "{stated} in {xml}");
    assert!(xml.contains("p = 0.0063"), "{xml}");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let pics: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("pic"))
        .collect();
    assert_eq!(pics.len(), 1);
    let rid = pics[0]
        .descendants()
        .find(|n| n.has_tag_name("blip"))
        .and_then(|n| n.attributes().find(|a| a.name() == "embed"))
        .unwrap()
        .value()
        .to_string();
    let cx: f64 = pics[0]
        .descendants()
        .find(|n| n.has_tag_name("ext"))
        .and_then(|n| n.attribute("cx"))
        .unwrap()
        .parse()
        .unwrap();
    let (w, _) = picture_pixels(&d, with_verdict[0], &rid);
    // EMU per point: 12,700. Every text of the figure is SIDE_BY_SIDE_TEXT_PX pixels high.
    let pt = SIDE_BY_SIDE_TEXT_PX * (cx / 12_700.0) / w as f64;
    assert!(pt >= 12.0, "the maps' legend comes out at {pt:.1} pt");
    // The baseline shown beside it gets no slide of its own; the other runs keep theirs.
    let titles: Vec<String> = slides.iter().map(|s| text(&d, s)).collect();
    let baseline_slides = titles
        .iter()
        .filter(|x| x.contains("MobileNetV3 · source only · R→P"))
        .count();
    assert_eq!(
        baseline_slides, 0,
        "the baseline's own run slide is left out"
    );
    assert!(titles.iter().any(|x| x.contains("P→C")));
}
