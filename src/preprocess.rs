//! Preprocess stage: decode any image to 8-bit RGB, resize the shorter side to `round(size / crop_pct)`
//! with the model's interpolation (antialiased, as PIL does), centre-crop `size`, normalise to CHW f32.
//!
//! The steps follow torchvision's `Resize(int)` + `CenterCrop` + `ToTensor` + `Normalize` on PIL images:
//! the longer side becomes `floor(short_target · long / short)`, the crop offset is `round((h − size) / 2)`.

use std::io::{BufReader, Read, Seek};
use std::path::Path;

use fast_image_resize as fir;
use image::{DynamicImage, RgbImage};
use serde::{Deserialize, Serialize};

/// Resampling filter for the resize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    /// Triangle filter, antialiased (PIL `BILINEAR`).
    Bilinear,
    /// Cubic filter with a = −0.5, antialiased (PIL `BICUBIC`).
    Bicubic,
}

impl Interpolation {
    /// Parse `bilinear` or `bicubic` (case-insensitive).
    pub fn parse(s: &str) -> Option<Interpolation> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bilinear" | "linear" => Some(Interpolation::Bilinear),
            "bicubic" | "cubic" => Some(Interpolation::Bicubic),
            _ => None,
        }
    }
}

/// The preprocessing a model asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreprocessConfig {
    /// Output height = width.
    pub input_size: u32,
    /// Centre-crop fraction.
    pub crop_pct: f64,
    /// Shorter side after resizing: `round(input_size / crop_pct)`.
    pub resize_shorter: u32,
    /// Resampling filter.
    pub interpolation: Interpolation,
    /// Per-channel mean (RGB) on the 0..1 scale.
    pub mean: [f32; 3],
    /// Per-channel standard deviation (RGB).
    pub std: [f32; 3],
    /// Decode large JPEGs at a reduced DCT scale (1/2, 1/4, 1/8) when the image is at least twice the
    /// resize target, as PIL's `draft()` does. Changes pixels slightly; off for exact comparisons.
    pub jpeg_dct_scaling: bool,
}

impl PreprocessConfig {
    /// A config from the model contract's fields (DCT scaling on).
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
            resize_shorter: ((input_size as f64 / crop_pct).round() as u32).max(input_size),
            interpolation,
            mean,
            std,
            jpeg_dct_scaling: true,
        }
    }

    /// Number of f32 values of one preprocessed image.
    pub fn tensor_len(&self) -> usize {
        3 * (self.input_size as usize) * (self.input_size as usize)
    }
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
    /// Resizing failed.
    #[error("cannot resize: {0}")]
    Resize(String),
}

/// Decode a file into 8-bit RGB: any mode (grey, palette, 16-bit scaled to 8-bit, CMYK, alpha dropped).
pub fn load_rgb8(path: &Path, cfg: &PreprocessConfig) -> Result<RgbImage, ImageError> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.len() == 0 {
        return Err(ImageError::Empty);
    }
    let mut reader = BufReader::new(file);
    let mut magic = [0u8; 3];
    let n = reader.read(&mut magic)?;
    reader.rewind()?;
    if cfg.jpeg_dct_scaling && n == 3 && magic == [0xFF, 0xD8, 0xFF] {
        if let Some(img) = decode_jpeg_scaled(&mut reader, cfg.resize_shorter)? {
            return Ok(img);
        }
        reader.rewind()?;
    }
    let img = image::ImageReader::new(reader)
        .with_guessed_format()?
        .decode()
        .map_err(|e| ImageError::Decode(e.to_string()))?;
    Ok(to_rgb8(img))
}

fn to_rgb8(img: DynamicImage) -> RgbImage {
    match img {
        DynamicImage::ImageRgb8(i) => i,
        other => other.to_rgb8(),
    }
}

/// Decode a JPEG at the smallest DCT scale that keeps the shorter side ≥ `target_shorter`, when that scale
/// is below 1. Returns `None` when no reduction applies or the colour format is not grey/RGB.
fn decode_jpeg_scaled<R: Read>(
    reader: &mut R,
    target_shorter: u32,
) -> Result<Option<RgbImage>, ImageError> {
    let mut dec = jpeg_decoder::Decoder::new(reader);
    if dec.read_info().is_err() {
        return Ok(None);
    }
    let Some(info) = dec.info() else {
        return Ok(None);
    };
    let (w, h) = (info.width as u32, info.height as u32);
    if w.min(h) < 2 * target_shorter {
        return Ok(None);
    }
    if !matches!(
        info.pixel_format,
        jpeg_decoder::PixelFormat::RGB24 | jpeg_decoder::PixelFormat::L8
    ) {
        return Ok(None);
    }
    // Ask for the size whose shorter side is the target; the decoder picks the smallest scale ≥ it.
    let k = target_shorter as f64 / w.min(h) as f64;
    let rw = ((w as f64 * k).ceil() as u32).min(w) as u16;
    let rh = ((h as f64 * k).ceil() as u32).min(h) as u16;
    let (sw, sh) = match dec.scale(rw, rh) {
        Ok(s) => s,
        Err(_) => return Ok(None),
    };
    let pixels = match dec.decode() {
        Ok(p) => p,
        Err(_) => return Ok(None),
    };
    let (sw, sh) = (sw as u32, sh as u32);
    let rgb = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&g| [g, g, g]).collect(),
        _ => pixels,
    };
    Ok(RgbImage::from_raw(sw, sh, rgb))
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

/// A reusable preprocessor (holds the resizer's scratch buffers).
pub struct Preprocessor {
    cfg: PreprocessConfig,
    resizer: fir::Resizer,
}

impl Preprocessor {
    /// A preprocessor for `cfg`.
    pub fn new(cfg: PreprocessConfig) -> Self {
        Preprocessor {
            cfg,
            resizer: fir::Resizer::new(),
        }
    }

    /// The config.
    pub fn config(&self) -> &PreprocessConfig {
        &self.cfg
    }

    /// Resize and centre-crop an RGB image to `input_size`², 8-bit.
    pub fn resize_crop(&mut self, img: &RgbImage) -> Result<RgbImage, ImageError> {
        let (w, h) = img.dimensions();
        let size = self.cfg.input_size;
        let (nw, nh) = resized_size(w, h, self.cfg.resize_shorter);
        let resized = if (nw, nh) == (w, h) {
            img.clone()
        } else {
            let src =
                fir::images::Image::from_vec_u8(w, h, img.as_raw().clone(), fir::PixelType::U8x3)
                    .map_err(|e| ImageError::Resize(e.to_string()))?;
            let mut dst = fir::images::Image::new(nw, nh, fir::PixelType::U8x3);
            let filter = match self.cfg.interpolation {
                Interpolation::Bilinear => fir::FilterType::Bilinear,
                Interpolation::Bicubic => fir::FilterType::CatmullRom,
            };
            let opts = fir::ResizeOptions::new().resize_alg(fir::ResizeAlg::Convolution(filter));
            self.resizer
                .resize(&src, &mut dst, &opts)
                .map_err(|e| ImageError::Resize(e.to_string()))?;
            RgbImage::from_raw(nw, nh, dst.into_vec())
                .ok_or_else(|| ImageError::Resize("buffer size mismatch".into()))?
        };
        let left = round_half_even_div2(nw - size);
        let top = round_half_even_div2(nh - size);
        Ok(image::imageops::crop_imm(&resized, left, top, size, size).to_image())
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
