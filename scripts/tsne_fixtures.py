#!/usr/bin/env python3
"""Writes the reference fixtures of the t-SNE tests into tests/fixtures/tsne/.

trust_high.npy, trust_low.npy  120 x 10 data and a 2-D distortion of it (float32)
digits50.npy                   first 500 scikit-learn digits, PCA to 50-D (float32)
opentsne_digits50.npy          openTSNE's map of digits50 (defaults, random_state=0)
reference.json                 scikit-learn trustworthiness values, openTSNE KL values

Run: python3 scripts/tsne_fixtures.py
"""
import json
import os

import numpy as np
import openTSNE
import sklearn
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tsne")


def exact_kl(P, y):
    """KL(P || Q) with Q over all pairs of the map y (Student-t, one degree of freedom)."""
    y = np.asarray(y, dtype=np.float64)
    n = y.shape[0]
    sq = (y**2).sum(1)
    z = 0.0
    for s in range(0, n, 1024):
        d2 = sq[s:s + 1024, None] + sq[None, :] - 2.0 * y[s:s + 1024] @ y.T
        w = 1.0 / (1.0 + np.maximum(d2, 0.0))
        z += w.sum() - min(1024, n - s)  # drop the diagonal (w_ii = 1)
    P = P.tocoo()
    mask = P.data > 0
    i, j, p = P.row[mask], P.col[mask], P.data[mask]
    w = 1.0 / (1.0 + ((y[i] - y[j]) ** 2).sum(1))
    return float(np.sum(p * np.log(p / (w / z))))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240601)
    ref = {"sklearn_version": sklearn.__version__, "opentsne_version": openTSNE.__version__}

    # Trustworthiness: Gaussian clusters in 10-D and a noisy 2-D projection of them.
    centres = rng.normal(0, 4, size=(4, 10))
    high = (centres[rng.integers(0, 4, 120)] + rng.normal(0, 1, size=(120, 10))).astype(np.float32)
    low = (high[:, :2] + rng.normal(0, 1.5, size=(120, 2))).astype(np.float32)
    np.save(os.path.join(OUT, "trust_high.npy"), high)
    np.save(os.path.join(OUT, "trust_low.npy"), low)
    ref["trustworthiness"] = {
        str(k): float(trustworthiness(high.astype(np.float64), low.astype(np.float64), n_neighbors=k))
        for k in (1, 5, 10, 25)
    }

    # Digits (first 500), PCA to 50-D, and openTSNE's map of it.
    x = load_digits().data[:500].astype(np.float64)
    x50 = PCA(n_components=50, random_state=0).fit_transform(x).astype(np.float32)
    np.save(os.path.join(OUT, "digits50.npy"), x50)
    emb = openTSNE.TSNE(random_state=0, n_jobs=1).fit(x50.astype(np.float64))
    y = np.asarray(emb, dtype=np.float32)
    np.save(os.path.join(OUT, "opentsne_digits50.npy"), y)
    ref["opentsne_digits50"] = {
        "kl_reported": float(emb.kl_divergence),
        "kl_exact": exact_kl(emb.affinities.P, y),
        "trustworthiness_k10": float(trustworthiness(x50.astype(np.float64), y.astype(np.float64), n_neighbors=10)),
    }
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(ref, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(ref, indent=2))


if __name__ == "__main__":
    main()
