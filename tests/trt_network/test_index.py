"""What the network step reads: every layer and its type, and who produces and consumes what only where a unit needs
it (NetworkIndex). A deep network of units that end at their deconvolution is patched without reading any layer's
inputs and outputs; what it reads back is what a full read of the patched network gives."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from benchmarks.network import build_chain
from polygraphy_deconv.trt_network.patching import Action, Mode, fix_network
from polygraphy_deconv.trt_network.units import NetworkIndex, find_units, read_unit
from tests.standin import network as standin
from tests.standin import producers
from tests.trt_network.nodes import conv_transpose_node, random_weights


@pytest.fixture
def link_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of layers each reading of the links went through (NetworkIndex.read_links, where it reads)."""
    reads: list[int] = []
    original = NetworkIndex.read_links

    def counted(self: NetworkIndex) -> None:
        if not self._linked:
            reads.append(len(self.layers))
        original(self)

    monkeypatch.setattr(NetworkIndex, "read_links", counted)
    return reads


def test_units_ending_at_their_deconvolution_are_patched_without_reading_links(link_reads: list[int]) -> None:
    # The benchmark's chain: 4 layers a unit, every deconvolution output named after its ONNX output, every unit
    # shifted by one (a patch of the padding alone).
    network, nodes, _keep = build_chain(50)
    fix = fix_network(network, nodes)
    assert [r.action for r in fix.results] == [Action.PATCHED] * 50
    assert link_reads == []
    # What was read back is what a full read of the patched network finds, links and all.
    fresh = NetworkIndex(network)
    fresh.read_links()
    ends = frozenset(node.output for node in nodes)
    assert [r.after for r in fix.results] == [read_unit(fresh, r.unit.position, ends) for r in fix.results]
    assert fix_network(network, nodes).results[0].action is Action.OK


def test_units_with_neighbours_read_the_links_once(link_reads: list[int]) -> None:
    # ONNX's parser builds output_padding > pads_end as a fill-slice and a bias add after the deconvolution: those
    # neighbours are found through the links, read once for the whole network, before the first patch.
    node = conv_transpose_node({"strides": [2, 2], "output_padding": [1, 1]}, [1, 4, 5, 6], [4, 2, 3, 3])
    weight, bias = random_weights([4, 2, 3, 3], 1)
    network = producers.PRODUCERS["parser"].build(node.finding.attributes, [1, 4, 5, 6], weight, bias,
                                                       bias_kind=node.bias)
    (result,) = fix_network(network, [node]).results
    assert result.unit.fill_slice is not None and result.unit.bias_add is not None
    assert len(link_reads) == 1


def test_a_dead_deconvolution_alone_is_a_unit_and_patched() -> None:
    # A ConvTranspose whose output the model never uses, built as its layer alone (its output carries its ONNX name):
    # read without the links, compared and patched like any other; TensorRT drops it, so the patch changes nothing.
    network, nodes, _keep = build_chain(2)
    dangling: Any = network.add_deconvolution_nd(
        network.get_input(0), 4, standin.Dims([2, 2]), np.zeros((4, 4, 2, 2), np.float32), np.zeros(4, np.float32)
    )
    dangling.name = "unused"
    dangling.post_padding = standin.Dims([1, 1])
    dangling.get_output(0).name = "unused.out"
    unused = dataclasses.replace(nodes[0], name="unused", index=2, output="unused.out")
    units = find_units(network, ends=frozenset({"up0.out", "up1.out", "unused.out"}))
    assert [u.deconvolution for u in units] == ["up0", "up1", "unused"]
    fix = fix_network(network, [*nodes, unused])
    assert [r.action for r in fix.results] == [Action.PATCHED] * 3
    network.check()


@pytest.mark.parametrize("attributes, input_shape, weight_shape", [
    ({"strides": [2]}, [1, 4, 5], [4, 2, 3]),  # 1D: unsqueeze, deconvolution, squeeze
    ({"strides": [2, 2], "output_padding": [1, 1]}, [1, 4, 5, 6], [4, 2, 3, 3]),  # the parser's extension and bias add
])
def test_a_dead_deconvolution_with_layers_after_it_is_left_out(
    attributes: dict[str, Any], input_shape: list[int], weight_shape: list[int]
) -> None:
    # Its layers after it are dead too, so its unit cannot be read whole (a 1D unit would read as 2D and fail
    # --deconv-fix): reading it took the links, which say it is dead, and it is left out as TensorRT leaves it out.
    node = conv_transpose_node(attributes, input_shape, weight_shape)
    weight, bias = random_weights(weight_shape, 1)
    network = producers.PRODUCERS["parser"].build(node.finding.attributes, input_shape, weight, bias,
                                                  bias_kind=node.bias)
    network.unmark_output(network.get_output(0))
    other = network.add_shuffle(network.get_input(0))
    other.get_output(0).name = "z"
    network.mark_output(other.get_output(0))
    assert find_units(network, ends=frozenset({node.output})) == ()
    for mode in Mode:
        assert fix_network(network, [node], mode).results == ()
    # Used again, it is read whole.
    network.unmark_output(other.get_output(0))
    network.mark_output(network.get_layer(network.num_layers - 2).get_output(0))
    (unit,) = find_units(network, ends=frozenset({node.output}))
    assert unit.squeeze is not None or unit.fill_slice is not None


def test_with_geometry_is_replace() -> None:
    # Every field given a value of its own: a field added to DeconvolutionUnit and not copied fails here.
    from polygraphy_deconv.core.deconvolution import DeconvolutionGeometry
    from polygraphy_deconv.trt_network.units import DeconvolutionUnit, LayerBias

    geometry = DeconvolutionGeometry((5, 1), (2, 1), (3, 1), (1, 1), (0, 0), (0, 0))
    values = {"deconvolution": "d", "position": 7, "geometry": geometry, "slice": ((0, 1), (0, 0)), "bias": LayerBias.ADD,
              "output": "o", "input_dims": (1, 4, 5), "unreadable": "u", "groups": 2, "unsqueeze": "us",
              "fill_slice": "f", "bias_add": "b", "squeeze": "sq"}
    assert set(values) == set(DeconvolutionUnit._fields)
    unit = DeconvolutionUnit(**values)  # type: ignore[arg-type]
    patched = dataclasses.replace(geometry, pre_padding=(1, 0))
    assert unit.with_geometry(patched, (1, 4, 6)) == unit._replace(geometry=patched, input_dims=(1, 4, 6))


@pytest.mark.parametrize("mode", [Mode.FIX, Mode.CHECK])
def test_units_of_one_configuration_are_planned_and_numbered_alike(mode: Mode) -> None:
    # The chain's units have one configuration, but for unit 2, whose padding is set to the window ONNX means: it is
    # ok, a configuration of its own. Results alike share a number (one row of the table, one JSON text but for the
    # names); no two fixes share one.
    network, nodes, _keep = build_chain(5)
    deconvolution = network.get_layer(8)
    assert deconvolution.name == "up2"
    deconvolution.pre_padding, deconvolution.post_padding = standin.Dims([1, 1]), standin.Dims([0, 0])
    fix = fix_network(network, nodes, mode)
    wrong = Action.PATCHED if mode is Mode.FIX else Action.NEEDS_PATCH
    assert [r.action for r in fix.results] == [wrong, wrong, Action.OK, wrong, wrong]
    assert [r.comparison.configuration for r in fix.results] == [0, 0, 1, 0, 0]
    numbers = [r.alike for r in fix.results]
    assert None not in numbers and len({*numbers[:2], *numbers[3:]}) == 1 and numbers[2] != numbers[0]
    again, again_nodes, _again_keep = build_chain(5)
    assert {r.alike for r in fix_network(again, again_nodes, mode).results}.isdisjoint(numbers)
    if mode is Mode.FIX:  # what was read back is what a full read finds: the same for every patched unit
        assert len({(r.after.geometry, r.after.input_dims) for r in fix.results if r.after is not None}) == 1


def test_a_unit_already_in_the_patch_mode_keeps_it_and_one_in_another_gets_it() -> None:
    # The plan leaves the padding mode alone where a unit has the patch's (EXPLICIT_ROUND_DOWN) already; a unit in
    # another mode gets it: both read back in the patch's mode, with its padding.
    network, nodes, _keep = build_chain(2)
    network.get_layer(4).padding_mode = standin.PaddingMode.EXPLICIT_ROUND_UP
    fix = fix_network(network, nodes)
    assert [r.action for r in fix.results] == [Action.PATCHED, Action.PATCHED]
    for result in fix.results:
        assert result.after is not None
        geometry = result.after.geometry
        assert (geometry.padding_mode, geometry.pre_padding, geometry.post_padding) == ("EXPLICIT_ROUND_DOWN", (1, 1),
                                                                                        (0, 0))
    assert [r.unit.geometry.padding_mode for r in fix.results] == ["EXPLICIT_ROUND_DOWN", "EXPLICIT_ROUND_UP"]
