"""onnx's own ConvTranspose test material, as (name, model, inputs, expected outputs).

Three families (docs/deconv-semantics.md section 6):
- "onnx-node": the 11 `test_convtranspose*` node tests. onnx >= 1.23 no longer ships their data, only the
  code that generates it (onnx/backend/test/case/node/convtranspose.py); they are regenerated here by
  calling each `export*` function with the module's `expect` replaced by a collector, so nothing is
  written to disk. Each model is built the way onnx's `expect` builds it: X and W are graph inputs,
  opset = the ConvTranspose schema's since_version.
- "pytorch-converted": test_ConvTranspose2d and test_ConvTranspose2d_no_bias, shipped as data in the wheel.
- "pytorch-operator": test_operator_convtranspose (output_padding 2 > pads 1), shipped as data.

`onnx_cases()` returns them all (cached); `onnx_case_ids()` gives pytest ids; `ONNX_CASE_PARAMS` is ready
for `pytest.mark.parametrize("case", ONNX_CASE_PARAMS)`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

FAMILIES = ("onnx-node", "pytorch-converted", "pytorch-operator")

SHIPPED_DATA = (
    ("pytorch-converted", "test_ConvTranspose2d"),
    ("pytorch-converted", "test_ConvTranspose2d_no_bias"),
    ("pytorch-operator", "test_operator_convtranspose"),
)

NODE_TEST_NAMES = (
    "test_convtranspose",
    "test_convtranspose_1d",
    "test_convtranspose_3d",
    "test_convtranspose_output_shape",
    "test_convtranspose_pad",
    "test_convtranspose_kernel_shape",
    "test_convtranspose_pads",
    "test_convtranspose_dilations",
    "test_convtranspose_autopad_same",
    "test_convtranspose_group_2",
    "test_convtranspose_group_2_image_3",
)


@dataclass(frozen=True)
class OnnxCase:
    """One test: a single-ConvTranspose model, its feeds (by graph input name, initializers excluded)
    and the expected outputs in graph output order."""

    name: str
    family: str
    model: onnx.ModelProto
    inputs: dict[str, np.ndarray]
    outputs: tuple[np.ndarray, ...]

    @property
    def id(self) -> str:
        return f"{self.family}/{self.name}"

    @property
    def node(self) -> onnx.NodeProto:
        (node,) = [n for n in self.model.graph.node if n.op_type == "ConvTranspose"]
        return node

    def array(self, name: str) -> np.ndarray | None:
        """A node input's value, from the feeds or the initializers (None for a missing optional input)."""
        if name in self.inputs:
            return self.inputs[name]
        for init in self.model.graph.initializer:
            if init.name == name:
                return numpy_helper.to_array(init)
        return None


def _node_test_cases() -> list[OnnxCase]:
    from onnx.backend.test.case.node import convtranspose

    collected: list[tuple[onnx.NodeProto, Sequence[np.ndarray], Sequence[np.ndarray], str]] = []

    def collect(node: onnx.NodeProto, inputs: Sequence[np.ndarray], outputs: Sequence[np.ndarray], name: str,
                **_: Any) -> None:
        collected.append((node, inputs, outputs, name))

    exports = [getattr(convtranspose.ConvTranspose, k) for k in sorted(vars(convtranspose.ConvTranspose))
               if k.startswith("export")]
    original = convtranspose.expect
    convtranspose.expect = collect  # type: ignore[assignment]
    try:
        for export in exports:
            np.random.seed(0)  # what onnx's exporter does before each export
            export()
    finally:
        convtranspose.expect = original

    opset = onnx.defs.get_schema("ConvTranspose").since_version
    cases = []
    for node, inputs, outputs, name in collected:
        present_inputs = [n for n in node.input if n]
        graph = helper.make_graph(
            [node],
            name,
            [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
             for n, a in zip(present_inputs, inputs)],
            [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
             for n, a in zip(node.output, outputs)],
        )
        model = helper.make_model_gen_version(
            graph, producer_name="backend-test", opset_imports=[helper.make_opsetid("", opset)]
        )
        cases.append(OnnxCase(name, "onnx-node", model, dict(zip(present_inputs, inputs)), tuple(outputs)))
    return cases


def _shipped_case(family: str, name: str) -> OnnxCase:
    folder = Path(onnx.__file__).parent / "backend" / "test" / "data" / family / name
    model = onnx.load(str(folder / "model.onnx"))
    initializers = {init.name for init in model.graph.initializer}
    feed_names = [value.name for value in model.graph.input if value.name not in initializers]
    data = folder / "test_data_set_0"

    def load(path: Path) -> np.ndarray:
        tensor = onnx.TensorProto()
        tensor.ParseFromString(path.read_bytes())
        return numpy_helper.to_array(tensor)

    inputs = {n: load(data / f"input_{i}.pb") for i, n in enumerate(feed_names)}
    outputs = tuple(load(data / f"output_{i}.pb") for i in range(len(model.graph.output)))
    return OnnxCase(name, family, model, inputs, outputs)


@functools.cache
def onnx_cases() -> tuple[OnnxCase, ...]:
    """Every ConvTranspose test onnx provides: 11 node tests, 2 pytorch-converted, 1 pytorch-operator."""
    cases = _node_test_cases()
    names = tuple(case.name for case in cases)
    if sorted(names) != sorted(NODE_TEST_NAMES):
        raise AssertionError(f"onnx's ConvTranspose node tests changed: {names}")
    return tuple(cases) + tuple(_shipped_case(family, name) for family, name in SHIPPED_DATA)


def onnx_case_ids() -> list[str]:
    return [case.id for case in onnx_cases()]


ONNX_CASE_PARAMS = [pytest.param(case, id=case.id) for case in onnx_cases()]
