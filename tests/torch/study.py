#!/usr/bin/env python3
"""The training side of tests/torch_stack.rs: a small study made the way the researchers make theirs
(timm backbone with ``G.classifier = nn.Identity()``, pytorch-adapt 0.0.83 ``Classifier`` and
``Discriminator``, a few DANN steps with pytorch-adapt's ``DANNHook``, BatchNorm statistics
re-estimated in train mode, state dicts saved per epoch as
``<runs>/{arch}_src(S)_tgt(T)/{EE}_acc{NN}_auroc{NN}/{G,C,D}.pt``), an image-folder dataset with
PNGs and JPEGs of every chroma layout, and the checks of what dannscope and the exporter make of
them against PyTorch in eval mode on PIL + timm's eval transform.

Nothing here imports models/export_onnx.py: the reference is the study's own code.

    study.py data ROOT                       the dataset <ROOT>/<Domain>/<Class>/<file>
    study.py runs RUNS [--arch A ...]        checkpoints of 2 epochs per architecture
    study.py compare --runs RUNS --exported DIR --data ROOT --outputs OUT [--split all]
                                             dannscope's stored embeddings, logits, domain logits
                                             and metrics against PyTorch and scikit-learn
    study.py check-onnx --runs RUNS --exported DIR
                                             each ONNX file against a fresh load of its checkpoint:
                                             BatchNorm statistics intact (1), embedding = G(x) (2),
                                             a valid self-check (5)
    study.py check-exporter EXPORTER --runs RUNS --work DIR
                                             export each checkpoint folder with EXPORTER (one
                                             --checkpoint-dir call each), then check-onnx

Every check prints its table and exits 1 when a figure is out of bounds.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

warnings.filterwarnings("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
DOMAINS = ("Art", "Real World")
CLASSES = ("Bike", "Cup", "Drill")
ARCHS = ("mobilenetv3_large_100", "resmlp_12_distilled_224")
PAIR = ("A", "R")
# Relative tolerance per row: max |dannscope - PyTorch| / max(||PyTorch row||, 1).
ROW_TOL = 1e-4
# The same on synthetic batches (the self-check pattern, Gaussian noise): far from the data the
# models were calibrated on, activations reach thousands and float32 rounding differences between
# onnxruntime (BatchNorm folded into the convolutions) and PyTorch reach about 2e-4. Overwritten
# BatchNorm statistics or a wrong embedding show as 1e-2 and more.
SYNTHETIC_TOL = 1e-3
METRIC_TOL = 1e-9
RUN_DIR = re.compile(r"^(?P<arch>.+)_src\((?P<source>[^()]+)\)_tgt\((?P<target>[^()]+)\)$")
EPOCH_DIR = re.compile(r"^(?P<epoch>\d+)_acc\d+_auroc\d+$")


# --------------------------------------------------------------------------------------------
# The dataset
# --------------------------------------------------------------------------------------------
def scene(w: int, h: int, domain: int, cls: int, k: int) -> np.ndarray:
    """Photo-like RGB pixels: a class-dependent shape over a domain-dependent background, smooth
    gradients, chroma edges and noise (so every DCT coefficient and chroma sample matters)."""
    rng = np.random.default_rng(1000 * domain + 100 * cls + k)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    tint = np.array([[200, 120, 60], [70, 140, 210]][domain], dtype=np.float64)
    img = tint + 50 * np.stack([np.sin(x / (w / 3.0) + k), np.cos(y / (h / 2.0) + cls),
                                np.sin((x + y) / 23.0)], axis=-1)
    cx, cy, r = w * (0.3 + 0.4 * rng.random()), h * (0.3 + 0.4 * rng.random()), min(w, h) / 4
    colour = np.array([[230, 30, 30], [30, 200, 40], [250, 230, 20]][cls], dtype=np.float64)
    if cls == 0:
        mask = (x - cx) ** 2 + (y - cy) ** 2 < r * r
    elif cls == 1:
        mask = (abs(x - cx) < r) & (abs(y - cy) < r * 0.6)
    else:
        mask = abs((x - cx) - (y - cy)) < r * 0.4
    img[mask] = colour
    img += 10 * np.sin(x * 1.3)[..., None] * np.cos(y * 1.9)[..., None]
    img += rng.normal(0, 5, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


# name, extension, Pillow save options (None: a committed cjpeg file, see fixtures/)
LAYOUTS = [
    ("png", "png", {}),
    ("png_grey", "png", {"mode": "L"}),
    ("444", "jpg", {"quality": 90, "subsampling": "4:4:4"}),
    ("422", "jpg", {"quality": 90, "subsampling": "4:2:2"}),
    ("420", "jpg", {"quality": 90, "subsampling": "4:2:0"}),
    ("440", "jpg", None),
    ("420_progressive", "jpg", {"quality": 85, "subsampling": "4:2:0", "progressive": True}),
    ("444_progressive", "jpg", {"quality": 85, "subsampling": "4:4:4", "progressive": True}),
    ("440_progressive", "jpg", None),
    ("grey", "jpg", {"quality": 90, "mode": "L"}),
    ("420_restart", "jpg", {"quality": 90, "subsampling": "4:2:0", "restart_marker_rows": 1}),
]
SIZES = [(200, 150), (150, 200), (257, 193), (320, 240)]


def fixture_440(domain: int, cls: int, progressive: bool) -> str:
    """The committed 4:4:0 JPEG of (domain, class): Pillow cannot write this layout; the files
    were made once by ``study.py fixtures`` with libjpeg-turbo's cjpeg."""
    tail = "_progressive" if progressive else ""
    return os.path.join(HERE, "fixtures", f"d{domain}c{cls}_440{tail}.jpg")


def make_fixtures() -> None:
    """Writes fixtures/d<D>c<C>_440[_progressive].jpg with cjpeg (Debian: libjpeg-turbo-progs)."""
    import tempfile

    from PIL import Image

    os.makedirs(os.path.join(HERE, "fixtures"), exist_ok=True)
    for d in range(len(DOMAINS)):
        for c in range(len(CLASSES)):
            for progressive in (False, True):
                with tempfile.TemporaryDirectory() as tmp:
                    ppm = os.path.join(tmp, "in.ppm")
                    Image.fromarray(scene(176, 132, d, c, 9 + progressive)).save(ppm)
                    args = ["cjpeg", "-quality", "85", "-sample", "1x2,1x1,1x1"]
                    args += ["-progressive"] if progressive else []
                    data = subprocess.run(args + [ppm], check=True, capture_output=True).stdout
                with open(fixture_440(d, c, progressive), "wb") as f:
                    f.write(data)


def make_data(root: str) -> int:
    """<root>/<Domain>/<Class>/<layout>.<ext>: one image per layout, domain and class."""
    from PIL import Image

    n = 0
    for d, dom in enumerate(DOMAINS):
        for c, cls in enumerate(CLASSES):
            folder = os.path.join(root, dom, cls)
            os.makedirs(folder, exist_ok=True)
            for k, (name, ext, opts) in enumerate(LAYOUTS):
                path = os.path.join(folder, f"{name}.{ext}")
                if opts is None:
                    shutil.copyfile(fixture_440(d, c, name.endswith("progressive")), path)
                else:
                    opts = dict(opts)
                    w, h = SIZES[(k + d + c) % len(SIZES)]
                    im = Image.fromarray(scene(w, h, d, c, k))
                    im = im.convert(opts.pop("mode", "RGB"))
                    im.save(path, **opts)
                n += 1
    return n


# --------------------------------------------------------------------------------------------
# The study's models and checkpoints
# --------------------------------------------------------------------------------------------
def study_models(arch: str, num_classes: int):
    """G, C, D as the study builds them: a timm backbone (random weights) with
    ``G.classifier = nn.Identity()`` (MobileNetV3 loses its head; ResMLP keeps its ``head``, so G(x)
    is 1000-d), pytorch-adapt's Classifier and Discriminator on G(x)."""
    import timm
    import torch
    import torch.nn as nn
    from pytorch_adapt.models import Classifier, Discriminator

    G = timm.create_model(arch, pretrained=False)
    G.classifier = nn.Identity()
    if arch.startswith("resmlp"):
        # timm starts ResMLP's head at zero; the study's was pretrained: give it weights.
        with torch.no_grad():
            G.head.weight.normal_(0, 0.05)
            G.head.bias.normal_(0, 0.02)
    was = G.training
    G.eval()
    with torch.no_grad():
        dim = G(torch.zeros(1, 3, 224, 224)).shape[1]
    G.train(was)
    C = Classifier(num_classes=num_classes, in_size=dim, h=256)
    D = Discriminator(in_size=dim, h=256)
    with torch.no_grad():  # logits of a trained model's size, not of a fresh init (about 0.1)
        C.net[-1].weight.mul_(20.0)
        D.net[-1].weight.mul_(20.0)
    return G, C, D


def load_checkpoint(folder: str, arch: str, num_classes: int = len(CLASSES)):
    """A fresh load of one epoch folder, the study's way, in eval mode."""
    import torch

    G, C, D = study_models(arch, num_classes)
    for name, m in (("G", G), ("C", C), ("D", D)):
        m.load_state_dict(torch.load(os.path.join(folder, f"{name}.pt"), map_location="cpu"))
        m.eval()
    return G, C, D


def image_like(n: int, gen) -> "torch.Tensor":
    """Normalised image-like batches: smooth random fields with per-image colour casts, plus fine
    noise (so that BatchNorm statistics also cover inputs with high-frequency content)."""
    import torch
    import torch.nn.functional as F

    base = torch.randn(n, 3, 28, 28, generator=gen)
    x = F.interpolate(base, size=(224, 224), mode="bilinear", align_corners=False)
    return (x + 0.6 * torch.randn(n, 3, 1, 1, generator=gen)
            + 0.8 * torch.randn(n, 3, 224, 224, generator=gen))


def make_runs(out: str, archs, epochs: int, seed: int = 0) -> list[str]:
    """Trains each architecture for ``epochs`` tiny epochs (one DANN step of pytorch-adapt's
    ``DANNHook``, then BatchNorm statistics re-estimated on image-like batches in train mode, as
    a real run leaves them) and saves each epoch's state dicts in the study's layout."""
    import torch
    from pytorch_adapt.hooks import DANNHook

    folders = []
    for arch in archs:
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        G, C, D = study_models(arch, len(CLASSES))
        hook = DANNHook([torch.optim.SGD(m.parameters(), lr=0.01) for m in (G, C, D)])
        bns = [m for m in G.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        for epoch in range(1, epochs + 1):
            G.train(), C.train(), D.train()
            n = 2
            data = {"src_imgs": image_like(n, gen), "target_imgs": image_like(n, gen) + 0.3,
                    "src_labels": torch.randint(0, len(CLASSES), (n,), generator=gen),
                    "src_domain": torch.zeros(n), "target_domain": torch.ones(n)}
            hook({"G": G, "C": C, "D": D, **data})
            if bns:
                for m in bns:
                    m.reset_running_stats()
                    m.momentum = None  # cumulative average over the passes below
                with torch.no_grad():
                    for _ in range(2):
                        G(image_like(4, gen))
            folder = os.path.join(out, f"{arch}_src({PAIR[0]})_tgt({PAIR[1]})",
                                  f"{epoch:02d}_acc{50 + epoch}_auroc{70 + epoch}")
            os.makedirs(folder, exist_ok=True)
            for name, m in (("G", G), ("C", C), ("D", D)):
                torch.save(m.state_dict(), os.path.join(folder, f"{name}.pt"))
            folders.append(folder)
        if bns:
            mean = float(np.mean([m.running_mean.abs().mean().item() for m in bns]))
            var = float(np.mean([(m.running_var - 1).abs().mean().item() for m in bns]))
            print(f"{arch}: {len(bns)} BatchNorm layers, mean |running_mean| {mean:.3f}, "
                  f"mean |running_var - 1| {var:.3f} (defaults: 0, 0)")
    return folders


@dataclass
class Checkpoint:
    folder: str
    arch: str
    source: str
    target: str
    epoch: int

    @property
    def stem(self) -> str:
        """The file stem models/export_onnx.py --run-tree gives this checkpoint's ONNX file."""
        return f"{self.arch}_{self.source}-{self.target}_ep{self.epoch:02d}"

    def onnx(self, exported: str) -> str:
        return os.path.join(exported, self.stem.rsplit("_ep", 1)[0], self.stem + ".onnx")


def checkpoints(runs: str) -> list[Checkpoint]:
    out = []
    for run in sorted(os.listdir(runs)):
        m = RUN_DIR.match(run)
        if not m:
            continue
        for ep in sorted(os.listdir(os.path.join(runs, run))):
            e = EPOCH_DIR.match(ep)
            if e:
                out.append(Checkpoint(os.path.join(runs, run, ep), m["arch"], m["source"],
                                      m["target"], int(e["epoch"])))
    if not out:
        sys.exit(f"{runs}: expected <arch>_src(S)_tgt(T)/<EE>_acc<NN>_auroc<NN>/, found none")
    return out


# --------------------------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------------------------
def rows(a) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(a.shape[0], -1)


def row_stats(ref, got) -> dict:
    """Per-row max |diff| / max(norm, 1), max |diff| and cosine, and argmax agreement."""
    r, g = rows(ref), rows(got)
    if r.shape != g.shape:
        return {"shape": f"{list(g.shape)} vs {list(r.shape)}", "rel": float("inf"),
                "maxdiff": float("inf"), "cos_min": float("nan"), "cos_mean": float("nan"),
                "argmax": 0.0}
    diff = np.abs(r - g).max(axis=1)
    nr, ng = np.linalg.norm(r, axis=1), np.linalg.norm(g, axis=1)
    cos = (r * g).sum(axis=1) / np.maximum(nr * ng, 1e-30)
    return {"rel": float((diff / np.maximum(nr, 1.0)).max()), "maxdiff": float(diff.max()),
            "cos_min": float(cos.min()), "cos_mean": float(cos.mean()),
            "argmax": float(np.mean(r.argmax(1) == g.argmax(1))) if r.shape[1] > 1 else 1.0}


class Reference:
    """PyTorch eval-mode outputs of a fresh load on PIL + timm's eval transform, per image."""

    def __init__(self, data: str):
        self.data = data
        self._pixels: dict[tuple[str, str], "torch.Tensor"] = {}

    def outputs(self, ck: Checkpoint, paths: list[str]) -> dict[str, np.ndarray]:
        import timm.data
        import torch
        from PIL import Image

        G, C, D = load_checkpoint(ck.folder, ck.arch)
        cfg = timm.data.resolve_data_config({}, model=G)
        tf = timm.data.create_transform(**cfg)
        key = json.dumps(cfg, sort_keys=True, default=list)
        xs = []
        for p in paths:
            if (key, p) not in self._pixels:
                with Image.open(os.path.join(self.data, p)) as im:
                    self._pixels[(key, p)] = tf(im.convert("RGB"))
            xs.append(self._pixels[(key, p)])
        with torch.no_grad():
            x = torch.stack(xs)
            emb = G(x)
            return {"embedding": emb.numpy(), "logits": C(emb).numpy(),
                    "domain_logits": D(emb).reshape(-1).numpy()}


def softmax64(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def compare(a: argparse.Namespace) -> int:
    """dannscope's embeddings, logits, domain logits (outputs/embeddings) and accuracy / AUROC
    (outputs/metrics/.../classification.csv, and the report's results.csv for each run's last
    epoch) against PyTorch and scikit-learn."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    ref = Reference(a.data)
    table, failures = [], []
    report_rows = read_results(a.report) if a.report else None
    cks = checkpoints(a.runs)
    last: dict[tuple[str, str, str], int] = {}
    for ck in cks:
        run = (ck.arch, ck.source, ck.target)
        last[run] = max(ck.epoch, last.get(run, 0))
    for ck in cks:
        emb_dir = os.path.join(a.outputs, "embeddings", ck.stem, a.split)
        with open(os.path.join(a.outputs, "metrics", ck.stem, a.split, "classification.csv"),
                  newline="") as f:
            metrics = {r["domain"]: r for r in csv.DictReader(f)}
        stored = {}
        for dom in DOMAINS:
            with open(os.path.join(emb_dir, f"{dom}.json")) as f:
                paths = json.load(f)["paths"]
            stored[dom] = (paths, dict(np.load(os.path.join(emb_dir, f"{dom}.npz"))))
        every = [p for dom in DOMAINS for p in stored[dom][0]]
        exp_all = ref.outputs(ck, every)
        start = 0
        for dom in DOMAINS:
            paths, got = stored[dom]
            exp = {k: v[start:start + len(paths)] for k, v in exp_all.items()}
            start += len(paths)
            labels = np.array([CLASSES.index(p.split("/")[1]) for p in paths])
            if not np.array_equal(got["label"], labels):
                failures.append(f"{ck.stem} {dom}: labels differ")
            for kind, ext in (("PNG", ".png"), ("JPEG", ".jpg")):
                idx = [i for i, p in enumerate(paths) if p.endswith(ext)]
                for out in ("embedding", "logits", "domain_logits"):
                    e, g = rows(exp[out][idx]), rows(got[out][idx])
                    s = row_stats(e, g)
                    table.append({"model": ck.stem, "domain": dom, "input": kind, "output": out,
                                  "n": len(idx), **s})
                    if not s["rel"] <= ROW_TOL:
                        far = np.abs(e - g).max(axis=1) if e.shape == g.shape else [0]
                        worst = idx[int(np.argmax(far))]
                        failures.append(f"{ck.stem} {dom} {kind} {out}: per-row deviation "
                                        f"{s['rel']:.2e} > {ROW_TOL} (worst {paths[worst]})")
                    if out == "logits" and s["argmax"] < 1.0:
                        failures.append(f"{ck.stem} {dom} {kind}: argmax agrees on "
                                        f"{100 * s['argmax']:.1f} %")
            prob = softmax64(exp["logits"])
            want = {"accuracy": accuracy_score(labels, prob.argmax(1)),
                    "auroc": roc_auc_score(labels, prob, multi_class="ovr", average="macro",
                                           labels=list(range(len(CLASSES))))}
            sources = [("eval", {k: metrics[dom][k] for k in want})]
            if report_rows is not None and ck.epoch == last[(ck.arch, ck.source, ck.target)]:
                key = (ck.arch, f"{ck.source}-{ck.target}", dom)
                sources.append(("report", report_rows.get(key, {})))
            for origin, values in sources:
                for name, w in want.items():
                    v = float(values.get(name, "nan"))
                    d = abs(v - w)
                    table.append({"model": ck.stem, "domain": dom, "metric": f"{name} ({origin})",
                                  "dannscope": v, "sklearn": w, "diff": d})
                    if not d <= METRIC_TOL:
                        failures.append(f"{ck.stem} {dom} {name} ({origin}): dannscope {v!r}, "
                                        f"scikit-learn on PyTorch's logits {w!r}")
    print_table(table)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": table, "failures": failures}, f, indent=1)
    return report(failures, f"{sum(1 for r in table if 'output' in r)} output groups and "
                  f"{sum(1 for r in table if 'metric' in r)} metrics equal PyTorch / scikit-learn")


def read_results(path: str) -> dict[tuple[str, str, str], dict[str, str]]:
    """The report's results.csv: (run name, pair, domain) -> {metric: value}."""
    out: dict[tuple[str, str, str], dict[str, str]] = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            out.setdefault((r["model"], r["pair"], r["domain"]), {})[r["metric"]] = r["value"]
    return out


def print_table(table: list[dict]) -> None:
    print(f"{'model':<44} {'domain':<11} {'input':<5} {'output':<14} {'n':>3} {'max|diff|':>9} "
          f"{'rel':>9} {'cos min':>9} {'argmax':>7}")
    for r in table:
        if "output" in r:
            print(f"{r['model']:<44} {r['domain']:<11} {r['input']:<5} {r['output']:<14} "
                  f"{r['n']:>3} {r['maxdiff']:>9.2e} {r['rel']:>9.2e} {r['cos_min']:>9.6f} "
                  f"{100 * r['argmax']:>6.1f}%" + (f"  shape {r['shape']}" if "shape" in r else ""))
    for r in table:
        if "metric" in r:
            print(f"{r['model']:<44} {r['domain']:<11} {r['metric']:<18} dannscope "
                  f"{r['dannscope']:.12f} scikit-learn {r['sklearn']:.12f} diff {r['diff']:.1e}")


def report(failures: list[str], ok: str) -> int:
    if failures:
        print(f"FAILED ({len(failures)}):")
        for f in failures:
            print(f"  {f}")
        return 1
    print(f"ok: {ok}")
    return 0


def selfcheck_input(size: int, batch: int = 2) -> np.ndarray:
    """x[n][c][y][x] = (((7n + 13c + 3y + 5x) % 17) - 8) / 4, as the model contract's self-check."""
    n, c, y, x = np.meshgrid(np.arange(batch), np.arange(3), np.arange(size), np.arange(size),
                             indexing="ij")
    return ((((7 * n + 13 * c + 3 * y + 5 * x) % 17) - 8) / 4).astype(np.float32)


def check_onnx(runs: str, exported: str) -> int:
    """Each exported file against a fresh load of its checkpoint (the study's own code), with
    onnxruntime: (1) outputs on a fixed batch, which a backbone whose BatchNorm statistics were
    overwritten fails; (2) the embedding is G(x), the tensor C and D receive (ResMLP: 1000-d);
    (5) the ``dannscope.selfcheck`` metadata is there, follows the spec and holds PyTorch's values."""
    import onnx
    import onnxruntime as ort
    import torch

    failures, lines = [], []
    for ck in checkpoints(runs):
        path = ck.onnx(exported)
        G, C, D = load_checkpoint(ck.folder, ck.arch)
        x = torch.from_numpy(selfcheck_input(224))
        xr = torch.randn(3, 3, 224, 224, generator=torch.Generator().manual_seed(1))
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        names = [o.name for o in sess.get_outputs()]
        worst = {}
        for label, batch in (("fixed", x), ("random", xr)):
            with torch.no_grad():
                emb = G(batch)
                exp = {"embedding": emb.numpy(), "logits": C(emb).numpy(),
                       "domain_logits": D(emb).reshape(-1, 1).numpy()}
            got = dict(zip(names, sess.run(None, {sess.get_inputs()[0].name: batch.numpy()})))
            for out in ("embedding", "logits", "domain_logits"):
                s = row_stats(exp[out], got[out]) if out in got else {"rel": float("inf"),
                                                                      "shape": "missing"}
                worst[(label, out)] = s
        emb_w = {int(o.shape[1]) if isinstance(o.shape[1], int) else None for o in sess.get_outputs()
                 if o.name == "embedding"}
        gx_w = int(exp["embedding"].shape[1])
        rel1 = max(worst[(lbl, o)]["rel"] for lbl in ("fixed", "random")
                   for o in ("logits", "domain_logits"))
        relemb = max(worst[(lbl, "embedding")]["rel"] for lbl in ("fixed", "random"))
        cos = min(worst[(lbl, o)].get("cos_min", float("nan")) for lbl in ("fixed", "random")
                  for o in ("embedding", "logits"))
        lines.append(f"{ck.stem:<44} embedding {sorted(emb_w, key=str)} vs G(x) {gx_w}-d; "
                     f"logits/domain rel {rel1:.2e}; embedding rel {relemb:.2e}; cos min {cos:.4f}")
        if not rel1 <= SYNTHETIC_TOL:
            failures.append(f"(1) {ck.stem}: logits / domain logits differ from a fresh load of "
                            f"the checkpoint (per-row deviation {rel1:.2e} > {SYNTHETIC_TOL})")
        if emb_w != {gx_w}:
            failures.append(f"(2) {ck.stem}: embedding is {sorted(emb_w, key=str)}-d, G(x) (what "
                            f"C and D receive) is {gx_w}-d")
        elif not relemb <= SYNTHETIC_TOL:
            failures.append(f"(1) {ck.stem}: embedding differs from G(x) of a fresh load (per-row "
                            f"deviation {relemb:.2e} > {SYNTHETIC_TOL})")
        meta = {p.key: p.value for p in onnx.load(path, load_external_data=False).metadata_props}
        failures += [f"(5) {ck.stem}: {m}" for m in check_selfcheck(meta, names, G, C, D, sess)]
        if meta.get("dannscope.embedding", "g-output") != "g-output":
            failures.append(f"(2) {ck.stem}: dannscope.embedding is {meta['dannscope.embedding']}")
    print("\n".join(lines))
    return report(failures, f"{len(lines)} files equal a fresh load of their checkpoints and carry "
                  "a valid self-check")


def check_selfcheck(meta: dict, names: list[str], G, C, D, sess) -> list[str]:
    """What is wrong with a file's ``dannscope.selfcheck`` (nothing: an empty list)."""
    import torch

    raw = meta.get("dannscope.selfcheck")
    if raw is None:
        return ["no dannscope.selfcheck metadata"]
    try:
        sc = json.loads(raw)
        size = int(sc["size"])
        assert sc["version"] == 1 and sc["batch"] == 2, "version 1, batch 2"
        outs = sc["outputs"]
    except Exception as e:
        return [f"dannscope.selfcheck is not the spec's JSON ({e})"]
    bad = []
    if sorted(outs) != sorted(names):
        bad.append(f"self-check lists {sorted(outs)}, the graph has {sorted(names)}")
    x = selfcheck_input(size)
    with torch.no_grad():
        emb = G(torch.from_numpy(x))
        exp = {"embedding": emb.numpy(), "logits": C(emb).numpy(),
               "domain_logits": D(emb).reshape(-1, 1).numpy()}
    got = dict(zip(names, sess.run(None, {sess.get_inputs()[0].name: x})))
    for name, rec in outs.items():
        r = rows(exp[name])
        if rec["shape"] != list(r.shape):
            bad.append(f"{name}: shape {rec['shape']}, PyTorch {list(r.shape)}")
            continue
        heads = np.asarray(rec["head"], dtype=np.float64)
        k = min(8, r.shape[1])
        if heads.shape != (2, k):
            bad.append(f"{name}: head has shape {list(heads.shape)}, expected [2, {k}]")
            continue
        norms = np.asarray(rec["norm"], dtype=np.float64)
        want_norm = np.linalg.norm(r, axis=1)
        d_ref = max(np.abs(heads - r[:, :k]).max(), np.abs(norms - want_norm).max()) / max(
            1.0, want_norm.min())
        if not d_ref <= 1e-5:
            bad.append(f"{name}: stored values differ from PyTorch's by {d_ref:.2e}")
        g = rows(got[name])
        rel = max(max(np.abs(g[i, :k] - heads[i]).max(), abs(np.linalg.norm(g[i]) - norms[i]))
                  / max(norms[i], 1.0) for i in range(2))
        if not rel <= SYNTHETIC_TOL:
            bad.append(f"{name}: onnxruntime misses the self-check by {rel:.2e}")
    return bad


def check_exporter(a: argparse.Namespace) -> int:
    """Exports every checkpoint with EXPORTER, one ``--checkpoint-dir`` call each (the flags the
    exporter has always had), into the --run-tree layout, then checks the files."""
    for ck in checkpoints(a.runs):
        out = ck.onnx(a.work)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        t0 = time.time()
        r = subprocess.run([sys.executable, a.exporter, "--arch", ck.arch, "--checkpoint-dir",
                            ck.folder, "--source", ck.source, "--target", ck.target, "--epoch",
                            str(ck.epoch), "--out", out], capture_output=True, text=True)
        print(f"{a.exporter} {ck.stem}: exit {r.returncode}, {time.time() - t0:.1f} s; "
              + (r.stdout.strip().splitlines() or [""])[-1])
        if r.returncode:
            print(r.stderr[-2000:])
            return 1
    return check_onnx(a.runs, a.work)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("data").add_argument("root")
    r = sub.add_parser("runs")
    r.add_argument("out")
    r.add_argument("--arch", action="append")
    r.add_argument("--epochs", type=int, default=2)
    sub.add_parser("fixtures")
    c = sub.add_parser("compare")
    for flag in ("--runs", "--exported", "--data", "--outputs"):
        c.add_argument(flag, required=True)
    c.add_argument("--split", default="all")
    c.add_argument("--report", help="the report's results.csv (its runs' last epochs are checked)")
    c.add_argument("--json")
    o = sub.add_parser("check-onnx")
    o.add_argument("--runs", required=True)
    o.add_argument("--exported", required=True)
    e = sub.add_parser("check-exporter")
    e.add_argument("exporter")
    e.add_argument("--runs", required=True)
    e.add_argument("--work", required=True)
    a = ap.parse_args(argv)
    if a.cmd == "data":
        print(f"wrote {make_data(a.root)} images under {a.root}")
    elif a.cmd == "runs":
        folders = make_runs(a.out, a.arch or ARCHS, a.epochs)
        print(f"wrote {len(folders)} checkpoints under {a.out}")
    elif a.cmd == "fixtures":
        make_fixtures()
    elif a.cmd == "compare":
        return compare(a)
    elif a.cmd == "check-onnx":
        return check_onnx(a.runs, a.exported)
    elif a.cmd == "check-exporter":
        return check_exporter(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
