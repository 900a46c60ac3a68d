"""onnx's own ConvTranspose test cases, built the way each producer builds them, then patched: the
window is the reference and the stand-in computes onnx's expected output."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from polygraphy_deconv.core.finding import analyse_node
from polygraphy_deconv.core.model import ConvTransposeNode, NodeBias
from polygraphy_deconv.trt_network.patching import fix_network
from tests.onnx_cases import ONNX_CASE_PARAMS, OnnxCase
from tests.standin import producers
from tests.trt_network.test_patching import assert_fixed


def attributes_of(case: OnnxCase) -> ConvTransposeAttributes:
    weight = case.array(case.node.input[1])
    assert weight is not None
    values = {a.name: helper.get_attribute_value(a) for a in case.node.attribute}
    return ConvTransposeAttributes.from_onnx("deconv", values, weight.shape)


def applies(case: OnnxCase, producer: str) -> bool:
    """PyTorch (torch2trt) has neither output_shape nor auto_pad, and torch2trt builds only nodes with as
    many input as output channels and no dilation (torch2trt_builds); the parser reads a 1D output_shape
    one entry off (core/trt_parser.py), so it builds no network to patch for those."""
    attrs = attributes_of(case)
    weight = case.array(case.node.input[1])
    assert weight is not None
    return producers.PRODUCERS[producer].can_build(attrs, list(weight.shape))


COMBINATIONS = [
    pytest.param(param.values[0], producer, id=f"{param.id}-{producer}")
    for param in ONNX_CASE_PARAMS
    for producer in ("parser", "torch2trt")
    if applies(param.values[0], producer)  # type: ignore[arg-type]
]


class TestOnnxCases:
    @pytest.mark.parametrize("case, producer", COMBINATIONS)
    def test_basic(self, case: OnnxCase, producer: str) -> None:
        x = case.array(case.node.input[0])
        weight = case.array(case.node.input[1])
        bias = case.array(case.node.input[2]) if len(case.node.input) > 2 and case.node.input[2] else None
        assert x is not None and weight is not None
        attrs = attributes_of(case)
        finding = analyse_node(attrs, list(x.shape[2:]))
        node = ConvTransposeNode("deconv", 0, "y", NodeBias.NONE if bias is None else NodeBias.INITIALIZER, finding)
        network = producers.PRODUCERS[producer].build(attrs, list(x.shape), weight, bias)
        fix_network(network, [node])
        assert_fixed(network, node)
        np.testing.assert_allclose(network.execute({"x": x})["y"], case.outputs[0], rtol=1e-4, atol=1e-4)
