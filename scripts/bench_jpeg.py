#!/usr/bin/env python3
"""JPEG decode throughput of Pillow, dannscope (libjpeg-turbo, Pillow's settings) and zune-jpeg (the
`image` crate), on the same files, in one run. Single thread each; medians of 5 interleaved runs.

    python3 scripts/bench_jpeg.py [--out outputs/bench/jpeg]

dannscope's decoder has libjpeg-turbo's SIMD code when `nasm` was on PATH when it was built, and is C
only otherwise (the table's header says which, from `nasm -v` now: build after installing or removing
nasm, `cargo clean -p mozjpeg-sys`). Prints a Markdown table: milliseconds per image and Pillow ÷
dannscope, zune ÷ dannscope.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "jpeg"))
from make_jpeg_fixtures import scene  # noqa: E402
from PIL import Image  # noqa: E402

SETS = [  # (group, width, height, count, save options)
    ("officehome420", 640, 480, 24, dict(quality=90, subsampling="4:2:0")),
    ("officehome444", 640, 480, 24, dict(quality=90, subsampling="4:4:4")),
    ("progressive", 640, 480, 24, dict(quality=90, progressive=True)),
    ("photo12mp", 4032, 3024, 2, dict(quality=90, subsampling="4:2:0")),
]


def make(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    for group, w, h, n, opts in SETS:
        for i in range(n):
            p = os.path.join(out, f"{group}_{i:03d}.jpg")
            if not os.path.exists(p):
                Image.fromarray(scene(w, h, 100 + i)).save(p, "JPEG", **opts)


def pillow(out: str, runs: int) -> dict:
    res = {}
    for group, *_ in SETS:
        files = sorted(os.path.join(out, f) for f in os.listdir(out) if f.startswith(group + "_"))
        blobs = [open(f, "rb").read() for f in files]
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            for b in blobs:
                import io

                with Image.open(io.BytesIO(b)) as im:
                    im.convert("RGB")
            times.append((time.perf_counter() - t) * 1e3 / len(blobs))
        res[group] = statistics.median(times)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="outputs/bench/jpeg")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    make(a.out)
    cmd = ["cargo", "bench", "--quiet", "--bench", "jpeg_decode"]
    rust = json.loads(subprocess.run(cmd + ["--", os.path.abspath(a.out), "--runs", str(a.runs)],
                                     check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    pil = pillow(a.out, a.runs)
    import shutil

    build = "SIMD: nasm found" if shutil.which("nasm") else "C only: no nasm"
    print(f"| images | Pillow ms | dannscope ms ({build}) | zune-jpeg ms | Pillow ÷ dannscope | zune ÷ dannscope |")
    print("|---|---|---|---|---|---|")
    for group, w, h, n, _ in SETS:
        r = rust[group]
        ours, zune, p = r["libjpeg_turbo_ms"], r["zune_jpeg_ms"], pil[group]
        print(f"| {group} ({w}×{h}, {n}) | {p:.2f} | {ours:.2f} | {zune:.2f} | {p / ours:.2f} | {zune / ours:.2f} |")


if __name__ == "__main__":
    main()
