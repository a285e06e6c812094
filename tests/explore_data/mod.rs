//! Synthetic data for the explore page tests: clustered maps and embeddings, logits, discriminator
//! output and coloured thumbnails drawn here (no dataset needed).
#![allow(dead_code)]

use dannscope::explore::ExploreInput;
use image::{Rgb, RgbImage};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Row placed far from every cluster, with markup in its file name.
pub const ODD_ROW: usize = 7;
/// The file name of [`ODD_ROW`] (a file name cannot hold `/`, so no `</script>`: the title has one).
pub const ODD_NAME: &str = "evil<script><!--<b>x&y\"'.jpg";
/// The page title, with markup that must stay text.
pub const TITLE: &str = "Synthetic A → C </script><test>";

/// A synthetic source → target pair.
pub struct Synthetic {
    pub classes: Vec<String>,
    pub coords: Array2<f32>,
    pub is_target: Vec<bool>,
    pub labels: Vec<u32>,
    pub paths: Vec<String>,
    pub logits: Array2<f32>,
    pub disc: Vec<f32>,
    pub embedding: Array2<f32>,
}

fn normal(rng: &mut ChaCha8Rng) -> f32 {
    // Box-Muller.
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    let v: f64 = rng.gen();
    ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
}

/// `n_source` source rows then `n_target` target rows, `n_classes` classes, embeddings of `dim`.
pub fn synthetic(
    n_source: usize,
    n_target: usize,
    n_classes: usize,
    dim: usize,
    seed: u64,
) -> Synthetic {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = n_source + n_target;
    let classes: Vec<String> = (0..n_classes).map(|c| format!("Class_{c}")).collect();
    let is_target: Vec<bool> = (0..n).map(|i| i >= n_source).collect();
    let labels: Vec<u32> = (0..n).map(|_| rng.gen_range(0..n_classes as u32)).collect();
    let mut coords = Array2::zeros((n, 2));
    let mut embedding = Array2::zeros((n, dim));
    let mut logits = Array2::zeros((n, n_classes));
    let mut disc = Vec::with_capacity(n);
    let mut paths = Vec::with_capacity(n);
    for i in 0..n {
        let c = labels[i] as usize;
        let a = std::f32::consts::TAU * c as f32 / n_classes as f32;
        let shift = if is_target[i] { 2.5 } else { 0.0 };
        coords[[i, 0]] = 10.0 * a.cos() + shift + 1.2 * normal(&mut rng);
        coords[[i, 1]] = 10.0 * a.sin() + 1.2 * normal(&mut rng);
        for d in 0..dim {
            let centre = if d % n_classes == c { 3.0 } else { 0.0 };
            let dom = if is_target[i] && d == dim - 1 {
                1.5
            } else {
                0.0
            };
            embedding[[i, d]] = centre + dom + normal(&mut rng);
        }
        for j in 0..n_classes {
            logits[[i, j]] = normal(&mut rng) + if j == c { 2.0 } else { 0.0 };
        }
        let base: f32 = if is_target[i] { 0.62 } else { 0.38 };
        disc.push((base + 0.2 * (rng.gen::<f32>() - 0.5)).clamp(0.01, 0.99));
        let domain = if is_target[i] { "Clipart" } else { "Art" };
        paths.push(format!("{domain}/{}/{i:05}.jpg", classes[c]));
    }
    if n > ODD_ROW {
        coords[[ODD_ROW, 0]] = 25.0;
        coords[[ODD_ROW, 1]] = 25.0;
        let c = &classes[labels[ODD_ROW] as usize];
        paths[ODD_ROW] = format!("Art/{c}/{ODD_NAME}");
    }
    Synthetic {
        classes,
        coords,
        is_target,
        labels,
        paths,
        logits,
        disc,
        embedding,
    }
}

impl Synthetic {
    pub fn input(&self) -> ExploreInput<'_> {
        ExploreInput {
            title: TITLE.into(),
            source_name: "Art".into(),
            target_name: "Clipart".into(),
            class_names: &self.classes,
            coords: self.coords.view(),
            is_target: &self.is_target,
            labels: &self.labels,
            paths: &self.paths,
            logits: Some(self.logits.view()),
            domain_prob: Some(&self.disc),
            embedding: self.embedding.view(),
        }
    }

    /// Predicted class of row `i` (first maximum of its logits).
    pub fn pred(&self, i: usize) -> u32 {
        let row = self.logits.row(i);
        let mut best = 0;
        for j in 1..row.len() {
            if row[j] > row[best] {
                best = j;
            }
        }
        best as u32
    }

    /// A thumbnail of row `i`: its class colour, stripes on target rows, a row-dependent square.
    pub fn thumb(&self, i: usize) -> RgbImage {
        const COLS: [[u8; 3]; 6] = [
            [0x1f, 0x77, 0xb4],
            [0xff, 0x7f, 0x0e],
            [0x2c, 0xa0, 0x2c],
            [0xd6, 0x27, 0x28],
            [0x94, 0x67, 0xbd],
            [0x8c, 0x56, 0x4b],
        ];
        let c = COLS[self.labels[i] as usize % COLS.len()];
        let (w, h) = if i.is_multiple_of(3) {
            (90, 120)
        } else {
            (160, 120)
        };
        let sq = (i * 7 % 60) as u32;
        RgbImage::from_fn(w, h, |x, y| {
            if (sq..sq + 24).contains(&x) && (20..44).contains(&y) {
                Rgb([255, 255, 255])
            } else if self.is_target[i] && (x / 10).is_multiple_of(2) {
                Rgb([c[0] / 2, c[1] / 2, c[2] / 2])
            } else {
                Rgb(c)
            }
        })
    }
}
