"""Models in the forms other exporters write, with the shapes they declare (graph outputs and value_info), for the
tests that fix's output passes onnx.checker.check_model(full_check=True) wherever the input does (issue 16).

An exporter that runs ONNX shape inference declares what it infers, which for SAME_* with output_padding is not what
runs (docs/deconv-semantics.md section 2): `declared` below gives a model exactly those declarations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.models import OPSET, conv_transpose_model


def declared(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with every graph output and intermediate tensor declared as ONNX shape inference infers it
    (the declarations it had are dropped first), as exporters that run shape inference write them."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for value in copy.graph.output:
        value.type.tensor_type.ClearField("shape")
    del copy.graph.value_info[:]
    return onnx.shape_inference.infer_shapes(copy)


def _chain(
    name: str, input_shape: Sequence[int | str], after: Sequence[str], **attributes: Any
) -> onnx.ModelProto:
    """x -> ConvTranspose (paddle2onnx's attributes) -> each op of `after` in turn -> y."""
    rng = np.random.default_rng(sum(map(ord, name)))
    channels = int(input_shape[1])
    kernel = attributes["kernel_shape"]
    weight = numpy_helper.from_array(rng.standard_normal((channels, 2, *kernel)).astype(np.float32), "W")
    bias = numpy_helper.from_array(rng.standard_normal(2).astype(np.float32), "B")
    nodes = [helper.make_node("ConvTranspose", ["x", "W", "B"], ["up"], name="up", **attributes)]
    previous = "up"
    for index, op in enumerate(after):
        output = "y" if index == len(after) - 1 else f"{op.lower()}_{index}"
        nodes.append(helper.make_node(op, [previous], [output], name=f"{op.lower()}_{index}"))
        previous = output
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info(previous, TensorProto.FLOAT, None)], [weight, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="paddle2onnx")
    model.ir_version = 8
    return declared(model)


# paddle2onnx writes padding 'SAME' as auto_pad SAME_UPPER and keeps output_padding, with dilations, group,
# kernel_shape and strides spelled out (PaddlePaddle/Paddle2ONNX@250b3f5:paddle2onnx/mapper/nn/conv2d_transpose.cc:
# 52-63).
def paddle2onnx_same_output_padding() -> onnx.ModelProto:
    """SAME_UPPER with output_padding 1, then a Relu: shape inference declares 17x17 for both, 16x16 runs."""
    return _chain(
        "paddle2onnx_same_output_padding", [1, 4, 8, 8], ["Relu"], auto_pad="SAME_UPPER", output_padding=[1, 1],
        dilations=[1, 1], group=1, kernel_shape=[3, 3], strides=[2, 2],
    )


def paddle2onnx_same_dynamic_batch() -> onnx.ModelProto:
    """SAME_UPPER, kernel 3, stride 2, output_padding 1 on a dynamic batch, then Sigmoid and Relu."""
    return _chain(
        "paddle2onnx_same_dynamic_batch", ["N", 3, 5, 7], ["Sigmoid", "Relu"], auto_pad="SAME_UPPER",
        output_padding=[1, 1], dilations=[1, 1], group=1, kernel_shape=[3, 3], strides=[2, 2],
    )


def output_shape_1d() -> onnx.ModelProto:
    """A 1D node with output_shape [2]: onnx 1.23's shape inference declares a rank-2 output for it."""
    return declared(conv_transpose_model([1, 2, 5], [2, 3, 3], strides=[2], output_shape=[2]))


def same_upper_output_padding_1d() -> onnx.ModelProto:
    return declared(conv_transpose_model([1, 2, 5], [2, 3, 3], strides=[2], auto_pad="SAME_UPPER", output_padding=[1]))


PRODUCER_MODELS: dict[str, Callable[[], onnx.ModelProto]] = {
    builder.__name__: builder
    for builder in (paddle2onnx_same_output_padding, paddle2onnx_same_dynamic_batch, output_shape_1d, same_upper_output_padding_1d)
}
