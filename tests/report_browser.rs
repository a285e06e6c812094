//! The report's `index.html` as a reader sees it: the demo's report rendered in headless Chromium at
//! 1280×800 and 1920×1080 by `tests/browser/report_check.mjs` (puppeteer-core, the system Chromium, no
//! download). At both sizes the page body does not overflow horizontally, the study summary sits on
//! the first screen, every compared run shows its verdict, and no text is smaller than 11 px.
//!
//! Skips with a message when Chromium, Node or `tests/browser/node_modules` is missing, unless
//! `DANNSCOPE_REQUIRE_BROWSER=1`. Screenshots go to `outputs/report_browser/`.

#[path = "common/browser.rs"]
mod browser;

use std::path::Path;
use std::process::Command;

#[test]
fn demo_report_reads_at_1280_and_1920_wide() {
    if !browser::can_run("demo_report_reads_at_1280_and_1920_wide") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let st = Command::new(env!("CARGO_BIN_EXE_dannscope"))
        .args(["demo", "-q", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success(), "dannscope demo failed");
    let index = out.join("report/index.html");
    let md = std::fs::read_to_string(out.join("report/report.md")).unwrap();
    let n_verdicts = md.matches("**Verdict:**").count();
    assert!(n_verdicts >= 1, "the demo's report.md has no verdict");

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("outputs/report_browser");
    std::fs::create_dir_all(&shots).unwrap();
    let o = Command::new("node")
        .current_dir(browser::browser_dir())
        .arg("report_check.mjs")
        .arg(&index)
        .arg(&shots)
        .args(["1280x800", "1920x1080"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    for l in &lines {
        assert_eq!(l["overflow"].as_f64(), Some(0.0), "{l}");
        assert!(l["smallest"].as_f64().unwrap() >= 11.0, "{l}");
        // The page shows the verdicts report.md states, one per compared run.
        let shown = l["verdicts"].as_array().unwrap();
        assert_eq!(shown.len(), n_verdicts, "{l}");
        for v in shown {
            let text = v.as_str().unwrap();
            let escaped = text.replace('[', "\\[").replace(']', "\\]");
            assert!(md.contains(&format!("**Verdict:** {escaped}")), "{text}");
        }
    }
}
