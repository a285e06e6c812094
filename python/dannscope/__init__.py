"""dannscope: how well a domain-adaptation (DANN) model aligned its domains, from NumPy arrays.

The package holds the ``dannscope`` command (the same command line as the Rust binary), the ONNX
exporter (``python -m dannscope.export``, with ``pip install "dannscope[export]"``) and this API:

- :func:`tsne`: a t-SNE map of one set of rows, or a joint map of several blocks (source and target);
- :func:`place`: new points placed into an existing map (openTSNE's ``transform``);
- :mod:`dannscope.metrics`: ``classification`` (accuracy, macro one-vs-rest AUROC, bootstrap
  intervals) and ``cohesion`` (every measure of ``dannscope eval``, with its mode and interval);
- :func:`validators`: the label-free scores ``dannscope select`` ranks checkpoints by;
- :func:`compare`: two models on the same images (``dannscope compare``);
- :func:`plot_tsne`: the joint t-SNE figure of ``dannscope tsne``, as SVG and PNG.

Every function takes NumPy arrays. float32 C-contiguous arrays are read in place (no copy); other real
dtypes and layouts are converted once to float32. The work runs without the GIL, on every core unless
``n_jobs`` says otherwise, and its results do not depend on the number of threads. Bad input raises
``TypeError`` (a dtype) or ``ValueError`` (a shape, NaN or infinity, an empty set, a parameter out of
range) with the message the ``dannscope`` command gives for the same fault.
"""
from __future__ import annotations

import json
import os
from typing import Any, Sequence, Union

import numpy as np

from . import _check, _native, metrics

__all__ = ["tsne", "place", "validators", "compare", "plot_tsne", "metrics", "__version__"]

__version__: str = _native.version()

ArrayLike = Any


def tsne(
    X: Union[ArrayLike, Sequence[ArrayLike]],
    *,
    perplexity: float = 30.0,
    n_iter: int = 500,
    early_exaggeration_iter: int = 250,
    early_exaggeration: float = 12.0,
    exaggeration: float = 1.0,
    learning_rate: Union[float, str] = "auto",
    theta: float = 0.5,
    negative_gradient_method: str = "auto",
    init: Union[str, ArrayLike] = "pca",
    seed: int = 0,
    n_jobs: int | None = None,
    neighbors: str = "auto",
    pca_dims: int | None = 50,
) -> np.ndarray:
    """Embed the rows of ``X`` in two dimensions with t-SNE.

    The map is the one ``dannscope tsne`` draws: exact or approximate kNN affinities calibrated to the
    perplexity, early exaggeration, then Barnes-Hut (below 10,000 points) or FFT-accelerated
    interpolation (from 10,000 on). The same seed gives the same bytes at any thread count.
    Parameter names follow openTSNE's ``TSNE`` where they mean the same.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features), or a list of 2-D arrays
        The points. A list (or tuple) of 2-D NumPy arrays of the same width (e.g. ``[source,
        target]``) is fitted as one set, its rows in block order, as the command fits a source/target pair (inputs wider
        than ``pca_dims`` are reduced block by block). float32 C-contiguous blocks are read without
        a copy; other real dtypes are converted to float32 once.
    perplexity : float, default=30
        Effective number of neighbours; reduced to (N - 1) / 3 on small sets.
    n_iter : int, default=500
        Iterations after the early exaggeration.
    early_exaggeration_iter : int, default=250
        Iterations of the early exaggeration phase.
    early_exaggeration : float, default=12
        Exaggeration of the early phase.
    exaggeration : float, default=1
        Exaggeration of the main phase.
    learning_rate : float or "auto", default="auto"
        ``"auto"`` is N / exaggeration in each phase (openTSNE's).
    theta : float, default=0.5
        Barnes-Hut opening angle.
    negative_gradient_method : {"auto", "bh", "fft"}, default="auto"
        Approximation of the repulsive forces; ``"auto"`` picks Barnes-Hut below 10,000 points.
    init : {"pca", "random"} or array_like of shape (n_samples, 2), default="pca"
        Initial layout: the first two principal components (rescaled), seeded Gaussian points, or a
        given layout used as is.
    seed : int, default=0
        Seed of every random choice (openTSNE's ``random_state``).
    n_jobs : int, optional
        Threads; ``None`` or -1 use every core. The result does not depend on it.
    neighbors : {"auto", "exact", "approx"}, default="auto"
        How the perplexity neighbours are found.
    pca_dims : int or None, default=50
        Inputs wider than this are reduced by PCA first; ``None`` keeps every column.

    Returns
    -------
    ndarray of shape (n_samples, 2), float32
        The map, rows in the order of ``X``.

    Raises
    ------
    TypeError
        ``X`` does not hold real numbers.
    ValueError
        ``X`` is not 2-D, has fewer than 5 rows, holds NaN or infinity, or a parameter is out of range.

    Examples
    --------
    >>> import numpy as np, dannscope
    >>> X = np.random.default_rng(0).normal(size=(200, 16)).astype(np.float32)
    >>> Y = dannscope.tsne(X, perplexity=30, seed=0)
    >>> Y.shape, Y.dtype
    ((200, 2), dtype('float32'))
    >>> bool((dannscope.tsne(X, seed=0, n_jobs=1) == Y).all())  # reproducible at any thread count
    True
    """
    is_blocks = isinstance(X, (list, tuple)) and len(X) > 0 and all(
        getattr(b, "ndim", None) == 2 for b in X)
    blocks = list(X) if is_blocks else [X]
    parts = [_check.matrix(b, "X" if len(blocks) == 1 else f"X[{i}]") for i, b in enumerate(blocks)]
    init_map = None
    if isinstance(init, str):
        init_name = init
    else:
        init_name, init_map = "given", _check.matrix(init, "init")
    if isinstance(learning_rate, str):
        if learning_rate != "auto":
            raise ValueError(
                f"invalid t-SNE parameter learning_rate: expected \"auto\" or a finite number > 0, found {learning_rate!r}")
        lr = None
    else:
        lr = float(learning_rate)
    coords, _kl, _perplexity, _notices = _native.tsne(
        parts,
        perplexity=float(perplexity),
        n_iter=int(n_iter),
        early_exaggeration_iter=int(early_exaggeration_iter),
        early_exaggeration=float(early_exaggeration),
        exaggeration=float(exaggeration),
        learning_rate=lr,
        theta=float(theta),
        negative_gradient_method=negative_gradient_method,
        init=init_name,
        init_map=init_map,
        seed=int(seed),
        n_jobs=_check.n_jobs(n_jobs),
        neighbors=neighbors,
        pca_dims=pca_dims,
    )
    return coords


def place(
    reference_map: ArrayLike,
    X_ref: ArrayLike,
    X_new: ArrayLike,
    *,
    perplexity: float = 5.0,
    k: int = 25,
    learning_rate: float = 0.1,
    early_exaggeration: float = 4.0,
    early_exaggeration_iter: int = 0,
    exaggeration: float = 1.5,
    n_iter: int = 250,
    momentum: float = 0.8,
    max_grad_norm: float = 0.25,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Place new points into an existing t-SNE map, leaving the map as it is.

    openTSNE's ``TSNEEmbedding.transform`` with its defaults: each new point starts at the median
    position of its ``k`` nearest reference points and is optimised against the fixed reference map.
    ``dannscope tsne --place-target`` places a pair's target this way. Placement pulls points toward
    the reference clusters, so a joint map (:func:`tsne` on ``[X_ref, X_new]``) stays the honest view
    of a shift.

    Parameters
    ----------
    reference_map : array_like of shape (n_ref, 2)
        The map of ``X_ref`` (e.g. from :func:`tsne`).
    X_ref : array_like of shape (n_ref, n_features)
        The points the map was fitted on.
    X_new : array_like of shape (n_new, n_features)
        The points to place. float32 C-contiguous arrays are read without a copy.
    perplexity : float, default=5
        Perplexity of the new-to-reference affinities.
    k : int, default=25
        Reference neighbours whose median position starts each new point.
    learning_rate, early_exaggeration, early_exaggeration_iter, exaggeration, n_iter, momentum, max_grad_norm
        The optimisation, as openTSNE's ``prepare_partial`` and ``optimize`` take them.
    n_jobs : int, optional
        Threads; ``None`` or -1 use every core.

    Returns
    -------
    ndarray of shape (n_new, 2), float32

    Examples
    --------
    >>> import numpy as np, dannscope
    >>> rng = np.random.default_rng(0)
    >>> X_ref = rng.normal(size=(300, 8)).astype(np.float32)
    >>> X_new = rng.normal(size=(20, 8)).astype(np.float32)
    >>> Y = dannscope.tsne(X_ref, seed=0)
    >>> dannscope.place(Y, X_ref, X_new).shape
    (20, 2)
    """
    m = _check.matrix(reference_map, "reference_map")
    ref = _check.matrix(X_ref, "X_ref")
    new = _check.matrix(X_new, "X_new")
    coords, _perplexity = _native.place(
        m, ref, new,
        perplexity=float(perplexity), k=int(k), learning_rate=float(learning_rate),
        early_exaggeration=float(early_exaggeration),
        early_exaggeration_iter=int(early_exaggeration_iter), exaggeration=float(exaggeration),
        n_iter=int(n_iter), momentum=float(momentum), max_grad_norm=float(max_grad_norm),
        n_jobs=_check.n_jobs(n_jobs),
    )
    return coords


def validators(
    source_emb: ArrayLike,
    source_labels: ArrayLike,
    source_logits: ArrayLike,
    target_emb: ArrayLike,
    target_logits: ArrayLike,
    *,
    seed: int = 0,
    class_ami_init: str = "label-centers",
    dev_folds: int = 3,
    n_jobs: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Label-free validators of one checkpoint: the scores ``dannscope select`` ranks epochs by.

    Each score is oriented so that higher is better, as pytorch-adapt's validators: ``entropy``
    (``EntropyValidator``), ``im`` (``IMValidator``), ``snd`` (``SNDValidator``, T = 0.05), ``bnm``
    (``BNMValidator``), ``class_ami`` (``ClassClusterValidator``), ``dev`` (``DeepEmbeddedValidator``'s
    risk, negated, with a cross-fitted logistic discriminator) and ``atc_mc``, ``atc_ne`` (ATC's estimate
    of the target accuracy). Target labels are never read.

    Parameters
    ----------
    source_emb : array_like of shape (n_source, d)
    source_labels : array_like of shape (n_source,), integer
    source_logits : array_like of shape (n_source, n_classes)
        The labelled source, used by DEV and ATC.
    target_emb : array_like of shape (n_target, d)
    target_logits : array_like of shape (n_target, n_classes) or None
        The target; without logits only ``class_ami`` and ``dev`` can be computed.
    seed : int, default=0
        Seed of DEV's folds and of ClassAMI's k-means++ start.
    class_ami_init : {"label-centers", "kmeans++"}, default="label-centers"
        How ClassAMI's k-means starts (``dannscope select --class-ami-init``).
    dev_folds : int, default=3
        DEV's cross-fitting folds (``--dev-folds``).
    n_jobs : int, optional
        Threads; ``None`` or -1 use every core.

    Returns
    -------
    dict
        Validator name -> ``{"value": float or None, "verdict": "informative" | "not_informative" |
        "undefined", "reason": str or None}`` (``dev`` also has ``"dev"``: discriminator accuracy,
        effective sample size, folds).

    Examples
    --------
    >>> import numpy as np, dannscope
    >>> rng = np.random.default_rng(0)
    >>> ys = rng.integers(0, 3, 150)
    >>> xs = (rng.normal(size=(150, 8)) + 3 * ys[:, None]).astype(np.float32)
    >>> xt = (rng.normal(size=(120, 8)) + 3 * rng.integers(0, 3, 120)[:, None]).astype(np.float32)
    >>> w = np.eye(8, 3, dtype=np.float32)
    >>> v = dannscope.validators(xs, ys, xs @ w, xt, xt @ w)
    >>> sorted(v)
    ['atc_mc', 'atc_ne', 'bnm', 'class_ami', 'dev', 'entropy', 'im', 'snd']
    """
    xs = _check.matrix(source_emb, "source_emb")
    ys = _check.labels(source_labels, "source_labels")
    ls = None if source_logits is None else _check.matrix(source_logits, "source_logits")
    xt = _check.matrix(target_emb, "target_emb")
    lt = None if target_logits is None else _check.matrix(target_logits, "target_logits")
    if class_ami_init not in ("label-centers", "kmeans++"):
        raise ValueError(
            f"class_ami_init: expected \"label-centers\" or \"kmeans++\", found {class_ami_init!r}")
    params = json.loads(_native.validator_defaults())
    params["seed"] = int(seed)
    params["class_ami_init"] = class_ami_init
    params["dev"]["folds"] = int(dev_folds)
    scores = json.loads(_native.validators(
        xs, ys, ls, xt, lt, params=json.dumps(params), n_jobs=_check.n_jobs(n_jobs)))
    return {s.pop("name"): {"reason": None, **s} for s in scores}


def compare(
    logits_a: ArrayLike,
    logits_b: ArrayLike,
    labels: ArrayLike,
    *,
    emb_a: ArrayLike | None = None,
    emb_b: ArrayLike | None = None,
    n_classes: int | None = None,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    k: int = 10,
    n_jobs: int | None = None,
) -> dict[str, Any]:
    """Two models on the same images, row for row (``dannscope compare``).

    Parameters
    ----------
    logits_a, logits_b : array_like of shape (n_samples, n_classes)
        Class scores of model A and model B on the same images, in the same row order.
    labels : array_like of shape (n_samples,), integer
        True classes.
    emb_a, emb_b : array_like of shape (n_samples, d_a) and (n_samples, d_b), optional
        Embeddings of the two models; with both, ``knn_jaccard`` is the mean overlap of each image's
        ``k`` nearest neighbours in the two spaces.
    n_classes : int, optional
        Number of classes; the logits' width by default.
    n_resamples : int, default=1000
        Paired bootstrap resamples of the accuracy difference (0: no interval).
    level : float, default=0.95
        Confidence level of the interval.
    seed : int, default=0
        Seed of the resamples.
    k : int, default=10
        Neighbours per image of ``knn_jaccard``.
    n_jobs : int, optional
        Threads; ``None`` or -1 use every core.

    Returns
    -------
    dict
        ``n``, ``accuracy_a``, ``accuracy_b``, ``difference`` (B - A), ``difference_ci``, ``mcnemar``
        (discordant counts and exact p), ``per_class``, ``fixed`` and ``broken`` (row indices that B
        gets right and A wrong, and the reverse), and ``knn_jaccard`` with both embeddings.

    Examples
    --------
    >>> import numpy as np, dannscope
    >>> y = np.array([0, 1, 1, 0, 1, 0])
    >>> a = np.eye(2, dtype=np.float32)[[0, 0, 1, 1, 1, 0]]
    >>> b = np.eye(2, dtype=np.float32)[[0, 1, 1, 0, 1, 0]]
    >>> r = dannscope.compare(a, b, y, n_resamples=0)
    >>> r["accuracy_a"], r["accuracy_b"], r["fixed"], r["broken"]
    (0.6666666666666666, 1.0, [1, 3], [])
    """
    la = _check.matrix(logits_a, "logits_a")
    lb = _check.matrix(logits_b, "logits_b")
    y = _check.labels(labels, "labels")
    ea = None if emb_a is None else _check.matrix(emb_a, "emb_a")
    eb = None if emb_b is None else _check.matrix(emb_b, "emb_b")
    if (ea is None) != (eb is None):
        raise ValueError("emb_a and emb_b: give both embeddings or neither")
    return json.loads(_native.compare(
        la, lb, y, ea, eb, n_classes=int(la.shape[1] if n_classes is None else n_classes),
        n_resamples=int(n_resamples), level=float(level), seed=int(seed), k=int(k),
        n_jobs=_check.n_jobs(n_jobs)))


def plot_tsne(
    coords: ArrayLike,
    labels: ArrayLike,
    is_target: ArrayLike,
    path: Union[str, "os.PathLike[str]", None] = None,
    *,
    class_names: Sequence[str] | None = None,
    source_name: str = "source",
    target_name: str = "target",
    title: str = "Joint t-SNE",
    subtitle: str | None = None,
) -> Union[str, tuple[str, str]]:
    """Draw the joint t-SNE figure of ``dannscope tsne`` from arrays.

    Panel (a) colours points by class, filled discs for source rows and open triangles for target
    rows; panel (b) colours them by domain. The legend counts each class per domain.

    Parameters
    ----------
    coords : array_like of shape (n_samples, 2)
        The map (e.g. :func:`tsne` of ``[source, target]``).
    labels : array_like of shape (n_samples,), integer
        Class index of every row.
    is_target : array_like of shape (n_samples,), bool
        True for target rows.
    path : str or path-like, optional
        Where to write: ``<path>.svg`` and ``<path>.png`` (a ``.svg`` or ``.png`` suffix is dropped
        first). Without it the SVG document is returned as a string.
    class_names : sequence of str, optional
        Names by class index (default ``class 0``, ``class 1``, ...).
    source_name, target_name, title, subtitle : str
        Legend and title text.

    Returns
    -------
    str or (str, str)
        The SVG document, or the paths of the SVG and PNG files written.

    Examples
    --------
    >>> import numpy as np, dannscope
    >>> rng = np.random.default_rng(0)
    >>> Y = rng.normal(size=(40, 2)).astype(np.float32)
    >>> svg = dannscope.plot_tsne(Y, rng.integers(0, 3, 40), np.arange(40) >= 20)
    >>> svg.startswith("<svg")
    True
    """
    xy = _check.matrix(coords, "coords")
    y = _check.labels(labels, "labels")
    t = np.asarray(is_target)
    if t.dtype != np.bool_ or t.ndim != 1:
        raise TypeError(f"is_target must be a 1-D boolean array, found dtype {t.dtype} and shape {t.shape}")
    if (y < 0).any():
        raise ValueError(f"labels: expected non-negative class labels, found {int(y.min())}")
    names = [str(c) for c in class_names] if class_names is not None else [
        f"class {c}" for c in range(int(y.max()) + 1 if y.size else 0)]
    svg = png = None
    if path is not None:
        stem = os.fspath(path)
        if stem.endswith((".svg", ".png")):
            stem = stem[:-4]
        svg, png = stem + ".svg", stem + ".png"
    out = _native.plot_tsne(
        xy, y.astype(np.uint32).tolist(), t.tolist(), class_names=names, source_name=source_name,
        target_name=target_name, title=title, subtitle=subtitle, svg=svg, png=png)
    return out if path is None else (svg, png)
