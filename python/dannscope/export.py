"""Export DANN checkpoints (backbone G, classifier C, optional discriminator D) to ONNX files that
follow the dannscope model contract (version 1): one file per checkpoint, or every epoch of a whole
study in one call.

Run it as ``dannscope-export`` or ``python -m dannscope.export`` (installed with
``pip install "dannscope[export]"``), or from a checkout without the package as
``python models/export_onnx.py`` (a thin wrapper that runs this file); the three take the same flags.

The graph has one input ``image`` (float32 [N, 3, H, W], dynamic N) and the outputs ``embedding``
= G(x), exactly the tensor that C and D receive (``--embedding pre-logits`` exports timm's pooled
pre-logits feature instead), ``logits`` = C(G(x)) and ``domain_logits`` = D(G(x)) as [N, 1].
Preprocessing metadata comes from timm's pretrained config of the architecture (read without
downloading anything) unless overridden. Every module is put in eval mode before any forward pass.
Each file is verified with onnxruntime against a fresh load of the checkpoint files (new modules
built from the files on disk), on a fixed batch and on real images with --data, and carries a
self-check (``dannscope.selfcheck``) that dannscope runs on load. See docs/exporter.md.

Examples:
  # a whole study: every epoch folder under outputs/, skipping files already exported from the same
  # checkpoints; writes exported/dannscope.toml with one [[run]] per pair
  python models/export_onnx.py --run-tree outputs/ --out exported/ --data data/OfficeHome
  dannscope report --config exported/dannscope.toml

  # one checkpoint folder holding G.pt, C.pt and D.pt (state dicts or whole modules)
  python models/export_onnx.py --arch mobilenetv3_large_100 \\
      --checkpoint-dir "outputs/mobilenetv3_large_100_src(R)_tgt(P)/05_acc87_auroc98" \\
      --source R --target P --epoch 5 --out rp_ep05.onnx

  # one pytorch-adapt Models container (or its state_dict()) saved as a single file
  python models/export_onnx.py --arch resmlp_12_distilled_224 --checkpoint models.pt --out m.onnx

  # another folder layout: a regex with named groups source, target, epoch (arch, acc, auroc optional)
  python models/export_onnx.py --run-tree runs/ --out exported/ --arch mobilenetv3_large_100 \\
      --pattern '(?P<source>[A-Z])2(?P<target>[A-Z])/epoch(?P<epoch>\\d+)$'

  # random weights (no checkpoint), just to check that an architecture exports
  python models/export_onnx.py --arch mobilenetv3_large_100 --num-classes 10 --out /tmp/m.onnx

Run-tree layout (the default --pattern): ``<any>/<arch>_src(<S>)_tgt(<T>)/<EE>_acc<NN>_auroc<NN>/``
holding G.pt, C.pt, D.pt (or one Models file); the parentheses, ``_acc..`` and ``_auroc..`` are
optional, and the epoch folder may read ``ep<EE>`` / ``epoch<EE>``. The output is
``<out>/<arch>_<S>-<T>/<arch>_<S>-<T>_ep<EE>.onnx``.

Library use (train_dann.py): ``create_backbone``, ``make_classifier``, ``make_discriminator``,
``arch_config``, ``embedding_dim`` and ``export_model``; each restores the callers' train/eval modes.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import functools
import hashlib
import json
import math
import os
import pickle
import re
import sys
import tempfile
import time
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, Callable

import numpy as np
import torch
import torch.nn as nn

EXPORTER_VERSION = 2
CONTRACT_OUTPUTS = ("embedding", "logits", "domain_logits")
EMBEDDINGS = ("g-output", "pre-logits")
INTERPOLATIONS = ("bilinear", "bicubic")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
CHECKPOINT_EXTS = (".pt", ".pth", ".ckpt")
ROLES = ("G", "C", "D")
# Largest per-row difference (max |diff| / max(row norm, 1)) accepted between onnxruntime and
# PyTorch when the exporter verifies a file. On real images the two float32 CPU runs differ by
# about 1e-6; on the synthetic batches (far from the training data, activations in the thousands)
# rounding is amplified up to about 2e-4 (onnxruntime folds BatchNorm into the convolutions). A
# wrong weight or statistic shows as 1e-2 and more.
VERIFY_TOL = 1e-3
SELFCHECK_BATCH = 2
SELFCHECK_HEAD = 8
DEFAULT_PATTERN = (
    r"(?:^|/)(?:(?P<arch>[^/]+?)_)?src\(?(?P<source>[^/()]+?)\)?_tgt\(?(?P<target>[^/()]+?)\)?"
    r"/(?:ep(?:och)?_?)?(?P<epoch>\d+)(?:_acc(?P<acc>\d+(?:\.\d+)?))?"
    r"(?:_auroc(?P<auroc>\d+(?:\.\d+)?))?$"
)
TOML_HEADER = "# Written by models/export_onnx.py --run-tree"
# Metadata that says nothing about the checkpoint and settings: not compared to skip a file.
_VOLATILE_META = ("dannscope.selfcheck", "dannscope.exporter")


class ExportError(Exception):
    """A problem with the user's files or flags: printed as one line, without a traceback."""


def note(msg: str) -> None:
    print(f"note: {msg}", file=sys.stderr)


def _few(items, k: int = 4) -> str:
    items = sorted(items)
    return ", ".join(items[:k]) + (", ..." if len(items) > k else "")


# --------------------------------------------------------------------------------------------
# Tiny demo architectures (timm-like interface: num_features, forward_features, forward_head)
# --------------------------------------------------------------------------------------------
class DemoCNN(nn.Module):
    """Four 3x3 conv blocks (BN + ReLU, 2x2 max-pool after the first three, so the last block
    sees the whole 32 px image: receptive field 38 px) and global average pooling: about 47k
    parameters, 64-d embedding. The input is used as it is (ImageNet mean/std only): colour,
    brightness and polarity are left in, as the domain shift a DANN run has to remove."""

    def __init__(self, widths=(16, 32, 48, 64)):
        super().__init__()
        layers, cin = [], 3
        for i, w in enumerate(widths):
            layers += [nn.Conv2d(cin, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
            if i < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
            cin = w
        self.features = nn.Sequential(*layers)
        self.num_features = cin

    def forward_features(self, x):
        return self.features(x)

    def forward_head(self, x, pre_logits: bool = False):
        return x.mean(dim=(2, 3))

    def forward(self, x):
        return self.forward_head(self.forward_features(x), pre_logits=True)


class DemoMLP(nn.Module):
    """Average-pools the 32 px input to 16x16, flattens (768 values) and applies two hidden
    layers of 64 units: about 54k parameters, 64-d embedding."""

    def __init__(self, pooled=16, hidden=64):
        super().__init__()
        self.pool = nn.AvgPool2d(DEMO_CONFIG["input_size"] // pooled)
        self.mlp = nn.Sequential(
            nn.Linear(3 * pooled * pooled, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )
        self.num_features = hidden

    def forward_features(self, x):
        return self.pool(x).flatten(1)

    def forward_head(self, x, pre_logits: bool = False):
        return self.mlp(x)

    def forward(self, x):
        return self.forward_head(self.forward_features(x), pre_logits=True)


DEMO_ARCHS = {"demo_cnn": DemoCNN, "demo_mlp": DemoMLP}
DEMO_CONFIG = {
    "input_size": 32,
    "crop_pct": 1.0,
    "interpolation": "bilinear",
    "mean": IMAGENET_MEAN,
    "std": IMAGENET_STD,
}


def known_arch(arch: str) -> bool:
    """Whether ``arch`` is a demo architecture or a timm model name."""
    if arch in DEMO_ARCHS:
        return True
    import timm

    return bool(timm.is_model(arch))


def _timm_model(arch: str, **kwargs) -> nn.Module:
    """A timm model with random weights (``pretrained=False``: nothing is downloaded)."""
    import timm

    if not timm.is_model(arch):
        raise ExportError(f"--arch {arch!r}: not a timm model name nor one of {sorted(DEMO_ARCHS)}")
    with warnings.catch_warnings():  # e.g. "mapping deprecated model name"
        warnings.simplefilter("ignore")
        return timm.create_model(arch, pretrained=False, **kwargs)


@functools.lru_cache(maxsize=None)
def _timm_cfg(arch: str) -> tuple:
    cfg = _timm_model(arch).pretrained_cfg
    return tuple(sorted((k, v) for k, v in cfg.items() if k in
                        ("input_size", "crop_pct", "interpolation", "mean", "std")))


def arch_config(arch: str) -> dict:
    """Preprocessing config of an architecture: input_size, crop_pct, interpolation, mean, std.
    For timm models it is read from ``pretrained_cfg`` of a randomly initialised model."""
    if arch in DEMO_ARCHS:
        return dict(DEMO_CONFIG)
    cfg = dict(_timm_cfg(arch))
    size = cfg.get("input_size", (3, 224, 224))
    if size[1] != size[2]:
        raise ExportError(f"{arch}: expected a square input size, found {size}")
    return {
        "input_size": int(size[1]),
        "crop_pct": float(cfg.get("crop_pct", 0.875)),
        "interpolation": str(cfg.get("interpolation", "bilinear")),
        "mean": tuple(float(v) for v in cfg.get("mean", IMAGENET_MEAN)),
        "std": tuple(float(v) for v in cfg.get("std", IMAGENET_STD)),
    }


# --------------------------------------------------------------------------------------------
# Train/eval modes
# --------------------------------------------------------------------------------------------
@contextlib.contextmanager
def eval_mode(*modules: nn.Module | None) -> Iterator[None]:
    """Puts every module in eval mode for the block and restores each submodule's own mode after
    it (a forward pass in training mode would overwrite BatchNorm running statistics)."""
    saved = [(m, m.training) for top in modules if top is not None for m in top.modules()]
    try:
        for top in modules:
            if top is not None:
                top.eval()
        yield
    finally:
        for m, training in saved:
            m.training = training


# --------------------------------------------------------------------------------------------
# Reading checkpoint files
# --------------------------------------------------------------------------------------------
_pickle_noticed = False


def _torch_load(path: str) -> Any:
    """A checkpoint file's object: tensors only when possible; whole pickled objects (modules,
    pytorch-adapt containers) with a notice, since unpickling runs code from the file."""
    global _pickle_noticed
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        pass
    except FileNotFoundError:
        raise ExportError(f"{path}: no such file") from None
    except Exception as e:  # not a torch file at all
        raise ExportError(f"{path}: cannot read it as a PyTorch file "
                          f"({type(e).__name__}: {str(e).splitlines()[0][:160]})") from None
    if not _pickle_noticed:
        note(f"{path} holds pickled Python objects (a whole module or container), not only "
             "tensors: unpickling runs code from the file, so use files you trust (shown once)")
        _pickle_noticed = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=False)
    except ModuleNotFoundError as e:
        raise ExportError(f"{path}: its pickled objects need the Python module {e.name!r}, which is "
                          "not installed (or save state dicts instead)") from None
    except Exception as e:
        raise ExportError(f"{path}: cannot unpickle it ({type(e).__name__}: "
                          f"{str(e).splitlines()[0][:160]})") from None


def _is_tensor_dict(obj: Any) -> bool:
    return isinstance(obj, Mapping) and len(obj) > 0 and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def _clean_state(state: Mapping[str, torch.Tensor]) -> OrderedDict:
    """A state dict without DataParallel's ``module.`` prefix."""
    prefix = "module."
    if all(k.startswith(prefix) for k in state):
        return OrderedDict((k[len(prefix):], v) for k, v in state.items())
    return OrderedDict(state)


@dataclasses.dataclass
class Component:
    """G, C or D as read from a file: a state dict or a whole module."""

    role: str
    origin: str
    state: OrderedDict | None = None
    module: nn.Module | None = None


def _component(obj: Any, role: str, origin: str) -> Component:
    if isinstance(obj, nn.Module):
        return Component(role, origin, module=obj)
    if isinstance(obj, Mapping) and "state_dict" in obj and _is_tensor_dict(obj["state_dict"]):
        obj = obj["state_dict"]
    if _is_tensor_dict(obj):
        return Component(role, origin, state=_clean_state(obj))
    raise ExportError(f"{origin}: expected a state dict or an nn.Module for {role}, found "
                      f"{type(obj).__name__}")


def _split_container(obj: Any, path: str) -> dict[str, Component]:
    """G, C, D of a pytorch-adapt ``Models`` container (pickled) or of its ``state_dict()``
    (``{"G": {...}, "C": {...}, "D": {...}}``, also under a ``"models"`` key)."""
    if isinstance(obj, Mapping) and "models" in obj and isinstance(obj["models"], Mapping):
        obj = obj["models"]
    if not isinstance(obj, Mapping) or "G" not in obj:
        keys = list(obj.keys())[:8] if isinstance(obj, Mapping) else type(obj).__name__
        raise ExportError(f"{path}: expected a pytorch-adapt Models container or its state_dict() "
                          f"with keys G, C, D; found {keys}")
    return {r: _component(obj[r], r, f"{path}[{r}]") for r in ROLES if obj.get(r) is not None}


@dataclasses.dataclass
class CheckpointFiles:
    """The files of one checkpoint: ``G``/``C``/``D`` files, or one ``models`` container file."""

    files: dict[str, str]

    @staticmethod
    def in_folder(folder: str, container_ok: bool = True) -> "CheckpointFiles | None":
        """G.pt (+ C.pt, D.pt) in ``folder``, or its only checkpoint file as a container."""
        found: dict[str, str] = {}
        for role in ROLES:
            for ext in CHECKPOINT_EXTS:
                p = os.path.join(folder, role + ext)
                if os.path.isfile(p):
                    found[role] = p
                    break
        if "G" in found:
            return CheckpointFiles(found)
        if found:
            raise ExportError(f"{folder}: has {_few(os.path.basename(p) for p in found.values())} "
                              "but no G.pt")
        if container_ok:
            pts = sorted(f for f in os.listdir(folder) if f.endswith(CHECKPOINT_EXTS))
            if len(pts) == 1:
                return CheckpointFiles({"models": os.path.join(folder, pts[0])})
        return None

    def sha256(self) -> str:
        """One hash over every file's role and content hash."""
        h = hashlib.sha256()
        for role in sorted(self.files):
            h.update(f"{role}:{_file_sha256(self.files[role])}\n".encode())
        return h.hexdigest()

    def describe(self) -> dict:
        return {role: os.path.basename(p) for role, p in sorted(self.files.items())}

    def read(self) -> dict[str, Component]:
        if "models" in self.files:
            return _split_container(_torch_load(self.files["models"]), self.files["models"])
        return {r: _component(_torch_load(p), r, p) for r, p in self.files.items()}


@functools.lru_cache(maxsize=256)
def _file_sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _file_sha256(path: str) -> str:
    st = os.stat(path)
    return _file_sha256_cached(os.path.abspath(path), st.st_size, st.st_mtime_ns)


# --------------------------------------------------------------------------------------------
# Building G, C and D
# --------------------------------------------------------------------------------------------
class BackboneFactory:
    """Creates backbones. One pristine instance per (architecture, classifier width) is created
    once (with ``pretrained=False``: nothing is downloaded) and copied for every checkpoint, so a
    study of many epochs builds each timm model once."""

    def __init__(self, input_size: Callable[[str], int] | None = None):
        self._pristine: dict[tuple[str, int | None], nn.Module] = {}
        self._dims: dict[tuple[str, int | None], int] = {}
        self.input_size = input_size or (lambda arch: int(arch_config(arch)["input_size"]))

    def _skeleton(self, arch: str, num_classes: int | None) -> nn.Module:
        key = (arch, num_classes)
        if key not in self._pristine:
            if arch in DEMO_ARCHS:
                m = DEMO_ARCHS[arch]()
            else:
                m = _timm_model(arch, **({} if num_classes is None else {"num_classes": num_classes}))
            self._pristine[key] = m.eval()
        return self._pristine[key]

    def new(self, arch: str, num_classes: int | None = 0) -> nn.Module:
        """A fresh backbone in eval mode; ``num_classes`` 0 removes timm's classifier (G(x) is
        then the pooled pre-logits feature), None keeps timm's default head."""
        return copy.deepcopy(self._skeleton(arch, num_classes))

    def head_prefix(self, arch: str) -> str | None:
        """State-dict prefix of timm's classifier (``classifier.``, ``head.``, ``head.fc.``)."""
        if arch in DEMO_ARCHS:
            return None
        m = self._skeleton(arch, None)
        clf = m.get_classifier() if hasattr(m, "get_classifier") else None
        for name, mod in m.named_modules():
            if mod is clf and name:
                return name + "."
        return None

    def output_dim(self, arch: str, num_classes: int | None) -> int:
        """Width of G(x) for this construction (one forward pass in eval mode, cached)."""
        key = (arch, num_classes)
        if key not in self._dims:
            self._dims[key] = embedding_dim(self._skeleton(arch, num_classes),
                                            self.input_size(arch))
        return self._dims[key]


def create_backbone(arch: str, checkpoint: str | None = None, pretrained_file: str | None = None):
    """Backbone G (library use). Demo archs are built here; any other name is a timm model created
    with ``pretrained=False`` unless ``pretrained_file`` names local weights; ``checkpoint`` is a
    G.pt state dict. The timm classifier is kept (call ``reset_classifier(0)`` to remove it)."""
    if arch in DEMO_ARCHS:
        g = DEMO_ARCHS[arch]()
    else:
        import timm

        kwargs = {"pretrained_cfg_overlay": {"file": pretrained_file}} if pretrained_file else {}
        g = timm.create_model(arch, pretrained=bool(pretrained_file), **kwargs)
    if checkpoint:
        comp = _component(_torch_load(checkpoint), "G", checkpoint)
        if comp.module is not None:
            return comp.module
        g, _ = _backbone_from_state(comp, arch, BackboneFactory(), None)
    return g


def _check_keys(g: nn.Module, state: Mapping[str, torch.Tensor], origin: str, arch: str) -> None:
    """One-line error for a state dict that does not fit ``g`` (missing, unexpected, reshaped)."""
    want = g.state_dict()
    optional = {k for k in want if k.endswith("num_batches_tracked")}  # unused in eval mode
    missing = [k for k in want if k not in state and k not in optional]
    unexpected = [k for k in state if k not in want]
    reshaped = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in want.items()
                if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if missing or unexpected or reshaped:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys ({_few(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys ({_few(unexpected)})")
        if reshaped:
            parts.append(f"{len(reshaped)} of another shape ({_few(reshaped, 2)})")
        raise ExportError(f"{origin} does not fit --arch {arch}: " + "; ".join(parts)
                          + ". Is --arch the architecture the checkpoint was trained with?")


def _mlp(sizes, dropout: float) -> nn.Sequential:
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class Head(nn.Module):
    """An MLP kept under ``.net`` so state-dict keys read ``net.<i>.weight`` (as pytorch-adapt's
    ``Classifier`` and ``Discriminator``)."""

    def __init__(self, net: nn.Sequential):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)


def make_classifier(in_dim: int, num_classes: int, width: int = 1024, dropout: float = 0.5):
    """Classifier C: in_dim -> width -> width/2 -> num_classes (ReLU + Dropout)."""
    return Head(_mlp([in_dim, width, width // 2, num_classes], dropout))


def make_discriminator(in_dim: int, width: int = 256):
    """Discriminator D: in_dim -> width -> width -> 1 (ReLU)."""
    return Head(_mlp([in_dim, width, width, 1], 0.0))


_HEAD_KEY = re.compile(r"^(?P<prefix>(?:.*\.)?)(?P<index>\d+)\.(?P<param>weight|bias)$")


def head_from_state(state: Mapping[str, torch.Tensor], what: str) -> Head:
    """Rebuilds an MLP head (C or D) from its state dict: Linear layers at the indices of the
    ``<prefix><i>.weight`` keys (``net.<i>`` for pytorch-adapt's Classifier / Discriminator and
    this exporter's heads); between them ReLU, and Dropout/Identity where indices leave gaps (both
    are identities at inference)."""
    idx: dict[int, dict[str, torch.Tensor]] = {}
    prefixes = set()
    for k, v in state.items():
        m = _HEAD_KEY.match(k)
        if not m:
            raise ExportError(f"{what}: expected the keys of an MLP (net.<i>.weight / bias, as "
                              f"pytorch-adapt's Classifier and Discriminator), found {k!r}; save "
                              "the whole module instead")
        prefixes.add(m["prefix"])
        idx.setdefault(int(m["index"]), {})[m["param"]] = v
    if len(prefixes) > 1:
        raise ExportError(f"{what}: expected one MLP, found keys under {sorted(prefixes)}")
    order = sorted(idx)
    if not order:
        raise ExportError(f"{what}: empty state dict")
    layers: list[nn.Module] = [nn.Identity() for _ in range(order[-1] + 1)]
    for j, i in enumerate(order):
        w = idx[i].get("weight")
        if w is None or w.ndim != 2:
            raise ExportError(f"{what}: layer {i} has no 2-D weight (found "
                              f"{None if w is None else tuple(w.shape)})")
        layers[i] = nn.Linear(w.shape[1], w.shape[0], bias="bias" in idx[i])
        if j + 1 < len(order):
            if i + 1 >= order[j + 1]:
                raise ExportError(f"{what}: no room for an activation between layers {i} and "
                                  f"{order[j + 1]}")
            layers[i + 1] = nn.ReLU()
    head = Head(nn.Sequential(*layers))
    head.net.load_state_dict({f"{i}.{p}": v for i, ps in idx.items() for p, v in ps.items()})
    return head


def _linears(head: nn.Module) -> list[nn.Linear]:
    return [m for m in head.modules() if isinstance(m, nn.Linear)]


def in_features(head: nn.Module) -> int | None:
    """Input width of the first Linear layer of a head (None when it has none)."""
    lin = _linears(head)
    return lin[0].in_features if lin else None


def out_features(head: nn.Module) -> int | None:
    lin = _linears(head)
    return lin[-1].out_features if lin else None


@torch.no_grad()
def embedding_dim(g: nn.Module, input_size: int, embedding: str = "g-output") -> int:
    """Width of G(x) (or of the pre-logits feature), from one forward pass in eval mode; the
    modules' own modes are restored afterwards."""
    with eval_mode(g):
        x = torch.zeros(1, 3, input_size, input_size)
        return int(_g_outputs(g, x, embedding)[0].shape[1])


def _g_outputs(g: nn.Module, x: torch.Tensor, embedding: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(embedding, G(x)) by the definition: G(x) is the module's own call."""
    gx = g(x)
    if not isinstance(gx, torch.Tensor) or gx.ndim != 2:
        raise ExportError(f"G(x) must be one [N, D] tensor, found "
                          f"{tuple(gx.shape) if isinstance(gx, torch.Tensor) else type(gx).__name__}")
    if embedding == "g-output":
        return gx, gx
    return g.forward_head(g.forward_features(x), pre_logits=True).flatten(1), gx


@dataclasses.dataclass
class Parts:
    """G, C and D of one model, in eval mode, and what the ``embedding`` output is."""

    g: nn.Module
    c: nn.Module | None
    d: nn.Module | None
    embedding: str = "g-output"

    def __post_init__(self):
        if self.embedding not in EMBEDDINGS:
            raise ExportError(f"--embedding must be one of {EMBEDDINGS}, found {self.embedding!r}")
        if self.embedding == "pre-logits" and not hasattr(self.g, "forward_head"):
            raise ExportError("--embedding pre-logits needs a timm backbone (forward_features / "
                              "forward_head)")
        for m in (self.g, self.c, self.d):
            if m is not None:
                m.eval()

    @property
    def names(self) -> list[str]:
        """The graph's outputs, in the contract's order."""
        present = {"embedding": True, "logits": self.c is not None,
                   "domain_logits": self.d is not None}
        return [n for n in CONTRACT_OUTPUTS if present[n]]

    @torch.no_grad()
    def outputs(self, x: torch.Tensor) -> dict[str, np.ndarray]:
        """The contract's outputs by their definition (embedding, C(G(x)), D(G(x)))."""
        emb, gx = _g_outputs(self.g, x, self.embedding)
        out = {"embedding": emb}
        if self.c is not None:
            out["logits"] = self.c(gx)
        if self.d is not None:
            out["domain_logits"] = self.d(gx).reshape(gx.shape[0], -1)
        return {k: v.float().numpy() for k, v in out.items()}


def load_parts(ckpt: CheckpointFiles, arch: str, factory: BackboneFactory,
               embedding: str = "g-output", use_d: bool = True) -> Parts:
    """New G, C, D modules built from the checkpoint files on disk, in eval mode.

    G(x) must be the tensor C and D take: a G state dict holding the timm classifier's weights
    keeps that head (ResMLP after ``G.classifier = nn.Identity()``, which does not touch its
    ``head``); one without removes it (MobileNetV3 after the same line). When C and D take the
    other width, the other construction is used, with a notice."""
    comps = ckpt.read()
    c = _head(comps.get("C"))
    d = _head(comps.get("D")) if use_d else None
    if d is not None and out_features(d) not in (None, 1):
        raise ExportError(f"{comps['D'].origin}: a discriminator has one output, this one has "
                          f"{out_features(d)}")
    widths = {comps[r].origin: in_features(h) for r, h in (("C", c), ("D", d))
              if h is not None and in_features(h) is not None}
    if len(set(widths.values())) > 1:
        raise ExportError(f"C and D take inputs of different widths: {widths}")
    need = next(iter(widths.values()), None)
    gc = comps["G"]
    if gc.module is not None:
        g = gc.module.eval()
        width = embedding_dim(g, factory.input_size(arch))
    else:
        g, width = _backbone_from_state(gc, arch, factory, need)
    if need is not None and width != need:
        hint = " (a whole module)" if gc.module is not None else f" built as --arch {arch}"
        raise ExportError(f"{_few(widths)} take {need}-d inputs, but G(x) of {gc.origin}{hint} "
                          f"is {width}-d")
    return Parts(g, c, d, embedding)


def _head(comp: Component | None) -> nn.Module | None:
    if comp is None:
        return None
    if comp.module is not None:
        return comp.module.eval()
    return head_from_state(comp.state, comp.origin).eval()


def _backbone_from_state(comp: Component, arch: str, factory: BackboneFactory,
                         need: int | None) -> tuple[nn.Module, int]:
    prefix = factory.head_prefix(arch)
    state = comp.state
    head_keys = [k for k in state if prefix and k.startswith(prefix)]
    options: list[int] = []
    if head_keys:
        w = state.get(prefix + "weight")
        if w is None or w.ndim < 1:
            raise ExportError(f"{comp.origin}: has classifier keys {_few(head_keys)} but no "
                              f"{prefix}weight")
        options.append(int(w.shape[0]))
    options.append(0)
    chosen = options[0]
    if need is not None:
        fits = [n for n in options if factory.output_dim(arch, n) == need]
        chosen = fits[0] if fits else options[0]
    if chosen == 0 and head_keys:
        note(f"{comp.origin} holds the classifier {prefix}* ({options[0]} outputs), but C and D "
             f"take the {need}-d pre-logits feature: the head was not part of G, so it is left out")
        state = OrderedDict((k, v) for k, v in state.items() if k not in head_keys)
    g = factory.new(arch, chosen)
    _check_keys(g, state, comp.origin, arch)
    g.load_state_dict(state, strict=False)
    return g.eval(), factory.output_dim(arch, chosen)


def random_parts(arch: str, factory: BackboneFactory, num_classes: int, head_width: int,
                 disc_width: int, embedding: str) -> Parts:
    """G with its classifier removed, random C and D (no checkpoint)."""
    g = factory.new(arch, 0)
    width = factory.output_dim(arch, 0)
    c = make_classifier(width, num_classes, head_width) if num_classes > 0 else None
    d = make_discriminator(width, disc_width) if disc_width > 0 else None
    return Parts(g, c, d, embedding)


# --------------------------------------------------------------------------------------------
# The graph, its self-check and its verification
# --------------------------------------------------------------------------------------------
class ContractGraph(nn.Module):
    """image -> (embedding, logits, domain_logits) as the contract names them."""

    def __init__(self, parts: Parts):
        super().__init__()
        self.g, self.c, self.d = parts.g, parts.c, parts.d
        self.pre_logits = parts.embedding == "pre-logits"

    def forward(self, image):
        if self.pre_logits:  # one backbone pass for both the pre-logits feature and G(x)
            f = self.g.forward_features(image)
            emb, gx = self.g.forward_head(f, pre_logits=True).flatten(1), self.g.forward_head(f)
        else:
            gx = self.g(image)
            emb = gx
        outs = [emb]
        if self.c is not None:
            outs.append(self.c(gx))
        if self.d is not None:
            outs.append(self.d(gx).reshape(-1, 1))
        return tuple(outs)


def selfcheck_input(size: int, batch: int = SELFCHECK_BATCH) -> np.ndarray:
    """float32 [batch, 3, size, size] with x[n][c][y][x] = (((7n + 13c + 3y + 5x) % 17) - 8) / 4:
    multiples of 1/4 in [-2, 2], exact in float32, computed the same way on every side."""
    n, c, y, x = np.meshgrid(np.arange(batch), np.arange(3), np.arange(size), np.arange(size),
                             indexing="ij")
    return ((((7 * n + 13 * c + 3 * y + 5 * x) % 17) - 8) / 4).astype(np.float32)


def _rows(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32).reshape(a.shape[0], -1)


def selfcheck_record(outputs: Mapping[str, np.ndarray], size: int) -> dict:
    """The ``dannscope.selfcheck`` value: per output its [batch, K] shape (rows flattened), the
    first min(8, K) values of each row and each row's L2 norm (float64 of the float32 values)."""
    rec = {}
    for name, a in outputs.items():
        r = _rows(a)
        rec[name] = {
            "shape": [int(r.shape[0]), int(r.shape[1])],
            "head": [[float(v) for v in row[:SELFCHECK_HEAD]] for row in r],
            "norm": [float(v) for v in np.linalg.norm(r.astype(np.float64), axis=1)],
        }
    return {"version": 1, "batch": SELFCHECK_BATCH, "size": int(size), "outputs": rec}


def selfcheck_deviation(record: Mapping, got: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Per output, the largest per-row rel = max(max|head diff|, |norm diff|) / max(norm, 1) of
    outputs ``got`` against a self-check record (dannscope's rule; it refuses rel > 1e-2)."""
    dev = {}
    for name, exp in record["outputs"].items():
        r = _rows(got[name]).astype(np.float64)
        if [int(v) for v in r.shape] != exp["shape"]:
            raise RuntimeError(f"self-check: {name} has shape {list(r.shape)}, expected "
                               f"{exp['shape']}")
        worst = 0.0
        for row, head, norm in zip(r, exp["head"], exp["norm"]):
            d_head = float(np.max(np.abs(row[:len(head)] - np.asarray(head))))
            d_norm = abs(float(np.linalg.norm(row)) - norm)
            worst = max(worst, max(d_head, d_norm) / max(norm, 1.0))
        dev[name] = worst
    return dev


def row_deviation(ref: np.ndarray, got: np.ndarray) -> float:
    """Largest per-row max|diff| / max(row norm, 1)."""
    r, g = _rows(ref).astype(np.float64), _rows(got).astype(np.float64)
    norms = np.maximum(np.linalg.norm(r, axis=1), 1.0)
    return float(np.max(np.max(np.abs(r - g), axis=1) / norms)) if r.size else 0.0


def eval_transform(config: Mapping):
    """timm's eval transform of a preprocessing config (PIL image -> normalised tensor)."""
    import timm.data

    size = int(config["input_size"])
    return timm.data.create_transform(
        input_size=(3, size, size), is_training=False, crop_pct=float(config["crop_pct"]),
        interpolation=config["interpolation"], mean=tuple(config["mean"]),
        std=tuple(config["std"]))


def list_images(root: str) -> list[str]:
    """Image files of a ``<root>/<Domain>/<Class>/<file>`` dataset, sorted."""
    out = []
    for dom in sorted(os.listdir(root)):
        for cls in sorted(os.listdir(os.path.join(root, dom))) if os.path.isdir(
                os.path.join(root, dom)) else []:
            cdir = os.path.join(root, dom, cls)
            if os.path.isdir(cdir):
                out += [os.path.join(cdir, f) for f in sorted(os.listdir(cdir))
                        if os.path.splitext(f)[1].lower() in IMAGE_EXTS and not f.startswith(".")]
    return out


class ImageBatches:
    """A few real images of the data root (evenly spread over the sorted list), preprocessed once
    per preprocessing config with PIL and timm's eval transform."""

    def __init__(self, root: str | None, count: int):
        self.paths: list[str] = []
        if root:
            if not os.path.isdir(root):
                raise ExportError(f"--data {root}: no such folder")
            every = list_images(root)
            if not every:
                raise ExportError(f"--data {root}: expected <Domain>/<Class>/<image files>, "
                                  "found no images")
            k = min(count, len(every))
            self.paths = [every[int(i * len(every) / k)] for i in range(k)] if k else []
        self._cache: dict[str, torch.Tensor] = {}

    def batch(self, config: Mapping) -> torch.Tensor | None:
        if not self.paths:
            return None
        key = json.dumps(dict(config), sort_keys=True, default=list)
        if key not in self._cache:
            from PIL import Image

            tf = eval_transform(config)
            xs = []
            for p in self.paths:
                with Image.open(p) as im:
                    xs.append(tf(im.convert("RGB")))
            self._cache[key] = torch.stack(xs)
        return self._cache[key]


def verify(path: str, reference: Parts, size: int, images: torch.Tensor | None,
           selfcheck: Mapping) -> dict[str, float]:
    """Runs the ONNX file with onnxruntime on the self-check batch, a seeded random batch of 3
    and the real images, against ``reference`` (a fresh load); returns the largest per-row
    deviation per batch and the self-check's, and raises above ``VERIFY_TOL``."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    batches = {"fixed": torch.from_numpy(selfcheck_input(size)),
               "random": torch.randn(3, 3, size, size, generator=torch.Generator().manual_seed(0))}
    if images is not None:
        batches["images"] = images
    report = {}
    for label, x in batches.items():
        ref = reference.outputs(x)
        got = dict(zip(names, sess.run(None, {sess.get_inputs()[0].name: x.numpy()})))
        for name in names:
            if got[name].shape != ref[name].shape:
                raise ExportError(f"{name} has shape {got[name].shape} in onnxruntime, "
                                  f"{ref[name].shape} in PyTorch; no file written")
        report[label] = max(row_deviation(ref[n], got[n]) for n in names)
        if label == "fixed":
            report["selfcheck"] = max(selfcheck_deviation(selfcheck, got).values())
    if not all(math.isfinite(v) and v <= VERIFY_TOL for v in report.values()):
        raise ExportError(f"onnxruntime's outputs differ from PyTorch's (the reference): largest "
                          f"per-row deviation {report}, accepted {VERIFY_TOL}; no file written")
    return report


# --------------------------------------------------------------------------------------------
# Writing ONNX files
# --------------------------------------------------------------------------------------------
class OnnxWriter:
    """Exports ContractGraphs with torch's dynamo exporter (the TorchScript one as a fallback).
    The unoptimised graph of each structure is kept, and a later model of the same structure (the
    next epoch of a run) gets it with its own weights swapped in, then optimised: about 1 s
    instead of 10 s. Every file is verified afterwards, whichever way it was made."""

    def __init__(self, opset: int = 18, dynamo: bool = True, quiet: bool = False):
        self.opset, self.dynamo, self.quiet = opset, dynamo, quiet
        self._templates: dict[str, Any] = {}

    @staticmethod
    def _signature(graph: nn.Module, size: int) -> str:
        shapes = [(k, tuple(v.shape), str(v.dtype)) for k, v in graph.state_dict().items()]
        return hashlib.sha256(repr((repr(graph), shapes, size)).encode()).hexdigest()

    def forget(self, graph: nn.Module, size: int) -> None:
        """Drops the kept graph of this structure: the next write traces anew."""
        self._templates.pop(self._signature(graph, size), None)

    @staticmethod
    def _sample(size: int) -> torch.Tensor:
        # A private generator: exporting must not advance the global RNG of a training run.
        return torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0))

    def write(self, graph: nn.Module, path: str, names: list[str], size: int) -> str:
        """Writes the graph to ``path``; returns how (``dynamo``, ``dynamo+swap``, ``legacy``)."""
        if self.dynamo:
            sig = self._signature(graph, size)
            if self._templates.get(sig) is not None and self._swap(self._templates[sig], graph, path):
                return "dynamo+swap"
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._dynamo(graph, path, names, size, sig)
                return "dynamo"
            except Exception as e:  # fall back to the TorchScript exporter
                if not self.quiet:
                    note(f"dynamo export failed ({type(e).__name__}: {str(e)[:200]}); using the "
                         "legacy exporter")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                graph, (self._sample(size),), path, dynamo=False, opset_version=self.opset,
                input_names=["image"], output_names=list(names),
                dynamic_axes={"image": {0: "N"}, **{n: {0: "N"} for n in names}})
        return "legacy"

    def _dynamo(self, graph, path, names, size, sig) -> None:
        batch = torch.export.Dim("batch", min=1, max=4096)
        prog = torch.onnx.export(
            graph, (self._sample(size),), None, dynamo=True, opset_version=self.opset,
            input_names=["image"], output_names=list(names),
            dynamic_shapes={"image": {0: batch}}, verbose=False, optimize=False)
        template = None
        try:
            import onnx_ir as ir

            state = graph.state_dict()
            if all(k in state for k in prog.model.graph.initializers):
                template = ir.serde.serialize_model(prog.model)
        except Exception:  # no weight swapping for this graph
            template = None
        self._templates[sig] = template
        prog.optimize()
        prog.save(path)

    def _swap(self, template, graph: nn.Module, path: str) -> bool:
        if template is None:
            return False
        try:
            import onnx_ir as ir
            from torch.onnx._internal.exporter._onnx_program import ONNXProgram

            prog = ONNXProgram(ir.serde.deserialize_model(template), None)
            state = graph.state_dict()
            prog.apply_weights({k: state[k] for k in prog.model.graph.initializers})
            prog.optimize()
            prog.save(path)
            return True
        except Exception as e:
            if not self.quiet:
                note(f"reusing the traced graph failed ({type(e).__name__}: {str(e)[:120]}); "
                     "exporting anew")
            return False


def _finish(path: str, names: list[str], meta: Mapping[str, str]) -> None:
    """Checks the exported graph's interface and writes metadata_props into one file."""
    import onnx

    model = onnx.load(path, load_external_data=True)
    inits = {t.name for t in model.graph.initializer}
    ins = [i for i in model.graph.input if i.name not in inits]
    if len(ins) != 1:
        raise RuntimeError(f"expected exactly one graph input, found {[i.name for i in ins]}")
    dims = ins[0].type.tensor_type.shape.dim
    if len(dims) != 4 or not dims[0].dim_param:
        raise RuntimeError(f"expected input [N,3,H,W] with a symbolic N, found {dims}")
    outs = [o.name for o in model.graph.output]
    if outs != list(names):
        raise RuntimeError(f"expected outputs {list(names)}, found {outs}")
    # Exporter stack traces hold local file paths: drop them, keep the rest.
    for n in model.graph.node:
        n.doc_string = ""
        keep = [q for q in n.metadata_props if q.key != "pkg.torch.onnx.stack_trace"]
        del n.metadata_props[:]
        n.metadata_props.extend(keep)
    del model.metadata_props[:]
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(model, path, save_as_external_data=False)
    data = path + ".data"
    if os.path.exists(data):
        os.remove(data)
    onnx.checker.check_model(path)


def contract_metadata(*, arch: str, config: Mapping, embedding: str = "g-output",
                      classes=None, source=None, target=None, epoch=None,
                      checkpoint: CheckpointFiles | None = None,
                      checkpoint_info: Mapping | None = None) -> dict[str, str]:
    """The ``dannscope.*`` metadata of a model, without the self-check."""
    interp = config["interpolation"]
    if interp not in INTERPOLATIONS:
        raise ExportError(f"interpolation must be one of {INTERPOLATIONS}, found {interp!r}")
    meta = {
        "dannscope.arch": arch,
        "dannscope.input_size": str(int(config["input_size"])),
        "dannscope.crop_pct": repr(float(config["crop_pct"])),
        "dannscope.interpolation": interp,
        "dannscope.mean": ",".join(repr(float(v)) for v in config["mean"]),
        "dannscope.std": ",".join(repr(float(v)) for v in config["std"]),
        "dannscope.embedding": embedding,
    }
    if classes is not None:
        meta["dannscope.classes"] = json.dumps(list(classes))
    if source is not None:
        meta["dannscope.source"] = str(source)
    if target is not None:
        meta["dannscope.target"] = str(target)
    if epoch is not None:
        meta["dannscope.epoch"] = str(int(epoch))
    if checkpoint is not None:
        meta["dannscope.checkpoint_sha256"] = checkpoint.sha256()
        meta["dannscope.checkpoint"] = json.dumps(
            {"files": checkpoint.describe(), **dict(checkpoint_info or {})}, sort_keys=True)
    return meta


def _exporter_stamp(how: str) -> str:
    import importlib.metadata as md

    def ver(p):
        try:
            return md.version(p)
        except md.PackageNotFoundError:
            return "none"
    return json.dumps({"exporter": f"models/export_onnx.py {EXPORTER_VERSION}", "how": how,
                       "torch": torch.__version__, "timm": ver("timm")}, sort_keys=True)


def read_metadata(path: str) -> dict[str, str] | None:
    """The metadata_props of an ONNX file (None when it is not a readable ONNX file)."""
    import onnx

    try:
        model = onnx.load(path, load_external_data=False)
    except Exception:
        return None
    return {p.key: p.value for p in model.metadata_props}


def is_unchanged(path: str, meta: Mapping[str, str]) -> bool:
    """Whether ``path`` was exported from the same checkpoint files with the same settings."""
    if not os.path.isfile(path):
        return False
    old = read_metadata(path)
    if old is None or "dannscope.selfcheck" not in old:
        return False
    keys = (set(old) | set(meta)) - set(_VOLATILE_META)
    return all(old.get(k) == meta.get(k) for k in keys)


def export_parts(parts: Parts, path: str, *, meta: Mapping[str, str], size: int,
                 reference: Parts | None = None, images: torch.Tensor | None = None,
                 writer: OnnxWriter | None = None, check: bool = True) -> dict:
    """Exports ``parts`` to ``path`` with ``meta`` and a self-check computed on ``reference`` (a
    fresh load of the same checkpoint; without one, a copy taken before any export step), then
    verifies the file with onnxruntime against ``reference``. Writes next to the destination and
    renames, so a failed export leaves no partial file."""
    writer = writer or OnnxWriter()
    if reference is None:
        reference = Parts(*(copy.deepcopy(m) for m in (parts.g, parts.c, parts.d)),
                          embedding=parts.embedding)
    names = parts.names
    expected = reference.outputs(torch.from_numpy(selfcheck_input(size)))
    selfcheck = selfcheck_record(expected, size)
    with eval_mode(parts.g, parts.c, parts.d):
        graph = ContractGraph(parts).eval()
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=folder, prefix=".export-")
        os.close(fd)
        try:
            t0 = time.perf_counter()
            for attempt in (1, 2):
                how = writer.write(graph, tmp, names, size)
                full = {**meta, "dannscope.selfcheck": json.dumps(selfcheck),
                        "dannscope.exporter": _exporter_stamp(how)}
                _finish(tmp, names, full)
                t_export = time.perf_counter() - t0
                try:
                    diffs = verify(tmp, reference, size, images, selfcheck) if check else {}
                    break
                except ExportError:
                    if how != "dynamo+swap" or attempt == 2:
                        raise
                    writer.forget(graph, size)  # trace this model anew, then check again
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        finally:
            for p in (tmp, tmp + ".data"):
                if os.path.exists(p):
                    os.remove(p)
    return {"path": path, "exporter": how, "outputs": names,
            "embedding_dim": int(expected["embedding"].shape[1]), "deviation": diffs,
            "export_s": t_export}


# One writer per setting for library use, so that a training run exporting every epoch reuses
# the traced graph of its first export.
_LIBRARY_WRITERS: dict[tuple[int, bool, bool], OnnxWriter] = {}


def export_model(g, c, d, path, *, arch, config, classes=None, source=None, target=None,
                 epoch=None, embedding="g-output", opset=18, dynamo=True, check=True,
                 quiet=False) -> dict:
    """Library entry (train_dann.py): exports in-memory modules G (+C, +D) to ``path`` per the
    contract. The modules' train/eval modes are restored afterwards; the reference of the
    self-check and of the verification is a copy of the modules taken before any export step."""
    with eval_mode(g, c, d):
        reference = Parts(*(copy.deepcopy(m) for m in (g, c, d)), embedding=embedding)
        parts = Parts(g, c, d, embedding)
        meta = contract_metadata(arch=arch, config=config, embedding=embedding, classes=classes,
                                 source=source, target=target, epoch=epoch)
        _check_classes(classes, parts.c, "C")
        key = (opset, dynamo, quiet)
        writer = _LIBRARY_WRITERS.setdefault(key, OnnxWriter(*key))
        info = export_parts(parts, path, meta=meta, size=int(config["input_size"]),
                            reference=reference, writer=writer, check=check)
    if not quiet:
        print(_summary(info))
    return info


def _check_classes(classes, c: nn.Module | None, what: str) -> None:
    if classes is not None and c is not None:
        n_out = out_features(c)
        if n_out is not None and len(classes) != n_out:
            raise ExportError(f"--classes names {len(classes)} classes, {what} has {n_out} outputs")


def _summary(info: Mapping) -> str:
    dev = info["deviation"]
    return (f"exported {info['path']} ({info['exporter']}, outputs {info['outputs']}, embedding "
            f"{info['embedding_dim']}-d, {info['export_s']:.1f} s; largest per-row deviation of "
            f"onnxruntime from the PyTorch reference: "
            + (", ".join(f"{k} {v:.1e}" for k, v in dev.items()) or "not checked")
            + ")")


# --------------------------------------------------------------------------------------------
# Run trees
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Epoch:
    """One checkpoint of a run tree and where its ONNX file goes."""

    folder: str
    ckpt: CheckpointFiles
    arch: str
    source: str
    target: str
    epoch: int
    acc: str | None
    auroc: str | None

    @property
    def pair(self) -> str:
        return f"{self.source}-{self.target}"

    @property
    def run_name(self) -> str:
        return f"{self.arch}_{_safe(self.source)}-{_safe(self.target)}"

    def out_path(self, out: str) -> str:
        return os.path.join(out, self.run_name, f"{self.run_name}_ep{self.epoch:02d}.onnx")


def _safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", s).strip("._") or "x"


def find_epochs(root: str, pattern: str, arch: str | None, source: str | None,
                target: str | None) -> list[Epoch]:
    """Every checkpoint folder under ``root`` (one holding G.pt, or only one checkpoint file
    whose path matches ``pattern``), with arch, pair, epoch, acc and auroc parsed from its path
    (``pattern`` is searched in the '/'-separated absolute path; flags fill what it lacks)."""
    if not os.path.isdir(root):
        raise ExportError(f"--run-tree {root}: no such folder")
    try:
        rx = re.compile(pattern)
    except re.error as e:
        raise ExportError(f"--pattern {pattern!r}: not a regular expression ({e})") from None
    found = []
    for dirpath, dirnames, _ in os.walk(root):
        dirnames.sort()
        full = os.path.abspath(dirpath).replace(os.sep, "/")
        m = rx.search(full)
        ckpt = CheckpointFiles.in_folder(dirpath, container_ok=m is not None)
        if ckpt is None:
            continue
        dirnames[:] = []  # an epoch folder's subfolders are not epochs
        groups = {k: v for k, v in (m.groupdict() if m else {}).items() if v is not None}
        a = arch or groups.get("arch")
        s, t = groups.get("source", source), groups.get("target", target)
        if m is None or "epoch" not in groups or s is None or t is None:
            raise ExportError(
                f"{dirpath}: cannot tell its {'epoch' if m and s and t else 'pair and epoch'} from "
                f"the path; expected .../<arch>_src(S)_tgt(T)/<EE>_acc<NN>_auroc<NN> (or give "
                f"--pattern with groups source, target, epoch; or --source and --target)")
        if a is None:
            raise ExportError(f"{dirpath}: the path names no architecture; pass --arch")
        if arch is None and not known_arch(a):
            raise ExportError(f"{dirpath}: {a!r} (from the folder name) is not a timm model name; "
                              "pass --arch")
        found.append(Epoch(dirpath, ckpt, a, s, t, int(groups["epoch"]), groups.get("acc"),
                           groups.get("auroc")))
    if not found:
        raise ExportError(f"--run-tree {root}: expected folders holding G.pt, C.pt, D.pt (or one "
                          "Models file), found none")
    seen: dict[tuple, str] = {}
    for e in found:
        key = (e.run_name, e.epoch)
        if key in seen:
            raise ExportError(f"{seen[key]} and {e.folder} are both epoch {e.epoch} of "
                              f"{e.run_name}")
        seen[key] = e.folder
    return sorted(found, key=lambda e: (e.run_name, e.epoch))


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=True)  # a TOML basic string


def write_project(path: str, runs: Mapping[str, list[tuple[Epoch, str]]], data: str | None,
                  group: str | None, tree: str) -> None:
    """``dannscope.toml`` with one ``[[run]]`` per pair: the last epoch as ``model``, the folder of
    every epoch as ``checkpoints`` (the evolution figure). Paths are relative to its folder."""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            if not f.read().startswith(TOML_HEADER):
                raise ExportError(f"{path}: exists and was not written by this exporter; pass "
                                  "--toml with another path (or remove it)")
    base = os.path.dirname(os.path.abspath(path))

    def rel(p: str) -> str:
        return os.path.relpath(os.path.abspath(p), base).replace(os.sep, "/")

    lines = [f"{TOML_HEADER} {tree}; rerunning it rewrites this file.",
             f"# Next: dannscope report --config {path}" + ("" if data else " --data DATA"), ""]
    if data:
        lines += [f"data = {_toml_str(rel(data))}", ""]
    for name, epochs in sorted(runs.items()):
        last, last_path = epochs[-1]
        lines.append("# epochs: " + ", ".join(
            f"{e.epoch}" + (f" (acc {e.acc}" + (f", auroc {e.auroc}" if e.auroc else "") + ")"
                            if e.acc else "") for e, _ in epochs))
        lines += ["[[run]]", f"model = {_toml_str(rel(last_path))}",
                  f"pair = {_toml_str(last.pair)}", f"name = {_toml_str(last.arch)}"]
        if group:
            lines.append(f"group = {_toml_str(group)}")
        folder = os.path.dirname(last_path)
        lines += [f"checkpoints = [{_toml_str(rel(folder) + '/')}]", ""]
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def _floats3(s):
    v = tuple(float(x) for x in s.split(","))
    if len(v) != 3:
        raise argparse.ArgumentTypeError(f"expected three comma-separated floats, found {s!r}")
    return v


def _classes(s):
    s = s.strip()
    if s.startswith("["):
        v = json.loads(s)
        if not all(isinstance(x, str) for x in v):
            raise argparse.ArgumentTypeError("--classes JSON must be an array of strings")
        return v
    return [x.strip() for x in s.split(",") if x.strip()]


def _parser() -> argparse.ArgumentParser:
    doc = __doc__ or ""
    head, _, rest = doc.partition("\n\nExamples:\n")
    ap = argparse.ArgumentParser(
        description=head,
        epilog="examples:\n" + rest.split("\n\nLibrary use")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_argument_group("what to export")
    src.add_argument("--run-tree", metavar="DIR",
                     help="export every checkpoint folder under DIR (--out is then a folder)")
    src.add_argument("--pattern", default=DEFAULT_PATTERN,
                     help="regex searched in each checkpoint folder's absolute path, with named "
                          "groups source, target, epoch and optionally arch, acc, auroc "
                          "(default: the study's layout, see above)")
    src.add_argument("--checkpoint-dir", help="one folder holding G.pt, C.pt and optionally D.pt "
                     "(or a single pytorch-adapt Models file)")
    src.add_argument("--checkpoint", help="one file: a pytorch-adapt Models container, or its "
                     "state_dict(), with G, C and D")
    src.add_argument("--G", dest="g_path", help="backbone file (state dict or whole module)")
    src.add_argument("--C", dest="c_path", help="classifier file")
    src.add_argument("--D", dest="d_path", help="discriminator file")
    src.add_argument("--arch", help="timm model name, or demo_cnn / demo_mlp (with --run-tree, "
                     "default: the arch in the folder name)")
    src.add_argument("--no-discriminator", action="store_true", help="leave D out even if present")
    src.add_argument("--embedding", choices=EMBEDDINGS, default="g-output",
                     help="what the embedding output is: G(x), exactly what C and D receive "
                          "(default), or timm's pooled pre-logits feature")
    out = ap.add_argument_group("output")
    out.add_argument("--out", required=True, help="output .onnx file (a folder with --run-tree)")
    out.add_argument("--toml", help="with --run-tree: the dannscope.toml to write "
                     "(default OUT/dannscope.toml)")
    out.add_argument("--group", help="with --run-tree: group of every [[run]] (forward, "
                     "reversed, baseline; default forward)")
    out.add_argument("--force", action="store_true",
                     help="export again even when a file from the same checkpoint exists")
    out.add_argument("--data", help="dataset root <Domain>/<Class>/<file>: verify on its images "
                     "too, and name it in dannscope.toml")
    out.add_argument("--verify-images", type=int, default=8, metavar="N",
                     help="images of --data used in the verification (default 8)")
    meta = ap.add_argument_group("metadata")
    meta.add_argument("--classes", type=_classes, help="class names in logit order (JSON or a,b,c)")
    meta.add_argument("--source", help="source domain name (or code)")
    meta.add_argument("--target", help="target domain name (or code)")
    meta.add_argument("--epoch", type=int, help="training epoch of the checkpoint")
    meta.add_argument("--input-size", type=int)
    meta.add_argument("--crop-pct", type=float)
    meta.add_argument("--interpolation", choices=INTERPOLATIONS)
    meta.add_argument("--mean", type=_floats3)
    meta.add_argument("--std", type=_floats3)
    rnd = ap.add_argument_group("random initialisation (no checkpoint)")
    rnd.add_argument("--num-classes", type=int, default=10,
                     help="classes of a random C (0: no C)")
    rnd.add_argument("--head-width", type=int, default=1024, help="width of a random C")
    rnd.add_argument("--disc-width", type=int, default=256, help="width of a random D (0: no D)")
    rnd.add_argument("--seed", type=int, default=0, help="seed of random initialisation")
    exp = ap.add_argument_group("exporter")
    exp.add_argument("--opset", type=int, default=18)
    exp.add_argument("--legacy", action="store_true", help="use the TorchScript exporter only")
    return ap


class Session:
    """What one command shares across its exports: flags, the backbone factory, the traced
    graphs and the verification images."""

    def __init__(self, a: argparse.Namespace):
        self.a = a
        self.factory = BackboneFactory(lambda arch: int(self.config(arch)["input_size"]))
        self.writer = OnnxWriter(a.opset, not a.legacy)
        self.images = ImageBatches(a.data, a.verify_images)

    def config(self, arch: str) -> dict:
        """The architecture's preprocessing with the flags' overrides. An architecture timm does
        not know (a whole pickled module of one's own) needs --input-size; the rest defaults to
        the contract's defaults."""
        try:
            cfg = arch_config(arch)
        except ExportError:
            if self.a.input_size is None:
                raise ExportError(f"--arch {arch!r} is not a timm model name nor one of "
                                  f"{sorted(DEMO_ARCHS)}; for an architecture of your own (saved as "
                                  "whole modules) give --input-size (and --crop-pct, "
                                  "--interpolation, --mean, --std if not the defaults)") from None
            cfg = {"input_size": self.a.input_size, "crop_pct": 0.875,
                   "interpolation": "bilinear", "mean": IMAGENET_MEAN, "std": IMAGENET_STD}
        for key in ("input_size", "crop_pct", "interpolation", "mean", "std"):
            val = getattr(self.a, key)
            if val is not None:
                cfg[key] = val
        if not 0.0 < cfg["crop_pct"] <= 1.0:
            raise ExportError(f"--crop-pct must be in (0, 1], found {cfg['crop_pct']}")
        return cfg

    def export(self, ckpt: CheckpointFiles | None, arch: str, path: str, *, source, target,
               epoch, info: Mapping | None = None) -> dict | None:
        """Exports one checkpoint (random weights when ``ckpt`` is None); returns None when the
        file is already there from the same checkpoint and settings."""
        a = self.a
        cfg = self.config(arch)
        meta = contract_metadata(arch=arch, config=cfg, embedding=a.embedding,
                                 classes=a.classes, source=source, target=target, epoch=epoch,
                                 checkpoint=ckpt, checkpoint_info=info)
        if ckpt is not None and not a.force and is_unchanged(path, meta):
            return None
        if ckpt is None:
            torch.manual_seed(a.seed)
            parts = random_parts(arch, self.factory, a.num_classes, a.head_width,
                                 0 if a.no_discriminator else a.disc_width, a.embedding)
            reference = None
        else:
            use_d = not a.no_discriminator
            parts = load_parts(ckpt, arch, self.factory, a.embedding, use_d)
            reference = load_parts(ckpt, arch, self.factory, a.embedding, use_d)  # fresh load
        _check_classes(a.classes, parts.c, "C")
        return export_parts(parts, path, meta=meta, size=int(cfg["input_size"]),
                            reference=reference, images=self.images.batch(cfg),
                            writer=self.writer)


def _single_checkpoint(a: argparse.Namespace, ap: argparse.ArgumentParser) -> CheckpointFiles | None:
    if a.checkpoint:
        if not os.path.isfile(a.checkpoint):
            raise ExportError(f"--checkpoint {a.checkpoint}: no such file")
        return CheckpointFiles({"models": a.checkpoint})
    files: dict[str, str] = {}
    if a.checkpoint_dir:
        if not os.path.isdir(a.checkpoint_dir):
            raise ExportError(f"--checkpoint-dir {a.checkpoint_dir}: no such folder")
        found = CheckpointFiles.in_folder(a.checkpoint_dir)
        if found is None:
            raise ExportError(f"{a.checkpoint_dir}: expected G.pt (and C.pt, D.pt) or one "
                              "pytorch-adapt Models file there, found none")
        files = dict(found.files)
    for role, flag in (("G", a.g_path), ("C", a.c_path), ("D", a.d_path)):
        if flag:
            files.pop("models", None)
            files[role] = flag
    if files and "models" not in files and "G" not in files:
        ap.error("--C / --D need --G (or --checkpoint-dir)")
    return CheckpointFiles(files) if files else None


def run_tree(s: Session) -> None:
    a = s.a
    epochs = find_epochs(a.run_tree, a.pattern, a.arch, a.source, a.target)
    runs: dict[str, list[tuple[Epoch, str]]] = {}
    done, skipped, t_all = 0, 0, time.perf_counter()
    print(f"{len(epochs)} checkpoints in {len({e.run_name for e in epochs})} runs under "
          f"{a.run_tree}")
    for e in epochs:
        path = e.out_path(a.out)
        t0 = time.perf_counter()
        info = {"folder": os.path.basename(e.folder), "acc": e.acc, "auroc": e.auroc}
        try:
            r = s.export(e.ckpt, e.arch, path, source=e.source, target=e.target, epoch=e.epoch,
                         info={k: v for k, v in info.items() if v is not None})
        except ExportError as err:
            raise (err if e.folder in str(err) else ExportError(f"{e.folder}: {err}")) from None
        runs.setdefault(e.run_name, []).append((e, path))
        label = f"{e.run_name} epoch {e.epoch}"
        if r is None:
            skipped += 1
            print(f"  {label}: unchanged, kept {path}")
        else:
            done += 1
            dev = max(r["deviation"].values()) if r["deviation"] else float("nan")
            print(f"  {label}: {path} ({r['exporter']}, {time.perf_counter() - t0:.1f} s, "
                  f"largest per-row deviation from a fresh load {dev:.1e})")
    toml = a.toml or os.path.join(a.out, "dannscope.toml")
    write_project(toml, runs, a.data, a.group, a.run_tree)
    print(f"exported {done}, unchanged {skipped}, in {time.perf_counter() - t_all:.1f} s; wrote "
          f"{toml}\nnext: dannscope report --config {toml}" + ("" if a.data else " --data DATA"))


def main(argv=None) -> int:
    ap = _parser()
    a = ap.parse_args(argv)
    try:
        s = Session(a)
        if a.run_tree:
            if a.checkpoint or a.checkpoint_dir or a.g_path:
                ap.error("--run-tree exports every checkpoint under it; leave out --checkpoint, "
                         "--checkpoint-dir and --G/--C/--D")
            run_tree(s)
            return 0
        if not a.arch:
            ap.error("--arch is required (except with --run-tree, whose folder names may say it)")
        ckpt = _single_checkpoint(a, ap)
        info = s.export(ckpt, a.arch, a.out, source=a.source, target=a.target, epoch=a.epoch)
        if info is None:
            print(f"{a.out}: unchanged (same checkpoint files and settings), kept; --force "
                  "exports it again")
        else:
            print(_summary(info))
        return 0
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "dannscope.export":
    # Pickled modules of the demo and of older exports name this code's module `export_onnx`.
    sys.modules.setdefault("export_onnx", sys.modules[__name__])

if __name__ == "__main__":
    sys.exit(main())
