"""Models with dynamic input sizes that constrain the sizes they run at (tests of verification sizes)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.models import OPSET


def unet(
    input_shape: Sequence[int | str] = (1, 3, "H", "W"), skip_shape: Sequence[int | str] | None = None, *, same: bool = False
) -> onnx.ModelProto:
    """x -> Conv (k3 s2 p1) -> ConvTranspose (k2 s2, ok for every size) -> Concat with x (or with a second input
    `skip` of `skip_shape`): runs only where the upsampled size equals the skip's, i.e. H and W even.
    At 1 (what Polygraphy's data loader feeds a dynamic dim) onnxruntime fails in the Concat.

    `same`: the ConvTranspose as paddle2onnx writes padding 'SAME' (k3 s2, auto_pad SAME_UPPER, output_padding 1):
    the same sizes at run time, shifted on TensorRT (fix rewrites it), and declared one larger by ONNX shape
    inference, which then finds the Concat inconsistent at every size (docs/deconv-semantics.md section 2)."""
    rng = np.random.default_rng(0)
    channels = int(input_shape[1])
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_shape))]
    skip = "x"
    if skip_shape is not None:
        inputs.append(helper.make_tensor_value_info("skip", TensorProto.FLOAT, list(skip_shape)))
        skip = "skip"
    initializers = [
        numpy_helper.from_array(rng.standard_normal((4, channels, 3, 3)).astype(np.float32), "Wd"),
        numpy_helper.from_array(rng.standard_normal((4, 4, 3, 3) if same else (4, 4, 2, 2)).astype(np.float32), "Wu"),
    ]
    up = {"auto_pad": "SAME_UPPER", "output_padding": [1, 1]} if same else {}
    nodes = [
        helper.make_node("Conv", ["x", "Wd"], ["down"], name="down", strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("ConvTranspose", ["down", "Wu"], ["up"], name="up", strides=[2, 2], **up),
        helper.make_node("Concat", ["up", skip], ["y"], name="cat", axis=1),
    ]
    graph = helper.make_graph(nodes, "unet", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    return model


def mismatched_sizes(rewritten: bool = False) -> onnx.ModelProto:
    """y = Concat(x, s) on the channels with x [1, 3, H, W] and s [1, 3, 5, 7]: consistent only at H=5, W=7,
    which no single size for both dims gives: the verification cannot choose, the user has to bind H and W.

    `rewritten`: x goes through a ConvTranspose fix rewrites first (k2 s2, output_padding 1, the bias a graph input:
    tensor-bias), so that there is something to verify; s is then [1, 3, 11, 15]."""
    nodes = [helper.make_node("Concat", ["x", "s"], ["y"], name="cat", axis=1)]
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"]),
        helper.make_tensor_value_info("s", TensorProto.FLOAT, [1, 3, 11, 15] if rewritten else [1, 3, 5, 7]),
    ]
    initializers = []
    if rewritten:
        initializers.append(numpy_helper.from_array(np.ones((3, 3, 2, 2), np.float32), "Wu"))
        inputs.append(helper.make_tensor_value_info("B", TensorProto.FLOAT, [3]))
        nodes.insert(0, helper.make_node("ConvTranspose", ["x", "Wu", "B"], ["up"], name="up", strides=[2, 2], output_padding=[1, 1]))
        nodes[1].input[0] = "up"
    graph = helper.make_graph(
        nodes, "mismatched", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializers
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    return model


def gather_after_upsample(row: int = 9) -> onnx.ModelProto:
    """x [1, 2, H, W] -> ConvTranspose (k2 s2, ok for every size) -> Gather of one row (axis 2): ONNX shape inference
    accepts every size (it does not look at the index), onnxruntime runs it only where 2H > row."""
    rng = np.random.default_rng(1)
    initializers = [
        numpy_helper.from_array(rng.standard_normal((2, 2, 2, 2)).astype(np.float32), "W"),
        numpy_helper.from_array(np.array([row], np.int64), "row"),
    ]
    nodes = [
        helper.make_node("ConvTranspose", ["x", "W"], ["up"], name="up", strides=[2, 2]),
        helper.make_node("Gather", ["up", "row"], ["y"], name="pick", axis=2),
    ]
    graph = helper.make_graph(
        nodes, "gather", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    return model


def dynamic_output_shape() -> onnx.ModelProto:
    """x [N, 4, H, W] -> ConvTranspose (k3 s2, output_shape [31, 31]): with --input-shapes x:[2,4,16,16] the ONNX
    window is b=(1,1) e=(1,1), but TensorRT's parser reads -1 for H and W and fails ("negative pre-padding"):
    parse-error whatever the bound sizes (issue 16)."""
    from tests.models import conv_transpose_model

    return conv_transpose_model(["N", 4, "H", "W"], [4, 2, 3, 3], strides=[2, 2], output_shape=[31, 31])


DYNAMIC_OUTPUT_SHAPE_BOUND = {"x": (2, 4, 16, 16)}  # the sizes the tests of dynamic_output_shape() bind
