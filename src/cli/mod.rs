//! Argument parsing and command dispatch. Library errors get context here (anyhow).

mod common;
mod curves;
mod embed;
mod eval;
mod report;
mod split;
mod tsne;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use common::Common;

/// Show how well a domain-adaptation (DANN) model has aligned its domains.
#[derive(Debug, Parser)]
#[command(name = "dannscope", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a stratified, seeded split manifest (path,domain,class,split) for a dataset.
    #[command(
        after_help = "Example:\n  dannscope split --data data/OfficeHome --out splits.csv --seed 0"
    )]
    Split(split::Args),
    /// Run a model on every image of a split and store embeddings and logits per domain (.npz + .json).
    #[command(
        after_help = "Example:\n  dannscope embed --model models/mobilenetv3.onnx --split valid --data data/OfficeHome"
    )]
    Embed(embed::Args),
    /// Per-domain accuracy and AUROC (with bootstrap intervals) and cohesion/alignment measures per pair.
    #[command(
        after_help = "Example:\n  dannscope eval --model models/mobilenetv3.onnx --split valid --pair R-P"
    )]
    Eval(eval::Args),
    /// Joint t-SNE of source and target embeddings (one fit), drawn to SVG and PNG; with several
    /// checkpoints, the training evolution as a grid and an animated GIF.
    #[command(
        after_help = "Example:\n  dannscope tsne --pair R-P --model models/mobilenetv3.onnx\n  dannscope tsne --pair R-P --model checkpoints/   # one map per epoch, grid + GIF"
    )]
    Tsne(tsne::Args),
    /// Batch report of every [[run]] in dannscope.toml: tables for slides (Markdown, LaTeX, CSV), and a
    /// self-contained index.html with every figure.
    #[command(after_help = "Example:\n  dannscope report --config dannscope.toml")]
    Report(report::Args),
    /// Training curves (accuracy and AUROC per epoch; source dashed, target solid) from a tidy CSV log.
    #[command(
        after_help = "Example:\n  dannscope curves --log models/demo/demo_cnn_P-C.curves.csv"
    )]
    Curves(curves::Args),
    /// Generate a small procedurally drawn dataset, run the committed demo models on it and write the
    /// full report (no data, download or GPU needed).
    #[command(after_help = "Example:\n  dannscope demo --out outputs/demo")]
    Demo(report::DemoArgs),
}

/// Entry point: parse, run, print errors with their causes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Split(a) => split::run(a),
        Command::Embed(a) => embed::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Tsne(a) => tsne::run(a),
        Command::Report(a) => report::run(a),
        Command::Curves(a) => curves::run(a),
        Command::Demo(a) => report::demo(a),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(1)
        }
    }
}
