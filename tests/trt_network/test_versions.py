"""The network patch on every TensorRT Python API the package supports, as the stand-in emulates them (8.6,
10.0-10.6, 10.7+, 11.x). TensorRT-RTX (tests/rtx) shows one API of them for real; these differences it cannot
show: each test here fails on the version whose rule it names when the package ignores that rule."""

from __future__ import annotations

import numpy as np
import pytest

from polygraphy_deconv.trt_network.patching import Action, fix_network
from polygraphy_deconv.trt_network.versions import output_types_settable, reshape_layer_types, slice_has_axes
from tests.standin import network as standin
from tests.standin import producers
from tests.standin.network import install as standin_install
from tests.trt_network.nodes import conv_transpose_node, random_weights

VERSIONS = pytest.mark.parametrize("version", standin.EMULATED_VERSIONS)


@pytest.fixture
def trt(version: str, monkeypatch: pytest.MonkeyPatch) -> object:
    module = standin.tensorrt_module(version)
    standin_install(monkeypatch, module)
    return module


class TestVersionRules:
    @VERSIONS
    def test_reshape_layer_types(self, version: str, trt: object) -> None:
        names = {t.name for t in reshape_layer_types()}
        assert names == ({"SHUFFLE", "UNSQUEEZE", "SQUEEZE"} if standin.api_version(version).squeeze_layers else {"SHUFFLE"})

    @VERSIONS
    def test_slice_has_axes(self, version: str, trt: object) -> None:
        assert slice_has_axes() is (standin.api_version(version).major_minor >= (10, 3))

    @VERSIONS
    def test_output_types_settable(self, version: str, trt: object) -> None:
        network = standin.tensorrt_module(version).INetworkDefinition()
        assert output_types_settable(network) is not standin.api_version(version).strongly_typed


class TestPatchOnEveryVersion:
    @VERSIONS
    def test_one_dimensional_unit(self, version: str, trt: object) -> None:
        """8.6 and 10.0-10.6 have no LayerType.UNSQUEEZE/SQUEEZE (include/NvInfer.h@release/10.7:106-107): their
        parser adds the 1D axis with shuffles, and reading a unit must not ask for the missing members."""
        attributes = {"auto_pad": "SAME_UPPER", "strides": [2], "output_padding": [1]}
        node = conv_transpose_node(attributes, [1, 2, 5], [2, 3, 3])
        weight, bias = random_weights([2, 3, 3], 1)
        squeeze = standin.api_version(version).squeeze_layers
        network = producers.onnx_parser(node.finding.attributes, [1, 2, 5], weight, bias, squeeze_layers=squeeze)
        fix = fix_network(network, [node])
        (result,) = fix.results
        assert result.action == Action.PATCHED and result.after is not None and result.after.one_dimensional
        assert [(w.begin, w.trim) for w in result.after.window()] == [(w.begin, w.trim) for w in node.finding.reference]

    @VERSIONS
    def test_dynamic_extension_in_the_version_shape_type(self, version: str, trt: object) -> None:
        """The extension's size on dynamic dims is shapeOf(deconvolution) + a constant: INT32 on 8.x, whose
        bindings refuse int64 Weights (python/src/utils.cpp@release/8.6), INT64 from 10.0."""
        attributes = {"strides": [2, 2], "pads": [0, 0, 0, 0], "output_padding": [1, 1]}
        node = conv_transpose_node(attributes, [1, 2, None, None], [2, 3, 3, 3], bias="tensor")
        weight, bias = random_weights([2, 3, 3, 3], 1)
        network = producers.onnx_parser(node.finding.attributes, [1, 2, -1, -1], weight, bias, bias_kind="tensor")
        fix = fix_network(network, [node])
        assert [r.action for r in fix.results] == [Action.PATCHED]
        growth = next(network.get_layer(i) for i in range(network.num_layers)
                      if network.get_layer(i).name.endswith("/deconv_fix/growth"))
        assert np.asarray(growth.weights).dtype == (np.int64 if standin.api_version(version).int64 else np.int32)

    @VERSIONS
    def test_float16_output_keeps_its_type(self, version: str, trt: object) -> None:
        """A weakly typed network's output type is set on the tensor after markOutput (the parser does so,
        onnx-tensorrt@10.1-GA:ModelImporter.cpp:783-794): the tensor that takes over the output name must get it,
        or a float16 output becomes float32. In 11.x types flow and `dtype` is read-only."""
        attributes = {"strides": [2, 2], "pads": [0, 0, 0, 0], "output_padding": [1, 1]}
        node = conv_transpose_node(attributes, [1, 2, 5, 6], [2, 3, 3, 3], bias="tensor")
        weight, bias = random_weights([2, 3, 3, 3], 1)
        network = producers.onnx_parser(node.finding.attributes, [1, 2, 5, 6], weight.astype(np.float16),
                                        bias.astype(np.float16), bias_kind="tensor", dtype="HALF")
        before = network.get_output(0).dtype
        fix = fix_network(network, [node])
        assert [r.action for r in fix.results] == [Action.PATCHED]
        output = network.get_output(0)
        assert output.name == "y" and output.dtype == before and output.dtype.name == "HALF"


class TestGeometryMustMatch:
    def test_negative_torch2trt_dilation_never_set_is_not_passed_off(self) -> None:
        """torch2trt never sets dilation_nd (native_converters.py@4e820ae:478-488): the window alone would call
        the unit ok (6x6 where ONNX gives 7x7) or patch it to the node's size with other values."""
        from polygraphy_deconv.trt_network.patching import Action
        from tests.trt_network.test_patching import model_weights

        attributes = {"strides": [2, 2], "dilations": [2, 2], "pads": [0, 0, 0, 0]}
        node = conv_transpose_node(attributes, [1, 2, 3, 3], [2, 2, 2, 2])
        weight, bias = model_weights([1, 2, 3, 3], [2, 2, 2, 2], "initializer", 0, attributes)
        network = producers.torch2trt(node.finding.attributes, [1, 2, 3, 3], weight, bias)
        (result,) = fix_network(network, [node]).results
        assert result.action == Action.UNPATCHABLE
        assert "dilations [1, 1], groups 1 are not the node's" in result.detail

    def test_negative_groups_differ(self) -> None:
        """A layer with another group count than its node computes other values in the same window."""
        from polygraphy_deconv.trt_network.comparison import Status, compare_unit
        from polygraphy_deconv.trt_network.units import find_units

        attributes = {"strides": [2, 2], "output_shape": [10, 12], "group": 2}
        node = conv_transpose_node(attributes, [1, 4, 5, 6], [4, 3, 3, 3])
        weight, bias = random_weights([4, 3, 3, 3], 2)
        (unit,) = find_units(producers.onnx_parser(node.finding.attributes, [1, 4, 5, 6], weight, bias))
        assert unit.groups == 2 and compare_unit(unit, node, "output name").status != Status.UNREADABLE
        comparison = compare_unit(unit._replace(groups=1), node, "output name")
        assert comparison.status == Status.UNREADABLE and "groups 1 are not the node's" in comparison.reason
