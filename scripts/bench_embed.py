#!/usr/bin/env python3
"""Compare `dannscope embed` throughput with the usual Python pipeline, on the same images, in one run.

Python pipeline: PIL decode + torchvision Resize(floor(size / crop_pct)) / CenterCrop(size) / ToTensor /
Normalize in a DataLoader (2 workers, batch 16), onnxruntime CPU session with default threads, embeddings
and logits written per domain to .npz. Timed end to end (JPEG -> npz), median of --runs after a warm-up.
Without torch/torchvision installed (the default torch wheel pulls several GB of CUDA libraries), the
same pipeline runs with PIL and numpy: torchvision's PIL-path Resize / CenterCrop (PIL's resize, crop
offsets rounded) then ToTensor / Normalize in numpy, in a multiprocessing pool of --workers processes
feeding batches in order, as the DataLoader does; the output says which one ran.

Rust: runs the `embed_throughput` bench (benches/embed_throughput.rs), which reports R_prep
(preprocessing alone on all cores), R_infer (ONNX Runtime alone on pre-decoded tensors, all cores) and
R_e2e (`dannscope::embed::run`), each with the default full-resolution decode and with the opt-in fast
decode (reduced-DCT JPEG decoding), and reads its JSON.

Prints the three Rust rates, the Python rate, R_e2e / (1 / (1/R_prep + 1/R_infer)) and R_e2e / Python.

Inputs: scripts/make_bench_images.py --out outputs/bench (the default --root here).
Example:
  python3 scripts/make_bench_images.py --out outputs/bench
  python3 scripts/bench_embed.py --root outputs/bench
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
IMAGE_EXT = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def load_avg() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def list_images(root: str):
    """(domain, class, path) for <root>/<Domain>/<Class>/<file>, sorted by relative path."""
    out = []
    for d in sorted(os.listdir(root)):
        dp = os.path.join(root, d)
        if d.startswith(".") or not os.path.isdir(dp):
            continue
        for c in sorted(os.listdir(dp)):
            cp = os.path.join(dp, c)
            if c.startswith(".") or not os.path.isdir(cp):
                continue
            for f in sorted(os.listdir(cp)):
                if f.lower().endswith(IMAGE_EXT) and not f.startswith("."):
                    out.append((d, c, os.path.join(cp, f)))
    return out


def model_config(path: str) -> dict:
    """Preprocessing metadata of a contract model (same defaults as the contract)."""
    import onnx

    m = onnx.load(path, load_external_data=False)
    meta = {p.key: p.value for p in m.metadata_props}
    size = int(meta.get("dannscope.input_size", 224))
    crop = float(meta.get("dannscope.crop_pct", 0.875))
    return {
        "input_size": size,
        "crop_pct": crop,
        "resize": math.floor(size / crop),  # timm's scale size
        "interpolation": meta.get("dannscope.interpolation", "bilinear"),
        "mean": [float(v) for v in meta.get("dannscope.mean", "0.485,0.456,0.406").split(",")],
        "std": [float(v) for v in meta.get("dannscope.std", "0.229,0.224,0.225").split(",")],
    }


class Images:
    """A map-style dataset of (tensor, index)."""

    def __init__(self, paths, transform):
        self.paths, self.transform = paths, transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        from PIL import Image

        with Image.open(self.paths[i]) as im:
            return self.transform(im.convert("RGB")), i


def have_torchvision() -> bool:
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError:
        return False
    return True


_PIL_CFG = {}


def _pil_init(cfg):
    _PIL_CFG.update(cfg)


def _pil_batch(paths):
    """torchvision's eval transform on PIL images, without torch (see the module doc)."""
    from PIL import Image

    cfg = _PIL_CFG
    size, scale = cfg["input_size"], cfg["resize"]
    filt = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}[cfg["interpolation"]]
    mean = np.asarray(cfg["mean"], np.float32)[:, None, None]
    std = np.asarray(cfg["std"], np.float32)[:, None, None]
    out = np.empty((len(paths), 3, size, size), np.float32)
    for k, p in enumerate(paths):
        with Image.open(p) as im:
            im = im.convert("RGB")
        w, h = im.size
        short, long = (w, h) if w <= h else (h, w)
        nw, nh = (scale, int(scale * long / short)) if w <= h else (int(scale * long / short), scale)
        if (nw, nh) != (w, h):
            im = im.resize((nw, nh), filt)
        top, left = int(round((nh - size) / 2.0)), int(round((nw - size) / 2.0))
        im = im.crop((left, top, left + size, top + size))
        x = np.asarray(im, np.float32).transpose(2, 0, 1) / np.float32(255)
        out[k] = (x - mean) / std
    return out


def python_pipeline_pil(items, model, cfg, batch, workers, out_dir):
    """The same pass with PIL + numpy in a process pool (no torch); returns images/s."""
    import multiprocessing as mp

    import onnxruntime as ort

    t0 = time.perf_counter()
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    in_name = sess.get_inputs()[0].name
    with mp.get_context("fork").Pool(workers, initializer=_pil_init, initargs=(cfg,)) as pool:
        for dom in sorted({d for d, _, _ in items}):
            sel = [(c, p) for d, c, p in items if d == dom]
            paths = [p for _, p in sel]
            chunks = [paths[i:i + batch] for i in range(0, len(paths), batch)]
            embs, logits = [], []
            for x in pool.imap(_pil_batch, chunks):
                e, lg = sess.run(["embedding", "logits"], {in_name: x})
                embs.append(e)
                logits.append(lg)
            classes = sorted({c for c, _ in sel})
            label = np.array([classes.index(c) for c, _ in sel], dtype=np.int64)
            np.savez(os.path.join(out_dir, f"{dom}.npz"), embedding=np.concatenate(embs),
                     logits=np.concatenate(logits), label=label)
    return len(items) / (time.perf_counter() - t0)


def python_pipeline(items, model, cfg, batch, workers, out_dir):
    """One end-to-end pass; returns images/s."""
    if not have_torchvision():
        return python_pipeline_pil(items, model, cfg, batch, workers, out_dir)
    import onnxruntime as ort
    import torch
    from torchvision import transforms as T

    interp = {"bilinear": T.InterpolationMode.BILINEAR,
              "bicubic": T.InterpolationMode.BICUBIC}[cfg["interpolation"]]
    tf = T.Compose([
        T.Resize(cfg["resize"], interpolation=interp),
        T.CenterCrop(cfg["input_size"]),
        T.ToTensor(),
        T.Normalize(cfg["mean"], cfg["std"]),
    ])
    t0 = time.perf_counter()
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    in_name = sess.get_inputs()[0].name
    domains = sorted({d for d, _, _ in items})
    for dom in domains:
        sel = [(c, p) for d, c, p in items if d == dom]
        loader = torch.utils.data.DataLoader(
            Images([p for _, p in sel], tf), batch_size=batch, num_workers=workers, shuffle=False)
        embs, logits = [], []
        for x, _ in loader:
            e, lg = sess.run(["embedding", "logits"], {in_name: x.numpy()})
            embs.append(e)
            logits.append(lg)
        classes = sorted({c for c, _ in sel})
        label = np.array([classes.index(c) for c, _ in sel], dtype=np.int64)
        np.savez(os.path.join(out_dir, f"{dom}.npz"), embedding=np.concatenate(embs),
                 logits=np.concatenate(logits), label=label)
    return len(items) / (time.perf_counter() - t0)


def rust_bench(data, model, runs, batch, json_path, binary):
    cmd_args = ["--data", data, "--model", model, "--runs", str(runs), "--batch", str(batch),
                "--json", json_path]
    if binary:
        cmd = [binary] + cmd_args
    else:
        cmd = ["cargo", "bench", "--quiet", "--bench", "embed_throughput", "--"] + cmd_args
    print("$ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=REPO, check=True)
    with open(json_path) as f:
        return json.load(f)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=os.path.join(REPO, "outputs", "bench"),
                    help="folder made by make_bench_images.py (images/ and the model)")
    ap.add_argument("--model", help="model file (default: the only .onnx file under --root)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rust-bin", help="a built embed_throughput binary instead of `cargo bench`")
    ap.add_argument("--skip-rust", action="store_true")
    ap.add_argument("--skip-python", action="store_true")
    ap.add_argument("--json", help="write all numbers here")
    a = ap.parse_args(argv)

    data = os.path.abspath(os.path.join(a.root, "images"))
    model = a.model
    if model is None:
        found = sorted(f for f in os.listdir(a.root) if f.endswith(".onnx"))
        if len(found) != 1:
            ap.error(f"{a.root}: expected one .onnx file, found {found}; pass --model")
        model = os.path.join(a.root, found[0])
    model = os.path.abspath(model)
    items = list_images(data)
    if not items:
        ap.error(f"{data}: no images (run scripts/make_bench_images.py first)")
    cfg = model_config(model)
    print(f"{len(items)} images under {data}; model {model}; load average {load_avg()}", flush=True)

    res = {"images": len(items), "load_before": load_avg()}
    python_kind = ("PIL+torchvision DataLoader" if have_torchvision()
                   else "PIL+numpy pool, no torch")
    res["python_pipeline"] = python_kind
    if not a.skip_python:
        rates = []
        with tempfile.TemporaryDirectory() as tmp:
            python_pipeline(items, model, cfg, a.batch, a.workers, tmp)  # warm-up
            for r in range(a.runs):
                rates.append(python_pipeline(items, model, cfg, a.batch, a.workers, tmp))
                print(f"python run {r + 1}: {rates[-1]:.1f} images/s", flush=True)
        res["python_per_s"] = rates
        res["python"] = statistics.median(rates)
    if not a.skip_rust:
        with tempfile.TemporaryDirectory() as tmp:
            rj = rust_bench(data, model, a.runs, a.batch, os.path.join(tmp, "rust.json"), a.rust_bin)
        res["rust"] = rj
    res["load_after"] = load_avg()

    print()
    print(f"embed throughput, {len(items)} images, batch {a.batch}, median of {a.runs} "
          f"(load average before {res['load_before']}, after {res['load_after']})")
    print(f"  {'pipeline':46s} {'images/s':>9s}")
    if "rust" in res:
        m = res["rust"]["median"]
        print(f"  {'Rust R_prep  (preprocess only, all cores)':46s} {m['prep']:9.1f}")
        print(f"  {'Rust R_infer (ONNX Runtime on tensors)':46s} {m['infer']:9.1f}")
        print(f"  {'bound 1/(1/R_prep + 1/R_infer)':46s} {m['bound']:9.1f}")
        print(f"  {'Rust R_e2e   (dannscope embed, JPEG -> npz)':46s} {m['embed']:9.1f}")
        print(f"  {'Rust R_prep, opt-in fast decode':46s} {m['prep_fast_decode']:9.1f}")
        print(f"  {'Rust R_e2e,  opt-in fast decode':46s} {m['embed_fast_decode']:9.1f}")
    if "python" in res:
        label = f"Python ({python_kind}, {a.workers} workers, ORT)"
        print(f"  {label:46s} {res['python']:9.1f}")
    if "rust" in res:
        m = res["rust"]["median"]
        res["embed_over_bound"] = m["embed_over_bound"]
        print(f"  R_e2e / bound   = {100 * m['embed_over_bound']:.1f} %  (target >= 85 %)")
        if "python" in res:
            res["rust_over_python"] = m["embed"] / res["python"]
            print(f"  R_e2e / Python  = {res['rust_over_python']:.2f}x  (target >= 1.3x)")
        res["full_over_fast_decode"] = m["embed"] / m["embed_fast_decode"]
        print(f"  R_e2e full decode / fast decode = {res['full_over_fast_decode']:.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
