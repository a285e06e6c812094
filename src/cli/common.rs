//! What every command shares: exit statuses, finding and loading the model, printing notices.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use dannscope::config::Config;
use dannscope::model::ModelInfo;
use dannscope::settings::Settings;

/// Exit status: the command did its work.
pub const EXIT_OK: u8 = 0;
/// Exit status: an error stopped the command (bad input, unreadable files, a failed stage).
pub const EXIT_ERROR: u8 = 1;
// Status 2 is clap's: the command line itself is wrong (unknown flag, bad value).
/// Exit status: `report` or `demo` finished every run and wrote the report, but some runs failed.
pub const EXIT_RUNS_FAILED: u8 = 3;

/// The model of a command: the flag, else `model` of the config.
pub fn model_path(flag: Option<&Path>, cfg: &Config) -> Result<PathBuf> {
    flag.map(Path::to_path_buf)
        .or_else(|| cfg.model.clone())
        .context("no model: give --model FILE (or `model = \"FILE\"` in dannscope.toml)")
}

/// Load and check a model under the settings (before any image is read).
pub fn load_model(s: &Settings, path: &Path) -> Result<ModelInfo> {
    s.model(path)
        .load()
        .with_context(|| format!("cannot use the model {}", path.display()))
}

/// Print notices on stderr.
pub fn notes<S: AsRef<str>>(notices: &[S]) {
    for n in notices {
        eprintln!("note: {}", n.as_ref());
    }
}
