#!/usr/bin/env bash
# Benchmark of the explore page: builds synthetic pages of 50k and 200k points and measures pan and
# zoom frame times in headless Chromium (tests/browser/bench.mjs). Needs chromium and
# `cd tests/browser && npm ci`. Extra arguments go to Chromium (e.g. --enable-unsafe-swiftshader).
set -euo pipefail
cd "$(dirname "$0")/.."
out=outputs/bench_explore
mkdir -p "$out"
# The dev profile is optimised in this project (opt-level 2, dependencies 3) and already built.
cargo build --example explore_page
for n in 50000 200000; do
  # 16-dimensional embeddings keep the exact kNN of 200k rows to a few minutes on two cores.
  ./target/debug/examples/explore_page "$out/explore_$n.html" "$n" 20000 16
done
for n in 50000 200000; do
  (cd tests/browser && node bench.mjs "../../$out/explore_$n.html" "$@")
done
