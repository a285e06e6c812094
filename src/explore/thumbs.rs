//! Thumbnails: which rows get one (all up to a budget, then a seeded subset stratified by
//! domain × class) and how they are packed into JPEG atlas pages.

use std::collections::BTreeMap;

use image::{imageops, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::ExploreError;

/// Rows that get a thumbnail, ascending.
///
/// With `n <= max` every row. Otherwise each stratum (domain × class) gets a quota proportional to
/// its size (largest remainders, then stratum order, settle the rounding), filled by a seeded random
/// draw within the stratum. The same inputs and seed always give the same rows.
pub fn select_thumbnails(is_target: &[bool], labels: &[u32], max: usize, seed: u64) -> Vec<usize> {
    let n = labels.len();
    if n <= max {
        return (0..n).collect();
    }
    let mut strata: BTreeMap<(bool, u32), Vec<usize>> = BTreeMap::new();
    for (i, (&t, &l)) in is_target.iter().zip(labels).enumerate() {
        strata.entry((t, l)).or_default().push(i);
    }
    // Proportional quotas: floor first, then the largest fractional parts get one more.
    let mut quota: Vec<usize> = Vec::with_capacity(strata.len());
    let mut rest: Vec<(u128, usize)> = Vec::with_capacity(strata.len());
    for (s, rows) in strata.values().enumerate() {
        let exact = max as u128 * rows.len() as u128;
        quota.push((exact / n as u128) as usize);
        rest.push((exact % n as u128, s));
    }
    let short = max - quota.iter().sum::<usize>();
    rest.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, s) in rest.iter().take(short) {
        quota[s] += 1;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(max);
    for (rows, &q) in strata.into_values().zip(&quota) {
        let mut rows = rows;
        // Partial Fisher-Yates: the first q entries become a uniform draw without replacement.
        for a in 0..q {
            let b = rng.gen_range(a..rows.len());
            rows.swap(a, b);
        }
        out.extend_from_slice(&rows[..q]);
    }
    out.sort_unstable();
    out
}

/// Layout of the thumbnail atlas: square cells of `cell` pixels, `cols` × `cols` cells per page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Atlas {
    pub cell: u32,
    pub cols: u32,
}

impl Atlas {
    /// Cells are `thumb_px` rounded up to a multiple of 16 (the JPEG block of subsampled colour),
    /// so that no block straddles two thumbnails; pages are at most about 2048 pixels wide.
    pub fn new(thumb_px: u32) -> Self {
        let cell = thumb_px.div_ceil(16) * 16;
        let cols = (2048 / cell).clamp(1, 16);
        Atlas { cell, cols }
    }

    pub fn per_page(self) -> usize {
        (self.cols * self.cols) as usize
    }
}

/// One encoded atlas page and the size of every thumbnail on it (0 × 0 where the image was missing).
pub(crate) struct Page {
    pub jpeg: Vec<u8>,
    pub sizes: Vec<(u8, u8)>,
}

/// Downscale `img` to fit in `px` × `px`, keeping its aspect ratio.
pub(crate) fn fit(img: &RgbImage, px: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let s = px as f64 / w.max(h).max(1) as f64;
    let tw = ((w as f64 * s).round() as u32).clamp(1, px);
    let th = ((h as f64 * s).round() as u32).clamp(1, px);
    if tw == w && th == h {
        img.clone()
    } else if tw < w && th < h {
        imageops::thumbnail(img, tw, th)
    } else {
        imageops::resize(img, tw, th, imageops::FilterType::Triangle)
    }
}

/// A thumbnail of `img` that fits in `px` × `px` (aspect ratio kept), encoded as JPEG at `quality`
/// (the report's galleries embed these as `data:` URIs).
pub fn thumbnail_jpeg(img: &RgbImage, px: u32, quality: u8) -> Result<Vec<u8>, ExploreError> {
    let t = fit(img, px.max(1));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality.clamp(1, 100))
        .encode_image(&t)
        .map_err(|e| ExploreError::Encode {
            page: 0,
            message: e.to_string(),
        })?;
    Ok(jpeg)
}

/// Build the atlas pages for `rows` (in order: row `rows[t]` is thumbnail `t`), in parallel over
/// pages. Cells beyond a thumbnail's own size repeat its edge pixels, so JPEG blocks do not bleed
/// a background colour into it.
pub(crate) fn build_pages(
    rows: &[usize],
    atlas: Atlas,
    thumb_px: u32,
    quality: u8,
    thumbs: &(dyn Fn(usize) -> Option<RgbImage> + Sync),
) -> Result<Vec<Page>, ExploreError> {
    rows.par_chunks(atlas.per_page())
        .enumerate()
        .map(|(p, chunk)| {
            let used_rows = (chunk.len() as u32).div_ceil(atlas.cols);
            let mut sheet = RgbImage::from_pixel(
                atlas.cols * atlas.cell,
                used_rows * atlas.cell,
                image::Rgb([128, 128, 128]),
            );
            let mut sizes = Vec::with_capacity(chunk.len());
            for (slot, &row) in chunk.iter().enumerate() {
                let Some(img) = thumbs(row) else {
                    sizes.push((0, 0));
                    continue;
                };
                let t = fit(&img, thumb_px);
                let (w, h) = t.dimensions();
                let x0 = (slot as u32 % atlas.cols) * atlas.cell;
                let y0 = (slot as u32 / atlas.cols) * atlas.cell;
                for y in 0..atlas.cell {
                    for x in 0..atlas.cell {
                        let px = *t.get_pixel(x.min(w - 1), y.min(h - 1));
                        sheet.put_pixel(x0 + x, y0 + y, px);
                    }
                }
                sizes.push((w as u8, h as u8));
            }
            let mut jpeg = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality)
                .encode_image(&sheet)
                .map_err(|e| ExploreError::Encode {
                    page: p,
                    message: e.to_string(),
                })?;
            Ok(Page { jpeg, sizes })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_rows_up_to_the_budget() {
        let t = [false, false, true];
        assert_eq!(select_thumbnails(&t, &[0, 1, 0], 3, 1), vec![0, 1, 2]);
        assert_eq!(select_thumbnails(&t, &[0, 1, 0], 10, 1), vec![0, 1, 2]);
    }

    #[test]
    fn subset_is_stratified_seeded_and_sized() {
        // Strata: source class 0: 600, source class 1: 300, target class 0: 90, target class 1: 10.
        let mut is_target = Vec::new();
        let mut labels = Vec::new();
        for (t, l, m) in [
            (false, 0, 600),
            (false, 1, 300),
            (true, 0, 90),
            (true, 1, 10),
        ] {
            for _ in 0..m {
                is_target.push(t);
                labels.push(l);
            }
        }
        let pick = select_thumbnails(&is_target, &labels, 100, 42);
        assert_eq!(pick.len(), 100);
        assert!(pick.windows(2).all(|w| w[0] < w[1]));
        let count = |t: bool, l: u32| {
            pick.iter()
                .filter(|&&i| is_target[i] == t && labels[i] == l)
                .count()
        };
        assert_eq!(
            [
                count(false, 0),
                count(false, 1),
                count(true, 0),
                count(true, 1)
            ],
            [60, 30, 9, 1]
        );
        assert_eq!(pick, select_thumbnails(&is_target, &labels, 100, 42));
        assert_ne!(pick, select_thumbnails(&is_target, &labels, 100, 43));
        // Rounding: 7 of 1000 gives quotas 4.2, 2.1, 0.63, 0.07 -> 4, 2, 1, 0.
        let small = select_thumbnails(&is_target, &labels, 7, 1);
        assert_eq!(small.len(), 7);
        assert_eq!(small.iter().filter(|&&i| is_target[i]).count(), 1);
    }

    #[test]
    fn fit_keeps_the_aspect_ratio() {
        let img = RgbImage::new(400, 200);
        assert_eq!(fit(&img, 80).dimensions(), (80, 40));
        let tall = RgbImage::new(30, 60);
        assert_eq!(fit(&tall, 80).dimensions(), (40, 80));
        assert_eq!(Atlas::new(80), Atlas { cell: 80, cols: 16 });
        assert_eq!(Atlas::new(90).cell, 96);
    }

    #[test]
    fn thumbnail_jpeg_is_a_small_jpeg_of_the_fitted_size() {
        let img = RgbImage::from_pixel(300, 150, image::Rgb([200, 30, 30]));
        let j = thumbnail_jpeg(&img, 64, 80).unwrap();
        assert_eq!(&j[..3], &[0xFF, 0xD8, 0xFF]);
        let back = image::load_from_memory(&j).unwrap();
        assert_eq!((back.width(), back.height()), (64, 32));
    }
}
