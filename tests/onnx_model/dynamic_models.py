"""Models with dynamic input sizes that constrain the sizes they run at (tests of verification sizes)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.models import OPSET


def unet(input_shape: Sequence[int | str] = (1, 3, "H", "W"), skip_shape: Sequence[int | str] | None = None) -> onnx.ModelProto:
    """x -> Conv (k3 s2 p1) -> ConvTranspose (k2 s2, ok for every size) -> Concat with x (or with a second input
    `skip` of `skip_shape`): runs only where the upsampled size equals the skip's, i.e. H and W even.
    At 1 (what Polygraphy's data loader feeds a dynamic dim) onnxruntime fails in the Concat."""
    rng = np.random.default_rng(0)
    channels = int(input_shape[1])
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_shape))]
    skip = "x"
    if skip_shape is not None:
        inputs.append(helper.make_tensor_value_info("skip", TensorProto.FLOAT, list(skip_shape)))
        skip = "skip"
    initializers = [
        numpy_helper.from_array(rng.standard_normal((4, channels, 3, 3)).astype(np.float32), "Wd"),
        numpy_helper.from_array(rng.standard_normal((4, 4, 2, 2)).astype(np.float32), "Wu"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "Wd"], ["down"], name="down", strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("ConvTranspose", ["down", "Wu"], ["up"], name="up", strides=[2, 2]),
        helper.make_node("Concat", ["up", skip], ["y"], name="cat", axis=1),
    ]
    graph = helper.make_graph(nodes, "unet", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    return model


def mismatched_sizes() -> onnx.ModelProto:
    """y = Concat(x, s) on the channels with x [1, 3, H, W] and s [1, 3, 5, 7]: consistent only at H=5, W=7,
    which no single size for both dims gives: the verification cannot choose, the user has to bind H and W."""
    graph = helper.make_graph(
        [helper.make_node("Concat", ["x", "s"], ["y"], name="cat", axis=1)], "mismatched",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"]),
            helper.make_tensor_value_info("s", TensorProto.FLOAT, [1, 3, 5, 7]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
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
