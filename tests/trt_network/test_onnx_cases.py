"""onnx's own ConvTranspose test cases, built the way each producer builds them, then patched: the
window is the reference and the stand-in computes onnx's expected output."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from polygraphy_deconv.core.finding import analyse_node
from polygraphy_deconv.onnx_model.reading import ConvTransposeNode
from polygraphy_deconv.trt_network.patching import fix_network
from tests.onnx_cases import ONNX_CASE_PARAMS, OnnxCase
from tests.standin import producers
from tests.trt_network.test_patching import assert_fixed


@pytest.mark.parametrize("producer", ["parser", "torch2trt"])
@pytest.mark.parametrize("case", ONNX_CASE_PARAMS)
class TestOnnxCases:
    def test_basic(self, case: OnnxCase, producer: str) -> None:
        node_proto = case.node
        attributes = {a.name: helper.get_attribute_value(a) for a in node_proto.attribute}
        x = case.array(node_proto.input[0])
        weight = case.array(node_proto.input[1])
        bias = case.array(node_proto.input[2]) if len(node_proto.input) > 2 and node_proto.input[2] else None
        assert x is not None and weight is not None
        attrs = ConvTransposeAttributes.from_onnx("deconv", attributes, weight.shape)
        if producer == "torch2trt" and (attrs.output_shape is not None or attrs.auto_pad != "NOTSET"):
            pytest.skip("PyTorch has neither output_shape nor auto_pad")
        if attrs.rank == 1 and attrs.output_shape is not None:
            pytest.skip("the parser reads a 1D output_shape one entry off (core/trt_parser.py)")
        finding = analyse_node(attrs, list(x.shape[2:]))
        node = ConvTransposeNode("deconv", 0, "y", "none" if bias is None else "initializer", finding)
        if producer == "parser":
            try:
                network = producers.onnx_parser(attrs, list(x.shape), weight, bias)
            except ValueError as error:
                pytest.skip(f"the parser rejects it: {error}")
        else:
            network = producers.torch2trt(attrs, list(x.shape), weight, bias)
        fix_network(network, [node])
        assert_fixed(network, node)
        np.testing.assert_allclose(network.execute({"x": x})["y"], case.outputs[0], rtol=1e-4, atol=1e-4)
