//! A small, deterministic, procedurally drawn image dataset for trying dannscope end to end.
//!
//! [`generate`] writes `<root>/<Domain>/<class>/<class>_<NNN>.<ext>` for four domains named like
//! OfficeHome's ("Art", "Clipart", "Product", "Real World", codes A, C, P, R) and ten shape classes
//! ([`DemoClass`]). The class is the shape; the domain is the drawing style:
//!
//! | domain | style | format |
//! |---|---|---|
//! | Art | a sepia wash: the object a darker warm wash with a soft, blurred edge on a plain light canvas; no texture | JPEG |
//! | Clipart | near-black saturated flat fill on a mid-toned wallpaper of flat stripes or dots | PNG |
//! | Product | dark, muted object with a soft drop shadow on a light, muted cluttered table (value-noise texture), faint sensor noise | PNG |
//! | Real World | built like MNIST-M: a colourful noise texture, the object drawn as that texture colour-inverted, sensor noise | JPEG |
//!
//! The shapes are the same in every domain; what differs is low-level statistics (colour,
//! brightness, polarity, texture, edges), which a network trained on one domain latches onto and
//! which domain adaptation can learn to ignore.
//!
//! Every image varies in position, scale, rotation and colours. Each image draws its randomness from
//! its own [`ChaCha8Rng`] stream (seed from [`DemoParams::seed`], stream = image index), so the
//! output bytes depend only on the parameters, never on the number of threads.

pub mod bundle;
mod kinds;
mod raster;
mod style;

pub use kinds::{DemoClass, DemoDomain, DemoFormat};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Errors of the demo dataset generator.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A parameter is outside its allowed range.
    #[error("invalid demo parameter `{name}`: expected {expected}, found {found}")]
    InvalidParam {
        /// Parameter name.
        name: &'static str,
        /// What was expected.
        expected: String,
        /// What was given.
        found: String,
    },
    /// The output folder already has entries and overwriting was not allowed.
    #[error("output folder {path} is not empty (found {found:?}); choose an empty or new folder, or allow overwriting")]
    RootNotEmpty {
        /// The output folder.
        path: PathBuf,
        /// One entry found in it.
        found: String,
    },
    /// The output path exists but is not a folder.
    #[error("output path {0} exists but is not a folder")]
    RootNotDir(PathBuf),
    /// Reading or writing a file or folder failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Encoding an image failed.
    #[error("encoding {path}: {source}")]
    Encode {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: image::ImageError,
    },
}

/// Parameters of [`generate`]; build with [`DemoParams::new`] and the setters, validated by
/// [`DemoParams::check`] (which [`generate`] calls).
///
/// Defaults: 32 px square images, 120 images per (domain, class) (4,800 images; a 2/3, 1/6, 1/6
/// split leaves 20 per class, 200 per domain, in valid and test), seed 42, JPEG quality 90, no
/// overwriting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoParams {
    image_size: u32,
    images_per_class: usize,
    seed: u64,
    jpeg_quality: u8,
    overwrite: bool,
}

impl Default for DemoParams {
    fn default() -> Self {
        Self::new()
    }
}

impl DemoParams {
    /// Smallest allowed image side in pixels.
    pub const MIN_IMAGE_SIZE: u32 = 16;
    /// Largest allowed image side in pixels.
    pub const MAX_IMAGE_SIZE: u32 = 1024;
    /// Smallest allowed number of images per (domain, class): one per sixth of a split.
    pub const MIN_IMAGES_PER_CLASS: usize = 6;
    /// Largest allowed number of images per (domain, class).
    pub const MAX_IMAGES_PER_CLASS: usize = 100_000;

    /// The default parameters.
    pub fn new() -> Self {
        Self {
            image_size: 32,
            images_per_class: 120,
            seed: 42,
            jpeg_quality: 90,
            overwrite: false,
        }
    }

    /// Sets the image side in pixels (images are square), 16–1024.
    pub fn image_size(mut self, px: u32) -> Self {
        self.image_size = px;
        self
    }

    /// Sets the number of images per (domain, class), 6–100,000.
    pub fn images_per_class(mut self, n: usize) -> Self {
        self.images_per_class = n;
        self
    }

    /// Sets the seed of every random choice.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the JPEG quality, 1–100.
    pub fn jpeg_quality(mut self, q: u8) -> Self {
        self.jpeg_quality = q;
        self
    }

    /// Allows writing into a non-empty folder: files with the generated names are replaced
    /// (atomically), other files are left alone.
    pub fn overwrite(mut self, yes: bool) -> Self {
        self.overwrite = yes;
        self
    }

    /// The image side in pixels.
    pub fn get_image_size(&self) -> u32 {
        self.image_size
    }

    /// The number of images per (domain, class).
    pub fn get_images_per_class(&self) -> usize {
        self.images_per_class
    }

    /// The seed.
    pub fn get_seed(&self) -> u64 {
        self.seed
    }

    /// The JPEG quality.
    pub fn get_jpeg_quality(&self) -> u8 {
        self.jpeg_quality
    }

    /// Whether writing into a non-empty folder is allowed.
    pub fn get_overwrite(&self) -> bool {
        self.overwrite
    }

    /// Validates every parameter, naming the first one out of range.
    pub fn check(&self) -> Result<&Self, DemoError> {
        if !(Self::MIN_IMAGE_SIZE..=Self::MAX_IMAGE_SIZE).contains(&self.image_size) {
            return Err(DemoError::InvalidParam {
                name: "image_size",
                expected: format!("{}..={} pixels", Self::MIN_IMAGE_SIZE, Self::MAX_IMAGE_SIZE),
                found: self.image_size.to_string(),
            });
        }
        if !(Self::MIN_IMAGES_PER_CLASS..=Self::MAX_IMAGES_PER_CLASS)
            .contains(&self.images_per_class)
        {
            return Err(DemoError::InvalidParam {
                name: "images_per_class",
                expected: format!(
                    "{}..={}",
                    Self::MIN_IMAGES_PER_CLASS,
                    Self::MAX_IMAGES_PER_CLASS
                ),
                found: self.images_per_class.to_string(),
            });
        }
        if !(1..=100).contains(&self.jpeg_quality) {
            return Err(DemoError::InvalidParam {
                name: "jpeg_quality",
                expected: "1..=100".into(),
                found: self.jpeg_quality.to_string(),
            });
        }
        Ok(self)
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    /// The dataset root.
    pub root: PathBuf,
    /// Domain folder names, sorted.
    pub domains: Vec<String>,
    /// Class folder names, sorted.
    pub classes: Vec<String>,
    /// Images per (domain, class).
    pub images_per_class: usize,
    /// Every written file relative to `root`, in (domain, class, index) order.
    pub files: Vec<PathBuf>,
    /// Total bytes written.
    pub bytes: u64,
}

impl DemoSummary {
    /// Number of images written.
    pub fn image_count(&self) -> usize {
        self.files.len()
    }
}

/// Index of an image in the generation order; it selects the image's random stream.
fn image_index(domain: DemoDomain, class: DemoClass, index: usize, per_class: usize) -> u64 {
    let d = DemoDomain::ALL
        .iter()
        .position(|&x| x == domain)
        .unwrap_or(0);
    let c = DemoClass::ALL.iter().position(|&x| x == class).unwrap_or(0);
    ((d * DemoClass::ALL.len() + c) * per_class + index) as u64
}

/// Draws image number `index` of (`domain`, `class`) in memory, exactly as [`generate`] would
/// write it before encoding.
pub fn render(
    domain: DemoDomain,
    class: DemoClass,
    index: usize,
    params: &DemoParams,
) -> Result<image::RgbImage, DemoError> {
    params.check()?;
    if index >= params.images_per_class {
        return Err(DemoError::InvalidParam {
            name: "index",
            expected: format!("< images_per_class = {}", params.images_per_class),
            found: index.to_string(),
        });
    }
    Ok(render_unchecked(domain, class, index, params))
}

fn render_unchecked(
    domain: DemoDomain,
    class: DemoClass,
    index: usize,
    params: &DemoParams,
) -> image::RgbImage {
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    rng.set_stream(image_index(domain, class, index, params.images_per_class));
    style::render(domain, class, params.image_size, &mut rng).to_rgb()
}

/// Relative path of one image: `<Domain>/<class>/<class>_<NNN>.<ext>`.
pub fn relative_path(domain: DemoDomain, class: DemoClass, index: usize) -> PathBuf {
    Path::new(domain.name()).join(class.name()).join(format!(
        "{}_{:03}.{}",
        class.name(),
        index,
        domain.format().extension()
    ))
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn encode(
    img: &image::RgbImage,
    format: DemoFormat,
    quality: u8,
    path: &Path,
) -> Result<Vec<u8>, DemoError> {
    use image::ImageEncoder;
    let mut buf = Vec::new();
    let res = match format {
        DemoFormat::Jpeg => image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality)
            .write_image(
                img.as_raw(),
                img.width(),
                img.height(),
                image::ExtendedColorType::Rgb8,
            ),
        DemoFormat::Png => image::codecs::png::PngEncoder::new(&mut buf).write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        ),
    };
    res.map_err(|source| DemoError::Encode {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(buf)
}

/// Writes `bytes` to `path` atomically (see [`crate::atomic`]).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DemoError> {
    crate::atomic::write_bytes(path, bytes).map_err(|e| io_err(path)(e.source))
}

/// Generates the demo dataset under `root` (created if missing) and returns what was written.
///
/// Fails with [`DemoError::InvalidParam`] for out-of-range parameters, with
/// [`DemoError::RootNotEmpty`] when `root` has entries and [`DemoParams::overwrite`] is off, and
/// with [`DemoError::Io`]/[`DemoError::Encode`] when a file cannot be written. Images are drawn and
/// encoded in parallel; the bytes written do not depend on the thread count.
pub fn generate(root: &Path, params: &DemoParams) -> Result<DemoSummary, DemoError> {
    params.check()?;
    if root.exists() {
        if !root.is_dir() {
            return Err(DemoError::RootNotDir(root.to_path_buf()));
        }
        if !params.overwrite {
            let mut entries = std::fs::read_dir(root).map_err(io_err(root))?;
            if let Some(entry) = entries.next() {
                let entry = entry.map_err(io_err(root))?;
                return Err(DemoError::RootNotEmpty {
                    path: root.to_path_buf(),
                    found: entry.file_name().to_string_lossy().into_owned(),
                });
            }
        }
    }
    for domain in DemoDomain::ALL {
        for class in DemoClass::ALL {
            let dir = root.join(domain.name()).join(class.name());
            std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        }
    }
    let per = params.images_per_class;
    let jobs: Vec<(DemoDomain, DemoClass, usize)> = DemoDomain::ALL
        .iter()
        .flat_map(|&d| {
            DemoClass::ALL
                .iter()
                .flat_map(move |&c| (0..per).map(move |i| (d, c, i)))
        })
        .collect();
    let written: Vec<Result<(PathBuf, u64), DemoError>> = jobs
        .par_iter()
        .map(|&(domain, class, index)| {
            let rel = relative_path(domain, class, index);
            let path = root.join(&rel);
            let img = render_unchecked(domain, class, index, params);
            let bytes = encode(&img, domain.format(), params.jpeg_quality, &path)?;
            write_atomic(&path, &bytes)?;
            Ok((rel, bytes.len() as u64))
        })
        .collect();
    let mut files = Vec::with_capacity(written.len());
    let mut total = 0u64;
    for w in written {
        let (rel, n) = w?;
        files.push(rel);
        total += n;
    }
    Ok(DemoSummary {
        root: root.to_path_buf(),
        domains: DemoDomain::ALL
            .iter()
            .map(|d| d.name().to_string())
            .collect(),
        classes: DemoClass::ALL
            .iter()
            .map(|c| c.name().to_string())
            .collect(),
        images_per_class: per,
        files,
        bytes: total,
    })
}
