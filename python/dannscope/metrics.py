"""Metrics of a domain-adapted classifier from NumPy arrays: the numbers of ``dannscope eval``.

- :func:`classification`: one domain's accuracy and macro one-vs-rest AUROC with percentile bootstrap
  intervals, per-class figures and the confusion matrix;
- :func:`cohesion`: every cohesion and alignment measure of a source/target pair (silhouettes, proxy
  A-distance, MMD², kNN transfer accuracy, information maximisation, soft neighbourhood density,
  domain kNN purity), each with its mode (exact or scalable) and, when scalable, its interval.

The dictionaries hold the values that ``dannscope eval`` writes to ``metrics.json`` for the same arrays,
to the last bit. Formulas and sources: docs/metrics.md.
"""
from __future__ import annotations

import json
from typing import Any, Sequence

from . import _check, _native

__all__ = ["classification", "cohesion", "silhouette_score"]


def classification(
    logits: Any,
    labels: Any,
    *,
    n_classes: int | None = None,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    class_names: Sequence[str] | None = None,
    n_jobs: int | None = None,
) -> dict[str, Any]:
    """Classification quality of one domain.

    Parameters
    ----------
    logits : array_like of shape (n_samples, n_classes)
        Class scores (softmax is applied for the AUROC; the argmax, lowest index on ties, is the
        prediction). float32 C-contiguous arrays are read without a copy.
    labels : array_like of shape (n_samples,), integer
        True class indices, in logit order.
    n_classes : int, optional
        Number of classes; the logits' width by default.
    n_resamples : int, default=1000
        Bootstrap resamples of the intervals (0: no intervals).
    level : float, default=0.95
        Confidence level of the intervals.
    seed : int, default=0
        Seed of the resampling (``dannscope eval --metrics-seed``).
    class_names : sequence of str, optional
        Names used in notices.
    n_jobs : int, optional
        Threads; ``None`` or -1 use every core. The result does not depend on it.

    Returns
    -------
    dict
        ``n``, ``n_classes``, ``accuracy``, ``accuracy_ci`` (``lower``, ``upper``, ``level``, resamples
        used), ``auroc`` (macro one-vs-rest over the classes with positives and negatives, as
        scikit-learn's ``roc_auc_score(..., multi_class="ovr", average="macro")``), ``auroc_ci``,
        ``auroc_classes``, ``per_class``, ``confusion`` (``[true][predicted]``) and ``notices``.

    Raises
    ------
    TypeError
        ``logits`` not real numbers, or ``labels`` not integers.
    ValueError
        Wrong ranks, lengths that disagree, NaN or infinity, no rows, a label outside the classes.

    Examples
    --------
    >>> import numpy as np, dannscope
    >>> logits = np.array([[2.0, 0.1], [0.3, 1.0], [1.5, 0.2], [0.1, 0.4]], dtype=np.float32)
    >>> r = dannscope.metrics.classification(logits, np.array([0, 1, 1, 1]), n_resamples=200)
    >>> r["accuracy"], r["auroc"]
    (0.75, 1.0)
    """
    x = _check.matrix(logits, "logits")
    y = _check.labels(labels, "labels")
    report = _native.classification(
        x, y,
        n_classes=int(x.shape[1] if n_classes is None else n_classes),
        n_resamples=int(n_resamples), level=float(level), seed=int(seed),
        class_names=[str(c) for c in (class_names or [])], n_jobs=_check.n_jobs(n_jobs),
    )
    return json.loads(report)


def cohesion(
    source_emb: Any,
    source_labels: Any,
    target_emb: Any,
    target_labels: Any,
    *,
    source_logits: Any = None,
    target_logits: Any = None,
    seed: int = 0,
    knn_k: int = 5,
    purity_k: int = 10,
    mode: str = "auto",
    threshold: int = 20_000,
    anchors: int = 400,
    repeats: int = 10,
    level: float = 0.99,
    n_resamples: int = 1000,
    ci_level: float = 0.95,
    precision: str = "float32",
    n_jobs: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Every cohesion and alignment measure of a source/target pair (``dannscope eval``'s).

    Parameters
    ----------
    source_emb, target_emb : array_like of shape (n_source, d) and (n_target, d)
        Embeddings of the two domains. float32 C-contiguous arrays are read without a copy.
    source_labels, target_labels : array_like of shape (n_source,) and (n_target,), integer
        Class indices.
    source_logits, target_logits : array_like of shape (n, n_classes), optional
        Class scores; the measures on predictions (information maximisation, SND) need the target's.
    seed : int, default=0
        Seed of the bandwidth subsample, the proxy A-distance split and the anchor samples.
    knn_k : int, default=5
        Neighbours voting in the kNN transfer accuracy.
    purity_k : int, default=10
        Neighbours of the domain kNN purity.
    mode : {"auto", "exact", "scalable"}, default="auto"
        Quadratic measures (silhouettes, RBF MMD², kNN measures, SND) exact up to ``threshold`` points
        and estimated from ``repeats`` samples of ``anchors`` anchors above (``"auto"``), always exact,
        or always estimated (``dannscope eval --cohesion-mode``).
    threshold, anchors, repeats : int
        The scalable mode's switch point, anchors per sample and samples.
    level : float, default=0.99
        Confidence level of a scalable estimate's interval.
    n_resamples : int, default=1000
        Bootstrap resamples of an exact value's interval (its points resampled per domain; 0: no
        interval).
    ci_level : float, default=0.95
        Confidence level of an exact value's interval.
    precision : {"float32", "float64"}, default="float32"
        Precision of the distance products.
    n_jobs : int, optional
        Threads; ``None`` or -1 use every core. The result does not depend on it.

    Returns
    -------
    dict
        Measure name -> ``{"value": float or None, "reason": str or None, "mode": "exact" or
        "scalable", "interval": {...} or None}``, in the order of ``metrics.json``. The interval
        of an exact value is a percentile bootstrap over its points (``method``), that of a
        scalable estimate comes from its anchor samples. A measure that is
        undefined for this input (one class, too few points, no logits) has ``value`` None and a
        ``reason``. ``silhouette_source`` equals scikit-learn's ``silhouette_score`` on the source.

    Raises
    ------
    TypeError
        An embedding not real numbers, or labels not integers.
    ValueError
        Wrong ranks, widths or lengths that disagree, NaN or infinity, an empty domain, a parameter
        out of range.

    Examples
    --------
    >>> import numpy as np, dannscope
    >>> rng = np.random.default_rng(0)
    >>> ys, yt = rng.integers(0, 3, 120), rng.integers(0, 3, 100)
    >>> xs = (rng.normal(size=(120, 8)) + 3 * ys[:, None]).astype(np.float32)
    >>> xt = (rng.normal(size=(100, 8)) + 3 * yt[:, None] + 0.5).astype(np.float32)
    >>> m = dannscope.metrics.cohesion(xs, ys, xt, yt)
    >>> m["silhouette_source"]["mode"], round(m["silhouette_source"]["value"], 2) > 0.3
    ('exact', True)
    """
    xs = _check.matrix(source_emb, "source_emb")
    xt = _check.matrix(target_emb, "target_emb")
    ys = _check.labels(source_labels, "source_labels")
    yt = _check.labels(target_labels, "target_labels")
    ls = None if source_logits is None else _check.matrix(source_logits, "source_logits")
    lt = None if target_logits is None else _check.matrix(target_logits, "target_logits")
    report = json.loads(_native.cohesion(
        xs, ys, ls, xt, yt, lt,
        seed=int(seed), knn_k=int(knn_k), purity_k=int(purity_k), mode=mode,
        threshold=int(threshold), anchors=int(anchors), repeats=int(repeats), level=float(level),
        n_resamples=int(n_resamples), ci_level=float(ci_level), precision=precision,
        n_jobs=_check.n_jobs(n_jobs),
    ))
    return {
        m["name"]: {"value": m.get("value"), "reason": m.get("reason"), "mode": m.get("mode", "exact"),
                    "interval": m.get("interval")}
        for m in report["metrics"]
    }


def silhouette_score(
    X: Any,
    labels: Any,
    *,
    precision: str = "float32",
    n_jobs: int | None = None,
) -> float:
    """Mean silhouette coefficient of the rows of ``X`` clustered by ``labels``.

    scikit-learn's ``silhouette_score`` (Euclidean; a point alone in its cluster scores 0), computed
    exactly over all pairs in tiles without holding an N x N matrix: the computation behind
    :func:`cohesion`'s exact silhouettes.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
        The points; float32 C-contiguous arrays are read without a copy.
    labels : array_like of shape (n_samples,), integer
        Cluster (class) of every row.
    precision : {"float32", "float64"}, default="float32"
        Precision of the distance products (sums are always float64).
    n_jobs : int, optional
        Threads; ``None`` or -1 use every core. The result does not depend on it.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Fewer than 2 or more than n - 1 distinct labels, NaN or infinity, lengths that disagree.

    Examples
    --------
    >>> import numpy as np, dannscope
    >>> X = np.array([[0, 0], [0, 1], [10, 0], [10, 1]], dtype=np.float32)
    >>> round(dannscope.metrics.silhouette_score(X, np.array([0, 0, 1, 1])), 4)
    0.9002
    """
    x = _check.matrix(X, "X")
    y = _check.labels(labels, "labels")
    return _native.silhouette(x, y, precision=precision, n_jobs=_check.n_jobs(n_jobs))
