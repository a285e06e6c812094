#!/usr/bin/env python3
"""Make the inputs of the embed throughput bench: photo-like JPEGs in a dataset layout and a
MobileNetV3-Large ONNX model that follows the dannscope model contract.

The images are seeded and procedurally generated (smooth colour gradients, blurred value noise at
several scales, a few soft shapes, fine sensor-like noise) so that they compress like photographs:
at 816x612 and quality 90 they take roughly 100-200 kB each. Layout: <out>/images/<Domain>/<Class>/*.jpg.

The model is timm's ``mobilenetv3_large_100`` with random weights (nothing is downloaded), exported with
``embedding`` = forward_head(forward_features(x), pre_logits=True) (1280-d) and ``logits`` from a Linear
head to the number of classes; opset 18, dynamic batch, preprocessing metadata from timm's config
except the resize filter (``--interpolation``, bilinear by default).

Example:
  python3 scripts/make_bench_images.py --out outputs/bench
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
from PIL import Image, ImageFilter

DOMAINS = ("Photo", "Studio")
CLASSES = ("Bottle", "Chair", "Lamp", "Mug")


def value_noise(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    """Smooth noise in [0, 1]: a coarse random grid upsampled bicubically to h x w."""
    gh, gw = max(2, h // cell + 2), max(2, w // cell + 2)
    grid = rng.random((gh, gw), dtype=np.float32)
    img = Image.fromarray(grid, mode="F").resize((gw * cell, gh * cell), Image.BICUBIC)
    return np.asarray(img, dtype=np.float32)[:h, :w]


def photo_like(rng: np.random.Generator, w: int, h: int, domain: int, klass: int) -> Image.Image:
    """One RGB image with gradients, multi-scale texture, soft shapes and fine noise."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # Base: a two-colour gradient in a random direction, tinted per class and domain.
    base_a = rng.uniform(0.1, 0.9, 3).astype(np.float32)
    base_b = rng.uniform(0.1, 0.9, 3).astype(np.float32)
    tint = np.array([(klass * 0.13) % 1.0, (domain * 0.31) % 1.0, 0.5], np.float32)
    base_a = 0.75 * base_a + 0.25 * tint
    ang = rng.uniform(0, 2 * np.pi)
    t = (np.cos(ang) * xx / w + np.sin(ang) * yy / h)
    t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
    img = base_a[None, None, :] * (1 - t[..., None]) + base_b[None, None, :] * t[..., None]
    # Texture: value noise at several scales (coarse shading to fine grain), per channel mixing.
    for cell, amp in ((160, 0.25), (48, 0.12), (12, 0.10), (4, 0.08), (2, 0.05)):
        n = value_noise(rng, h, w, cell) - 0.5
        mix = rng.uniform(0.5, 1.0, 3).astype(np.float32)
        img += amp * n[..., None] * mix[None, None, :]
    # A few soft-edged shapes (objects) with their own colour and texture.
    for _ in range(int(rng.integers(2, 6))):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        rx, ry = rng.uniform(w * 0.05, w * 0.3), rng.uniform(h * 0.05, h * 0.3)
        d = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2
        mask = np.clip(1.5 - d, 0, 1)[..., None]
        col = rng.uniform(0, 1, 3).astype(np.float32)
        stripes = 0.1 * np.sin(xx * rng.uniform(0.02, 0.3) + yy * rng.uniform(0.02, 0.3))
        img = img * (1 - mask) + (col[None, None, :] + stripes[..., None]) * mask
    # Sensor-like noise.
    img += rng.normal(0, 0.02, img.shape).astype(np.float32)
    arr = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
    pil = Image.fromarray(arr, mode="RGB")
    if rng.random() < 0.15:  # some out-of-focus images
        pil = pil.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.5, 1.5))))
    return pil


def make_images(root: str, n: int, w: int, h: int, quality: int, seed: int) -> list[str]:
    """Write n images spread evenly over DOMAINS x CLASSES; returns their relative paths."""
    paths = []
    groups = [(d, c) for d in range(len(DOMAINS)) for c in range(len(CLASSES))]
    for i in range(n):
        d, c = groups[i % len(groups)]
        rng = np.random.default_rng([seed, i])
        # Alternate landscape and portrait orientation (same pixel count).
        iw, ih = (w, h) if rng.random() < 0.8 else (h, w)
        rel = os.path.join(DOMAINS[d], CLASSES[c], f"img_{i:04d}.jpg")
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        photo_like(rng, iw, ih, d, c).save(path, "JPEG", quality=quality)
        paths.append(rel)
    return paths


def export_model(path: str, arch: str, n_classes: int, seed: int, interpolation: str) -> None:
    """Export ``arch`` (random weights) with ``embedding`` and ``logits`` outputs per the model
    contract and check it against PyTorch with onnxruntime."""
    import onnx
    import timm
    import onnxruntime
    import torch

    torch.manual_seed(seed)
    g = timm.create_model(arch, pretrained=False).eval()
    pc = g.pretrained_cfg
    size = int(pc.get("input_size", (3, 224, 224))[1])
    with torch.no_grad():
        dim = g.forward_head(g.forward_features(torch.zeros(1, 3, size, size)), pre_logits=True).shape[1]
    head = torch.nn.Linear(dim, n_classes)

    class Graph(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.g, self.c = g, head

        def forward(self, image):
            e = self.g.forward_head(self.g.forward_features(image), pre_logits=True).flatten(1)
            return e, self.c(e)

    graph = Graph().eval()
    x = torch.randn(2, 3, size, size)
    batch = torch.export.Dim("batch", min=1, max=4096)
    prog = torch.onnx.export(graph, (x,), None, dynamo=True, opset_version=18,
                             input_names=["image"], output_names=["embedding", "logits"],
                             dynamic_shapes={"image": {0: batch}}, optimize=True)
    tmp = path + ".tmp.onnx"
    prog.save(tmp)
    m = onnx.load(tmp, load_external_data=True)
    meta = {
        "dannscope.arch": arch,
        "dannscope.input_size": str(size),
        "dannscope.crop_pct": repr(float(pc.get("crop_pct", 0.875))),
        "dannscope.interpolation": interpolation,
        "dannscope.mean": ",".join(repr(float(v)) for v in pc.get("mean")),
        "dannscope.std": ",".join(repr(float(v)) for v in pc.get("std")),
        "dannscope.classes": json.dumps(list(CLASSES)),
    }
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, path, save_as_external_data=False)
    for p in (tmp, tmp + ".data"):
        if os.path.exists(p):
            os.remove(p)
    onnx.checker.check_model(path)
    x = torch.randn(3, 3, size, size, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        ref = [t.numpy() for t in graph(x)]
    sess = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(["embedding", "logits"], {"image": x.numpy()})
    diff = max(float(np.abs(r - o).max()) for r, o in zip(ref, got))
    if not diff < 1e-3:
        raise SystemExit(f"{path}: onnxruntime differs from PyTorch by {diff}")
    print(f"exported {path} (embedding {dim}-d, {n_classes} classes, max abs diff vs PyTorch {diff:.1e})")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="outputs/bench", help="output folder (images/ and model.onnx)")
    ap.add_argument("-n", type=int, default=480, help="number of images")
    ap.add_argument("--width", type=int, default=816)
    ap.add_argument("--height", type=int, default=612)
    ap.add_argument("--quality", type=int, default=90)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--arch", default="mobilenetv3_large_100")
    ap.add_argument("--interpolation", default="bilinear", choices=("bilinear", "bicubic"),
                    help="resize filter written to the model metadata")
    ap.add_argument("--force", action="store_true", help="rewrite existing images and model")
    a = ap.parse_args(argv)

    img_root = os.path.join(a.out, "images")
    stamp = os.path.join(a.out, "images.json")
    want = {"generator": 2, "n": a.n, "width": a.width, "height": a.height, "quality": a.quality, "seed": a.seed}
    have = None
    if os.path.exists(stamp) and not a.force:
        with open(stamp) as f:
            have = json.load(f)
    if have == want:
        print(f"{img_root}: {a.n} images already there")
    else:
        paths = make_images(img_root, a.n, a.width, a.height, a.quality, a.seed)
        sizes = [os.path.getsize(os.path.join(img_root, p)) for p in paths]
        print(f"wrote {len(paths)} images under {img_root} "
              f"(median {int(np.median(sizes)) // 1024} kB, {a.width}x{a.height}, q{a.quality})")
        with open(stamp, "w") as f:
            json.dump(want, f)
    model = os.path.join(a.out, f"{a.arch}.onnx")
    if os.path.exists(model) and not a.force:
        print(f"{model}: already there")
    else:
        export_model(model, a.arch, len(CLASSES), a.seed, a.interpolation)


if __name__ == "__main__":
    main()
