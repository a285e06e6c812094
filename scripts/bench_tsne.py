#!/usr/bin/env python3
"""Compares the native t-SNE engine (release build) with openTSNE on the same data, in one run.

Data: scikit-learn digits (1,797 x 64) and seeded Gaussian mixtures of 10k / 30k / 70k points
in 50-D. For each set: wall-time median of REPEATS runs of each (openTSNE defaults, n_jobs=2),
their ratio, the exact KL divergence of both maps against one P (openTSNE's exact-kNN
affinities, perplexity 30) computed here in numpy, and trustworthiness (k=10; on a seeded
subsample of 3,000 points for larger sets).

Large sets: `--npy /work/data/scale/pca50_100000.npy,...` (from scripts/make_tsne_data.py --pca50)
replaces the mixtures; above 70k points P comes from openTSNE's default approximate kNN (an exact P
would cost O(N^2) here). Each tool runs in its own child process under /usr/bin/time, whose peak
RSS is reported. Sets above --score-max points (default 300,000) are timed only: numpy's exact KL is
O(N^2) and the shared P would need another approximate kNN, so each tool's own KL is printed instead
(dannscope's exact KL; openTSNE's estimate from its last iteration, a different measure).

Usage: python3 scripts/bench_tsne.py [--sizes digits,10000,30000,70000] [--repeats 3] [--npy A.npy,B.npy]
       [--score-max N]
Run from the repository root with CARGO_TARGET_DIR set as for the build.
"""
import argparse
import json
import os
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
    """KL(P || Q) of map y with the exact normaliser Z (all pairs, upper triangle, in blocks)."""
    y = np.asarray(y, dtype=np.float32)
    n = y.shape[0]
    sq = (y.astype(np.float64) ** 2).sum(1).astype(np.float32)
    block = max(1, int(2e7 // n))
    z = 0.0
    for s in range(0, n, block):
        e = min(n, s + block)
        d2 = sq[s:e, None] + sq[None, s:] - 2.0 * (y[s:e] @ y[s:].T)
        w = 1.0 / (1.0 + np.maximum(d2, 0.0))
        # Pairs (i, j) with j > i only: drop the diagonal and the part left of it.
        w[np.arange(e - s)[:, None] >= np.arange(n - s)[None, :]] = 0.0
        z += 2.0 * float(w.sum(dtype=np.float64))
    P = P.tocoo()
    m = P.data > 0
    i, j, p = P.row[m], P.col[m], P.data[m]
    y64 = y.astype(np.float64)
    w = 1.0 / (1.0 + ((y64[i] - y64[j]) ** 2).sum(1))
    return float(np.sum(p * np.log(p / (w / z))))


def trust(x, y, seed=0, cap=3000):
    if len(x) > cap:
        idx = np.sort(np.random.default_rng(seed).choice(len(x), cap, replace=False))
        x, y = x[idx], y[idx]
    return float(trustworthiness(x.astype(np.float64), y.astype(np.float64), n_neighbors=10))


def timed(cmd):
    """Runs cmd under /usr/bin/time; returns (stdout, peak RSS of the process in MiB)."""
    with tempfile.NamedTemporaryFile(mode="r") as t:
        res = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", t.name] + cmd, check=True,
                             capture_output=True, text=True)
        return res.stdout, int(t.read().strip().splitlines()[-1]) / 1024


def native_exe():
    """Builds the timing executable (release) and returns its path."""
    res = subprocess.run(["cargo", "bench", "--bench", "tsne_compare", "--no-run"], check=True,
                         capture_output=True, text=True)
    for line in res.stderr.splitlines():
        if "Executable" in line and "tsne_compare" in line:
            return line.split("(")[-1].rstrip(")").strip()
    raise RuntimeError("cargo did not name the tsne_compare executable:\n" + res.stderr)


def run_native(exe, x, repeats, tmp, fit_only=False):
    inp, out = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
    np.save(inp, x)
    stdout, rss = timed([exe, inp, out, str(repeats)] + (["fit-only"] if fit_only else []))
    info = json.loads(stdout.strip().splitlines()[-1])
    return info["times_s"], np.load(out), rss, info["kl_divergence"]


OPENTSNE_CHILD = """
import json, sys, time
import numpy as np, openTSNE
x = np.load(sys.argv[1]).astype(np.float64)
times = []
for _ in range(int(sys.argv[3])):
    t = time.perf_counter()
    y = openTSNE.TSNE(n_jobs=2, random_state=0).fit(x)
    times.append(time.perf_counter() - t)
np.save(sys.argv[2], np.asarray(y, dtype=np.float32))
print(json.dumps({"times": times, "kl": float(y.kl_divergence)}))
"""


def run_opentsne(x, repeats, tmp):
    inp, out = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y_ot.npy")
    np.save(inp, x)
    stdout, rss = timed(["python3", "-c", OPENTSNE_CHILD, inp, out, str(repeats)])
    info = json.loads(stdout.strip().splitlines()[-1])
    return info["times"], np.load(out), rss, info["kl"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="digits,10000,30000,70000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--big-repeats", type=int, default=1, help="repeats above 20k points")
    ap.add_argument("--npy", default="", help="comma-separated [N, D] float32 .npy files instead of --sizes")
    ap.add_argument("--score-max", type=int, default=300000,
                    help="larger sets are timed only (each tool's own KL, no shared P, no trustworthiness)")
    args = ap.parse_args()
    exe = native_exe()
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
            t_nat, y_nat, rss_nat, own_kl_nat = run_native(exe, x, reps, tmp, fit_only=n > args.score_max)
            t_ot, y_ot, rss_ot, own_kl_ot = run_opentsne(x, reps, tmp)
            row = {
                "data": f"{size} ({n}x{x.shape[1]})",
                "native_s": statistics.median(t_nat),
                "opentsne_s": statistics.median(t_ot),
                "repeats": reps,
                "peak_rss_native_mib": rss_nat,
                "peak_rss_opentsne_mib": rss_ot,
                "own_kl_native_exact": own_kl_nat,
                "own_kl_opentsne_estimate": own_kl_ot,
            }
            if n <= args.score_max:
                knn_method = "exact" if n <= 70000 else "annoy"
                P = PerplexityBasedNN(x.astype(np.float64), perplexity=30, method=knn_method, n_jobs=2,
                                      random_state=0).P
                row.update({
                    "kl_native": exact_kl(P, y_nat),
                    "kl_opentsne": exact_kl(P, y_ot),
                    "trust_native": trust(x, y_nat),
                    "trust_opentsne": trust(x, y_ot),
                    "p_knn": knn_method,
                })
            row["ratio_opentsne_over_native"] = row["opentsne_s"] / row["native_s"]
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("\n| data | native s | openTSNE s | openTSNE/native | KL native | KL openTSNE | T native | T openTSNE "
          "| peak RSS native MiB | peak RSS openTSNE MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        scored = "kl_native" in r
        kl = (f"{r['kl_native']:.4f} | {r['kl_opentsne']:.4f}" if scored else
              f"{r['own_kl_native_exact']:.4f} (own, exact) | {r['own_kl_opentsne_estimate']:.4f} (own, estimate)")
        tw = f"{r['trust_native']:.4f} | {r['trust_opentsne']:.4f}" if scored else "- | -"
        print(f"| {r['data']} | {r['native_s']:.2f} | {r['opentsne_s']:.2f} | "
              f"{r['ratio_opentsne_over_native']:.2f} | {kl} | {tw} | "
              f"{r['peak_rss_native_mib']:.0f} | {r['peak_rss_opentsne_mib']:.0f} |")


if __name__ == "__main__":
    main()
