"""Patching every producer's network so that each deconvolution unit computes its ONNX node's window:
windows, shapes, names, idempotence and values (the stand-in executes the network with numpy)."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from polygraphy_deconv.core.model import ConvTransposeNode
from polygraphy_deconv.core.window import AxisWindow
from polygraphy_deconv.trt_network.patching import (
    Action,
    Mode,
    UnpatchableUnit,
    fix_network,
    patch_unit,
)
from polygraphy_deconv.trt_network.units import NetworkIndex, find_units, read_unit
from tests.models import conv_transpose_model, run_onnxruntime
from tests.standin import network as standin
from tests.standin import producers
from tests.trt_network.nodes import conv_transpose_node, random_weights

PRODUCERS = tuple(producers.PRODUCERS)


def build(producer: str, node: ConvTransposeNode, input_shape: list[int], weight: np.ndarray, bias: np.ndarray | None,
          **options: Any) -> standin.INetworkDefinition:
    return producers.PRODUCERS[producer].build(node.finding.attributes, input_shape, weight, bias, bias_kind=node.bias,
                                               **options)


def assert_fixed(network: standin.INetworkDefinition, node: ConvTransposeNode) -> None:
    """After patching: shape-valid (dead layers too), one unit with the reference window, output 'y'."""
    network.check()
    (unit,) = find_units(network)
    assert node.finding.reference is not None
    assert [(a.begin, a.trim) for a in unit.window()] == [(r.begin, r.trim) for r in node.finding.reference]
    assert unit.added_axis_is_identity()
    assert not (unit.extension_loses_bias and node.bias != "none")
    assert [network.get_output(i).name for i in range(network.num_outputs)] == ["y"]
    lengths = [r.length for r in node.finding.reference]
    assert [d if d != -1 else None for d in network.get_output(0).shape[2:]] == lengths


def assert_values(network: standin.INetworkDefinition, node: ConvTransposeNode, input_shape: list[int],
                  weight_shape: list[int], attributes: dict[str, Any], seed: int = 0) -> None:
    """The patched stand-in network computes what onnxruntime computes (ONNX's meaning)."""
    model = conv_transpose_model(input_shape, weight_shape, bias=node.bias, seed=seed, **attributes)
    rng = np.random.default_rng(seed + 1)
    feeds = {"x": rng.standard_normal(input_shape).astype(np.float32)}
    if node.bias == "tensor":
        feeds["B"] = rng.standard_normal(weight_shape[1] * int(attributes.get("group") or 1)).astype(np.float32)
    (expected,) = run_onnxruntime(model, feeds)
    actual = network.execute(feeds)["y"]
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4)


def model_weights(input_shape: list[int], weight_shape: list[int], bias: str, seed: int,
                  attributes: dict[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """The weights conv_transpose_model draws for the same seed, so the network and the model agree."""
    from onnx import numpy_helper

    model = conv_transpose_model(input_shape, weight_shape, bias=bias, seed=seed, **attributes)
    arrays = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    return arrays["W"], arrays.get("B")


# Each producer behaviour of docs/deconv-semantics.md section 3, with values checked against onnxruntime.
CASES = [
    pytest.param({"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}, [1, 2, 5, 6], [2, 3, 3, 3], id="pads>=op"),
    pytest.param({"strides": [2, 2], "pads": [0, 0, 0, 0], "output_padding": [1, 1]}, [1, 2, 5, 6], [2, 3, 3, 3], id="extension"),
    pytest.param({"strides": [3, 2], "pads": [1, 0, 1, 0], "output_padding": [2, 1]}, [1, 2, 3, 4], [2, 2, 2, 3], id="op>pads"),
    pytest.param({"strides": [2, 2], "output_shape": [10, 12]}, [1, 2, 5, 6], [2, 3, 3, 3], id="output_shape-odd"),
    pytest.param({"strides": [2, 2], "output_shape": [12, 14]}, [1, 2, 5, 6], [2, 3, 3, 3], id="output_shape-extends"),
    pytest.param({"strides": [2, 2], "auto_pad": "SAME_UPPER", "output_padding": [1, 1]}, [1, 2, 5, 6], [2, 3, 3, 3], id="same_upper-op"),
    pytest.param({"strides": [2, 2], "auto_pad": "SAME_LOWER"}, [1, 2, 5, 6], [2, 3, 4, 4], id="same_lower"),
    pytest.param({"strides": [3, 3], "auto_pad": "SAME_UPPER", "output_padding": [1, 2]}, [1, 2, 3, 3], [2, 3, 2, 2], id="same-dk<s"),
    pytest.param({"strides": [2], "pads": [1, 1], "output_padding": [1]}, [1, 2, 3], [2, 3, 2], id="1d"),
    pytest.param({"strides": [3], "pads": [1, 0], "output_padding": [2]}, [1, 2, 3], [2, 3, 2], id="1d-extension"),
    pytest.param({"strides": [2, 1, 2], "pads": [0, 0, 0, 0, 0, 1], "output_padding": [1, 0, 1]}, [1, 2, 2, 3, 2], [2, 2, 2, 2, 2], id="3d"),
    pytest.param({"strides": [2, 2], "pads": [0, 0, 0, 0], "output_padding": [1, 1], "group": 2}, [1, 4, 3, 3], [4, 1, 3, 3], id="group"),
    pytest.param({"strides": [2, 2], "dilations": [2, 1], "pads": [1, 0, 0, 0], "output_padding": [1, 1]}, [1, 2, 3, 3], [2, 2, 2, 2], id="dilation"),
    # As many input as output channels: the only ConvTranspose torch2trt builds (num_output_maps = C_in).
    pytest.param({"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}, [1, 3, 5, 6], [3, 3, 3, 3], id="pads>=op-square"),
    pytest.param({"strides": [2, 2], "pads": [0, 0, 0, 0], "output_padding": [1, 1]}, [1, 3, 5, 6], [3, 3, 3, 3], id="extension-square"),
    pytest.param({"strides": [2], "pads": [1, 1], "output_padding": [1]}, [1, 3, 3], [3, 3, 2], id="1d-square"),
    pytest.param({"strides": [3], "pads": [1, 0], "output_padding": [2]}, [1, 3, 3], [3, 3, 2], id="1d-extension-square"),
    pytest.param({"strides": [2, 2], "pads": [0, 0, 0, 0], "output_padding": [1, 1], "group": 2}, [1, 4, 3, 3], [4, 2, 3, 3], id="group-square"),
]


def torch2trt_builds(attributes: dict[str, Any], weight_shape: list[int]) -> bool:
    """producers.torch2trt_builds on an attribute dict."""
    return producers.torch2trt_builds(ConvTransposeAttributes.from_onnx("deconv", attributes, weight_shape), weight_shape)


def applies(producer: str, attributes: dict[str, Any], input_shape: list[int], weight_shape: list[int],
            bias: str = "none") -> bool:
    """Whether a producer can build this node at all (producers.Producer.can_build)."""
    attrs = ConvTransposeAttributes.from_onnx("deconv", attributes, weight_shape)
    return producers.PRODUCERS[producer].can_build(attrs, weight_shape, bias)


def combinations(biases: tuple[str, ...]) -> list[Any]:
    return [
        pytest.param(producer, bias, *case.values, id=f"{case.id}-{producer}-{bias}")
        for case in CASES
        for producer in PRODUCERS
        for bias in biases
        if applies(producer, case.values[0], case.values[1], case.values[2], bias)  # type: ignore[arg-type]
    ]


class TestFixNetwork:
    @pytest.mark.parametrize(
        "producer, bias, attributes, input_shape, weight_shape", combinations(("initializer", "tensor", "none"))
    )
    def test_basic(self, producer: str, bias: str, attributes: dict[str, Any], input_shape: list[int],
                   weight_shape: list[int]) -> None:
        node = conv_transpose_node(attributes, input_shape, weight_shape, bias=bias)
        weight, bias_values = model_weights(input_shape, weight_shape, bias, 0, attributes)
        network = build(producer, node, input_shape, weight, bias_values if bias == "initializer" else None)
        fix = fix_network(network, [node])
        (result,) = fix.results
        assert result.action in (Action.OK, Action.PATCHED)
        assert_fixed(network, node)
        assert_values(network, node, input_shape, weight_shape, attributes)

    @pytest.mark.parametrize("producer, bias, attributes, input_shape, weight_shape", combinations(("initializer",)))
    def test_idempotent(self, producer: str, bias: str, attributes: dict[str, Any], input_shape: list[int],
                        weight_shape: list[int]) -> None:
        node = conv_transpose_node(attributes, input_shape, weight_shape)
        weight, bias = random_weights(weight_shape, int(attributes.get("group") or 1))
        network = build(producer, node, input_shape, weight, bias)
        fix_network(network, [node])
        layers = network.num_layers
        again = fix_network(network, [node])
        assert [r.action for r in again.results] == [Action.OK]
        assert network.num_layers == layers

    @pytest.mark.parametrize(
        "producer, bias, attributes, input_shape, weight_shape", combinations(("initializer", "tensor"))
    )
    def test_read_back_is_the_network(self, producer: str, bias: str, attributes: dict[str, Any],
                                      input_shape: list[int], weight_shape: list[int]) -> None:
        # fix_network refreshes the index it read the network with instead of indexing it again: what it
        # reads back must be what a fresh index of the patched network reads.
        node = conv_transpose_node(attributes, input_shape, weight_shape, bias=bias)
        weight, bias_values = model_weights(input_shape, weight_shape, bias, 0, attributes)
        network = build(producer, node, input_shape, weight, bias_values if bias == "initializer" else None)
        (result,) = fix_network(network, [node]).results
        fresh = NetworkIndex(network)
        if result.action == Action.PATCHED:
            assert result.after == read_unit(fresh, result.unit.position)
        else:
            assert result.after is None
        assert [u.layers for u in find_units(network, fresh)] == [(result.after or result.unit).layers]

    def test_parser_windows_match_the_core_prediction(self) -> None:
        """The stand-in parser builder and core/trt_parser.py agree, so the builder reproduces the parser."""
        for param in CASES:
            attributes, input_shape, weight_shape = cast(tuple[dict[str, Any], list[int], list[int]], param.values)
            if "output_shape" in attributes and len(input_shape) == 3:
                continue
            node = conv_transpose_node(attributes, input_shape, weight_shape)
            weight, bias = random_weights(weight_shape, int(attributes.get("group") or 1))
            (unit,) = find_units(producers.onnx_parser(node.finding.attributes, input_shape, weight, bias))
            predicted = node.finding.parser.window
            assert predicted is not None
            assert [(a.begin, a.trim) for a in unit.window()] == [(p.begin, p.trim) for p in predicted], param.id

    @pytest.mark.parametrize("squeeze_layers", [False, True])
    @pytest.mark.parametrize("dims, size_from_shape", [([-1, 2, -1], True), ([1, 2, 4], True), ([1, 2, 4], False)])
    def test_dynamic_dims(self, squeeze_layers: bool, dims: list[int], size_from_shape: bool) -> None:
        """The parser's extension size from shapeOf (dynamic dims) or a folded constant (static dims)."""
        attributes = {"strides": [3], "pads": [0, 1], "output_padding": [2]}
        node = conv_transpose_node(attributes, [None if d == -1 else d for d in dims], [2, 3, 2])
        weight, bias = random_weights([2, 3, 2], 1)
        network = producers.onnx_parser(node.finding.attributes, dims, weight, bias,
                                        squeeze_layers=squeeze_layers, dynamic_size_from_shape=size_from_shape)
        fix = fix_network(network, [node])
        assert [r.action for r in fix.results] == [Action.OK]
        # A producer whose network needs the extension added, with dynamic dims.
        node_dynamic = conv_transpose_node({"strides": [2, 2], "pads": [0, 0, 0, 0], "output_padding": [1, 1]},
                                           [None, 3, None, 6], [3, 3, 3, 3])
        weight, bias = random_weights([3, 3, 3, 3], 1)
        network = producers.torch2trt(node_dynamic.finding.attributes, [-1, 3, -1, 6], weight, bias)
        fix = fix_network(network, [node_dynamic])
        assert [r.action for r in fix.results] == [Action.PATCHED]
        network.check()
        (unit,) = find_units(network)
        assert [(a.begin, a.trim) for a in unit.window()] == [(0, -1), (0, -1)]
        assert list(network.get_output(0).shape) == [-1, 3, -1, 14]
        assert unit.slice == ((0, 1), (0, 1))
        assert any(network.get_layer(i).name == "deconv/deconv_fix/shape" for i in range(network.num_layers))

    def test_check_only_changes_nothing(self) -> None:
        node = conv_transpose_node({"strides": [2, 2], "output_shape": [10, 12]}, [1, 2, 5, 6], [2, 3, 3, 3])
        weight, bias = random_weights([2, 3, 3, 3], 1)
        network = producers.onnx_parser(node.finding.attributes, [1, 2, 5, 6], weight, bias)
        before = (network.num_layers, tuple(network.get_layer(0).pre_padding))
        fix = fix_network(network, [node], Mode.CHECK)
        assert [r.action for r in fix.results] == [Action.NEEDS_PATCH]
        assert (network.num_layers, tuple(network.get_layer(0).pre_padding)) == before

    def test_outputs_keep_order_and_consumers_follow(self) -> None:
        """The patched tensor keeps its name and its place among the network outputs, and a layer that
        read it reads the new one."""
        node = conv_transpose_node({"strides": [2, 2], "pads": [0, 0, 0, 0], "output_padding": [1, 1]},
                                   [1, 3, 5, 6], [3, 3, 3, 3])
        weight, bias = random_weights([3, 3, 3, 3], 1)
        network = producers.torch2trt(node.finding.attributes, [1, 3, 5, 6], weight, bias)
        y = network.get_output(0)
        network.unmark_output(y)
        first = network.add_shuffle(network.get_input(0))
        first.get_output(0).name = "first"
        network.mark_output(first.get_output(0))
        network.mark_output(y)
        doubled = network.add_elementwise(y, y, standin.ElementWiseOperation.SUM)
        doubled.get_output(0).name = "last"
        network.mark_output(doubled.get_output(0))
        fix_network(network, [node])
        network.check()
        assert [network.get_output(i).name for i in range(3)] == ["first", "y", "last"]
        assert network.get_output(1).shape == (1, 3, 12, 14)
        assert doubled.get_input(0) is network.get_output(1) and doubled.get_input(1) is network.get_output(1)

    def test_negative_unmatched_is_left_alone(self) -> None:
        node = conv_transpose_node({"strides": [2, 2], "output_shape": [10, 12]}, [1, 2, 5, 6], [2, 3, 3, 3])
        weight, bias = random_weights([2, 3, 3, 3], 1)
        network = producers.onnx_parser(node.finding.attributes, [1, 2, 5, 6], weight, bias)
        network.get_layer(0).name = "renamed"
        network.get_output(0).name = "renamed_out"
        other = conv_transpose_node({"strides": [2, 2], "output_shape": [10, 12]}, [1, 2, 5, 6], [2, 3, 3, 3],
                                    name="elsewhere", output="z")
        fix = fix_network(network, [other])
        assert [r.action for r in fix.results] == [Action.UNMATCHED]
        assert tuple(network.get_layer(0).pre_padding) == (0, 0)

    def test_matched_by_output_name(self) -> None:
        node = conv_transpose_node({"strides": [2, 2], "output_shape": [10, 12]}, [1, 2, 5, 6], [2, 3, 3, 3])
        weight, bias = random_weights([2, 3, 3, 3], 1)
        network = producers.onnx_parser(node.finding.attributes, [1, 2, 5, 6], weight, bias)
        network.get_layer(0).name = "renamed"
        fix = fix_network(network, [node])
        assert fix.results[0].comparison.matched_by == "output name"
        assert fix.results[0].action == Action.PATCHED

    def test_negative_unreadable_slice_is_unpatchable(self) -> None:
        """A slice after the deconvolution that is not a plain window (stride 2): never patched."""
        node = conv_transpose_node({"strides": [2, 2], "output_shape": [10, 12]}, [1, 3, 5, 6], [3, 3, 3, 3])
        weight, bias = random_weights([3, 3, 3, 3], 1)
        network = producers.torch2trt(node.finding.attributes, [1, 3, 5, 6], weight, bias)
        y = network.get_output(0)
        strided = network.add_slice(y, [0, 0, 0, 0], [1, 3, 5, 6], [1, 1, 2, 2])
        strided.mode = standin.SampleMode.FILL
        network.unmark_output(y)
        y.name = "inner"
        strided.get_output(0).name = "y"
        network.mark_output(strided.get_output(0))
        fix = fix_network(network, [node])
        (result,) = fix.results
        assert result.action == Action.UNPATCHABLE
        assert "stride" in result.detail
        (unit,) = find_units(network)
        with pytest.raises(UnpatchableUnit, match="TensorRT layer 'deconv'"):
            patch_unit(network, unit, (AxisWindow(1, 0), AxisWindow(1, 0)), [])

    def test_model_slice_stays_outside_the_unit(self) -> None:
        """An ONNX Slice after the ConvTranspose (a STRICT_BOUNDS crop) is the model's own: the patch keeps it."""
        node = conv_transpose_node({"strides": [2, 2], "output_shape": [10, 12]}, [1, 2, 5, 6], [2, 3, 3, 3],
                                   output="t")
        weight, bias = random_weights([2, 3, 3, 3], 1)
        network = producers.onnx_parser(node.finding.attributes, [1, 2, 5, 6], weight, bias)
        t = network.get_output(0)
        network.unmark_output(t)
        t.name = "t"
        crop = network.add_slice(t, [0, 0, 1, 1], [1, 3, 8, 8], [1, 1, 1, 1])
        crop.get_output(0).name = "y"
        network.mark_output(crop.get_output(0))
        fix = fix_network(network, [node])
        assert [r.action for r in fix.results] == [Action.PATCHED]
        assert fix.results[0].after is not None and fix.results[0].after.layers == ("deconv",)
        assert crop.get_input(0) is network.get_layer(0).get_output(0)
        assert network.get_output(0).shape == (1, 3, 8, 8)

    def test_weights_are_kept_alive(self) -> None:
        node = conv_transpose_node({"strides": [2, 2], "pads": [0, 0, 0, 0], "output_padding": [1, 1]},
                                   [1, 3, 5, 6], [3, 3, 3, 3])
        weight, bias = random_weights([3, 3, 3, 3], 1)
        network = producers.torch2trt(node.finding.attributes, [1, 3, 5, 6], weight, bias)
        fix = fix_network(network, [node])
        assert any(isinstance(a, np.ndarray) and a.size == 3 for a in fix.keep_alive)
        # the bias moved off the deconvolution: zeros of its type (TensorRT-RTX refuses empty bias weights)
        moved = np.asarray(network.get_layer(0).bias)
        assert moved.size == 3 and not moved.any() and moved.dtype == bias.dtype


class TestTorchTensorRT:
    def test_negative_post_padding_is_refused(self) -> None:
        """Torch-TensorRT's post = p - op < 0: TensorRT's setter reports an API usage error and keeps the
        post-padding padding_nd set before (p), not 0."""
        node = conv_transpose_node({"strides": [3, 3], "pads": [1, 1, 1, 1], "output_padding": [2, 2]},
                                   [1, 2, 5, 6], [2, 3, 3, 3])
        weight, bias = random_weights([2, 3, 3, 3], 1)
        network = producers.torch_tensorrt(node.finding.attributes, [1, 2, 5, 6], weight, bias)
        (error,) = standin.api_errors(network)
        assert "setPostPadding" in error and "API Usage Error" in error
        deconv = next(network.get_layer(i) for i in range(network.num_layers) if network.get_layer(i).name == "deconv")
        assert tuple(deconv.pre_padding) == (1, 1) and tuple(deconv.post_padding) == (1, 1)
        assert network.get_output(0).shape == (1, 3, 13, 16)  # (I - 1) * 3 + 3 - 1 - 1: output_padding lost
        fix_network(network, [node])
        assert_fixed(network, node)

    def test_basic(self) -> None:
        node = conv_transpose_node({"strides": [2, 2], "pads": [0, 0, 0, 0], "output_padding": [1, 1]},
                                   [1, 2, 5, 6], [2, 3, 3, 3])
        weight, bias = random_weights([2, 3, 3, 3], 1)
        network = producers.torch_tensorrt(node.finding.attributes, [1, 2, 5, 6], weight, bias)
        assert network.get_output(0).shape == (1, 3, 11, 13)  # the refused value left post at padding, 0
        fix_network(network, [node])
        assert_fixed(network, node)


@st.composite
def random_case(draw: st.DrawFn) -> tuple[dict[str, Any], list[int], list[int]]:
    rank = draw(st.integers(1, 3))
    kernel = [draw(st.integers(1, 3)) for _ in range(rank)]
    strides = [draw(st.integers(1, 3)) for _ in range(rank)]
    dilations = [draw(st.integers(1, 2)) for _ in range(rank)]
    sizes = [draw(st.integers(1, 4)) for _ in range(rank)]
    group = draw(st.sampled_from([1, 2]))
    attributes: dict[str, Any] = {"kernel_shape": kernel, "strides": strides, "dilations": dilations, "group": group}
    form = draw(st.sampled_from(["pads", "output_shape", "same"] if rank > 1 else ["pads", "same"]))
    op = [draw(st.integers(0, max(s, d) - 1)) for s, d in zip(strides, dilations)]
    op = [min(o, s - 1) for o, s in zip(op, strides)]  # onnxruntime's stricter rule, to check values
    dks = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    fulls = [(i - 1) * s + dk for i, s, dk in zip(sizes, strides, dks)]
    if form == "pads":
        begins = [draw(st.integers(0, f // 2)) for f in fulls]
        ends = [draw(st.integers(0, max(f - b - 1, 0) // 2)) for f, b in zip(fulls, begins)]
        attributes.update(pads=begins + ends, output_padding=op)
    elif form == "same":
        attributes.update(auto_pad=draw(st.sampled_from(["SAME_UPPER", "SAME_LOWER"])), output_padding=op)
    else:
        # onnxruntime accepts output_shape up to L + op + S - 1; the parser needs a non-negative begin.
        attributes.update(output_shape=[draw(st.integers(max(1, f // 2), f + s - 1)) for f, s in zip(fulls, strides)])
    input_shape = [1, 2 * group, *sizes]
    weight_shape = [2 * group, draw(st.integers(1, 2)), *kernel]
    return attributes, input_shape, weight_shape


class TestProperty:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=random_case(), producer=st.sampled_from(PRODUCERS), bias=st.sampled_from(["initializer", "tensor", "none"]))
    def test_basic(self, case: tuple[dict[str, Any], list[int], list[int]], producer: str, bias: str) -> None:
        attributes, input_shape, weight_shape = case
        if producer.startswith("torch"):
            if "output_shape" in attributes or "auto_pad" in attributes:
                return
            bias = "none" if bias == "tensor" else bias
        if producer == "torch2trt" and not torch2trt_builds(attributes, weight_shape):
            return  # torch2trt never sets the dilation or builds C_in != C_out: no padding patch makes that right
        node = conv_transpose_node(attributes, input_shape, weight_shape, bias=bias)
        if node.finding.reference is None or any(r.length is None or r.length < 1 for r in node.finding.reference):
            return
        weight, bias_values = model_weights(input_shape, weight_shape, bias, 0, attributes)
        try:
            network = build(producer, node, input_shape, weight, bias_values if bias == "initializer" else None)
            network.check()
        except (ValueError, standin.NetworkError):
            return  # the producer itself cannot build it (parse error, empty output): nothing to patch
        fix_network(network, [node])
        assert_fixed(network, node)
        assert_values(network, node, input_shape, weight_shape, attributes)
