#!/usr/bin/env python3
"""Compares the native t-SNE engine (release build) with openTSNE on the same data, in one run.

Data: scikit-learn digits (1,797 x 64) and seeded Gaussian mixtures of 10k / 30k / 70k points
in 50-D. For each set: wall-time median of REPEATS runs of each (openTSNE defaults, n_jobs=2),
their ratio, the exact KL divergence of both maps against one P (openTSNE's exact-kNN
affinities, perplexity 30) computed here in numpy, and trustworthiness (k=10; on a seeded
subsample of 3,000 points for larger sets).

Large sets: `--npy /work/data/scale/pca50_100000.npy,...` (from scripts/make_tsne_data.py --pca50)
replaces the mixtures; above 70k points P comes from openTSNE's default approximate kNN (an exact P
would cost O(N^2) here), and the native tool's peak RSS (getrusage of the child) is printed.

Usage: python3 scripts/bench_tsne.py [--sizes digits,10000,30000,70000] [--repeats 3] [--npy A.npy,B.npy]
Run from the repository root with CARGO_TARGET_DIR set as for the build.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import tempfile
import time

import numpy as np
import openTSNE
from openTSNE.affinity import PerplexityBasedNN
from sklearn.datasets import load_digits
from sklearn.manifold import trustworthiness


def mixture(n, d=50, k=20, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(k, d))
    scales = rng.uniform(0.5, 1.5, size=k)
    lab = rng.integers(0, k, n)
    return (centres[lab] + rng.normal(size=(n, d)) * scales[lab, None]).astype(np.float32)


def exact_kl(P, y):
    y = np.asarray(y, dtype=np.float64)
    n = y.shape[0]
    sq = (y**2).sum(1)
    z = 0.0
    for s in range(0, n, 2048):
        d2 = sq[s:s + 2048, None] + sq[None, :] - 2.0 * y[s:s + 2048] @ y.T
        z += (1.0 / (1.0 + np.maximum(d2, 0.0))).sum() - min(2048, n - s)
    P = P.tocoo()
    m = P.data > 0
    i, j, p = P.row[m], P.col[m], P.data[m]
    w = 1.0 / (1.0 + ((y[i] - y[j]) ** 2).sum(1))
    return float(np.sum(p * np.log(p / (w / z))))


def trust(x, y, seed=0, cap=3000):
    if len(x) > cap:
        idx = np.sort(np.random.default_rng(seed).choice(len(x), cap, replace=False))
        x, y = x[idx], y[idx]
    return float(trustworthiness(x.astype(np.float64), y.astype(np.float64), n_neighbors=10))


def run_native(x, repeats, tmp):
    inp, out = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
    np.save(inp, x)
    cmd = ["cargo", "bench", "-q", "--bench", "tsne_compare", "--", inp, out, str(repeats)]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    info = json.loads(res.stdout.strip().splitlines()[-1])
    return info["times_s"], np.load(out)


def run_opentsne(x, repeats):
    times, y = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        y = openTSNE.TSNE(n_jobs=2, random_state=0).fit(x.astype(np.float64))
        times.append(time.perf_counter() - t)
    return times, np.asarray(y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="digits,10000,30000,70000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--big-repeats", type=int, default=1, help="repeats above 20k points")
    ap.add_argument("--npy", default="", help="comma-separated [N, D] float32 .npy files instead of --sizes")
    args = ap.parse_args()
    subprocess.run(["cargo", "bench", "--bench", "tsne_compare", "--no-run"], check=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sets = args.npy.split(",") if args.npy else args.sizes.split(",")
        for size in sets:
            if size.endswith(".npy"):
                x = np.load(size).astype(np.float32)
            elif size == "digits":
                x = load_digits().data.astype(np.float32)
            else:
                x = mixture(int(size), seed=int(size))
            n = len(x)
            reps = args.repeats if n <= 20000 else args.big_repeats
            t_nat, y_nat = run_native(x, reps, tmp)
            t_ot, y_ot = run_opentsne(x, reps)
            rss_native_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            knn_method = "exact" if n <= 70000 else "annoy"
            P = PerplexityBasedNN(x.astype(np.float64), perplexity=30, method=knn_method, n_jobs=2,
                                  random_state=0).P
            row = {
                "data": f"{size} ({n}x{x.shape[1]})",
                "native_s": statistics.median(t_nat),
                "opentsne_s": statistics.median(t_ot),
                "kl_native": exact_kl(P, y_nat),
                "kl_opentsne": exact_kl(P, y_ot),
                "trust_native": trust(x, y_nat),
                "trust_opentsne": trust(x, y_ot),
                "repeats": reps,
                "p_knn": knn_method,
                "peak_rss_native_mib_max_so_far": rss_native_mib,
            }
            row["ratio_opentsne_over_native"] = row["opentsne_s"] / row["native_s"]
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("\n| data | native s | openTSNE s | openTSNE/native | KL native | KL openTSNE | T native | T openTSNE |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['data']} | {r['native_s']:.2f} | {r['opentsne_s']:.2f} | "
              f"{r['ratio_opentsne_over_native']:.2f} | {r['kl_native']:.4f} | {r['kl_opentsne']:.4f} | "
              f"{r['trust_native']:.4f} | {r['trust_opentsne']:.4f} |")


if __name__ == "__main__":
    main()
