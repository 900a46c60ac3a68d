"""Models the network side is run on beyond the samples, each as the field writes them: a name, the model, the
input shapes to bind (dynamic ones), and what the plugin must do. Shared by the in-process tests on TensorRT-RTX
(test_networks.py) and the real command lines (test_command_lines.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.data import negative_pads
from tests.models import conv_transpose_model
from tests.onnx_model import dynamic_models, producer_models


@dataclass(frozen=True)
class FieldModel:
    name: str
    build: Callable[[], onnx.ModelProto]
    input_shapes: dict[str, list[int]] | None = None  # None: every dynamic dim at the sizes verification picks
    actions: tuple[str, ...] | None = None  # the loader's actions per node, where the test names them
    onnxruntime_runs: bool = True  # False: onnxruntime 1.32 refuses the original (negative pads)


def chain_model(nodes: list[onnx.NodeProto], inputs: list[onnx.ValueInfoProto], initializers: list[onnx.TensorProto],
                outputs: list[str], elem: int = TensorProto.FLOAT) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info(o, elem, None) for o in outputs],
                              initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def unet_pad_after_conv_transpose() -> onnx.ModelProto:
    """An exported U-Net pads the upsampled tensor to the skip connection's size: the Pad's fill-slice (named
    after the Pad node) is the model's own, not the parser's extension."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((4, 2, 2, 2)).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.standard_normal(2).astype(np.float32), "B")
    pads = numpy_helper.from_array(np.array([0, 0, 0, 0, 0, 0, 1, 1], np.int64), "pads")
    nodes = [
        helper.make_node("ConvTranspose", ["x", "W", "B"], ["up"], name="up", strides=[2, 2]),
        helper.make_node("Pad", ["up", "pads"], ["padded"], name="pad", mode="constant"),
        helper.make_node("Relu", ["padded"], ["y"], name="relu"),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 5, 5])
    return chain_model(nodes, [x], [w, b, pads], ["y"])


def unnamed_and_duplicate_nodes() -> onnx.ModelProto:
    """The parser names an unnamed node's layer after its output and suffixes a repeated name: each unit is
    matched to its node by its output tensor, never by a repeated name."""
    rng = np.random.default_rng(1)
    w = numpy_helper.from_array(rng.standard_normal((2, 2, 3, 3)).astype(np.float32), "W")
    nodes = [
        helper.make_node("ConvTranspose", ["x", "W"], ["a"], strides=[2, 2], output_shape=[10, 12]),
        helper.make_node("ConvTranspose", ["x", "W"], ["b"], name="dup", strides=[2, 2], pads=[1, 1, 0, 0],
                         output_padding=[1, 1]),
        helper.make_node("ConvTranspose", ["x", "W"], ["c"], name="dup", strides=[2, 2], output_shape=[10, 12]),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 6])
    return chain_model(nodes, [x], [w], ["a", "b", "c"])


def float16() -> onnx.ModelProto:
    model = conv_transpose_model([1, 2, 5, 6], [2, 2, 3, 3], strides=[2, 2], output_shape=[10, 12])
    for initializer in model.graph.initializer:
        initializer.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(initializer).astype(np.float16),
                                                     initializer.name))
    model.graph.input[0].type.tensor_type.elem_type = TensorProto.FLOAT16
    model.graph.output[0].type.tensor_type.elem_type = TensorProto.FLOAT16
    return model


FIELD_MODELS = (
    FieldModel("unet_pad_after_conv_transpose", unet_pad_after_conv_transpose, actions=("ok",)),
    FieldModel("unnamed_and_duplicate_nodes", unnamed_and_duplicate_nodes, actions=("patched", "ok", "patched")),
    FieldModel("float16", float16, actions=("patched",)),
    FieldModel("dynamic_batch", lambda: conv_transpose_model(
        ["N", 2, 5, 6], [2, 2, 3, 3], strides=[2, 2], pads=[0, 0, 0, 0], output_padding=[1, 1]),
        {"x": [2, 2, 5, 6]}),
    # The extension's size on a dynamic batch is shapeOf(deconvolution) + a constant of the shape's own type
    # (INT64 on TensorRT-RTX: an INT32 constant failed the build with an internal error).
    FieldModel("dynamic_batch_tensor_bias", lambda: conv_transpose_model(
        ["N", 2, 5, 6], [2, 2, 3, 3], bias="tensor", strides=[2, 2], pads=[0, 0, 0, 0], output_padding=[1, 1]),
        {"x": [2, 2, 5, 6], "B": [2]}, ("patched",)),
    FieldModel("dynamic_output_shape", lambda: conv_transpose_model(
        [1, 2, "H", "W"], [2, 2, 4, 4], strides=[2, 2], output_shape=[13, 15]), {"x": [1, 2, 5, 6]}),
    # Groups and dilations with stride 1 (TensorRT-RTX refuses any stride > 1 beside any dilation > 1); odd totals.
    FieldModel("groups_dilations_3d", lambda: conv_transpose_model(
        [1, 4, 3, 4, 5], [4, 1, 2, 3, 2], group=4, dilations=[2, 1, 2], output_shape=[4, 5, 6]), actions=("patched",)),
    FieldModel("tensor_bias_1d_same", lambda: conv_transpose_model(
        [1, 2, 7], [2, 3, 3], bias="tensor", strides=[2], auto_pad="SAME_UPPER", output_padding=[1]),
        {"x": [1, 2, 7], "B": [3]}),
    # A U-Net whose H and W are dynamic: it runs only at even sizes (verification picks them).
    FieldModel("unet_dynamic_sizes", lambda: dynamic_models.unet(("N", 3, "H", "W"))),
    FieldModel("dynamic_output_shape_bound", dynamic_models.dynamic_output_shape,
               {name: list(dims) for name, dims in dynamic_models.DYNAMIC_OUTPUT_SHAPE_BOUND.items()}),
    # paddle2onnx writes SAME_* with output_padding, and 1D nodes as producers write them.
    FieldModel("paddle2onnx_same_output_padding", producer_models.paddle2onnx_same_output_padding),
    FieldModel("paddle2onnx_same_dynamic_batch", producer_models.paddle2onnx_same_dynamic_batch),
    FieldModel("output_shape_1d", producer_models.output_shape_1d),
    FieldModel("same_upper_output_padding_1d", producer_models.same_upper_output_padding_1d),
    # tf2onnx's negative pads (docs/deconv-semantics.md): the plugin rewrites them before the parse.
    *(FieldModel(name, lambda name=name: negative_pads.BUILDERS[name]()[0], onnxruntime_runs=False)
      for name in ("tf2onnx_end_2d", "tf2onnx_both_2d", "tf2onnx_3d", "begin_negative_1d", "end_negative_tensor_bias_2d")),
    # TensorRT-RTX's own limit: stride > 1 with dilation > 1 on one axis is refused at build time.
    FieldModel("strided_dilated", lambda: conv_transpose_model(
        [1, 2, 5, 6], [2, 2, 3, 3], strides=[2, 2], dilations=[2, 1], output_shape=[13, 13])),
)
