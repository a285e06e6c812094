#!/usr/bin/env python3
"""Export a DANN model (backbone G, classifier C, optional discriminator D) to one ONNX file that
follows the dannscope model contract (version 1).

The graph has one input ``image`` (float32 [N, 3, H, W], dynamic N) and the outputs
``embedding`` [N, D] (timm: ``forward_head(forward_features(x), pre_logits=True)``),
``logits`` [N, C] and ``domain_logits`` [N, 1]. Preprocessing metadata comes from timm's
pretrained config of the architecture (read without downloading anything) unless overridden.

Examples:
  # random weights (no checkpoint), just to check that an architecture exports
  python models/export_onnx.py --arch mobilenetv3_large_100 --num-classes 10 --out /tmp/m.onnx
  # checkpoints saved as state dicts, as in outputs/{model}_src(S)_tgt(T)/EE_.../{G,C,D}.pt
  python models/export_onnx.py --arch mobilenetv3_rw --checkpoint-dir RUN/05_acc87_auroc98 \
      --source "Real World" --target Product --epoch 5 --out rp.onnx

Library use (train_dann.py): ``create_backbone``, ``make_classifier``, ``make_discriminator``,
``arch_config`` and ``export_model``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn

CONTRACT_OUTPUTS = ("embedding", "logits", "domain_logits")
INTERPOLATIONS = ("bilinear", "bicubic")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# --------------------------------------------------------------------------------------------
# Tiny demo architectures (timm-like interface: num_features, forward_features, forward_head)
# --------------------------------------------------------------------------------------------
class DemoCNN(nn.Module):
    """Five 3x3 conv blocks (BN + ReLU, 2x2 max-pool after the first four, so the last block
    sees the whole 64 px image: receptive field 63 px) and global average pooling: about 45k
    parameters, 48-d embedding."""

    def __init__(self, widths=(16, 24, 32, 48, 48)):
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
        # Per-image, per-channel standardisation: global brightness, contrast and colour cast
        # (white studio, dark photo, warm canvas) are not left for the network to learn.
        mu = x.mean(dim=(2, 3), keepdim=True)
        sd = (x - mu).pow(2).mean(dim=(2, 3), keepdim=True).add(1e-3).sqrt()
        return self.features((x - mu) / sd)

    def forward_head(self, x, pre_logits: bool = False):
        return x.mean(dim=(2, 3))

    def forward(self, x):
        return self.forward_head(self.forward_features(x), pre_logits=True)


class DemoMLP(nn.Module):
    """Average-pools the 64 px input to 16x16, flattens (768 values) and applies two hidden
    layers of 64 units: about 54k parameters, 64-d embedding."""

    def __init__(self, pooled=16, hidden=64):
        super().__init__()
        self.pool = nn.AvgPool2d(64 // pooled)
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
    "input_size": 64,
    "crop_pct": 1.0,
    "interpolation": "bilinear",
    "mean": IMAGENET_MEAN,
    "std": IMAGENET_STD,
}


def arch_config(arch: str) -> dict:
    """Preprocessing config of an architecture: input_size, crop_pct, interpolation, mean, std.
    For timm models it is read from ``pretrained_cfg`` of a randomly initialised model."""
    if arch in DEMO_ARCHS:
        return dict(DEMO_CONFIG)
    import timm

    cfg = timm.create_model(arch, pretrained=False).pretrained_cfg
    size = cfg.get("input_size", (3, 224, 224))
    if size[1] != size[2]:
        raise ValueError(f"{arch}: expected a square input size, found {size}")
    return {
        "input_size": int(size[1]),
        "crop_pct": float(cfg.get("crop_pct", 0.875)),
        "interpolation": str(cfg.get("interpolation", "bilinear")),
        "mean": tuple(float(v) for v in cfg.get("mean", IMAGENET_MEAN)),
        "std": tuple(float(v) for v in cfg.get("std", IMAGENET_STD)),
    }


def _load_state(path: str):
    """Loads a state dict (or a whole pickled module) from ``path``."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # pickled nn.Module: only for trusted files
        obj = torch.load(path, map_location="cpu", weights_only=False)
    if isinstance(obj, nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a state dict or nn.Module, found {type(obj).__name__}")
    return OrderedDict((k[7:] if k.startswith("module.") else k, v) for k, v in obj.items())


def create_backbone(arch: str, checkpoint: str | None = None, pretrained_file: str | None = None):
    """Backbone G. Demo archs are built here; any other name is a timm model created with
    ``pretrained=False`` (nothing is downloaded). ``checkpoint`` is a G.pt state dict; the
    timm classifier keys may be absent (the study replaced it by Identity) or present."""
    if arch in DEMO_ARCHS:
        g = DEMO_ARCHS[arch]()
        if checkpoint:
            g.load_state_dict(_load_state(checkpoint))
        return g
    import timm

    kwargs = {}
    if pretrained_file:
        kwargs["pretrained_cfg_overlay"] = {"file": pretrained_file}
    g = timm.create_model(arch, pretrained=bool(pretrained_file), **kwargs)
    if checkpoint:
        state = _load_state(checkpoint)
        head_keys = {k for k in g.state_dict() if _is_head_key(g, k)}
        missing, unexpected = g.load_state_dict(state, strict=False)
        bad_missing = [k for k in missing if k not in head_keys]
        if bad_missing or unexpected:
            raise ValueError(
                f"{checkpoint}: does not fit {arch}: missing {bad_missing[:5]}"
                f"{'...' if len(bad_missing) > 5 else ''}, unexpected {unexpected[:5]}"
            )
        if missing:
            print(f"note: {checkpoint} has no classifier weights ({len(missing)} keys); "
                  "they are not used by the embedding", file=sys.stderr)
    return g


def _is_head_key(g: nn.Module, key: str) -> bool:
    clf = g.get_classifier()
    for name, mod in g.named_modules():
        if mod is clf and name:
            return key.startswith(name + ".")
    return False


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
    """An MLP kept under ``.net`` so state-dict keys read ``net.<i>.weight``."""

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


def head_from_state(state: dict, what: str) -> Head:
    """Rebuilds an MLP head (C or D) from its state dict: the Linear layers are read from the
    ``net.<i>.weight`` keys; between them ReLU, and Dropout/Identity where indices leave gaps
    (both are identities at inference)."""
    idx = {}
    for k, v in state.items():
        parts = k.split(".")
        if len(parts) != 3 or parts[0] != "net" or not parts[1].isdigit():
            raise ValueError(f"{what}: expected keys net.<i>.weight/bias, found {k!r}")
        idx.setdefault(int(parts[1]), {})[parts[2]] = v
    order = sorted(idx)
    if not order:
        raise ValueError(f"{what}: empty state dict")
    layers = [nn.Identity() for _ in range(order[-1] + 1)]
    for j, i in enumerate(order):
        w = idx[i]["weight"]
        if w.ndim != 2:
            raise ValueError(f"{what}: net.{i}.weight has shape {tuple(w.shape)}, expected 2-D")
        layers[i] = nn.Linear(w.shape[1], w.shape[0], bias="bias" in idx[i])
        if j + 1 < len(order):
            if i + 1 >= order[j + 1]:
                raise ValueError(f"{what}: no room for an activation between net.{i} and "
                                 f"net.{order[j + 1]}")
            layers[i + 1] = nn.ReLU()
    head = Head(nn.Sequential(*layers))
    head.load_state_dict(state)
    return head


def in_features(head: nn.Module) -> int:
    """Input width of the first Linear layer of a head."""
    for m in head.modules():
        if isinstance(m, nn.Linear):
            return m.in_features
    raise ValueError("head has no Linear layer")


class ContractGraph(nn.Module):
    """image -> (embedding, logits, domain_logits) as the contract names them.

    If C/D were trained on the backbone's classifier output (as a timm model whose ``.head``
    was left in place, e.g. ResMLP with 1000-d ImageNet logits), pass ``adapter`` = that
    classifier: the embedding stays the pre-logits feature and C/D see ``adapter(embedding)``.
    """

    def __init__(self, g, c=None, d=None, adapter=None):
        super().__init__()
        self.g, self.c, self.d = g, c, d
        self.adapter = adapter if adapter is not None else nn.Identity()

    def forward(self, image):
        emb = self.g.forward_head(self.g.forward_features(image), pre_logits=True)
        emb = emb.flatten(1)
        outs = [emb]
        feat = self.adapter(emb)
        if self.c is not None:
            outs.append(self.c(feat))
        if self.d is not None:
            outs.append(self.d(feat).reshape(-1, 1))
        return tuple(outs)


def embedding_dim(g: nn.Module, input_size: int) -> int:
    with torch.no_grad():
        x = torch.zeros(1, 3, input_size, input_size)
        return int(g.forward_head(g.forward_features(x), pre_logits=True).flatten(1).shape[1])


def _export(graph, path, input_size, names, dynamo, opset):
    # A private generator: exporting must not advance the global RNG of a training run.
    x = torch.randn(2, 3, input_size, input_size, generator=torch.Generator().manual_seed(0))
    if dynamo:
        batch = torch.export.Dim("batch", min=1, max=4096)
        prog = torch.onnx.export(
            graph, (x,), None, dynamo=True, opset_version=opset, input_names=["image"],
            output_names=list(names), dynamic_shapes={"image": {0: batch}}, verbose=False,
            optimize=True,
        )
        prog.save(path)
    else:
        torch.onnx.export(
            graph, (x,), path, dynamo=False, opset_version=opset, input_names=["image"],
            output_names=list(names), dynamic_axes={"image": {0: "N"}, **{n: {0: "N"} for n in names}},
        )


def _finish(path, names, meta):
    """Checks the exported graph's interface and writes metadata_props into one file."""
    import onnx

    model = onnx.load(path, load_external_data=True)
    ins = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
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


def verify(graph, path, input_size, tol=1e-3, batch=3, seed=0):
    """Runs the ONNX file with onnxruntime and PyTorch on one random batch (a batch size other
    than the export's) and returns the max abs difference per output; raises above ``tol``."""
    import onnxruntime as ort

    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 3, input_size, input_size, generator=gen)
    with torch.no_grad():
        ref = [t.numpy() for t in graph(x)]
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})
    diffs = {}
    for o, r, g in zip(sess.get_outputs(), ref, got):
        if r.shape != g.shape:
            raise RuntimeError(f"{o.name}: onnxruntime shape {g.shape}, PyTorch {r.shape}")
        diffs[o.name] = float(np.max(np.abs(r - g))) if r.size else 0.0
    worst = max(diffs.values())
    if not np.isfinite(worst) or worst > tol:
        raise RuntimeError(f"ONNX output differs from PyTorch: max abs diff {diffs} > {tol}")
    return diffs


def export_model(g, c, d, path, *, arch, config, classes=None, source=None, target=None,
                 epoch=None, adapter=None, opset=18, dynamo=True, check=True, quiet=False):
    """Exports G (+C, +D) to ``path`` per the contract, writes metadata, verifies with
    onnxruntime. Returns a dict with outputs, embedding_dim and max_abs_diff."""
    for m in (g, c, d, adapter):
        if m is not None:
            m.eval()
    interp = config["interpolation"]
    if interp not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, found {interp!r}")
    graph = ContractGraph(g, c, d, adapter).eval()
    names = ["embedding"] + (["logits"] if c is not None else []) + (["domain_logits"] if d is not None else [])
    size = int(config["input_size"])
    meta = {
        "dannscope.arch": arch,
        "dannscope.input_size": str(size),
        "dannscope.crop_pct": repr(float(config["crop_pct"])),
        "dannscope.interpolation": interp,
        "dannscope.mean": ",".join(repr(float(v)) for v in config["mean"]),
        "dannscope.std": ",".join(repr(float(v)) for v in config["std"]),
    }
    if classes is not None:
        meta["dannscope.classes"] = json.dumps(list(classes))
    if source is not None:
        meta["dannscope.source"] = source
    if target is not None:
        meta["dannscope.target"] = target
    if epoch is not None:
        meta["dannscope.epoch"] = str(int(epoch))
    os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
    # Write next to the destination, then rename, so a failed export leaves no partial file.
    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=os.path.dirname(os.path.abspath(path)))
    os.close(fd)
    try:
        used = "dynamo"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if not dynamo:
                    raise RuntimeError("dynamo disabled")
                _export(graph, tmp, size, names, True, opset)
                _finish(tmp, names, meta)
            except Exception as e:  # fall back to the TorchScript exporter
                if dynamo and not quiet:
                    print(f"note: dynamo export failed ({type(e).__name__}: {str(e)[:200]}); "
                          "using the legacy exporter", file=sys.stderr)
                used = "legacy"
                _export(graph, tmp, size, names, False, opset)
                _finish(tmp, names, meta)
        diffs = verify(graph, tmp, size) if check else {}
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        for p in (tmp, tmp + ".data"):
            if os.path.exists(p):
                os.remove(p)
    info = {"path": path, "exporter": used, "outputs": names,
            "embedding_dim": embedding_dim(g, size), "max_abs_diff": diffs}
    if not quiet:
        print(f"exported {path} ({used}, outputs {names}, embedding {info['embedding_dim']}-d, "
              f"max abs diff vs PyTorch {max(diffs.values()) if diffs else 'n/a'})")
    return info


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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True, help="timm model name, or demo_cnn / demo_mlp")
    ap.add_argument("--out", required=True, help="output .onnx path")
    ap.add_argument("--checkpoint-dir", help="folder holding G.pt, C.pt and optionally D.pt")
    ap.add_argument("--G", dest="g_path", help="backbone state dict (overrides --checkpoint-dir)")
    ap.add_argument("--C", dest="c_path", help="classifier state dict")
    ap.add_argument("--D", dest="d_path", help="discriminator state dict")
    ap.add_argument("--no-discriminator", action="store_true", help="leave D out even if present")
    ap.add_argument("--num-classes", type=int, default=10,
                    help="classes of a randomly initialised C when no C.pt is given (0: no C)")
    ap.add_argument("--head-width", type=int, default=1024, help="width of a random C")
    ap.add_argument("--disc-width", type=int, default=256, help="width of a random D (0: no D)")
    ap.add_argument("--classes", type=_classes, help="class names in logit order (JSON or a,b,c)")
    ap.add_argument("--source", help="source domain name")
    ap.add_argument("--target", help="target domain name")
    ap.add_argument("--epoch", type=int, help="training epoch of the checkpoint")
    ap.add_argument("--input-size", type=int)
    ap.add_argument("--crop-pct", type=float)
    ap.add_argument("--interpolation", choices=INTERPOLATIONS)
    ap.add_argument("--mean", type=_floats3)
    ap.add_argument("--std", type=_floats3)
    ap.add_argument("--opset", type=int, default=18)
    ap.add_argument("--legacy", action="store_true", help="use the TorchScript exporter only")
    ap.add_argument("--seed", type=int, default=0, help="seed of random initialisation")
    a = ap.parse_args(argv)

    torch.manual_seed(a.seed)
    cfg = arch_config(a.arch)
    for key, val in (("input_size", a.input_size), ("crop_pct", a.crop_pct),
                     ("interpolation", a.interpolation), ("mean", a.mean), ("std", a.std)):
        if val is not None:
            cfg[key] = val
    if not 0.0 < cfg["crop_pct"] <= 1.0:
        ap.error(f"--crop-pct must be in (0, 1], found {cfg['crop_pct']}")

    def pick(flag, name):
        if flag:
            return flag
        if a.checkpoint_dir:
            p = os.path.join(a.checkpoint_dir, name)
            return p if os.path.exists(p) else None
        return None

    g_path, c_path, d_path = pick(a.g_path, "G.pt"), pick(a.c_path, "C.pt"), pick(a.d_path, "D.pt")
    if a.checkpoint_dir and not g_path:
        ap.error(f"{a.checkpoint_dir}: expected G.pt there, found none")
    g = create_backbone(a.arch, g_path)
    emb = embedding_dim(g, cfg["input_size"])
    c = head_from_state(_load_state(c_path), "C") if c_path else (
        make_classifier(emb, a.num_classes, a.head_width) if a.num_classes > 0 else None)
    d = None
    if not a.no_discriminator:
        d = head_from_state(_load_state(d_path), "D") if d_path else (
            make_discriminator(emb, a.disc_width) if a.disc_width > 0 and not c_path else None)
    adapter = None
    heads_in = {in_features(h) for h in (c, d) if h is not None}
    if heads_in and heads_in != {emb}:
        clf = g.get_classifier() if hasattr(g, "get_classifier") else None
        out_dim = getattr(clf, "out_features", None)
        if heads_in == {out_dim}:
            print(f"note: C/D take {out_dim}-d inputs = the backbone classifier's output; the "
                  f"embedding output stays the {emb}-d pre-logits feature", file=sys.stderr)
            adapter = clf
        else:
            ap.error(f"C/D expect {sorted(heads_in)}-d inputs, but the backbone embedding is "
                     f"{emb}-d (classifier output {out_dim})")
    if a.classes is not None and c is not None:
        n_out = [m for m in c.modules() if isinstance(m, nn.Linear)][-1].out_features
        if len(a.classes) != n_out:
            ap.error(f"--classes names {len(a.classes)} classes, C has {n_out} outputs")
    export_model(g, c, d, a.out, arch=a.arch, config=cfg, classes=a.classes, source=a.source,
                 target=a.target, epoch=a.epoch, adapter=adapter, opset=a.opset,
                 dynamo=not a.legacy)


if __name__ == "__main__":
    main()
