//! Preprocess stage: the training side's evaluation transform, in Rust.
//!
//! Every image becomes the tensor that PIL + torchvision (as timm builds the eval transform) gives:
//! 1. **Decode** to 8-bit RGB at full resolution, as torchvision's default loader
//!    (`Image.open(f).convert("RGB")`): any mode (grey, palette, 16-bit, CMYK, alpha dropped) is
//!    converted. JPEGs go through libjpeg-turbo's decoder with Pillow's settings ([`jpeg`]), so their
//!    pixels are Pillow's to the bit. **EXIF orientation is not applied**, as torchvision's loader
//!    does not apply it either. A truncated file is refused, as Pillow's default loader refuses it.
//! 2. **Resize** (`Resize(scale_size)` with an int): the shorter side becomes
//!    `scale_size = floor(input_size / crop_pct)` (timm), the longer `int(scale_size · long / short)`
//!    (truncated); an image already at that size is left as is. The filter is PIL's antialiased
//!    convolution, bit for bit ([`Resampler`], a port of Pillow's `Resample.c`): `bilinear` =
//!    triangle (support 1), `bicubic` = cubic with a = −0.5 (support 2), widened by the scale factor
//!    when shrinking.
//! 3. **CenterCrop(input_size)**: a side shorter than the crop is first padded with zeros (left/top
//!    `⌊(crop − side) / 2⌋`, right/bottom the rest), then the offsets are `round((side − crop) / 2)`
//!    with Python's round (half to even).
//! 4. **ToTensor + Normalize**: `((pixel / 255) − mean[c]) / std[c]`, CHW, float32.
//!
//! Measured against that pipeline on the fixtures of `tests/preprocess_fidelity.rs` and
//! `tests/jpeg_fidelity.rs` (every JPEG chroma layout, progressive, greyscale, restart markers,
//! arithmetic coding, CMYK; PNG; 12 MP; smaller than the crop; 15:1), decoded pixels equal Pillow's
//! exactly and tensors agree to float rounding; see `docs/preprocessing.md` for the table.
//!
//! [`PreprocessConfig::fast_decode`] (off by default) decodes large JPEGs at a reduced DCT scale, as
//! PIL's `draft()` does: faster, but it no longer gives the training side's pixels.

use std::path::Path;

use image::{DynamicImage, RgbImage};
use serde::{Deserialize, Serialize};

pub mod jpeg;
mod resample;

pub use resample::{Interpolation, Resampler};

/// The preprocessing a model asks for.
///
/// Serialised as the `preprocess` record of every embeddings `.json`, and part of the embed
/// fingerprint, so results made with different settings (e.g. [`fast_decode`](Self::fast_decode))
/// are never mistaken for one another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreprocessConfig {
    /// Output height = width.
    pub input_size: u32,
    /// Centre-crop fraction.
    pub crop_pct: f64,
    /// Shorter side after resizing: `floor(input_size / crop_pct)` (timm's scale size).
    pub resize_shorter: u32,
    /// Resampling filter.
    pub interpolation: Interpolation,
    /// Per-channel mean (RGB) on the 0..1 scale.
    pub mean: [f32; 3],
    /// Per-channel standard deviation (RGB).
    pub std: [f32; 3],
    /// Opt-in fast JPEG decoding (default `false`): a JPEG whose shorter side is at least twice
    /// [`resize_shorter`](Self::resize_shorter) is decoded at a reduced DCT scale (1/2, 1/4 or 1/8),
    /// as PIL's `draft()` does, before the resize. Several times less decoding work on large photos,
    /// but the pixels are no longer the training side's (about one grey level on average and above
    /// 100 at some edges on 12 MP photos; see `docs/preprocessing.md`). Records written before this
    /// field was renamed call it `jpeg_dct_scaling`.
    #[serde(default, alias = "jpeg_dct_scaling")]
    pub fast_decode: bool,
}

impl PreprocessConfig {
    /// A config from the model contract's fields, with the exact (full-resolution) decode.
    pub fn new(
        input_size: u32,
        crop_pct: f64,
        interpolation: Interpolation,
        mean: [f32; 3],
        std: [f32; 3],
    ) -> Self {
        PreprocessConfig {
            input_size,
            crop_pct,
            resize_shorter: scale_size(input_size, crop_pct),
            interpolation,
            mean,
            std,
            fast_decode: false,
        }
    }

    /// The same config with [`fast_decode`](Self::fast_decode) set to `on`.
    pub fn with_fast_decode(mut self, on: bool) -> Self {
        self.fast_decode = on;
        self
    }

    /// Turn the opt-in reduced-DCT JPEG decoding ([`fast_decode`](Self::fast_decode)) on or off.
    pub fn set_fast_decode(&mut self, on: bool) {
        self.fast_decode = on;
    }

    /// Number of f32 values of one preprocessed image.
    pub fn tensor_len(&self) -> usize {
        3 * (self.input_size as usize) * (self.input_size as usize)
    }
}

/// timm's eval scale size, `math.floor(input_size / crop_pct)`, and never below `input_size`.
pub fn scale_size(input_size: u32, crop_pct: f64) -> u32 {
    ((input_size as f64 / crop_pct).floor() as u32).max(input_size)
}

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The file could not be opened or read.
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    /// The file is empty.
    #[error("the file is empty")]
    Empty,
    /// The bytes are not a decodable image.
    #[error("not a decodable image: {0}")]
    Decode(String),
    /// The data ends before the image does (Pillow's loader refuses such a file too).
    #[error("the file is truncated (Pillow's default loader refuses it too)")]
    Truncated,
    /// libjpeg refused the JPEG.
    #[error("not a decodable JPEG: {0}")]
    Jpeg(String),
    /// Resizing failed.
    #[error("cannot resize: {0}")]
    Resize(String),
}

impl From<jpeg::JpegError> for ImageError {
    fn from(e: jpeg::JpegError) -> Self {
        match e {
            jpeg::JpegError::Truncated => ImageError::Truncated,
            other => ImageError::Jpeg(other.to_string()),
        }
    }
}

/// Decode a file into 8-bit RGB: any mode (grey, palette, 16-bit scaled to 8-bit, CMYK, alpha dropped).
/// JPEGs are decoded by libjpeg-turbo with Pillow's settings ([`jpeg`]), every other format by the
/// `image` crate. Full resolution unless `cfg.fast_decode` applies to this JPEG; EXIF orientation is
/// not applied. A truncated file is refused, as Pillow's default loader refuses it.
pub fn load_rgb8(path: &Path, cfg: &PreprocessConfig) -> Result<RgbImage, ImageError> {
    let bytes = std::fs::read(path)?;
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        let img = if cfg.fast_decode {
            jpeg::decode_draft(&bytes, cfg.resize_shorter)?
        } else {
            jpeg::decode(&bytes)?
        };
        return RgbImage::from_raw(img.width, img.height, img.pixels)
            .ok_or_else(|| ImageError::Decode("decoded buffer size mismatch".into()));
    }
    let img = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()?
        .decode()
        .map_err(|e| match e {
            image::ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                ImageError::Truncated
            }
            e => ImageError::Decode(e.to_string()),
        })?;
    Ok(to_rgb8(img))
}

fn to_rgb8(img: DynamicImage) -> RgbImage {
    match img {
        DynamicImage::ImageRgb8(i) => i,
        other => other.to_rgb8(),
    }
}

/// Size after resizing the shorter side to `target` (torchvision `Resize(int)` rule).
pub fn resized_size(w: u32, h: u32, target: u32) -> (u32, u32) {
    if w <= h {
        let long = ((target as u64 * h as u64) / w as u64) as u32;
        (target, long.max(1))
    } else {
        let long = ((target as u64 * w as u64) / h as u64) as u32;
        (long.max(1), target)
    }
}

/// Python's `round()` (half to even) of a non-negative half-integer-or-integer value `num / 2`.
fn round_half_even_div2(num: u32) -> u32 {
    let q = num / 2;
    if num % 2 == 1 && q % 2 == 1 {
        q + 1
    } else {
        q
    }
}

/// torchvision's `CenterCrop(size)` on an RGB image: a side shorter than `size` is padded with
/// zeros (left/top `⌊(size − side) / 2⌋`, right/bottom `⌈(size − side) / 2⌉`), then the
/// `size`² window at offsets `round((side − size) / 2)` (half to even) is cut out.
pub fn center_crop(img: &RgbImage, size: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    if w >= size && h >= size {
        let left = round_half_even_div2(w - size);
        let top = round_half_even_div2(h - size);
        return image::imageops::crop_imm(img, left, top, size, size).to_image();
    }
    let (pw, ph) = (w.max(size), h.max(size));
    let pad_left = (pw - w) / 2;
    let pad_top = (ph - h) / 2;
    let mut padded = RgbImage::new(pw, ph);
    image::imageops::replace(&mut padded, img, pad_left as i64, pad_top as i64);
    let left = round_half_even_div2(pw - size);
    let top = round_half_even_div2(ph - size);
    image::imageops::crop_imm(&padded, left, top, size, size).to_image()
}

/// A reusable preprocessor (keeps the resampling weights and scratch buffers between images).
pub struct Preprocessor {
    cfg: PreprocessConfig,
    resampler: Resampler,
    resized: Vec<u8>,
}

impl Preprocessor {
    /// A preprocessor for `cfg`.
    pub fn new(cfg: PreprocessConfig) -> Self {
        Preprocessor {
            cfg,
            resampler: Resampler::default(),
            resized: Vec::new(),
        }
    }

    /// The config.
    pub fn config(&self) -> &PreprocessConfig {
        &self.cfg
    }

    /// Resize (shorter side to `resize_shorter`, PIL's filter) and centre-crop an RGB image to
    /// `input_size`², 8-bit: torchvision's `Resize` + `CenterCrop` on a PIL image.
    pub fn resize_crop(&mut self, img: &RgbImage) -> Result<RgbImage, ImageError> {
        let (w, h) = img.dimensions();
        if w == 0 || h == 0 {
            return Err(ImageError::Resize(format!("the image is {w}×{h} pixels")));
        }
        let (nw, nh) = resized_size(w, h, self.cfg.resize_shorter);
        if (nw, nh) == (w, h) {
            return Ok(center_crop(img, self.cfg.input_size));
        }
        self.resampler.resize_rgb(
            img.as_raw(),
            w,
            h,
            nw,
            nh,
            self.cfg.interpolation,
            &mut self.resized,
        );
        let resized = RgbImage::from_raw(nw, nh, std::mem::take(&mut self.resized))
            .ok_or_else(|| ImageError::Resize("buffer size mismatch".into()))?;
        let out = center_crop(&resized, self.cfg.input_size);
        self.resized = resized.into_raw();
        Ok(out)
    }

    /// Write the normalised CHW tensor of an `input_size`² RGB image into `out`.
    pub fn normalise_into(&self, img: &RgbImage, out: &mut [f32]) {
        let s = self.cfg.input_size as usize;
        let plane = s * s;
        debug_assert_eq!(out.len(), 3 * plane);
        let scale: [f32; 3] = std::array::from_fn(|c| 1.0 / (255.0 * self.cfg.std[c]));
        let shift: [f32; 3] = std::array::from_fn(|c| self.cfg.mean[c] / self.cfg.std[c]);
        for (i, px) in img.as_raw().chunks_exact(3).enumerate() {
            for c in 0..3 {
                // ((p / 255) − mean) / std, computed as in torchvision up to float rounding.
                out[c * plane + i] = px[c] as f32 * scale[c] - shift[c];
            }
        }
    }

    /// Decode, resize, crop and normalise one file into `out` (`tensor_len()` values).
    pub fn process_file(&mut self, path: &Path, out: &mut [f32]) -> Result<(), ImageError> {
        let img = load_rgb8(path, &self.cfg)?;
        let img = self.resize_crop(&img)?;
        self.normalise_into(&img, out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torchvision_resize_rule() {
        assert_eq!(resized_size(640, 480, 256), (341, 256));
        assert_eq!(resized_size(480, 640, 256), (256, 341));
        assert_eq!(resized_size(1, 1, 256), (256, 256));
        assert_eq!(resized_size(300, 256, 256), (300, 256));
    }

    #[test]
    fn python_round() {
        // round(0.5)=0, round(1.5)=2, round(2.5)=2, round(42/2)=21
        assert_eq!(round_half_even_div2(1), 0);
        assert_eq!(round_half_even_div2(3), 2);
        assert_eq!(round_half_even_div2(5), 2);
        assert_eq!(round_half_even_div2(42), 21);
        assert_eq!(round_half_even_div2(0), 0);
    }

    #[test]
    fn timm_scale_size_is_floored() {
        assert_eq!(scale_size(224, 0.875), 256);
        assert_eq!(scale_size(224, 0.9), 248); // 248.89: round() would give 249
        assert_eq!(scale_size(160, 0.95), 168);
        assert_eq!(scale_size(288, 1.0), 288);
        assert_eq!(scale_size(224, 0.95), 235);
        let cfg = PreprocessConfig::new(224, 0.9, Interpolation::Bicubic, [0.5; 3], [0.5; 3]);
        assert_eq!(cfg.resize_shorter, 248);
    }

    #[test]
    fn exact_decode_by_default_and_fast_decode_serialised() {
        let cfg = PreprocessConfig::new(224, 0.875, Interpolation::Bilinear, [0.5; 3], [0.5; 3]);
        assert!(!cfg.fast_decode);
        let fast = cfg.clone().with_fast_decode(true);
        assert!(fast.fast_decode);
        let mut set = cfg.clone();
        set.set_fast_decode(true);
        assert_eq!(set, fast);
        // The field is part of the provenance record (and so of the embed fingerprint).
        let a = serde_json::to_value(&cfg).unwrap();
        let b = serde_json::to_value(&fast).unwrap();
        assert_eq!(a["fast_decode"], serde_json::json!(false));
        assert_eq!(b["fast_decode"], serde_json::json!(true));
        assert_ne!(
            serde_json::to_vec(&cfg).unwrap(),
            serde_json::to_vec(&fast).unwrap()
        );
        // Older records: `jpeg_dct_scaling` meant the same thing; a record without either is exact.
        let mut old = a.clone();
        let obj = old.as_object_mut().unwrap();
        obj.remove("fast_decode");
        obj.insert("jpeg_dct_scaling".into(), serde_json::json!(true));
        let back: PreprocessConfig = serde_json::from_value(old).unwrap();
        assert!(back.fast_decode);
        let mut none = a;
        none.as_object_mut().unwrap().remove("fast_decode");
        let back: PreprocessConfig = serde_json::from_value(none).unwrap();
        assert!(!back.fast_decode);
    }

    #[test]
    fn center_crop_pads_like_torchvision() {
        let img = RgbImage::from_fn(3, 2, |x, y| image::Rgb([1 + x as u8, 10 + y as u8, 200]));
        // 3×2 → 4: pad left 0 / right 1, top 1 / bottom 1, then offsets 0.
        let out = center_crop(&img, 4);
        for y in 0..4 {
            for x in 0..4 {
                let want = if x < 3 && (1..3).contains(&y) {
                    *img.get_pixel(x, y - 1)
                } else {
                    image::Rgb([0, 0, 0])
                };
                assert_eq!(*out.get_pixel(x, y), want, "({x}, {y})");
            }
        }
        // 6×2 → 4: the width is cropped (offset round(2/2) = 1), the height padded (top 1).
        let img = RgbImage::from_fn(6, 2, |x, y| image::Rgb([1 + x as u8, 10 + y as u8, 200]));
        let out = center_crop(&img, 4);
        for y in 0..4 {
            for x in 0..4 {
                let want = if (1..3).contains(&y) {
                    *img.get_pixel(x + 1, y - 1)
                } else {
                    image::Rgb([0, 0, 0])
                };
                assert_eq!(*out.get_pixel(x, y), want, "({x}, {y})");
            }
        }
        // 7×5 → 4: offsets round(1.5) = 2 and round(0.5) = 0.
        let img = RgbImage::from_fn(7, 5, |x, y| image::Rgb([x as u8, y as u8, 0]));
        let out = center_crop(&img, 4);
        assert_eq!(*out.get_pixel(0, 0), image::Rgb([2, 0, 0]));
    }

    #[test]
    fn identity_when_already_at_size() {
        let cfg = PreprocessConfig::new(4, 1.0, Interpolation::Bilinear, [0.5; 3], [0.5; 3]);
        let mut p = Preprocessor::new(cfg);
        let img = RgbImage::from_fn(4, 4, |x, y| {
            image::Rgb([(x * 60) as u8, (y * 60) as u8, 255])
        });
        let out = p.resize_crop(&img).unwrap();
        assert_eq!(out, img);
        let mut t = vec![0.0; 48];
        p.normalise_into(&out, &mut t);
        assert!((t[0] + 1.0).abs() < 1e-6); // red 0 → (0 − 0.5)/0.5
        assert!((t[32] - 1.0).abs() < 1e-6); // blue 255 → 1
    }
}
