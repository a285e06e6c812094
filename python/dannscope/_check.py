"""Input checks shared by the API: dtypes and ranks are checked here, once, before the native call;
values (NaN, infinities, shapes that must agree, empty inputs) are checked by the library, whose
messages are those of the `dannscope` command for the same fault."""
from __future__ import annotations

from typing import Any

import numpy as np


def matrix(a: Any, name: str) -> np.ndarray:
    """`a` as a C-contiguous float32 `[N, D]` array.

    A float32 C-contiguous array passes through without a copy; any other real dtype (float64,
    integers, booleans) or a non-contiguous layout is converted once.
    """
    return _checked(a, name, "fiub", "real numbers (a float or integer dtype)", 2, "[N, D]", np.float32)


def labels(a: Any, name: str) -> np.ndarray:
    """`a` as a contiguous int64 `[N]` array of class indices (the library checks its length)."""
    return _checked(a, name, "iu", "integer class indices", 1, "[N]", np.int64)


def _checked(a: Any, name: str, kinds: str, holds: str, ndim: int, shape: str, dtype: Any) -> np.ndarray:
    """`a` as a C-contiguous array of `dtype`, after checking its dtype kind and rank."""
    arr = np.asarray(a)
    if arr.dtype.kind not in kinds:
        raise TypeError(f"{name} must hold {holds}, found dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array {shape}, found shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=dtype)


def n_jobs(v: int | None) -> int | None:
    """`None` (every core) or a positive thread count; -1 means every core, as in scikit-learn."""
    if v is None or v == -1:
        return None
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
        raise ValueError(f"n_jobs: expected a positive number of threads, -1 or None, found {v!r}")
    return int(v)
