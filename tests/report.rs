//! Tests of the report stage: numbers in `results.csv` against the evaluation structs, the study table
//! layout, LaTeX escaping and booktabs rules, and a self-contained HTML page.
//!
//! Set `DANNSCOPE_REPORT_OUT` to a folder to keep a rendered report for inspection.

#[path = "common/report_input.rs"]
mod report_input;

use std::path::{Path, PathBuf};

use dannscope::config::RunConfig;
use dannscope::markup::html_escape;
use dannscope::plot::{tsne_figure, TsneFigure};
use dannscope::report::{
    check_self_contained, run_ids, study_tables, write_report, CsvExporter, Exporter, HtmlExporter,
    LatexExporter, MarkdownExporter, ReportInput, RunOutcome, StudyOutline, RESULTS_HEADER,
};
use ndarray::{Array1, Array2};
use report_input::{results, run, CLASSES};

const ODD: &str = "ResMLP_12 <distilled> & 5%";
const ERROR: &str = "engine: cannot open models/broken.onnx: expected an ONNX file, found 0 bytes";

/// Forward runs of two models (one without the P-C pair), a baseline without AUROC, a reversed run, and a
/// failed run.
fn input(fig_dir: &Path) -> ReportInput {
    let mut runs = vec![
        run("MobileNetV3", "forward", "R-P", 1, 1.1),
        run("MobileNetV3", "forward", "P-C", 2, 0.9),
        run(ODD, "forward", "R-P", 3, 0.6),
        run("MobileNetV3", "reversed", "P-R", 4, 1.0),
    ];
    let mut base = run("Baseline", "baseline", "R-P", 5, 0.3);
    for d in &mut results(&mut base).eval.domains {
        let c = d.classification.as_mut().unwrap();
        c.auroc = None;
        c.auroc_ci = None;
    }
    results(&mut base).eval.pairs.clear();
    runs.insert(0, base);
    let failed = RunOutcome::failed_with(
        RunConfig {
            model: "models/broken.onnx".into(),
            pair: "C-A".into(),
            name: Some("Broken<Net>".into()),
            group: None,
            curves: None,
            checkpoints: vec![],
            baseline: None,
        },
        "Broken<Net>",
        "forward",
        "C-A",
        ERROR,
    );
    runs.push(failed);

    // Real figure files for the first MobileNetV3 run.
    let n = 40;
    let coords = Array2::from_shape_fn((n, 2), |(i, j)| ((i * 7 + j * 3) % 11) as f32);
    let is_target: Vec<bool> = (0..n).map(|i| i >= n / 2).collect();
    let labels: Vec<u32> = (0..n).map(|i| (i % 4) as u32).collect();
    let class_names: Vec<String> = CLASSES.iter().map(|s| s.to_string()).collect();
    let svg = fig_dir.join("tsne.svg");
    let png = fig_dir.join("tsne.png");
    tsne_figure(
        &TsneFigure {
            coords: coords.view(),
            is_target: &is_target,
            labels: &labels,
            class_names: &class_names,
            source_name: "Real World".into(),
            target_name: "Product".into(),
            title: "MobileNetV3 R→P".into(),
            subtitle: None,
        },
        &svg,
        &png,
    )
    .unwrap();
    let evo = fig_dir.join("evolution.png");
    image::RgbImage::from_pixel(3, 2, image::Rgb([10, 200, 30]))
        .save(&evo)
        .unwrap();
    results(&mut runs[1]).tsne_svg = Some(svg);
    results(&mut runs[1]).tsne_png = Some(png);
    results(&mut runs[1]).evolution_png = Some(evo);

    ReportInput {
        title: "DANN study: OfficeHome".into(),
        split: "test".into(),
        runs,
        settings: vec![
            ("data root".into(), "/data/OfficeHome".into()),
            ("seed".into(), "0".into()),
        ],
    }
}

fn target_acc(r: &RunOutcome) -> f64 {
    let e = r.eval().unwrap();
    e.domain(r.target())
        .unwrap()
        .classification
        .as_ref()
        .unwrap()
        .accuracy
}

/// A study cell of report.md: the value with two decimals, then its bootstrap interval.
fn md_cell(r: &RunOutcome, auroc: bool) -> String {
    let c = r
        .eval()
        .unwrap()
        .domain(r.target())
        .unwrap()
        .classification
        .clone()
        .unwrap();
    let (v, iv) = if auroc {
        (c.auroc.unwrap(), c.auroc_ci)
    } else {
        (c.accuracy, c.accuracy_ci)
    };
    let p2 = |x: f64| format!("{:.2}", x * 100.0);
    match iv {
        Some(i) => format!("{} [{:.2}, {:.2}]", p2(v), 100.0 * i.lower, 100.0 * i.upper),
        None => p2(v),
    }
}

fn target_auroc(r: &RunOutcome) -> f64 {
    let e = r.eval().unwrap();
    e.domain(r.target())
        .unwrap()
        .classification
        .as_ref()
        .unwrap()
        .auroc
        .unwrap()
}

struct Written {
    _tmp: tempfile::TempDir,
    input: ReportInput,
    dir: PathBuf,
    files: dannscope::report::ReportFiles,
}

fn written() -> Written {
    let tmp = tempfile::tempdir().unwrap();
    let figs = tmp.path().join("runs");
    std::fs::create_dir_all(&figs).unwrap();
    let input = input(&figs);
    let dir = tmp.path().join("report");
    let files = write_report(&dir, &input).unwrap();
    // Set DANNSCOPE_REPORT_OUT to a folder to keep a copy of the report for inspection.
    if let Some(keep) = std::env::var_os("DANNSCOPE_REPORT_OUT") {
        write_report(Path::new(&keep), &input).unwrap();
    }
    Written {
        _tmp: tmp,
        input,
        dir,
        files,
    }
}

#[test]
fn results_csv_holds_the_exact_eval_numbers() {
    let w = written();
    let mut rd = csv::Reader::from_path(&w.files.results_csv).unwrap();
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, RESULTS_HEADER);
    assert_eq!(
        std::fs::read_to_string(&w.files.results_csv)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
        "model,pair,split,domain,metric,value"
    );
    let rows: Vec<Vec<String>> = rd
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let find = |model: &str, pair: &str, domain: &str, metric: &str| -> Option<f64> {
        let hits: Vec<&Vec<String>> = rows
            .iter()
            .filter(|r| r[0] == model && r[1] == pair && r[3] == domain && r[4] == metric)
            .collect();
        assert!(
            hits.len() <= 1,
            "duplicate rows for {model} {pair} {domain} {metric}"
        );
        hits.first().map(|r| {
            assert_eq!(r[2], "test");
            if r[5].is_empty() {
                f64::NAN
            } else {
                r[5].parse::<f64>().unwrap()
            }
        })
    };
    let mut checked = 0;
    for r in w.input.runs.iter().filter(|r| r.error().is_none()) {
        let e = r.eval().unwrap();
        for d in &e.domains {
            let c = d.classification.as_ref().unwrap();
            let acc = find(&r.name, &r.pair, &d.domain, "accuracy").unwrap();
            assert_eq!(
                acc.to_bits(),
                c.accuracy.to_bits(),
                "{} {}",
                r.name,
                d.domain
            );
            let au = find(&r.name, &r.pair, &d.domain, "auroc").unwrap();
            match c.auroc {
                Some(v) => assert_eq!(au.to_bits(), v.to_bits()),
                None => assert!(au.is_nan(), "missing AUROC must be an empty field"),
            }
            assert_eq!(find(&r.name, &r.pair, &d.domain, "n"), Some(d.n as f64));
            let ci = c.accuracy_ci.as_ref().unwrap();
            assert_eq!(
                find(&r.name, &r.pair, &d.domain, "accuracy_ci_low")
                    .unwrap()
                    .to_bits(),
                ci.lower.to_bits()
            );
            checked += 1;
        }
        for p in &e.pairs {
            for m in &p.cohesion.metrics {
                let v = find(&r.name, &r.pair, "pair", &m.name).unwrap();
                match m.value {
                    Some(x) => assert_eq!(v.to_bits(), x.to_bits(), "{}", m.name),
                    None => assert!(v.is_nan()),
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 30, "only {checked} values checked");
    assert!(
        rows.iter().all(|r| r[0] != "Broken<Net>"),
        "a failed run has no rows"
    );
}

fn table_line<'a>(md: &'a str, start: &str) -> Vec<&'a str> {
    md.lines().filter(|l| l.starts_with(start)).collect()
}

fn cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_matches('|')
        .split(" | ")
        .map(|c| c.trim().to_string())
        .collect()
}

#[test]
fn markdown_tables_have_the_study_layout() {
    let w = written();
    let md = std::fs::read_to_string(&w.files.report_md).unwrap();
    let runs = &w.input.runs;
    let (mrp, mpc, odd, mrev, base) = (&runs[1], &runs[2], &runs[3], &runs[4], &runs[0]);
    let p2 = |x: f64| format!("{:.2}", x * 100.0);

    // Forward table: columns R→P, P→C, C→A (the failed run's pair), Average.
    let headers = table_line(&md, "| Model | Metric |");
    assert_eq!(
        headers.len(),
        2,
        "one forward and one reversed table:\n{md}"
    );
    assert_eq!(
        cells(headers[0]),
        ["Model", "Metric", "R→P", "P→C", "C→A", "Average"]
    );
    assert_eq!(cells(headers[1]), ["Model", "Metric", "P→R", "Average"]);

    // Baseline last (configured first), accuracy only, no average (P→C and C→A missing).
    let b = table_line(&md, "| Baseline |");
    assert_eq!(b.len(), 1);
    assert_eq!(
        cells(b[0]),
        ["Baseline", "Accuracy", &md_cell(base, false), "—", "—", "—"]
    );
    let forward: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("| Model | Metric |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(
        forward.last().copied(),
        Some(b[0]),
        "the baseline is the last row of the forward table, without an AUROC line:\n{md}"
    );
    let labels: Vec<String> = forward
        .iter()
        .map(|l| cells(l)[0].clone())
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        labels,
        [
            "MobileNetV3",
            "ResMLP\\_12 \\<distilled\\> & 5%",
            "Broken\\<Net\\> (failed: C→A)",
            "Baseline"
        ]
    );

    // MobileNetV3: both forward pairs, C→A missing, so no average.
    let m = table_line(&md, "| MobileNetV3 | Accuracy |");
    assert_eq!(m.len(), 2, "forward and reversed rows");
    assert_eq!(
        cells(m[0]),
        [
            "MobileNetV3",
            "Accuracy",
            &md_cell(mrp, false),
            &md_cell(mpc, false),
            "—",
            "—"
        ]
    );
    let au = md.lines().skip_while(|l| *l != m[0]).nth(1).unwrap();
    assert_eq!(
        cells(au),
        [
            "",
            "AUROC",
            &md_cell(mrp, true),
            &md_cell(mpc, true),
            "—",
            "—"
        ]
    );
    // Reversed table: one pair, so the average equals it.
    assert_eq!(
        cells(m[1]),
        [
            "MobileNetV3",
            "Accuracy",
            &md_cell(mrev, false),
            &p2(target_acc(mrev))
        ]
    );
    // The odd name is escaped and its row has only R→P.
    let o = table_line(&md, "| ResMLP\\_12 \\<distilled\\> & 5% | Accuracy |");
    assert_eq!(o.len(), 1, "{md}");
    assert_eq!(cells(o[0])[2], md_cell(odd, false));
    assert_eq!(cells(o[0])[3], "—");
    // Failed run: its row is marked, cells missing.
    let f = table_line(&md, "| Broken\\<Net\\> (failed: C→A) | Accuracy |");
    assert_eq!(f.len(), 1, "{md}");
    assert_eq!(cells(f[0])[2..], ["—", "—", "—", "—"]);
    // Two decimals everywhere in the study tables.
    for l in md
        .lines()
        .filter(|l| l.contains("| Accuracy |") || l.contains("| AUROC |"))
    {
        for c in &cells(l)[2..] {
            // A value, and its interval where it has one, all with two decimals.
            for x in c.split(['[', ',', ']', ' ']).filter(|x| !x.is_empty()) {
                assert!(
                    x == "—" || (x.split_once('.').is_some_and(|(_, d)| d.len() == 2)),
                    "{x} in {l}"
                );
            }
        }
    }
    // Figures copied next to the report and linked relatively.
    assert!(md.contains("](figures/mobilenetv3-r-p-tsne.png)"), "{md}");
    assert!(w.dir.join("figures/mobilenetv3-r-p-tsne.png").is_file());
    assert!(w
        .dir
        .join("figures/mobilenetv3-r-p-evolution.png")
        .is_file());
    assert_eq!(w.files.figures.len(), 2);
    assert!(md.contains(ERROR));
    assert!(md.contains("## Failed runs"));
}

#[test]
fn averages_use_unrounded_values() {
    let tmp = tempfile::tempdir().unwrap();
    let a = run("Net", "forward", "R-P", 11, 1.0);
    let b = run("Net", "forward", "P-C", 12, 1.0);
    let c = run("Net", "forward", "C-A", 13, 1.0);
    let runs = vec![a, b, c];
    let t = study_tables(&runs);
    assert_eq!(t.len(), 1);
    let want: f64 = runs.iter().map(target_acc).sum::<f64>() / 3.0 * 100.0;
    let got = t[0].rows[0].accuracy_average().unwrap();
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    let md = MarkdownExporter.table(&StudyOutline::new(&t[0]));
    assert!(md.contains(&format!("| {want:.2} |")), "{md}");
    let want_au: f64 = runs.iter().map(target_auroc).sum::<f64>() / 3.0 * 100.0;
    assert!(md.contains(&format!("| {want_au:.2} |")), "{md}");
    drop(tmp);
}

#[test]
fn latex_tables_use_booktabs_and_escape() {
    let w = written();
    let tex = std::fs::read_to_string(&w.files.tables_tex).unwrap();
    assert_eq!(
        tex.matches("\\toprule").count(),
        4,
        "two study tables, the effect table and the cohesion table"
    );
    assert_eq!(tex.matches("\\midrule").count(), 4);
    assert_eq!(tex.matches("\\bottomrule").count(), 4);
    assert!(
        tex.contains("ResMLP\\_12 \\textless{}distilled\\textgreater{} \\& 5\\%"),
        "{tex}"
    );
    assert!(!tex.contains(ODD));
    assert!(tex.contains("R$\\to$P"));
    assert!(
        tex.contains("Broken\\textless{}Net\\textgreater{} (failed: C$\\to$A)"),
        "{tex}"
    );
    assert!(
        tex.is_ascii(),
        "plain ASCII for pdflatex: {:?}",
        tex.chars().filter(|c| !c.is_ascii()).collect::<String>()
    );
    // Measures appear under their glossary names, not their keys.
    assert!(tex.contains("Proxy A-distance"), "{tex}");
    assert!(!tex.contains("proxy\\_a\\_distance"));
    // Every `_`, `&` used as text is escaped: outside math and commands, the unescaped `&` only separates
    // columns, so each tabular row has exactly one `&` per column boundary.
    for l in tex.lines().filter(|l| l.trim_end().ends_with("\\\\")) {
        assert!(!l.contains(" _") && !l.contains("a_"), "unescaped _ in {l}");
    }
    let forward = &study_tables(&w.input.runs)[0];
    let one = LatexExporter.table(&StudyOutline::new(forward));
    for l in one.lines().filter(|l| l.trim_end().ends_with("\\\\")) {
        let bare = l.replace("\\&", "");
        assert_eq!(bare.matches('&').count(), forward.pairs.len() + 2, "{l}");
    }
}

#[test]
fn html_page_is_self_contained_and_complete() {
    let w = written();
    let html = std::fs::read_to_string(&w.files.index_html).unwrap();
    check_self_contained(&html).unwrap();
    for r in &w.input.runs {
        assert!(html.contains(&html_escape(&r.name)), "missing {}", r.name);
    }
    assert!(!html.contains("<distilled>"), "names must be escaped");
    assert!(!html.contains("Broken<Net>"));
    assert!(html.contains(&html_escape(ERROR)));
    assert!(html.contains("&lt;notice&gt; &amp; more"));
    // t-SNE inline, the evolution bitmap as a data URI, two charts per domain of every successful run.
    assert!(html.contains("data:image/png;base64,"));
    assert!(!html.contains("<?xml"));
    let ok_domains: usize = w.input.runs.iter().filter(|r| r.error().is_none()).count() * 2;
    assert_eq!(html.matches("<svg").count(), 1 + 2 * ok_domains);
    assert!(html.contains("Confusion matrix: MobileNetV3 R→P: Product"));
    let ids = run_ids(&w.input.runs);
    for id in &ids {
        assert!(html.contains(&format!("id=\"run-{id}\"")));
        assert!(html.contains(&format!("href=\"#run-{id}\"")));
    }
    assert!(html.contains("/data/OfficeHome"));
    assert!(html.contains(&"0".repeat(63)), "model sha256 shown");
}

#[test]
fn output_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let figs = tmp.path().join("runs");
    std::fs::create_dir_all(&figs).unwrap();
    let input = input(&figs);
    let a = write_report(&tmp.path().join("a"), &input).unwrap();
    let b = write_report(&tmp.path().join("b"), &input).unwrap();
    for (x, y) in [
        (&a.results_csv, &b.results_csv),
        (&a.report_md, &b.report_md),
        (&a.tables_tex, &b.tables_tex),
        (&a.index_html, &b.index_html),
    ] {
        assert_eq!(
            std::fs::read(x).unwrap(),
            std::fs::read(y).unwrap(),
            "{}",
            x.display()
        );
    }
    // Rewriting in place leaves no temporary files.
    write_report(&tmp.path().join("a"), &input).unwrap();
    for e in std::fs::read_dir(tmp.path().join("a")).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!n.ends_with(".tmp"), "{n}");
    }
}

#[test]
fn missing_figure_is_a_warning_and_no_runs_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mut r = run("Net", "forward", "R-P", 21, 1.0);
    results(&mut r).tsne_png = Some(tmp.path().join("gone.png"));
    results(&mut r).curves_svg = Some(tmp.path().join("gone.svg"));
    let input = ReportInput {
        title: "t".into(),
        split: "test".into(),
        runs: vec![r],
        settings: vec![],
    };
    let f = write_report(&tmp.path().join("out"), &input).unwrap();
    assert_eq!(f.warnings.len(), 2, "{:?}", f.warnings);
    assert!(f.warnings[0].contains("gone.png"));
    let html = std::fs::read_to_string(&f.index_html).unwrap();
    assert!(html.contains("gone.svg"));
    check_self_contained(&html).unwrap();

    let empty = ReportInput {
        title: "t".into(),
        split: "test".into(),
        runs: vec![],
        settings: vec![],
    };
    let e = write_report(&tmp.path().join("none"), &empty).unwrap_err();
    assert!(e.to_string().contains("at least one run"), "{e}");
}

#[test]
fn figure_already_inside_the_report_is_referenced_not_copied() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    std::fs::create_dir_all(dir.join("plots")).unwrap();
    let png = dir.join("plots/my tsne.png");
    image::RgbImage::from_pixel(2, 2, image::Rgb([1, 2, 3]))
        .save(&png)
        .unwrap();
    let before = std::fs::read(&png).unwrap();
    let mut r = run("Net", "forward", "R-P", 31, 1.0);
    results(&mut r).tsne_png = Some(png.clone());
    let input = ReportInput {
        title: "t".into(),
        split: "test".into(),
        runs: vec![r],
        settings: vec![],
    };
    let f = write_report(&dir, &input).unwrap();
    assert!(f.figures.is_empty());
    assert_eq!(std::fs::read(&png).unwrap(), before);
    let md = std::fs::read_to_string(&f.report_md).unwrap();
    assert!(md.contains("](plots/my%20tsne.png)"), "{md}");
}

#[test]
fn check_self_contained_rejects_outside_references() {
    assert!(check_self_contained(r#"<p>x</p><img src="x.png">"#).is_err());
    assert!(check_self_contained(r#"<a href="http://example.org/">x</a>"#).is_err());
    assert!(check_self_contained(r#"<a href="https://example.org/">x</a>"#).is_err());
    assert!(check_self_contained(r#"<script src="a.js"></script>"#).is_err());
    assert!(check_self_contained(r#"<style>@import url(x.css);</style>"#).is_err());
    assert!(check_self_contained(r#"<div style="background:url(x.png)"></div>"#).is_err());
    let e = check_self_contained(r#"<img alt="a" src="x.png">"#).unwrap_err();
    assert!(e.contains("x.png"), "{e}");
    assert!(check_self_contained(
        r##"<a href="#top">x</a><img src="data:image/png;base64,AA==">"##
    )
    .is_ok());
}

#[test]
fn csv_exporter_keeps_full_precision_percentages() {
    let tmp = tempfile::tempdir().unwrap();
    let input = input(tmp.path());
    let t = &study_tables(&input.runs)[0];
    let text = CsvExporter.table(&StudyOutline::new(t));
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, ["model", "metric", "R-P", "P-C", "C-A", "average"]);
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    let m = rows
        .iter()
        .find(|r| &r[0] == "MobileNetV3" && &r[1] == "accuracy")
        .unwrap();
    let v: f64 = m[2].parse().unwrap();
    assert_eq!(v.to_bits(), (target_acc(&input.runs[1]) * 100.0).to_bits());
    assert_eq!(&m[4], "", "missing cell is empty");
    assert!(
        rows.iter().any(|r| &r[0] == ODD),
        "names with commas or quotes stay one field"
    );
    let base: Vec<_> = rows.iter().filter(|r| &r[0] == "Baseline").collect();
    assert_eq!(base.len(), 1, "baseline without AUROC has one row");
}

#[test]
fn every_format_renders_the_same_outline_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let input = input(tmp.path());
    for table in study_tables(&input.runs) {
        let outline = StudyOutline::new(&table);
        let want: usize = outline.models.iter().map(|b| b.lines.len()).sum();
        let md = MarkdownExporter.table(&outline);
        // Header and rule, then one line per outline line.
        assert_eq!(md.lines().count() - 2, want, "{md}");
        let tex = LatexExporter.table(&outline);
        // Rows end in `\\`; the header row is one of them.
        assert_eq!(tex.matches("\\\\\n").count() - 1, want, "{tex}");
        let html = HtmlExporter.table(&outline);
        let body = &html[html.find("<tbody>").unwrap()..];
        assert_eq!(body.matches("<tr").count(), want, "{html}");
        // One `rowspan` per model block, spanning its lines.
        for b in &outline.models {
            assert!(
                html.contains(&format!("rowspan=\"{}\">", b.lines.len())),
                "{html}"
            );
        }
        let csv = CsvExporter.table(&outline);
        assert_eq!(csv.lines().count() - 1, want, "{csv}");
        for b in &outline.models {
            for l in &b.lines {
                let label = l.metric.label();
                assert!(md.contains(&format!(" | {label} |")), "{md}");
                assert!(tex.contains(&format!(" & {label}")), "{tex}");
                assert!(html.contains(&format!("<td>{label}</td>")), "{html}");
                assert!(csv.contains(&format!(",{},", l.metric.key())), "{csv}");
            }
        }
    }
    // A table-only format writes no document.
    assert_eq!(CsvExporter.file_name(), None);
    assert_eq!(MarkdownExporter.file_name(), Some("report.md"));
    assert_eq!(LatexExporter.file_name(), Some("tables.tex"));
    assert_eq!(HtmlExporter.file_name(), Some("index.html"));
}

#[test]
fn diagnosis_sections_find_the_baseline_render_escaped_and_stay_self_contained() {
    use dannscope::metrics::discriminator::domain_separation;
    use dannscope::pipeline::baseline::baseline_of;
    use dannscope::report::{
        BaselineComparison, ClassDelta, ClassMedoids, DiscriminatorView, Gallery, GalleryImage,
        RunDiagnosis, WrongCase,
    };
    let tmp = tempfile::tempdir().unwrap();
    let figs = tmp.path().join("runs");
    std::fs::create_dir_all(&figs).unwrap();
    let mut input = input(&figs);
    let find = |runs: &[RunOutcome], name: &str, pair: &str| {
        runs.iter()
            .position(|r| r.name == name && r.pair == pair && !r.is_baseline())
            .unwrap()
    };
    let rp = find(&input.runs, "MobileNetV3", "R-P");
    let pc = find(&input.runs, "MobileNetV3", "P-C");
    let base = input.runs.iter().position(|r| r.is_baseline()).unwrap();
    // The one baseline run of the pair is found; a baseline and a pair without one get none.
    assert_eq!(baseline_of(&input.runs, rp), Ok(Some(base)));
    assert_eq!(baseline_of(&input.runs, base), Ok(None));
    assert_eq!(baseline_of(&input.runs, pc), Ok(None));
    // A named baseline must exist on the pair.
    input.runs[rp].run.baseline = Some("Nope".into());
    let e = baseline_of(&input.runs, rp).unwrap_err();
    assert!(e.contains("\"Nope\"") && e.contains("R-P"), "{e}");
    input.runs[rp].run.baseline = Some("Baseline".into());
    assert_eq!(baseline_of(&input.runs, rp), Ok(Some(base)));
    // Two baselines on the pair: without a name the choice is ambiguous, so there is none.
    let mut twin = input.runs[base].clone();
    twin.name = "Other baseline".into();
    let mut two = input.runs.clone();
    two.push(twin);
    let odd = find(&two, ODD, "R-P");
    assert_eq!(baseline_of(&two, odd), Ok(None));
    assert_eq!(baseline_of(&two, rp), Ok(Some(base)), "the named one wins");

    // A diagnosis with text that needs escaping.
    let img = |class: &str, domain: &str| GalleryImage {
        path: format!("{domain}/<{class}>/x&y.jpg"),
        domain: domain.into(),
        class: class.into(),
        predicted: Some("Drill".into()),
        confidence: Some(0.875),
        distance: Some(1.25),
        thumbnail: Some("data:image/jpeg;base64,AAAA".into()),
    };
    let csv = tmp.path().join("R-P_gallery.csv");
    std::fs::write(&csv, "section,rank\nwrong,1\n").unwrap();
    let zs = Array1::from(vec![-2.0f32, -1.0, 0.5]);
    let zt = Array1::from(vec![1.0f32, -0.5]);
    let sep = domain_separation(zs.view(), zt.view(), 20).unwrap();
    results(&mut input.runs[rp]).diagnosis = RunDiagnosis {
        gallery: Some(Gallery {
            k: 1,
            n_wrong_total: 3,
            n_target: 9,
            wrong: vec![WrongCase {
                image: img("Bed<1>", "Product"),
                neighbours: vec![GalleryImage {
                    thumbnail: None,
                    ..img("Webcam", "Real World")
                }],
            }],
            medoids: vec![ClassMedoids {
                class: "Bed<1>".into(),
                source: Some(img("Bed<1>", "Real World")),
                target: None,
            }],
            csv: Some(csv.clone()),
        }),
        baseline: Some(BaselineComparison {
            baseline: "Baseline".into(),
            baseline_id: Some(run_ids(&input.runs)[base].clone()),
            n: 9,
            accuracy_baseline: 0.5,
            accuracy_run: 0.75,
            difference: 0.25,
            difference_ci: Some((0.05, 0.45)),
            level: 0.95,
            baseline_only: 1,
            run_only: 4,
            p_value: 0.375,
            per_class: vec![ClassDelta {
                class: "Bed<1>".into(),
                n: 9,
                baseline: Some(0.5),
                run: Some(0.75),
                delta: Some(0.25),
            }],
            overlap: vec![("Product".into(), 5, Some(0.5))],
            fixed: vec![img("Drill", "Product")],
            broken: vec![],
            json: None,
        }),
        discriminator: Some(DiscriminatorView {
            last: sep.clone(),
            epochs: vec![(1, sep.clone()), (2, sep)],
            svg: None,
        }),
        notices: vec!["a <notice>".into()],
    };
    let dir = tmp.path().join("report");
    write_report(&dir, &input).unwrap();
    let id = run_ids(&input.runs)[rp].clone();
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    check_self_contained(&html).unwrap();
    assert_eq!(
        std::fs::read(dir.join(format!("gallery-{id}.csv"))).unwrap(),
        std::fs::read(&csv).unwrap(),
        "the gallery CSV is copied next to the report"
    );
    assert!(html.contains(&format!("href=\"gallery-{id}.csv\"")));
    assert!(html.contains("Product/&lt;Bed&lt;1&gt;&gt;/x&amp;y.jpg"));
    assert!(!html.contains("<Bed<1>>"), "class names are escaped");
    assert!(html.contains("a &lt;notice&gt;"));
    assert!(html.contains("3 of 9 target images are wrong"));
    assert!(html.contains("difference <strong>25.0</strong> points, 95% paired bootstrap interval 5.0 to 45.0; McNemar exact p = 0.3750 (4 images right only with this model, 1 only with the baseline)"));
    assert!(
        html.contains("<span class=\"nothumb\">no image</span>"),
        "a neighbour without a thumbnail"
    );
    // The effect table's accuracy half under the study tables: the paired difference once, with its
    // interval and McNemar p.
    let summary = &html[html.find("What adaptation changes (1 of 2)").unwrap()..];
    assert!(summary.contains("<td class=\"num\">+25.0</td><td class=\"num\">[+5.0, +45.0]</td><td class=\"num\">0.3750</td>"), "{summary}");

    // Per-epoch discriminator rows: AUROC of 3 source vs 2 target logits = 5/6.
    assert!(html.contains("<tr><th scope=\"row\">2</th><td class=\"num\">0.833</td>"));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("**Against the source-only baseline** (Baseline): on the same 9 target images 75.0% vs 50.0%, difference 25.0 points"));
    assert!(md.contains(&format!("[gallery-{id}.csv](gallery-{id}.csv)")));
    assert!(md.contains("AUROC per epoch: 1: 0.833, 2: 0.833."));

    // The verdict: p = 0.375 with an interval clear of 0 is only a possible gain; it opens the run's
    // section and slide, and the study's summary sentence sits in the header and on the title slide.
    let verdict = "Possible gain: target accuracy +25.0 points [+5.0, +45.0] against source only, \
                   McNemar p = 0.3750 (the McNemar test is not significant)";
    let article = &html[html.find(&format!("id=\"run-{id}\"")).unwrap()..];
    let first_p = &article[article.find("<p").unwrap()..];
    assert!(
        first_p.starts_with(&format!("<p class=\"verdict possible-gain\">{verdict}")),
        "{}",
        &first_p[..300.min(first_p.len())]
    );
    let summary = "Adaptation significantly improves target accuracy on 0 of 1 compared run; \
                   mean change +25.0 points; no negative transfer.";
    let header = &html[..html.find("</header>").unwrap()];
    assert!(
        header.contains(&format!("<p class=\"summary\">{summary}</p>")),
        "{header}"
    );
    assert!(
        md.contains(&format!(
            "**Verdict:** {}",
            verdict.replace('[', "\\[").replace(']', "\\]")
        )),
        "{md}"
    );
    assert!(md.contains(&format!("**{summary}**")));
    let pptx = std::fs::read(dir.join("report.pptx")).unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(pptx)).unwrap();
    let mut slides = String::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        if f.name().starts_with("ppt/slides/slide") && f.name().ends_with(".xml") {
            std::io::Read::read_to_string(&mut f, &mut slides).unwrap();
        }
    }
    assert!(slides.contains(summary), "title slide headline");
    assert!(slides.contains("Possible gain: target accuracy +25.0 points [+5.0, +45.0]"));
}
