//! What the headless-Chromium tests share: the scripts' folder and the check that the browser, Node
//! and puppeteer-core are there.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// `tests/browser`, where the puppeteer scripts and their `node_modules` live.
pub fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Why a browser test cannot run here, if it cannot.
pub fn missing() -> Option<String> {
    let chromium =
        std::env::var("DANNSCOPE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!(
            "no Chromium at {chromium} (apt-get install chromium)"
        ));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("no node on PATH".into());
    }
    if !browser_dir().join("node_modules/puppeteer-core").is_dir() {
        return Some("tests/browser/node_modules is missing (cd tests/browser && npm ci)".into());
    }
    None
}

/// Whether the test `name` can run; when it cannot, a failure under `DANNSCOPE_REQUIRE_BROWSER=1`
/// (CI), else a skip with the reason.
pub fn can_run(name: &str) -> bool {
    let Some(why) = missing() else {
        return true;
    };
    if std::env::var("DANNSCOPE_REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!("DANNSCOPE_REQUIRE_BROWSER=1 but the browser test cannot run: {why}");
    }
    eprintln!("SKIPPED {name}: {why}");
    false
}
