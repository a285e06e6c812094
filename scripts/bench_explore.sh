#!/usr/bin/env bash
# Benchmark of the explore page: builds synthetic pages of 100k and 1M points and measures load time
# and pan, zoom and full-draw frame times in headless Chromium at 1280 x 800
# (tests/browser/bench.mjs). Needs chromium and `cd tests/browser && npm ci`. Extra arguments go to
# Chromium (e.g. --enable-unsafe-swiftshader). BENCH_SIZES overrides the sizes, BENCH_RENDERERS the
# renderers (default: the canvas-2D one, which headless Chromium without a GPU uses).
set -euo pipefail
cd "$(dirname "$0")/.."
out=outputs/bench_explore
mkdir -p "$out"
sizes=${BENCH_SIZES:-100000 1000000}
export BENCH_RENDERERS=${BENCH_RENDERERS:-2d}
cargo build --release --example explore_page
for n in $sizes; do
  # 16-dimensional embeddings: the exact kNN of the 50k rows of a domain at 100k takes minutes on two
  # cores; at 1M each domain's 500k rows take the approximate search (NN-descent), about half an
  # hour of wall time on two shared cores.
  /usr/bin/time -f "built in %e s, peak RSS %M kB" ./target/release/examples/explore_page "$out/explore_$n.html" "$n" 20000 16
done
for n in $sizes; do
  (cd tests/browser && node bench.mjs "../../$out/explore_$n.html" "$@")
done
