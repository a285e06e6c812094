//! Row access and the distance kernels shared by the searches.
use ndarray::ArrayView1;

/// Contiguous rows of an f32 matrix.
pub(crate) struct Rows<'a> {
    pub data: &'a [f32],
    pub n: usize,
    pub dim: usize,
}

impl Rows<'_> {
    #[inline]
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }
}

const LANES: usize = 16;

/// `Σ aᵢbᵢ` in f32 with a fixed summation order.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    for v in acc {
        s += v;
    }
    s
}

/// `Σ (aᵢ − bᵢ)²` in f32 with a fixed summation order (bitwise symmetric in `a`, `b`).
#[inline]
pub(crate) fn dist2_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            let d = x[l] - y[l];
            acc[l] += d * d;
        }
    }
    let mut s: f32 = ra
        .iter()
        .zip(rb)
        .map(|(x, y)| {
            let d = x - y;
            d * d
        })
        .sum();
    for v in acc {
        s += v;
    }
    s
}

/// `Σ (aᵢ − bᵢ)²` in f64, summed in row order: the one exact squared distance between two f32 rows
/// (the searches' final ranking, explore's lists, gallery distances, t-SNE quality and placement).
pub fn dist2_f64(a: ArrayView1<f32>, b: ArrayView1<f32>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(&x, &y)| {
            let t = x as f64 - y as f64;
            t * t
        })
        .sum()
}
