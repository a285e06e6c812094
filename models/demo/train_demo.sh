#!/usr/bin/env bash
# Retrains every model of models/demo/ (CPU, one thread, bit-reproducible for the versions in
# models/requirements.txt). Usage: models/demo/train_demo.sh DATA_DIR [OUT_DIR]
# DATA_DIR: the demo dataset, drawn with `cargo run --example demo_data -- DATA_DIR 42`.
# OUT_DIR: where the models, curves and evolution/ go (default: models/demo).
set -euo pipefail
data=${1:?usage: train_demo.sh DATA_DIR [OUT_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
out=${2:-$here}
py=${PYTHON:-python3}
mkdir -p "$out/evolution"
recipe=(--arch demo_cnn --epochs 24 --steps-per-epoch 40 --batch-size 32 --lr 5e-3 --lr-anneal
        --bn-batch joint --lambda-warmup 0.2 --dropout 0.1 --head-width 64 --disc-width 64
        --seed 42 --threads 1)
for pair in R-P P-C C-A A-R; do
  s=${pair%-*} t=${pair#*-}
  extra=()
  if [ "$pair" = P-C ]; then
    extra=(--export-every-epoch "$out/evolution" --export-interval 2)
  fi
  "$py" "$here/../train_dann.py" --data-root "$data" --manifest "$here/demo_manifest.csv" \
    --source "$s" --target "$t" "${recipe[@]}" "${extra[@]}" \
    --curves "$out/demo_cnn_$pair.curves.csv" --out "$out/demo_cnn_$pair.onnx"
  "$py" "$here/../train_dann.py" --data-root "$data" --manifest "$here/demo_manifest.csv" \
    --source "$s" --target "$t" "${recipe[@]}" --source-only \
    --curves "$out/demo_cnn_$pair.source_only.curves.csv" --out "$out/demo_cnn_$pair.source_only.onnx"
done
