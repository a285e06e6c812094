#!/usr/bin/env python3
"""Write a MobileNetV3-Large ONNX model that follows the dannscope model contract, without torch.

The graph is timm's ``mobilenetv3_large_100`` at inference (BatchNorm folded into the convolutions):
stem 3x3/2 conv (16) + hard-swish, the 15 inverted-residual blocks of the paper's table (squeeze-excite
with ReLU and hard-sigmoid, reduction to make_divisible(expanded / 4, 8)), 1x1 conv to 960 + hard-swish,
global average pooling, ``conv_head`` 1x1 to 1280 + hard-swish = ``embedding`` [N, 1280], and a linear
head = ``logits`` [N, C]. Same layer shapes and FLOPs (about 0.22 GMAC per 224-px image) as the timm
model; the weights are seeded random numbers (He-scaled), so it is a stand-in for timing and for
CPU/GPU agreement, not a classifier. Input ``image`` [N, 3, 224, 224] with a dynamic batch; opset 18.

Used where torch is not installed (scripts/bench_embed.py's inputs, scripts/gpu_check.sh's fallback);
models/export_onnx.py exports the real timm model when torch and timm are there.

Example:  python3 scripts/make_mobilenetv3_onnx.py --out outputs/bench/mobilenetv3_large_100.onnx
Needs: numpy, onnx.
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# kernel, expanded, out, squeeze-excite, activation ("RE" relu, "HS" hard-swish), stride
BLOCKS = [
    (3, 16, 16, False, "RE", 1),
    (3, 64, 24, False, "RE", 2),
    (3, 72, 24, False, "RE", 1),
    (5, 72, 40, True, "RE", 2),
    (5, 120, 40, True, "RE", 1),
    (5, 120, 40, True, "RE", 1),
    (3, 240, 80, False, "HS", 2),
    (3, 200, 80, False, "HS", 1),
    (3, 184, 80, False, "HS", 1),
    (3, 184, 80, False, "HS", 1),
    (3, 480, 112, True, "HS", 1),
    (3, 672, 112, True, "HS", 1),
    (5, 672, 160, True, "HS", 2),
    (5, 960, 160, True, "HS", 1),
    (5, 960, 160, True, "HS", 1),
]


def make_divisible(v: float, divisor: int = 8) -> int:
    """timm's make_divisible (round_limit 0.9)."""
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


class Builder:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, what: str) -> str:
        self.n += 1
        return f"{what}_{self.n}"

    def const(self, arr: np.ndarray, what: str) -> str:
        n = self.name(what)
        self.inits.append(numpy_helper.from_array(arr.astype(np.float32), n))
        return n

    def conv(self, x, cin, cout, k, stride=1, groups=1, bias_std=0.01):
        fan_in = cin // groups * k * k
        w = self.rng.normal(0, np.sqrt(2.0 / fan_in), (cout, cin // groups, k, k))
        b = self.rng.normal(0, bias_std, cout)
        y = self.name("conv")
        self.nodes.append(helper.make_node(
            "Conv", [x, self.const(w, "w"), self.const(b, "b")], [y], kernel_shape=[k, k],
            strides=[stride, stride], pads=[k // 2] * 4, group=groups))
        return y

    def act(self, x, kind):
        op = {"RE": "Relu", "HS": "HardSwish", "HSIG": "HardSigmoid"}[kind]
        y = self.name(op.lower())
        attrs = {"alpha": 1.0 / 6.0, "beta": 0.5} if kind == "HSIG" else {}
        self.nodes.append(helper.make_node(op, [x], [y], **attrs))
        return y

    def op(self, op, inputs, **attrs):
        y = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [y], **attrs))
        return y


def build(n_classes: int, seed: int, size: int, interpolation: str) -> onnx.ModelProto:
    b = Builder(seed)
    x = b.act(b.conv("image", 3, 16, 3, stride=2), "HS")
    cin = 16
    for k, exp, out, se, nl, s in BLOCKS:
        inp = x
        if exp != cin:  # expansion 1x1
            x = b.act(b.conv(x, cin, exp, 1), nl)
        x = b.act(b.conv(x, exp, exp, k, stride=s, groups=exp), nl)  # depthwise
        if se:
            rd = make_divisible(exp * 0.25, 8)
            g = b.op("GlobalAveragePool", [x])
            g = b.act(b.conv(g, exp, rd, 1), "RE")
            g = b.act(b.conv(g, rd, exp, 1), "HSIG")
            x = b.op("Mul", [x, g])
        x = b.conv(x, exp, out, 1)  # projection, linear
        if s == 1 and cin == out:
            x = b.op("Add", [x, inp])
        cin = out
    x = b.act(b.conv(x, cin, 960, 1), "HS")
    x = b.op("GlobalAveragePool", [x])
    x = b.act(b.conv(x, 960, 1280, 1), "HS")  # timm's conv_head (bias, no BN)
    emb = b.op("Flatten", [x], axis=1)
    b.nodes.append(helper.make_node("Identity", [emb], ["embedding"]))
    w = b.rng.normal(0, np.sqrt(1.0 / 1280), (1280, n_classes))
    bias = np.zeros(n_classes)
    b.nodes.append(helper.make_node("Gemm", ["embedding", b.const(w, "fc_w"), b.const(bias, "fc_b")],
                                    ["logits"]))
    graph = helper.make_graph(
        b.nodes, "mobilenetv3_large_100",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, size, size])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 1280]),
         helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", n_classes])],
        b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)],
                              producer_name="dannscope scripts/make_mobilenetv3_onnx.py")
    model.ir_version = 9
    meta = {
        "dannscope.arch": "mobilenetv3_large_100",
        "dannscope.input_size": str(size),
        "dannscope.crop_pct": "0.875",
        "dannscope.interpolation": interpolation,
        "dannscope.mean": "0.485,0.456,0.406",
        "dannscope.std": "0.229,0.224,0.225",
    }
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    return model


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--num-classes", type=int, default=4)
    ap.add_argument("--classes", help="class names in logit order (JSON list), written as dannscope.classes")
    ap.add_argument("--input-size", type=int, default=224)
    ap.add_argument("--interpolation", default="bilinear", choices=("bilinear", "bicubic"))
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    classes = json.loads(a.classes) if a.classes else None
    n = len(classes) if classes else a.num_classes
    m = build(n, a.seed, a.input_size, a.interpolation)
    if classes:
        p = m.metadata_props.add()
        p.key, p.value = "dannscope.classes", json.dumps(classes)
    onnx.checker.check_model(m)
    onnx.save(m, a.out)
    n_params = sum(int(np.prod(t.dims)) for t in m.graph.initializer)
    print(f"wrote {a.out}: MobileNetV3-Large, {n_params / 1e6:.2f} M parameters, {n} classes")


if __name__ == "__main__":
    main()
