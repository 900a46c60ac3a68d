"""Units patched one after another in one network: a patch that changes a unit's output size changes the input of
the units after it, and what they build and read back follows the network as it is, not as it was first read."""

from __future__ import annotations

from typing import Any

import numpy as np

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from polygraphy_deconv.core.finding import analyse_node
from polygraphy_deconv.core.model import ConvTransposeNode, NodeBias
from polygraphy_deconv.trt_network.comparison import compare_units
from polygraphy_deconv.trt_network.patching import Action, fix_network, patch_unit
from polygraphy_deconv.trt_network.units import NetworkIndex, find_units, read_unit
from tests.standin import network as standin

CHANNELS, SIZE = 4, 6


def add_unit(network: Any, tensor: Any, name: str, attributes: dict[str, Any], kernel: int, size: int,
             post_padding: int = 0) -> tuple[Any, ConvTransposeNode]:
    """A bare deconvolution for the ConvTranspose `attributes` on an input of `size` (what ONNX computes), with
    `post_padding` where its producer got the window wrong; its ONNX node, analysed at that size."""
    attrs = ConvTransposeAttributes.from_onnx(name, attributes, [CHANNELS, CHANNELS, kernel, kernel])
    node = ConvTransposeNode(name, 0, f"{name}.out", NodeBias.INITIALIZER, analyse_node(attrs, [size, size]))
    layer = network.add_deconvolution_nd(
        tensor, CHANNELS, standin.Dims([kernel, kernel]), np.ones((CHANNELS, CHANNELS, kernel, kernel), np.float32),
        np.ones(CHANNELS, np.float32),
    )
    layer.name = name
    layer.stride_nd = standin.Dims(attributes["strides"])
    layer.post_padding = standin.Dims([post_padding, post_padding])
    layer.get_output(0).name = node.output
    return layer.get_output(0), node


def lengths(window: Any) -> list[int | None]:
    return [axis.length for axis in window]


def test_a_patch_that_grows_a_unit_is_seen_by_the_next() -> None:
    # up0 and up1: k2 s1, ONNX's output one larger than the input (6 -> 7 -> 8); each built one short (post 1).
    network = standin.INetworkDefinition()
    tensor = network.add_input("x", standin.DataType.FLOAT, [1, CHANNELS, SIZE, SIZE])
    tensor, first = add_unit(network, tensor, "up0", {"strides": [1, 1]}, 2, SIZE, post_padding=1)
    tensor, second = add_unit(network, tensor, "up1", {"strides": [1, 1]}, 2, SIZE + 1, post_padding=1)
    network.mark_output(tensor)
    fix = fix_network(network, [first, second])
    assert [r.action for r in fix.results] == [Action.PATCHED] * 2
    fresh = NetworkIndex(network)
    fresh.read_links()
    for result, node in zip(fix.results, (first, second)):
        assert result.after == read_unit(fresh, result.unit.position, frozenset({first.output, second.output}))
        assert result.after is not None and lengths(result.after.window()) == lengths(node.finding.reference)
    assert fix.results[1].after.input_dims == (1, CHANNELS, SIZE + 1, SIZE + 1)  # type: ignore[union-attr]
    assert tuple(network.get_output(0).shape) == (1, CHANNELS, SIZE + 2, SIZE + 2)


def test_an_extension_after_a_patch_that_grows_its_input() -> None:
    # a: k2 s1, one short (6 -> 6 instead of 7); b: k3 s2 output_padding 1, built without it: the patch extends b's
    # output with a static fill-slice, sized from b's input as it is after a's patch (7), not as first read (6).
    network = standin.INetworkDefinition()
    tensor = network.add_input("x", standin.DataType.FLOAT, [1, CHANNELS, SIZE, SIZE])
    tensor, a = add_unit(network, tensor, "a", {"strides": [1, 1]}, 2, SIZE, post_padding=1)
    tensor, b = add_unit(network, tensor, "b", {"strides": [2, 2], "output_padding": [1, 1]}, 3, SIZE + 1)
    network.mark_output(tensor)
    fix = fix_network(network, [a, b])
    assert [r.action for r in fix.results] == [Action.PATCHED] * 2
    assert b.finding.output_sizes == (16, 16)
    assert tuple(network.get_output(0).shape) == (1, CHANNELS, 16, 16)
    assert lengths(fix.results[1].after.window()) == [16, 16]  # type: ignore[union-attr]
    network.check()


def test_patch_unit_with_an_index_read_before_another_index_patched() -> None:
    # u1 -> u2, both needing an extension. u2 is patched through an index of its own, then u1 with one read before:
    # u1's links are read when u1 needs them, from the network as it is then, so u2 reads u1's new tail.
    network = standin.INetworkDefinition()
    tensor = network.add_input("x", standin.DataType.FLOAT, [1, CHANNELS, SIZE, SIZE])
    attributes = {"strides": [2, 2], "output_padding": [1, 1]}
    tensor, u1 = add_unit(network, tensor, "u1", attributes, 3, SIZE)
    tensor, u2 = add_unit(network, tensor, "u2", attributes, 3, 2 * SIZE + 2)
    network.mark_output(tensor)
    index = NetworkIndex(network)
    comparisons = compare_units(find_units(network, index, frozenset({u1.output, u2.output})), [u1, u2])
    keep: list[Any] = []
    patch_unit(network, comparisons[1].unit, comparisons[1].wanted_layer_window(), keep)
    patch_unit(network, comparisons[0].unit, comparisons[0].wanted_layer_window(), keep, index)
    assert network.get_layer(comparisons[1].unit.position).get_input(0).name == "u1.out"
    network.check()
