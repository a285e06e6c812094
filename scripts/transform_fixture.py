#!/usr/bin/env python3
"""Writes the fixtures of the t-SNE placement test into tests/fixtures/transform/.

Reference set: scikit-learn digits 0..399, PCA (fitted on them) to 30-D. New set: digits
400..599 with a domain shift (pixels scaled by 0.8, +2 brightness, seeded Gaussian noise of
sd 1.5), projected with the same PCA. openTSNE fits the reference map (defaults, Barnes-Hut,
random_state=0) and places the new set with `transform` at its defaults (perplexity 5,
median init over k=25 neighbours, learning rate 0.1, exaggeration 1.5, 250 iterations,
max_grad_norm 0.25).

ref_x.npy, new_x.npy        float32 data, [400, 30] and [200, 30]
ref_map.npy                 openTSNE's reference map, [400, 2] (read after transform)
ref_labels.npy, new_labels.npy  int64 digit classes
opentsne_placed.npy         openTSNE's placed coordinates, [200, 2]
summary.json                per placed point: the class of its nearest reference point in the
                            map, and its distance from the median of its 15 nearest reference
                            neighbours' positions; their means; versions

Run: python3 scripts/transform_fixture.py
"""
import json
import os

import numpy as np
import openTSNE
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "transform")


def main():
    os.makedirs(OUT, exist_ok=True)
    digits = load_digits()
    x, lab = digits.data.astype(np.float64), digits.target.astype(np.int64)
    rng = np.random.default_rng(11)
    ref_raw, new_raw = x[:400], x[400:600]
    new_raw = 0.8 * new_raw + 2.0 + rng.normal(0.0, 1.5, new_raw.shape)
    pca = PCA(n_components=30, random_state=0).fit(ref_raw)
    ref_x = pca.transform(ref_raw).astype(np.float32)
    new_x = pca.transform(new_raw).astype(np.float32)

    emb = openTSNE.TSNE(negative_gradient_method="bh", random_state=0, n_jobs=1).fit(ref_x)
    placed = np.asarray(emb.transform(new_x), dtype=np.float64)
    ref_map = np.asarray(emb, dtype=np.float32)

    # Summary statistics the Rust test compares against.
    ymap = ref_map.astype(np.float64)
    nn_map = NearestNeighbors(n_neighbors=1).fit(ymap)
    nearest_class = lab[:400][nn_map.kneighbors(placed, return_distance=False)[:, 0]]
    nn_data = NearestNeighbors(n_neighbors=15).fit(ref_x.astype(np.float64))
    idx = nn_data.kneighbors(new_x.astype(np.float64), return_distance=False)
    init = np.median(ymap[idx], axis=1)
    dist_init = np.linalg.norm(placed - init, axis=1)

    np.save(os.path.join(OUT, "ref_x.npy"), ref_x)
    np.save(os.path.join(OUT, "new_x.npy"), new_x)
    np.save(os.path.join(OUT, "ref_map.npy"), ref_map)
    np.save(os.path.join(OUT, "ref_labels.npy"), lab[:400])
    np.save(os.path.join(OUT, "new_labels.npy"), lab[400:600])
    np.save(os.path.join(OUT, "opentsne_placed.npy"), placed.astype(np.float32))
    summary = {
        "opentsne": openTSNE.__version__,
        "nearest_reference_class": nearest_class.tolist(),
        "distance_from_init": dist_init.tolist(),
        "mean_distance_from_init": float(dist_init.mean()),
        "median_distance_from_init": float(np.median(dist_init)),
        "nearest_class_is_true_class": float((nearest_class == lab[400:600]).mean()),
        "map_extent": float(np.ptp(ymap, axis=0).max()),
    }
    with open(os.path.join(OUT, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print({k: v for k, v in summary.items() if not isinstance(v, list)})


if __name__ == "__main__":
    main()
