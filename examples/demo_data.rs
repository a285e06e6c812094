//! Writes the demo dataset: `cargo run --release --example demo_data -- OUTDIR [SEED] [PER_CLASS] [SIZE]`.

use dannscope::demo::{generate, DemoParams};
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or_else(|| anyhow::anyhow!("usage: demo_data OUTDIR [SEED] [PER_CLASS] [SIZE]"))?,
    );
    let mut params = DemoParams::new();
    if let Some(s) = args.next() {
        params = params.seed(s.parse()?);
    }
    if let Some(n) = args.next() {
        params = params.images_per_class(n.parse()?);
    }
    if let Some(px) = args.next() {
        params = params.image_size(px.parse()?);
    }
    let t = std::time::Instant::now();
    let summary = generate(&out, &params)?;
    println!(
        "wrote {} images ({} bytes) to {} in {:.2} s",
        summary.image_count(),
        summary.bytes,
        summary.root.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
