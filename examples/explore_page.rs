//! Writes an explore page from synthetic data (clustered map, embeddings, logits, discriminator
//! output, drawn thumbnails) and prints its size and build time: the page-size figures and the
//! browser benchmark (`scripts/bench_explore.sh`) use it.
//!
//! `cargo run --example explore_page -- OUT.html N_POINTS [MAX_THUMBNAILS] [DIM] [THUMB_PX]`
//!
//! The drawn thumbnails are flat colours, which JPEG packs far better than photographs. For a size
//! closer to real data set `EXPLORE_PHOTOS` to a `:`-separated list of photographs: each row then
//! shows its own crop (a quarter of the photo's area, at a row-dependent position) of one of them.
#[path = "../tests/explore_data/mod.rs"]
mod explore_data;

use std::time::Instant;

use dannscope::explore::{build_page, write_page, ExploreParams};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: usize| -> Result<usize, Box<dyn std::error::Error>> {
        Ok(match args.get(i) {
            Some(v) => v.parse()?,
            None => default,
        })
    };
    let out = args
        .first()
        .ok_or("usage: explore_page OUT.html N [MAX_THUMBNAILS] [DIM] [THUMB_PX]")?;
    let n = arg(1, 10_000)?;
    let params = ExploreParams {
        max_thumbnails: arg(2, 20_000)?,
        thumb_px: arg(4, 80)? as u32,
        ..ExploreParams::default()
    };
    let dim = arg(3, 64)?;
    let data = explore_data::synthetic(n / 2, n - n / 2, 10, dim, 1);
    let photos: Vec<image::RgbImage> = match std::env::var("EXPLORE_PHOTOS") {
        Ok(list) => list
            .split(':')
            .map(|p| image::open(p).map(|i| i.to_rgb8()))
            .collect::<Result<_, _>>()?,
        Err(_) => Vec::new(),
    };
    let thumb = |i: usize| {
        if photos.is_empty() {
            return Some(data.thumb(i));
        }
        let img = &photos[i % photos.len()];
        let (w, h) = (img.width() / 2, img.height() / 2);
        let x = (i as u64 * 2_654_435_761 % u64::from(img.width() - w + 1)) as u32;
        let y = (i as u64 * 40_503 % u64::from(img.height() - h + 1)) as u32;
        Some(image::imageops::crop_imm(img, x, y, w, h).to_image())
    };
    let t = Instant::now();
    let page = build_page(&data.input(), &params, &thumb)?;
    let built = t.elapsed().as_secs_f64();
    let bytes = write_page(std::path::Path::new(out), &page)?;
    println!(
        "{out}: {} points, {} {} thumbnails at {} px, embedding dim {dim}: {bytes} bytes ({:.1} MB), built in {built:.1} s",
        page.n_points,
        page.n_thumbnails,
        if photos.is_empty() { "drawn" } else { "photo-crop" },
        params.thumb_px,
        bytes as f64 / 1e6
    );
    Ok(())
}
