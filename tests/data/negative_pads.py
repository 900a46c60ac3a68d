"""ConvTranspose models with negative pads, as tf2onnx writes them (core/producers.py), and what onnxruntime
1.23.2 computes for them, recorded in negative_pads.json beside this file.

onnxruntime 1.32 (the version this project's tests run) refuses such models ("Attribute pads must not contain
negative values", from ONNX shape inference); 1.23.2 still runs them, with the window ONNX's formula gives. The
recorded outputs are the reference the tests compare `fix`, the pre-parse rewrite and the core's window with
(tests/onnx_model/test_negative_pads.py). They were produced in a separate environment that pins it:

    python3 -m venv /tmp/ort123 && /tmp/ort123/bin/pip install onnxruntime==1.23.2 numpy onnx
    PYTHONPATH=. /tmp/ort123/bin/python -m tests.data.negative_pads --record

(onnxruntime 1.23.2, onnx 1.23.2, numpy 2.4.6, CPU execution provider, December 2026). Without --record the
script compares the running onnxruntime with the recorded file instead. Only numpy and onnx are imported here
(and onnxruntime by the script), so it runs where this package is not installed.

Each builder is one pattern:
- tf2onnx_end_2d: Keras Conv2DTranspose, kernel 2, stride 3, padding 'same' (output I * 3): total -1, pads
  [0, 0, -1, -1]: one bias-only element past the full result per axis;
- tf2onnx_both_2d: kernel 3, stride 3, padding 'valid' with Keras output_padding 2 (output L + 2): total -2,
  pads [-1, -1, -1, -1]: one element before the full result and one after it;
- tf2onnx_3d: Conv3DTranspose with kernel (2, 3, 2), stride (3, 3, 2): totals -1, -2 and 0, pads
  [0, -1, 0, -1, -1, 0];
- begin_negative_1d: not tf2onnx's pattern, a negative begin with a positive end and output_padding
  (pads [-2, 1], output_padding 1), no bias;
- end_negative_tensor_bias_2d: a negative end next to output_padding on the other axis, the bias a graph
  input (pads [0, 0, -1, 0], output_padding [0, 1]): the one form TensorRT's parser builds;
- documented_begin_1d, documented_end_1d: the example of docs/deconv-semantics.md section 2 (x = [1, 2, 3],
  kernel ones(2), stride 3, bias 10, pads [-1, 0] and [0, -1]).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RECORD = Path(__file__).with_suffix(".json")
OPSET = 17


def conv_transpose(
    name: str,
    input_shape: list[int],
    weight_shape: list[int],
    *,
    bias: str = "initializer",
    values: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    **attributes: Any,
) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """x -> ConvTranspose(W[, B]) -> y with seeded weights, and its seeded inputs (x, and B when it is an input);
    `values`: (x, W, B) given instead."""
    rng = np.random.default_rng(sum(map(ord, name)))
    weight = rng.standard_normal(weight_shape).astype(np.float32)
    out_channels = weight_shape[1] * int(attributes.get("group", 1))
    bias_values = rng.standard_normal(out_channels).astype(np.float32)
    feeds = {"x": rng.standard_normal(input_shape).astype(np.float32)}
    if values is not None:
        feeds["x"], weight, bias_values = (np.asarray(v, dtype=np.float32) for v in values)
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)]
    initializers = [numpy_helper.from_array(weight, "W")]
    node_inputs = ["x", "W"]
    if bias == "initializer":
        initializers.append(numpy_helper.from_array(bias_values, "B"))
        node_inputs.append("B")
    elif bias == "tensor":
        inputs.append(helper.make_tensor_value_info("B", TensorProto.FLOAT, [out_channels]))
        feeds["B"] = bias_values
        node_inputs.append("B")
    node = helper.make_node("ConvTranspose", node_inputs, ["y"], name=name, **attributes)
    # The output shape declared as a converter declares it (TensorFlow's output size): ONNX's formula,
    # S * (I - 1) + DK - pads_begin - pads_end + output_padding per axis.
    rank = len(input_shape) - 2
    pads, output_padding = attributes["pads"], attributes.get("output_padding", [0] * rank)
    spatial = [
        s * (i - 1) + k - pads[axis] - pads[rank + axis] + output_padding[axis]
        for axis, (i, s, k) in enumerate(zip(input_shape[2:], attributes["strides"], attributes["kernel_shape"]))
    ]
    output = helper.make_tensor_value_info("y", TensorProto.FLOAT, [input_shape[0], out_channels, *spatial])
    graph = helper.make_graph([node], name, inputs, [output], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="tf2onnx-pattern")
    model.ir_version = 8
    return model, feeds


def tf2onnx_end_2d() -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    return conv_transpose("tf2onnx_end_2d", [1, 2, 4, 5], [2, 3, 2, 2], kernel_shape=[2, 2], strides=[3, 3], pads=[0, 0, -1, -1])


def tf2onnx_both_2d() -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    return conv_transpose("tf2onnx_both_2d", [1, 2, 3, 4], [2, 2, 3, 3], kernel_shape=[3, 3], strides=[3, 3], pads=[-1, -1, -1, -1])


def tf2onnx_3d() -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    return conv_transpose(
        "tf2onnx_3d", [1, 2, 2, 3, 4], [2, 2, 2, 3, 2], kernel_shape=[2, 3, 2], strides=[3, 3, 2], pads=[0, -1, 0, -1, -1, 0]
    )


def begin_negative_1d() -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    return conv_transpose(
        "begin_negative_1d", [1, 3, 5], [3, 2, 3], bias="none", kernel_shape=[3], strides=[2], pads=[-2, 1],
        output_padding=[1],
    )


def end_negative_tensor_bias_2d() -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    return conv_transpose(
        "end_negative_tensor_bias_2d", [1, 2, 4, 5], [2, 2, 2, 2], bias="tensor", kernel_shape=[2, 2], strides=[3, 3],
        pads=[0, 0, -1, 0], output_padding=[0, 1],
    )


# The example of docs/deconv-semantics.md section 2: x = [1, 2, 3], kernel ones(2), stride 3, bias 10.
DOCUMENTED = (np.array([[[1, 2, 3]]]), np.ones((1, 1, 2)), np.array([10]))


def documented_begin_1d() -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    return conv_transpose("documented_begin_1d", [1, 1, 3], [1, 1, 2], values=DOCUMENTED, kernel_shape=[2], strides=[3], pads=[-1, 0])


def documented_end_1d() -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    return conv_transpose("documented_end_1d", [1, 1, 3], [1, 1, 2], values=DOCUMENTED, kernel_shape=[2], strides=[3], pads=[0, -1])


BUILDERS: dict[str, Callable[[], tuple[onnx.ModelProto, dict[str, np.ndarray]]]] = {
    builder.__name__: builder
    for builder in (
        tf2onnx_end_2d, tf2onnx_both_2d, tf2onnx_3d, begin_negative_1d, end_negative_tensor_bias_2d,
        documented_begin_1d, documented_end_1d,
    )
}


def run(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, feeds)
    return np.asarray(output)


def recorded() -> dict[str, Any]:
    """The recorded file: {"produced_by": ..., "models": {name: {"inputs": {..}, "output": {shape, values}}}}."""
    return json.loads(RECORD.read_text())


def array(entry: dict[str, Any]) -> np.ndarray:
    return np.asarray(entry["values"], dtype=np.float32).reshape(entry["shape"])


def _entry(values: np.ndarray) -> dict[str, Any]:
    # float32 values as the shortest decimal that reads back to the same float32 (str of np.float32)
    return {"shape": list(values.shape), "values": [float(str(v)) for v in values.astype(np.float32).ravel()]}


def main(argv: list[str] | None = None) -> int:
    import onnxruntime

    parser = argparse.ArgumentParser(prog="python -m tests.data.negative_pads", description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true", help=f"write {RECORD.name} (run under onnxruntime 1.23.2)")
    args = parser.parse_args(argv)
    if args.record:
        document: dict[str, Any] = {
            "produced_by": (
                f"onnxruntime {onnxruntime.__version__} (CPUExecutionProvider), onnx {onnx.__version__}, numpy "
                f"{np.__version__}: PYTHONPATH=. python -m tests.data.negative_pads --record"
            ),
            "models": {},
        }
        for name, builder in BUILDERS.items():
            model, feeds = builder()
            document["models"][name] = {
                "inputs": {key: _entry(value) for key, value in feeds.items()},
                "output": _entry(run(model, feeds)),
            }
        models = ",\n".join(f"  {json.dumps(name)}: {json.dumps(entry)}" for name, entry in document["models"].items())
        RECORD.write_text(f'{{"produced_by": {json.dumps(document["produced_by"])},\n"models": {{\n{models}\n}}}}\n')
        print(f"wrote {RECORD} ({document['produced_by']})")
        return 0
    data = recorded()
    for name, builder in BUILDERS.items():
        model, feeds = builder()
        expected = array(data["models"][name]["output"])
        try:
            actual = run(model, feeds)
        except Exception as error:  # noqa: BLE001 - onnxruntime's own classes; newer releases refuse the model
            print(f"{name}: onnxruntime {onnxruntime.__version__} refuses it: {str(error).splitlines()[0]}")
            continue
        print(f"{name}: shape {list(actual.shape)}, max abs diff {float(np.abs(actual - expected).max()):.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
