"""Type stubs of the native module (python/src/lib.rs). Arrays must be C-contiguous float32 matrices
and int64 vectors; the public API (dannscope, dannscope.metrics) converts and checks them."""
from os import PathLike
from typing import Optional, Sequence

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

def run_cli(args: Sequence[str]) -> int: ...
def version() -> str: ...
def tsne(
    parts: Sequence[F32], *, perplexity: float, n_iter: int, early_exaggeration_iter: int,
    early_exaggeration: float, exaggeration: float, learning_rate: Optional[float], theta: float,
    negative_gradient_method: str, init: str, init_map: Optional[F32], seed: int,
    n_jobs: Optional[int], neighbors: str, pca_dims: Optional[int],
) -> tuple[F32, float, float, list[str]]: ...
def place(
    reference_map: F32, reference_data: F32, new: F32, *, perplexity: float, k: int,
    learning_rate: float, early_exaggeration: float, early_exaggeration_iter: int,
    exaggeration: float, n_iter: int, momentum: float, max_grad_norm: float, n_jobs: Optional[int],
) -> tuple[F32, float]: ...
def classification(
    logits: F32, labels: I64, *, n_classes: int, n_resamples: int, level: float, seed: int,
    class_names: Sequence[str], n_jobs: Optional[int],
) -> str: ...
def cohesion(
    source_emb: F32, source_labels: I64, source_logits: Optional[F32], target_emb: F32,
    target_labels: I64, target_logits: Optional[F32], *, seed: int, knn_k: int, purity_k: int,
    mode: str, threshold: int, anchors: int, repeats: int, level: float, n_resamples: int,
    ci_level: float, precision: str, n_jobs: Optional[int],
) -> str: ...
def validators(
    source_emb: F32, source_labels: I64, source_logits: Optional[F32], target_emb: F32,
    target_logits: Optional[F32], *, params: str, n_jobs: Optional[int],
) -> str: ...
def validator_defaults() -> str: ...
def compare(
    logits_a: F32, logits_b: F32, labels: I64, emb_a: Optional[F32], emb_b: Optional[F32], *,
    n_classes: int, n_resamples: int, level: float, seed: int, k: int, n_jobs: Optional[int],
) -> str: ...
def plot_tsne(
    coords: F32, labels: Sequence[int], is_target: Sequence[bool], *, class_names: Sequence[str],
    source_name: str, target_name: str, title: str, subtitle: Optional[str],
    svg: Optional[str | PathLike[str]], png: Optional[str | PathLike[str]],
) -> Optional[str]: ...
def silhouette(x: F32, labels: I64, *, precision: str, n_jobs: Optional[int]) -> float: ...
