"""Each deconvolution unit next to its ONNX node: the node's reference window against the unit's window.

Mapping (never a guess): the unit's final tensor carries the node's ONNX output name; else the deconvolution
layer's name is the name of exactly one node; else unmatched (compare_units).

With dynamic input sizes a window is still decided by (begin, trim), which do not depend on the size
(core/window.py); only output_shape makes the reference depend on it, and then the axes are named.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Hashable, Sequence
from typing import NamedTuple

from polygraphy_deconv.core.attributes import axis_names
from polygraphy_deconv.core.finding import Verdict, judge
from polygraphy_deconv.core.model import ConvTransposeNode, NodeBias
from polygraphy_deconv.core.trt_parser import ParserBuild
from polygraphy_deconv.core.window import Window, describe_window
from polygraphy_deconv.trt_network.units import DeconvolutionUnit, layer_window_for


class Status(str, enum.Enum):
    """How a unit compares with its node."""

    OK = "ok"
    DIFFERS = "differs"  # the core's judge finds the unit's build wrong for the node (UnitComparison.verdict)
    UNDECIDABLE = "undecidable"  # the reference depends on a dynamic input size
    UNREADABLE = "unreadable"  # part of the unit cannot be read (or does not fit the node)
    UNMATCHED = "unmatched"


class UnitComparison(NamedTuple):  # a NamedTuple, as DeconvolutionUnit: thousands in a deep network
    unit: DeconvolutionUnit
    node: ConvTransposeNode | None
    matched_by: str  # "layer name" | "output name" | ""
    status: Status
    reason: str
    verdict: Verdict | None = None  # the core's judgement of the unit as built (where it was judged)
    # Units of one configuration (a number compare_units gives where a node maps to the unit; None otherwise, and
    # from compare_unit) are alike in everything the judgement reads of them and their nodes, and so in what a patch
    # plans for them.
    configuration: int | None = None

    @property
    def reference(self) -> Window | None:
        return None if self.node is None else self.node.finding.reference

    @property
    def needs_patch(self) -> bool:
        return self.status == Status.DIFFERS

    def wanted_layer_window(self) -> Window:
        """The window every spatial axis of the layer must have (only for a unit that differs)."""
        assert self.reference is not None
        return layer_window_for(self.unit, self.reference)


def unit_build(unit: DeconvolutionUnit) -> ParserBuild:
    """The unit as the core's judge takes a build: its window, whether it extends past the full result, and
    whether that extension holds the bias."""
    return ParserBuild(unit.window(), extension=unit.has_extension, extension_has_bias=not unit.extension_loses_bias)


def compare_unit(unit: DeconvolutionUnit, node: ConvTransposeNode, matched_by: str) -> UnitComparison:
    """The unit next to its node: can it be read as the node's, and what does the core's judge (the one `inspect`
    uses on the parser's predicted build) say of it."""
    return UnitComparison(unit, node, matched_by, *_judge(unit, node))


# What compare_unit decides: status, reason, verdict.
_Judgement = tuple[Status, str, Verdict | None]


def _configuration_key(unit: DeconvolutionUnit, node: ConvTransposeNode) -> Hashable:
    """Everything _judge reads of a unit and its node, and everything a patch plans from (the geometry, the slice,
    the bias and which roles the unit has: `alone` follows from slice, bias and one_dimensional)."""
    attributes, finding = node.finding.attributes, node.finding
    return (unit.geometry, unit.slice, unit.bias, unit.groups, unit.unreadable, unit.one_dimensional, node.bias,
            attributes.kernel_shape, attributes.strides, attributes.dilations, attributes.group, finding.reference,
            finding.input_sizes)


def _judged(unit: DeconvolutionUnit, node: ConvTransposeNode, memo: dict[Hashable, tuple[_Judgement, int]]
            ) -> tuple[_Judgement, int]:
    """_judge, once per configuration in `memo`, and the configuration's number (in order of first appearance)."""
    key = _configuration_key(unit, node)
    found = memo.get(key)
    if found is None:
        found = memo[key] = (_judge(unit, node), len(memo))
    return found


def _judge(unit: DeconvolutionUnit, node: ConvTransposeNode) -> _Judgement:
    finding = node.finding

    def result(status: Status, reason: str, verdict: Verdict | None = None) -> _Judgement:
        return status, reason, verdict

    if unit.unreadable is not None:
        return result(Status.UNREADABLE, unit.unreadable)
    if finding.attributes.rank != unit.spatial_rank:
        return result(
            Status.UNREADABLE,
            f"the node has {finding.attributes.rank} spatial axes, the TensorRT unit {unit.spatial_rank}",
        )
    attributes = finding.attributes
    rank = attributes.rank
    layer = unit.geometry
    own = (layer.kernel[:rank], layer.strides[:rank], layer.dilations[:rank], unit.groups)
    wanted = (attributes.kernel_shape, attributes.strides, attributes.dilations, attributes.group)
    if own != wanted:
        # No padding or slice makes up for another kernel, stride or dilation (torch2trt never sets dilation_nd:
        # torch2trt@4e820ae:torch2trt/converters/native_converters.py:478-488).
        return result(
            Status.UNREADABLE,
            f"the layer's kernel {list(own[0])}, strides {list(own[1])}, dilations {list(own[2])}, groups {own[3]} are "
            f"not the node's kernel {list(wanted[0])}, strides {list(wanted[1])}, dilations {list(wanted[2])}, "
            f"groups {wanted[3]}",
        )
    reference = finding.reference
    if reference is None:
        undecided = tuple(axis for axis, size in enumerate(finding.input_sizes) if size is None)
        names = axis_names(rank)
        axes = ", ".join(names[axis] for axis in undecided) or "?"
        return result(
            Status.UNDECIDABLE,
            f"the reference window depends on the input size of {axes} (output_shape with a dynamic "
            "input); bind it with --input-shapes",
        )
    actual = unit.window()
    if not unit.added_axis_is_identity():
        return result(Status.DIFFERS, "the axis added for 1D does not pass its one element through",
                      verdict=Verdict.WRONG_SHAPE)
    # A bias the node does not have cannot be lost: judge the extension's bias only where the node has one.
    build = unit_build(unit)
    if node.bias is NodeBias.NONE and not build.extension_has_bias:
        build = ParserBuild(build.window, extension=build.extension)
    verdict, reason = judge(reference, build)
    if verdict is Verdict.OK:
        return result(Status.OK, f"window {describe_window(actual)}", verdict=verdict)
    differences = [
        f"{name}: begin {a.begin} trim {a.trim}, ONNX begin {r.begin} trim {r.trim}"
        for name, a, r in zip(axis_names(len(actual)), actual, reference)
        if (a.begin, a.trim) != (r.begin, r.trim)
    ]
    if verdict is Verdict.TENSOR_BIAS:
        reason = "the bias stays on the deconvolution, so the extension holds 0 instead of the bias"
    return result(Status.DIFFERS, "; ".join(differences) or reason, verdict=verdict)


def compare_units(units: Sequence[DeconvolutionUnit], nodes: Sequence[ConvTransposeNode]) -> tuple[UnitComparison, ...]:
    """Map every unit to its node and compare them.

    The unit's final tensor carries its node's ONNX output name (onnx-tensorrt@10.1-GA:ModelImporter.cpp:239),
    and output names are unique in ONNX: that match comes first. The layer name is the node's name only
    where the name is unique: the parser gives a repeated name a `_<counter>` suffix
    (ImporterContext.cpp@10.1-GA:108-141) and names an unnamed node's layers after its first output
    (importerUtils.cpp@10.1-GA:1934), so a repeated name never identifies a node.
    """
    by_output = {node.output: node for node in nodes}
    counts = Counter(node.name for node in nodes)
    by_name = {node.name: node for node in nodes if counts[node.name] == 1}
    comparisons = []
    memo: dict[Hashable, tuple[_Judgement, int]] = {}  # a deep network repeats a few configurations
    for unit in units:
        node, matched_by = by_output.get(unit.output), "output name"
        if node is None:
            node, matched_by = by_name.get(unit.deconvolution), "layer name"
        if node is not None:
            judgement, configuration = _judged(unit, node, memo)
            comparisons.append(UnitComparison(unit, node, matched_by, *judgement, configuration))
        else:
            reason = (
                f"several ConvTranspose nodes are named '{unit.deconvolution}' and the unit's output tensor "
                "is none of theirs"
                if counts[unit.deconvolution] > 1
                else "no ConvTranspose node has the unit's output tensor name or the layer's name"
            )
            comparisons.append(UnitComparison(unit, None, "", Status.UNMATCHED, reason))
    return tuple(comparisons)
