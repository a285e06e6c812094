#!/usr/bin/env python3
"""From a PyTorch model in memory to a joint t-SNE, cohesion measures and a figure, in one process.

A small CNN is trained for a few seconds on a drawn source domain (bright shapes on dark ground); the
target domain is the same shapes with inverted polarity (the shift that domain adaptation must bridge).
A forward hook on the feature extractor collects the embeddings G(x) that the classifier sees, with no
change to the model's code, and dannscope takes the NumPy arrays from there:

    python examples/python/hook_tsne.py --out outputs/hook_example

Needs torch (``pip install "dannscope[export]"`` brings it) and the dannscope package.
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn as nn

import dannscope

CLASSES = ["disc", "square", "cross", "bar"]


def draw(n: int, invert: bool, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` 24 px images of the four shapes at random places and sizes, with noise."""
    g = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:24, 0:24]
    images, labels = np.zeros((n, 1, 24, 24), np.float32), g.integers(0, 4, n)
    for i, c in enumerate(labels):
        cy, cx, r = g.uniform(8, 16), g.uniform(8, 16), g.uniform(4, 7)
        dy, dx = yy - cy, xx - cx
        shape = [dy**2 + dx**2 < r**2, (abs(dy) < r) & (abs(dx) < r),
                 ((abs(dy) < 1.5) | (abs(dx) < 1.5)) & (abs(dy) < r) & (abs(dx) < r),
                 (abs(dy) < 2) & (abs(dx) < r)][c]
        img = shape.astype(np.float32) + g.normal(0, 0.25, (24, 24))
        images[i, 0] = 1.0 - img if invert else img
    return torch.from_numpy(images), torch.from_numpy(labels)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="outputs/hook_example", help="folder of the figure and numbers")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    xs, ys = draw(600, invert=False, seed=a.seed)
    xt, yt = draw(400, invert=True, seed=a.seed + 1)

    # G (features) and C (classifier): a model as a training script holds it.
    G = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                      nn.Flatten(), nn.Linear(128, 32), nn.ReLU())
    C = nn.Linear(32, len(CLASSES))
    model = nn.Sequential(G, C)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(8):  # a few epochs on the source only
        for i in range(0, len(xs), 50):
            opt.zero_grad()
            nn.functional.cross_entropy(model(xs[i:i + 50]), ys[i:i + 50]).backward()
            opt.step()

    # The embeddings G(x), caught by a forward hook while the model runs as usual.
    caught: list[np.ndarray] = []
    hook = G.register_forward_hook(lambda _m, _i, out: caught.append(out.detach().numpy()))
    model.eval()
    with torch.no_grad():
        logits_s = model(xs).numpy()
        logits_t = model(xt).numpy()
    hook.remove()
    emb_s, emb_t = caught  # float32, C-contiguous: dannscope reads them without a copy

    # One joint map of source and target, the measures of `dannscope eval`, and the figure.
    coords = dannscope.tsne([emb_s, emb_t], perplexity=30, seed=a.seed)
    cohesion = dannscope.metrics.cohesion(emb_s, ys.numpy(), emb_t, yt.numpy(),
                                          source_logits=logits_s, target_logits=logits_t)
    target = dannscope.metrics.classification(logits_t, yt.numpy(), class_names=CLASSES)
    os.makedirs(a.out, exist_ok=True)
    svg, png = dannscope.plot_tsne(
        coords, np.concatenate([ys.numpy(), yt.numpy()]),
        np.arange(len(coords)) >= len(emb_s), os.path.join(a.out, "tsne"),
        class_names=CLASSES, source_name="bright", target_name="inverted",
        title="Source-only CNN · bright → inverted",
        subtitle=f"target accuracy {100 * target['accuracy']:.1f} %")
    summary = {"target_accuracy": target["accuracy"], "target_auroc": target["auroc"],
               **{k: v["value"] for k, v in cohesion.items()}}
    with open(os.path.join(a.out, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    for k in ("target_accuracy", "silhouette_source", "silhouette_domain", "proxy_a_distance",
              "knn_transfer_accuracy"):
        if summary.get(k) is not None:
            print(f"{k:>24}: {summary[k]:.3f}")
    print(f"wrote {svg}, {png} and {os.path.join(a.out, 'summary.json')}")


if __name__ == "__main__":
    main()
