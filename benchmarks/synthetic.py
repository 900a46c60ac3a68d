"""A large synthetic decoder-like ONNX model for benchmarks: `blocks` blocks of 20 nodes each, one of them a
ConvTranspose (k3 s2 p1 output_padding 1, as PyTorch decoders write it), weights stored as external data.

    Conv(k3 s2 p1) -> Relu -> ConvTranspose(k3 s2 p1 op1) -> Relu -> 16 cheap elementwise nodes

The spatial size goes 8 -> 4 -> 8 in every block, so the graph can be arbitrarily long.
"""

from __future__ import annotations

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

NODES_PER_BLOCK = 20


def build_synthetic_model(path: str, blocks: int = 5000, channels: int = 8, size: int = 8, seed: int = 0) -> int:
    """Write the model (and its external data file beside it); return the number of nodes."""
    rng = np.random.default_rng(seed)
    nodes, initializers = [], []
    current = "x"
    scale = numpy_helper.from_array(np.array([0.5], dtype=np.float32), "scale")
    initializers.append(scale)
    cheap_ops = ["Relu", "Sigmoid", "Abs", "Neg", "Relu", "Identity", "Relu", "Abs"]
    for block in range(blocks):
        prefix = f"b{block}"
        w_conv = numpy_helper.from_array(
            (rng.standard_normal((channels, channels, 3, 3)) * 0.1).astype(np.float32), f"{prefix}.conv.W"
        )
        w_deconv = numpy_helper.from_array(
            (rng.standard_normal((channels, channels, 3, 3)) * 0.1).astype(np.float32), f"{prefix}.deconv.W"
        )
        b_deconv = numpy_helper.from_array(rng.standard_normal(channels).astype(np.float32), f"{prefix}.deconv.B")
        initializers += [w_conv, w_deconv, b_deconv]
        nodes.append(helper.make_node(
            "Conv", [current, w_conv.name], [f"{prefix}.conv"], name=f"{prefix}.conv",
            kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
        ))
        nodes.append(helper.make_node("Relu", [f"{prefix}.conv"], [f"{prefix}.relu0"], name=f"{prefix}.relu0"))
        nodes.append(helper.make_node(
            "ConvTranspose", [f"{prefix}.relu0", w_deconv.name, b_deconv.name], [f"{prefix}.deconv"],
            name=f"{prefix}.deconv", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1],
        ))
        nodes.append(helper.make_node("Relu", [f"{prefix}.deconv"], [f"{prefix}.relu1"], name=f"{prefix}.relu1"))
        current = f"{prefix}.relu1"
        for i in range(NODES_PER_BLOCK - 4):
            out = f"{prefix}.e{i}"
            if i % 2 == 0:
                nodes.append(helper.make_node("Mul", [current, "scale"], [out], name=out))
            else:
                nodes.append(helper.make_node(cheap_ops[i % len(cheap_ops)], [current], [out], name=out))
            current = out
    graph = helper.make_graph(
        nodes, "synthetic_decoder",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, size, size])],
        [helper.make_tensor_value_info(current, TensorProto.FLOAT, None)],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    location = os.path.basename(path) + ".data"
    onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location=location, size_threshold=0)
    return len(nodes)
