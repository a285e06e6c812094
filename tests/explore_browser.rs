//! The explore page in a real browser: headless Chromium, driven over the DevTools protocol by
//! `tests/browser/explore_check.mjs` (puppeteer-core, the system Chromium, no download).
//!
//! Skips with a message when Chromium, Node or `tests/browser/node_modules` is missing, unless
//! `DANNSCOPE_REQUIRE_BROWSER=1`, which turns the skip into a failure. Screenshots go to
//! `outputs/explore_browser/`, with the test page.

#[path = "common/browser.rs"]
mod browser;
mod explore_data;

use std::path::Path;
use std::process::Command;

use dannscope::explore::{build_page, write_page, ExploreParams, NO_THUMBNAIL};
use explore_data::{synthetic, ODD_ROW};

#[test]
fn explore_page_in_headless_chromium() {
    if !browser::can_run("explore_page_in_headless_chromium") {
        return;
    }
    let s = synthetic(700, 500, 6, 24, 11);
    let params = ExploreParams {
        k: 8,
        max_thumbnails: 1000,
        ..ExploreParams::default()
    };
    let page = build_page(&s.input(), &params, &|i| Some(s.thumb(i))).unwrap();
    // The page and what it must show stay beside the screenshots, for a look after a failure.
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("outputs/explore_browser");
    let html = out_dir.join("explore_test_page.html");
    write_page(&html, &page).unwrap();

    let n = s.labels.len();
    let point = ODD_ROW;
    let search = "evil<script>";
    let expected = serde_json::json!({
        "n": n,
        "n_source": s.is_target.iter().filter(|&&t| !t).count(),
        "source_name": s.input().source_name,
        "target_name": s.input().target_name,
        "point": point,
        "class": s.classes[s.labels[point] as usize],
        "path": s.paths[point],
        "disc": format!("{:.3}", s.disc[point]),
        "has_thumb": page.thumbnail_of[point] != NO_THUMBNAIL,
        "nn_source": page.nearest_source.of(point),
        "nn_target": page.nearest_target.of(point),
        "filter_class": 2,
        "n_filter_class": s.labels.iter().filter(|&&l| l == 2).count(),
        "n_wrong": (0..n).filter(|&i| s.pred(i) != s.labels[i]).count(),
        "search": search,
        "search_hits": (0..n).filter(|&i| s.paths[i].contains(search)).collect::<Vec<_>>(),
    });
    let expected_path = out_dir.join("explore_test_expected.json");
    std::fs::write(&expected_path, expected.to_string()).unwrap();
    let shots = out_dir;

    let out = Command::new("node")
        .current_dir(browser::browser_dir())
        .arg("explore_check.mjs")
        .arg(&html)
        .arg(&expected_path)
        .arg(&shots)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(
        out.status.success(),
        "browser checks failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.lines().filter(|l| l.contains("\"ok\":true")).count() >= 1);
    assert!(shots.join("explore_neighbours_default.png").exists());
}
