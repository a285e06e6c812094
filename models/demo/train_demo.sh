#!/usr/bin/env bash
# Retrains every model of models/demo/ (CPU, one thread per run, bit-reproducible for the versions
# in models/requirements.txt). Usage: models/demo/train_demo.sh TRAIN_DIR [OUT_DIR] [JOBS]
# TRAIN_DIR: the training draw of the demo's generator, written by
#   cargo run --release --example demo_data -- TRAIN_DIR 7 300
# (seed 7, 300 images per class and domain): a draw of its own, so that no image the demo
# evaluates on (seed 42) was seen in training. Its split (2/3 train, 1/6 valid, 1/6 test, seed 42)
# is written to TRAIN_DIR.manifest.csv; the curves' valid rows are that draw's valid images.
# OUT_DIR: where the models, curves and evolution/ go (default: models/demo).
# JOBS: runs trained at once (default 2); every run uses one thread, so the results do not depend
# on it. Each run's console goes to OUT_DIR/logs/.
set -euo pipefail
data=${1:?usage: train_demo.sh TRAIN_DIR [OUT_DIR] [JOBS]}
data=${data%/}
here=$(cd "$(dirname "$0")" && pwd)
out=${2:-$here}
jobs=${3:-2}
py=${PYTHON:-python3}
mkdir -p "$out/logs"
manifest="$data.manifest.csv"
"$py" "$here/../train_dann.py" --data-root "$data" --make-manifest "$manifest" --seed 42
recipe=(--arch demo_cnn --epochs 16 --steps-per-epoch 40 --batch-size 32 --lr 5e-3 --lr-anneal
        --bn-batch joint --lambda-max 0.3 --lambda-warmup 0.3 --dropout 0.1 --head-width 64
        --disc-width 64 --seed 42 --threads 1)
train() { # PAIR SUFFIX [FLAGS...]
  local pair=$1 suffix=$2
  shift 2
  "$py" "$here/../train_dann.py" --data-root "$data" --manifest "$manifest" \
    --source "${pair%-*}" --target "${pair#*-}" "${recipe[@]}" "$@" \
    --curves "$out/demo_cnn_$pair$suffix.curves.csv" --out "$out/demo_cnn_$pair$suffix.onnx" \
    > "$out/logs/demo_cnn_$pair$suffix.log" 2>&1
}
for pair in R-P P-C C-A A-R; do
  extra=()
  if [ "$pair" = R-P ] || [ "$pair" = P-C ]; then
    mkdir -p "$out/evolution/$pair"
    extra=(--export-every-epoch "$out/evolution/$pair" --export-interval 2)
  fi
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  train "$pair" "" "${extra[@]}" &
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  train "$pair" .source_only --source-only &
done
wait
