//! [`Matrix`]: an `f32` matrix read from a store, either owned or viewed in place in a memory-mapped
//! `.npz` file (no copy: a 5 GB embedding costs address space, not a second 5 GB of memory).

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use memmap2::Mmap;
use ndarray::{Array2, ArrayView2};
use ndarray_npy::{ViewNpyError, ViewNpyExt};

/// An `[N, D]` `f32` matrix: owned (computed, or read from a file that cannot be viewed in place) or a
/// view of an array stored uncompressed and aligned inside a memory-mapped file. Read it through
/// [`Matrix::view`]; the two kinds give the same values.
#[derive(Clone)]
pub struct Matrix {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    Owned(Array2<f32>),
    Mapped(Mapped),
}

/// Row-major `f32` data at `start..start + 4·rows·cols` of a mapping, checked when it was made.
#[derive(Clone)]
struct Mapped {
    map: Arc<Mmap>,
    start: usize,
    rows: usize,
    cols: usize,
}

impl Matrix {
    /// View the `.npy` file at `member` of `map` in place. `Ok(None)` when it cannot be viewed
    /// without copying (data not aligned to 4 bytes, as in stores written before members were
    /// aligned, or Fortran order): the caller reads it into memory instead. Errors are those of a
    /// corrupt member (bad header, another element type, missing or extra bytes).
    pub(crate) fn map_npy(
        map: Arc<Mmap>,
        member: Range<usize>,
    ) -> Result<Option<Matrix>, ViewNpyError> {
        let bytes = map.get(member.clone()).ok_or(ViewNpyError::MissingBytes(
            member.end.saturating_sub(map.len()),
        ))?;
        let (rows, cols, standard) = match ArrayView2::<f32>::view_npy(bytes) {
            Ok(v) => (v.nrows(), v.ncols(), v.is_standard_layout()),
            Err(ViewNpyError::MisalignedData) => return Ok(None),
            Err(e) => return Err(e),
        };
        if !standard {
            return Ok(None);
        }
        if rows * cols == 0 {
            return Ok(Some(Array2::zeros((rows, cols)).into()));
        }
        // `view_npy` refuses extra bytes: the data is the member's tail.
        let start = member.end - 4 * rows * cols;
        Ok(Some(Matrix {
            repr: Repr::Mapped(Mapped {
                map,
                start,
                rows,
                cols,
            }),
        }))
    }

    /// The matrix as an array view (no copy).
    pub fn view(&self) -> ArrayView2<'_, f32> {
        match &self.repr {
            Repr::Owned(a) => a.view(),
            Repr::Mapped(m) => {
                let bytes = &m.map[m.start..m.start + 4 * m.rows * m.cols];
                // Alignment, length and element type were checked by `map_npy`.
                let data: &[f32] = bytemuck::cast_slice(bytes);
                ArrayView2::from_shape((m.rows, m.cols), data)
                    .expect("shape checked when the member was mapped")
            }
        }
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        match &self.repr {
            Repr::Owned(a) => a.nrows(),
            Repr::Mapped(m) => m.rows,
        }
    }

    /// Number of columns.
    pub fn ncols(&self) -> usize {
        match &self.repr {
            Repr::Owned(a) => a.ncols(),
            Repr::Mapped(m) => m.cols,
        }
    }

    /// Whether the values are viewed in a memory-mapped file (not held in memory).
    pub fn is_mapped(&self) -> bool {
        matches!(self.repr, Repr::Mapped(_))
    }

    /// The values as an owned array (a copy when mapped).
    pub fn into_owned(self) -> Array2<f32> {
        match self.repr {
            Repr::Owned(a) => a,
            Repr::Mapped(_) => self.view().to_owned(),
        }
    }
}

impl From<Array2<f32>> for Matrix {
    fn from(a: Array2<f32>) -> Matrix {
        Matrix {
            repr: Repr::Owned(a),
        }
    }
}

/// Equal values and shapes, whichever the kinds.
impl PartialEq for Matrix {
    fn eq(&self, other: &Matrix) -> bool {
        self.view() == other.view()
    }
}

impl fmt::Debug for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_mapped() { "mapped" } else { "owned" };
        write!(f, "Matrix({kind}) ")?;
        fmt::Debug::fmt(&self.view(), f)
    }
}
