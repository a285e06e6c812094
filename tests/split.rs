//! Datasets, splits and manifests: layout rules, stratification, stability, validation errors.

mod common;

use common::{copy_tree, fixtures};
use dannscope::dataset::{Dataset, DatasetOptions};
use dannscope::split::{Manifest, Split, SplitRatios};

fn scan(root: &std::path::Path) -> Dataset {
    Dataset::scan(root, &DatasetOptions::default()).unwrap()
}

#[test]
fn dataset_layout_rules() {
    let ds = scan(&fixtures().join("data"));
    let names: Vec<_> = ds
        .domains
        .iter()
        .map(|d| (d.name.as_str(), d.code.as_str()))
        .collect();
    assert_eq!(names, [("Art", "A"), ("Real World", "R")]);
    assert_eq!(ds.classes, ["Circle", "Cross", "Square", "Triangle"]);
    // 6 PNG + 1 JPEG + 1 big PNG per (domain, class); the hidden file is ignored silently.
    assert_eq!(ds.images.len(), 2 * 4 * 8);
    assert!(ds.images.iter().any(|i| i.rel_path.contains("é")));
    assert!(ds.images.iter().any(|i| i.rel_path.ends_with(".PNG")));
    let stray: Vec<_> = ds.stray.iter().map(|s| s.rel_path.as_str()).collect();
    assert_eq!(stray, ["Art/Circle/notes.txt", "README.txt"]);
    // A class subset, and an unknown class named in the error.
    let sub = Dataset::scan(
        &fixtures().join("data"),
        &DatasetOptions {
            classes: Some(vec!["Square".into(), "Circle".into()]),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(sub.classes, ["Circle", "Square"]);
    assert_eq!(sub.images.len(), 2 * 2 * 8);
    let err = Dataset::scan(
        &fixtures().join("data"),
        &DatasetOptions {
            classes: Some(vec!["Bed".into()]),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("\"Bed\"") && err.contains("Circle"), "{err}");
    let err = Dataset::scan(&fixtures().join("nope"), &DatasetOptions::default()).unwrap_err();
    assert!(err.to_string().contains("nope"));
}

#[test]
fn new_manifest_is_stratified_seeded_and_deterministic() {
    let ds = scan(&fixtures().join("data"));
    let r = SplitRatios::default();
    let a = Manifest::create(&ds, &r, 0);
    let b = Manifest::create(&ds, &r, 0);
    let c = Manifest::create(&ds, &r, 1);
    assert_eq!(a, b);
    assert_ne!(a, c);
    // 8 images per (domain, class): 5 train, 2 valid, 1 test by largest remainder (5.33, 1.33, 1.33).
    for d in ["Art", "Real World"] {
        for cl in &ds.classes {
            let mut n = [0; 3];
            for row in a.rows.iter().filter(|x| x.domain == d && &x.class == cl) {
                n[row.split as usize] += 1;
            }
            assert_eq!(n.iter().sum::<usize>(), 8);
            assert_eq!(n, r.counts(8), "{d}/{cl}");
        }
    }
}

#[test]
fn adding_images_never_moves_existing_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("data");
    copy_tree(&fixtures().join("data"), &root);
    let r = SplitRatios::default();
    let before = Manifest::create(&scan(&root), &r, 7);
    // Add 10 images to one class and remove one elsewhere.
    for i in 0..10 {
        std::fs::copy(
            root.join("Art/Circle/circle_00.png"),
            root.join(format!("Art/Circle/added_{i}.png")),
        )
        .unwrap();
    }
    std::fs::remove_file(root.join("Real World/Cross/cross_03.png")).unwrap();
    let (after, s) = before.update(&scan(&root), &r, 7);
    assert_eq!((s.added, s.removed), (10, 1));
    for row in &before.rows {
        if let Some(now) = after.rows.iter().find(|x| x.path == row.path) {
            assert_eq!(now.split, row.split, "{} moved", row.path);
        } else {
            assert!(row.path.ends_with("cross_03.png"));
        }
    }
    // The grown stratum is still close to its ratios: 18 images → 12 / 3 / 3.
    let mut n = [0; 3];
    for row in after
        .rows
        .iter()
        .filter(|x| x.domain == "Art" && x.class == "Circle")
    {
        n[row.split as usize] += 1;
    }
    assert_eq!(n, [12, 3, 3]);
    // Round trip through the CSV file.
    let f = tmp.path().join("m.csv");
    after.write(&f).unwrap();
    assert_eq!(Manifest::read(&f, &root).unwrap(), after);
}

fn write(dir: &std::path::Path, name: &str, text: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn manifest_validation_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let root = fixtures().join("data");
    let ok = "Art/Circle/circle_00.png,Art,Circle,train";
    // BOM and CRLF accepted; `val` accepted for valid.
    let p = write(
        tmp.path(),
        "bom.csv",
        format!(
            "\u{feff}path,domain,class,split\r\n{ok}\r\nArt/Cross/cross_00.png,Art,Cross,val\r\n"
        )
        .as_bytes(),
    );
    let m = Manifest::read(&p, &root).unwrap();
    assert_eq!(m.rows.len(), 2);
    assert_eq!(m.rows[1].split, Split::Valid);

    let cases: [(&str, String, &str); 6] = [
        (
            "nocol.csv",
            format!("path,domain,split\n{ok}\n"),
            ":1: expected the header path,domain,class,split",
        ),
        (
            "missing.csv",
            format!("path,domain,class,split\n{ok}\nArt/Circle/gone.png,Art,Circle,test\n"),
            ":3: image \"Art/Circle/gone.png\" does not exist",
        ),
        (
            "split.csv",
            "path,domain,class,split\nArt/Circle/circle_00.png,Art,Circle,holdout\n".into(),
            ":2: split \"holdout\"",
        ),
        (
            "escape.csv",
            "path,domain,class,split\n../data/Art/Circle/circle_00.png,Art,Circle,test\n".into(),
            ":2: path \"../data/Art/Circle/circle_00.png\" must be relative",
        ),
        (
            "dup.csv",
            format!("path,domain,class,split\n{ok}\n{ok}\n"),
            ":3: \"Art/Circle/circle_00.png\" is listed twice",
        ),
        (
            "empty.csv",
            "path,domain,class,split\n".into(),
            "lists no images",
        ),
    ];
    for (name, text, want) in cases {
        let p = write(tmp.path(), name, text.as_bytes());
        let err = Manifest::read(&p, &root).unwrap_err().to_string();
        assert!(err.contains(name) && err.contains(want), "{name}: {err}");
    }
}
