#!/usr/bin/env python3
"""Checks of models/export_onnx.py that need no dataset (driven by tests/torch_stack.rs):

    exporter_checks.py formats WORK [--exporter PATH]
        the same checkpoint saved as state dicts, as whole pickled modules, as a pickled
        pytorch-adapt ``Models`` container and as ``Models.state_dict()``, in one run tree,
        exported in one call: four files with the same outputs, one notice about unpickling; a
        second call keeps them (unchanged); a wrong --arch fails in one line naming the missing and
        unexpected keys
    exporter_checks.py library [--exporter PATH]
        ``embedding_dim`` and ``export_model`` used as a library (as train_dann.py does mid-training)
        leave BatchNorm statistics, every submodule's train/eval mode and the global RNG as they
        were

Both print what they found and exit 1 on a failure. ``--exporter`` (default: models/export_onnx.py)
lets the same checks run against another version of the exporter.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_EXPORTER = os.path.join(REPO, "models", "export_onnx.py")
FORMATS = {"B": "state dicts", "C": "whole modules", "D": "Models container (pickled)",
           "E": "Models.state_dict()"}


def load_exporter(path: str):
    spec = importlib.util.spec_from_file_location("export_onnx", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["export_onnx"] = mod  # pickled demo modules refer to it by this name
    spec.loader.exec_module(mod)
    return mod


def demo_models(ex, seed: int = 0):
    """A demo_cnn G with trained-looking BatchNorm statistics and pytorch-adapt heads."""
    import torch
    from pytorch_adapt.models import Classifier, Discriminator

    torch.manual_seed(seed)
    g = ex.DemoCNN()
    for m in g.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.3, 3.0)
    c = Classifier(num_classes=4, in_size=g.num_features, h=32)
    d = Discriminator(in_size=g.num_features, h=16)
    return g.eval(), c.eval(), d.eval()


def formats(a: argparse.Namespace) -> int:
    import onnxruntime as ort
    import torch
    from pytorch_adapt.containers import Models

    ex = load_exporter(a.exporter)
    g, c, d = demo_models(ex)
    tree = os.path.join(a.work, "tree")
    folder = {t: os.path.join(tree, f"demo_cnn_src(A)_tgt({t})", "01_acc50_auroc60") for t in FORMATS}
    for f in folder.values():
        os.makedirs(f, exist_ok=True)
    for name, m in (("G", g), ("C", c), ("D", d)):
        torch.save(m.state_dict(), os.path.join(folder["B"], f"{name}.pt"))
        torch.save(m, os.path.join(folder["C"], f"{name}.pt"))
    models = Models({"G": g, "C": c, "D": d})
    torch.save(models, os.path.join(folder["D"], "models.pt"))
    torch.save(models.state_dict(), os.path.join(folder["E"], "models.pt"))

    out = os.path.join(a.work, "exported")
    cmd = [sys.executable, a.exporter, "--run-tree", tree, "--out", out]
    failures = []
    first = subprocess.run(cmd, capture_output=True, text=True)
    print(first.stdout + first.stderr)
    if first.returncode:
        return report([f"export failed (exit {first.returncode})"])
    notices = [line for line in first.stderr.splitlines() if "unpickling runs code" in line]
    if len(notices) != 1:
        failures.append(f"expected one notice that unpickling runs code, found {len(notices)}")

    size = int(ex.DEMO_CONFIG["input_size"])  # the demo network's fixed input size
    x = np.random.default_rng(0).normal(size=(3, 3, size, size)).astype(np.float32)
    with torch.no_grad():
        gx = g(torch.from_numpy(x))
        want = [gx.numpy(), c(gx).numpy(), d(gx).reshape(-1, 1).numpy()]
    for t, what in FORMATS.items():
        path = os.path.join(out, f"demo_cnn_A-{t}", f"demo_cnn_A-{t}_ep01.onnx")
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        got = sess.run(None, {sess.get_inputs()[0].name: x})
        dev = max(float(np.abs(w - o).max()) for w, o in zip(want, got))
        print(f"{what:<28} {os.path.basename(path)}: max |diff| vs the modules {dev:.1e}")
        if not dev <= 1e-4:
            failures.append(f"{what}: outputs differ from the modules by {dev:.1e}")

    again = subprocess.run(cmd, capture_output=True, text=True)
    if again.returncode or "exported 0, unchanged 4" not in again.stdout:
        failures.append(f"a second call should keep all four files: {again.stdout[-300:]}")

    wrong = subprocess.run([sys.executable, a.exporter, "--arch", "demo_mlp", "--checkpoint-dir",
                            folder["B"], "--out", os.path.join(a.work, "wrong.onnx")],
                           capture_output=True, text=True)
    errors = [line for line in wrong.stderr.splitlines() if line.startswith("error:")]
    print(f"wrong --arch: exit {wrong.returncode}: {wrong.stderr.strip()}")
    if wrong.returncode != 1 or "Traceback" in wrong.stderr or len(errors) != 1 or not all(
            w in errors[0] for w in ("missing", "unexpected", "G.pt")):
        failures.append("a wrong --arch should fail in one line naming G.pt and the missing and "
                        "unexpected keys")
    return report(failures)


def library(a: argparse.Namespace) -> int:
    import tempfile

    import torch

    ex = load_exporter(a.exporter)
    g, c, d = demo_models(ex)
    g.train()
    c.train()
    d.eval()
    g.features[1].eval()  # a caller's mix of modes must come back as it was
    modes = [m.training for mod in (g, c, d) for m in mod.modules()]
    stats = {k: v.clone() for k, v in g.state_dict().items()}
    rng = torch.get_rng_state()
    failures = []

    def unchanged(after: str) -> None:
        moved = [k for k, v in g.state_dict().items() if not torch.equal(v, stats[k])]
        if moved:
            failures.append(f"{after} changed {len(moved)} BatchNorm buffers or weights "
                            f"({', '.join(moved[:3])})")
        now = [m.training for mod in (g, c, d) for m in mod.modules()]
        if now != modes:
            failures.append(f"{after} changed the train/eval mode of "
                            f"{sum(x != y for x, y in zip(now, modes))} modules")
        if not torch.equal(torch.get_rng_state(), rng):
            failures.append(f"{after} advanced the global RNG")

    width = ex.embedding_dim(g, int(ex.DEMO_CONFIG["input_size"]))
    unchanged("embedding_dim")
    with tempfile.TemporaryDirectory() as tmp:
        ex.export_model(g, c, d, os.path.join(tmp, "m.onnx"), arch="demo_cnn",
                        config=ex.arch_config("demo_cnn"), quiet=True)
    unchanged("export_model")
    print(f"embedding_dim {width}; export_model done")
    return report(failures)


def report(failures: list[str]) -> int:
    if failures:
        print(f"FAILED ({len(failures)}):")
        for f in failures:
            print(f"  {f}")
        return 1
    print("ok")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("formats")
    f.add_argument("work")
    lib = sub.add_parser("library")
    for p in (f, lib):
        p.add_argument("--exporter", default=DEFAULT_EXPORTER)
    a = ap.parse_args(argv)
    return formats(a) if a.cmd == "formats" else library(a)


if __name__ == "__main__":
    sys.exit(main())
