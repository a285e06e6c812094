#!/usr/bin/env python3
"""Train a DANN model (backbone G, classifier C, discriminator D behind a gradient-reversal
layer) on one source -> target pair of a `<root>/<Domain>/<Class>/<file>` dataset, log tidy
per-epoch curves and export ONNX files that follow the dannscope model contract.

Recipe (defaults): Adam lr 1e-4 over G, C and D, 20 epochs, batch 32 per domain, seed 42,
lambda(p) = lambda_max * (2 / (1 + exp(-gamma q)) - 1) with p the fraction of training done and
q = max(0, (p - warmup) / (1 - warmup)) (lambda_max 1, gamma 10, warmup 0). `--lr-anneal` uses
DANN's lr(p) = lr / (1 + 10 p)^0.75 instead of a constant rate. `--source-only` trains the
baseline with the same recipe: the gradient-reversal coefficient is 0, so G and C learn from the
classification loss alone while D still learns to tell the domains apart on the (detached)
embeddings; data, batches, augmentation, BatchNorm handling and random streams are those of the
DANN run.
G is a timm model with its classifier removed (created with pretrained=False unless a local
weights file is given) or a tiny demo network (demo_cnn, demo_mlp).

Split: a manifest CSV `path,domain,class,split` (paths relative to the data root). The source's
train rows are the labelled training data; the target's train rows are used without labels.
`--make-manifest OUT.csv` writes one (stratified per (domain, class): 2/3 train, 1/6 valid,
1/6 test, seeded) and exits.

Curves: one CSV `epoch,domain,split,metric,value` per run, domain in {source, target}, split
in {train, valid}, metric in {accuracy, auroc} (fractions; macro one-vs-rest AUROC on softmax
outputs). All four are computed in eval mode after each epoch.
Domain discriminator labels: source 0, target 1 (sigmoid(domain_logits) = P(target)).
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import random
import sys
import time

import numpy as np

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
MANIFEST_HEADER = ["path", "domain", "class", "split"]


# --------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------
def scan(root):
    """(relative path, domain, class) for every image, sorted by domain, class, file name."""
    rows = []
    for dom in sorted(os.listdir(root)):
        dpath = os.path.join(root, dom)
        if not os.path.isdir(dpath):
            continue
        for cls in sorted(os.listdir(dpath)):
            cpath = os.path.join(dpath, cls)
            if not os.path.isdir(cpath):
                continue
            for f in sorted(os.listdir(cpath)):
                if os.path.splitext(f)[1].lower() in IMAGE_EXTS and not f.startswith("."):
                    rows.append((f"{dom}/{cls}/{f}", dom, cls))
    if not rows:
        raise SystemExit(f"{root}: expected <Domain>/<Class>/<image files>, found no images")
    return rows


def make_manifest(root, out, seed=42):
    """Stratified per (domain, class): shuffle with a seeded generator, then 1/6 (rounded)
    valid, 1/6 test, the rest (about 2/3) train. Returns the rows written."""
    rng = random.Random(seed)
    groups = {}
    for rel, dom, cls in scan(root):
        groups.setdefault((dom, cls), []).append(rel)
    rows = []
    for key in sorted(groups):
        files = sorted(groups[key])
        rng.shuffle(files)
        n = len(files)
        n_valid = n_test = int(round(n / 6))
        for i, rel in enumerate(files):
            split = "valid" if i < n_valid else "test" if i < n_valid + n_test else "train"
            rows.append((rel, key[0], key[1], split))
    rows.sort()
    tmp = out + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(MANIFEST_HEADER)
        w.writerows(rows)
    os.replace(tmp, out)
    return rows


def read_manifest(path, root):
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        header = next(r, None)
        if header != MANIFEST_HEADER:
            raise SystemExit(f"{path}: expected header {','.join(MANIFEST_HEADER)}, found {header}")
        rows = []
        for i, row in enumerate(r, start=2):
            if len(row) != 4:
                raise SystemExit(f"{path}:{i}: expected 4 fields, found {len(row)}")
            rel, dom, cls, split = row
            if split not in ("train", "valid", "test"):
                raise SystemExit(f"{path}:{i}: split must be train/valid/test, found {split!r}")
            full = os.path.normpath(os.path.join(root, rel))
            if os.path.isabs(rel) or not full.startswith(os.path.normpath(root) + os.sep):
                raise SystemExit(f"{path}:{i}: path {rel!r} leaves the data root")
            rows.append((rel, dom, cls, split))
    return rows


def resolve_domain(name, domains):
    """Accepts a domain name or its one-letter code (first letter)."""
    if name in domains:
        return name
    hits = [d for d in domains if len(name) == 1 and d[:1].upper() == name.upper()]
    if len(hits) == 1:
        return hits[0]
    raise SystemExit(f"unknown domain {name!r}; expected one of {sorted(domains)} or their codes")


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-root", required=True)
    ap.add_argument("--make-manifest", metavar="OUT_CSV", help="write a split manifest and exit")
    ap.add_argument("--manifest", help="split manifest CSV (path,domain,class,split)")
    ap.add_argument("--source", help="source domain (name or code)")
    ap.add_argument("--target", help="target domain (name or code)")
    ap.add_argument("--arch", default="mobilenetv3_large_100", help="timm name or demo_cnn/demo_mlp")
    ap.add_argument("--pretrained-file", help="local weights file for the timm backbone")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--steps-per-epoch", type=int, default=0, metavar="N",
                    help="optimiser steps per epoch, each a full batch drawn from a stream of "
                    "reshuffled passes over the source (0: one pass over the source, the last "
                    "batch possibly smaller)")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--head-width", type=int, default=1024, help="C: emb -> w -> w/2 -> classes")
    ap.add_argument("--disc-width", type=int, default=256, help="D: emb -> w -> w -> 1")
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (results are "
                    "bit-reproducible for a fixed thread count)")
    ap.add_argument("--lambda-max", type=float, default=1.0,
                    help="final gradient-reversal coefficient (the schedule's plateau)")
    ap.add_argument("--lambda-gamma", type=float, default=10.0,
                    help="steepness of the schedule lambda = lambda_max (2/(1+exp(-gamma q))-1)")
    ap.add_argument("--lambda-warmup", type=float, default=0.0, metavar="W",
                    help="fraction of training with lambda = 0 before the schedule starts (it then "
                    "runs on (p - W) / (1 - W))")
    ap.add_argument("--source-only", action="store_true",
                    help="baseline: gradient-reversal coefficient 0 (D still trains on detached "
                    "embeddings); everything else as in the DANN run")
    ap.add_argument("--lr-anneal", action="store_true",
                    help="DANN's learning-rate annealing lr / (1 + 10 p)^0.75")
    ap.add_argument("--bn-batch", choices=("separate", "joint"), default="separate",
                    help="in training, pass source and target through G as two batches (each "
                    "normalised by its own BatchNorm statistics) or as one joint batch (the "
                    "statistics that evaluation uses after re-estimation on both domains)")
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument("--no-bn-recalibrate", action="store_true",
                    help="keep BatchNorm running statistics from training instead of re-estimating "
                    "them on the train images after each epoch")
    ap.add_argument("--out", help="final ONNX file")
    ap.add_argument("--curves", help="curves CSV (epoch,domain,split,metric,value)")
    ap.add_argument("--export-every-epoch", metavar="DIR",
                    help="also export each epoch to DIR/<arch>_<S>-<T>_epNN.onnx")
    ap.add_argument("--export-interval", type=int, default=1, metavar="K",
                    help="with --export-every-epoch, export only epochs divisible by K (and the last)")
    ap.add_argument("--save-checkpoints", metavar="DIR", help="save G.pt, C.pt, D.pt state dicts")
    a = ap.parse_args(argv)

    if a.make_manifest:
        rows = make_manifest(a.data_root, a.make_manifest, a.seed)
        counts = {s: sum(1 for r in rows if r[3] == s) for s in ("train", "valid", "test")}
        print(f"wrote {a.make_manifest}: {len(rows)} rows {counts}")
        return
    if not (a.manifest and a.source and a.target):
        ap.error("training needs --manifest, --source and --target (or use --make-manifest)")
    if a.steps_per_epoch < 0:
        ap.error(f"--steps-per-epoch must be >= 0, found {a.steps_per_epoch}")
    for name, v in (("--epochs", a.epochs), ("--batch-size", a.batch_size),
                    ("--head-width", a.head_width), ("--disc-width", a.disc_width)):
        if v < 1:
            ap.error(f"{name} must be >= 1, found {v}")
    if not a.lr > 0:
        ap.error(f"--lr must be > 0, found {a.lr}")
    if not (a.lambda_max >= 0 and a.lambda_gamma > 0 and 0 <= a.lambda_warmup < 1):
        ap.error(f"expected --lambda-max >= 0, --lambda-gamma > 0 and 0 <= --lambda-warmup < 1, "
                 f"found {a.lambda_max}, {a.lambda_gamma}, {a.lambda_warmup}")

    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision.transforms as T
    from PIL import Image
    from sklearn.metrics import accuracy_score, roc_auc_score

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import export_onnx as ex

    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(a.threads)

    rows = read_manifest(a.manifest, a.data_root)
    domains = sorted({r[1] for r in rows})
    classes = sorted({r[2] for r in rows})
    src, tgt = resolve_domain(a.source, domains), resolve_domain(a.target, domains)
    if src == tgt:
        ap.error(f"source and target are both {src!r}")
    cidx = {c: i for i, c in enumerate(classes)}
    cfg = ex.arch_config(a.arch)
    size, crop = cfg["input_size"], cfg["crop_pct"]
    interp = {"bilinear": T.InterpolationMode.BILINEAR,
              "bicubic": T.InterpolationMode.BICUBIC}[cfg["interpolation"]]
    resize = math.floor(size / crop)  # timm: transforms_imagenet_eval scale_size
    # Deterministic evaluation preprocessing of the contract; images are decoded and
    # preprocessed once, then normalised per batch.
    base_tf = T.Compose([T.Resize(resize, interpolation=interp), T.CenterCrop(size), T.ToTensor()])
    mean = torch.tensor(cfg["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(cfg["std"]).view(1, 3, 1, 1)

    def normalise(x):
        return (x - mean) / std

    def augment(x):
        """Light train-only augmentation on [0, 1] tensors: horizontal flip, a shift of up to
        size/16 pixels, brightness and contrast jitter of +-15 %."""
        if a.no_augment:
            return x
        flip = torch.rand(len(x)) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
        m = max(1, size // 16)
        dy, dx = (int(v) for v in torch.randint(-m, m + 1, (2,)))
        x = torch.roll(x, (dy, dx), (2, 3))
        b = 1 + 0.3 * (torch.rand(len(x), 1, 1, 1) - 0.5)
        c = 1 + 0.3 * (torch.rand(len(x), 1, 1, 1) - 0.5)
        mu = x.mean((1, 2, 3), keepdim=True)
        return (((x - mu) * c + mu) * b).clamp(0, 1)

    def load(rel):
        with Image.open(os.path.join(a.data_root, rel)) as im:
            return base_tf(im.convert("RGB"))

    def subset(dom, split):
        sel = [(r[0], cidx[r[2]]) for r in rows if r[1] == dom and r[3] == split]
        if not sel:
            raise SystemExit(f"manifest has no {split} rows for domain {dom!r}")
        return sel

    sets = {(d, s): subset(dom, s) for d, dom in (("source", src), ("target", tgt))
            for s in ("train", "valid")}
    for d, s in sets:
        n_cls = len({y for _, y in sets[(d, s)]})
        if n_cls < len(classes):
            print(f"warning: {d} {s} has {n_cls} of {len(classes)} classes; AUROC may be undefined",
                  file=sys.stderr)
    eval_x = {k: torch.stack([load(p) for p, _ in v]) for k, v in sets.items()}
    eval_y = {k: np.array([y for _, y in v]) for k, v in sets.items()}

    G = ex.create_backbone(a.arch, pretrained_file=a.pretrained_file)
    if hasattr(G, "reset_classifier"):
        G.reset_classifier(0)  # the study's "classifier removed"
    emb = ex.embedding_dim(G, size)  # in eval mode: BatchNorm statistics stay untouched
    C = ex.make_classifier(emb, len(classes), a.head_width, a.dropout)
    D = ex.make_discriminator(emb, a.disc_width)
    n_params = sum(p.numel() for m in (G, C, D) for p in m.parameters())
    print(f"{a.arch}: embedding {emb}-d, {n_params} parameters (G+C+D); {src} -> {tgt}"
          f"{' (source only)' if a.source_only else ''}; classes {classes}")

    def embed(x):
        return G.forward_head(G.forward_features(x), pre_logits=True).flatten(1)

    class GradReverse(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, lam):
            ctx.lam = lam
            return x.view_as(x)

        @staticmethod
        def backward(ctx, g):
            return -ctx.lam * g, None

    params = [p for m in (G, C, D) for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=a.lr)
    gen = torch.Generator().manual_seed(a.seed)
    s_train, t_train = sets[("source", "train")], sets[("target", "train")]
    steps = a.steps_per_epoch or math.ceil(len(s_train) / a.batch_size)
    total = steps * a.epochs
    t_order, t_pos = torch.randperm(len(t_train), generator=gen).tolist(), 0
    s_order, s_pos = [], 0  # the source stream of --steps-per-epoch

    def draw(order, pos, n, size):
        """n indices from a stream of reshuffled permutations of range(size)."""
        out = []
        while len(out) < n:
            if pos == len(order):
                order, pos = torch.randperm(size, generator=gen).tolist(), 0
            out.append(order[pos])
            pos += 1
        return out, order, pos

    xs_all, ys_all = eval_x[("source", "train")], torch.tensor(eval_y[("source", "train")])
    xt_all = eval_x[("target", "train")]

    def recalibrate_bn():
        """Re-estimates BatchNorm statistics (cumulative average) on the unaugmented source
        and target training images, so eval mode matches the final weights. With --bn-batch
        joint the batches hold both domains, as in training, so the variances include the
        spread between the domains."""
        bns = [m for m in G.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if not bns or a.no_bn_recalibrate:
            return
        saved = [m.momentum for m in bns]
        for m in bns:
            m.reset_running_stats()
            m.momentum = None
        G.train()
        with torch.no_grad():
            if a.bn_batch == "joint":
                for j in range(0, max(len(xs_all), len(xt_all)), a.batch_size):
                    embed(normalise(torch.cat([xs_all[j:j + a.batch_size],
                                               xt_all[j:j + a.batch_size]])))
            else:
                for x in (xs_all, xt_all):
                    for j in range(0, len(x), a.batch_size):
                        embed(normalise(x[j:j + a.batch_size]))
        for m, mom in zip(bns, saved):
            m.momentum = mom

    curves = []
    code = lambda d: d[:1].upper()  # noqa: E731
    pair = f"{code(src)}-{code(tgt)}"
    for epoch in range(1, a.epochs + 1):
        t0 = time.time()
        G.train(), C.train(), D.train()
        if not a.steps_per_epoch:
            order = torch.randperm(len(s_train), generator=gen).tolist()
        sums = np.zeros(3)
        for i in range(steps):
            p = ((epoch - 1) * steps + i) / total
            q = max(0.0, (p - a.lambda_warmup) / (1.0 - a.lambda_warmup))
            lam = a.lambda_max * (2.0 / (1.0 + math.exp(-a.lambda_gamma * q)) - 1.0)
            if a.source_only:
                lam = 0.0
            if a.lr_anneal:
                for g in opt.param_groups:
                    g["lr"] = a.lr / (1.0 + 10.0 * p) ** 0.75
            if a.steps_per_epoch:
                s_idx, s_order, s_pos = draw(s_order, s_pos, a.batch_size, len(s_train))
            else:
                s_idx = order[i * a.batch_size:(i + 1) * a.batch_size]
            t_idx, t_order, t_pos = draw(t_order, t_pos, len(s_idx), len(t_train))
            xs, ys = normalise(augment(xs_all[s_idx])), ys_all[s_idx]
            xt = normalise(augment(xt_all[t_idx]))  # target labels are never used in training
            if a.bn_batch == "joint":
                f = embed(torch.cat([xs, xt]))
                fs, ft = f[:len(xs)], f[len(xs):]
            else:
                fs, ft = embed(xs), embed(xt)
            loss_c = F.cross_entropy(C(fs), ys)
            ds = D(GradReverse.apply(fs, lam)).squeeze(1)
            dt = D(GradReverse.apply(ft, lam)).squeeze(1)
            loss_d = F.binary_cross_entropy_with_logits(ds, torch.zeros_like(ds)) + \
                F.binary_cross_entropy_with_logits(dt, torch.ones_like(dt))
            loss = loss_c + loss_d
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sums += [loss_c.item(), loss_d.item(), 1]
        recalibrate_bn()
        G.eval(), C.eval(), D.eval()
        line = []
        with torch.no_grad():
            for (d, s), x in eval_x.items():
                logits = torch.cat([C(embed(normalise(x[j:j + 256])))
                                    for j in range(0, len(x), 256)])
                prob = torch.softmax(logits, 1).numpy().astype(np.float64)
                y = eval_y[(d, s)]
                acc = accuracy_score(y, prob.argmax(1))
                try:
                    auc = roc_auc_score(y, prob, multi_class="ovr", labels=list(range(len(classes))))
                except ValueError:
                    auc = float("nan")
                curves += [(epoch, d, s, "accuracy", acc), (epoch, d, s, "auroc", auc)]
                line.append(f"{d[0]}{s[0]} acc {acc:.3f} auc {auc:.3f}")
        print(f"epoch {epoch:2d} lam {lam:.3f} loss_c {sums[0] / sums[2]:.3f} "
              f"loss_d {sums[1] / sums[2]:.3f} | " + " | ".join(line) + f" ({time.time() - t0:.1f} s)")
        if a.export_every_epoch and (epoch % max(1, a.export_interval) == 0 or epoch == a.epochs):
            path = os.path.join(a.export_every_epoch, f"{a.arch}_{pair}_ep{epoch:02d}.onnx")
            ex.export_model(G, C, D, path, arch=a.arch, config=cfg, classes=classes, source=src,
                            target=tgt, epoch=epoch, quiet=True)
        if a.curves:
            write_curves(a.curves, curves)
    if a.out:
        ex.export_model(G, C, D, a.out, arch=a.arch, config=cfg, classes=classes, source=src,
                        target=tgt, epoch=a.epochs)
    if a.save_checkpoints:
        os.makedirs(a.save_checkpoints, exist_ok=True)
        for name, m in (("G", G), ("C", C), ("D", D)):
            torch.save(m.state_dict(), os.path.join(a.save_checkpoints, f"{name}.pt"))


def write_curves(path, curves):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["epoch", "domain", "split", "metric", "value"])
        for e, d, s, m, v in curves:
            w.writerow([e, d, s, m, "nan" if v != v else f"{v:.6f}"])
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
