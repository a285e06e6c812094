#!/usr/bin/env python3
"""Speed of the Python API against the Python tools, side by side in one process, next to the same
ratio for the Rust code that the command runs.

For each size: a seeded Gaussian mixture (as scripts/bench_tsne.py makes it, 50-D for the t-SNE; 10
classes in --sil-dim dimensions for the silhouette), then, interleaved,
- t-SNE: ``dannscope.tsne(X)`` and ``openTSNE.TSNE(n_jobs=2, random_state=0).fit(X)`` in this process,
  and the library's fit (benches/tsne_compare.rs, the code ``dannscope tsne`` runs) in a child process,
  its in-process time;
- silhouette: ``dannscope.metrics.silhouette_score`` (what ``metrics.cohesion`` computes for its exact
  silhouettes) and scikit-learn's ``silhouette_score`` in this process, and benches/silhouette.rs.
Both ratios use the same reference time (openTSNE's, scikit-learn's), so they differ only in the
dannscope side: the Python call against the Rust binary.

    python scripts/bench_python.py [--sizes 10000,70000] [--sil-dim 512] [--repeats 1]
                                   [--jobs tsne,silhouette]

Run with the interpreter that has the dannscope wheel, openTSNE and scikit-learn installed, from the
repository root (it builds the two bench executables with cargo first).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import openTSNE
import sklearn
from sklearn.metrics import silhouette_score

import dannscope
from bench_tsne import mixture  # the t-SNE data of scripts/bench_tsne.py (this folder)


def classes(n, d, k=10, seed=0):
    """scripts/bench_silhouette.py's data."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)).astype(np.float32)
    y = rng.integers(0, k, n).astype(np.int64)
    return (centres[y] + 1.5 * rng.normal(size=(n, d))).astype(np.float32), y


def executables():
    out = subprocess.run(["cargo", "bench", "--bench", "tsne_compare", "--bench", "silhouette",
                          "--no-run", "--message-format=json"], capture_output=True, text=True,
                         check=True).stdout
    exe = {}
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable"):
            exe[msg["target"]["name"]] = msg["executable"]
    return exe["tsne_compare"], exe["silhouette"]


def clock(f):
    t = time.perf_counter()
    r = f()
    return time.perf_counter() - t, r


def tsne_row(n, repeats, tsne_exe, tmp):
    """dannscope.tsne, openTSNE and the library's binary on one mixture, interleaved."""
    x = mixture(n, seed=n)
    xp = os.path.join(tmp, "x.npy")
    np.save(xp, x)
    py, ot, cli = [], [], []
    for _ in range(repeats):
        py.append(clock(lambda: dannscope.tsne(x, seed=0))[0])
        ot.append(clock(lambda: openTSNE.TSNE(n_jobs=2, random_state=0).fit(x.astype(np.float64)))[0])
        r = subprocess.run([tsne_exe, xp, os.path.join(tmp, "y.npy"), "1", "fit-only"],
                           capture_output=True, text=True, check=True)
        cli.append(json.loads(r.stdout.strip().splitlines()[-1])["times_s"][0])
    return ("t-SNE", f"{n} x 50", "openTSNE", *map(statistics.median, (py, cli, ot)))


def silhouette_row(n, dim, repeats, sil_exe, tmp):
    """dannscope.metrics.silhouette_score, scikit-learn and the library's binary, interleaved."""
    xs, ys = classes(n, dim, seed=n)
    sp, sy = os.path.join(tmp, "s.npy"), os.path.join(tmp, "l.npy")
    np.save(sp, xs)
    np.save(sy, ys)
    py, sk, cli = [], [], []
    for _ in range(repeats):
        t, ours = clock(lambda: dannscope.metrics.silhouette_score(xs, ys))
        py.append(t)
        t, theirs = clock(lambda: silhouette_score(xs, ys))
        sk.append(t)
        r = subprocess.run([sil_exe, "--data", sp, "--labels", sy, "--repeats", "1"],
                           capture_output=True, text=True, check=True)
        cli.append(float(re.search(r"median_s=([0-9.]+)", r.stdout).group(1)))
        assert abs(ours - theirs) < 1e-5, (ours, theirs)
    return ("silhouette", f"{n} x {dim}", "scikit-learn", *map(statistics.median, (py, cli, sk)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,70000")
    ap.add_argument("--sil-dim", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--jobs", default="tsne,silhouette", help="which comparisons to run")
    a = ap.parse_args()
    jobs = set(a.jobs.split(","))
    tsne_exe, sil_exe = executables()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in map(int, a.sizes.split(",")):
            if "tsne" in jobs:
                rows.append(tsne_row(n, a.repeats, tsne_exe, tmp))
                print(rows[-1], flush=True)
            if "silhouette" in jobs:
                rows.append(silhouette_row(n, a.sil_dim, a.repeats, sil_exe, tmp))
                print(rows[-1], flush=True)
    print(f"\nopenTSNE {openTSNE.__version__}, scikit-learn {sklearn.__version__}, dannscope "
          f"{dannscope.__version__}, {os.cpu_count()} cores, 1-min load {os.getloadavg()[0]:.1f}, "
          f"repeats {a.repeats} (medians)\n")
    print("| job | data | reference | dannscope (Python) s | dannscope (Rust) s | reference s "
          "| ratio Python | ratio Rust | Python / Rust ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for job, data, ref, py, cli, other in rows:
        rp, rc = other / py, other / cli
        print(f"| {job} | {data} | {ref} | {py:.2f} | {cli:.2f} | {other:.2f} | {rp:.2f} | {rc:.2f} "
              f"| {rp / rc:.3f} |")


if __name__ == "__main__":
    sys.exit(main())
