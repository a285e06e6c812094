#!/usr/bin/env python3
"""Silhouette benchmark: dannscope (release build) against scikit-learn's silhouette_score on the same
float32 data in the same run.

    python3 scripts/bench_silhouette.py [--n 20000] [--d 1280] [--k 10] [--repeats 3] [--out DIR]

Writes DIR/x.npy (float32 [n, d], a seeded Gaussian mixture with k classes) and DIR/y.npy (int64),
times scikit-learn and the Rust bench binary (each in its own process under /usr/bin/time -v for the
peak resident memory), and prints the median wall and CPU times, their ratios, both peak RSS figures and
the achieved GFLOP/s of the blocked symmetric path (n²/2 · d multiply-adds).
"""
import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np

SKLEARN = r"""
import sys, time, numpy as np
from sklearn.metrics import silhouette_score
x = np.load(sys.argv[1]); y = np.load(sys.argv[2]); r = int(sys.argv[3])
ts = []; cs = []
for _ in range(r):
    t0 = time.perf_counter(); c0 = time.process_time()
    s = silhouette_score(x, y)
    ts.append(time.perf_counter() - t0); cs.append(time.process_time() - c0)
print(f"sklearn score={s:.9f} median_s={sorted(ts)[len(ts)//2]:.3f} cpu_s={sorted(cs)[len(cs)//2]:.3f} runs={ts}")
"""


def timed(cmd):
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    line = [l for l in p.stdout.splitlines() if "median_s=" in l][-1]
    median = float(re.search(r"median_s=([0-9.]+)", line).group(1))
    score = float(re.search(r"score=(-?[0-9.]+)", line).group(1))
    cpu = float(re.search(r"cpu_s=([0-9.]+)", line).group(1))
    return median, score, rss_kb / 1024.0, line, cpu


def bench_executable():
    out = subprocess.run(
        ["cargo", "bench", "--bench", "silhouette", "--no-run", "--message-format=json"],
        capture_output=True, text=True, check=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "silhouette" and msg.get("executable"):
            return msg["executable"]
    sys.exit("bench executable not found")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--d", type=int, default=1280)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="/tmp/dannscope_silhouette_bench")
    a = ap.parse_args()

    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    centres = rng.normal(size=(a.k, a.d)).astype(np.float32)
    y = rng.integers(0, a.k, a.n).astype(np.int64)
    x = (centres[y] + 1.5 * rng.normal(size=(a.n, a.d))).astype(np.float32)
    xp, yp = os.path.join(a.out, "x.npy"), os.path.join(a.out, "y.npy")
    np.save(xp, x)
    np.save(yp, y)
    del x

    exe = bench_executable()
    load = os.getloadavg()[0]
    rt, rs, rrss, rline, rcpu = timed([exe, "--data", xp, "--labels", yp, "--repeats", str(a.repeats)])
    print(rline)
    st, ss, srss, sline, scpu = timed([sys.executable, "-c", SKLEARN, xp, yp, str(a.repeats)])
    print(sline)
    print(f"data: {a.n} x {a.d} float32, {a.k} labels, repeats {a.repeats}")
    print(f"scikit-learn: {st:.2f} s (peak RSS {srss:.0f} MiB)")
    print(f"dannscope:    {rt:.2f} s (peak RSS {rrss:.0f} MiB)")
    print(f"speed-up: {st / rt:.2f}x (wall), {scpu / rcpu:.2f}x (CPU seconds)   "
          f"|score difference| = {abs(rs - ss):.2e}")
    # distance work of the symmetric blocked path: n²/2 pairs × d multiply-adds × 2 flops
    flops = a.n * a.n / 2 * a.d * 2
    print(f"dannscope: {flops / rt / 1e9:.1f} GFLOP/s over the wall time, "
          f"{flops / rcpu / 1e9:.1f} GFLOP/s per CPU-second (flops = n²/2·d·2 = {flops:.3g}); "
          f"1-min load average before the runs: {load:.2f}")


if __name__ == "__main__":
    main()
