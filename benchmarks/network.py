"""The network-patch benchmark: a long TensorRT network built the way the ONNX parser builds a chain of
`output_shape` ConvTransposes with an odd total (shifted by one: every unit needs a patch), with a residual add
and a scale after each; on TensorRT-RTX's real network (tests/rtx, the headline) and on the stand-in
(tests/standin, TensorRT's documented shape rules in Python).

Four layers per unit: deconvolution, elementwise SUM (residual), constant, elementwise PROD.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from polygraphy_deconv.core import ConvTransposeAttributes, analyse_node
from polygraphy_deconv.onnx_model.reading import ConvTransposeNode

CHANNELS, SIZE = 4, 6


def build_chain(units: int, trt: Any = None) -> tuple[Any, list[ConvTransposeNode]]:
    """A network of `units` units on `trt` (the stand-in module by default), and the ONNX nodes they come from."""
    if trt is None:
        from tests.standin import network as trt
    rng = np.random.default_rng(0)
    keep = []  # the arrays behind the Weights, alive as long as the network
    network = trt.Builder(trt.Logger()).create_network(0) if hasattr(trt, "OnnxParser") else trt.INetworkDefinition()
    tensor = network.add_input("x", trt.DataType.FLOAT, [1, CHANNELS, SIZE, SIZE])
    nodes = []
    # k2 s1, output_shape = I: total = 1, the parser begins at 0, onnxruntime at 1.
    attributes = {"strides": [1, 1], "output_shape": [SIZE, SIZE]}
    scale = trt.Weights(np.full((1, CHANNELS, 1, 1), 0.5, dtype=np.float32))
    for index in range(units):
        name = f"up{index}"
        attrs = ConvTransposeAttributes.from_onnx(name, attributes, [CHANNELS, CHANNELS, 2, 2])
        nodes.append(ConvTransposeNode(name, index, f"{name}.out", "initializer", analyse_node(attrs, [SIZE, SIZE])))
        weight = rng.standard_normal((CHANNELS, CHANNELS, 2, 2)).astype(np.float32)
        bias = rng.standard_normal(CHANNELS).astype(np.float32)
        keep += [weight, bias]
        layer = network.add_deconvolution_nd(tensor, CHANNELS, trt.Dims([2, 2]), trt.Weights(weight), trt.Weights(bias))
        layer.name = name
        layer.stride_nd = trt.Dims([1, 1])
        layer.pre_padding = trt.Dims([0, 0])
        layer.post_padding = trt.Dims([1, 1])
        layer.get_output(0).name = f"{name}.out"
        residual = network.add_elementwise(layer.get_output(0), tensor, trt.ElementWiseOperation.SUM)
        constant = network.add_constant(trt.Dims([1, CHANNELS, 1, 1]), scale)
        tensor = network.add_elementwise(
            residual.get_output(0), constant.get_output(0), trt.ElementWiseOperation.PROD
        ).get_output(0)
    tensor.name = "y"
    network.mark_output(tensor)
    network._benchmark_arrays = keep
    return network, nodes


def rtx_patch_seconds(units: int) -> float | None:
    """Seconds `fix_network` takes on a chain of `units` units in TensorRT-RTX's real network (None where
    TensorRT-RTX cannot be loaded). Shapes come from TensorRT's C++; every call crosses ctypes."""
    from tests.rtx.harness import available, rtx_tensorrt

    if available() is not None:
        return None
    with rtx_tensorrt() as trt:
        from polygraphy_deconv.trt_network.patching import ACTION_PATCHED, fix_network

        network, nodes = build_chain(units, trt)
        assert network.num_layers == 4 * units
        start = time.perf_counter()
        fix = fix_network(network, nodes)
        seconds = time.perf_counter() - start
        assert [r.action for r in fix.results] == [ACTION_PATCHED] * units
        return seconds


def patch_seconds(units: int) -> float:
    """Seconds `fix_network` takes on a fresh chain of `units` units (4 layers each); asserts it patched all."""
    from tests.standin.network import tensorrt_module

    saved = sys.modules.get("tensorrt")
    sys.modules["tensorrt"] = tensorrt_module()
    try:
        from polygraphy_deconv.trt_network.patching import ACTION_PATCHED, fix_network

        network, nodes = build_chain(units)
        assert network.num_layers == 4 * units  # type: ignore[attr-defined]
        start = time.perf_counter()
        fix = fix_network(network, nodes)  # type: ignore[arg-type]
        seconds = time.perf_counter() - start
        assert [r.action for r in fix.results] == [ACTION_PATCHED] * units
        return seconds
    finally:
        if saved is None:
            del sys.modules["tensorrt"]
        else:
            sys.modules["tensorrt"] = saved


def standin_shape_seconds(units: int) -> float:
    """Seconds the stand-in takes to compute every tensor shape of the patched chain once, in Python.

    fix_network makes it do that twice (reading the network, reading it back after patching); TensorRT
    computes shapes in C++. This shows how much of patch_seconds is the stand-in rather than the patch.
    """
    from tests.standin.network import tensorrt_module

    saved = sys.modules.get("tensorrt")
    sys.modules["tensorrt"] = tensorrt_module()
    try:
        from polygraphy_deconv.trt_network.patching import fix_network

        network, nodes = build_chain(units)
        fix_network(network, nodes)  # type: ignore[arg-type]
        network._revision += 1  # type: ignore[attr-defined]  # forget every cached shape
        start = time.perf_counter()
        for index in range(network.num_layers):  # type: ignore[attr-defined]
            layer = network.get_layer(index)  # type: ignore[attr-defined]
            for out in range(layer.num_outputs):
                layer.get_output(out).shape  # noqa: B018
        return time.perf_counter() - start
    finally:
        if saved is None:
            del sys.modules["tensorrt"]
        else:
            sys.modules["tensorrt"] = saved
