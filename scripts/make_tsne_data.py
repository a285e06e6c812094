#!/usr/bin/env python3
"""Seeded, embedding-like data for the t-SNE scale benchmarks (no download needed).

Model of a pooled CNN embedding (MobileNetV3-L: 1280-D, non-negative after the last
activation) over a DomainNet-like set: 345 classes x 6 domains. Each point is
    e = relu(W (c_class + s_domain + a_class * z) + 0.05 n) * g
with W a fixed random 64 -> 1280 map (columns scaled by a decaying spectrum, so the PCA
spectrum falls off like a real embedding's), c_class ~ N(0, I_64), a per-domain shift
s_domain ~ N(0, 0.6^2 I_64), within-class latent noise z ~ N(0, I_64) with a per-class
spread a_class ~ U(0.5, 1.1), pixel-like noise n ~ N(0, I_1280) and a per-image gain
g ~ LogNormal(0, 0.15). Class sizes follow a Zipf-like law (DomainNet is long-tailed).

Writes OUT/emb_N.npy (f32 [N, 1280], written in chunks through a memory map, so 1M rows need
no more than a few hundred MB) and, with --pca50, OUT/pca50_N.npy: scikit-learn's randomized
PCA to 50 columns fitted on a seeded 100k-row subsample (the input the two t-SNE tools share).

Usage: python3 scripts/make_tsne_data.py --n 100000 --out /work/data/scale [--pca50] [--seed 0]
"""
import argparse
import os

import numpy as np

D, LATENT, CLASSES, DOMAINS = 1280, 64, 345, 6


def model(seed):
    rng = np.random.default_rng(seed)
    spectrum = 1.0 / np.sqrt(1.0 + np.arange(LATENT))
    w = rng.normal(size=(LATENT, D)) * spectrum[:, None] / np.sqrt(LATENT) * 4.0
    centres = rng.normal(size=(CLASSES, LATENT))
    shifts = rng.normal(scale=0.6, size=(DOMAINS, LATENT))
    spread = rng.uniform(0.5, 1.1, size=CLASSES)
    weights = 1.0 / (1.0 + np.arange(CLASSES)) ** 0.6
    weights = rng.permutation(weights / weights.sum())
    return w, centres, shifts, spread, weights


def generate(n, out, seed, chunk=50_000):
    w, centres, shifts, spread, weights = model(seed)
    path = os.path.join(out, f"emb_{n}.npy")
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, D))
    labels = np.empty(n, dtype=np.int64)
    domains = np.empty(n, dtype=np.int64)
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        rng = np.random.default_rng([seed, s])
        cls = rng.choice(CLASSES, size=m, p=weights)
        dom = rng.integers(0, DOMAINS, size=m)
        z = centres[cls] + shifts[dom] + spread[cls, None] * rng.normal(size=(m, LATENT))
        e = np.maximum(z @ w + 0.05 * rng.normal(size=(m, D)), 0.0)
        e *= rng.lognormal(0.0, 0.15, size=(m, 1))
        mm[s:s + m] = e.astype(np.float32)
        labels[s:s + m] = cls
        domains[s:s + m] = dom
    mm.flush()
    np.save(os.path.join(out, f"labels_{n}.npy"), labels)
    np.save(os.path.join(out, f"domains_{n}.npy"), domains)
    return path


def pca50(n, out, seed):
    from sklearn.decomposition import PCA
    x = np.load(os.path.join(out, f"emb_{n}.npy"), mmap_mode="r")
    rng = np.random.default_rng(seed)
    fit_rows = np.sort(rng.choice(n, size=min(n, 100_000), replace=False))
    pca = PCA(n_components=50, svd_solver="randomized", random_state=seed).fit(x[fit_rows])
    y = np.empty((n, 50), dtype=np.float32)
    for s in range(0, n, 100_000):
        y[s:s + 100_000] = pca.transform(x[s:s + 100_000]).astype(np.float32)
    np.save(os.path.join(out, f"pca50_{n}.npy"), y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pca50", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    print(generate(a.n, a.out, a.seed))
    if a.pca50:
        pca50(a.n, a.out, a.seed)


if __name__ == "__main__":
    main()
