"""Small ONNX models for tests: one ConvTranspose (or a short chain), built from plain arguments,
and onnxruntime runs of them. Shared by every test folder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def conv_transpose_model(
    input_shape: Sequence[int | str],
    weight_shape: Sequence[int],
    *,
    bias: str = "initializer",  # "none" | "initializer" | "tensor" (a graph input)
    seed: int = 0,
    node_name: str = "deconv",
    opset: int = OPSET,
    **attributes: Any,
) -> onnx.ModelProto:
    """x -> ConvTranspose(W, B) -> y, with random weights; attributes are passed as given (None ones dropped)."""
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal(tuple(weight_shape)).astype(np.float32)
    out_channels = weight_shape[1] * int(attributes.get("group") or 1)
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_shape))]
    initializers = [numpy_helper.from_array(weight, "W")]
    node_inputs = ["x", "W"]
    if bias == "initializer":
        initializers.append(numpy_helper.from_array(rng.standard_normal(out_channels).astype(np.float32), "B"))
        node_inputs.append("B")
    elif bias == "tensor":
        inputs.append(helper.make_tensor_value_info("B", TensorProto.FLOAT, [out_channels]))
        node_inputs.append("B")
    node = helper.make_node(
        "ConvTranspose", node_inputs, ["y"], name=node_name, **{k: v for k, v in attributes.items() if v is not None}
    )
    graph = helper.make_graph(
        [node], "conv_transpose", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializers
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def random_feeds(model: onnx.ModelProto, seed: int = 0, dims: dict[str, int] | None = None) -> dict[str, np.ndarray]:
    """Seeded random float32 inputs for every graph input; symbolic dims take `dims[name]` or 4."""
    rng = np.random.default_rng(seed)
    initializer_names = {init.name for init in model.graph.initializer}
    feeds = {}
    for value in model.graph.input:
        if value.name in initializer_names:
            continue
        shape = [
            d.dim_value if d.HasField("dim_value") else (dims or {}).get(d.dim_param, 4)
            for d in value.type.tensor_type.shape.dim
        ]
        feeds[value.name] = rng.standard_normal(shape).astype(np.float32)
    return feeds


def run_onnxruntime(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)
