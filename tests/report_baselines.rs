//! Source-only baselines in the report: labelled as such and below the adapted rows in the study
//! tables, the cohesion table and every format; the table of what adaptation changes; the study's
//! column order for reversed pairs.

#[path = "common/report_input.rs"]
mod report_input;

use dannscope::report::{
    baseline_label, cohesion_table, effect_table, study_tables, write_report, BaselineComparison,
    CsvExporter, EffectCell, Exporter, Paired, ReportInput, RunOutcome, StudyOutline,
};
use report_input::{results, run};

const SO: &str = "MobileNetV3 · source only";

/// Baselines configured first and named like the adapted model, reversed pairs in an order unlike
/// the forward table's.
fn runs() -> Vec<RunOutcome> {
    vec![
        run("MobileNetV3", "baseline", "R-P", 5, 0.3),
        run("MobileNetV3", "reversed", "C-P", 7, 1.0),
        run("MobileNetV3", "forward", "R-P", 1, 1.1),
        run("MobileNetV3", "forward", "P-C", 2, 0.9),
        run("MobileNetV3", "baseline", "P-C", 6, 0.2),
        run("ResMLP", "forward", "R-P", 3, 0.6),
        run("MobileNetV3", "reversed", "P-R", 4, 1.0),
    ]
}

fn target_acc_pct(r: &RunOutcome) -> f64 {
    r.target_accuracy().unwrap() * 100.0
}

#[test]
fn baseline_labels_say_source_only_once() {
    assert_eq!(baseline_label("MobileNetV3", true), SO);
    assert_eq!(baseline_label("MobileNetV3", false), "MobileNetV3");
    for named in ["demo_cnn · source only", "Baseline", "net (source-only)"] {
        assert_eq!(baseline_label(named, true), named);
    }
}

#[test]
fn study_tables_put_labelled_baselines_below_the_adapted_rows() {
    let runs = runs();
    let t = study_tables(&runs);
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].group, "forward");
    assert_eq!(t[0].pairs, ["R-P", "P-C"]);
    let labels: Vec<&str> = t[0].rows.iter().map(|r| r.model.as_str()).collect();
    assert_eq!(labels, ["MobileNetV3", "ResMLP", SO]);
    let flags: Vec<bool> = t[0].rows.iter().map(|r| r.baseline).collect();
    assert_eq!(flags, [false, false, true]);
    // The baseline row holds the baselines' numbers, the adapted row the adapted runs'.
    let base = &t[0].rows[2];
    assert_eq!(
        base.accuracy,
        [
            Some(target_acc_pct(&runs[0])),
            Some(target_acc_pct(&runs[4]))
        ]
    );
    assert_eq!(
        t[0].rows[0].accuracy,
        [
            Some(target_acc_pct(&runs[2])),
            Some(target_acc_pct(&runs[3]))
        ]
    );
    // Reversed pairs follow the forward columns (P→R under R→P), whatever the configuration order.
    assert_eq!(t[1].group, "reversed");
    assert_eq!(t[1].pairs, ["P-R", "C-P"]);
    assert!(t[1].rows.iter().all(|r| !r.baseline));
}

#[test]
fn cohesion_rows_follow_the_study_order_with_baselines_last() {
    let c = cohesion_table(&runs());
    let rows: Vec<(&str, &str, bool)> = c
        .rows
        .iter()
        .map(|r| (r.model.as_str(), r.pair.as_str(), r.baseline))
        .collect();
    assert_eq!(
        rows,
        [
            ("MobileNetV3", "R-P", false),
            ("MobileNetV3", "P-C", false),
            ("ResMLP", "R-P", false),
            ("MobileNetV3", "C-P", false),
            ("MobileNetV3", "P-R", false),
            (SO, "R-P", true),
            (SO, "P-C", true),
        ]
    );
}

#[test]
fn effect_table_sets_each_adapted_run_against_its_baseline() {
    let runs = runs();
    let e = effect_table(&runs);
    let keys: Vec<(&str, &str, &str)> = e
        .rows
        .iter()
        .map(|r| (r.pair.as_str(), r.model.as_str(), r.baseline.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("R-P", "MobileNetV3", SO),
            ("P-C", "MobileNetV3", SO),
            ("R-P", "ResMLP", SO)
        ],
        "reversed runs have no baseline of their pair"
    );
    for (row, (a, b)) in e.rows.iter().zip([(2, 0), (3, 4), (5, 0)]) {
        let (a, b) = (&runs[a], &runs[b]);
        assert_eq!(row.adapted.accuracy, Some(target_acc_pct(a)));
        assert_eq!(row.source_only.accuracy, Some(target_acc_pct(b)));
        assert_eq!(
            row.accuracy_delta(),
            Some(target_acc_pct(a) - target_acc_pct(b))
        );
        let cohesion = |r: &RunOutcome, m: &str| r.pair_result().unwrap().cohesion.value(m);
        assert_eq!(row.adapted.a_distance, cohesion(a, "proxy_a_distance"));
        assert_eq!(row.source_only.mmd2, cohesion(b, "mmd2_rbf"));
        // Per-class target accuracy, counted here from the evaluation.
        let per_class = |r: &RunOutcome| -> Vec<f64> {
            r.domain(r.target())
                .unwrap()
                .classification
                .as_ref()
                .unwrap()
                .per_class
                .iter()
                .map(|p| p.accuracy.unwrap())
                .collect()
        };
        let (pa, pb) = (per_class(a), per_class(b));
        let better = pa.iter().zip(&pb).filter(|(x, y)| x > y).count();
        let worse = pa.iter().zip(&pb).filter(|(x, y)| x < y).count();
        assert_eq!(
            (row.classes_better, row.classes_worse, row.classes_compared),
            (better, worse, pa.len())
        );
        assert!(better + worse > 0, "the synthetic runs differ per class");
        let cells = row.cells();
        assert_eq!(
            cells.last(),
            Some(&EffectCell::Text(format!("{better} / {worse}")))
        );
        // Not compared on paired images: no interval, no McNemar p.
        assert_eq!(row.paired, None);
        assert_eq!(cells[6], EffectCell::Text("—".into()));
        assert_eq!(cells[7], EffectCell::Text("—".into()));
    }
    assert!(
        effect_table(&runs[1..4]).rows.is_empty(),
        "no baseline, no rows"
    );
}

#[test]
fn the_effect_table_shows_the_paired_difference_with_its_interval_and_mcnemar_p() {
    let mut runs = runs();
    let comparison = |baseline: &str| BaselineComparison {
        baseline: baseline.into(),
        baseline_id: None,
        n: 200,
        accuracy_baseline: 0.705,
        accuracy_run: 0.79,
        difference: 0.085,
        difference_ci: Some((0.02, 0.145)),
        level: 0.95,
        baseline_only: 10,
        run_only: 27,
        p_value: 0.0095,
        per_class: vec![],
        overlap: vec![],
        fixed: vec![],
        broken: vec![],
        json: None,
    };
    results(&mut runs[2]).diagnosis.baseline = Some(comparison("MobileNetV3"));
    // A comparison with another baseline than the row's is not used.
    results(&mut runs[3]).diagnosis.baseline = Some(comparison("Another"));
    let e = effect_table(&runs);
    let rp = &e.rows[0];
    assert_eq!(
        (rp.pair.as_str(), rp.model.as_str()),
        ("R-P", "MobileNetV3")
    );
    let p = rp
        .paired
        .expect("the R→P run was compared with its baseline");
    assert!((p.delta - 8.5).abs() < 1e-9);
    assert_eq!(
        rp.accuracy_delta(),
        Some(p.delta),
        "the paired difference, once"
    );
    let cells = rp.cells();
    assert_eq!(cells[5], EffectCell::Delta(Some(p.delta)));
    assert_eq!(cells[6], EffectCell::Text("[+2.0, +14.5]".into()));
    assert_eq!(cells[7], EffectCell::Text("0.0095".into()));
    assert_eq!(e.rows[1].paired, None::<Paired>);
}

/// The forward table's rows in a rendered document: first cell of each line, in order.
fn order_in(text: &str, labels: &[&str]) -> Vec<usize> {
    labels
        .iter()
        .map(|l| {
            text.find(l)
                .unwrap_or_else(|| panic!("{l} missing in:\n{text}"))
        })
        .collect()
}

#[test]
fn every_format_labels_baselines_and_puts_them_last() {
    let tmp = tempfile::tempdir().unwrap();
    let input = ReportInput {
        title: "t".into(),
        split: "test".into(),
        runs: runs(),
        settings: vec![],
    };
    let f = write_report(tmp.path(), &input).unwrap();
    let ascending = |v: Vec<usize>| v.windows(2).all(|w| w[0] < w[1]);

    let md = std::fs::read_to_string(&f.report_md).unwrap();
    let forward =
        &md[md.find("### Forward pairs").unwrap()..md.find("### Reversed pairs").unwrap()];
    assert!(ascending(order_in(
        forward,
        &[
            "| MobileNetV3 | Accuracy",
            "| ResMLP | Accuracy",
            &format!("| {SO} | Accuracy")
        ]
    )));
    let coh = &md[md.find("## Cohesion").unwrap()..md.find("## Runs").unwrap()];
    assert!(ascending(order_in(
        coh,
        &["| ResMLP | R→P", &format!("| {SO} | R→P")]
    )));

    let tex = std::fs::read_to_string(&f.tables_tex).unwrap();
    let so_tex = "MobileNetV3 \\textperiodcentered{} source only";
    let first = &tex[..tex.find("\\end{table}").unwrap()];
    assert!(ascending(order_in(first, &["ResMLP &", so_tex])));
    assert!(tex.is_ascii());

    let html = std::fs::read_to_string(&f.index_html).unwrap();
    let study = &html[html.find("<table class=\"study\"").unwrap()..];
    assert!(ascending(order_in(
        study,
        &[
            "<tr class=\"first\"><th scope=\"row\" rowspan=\"2\">ResMLP",
            &format!("<tr class=\"first baseline\"><th scope=\"row\" rowspan=\"2\"><em>{SO}</em>")
        ]
    )));

    let csv = CsvExporter.table(&StudyOutline::new(&study_tables(&input.runs)[0]));
    let models: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(
        models,
        ["MobileNetV3", "MobileNetV3", "ResMLP", "ResMLP", SO, SO]
    );

    // results.csv names the baseline rows by their label, so they never mix with the adapted run's.
    let mut rd = csv::Reader::from_path(&f.results_csv).unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    let acc = |model: &str| -> Vec<f64> {
        rows.iter()
            .filter(|r| {
                &r[0] == model && &r[1] == "R-P" && &r[3] == "Product" && &r[4] == "accuracy"
            })
            .map(|r| r[5].parse().unwrap())
            .collect()
    };
    let runs = &input.runs;
    assert_eq!(acc(SO), [runs[0].target_accuracy().unwrap()]);
    assert_eq!(acc("MobileNetV3"), [runs[2].target_accuracy().unwrap()]);
}
