#!/usr/bin/env bash
# Check `--device cuda` end to end on an NVIDIA GPU machine, in one command (a few minutes plus
# downloads from PyPI).
#
#   scripts/gpu_check.sh                 # everything below
#   scripts/gpu_check.sh --skip-export   # no torch/timm: MobileNetV3 built with onnx alone
#                                        # (scripts/make_mobilenetv3_onnx.py), or MODEL=FILE.onnx
#   scripts/gpu_check.sh --cpu-only      # no GPU needed: CPU ONNX Runtime vs tract instead of
#                                        # CUDA vs CPU (checks everything but the GPU parts)
#
# Steps:
#  1. GPU and driver (nvidia-smi); the CUDA version the driver supports picks the ONNX Runtime wheel.
#  2. A venv with `onnxruntime-gpu[cuda,cudnn]` only (its extras install the nvidia-* CUDA/cuDNN
#     wheels; dannscope loads them itself, as onnxruntime.preload_dlls() does). The CPU package
#     `onnxruntime` shares its folder, so it must not be in the same environment.
#  3. Unless --skip-export or MODEL is set: a second venv with torch, timm, onnx and onnxscript at the
#     versions of models/requirements.txt, and timm's mobilenetv3_large_100 (random weights, nothing
#     downloaded but the packages) exported at 224 px by models/export_onnx.py. If that cannot be
#     installed (or with --skip-export), the same architecture is written with the onnx package alone.
#  4. `cargo build --release`, then `dannscope demo` (its data, models and report under $WORK/demo).
#  5. Each model embedded on the demo data (all splits) on CUDA and on CPU, ONNX Runtime, with GPU
#     utilisation sampled every 200 ms by nvidia-smi during the CUDA runs.
#  6. The embeddings compared (max abs difference, cosine per row, argmax agreement of the logits),
#     and images/s of both devices printed.
#
# Environment: WORK (default outputs/gpu_check), PYTHON (python3), BATCH (64), THREADS (0 = all cores),
# SPLIT (all: the 1,920 demo images; valid: 320),
# MODEL (an extra .onnx instead of the export), ORT_GPU_SPEC (pip requirement of ONNX Runtime).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${WORK:-$REPO/outputs/gpu_check}"
PYTHON="${PYTHON:-python3}"
BATCH="${BATCH:-64}"
THREADS="${THREADS:-0}"
SPLIT="${SPLIT:-all}"
CPU_ONLY=0
SKIP_EXPORT=0
for arg in "$@"; do
  case "$arg" in
    --cpu-only) CPU_ONLY=1 ;;
    --skip-export) SKIP_EXPORT=1 ;;
    -h | --help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

step() { printf '\n== %s\n' "$*"; }
die() { echo "gpu_check: $*" >&2; exit 1; }
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
LOG="$WORK/logs"
mkdir -p "$LOG"

# --- 1. GPU -------------------------------------------------------------------------------------
DRIVER_CUDA=""
if [[ $CPU_ONLY == 0 ]]; then
  step "GPU"
  command -v nvidia-smi >/dev/null || die "nvidia-smi not found: no NVIDIA driver (use --cpu-only to check the rest)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  DRIVER_CUDA="$(nvidia-smi | sed -n 's/.*CUDA Version: *\([0-9][0-9.]*\).*/\1/p' | head -n 1)"
  echo "driver supports CUDA ${DRIVER_CUDA:-?}"
fi

# --- 2. ONNX Runtime ------------------------------------------------------------------------------
step "ONNX Runtime venv"
ORT_VENV="$WORK/venv-ort"
if [[ -n "${ORT_GPU_SPEC:-}" ]]; then
  ORT_SPEC="$ORT_GPU_SPEC"
elif [[ $CPU_ONLY == 1 ]]; then
  ORT_SPEC="onnxruntime"
elif [[ "${DRIVER_CUDA%%.*}" =~ ^[0-9]+$ ]] && (( ${DRIVER_CUDA%%.*} >= 13 )); then
  ORT_SPEC="onnxruntime-gpu[cuda,cudnn]"          # current releases are built for CUDA 13
else
  ORT_SPEC="onnxruntime-gpu[cuda,cudnn]==1.25.1"  # the CUDA 12 builds end around 1.25
fi
[[ -x "$ORT_VENV/bin/python" ]] || "$PYTHON" -m venv "$ORT_VENV"
"$ORT_VENV/bin/python" -m pip install -q --upgrade pip >"$LOG/pip-ort.log" 2>&1 || true
"$ORT_VENV/bin/python" -m pip install -q "$ORT_SPEC" numpy >>"$LOG/pip-ort.log" 2>&1 \
  || { tail -n 20 "$LOG/pip-ort.log"; die "pip install $ORT_SPEC failed"; }
"$ORT_VENV/bin/python" - <<'PY'
import onnxruntime as ort, os
from onnxruntime.capi import build_and_package_info as b
print(f"{b.package_name} {b.__version__}, CUDA {getattr(b, 'cuda_version', 'none')}, "
      f"providers {ort.get_available_providers()}")
print("capi:", sorted(os.listdir(os.path.join(os.path.dirname(ort.__file__), "capi")))[:8], "...")
PY
# dannscope finds ONNX Runtime through this interpreter's onnxruntime package.
export DANNSCOPE_PYTHON="$ORT_VENV/bin/python"
unset ORT_DYLIB_PATH

# --- 3. MobileNetV3 at 224 px -------------------------------------------------------------------
MOBILENET="${MODEL:-}"
if [[ -z "$MOBILENET" ]]; then
  MOBILENET="$WORK/mobilenetv3_large_100.onnx"
  if [[ ! -s "$MOBILENET" && $SKIP_EXPORT == 0 ]]; then
    step "export mobilenetv3_large_100 (torch + timm venv)"
    EXP_VENV="$WORK/venv-export"
    [[ -x "$EXP_VENV/bin/python" ]] || "$PYTHON" -m venv "$EXP_VENV"
    mapfile -t PINS < <(grep -E '^(torch|timm|onnx|onnxscript|numpy)==' "$REPO/models/requirements.txt")
    if "$EXP_VENV/bin/python" -m pip install -q "${PINS[@]}" >"$LOG/pip-export.log" 2>&1; then
      "$EXP_VENV/bin/python" "$REPO/models/export_onnx.py" --arch mobilenetv3_large_100 \
        --num-classes 10 --input-size 224 --out "$MOBILENET" 2>&1 | tail -n 5 \
        || echo "export failed (see above); building the model with onnx instead"
    else
      tail -n 5 "$LOG/pip-export.log"
      echo "cannot install ${PINS[*]}; building the model with onnx instead"
    fi
  fi
  if [[ ! -s "$MOBILENET" ]]; then
    step "MobileNetV3-Large at 224 px with the onnx package (random weights)"
    "$ORT_VENV/bin/python" -m pip install -q onnx >>"$LOG/pip-ort.log" 2>&1 || die "pip install onnx failed"
    "$ORT_VENV/bin/python" "$REPO/scripts/make_mobilenetv3_onnx.py" --num-classes 10 --out "$MOBILENET"
  fi
fi

# --- 4. build and demo --------------------------------------------------------------------------
step "build"
(cd "$REPO" && cargo build --release --bin dannscope 2>&1 | tail -n 2)
DS="$REPO/target/release/dannscope"
step "demo (data, models, report)"
"$DS" demo --out "$WORK/demo" 2>&1 | tail -n 4
DATA="$WORK/demo/data"
MANIFEST="$WORK/demo/models/demo_manifest.csv"
MODELS=("$WORK/demo/models/demo_cnn_P-C.onnx" "$MOBILENET")
for m in "${MODELS[@]}"; do [[ -s "$m" ]] || die "$m: missing"; done

# --- 5. embed on both devices -------------------------------------------------------------------
if [[ $CPU_ONLY == 1 ]]; then
  RUNS=("ort-cpu:--engine ort --device cpu" "tract:--engine tract")
else
  RUNS=("ort-cuda:--engine ort --device cuda" "ort-cpu:--engine ort --device cpu")
fi
SMI_PID=""
stop_smi() { if [[ -n "$SMI_PID" ]]; then kill "$SMI_PID" 2>/dev/null || true; wait "$SMI_PID" 2>/dev/null || true; SMI_PID=""; fi; }
trap stop_smi EXIT
for m in "${MODELS[@]}"; do
  stem="$(basename "$m" .onnx)"
  for run in "${RUNS[@]}"; do
    name="${run%%:*}"
    read -r -a flags <<<"${run#*:}"
    step "embed $stem on $name"
    out="$WORK/embed-$name"
    if [[ $name == *cuda* ]]; then
      nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits -lms 200 \
        >"$LOG/util-$stem-$name.csv" &
      SMI_PID=$!
    fi
    t0=$(date +%s%N)
    "$DS" embed --data "$DATA" --manifest "$MANIFEST" --model "$m" --split "$SPLIT" --out "$out" \
      --batch-size "$BATCH" --threads "$THREADS" --force "${flags[@]}" 2>&1
    t1=$(date +%s%N)
    stop_smi
    echo "wall $(( (t1 - t0) / 1000000 )) ms (with opening the session)"
  done
done

# --- 6. compare ---------------------------------------------------------------------------------
step "compare"
A="${RUNS[0]%%:*}"
B="${RUNS[1]%%:*}"
"$ORT_VENV/bin/python" - "$WORK" "$A" "$B" "$SPLIT" "${MODELS[@]}" <<'PY'
import glob, json, os, sys
import numpy as np

work, a, b, split, models = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
failed = False

def load(run, stem):
    d = os.path.join(work, f"embed-{run}", "embeddings", stem, split)
    out, recs = {}, []
    for js in sorted(glob.glob(os.path.join(d, "*.json"))):
        rec = json.load(open(js))
        # Timings live in the run log runs/<Domain>.json (one entry per process that wrote rows).
        runs = json.load(open(os.path.join(d, "runs", rec["domain"] + ".json")))["runs"]
        rec["timings"] = {"total_s": sum(r["timings"]["total_s"] for r in runs)}
        z = np.load(js[:-5] + ".npz")
        out[rec["domain"]] = (rec, z)
        recs.append(rec)
    if not out:
        sys.exit(f"no embeddings under {d}")
    return out, recs

def rate(recs):
    n = sum(r["n"] + len(r["skipped"]) for r in recs)
    return n / sum(r["timings"]["total_s"] for r in recs), n

print(f"{'model':28s} {'run':9s} {'provider':8s} {'images/s':>9s}  (domains' own timings)")
for m in models:
    stem = os.path.splitext(os.path.basename(m))[0]
    ea, ra = load(a, stem)
    eb, rb = load(b, stem)
    for run, recs in ((a, ra), (b, rb)):
        r, n = rate(recs)
        prov = recs[0]["provider"]
        print(f"{stem:28s} {run:9s} {prov:8s} {r:9.1f}  ({n} images, batch {recs[0]['batch_size']})")
        if "cuda" in run and prov != "CUDA":
            print(f"  FAIL: {run} ran on {prov}")
            failed = True
    worst, cos_min, cos_sum, rows, agree, total = 0.0, 1.0, 0.0, 0, 0, 0
    for dom in sorted(ea):
        za, zb = ea[dom][1], eb[dom][1]
        x, y = za["embedding"].astype(np.float64), zb["embedding"].astype(np.float64)
        if x.shape != y.shape:
            print(f"  FAIL: {dom}: shapes {x.shape} vs {y.shape}")
            failed = True
            continue
        worst = max(worst, float(np.abs(x - y).max()))
        cos = (x * y).sum(1) / np.maximum(np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1), 1e-30)
        cos_min, cos_sum, rows = min(cos_min, float(cos.min())), cos_sum + float(cos.sum()), rows + len(cos)
        if "logits" in za.files and "logits" in zb.files:
            agree += int((za["logits"].argmax(1) == zb["logits"].argmax(1)).sum())
            total += len(cos)
    scale = max(float(np.abs(ea[d][1]["embedding"]).max()) for d in ea)
    line = (f"  {a} vs {b}: max |diff| {worst:.3g} (embedding values up to {scale:.3g}), "
            f"cosine min {cos_min:.6f} mean {cos_sum / max(rows, 1):.6f}")
    if total:
        line += f", argmax agreement {agree}/{total}"
    print(line)
    if cos_min < 0.999:
        print("  FAIL: embeddings differ more than float rounding explains (cosine < 0.999)")
        failed = True
for f in sorted(glob.glob(os.path.join(work, "logs", "util-*.csv"))):
    v = np.loadtxt(f, delimiter=",", ndmin=2)
    if v.size:
        print(f"GPU utilisation {os.path.basename(f)[5:-4]}: mean {v[:, 0].mean():.0f} %, "
              f"max {v[:, 0].max():.0f} %, memory up to {v[:, 1].max():.0f} MiB ({len(v)} samples)")
sys.exit(1 if failed else 0)
PY
echo
echo "gpu_check: done (logs under $LOG)"
