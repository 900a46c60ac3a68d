"""Patch a deconvolution unit in place so that it computes its ONNX node's window.

The plan comes from the core (plan_patch): explicit padding mode with non-negative pre/post padding,
plus a fill-slice extension where the window reaches past the full result. Where an extension is
needed, the bias moves off the deconvolution into an add after the slice, so the extension holds the
bias as onnxruntime's does:
- bias weights: the deconvolution's bias becomes a constant [1, M, 1, ...] added with an elementwise SUM
  (the weights are copied into a numpy array that the caller must keep alive until the engine is built:
  TensorRT Weights do not own their memory);
- a bias tensor (input 2): reshaped to [1, M, 1, ...] and added after the slice; the deconvolution's
  input 2 becomes x - x (zeros of the same type), since the API cannot unset an input;
- the parser's own bias add: its constant is reused.
The slice has a static start and shape when the deconvolution's output dims are static; otherwise its
size is shapeOf(deconvolution output) + a constant, the way the ONNX parser builds it.

Every consumer of the old final tensor is rewired to the new one, network outputs are re-marked in
their order, and the old tensor's name moves to the new final tensor, so outputs still compare by
name. Old layers stay in the network without consumers (TensorRT drops unused layers when it builds);
they are left shape-consistent. Patching never writes negative padding, and a unit whose window already
matches is not touched, so patching a patched network changes nothing.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from polygraphy_deconv.core.deconvolution import (
    DeconvolutionGeometry,
    DeconvolutionPatch,
    deconvolution_window,
    patched_window,
    plan_patch,
)
from polygraphy_deconv.core.window import Window, window_length
from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.onnx_model.reading import ConvTransposeNode
from polygraphy_deconv.trt_network.comparison import (
    STATUS_DIFFERS,
    STATUS_OK,
    STATUS_UNDECIDABLE,
    STATUS_UNMATCHED,
    UnitComparison,
    compare_units,
)
from polygraphy_deconv.trt_network.library import library
from polygraphy_deconv.trt_network.units import (
    BIAS_ADD,
    BIAS_TENSOR,
    BIAS_WEIGHTS,
    DeconvolutionUnit,
    NetworkIndex,
    as_deconvolution,
    as_shuffle,
    as_slice,
    find_units,
    optional_input,
    read_unit,
    weights_array,
)
from polygraphy_deconv.trt_network.versions import output_types_settable, set_output_type, shape_integer_type

if TYPE_CHECKING:
    import tensorrt as trt
else:
    from polygraphy_deconv.trt_network.library import trt

ACTION_OK = "ok"
ACTION_PATCHED = "patched"
ACTION_NEEDS_PATCH = "needs-patch"  # --deconv-check: found, not changed
ACTION_UNPATCHABLE = "unpatchable"
ACTION_UNMATCHED = "unmatched"
ACTION_UNDECIDED = "undecided"


class UnpatchableUnit(DeconvError):
    """A unit that cannot be patched safely; the message names the layer and the reason."""

    def __init__(self, layer: str, reason: str) -> None:
        super().__init__(f"TensorRT layer '{layer}': cannot patch the deconvolution safely: {reason}")
        self.layer = layer
        self.reason = reason


@dataclass(frozen=True, slots=True)
class UnitResult:
    """What was found and done for one unit."""

    comparison: UnitComparison
    action: str  # ACTION_*
    detail: str
    patch: DeconvolutionPatch | None = None
    after: DeconvolutionUnit | None = None  # the unit as read back after patching

    @property
    def unit(self) -> DeconvolutionUnit:
        return self.comparison.unit


@dataclass
class NetworkFix:
    """The results for every unit, and the arrays that TensorRT's Weights point into (kept alive with the network
    by fix_network)."""

    results: tuple[UnitResult, ...]
    keep_alive: list[Any] = field(default_factory=list)
    library: str = ""  # the TensorRT library the network belongs to: "TensorRT-RTX 1.7.1.116", "TensorRT 10.16.1"

    @property
    def needs_patch(self) -> tuple[UnitResult, ...]:
        return tuple(r for r in self.results if r.action in (ACTION_NEEDS_PATCH, ACTION_UNPATCHABLE))


def _dims(values: Sequence[int]) -> trt.Dims:
    return trt.Dims([int(v) for v in values])


@functools.lru_cache(maxsize=1024)
def _checked_plan(geometry: DeconvolutionGeometry, wanted: Window) -> tuple[DeconvolutionPatch, str]:
    """The core's plan for a layer window and why it cannot be applied ("" when it can). Pure: computed
    once per distinct (geometry, window), which a deep network repeats unit after unit."""
    patch = plan_patch(wanted)
    if any(v < 0 for v in (*patch.pre_padding, *patch.post_padding)):
        return patch, "the plan has negative padding"
    result = patched_window(geometry, patch)
    if [(a.begin, a.trim) for a in result] != [(w.begin, w.trim) for w in wanted]:
        return patch, "the patch plan does not reproduce the wanted window"
    return patch, ""


def _rewire(index: NetworkIndex, old: trt.ITensor, new: trt.ITensor, skip: set[int]) -> None:
    """Every consumer of `old` (except the layers in `skip`) reads `new`; network outputs follow, in order;
    the name moves to `new`."""
    network = index.network
    for position, slot in index.consumers(old.name):
        index.touch(position)  # reads `new`, or (in `skip`) the old tensor under its new name
        if position not in skip:
            index.layers[position].set_input(slot, new)
    producer = index.producer.get(old.name)
    if producer is not None:
        index.touch(producer)  # its output is renamed below
    outputs = [network.get_output(i) for i in range(network.num_outputs)]
    names = [t.name for t in outputs]
    name = old.name
    if name in names:
        at = names.index(name)
        for tensor in outputs[at:]:
            network.unmark_output(tensor)
        old.name = f"{name}/deconv_fix_replaced"
        new.name = name
        network.mark_output(new)
        if output_types_settable(network) and new.dtype != old.dtype:
            set_output_type(new, old.dtype)  # the parser's output type (a float16 output stays float16)
        for tensor in outputs[at + 1 :]:
            network.mark_output(tensor)
    else:
        old.name = f"{name}/deconv_fix_replaced"
        new.name = name


def patch_unit(
    network: trt.INetworkDefinition,
    unit: DeconvolutionUnit,
    wanted: Window,
    keep_alive: list[Any],
    index: NetworkIndex | None = None,
) -> DeconvolutionPatch:
    """Give `unit` the layer window `wanted` (every spatial axis of the layer). Raises UnpatchableUnit.

    `index` may be one built before other units were patched: units share no layers, a patch only
    appends layers and rewires the consumers of its own unit's output, so what this unit reads of the
    index (its layers' positions, the consumers of its own tensors, the network output names) stays true.
    Reusing one index keeps patching a whole network linear in its layers. Every existing layer the patch
    changes is marked on the index (`touch`), so `index.refresh()` afterwards shows the network as it is.
    """
    import numpy as np
    if unit.unreadable is not None:
        raise UnpatchableUnit(unit.deconvolution, unit.unreadable)
    if unit.one_dimensional and unit.geometry.dilated_kernel[1] != 1:
        raise UnpatchableUnit(unit.deconvolution, "the axis added for 1D has a kernel wider than 1")
    patch, problem = _checked_plan(unit.geometry, tuple(wanted))
    if problem:
        raise UnpatchableUnit(unit.deconvolution, problem)

    index = index or NetworkIndex(network)
    found = {name: index.position_of(name) for name in unit.layers}
    if found[unit.deconvolution] != unit.index or None in found.values():
        raise UnpatchableUnit(unit.deconvolution, "the layer changed since the network was read")
    positions = {name: position for name, position in found.items() if position is not None}
    unit_positions = set(positions.values())
    deconv = as_deconvolution(index.layers[unit.index])
    deconv_out = deconv.get_output(0)
    tail_layers = [positions[n] for n in unit.layers if positions[n] > unit.index]
    squeeze = index.layers[tail_layers[-1]] if unit.one_dimensional else None
    old_final = squeeze.get_output(0) if squeeze is not None else None
    inner_tail = tail_layers[:-1] if unit.one_dimensional else tail_layers
    old_inner = index.layers[inner_tail[-1]].get_output(0) if inner_tail else deconv_out
    if inner_tail:
        outside = [p for p, _ in index.value_consumers(deconv_out) if p not in unit_positions]
        if outside or deconv_out.name in index.outputs:
            raise UnpatchableUnit(unit.deconvolution, "its output is also read outside the unit")

    deconv.padding_mode = trt.PaddingMode.EXPLICIT_ROUND_DOWN
    deconv.pre_padding = _dims(patch.pre_padding)
    deconv.post_padding = _dims(patch.post_padding)

    rank = len(unit.geometry.strides) + 2
    channels = int(deconv.num_output_maps)
    bias_shape = [1, channels] + [1] * (rank - 2)
    bias_operand: trt.ITensor | None = None
    prefix = f"{unit.deconvolution}/deconv_fix"
    if unit.bias == BIAS_ADD:
        add = index.layers[inner_tail[-1]]
        operands = [optional_input(add, 0), optional_input(add, 1)]
        tail_name = index.layers[inner_tail[-2]].get_output(0).name if len(inner_tail) > 1 else deconv_out.name
        bias_operand = next(t for t in operands if t is not None and t.name != tail_name)
    elif patch.needs_extension and unit.bias == BIAS_WEIGHTS:
        values = weights_array(deconv.bias)
        if values is None:
            raise UnpatchableUnit(
                unit.deconvolution, "its bias weights are of a type numpy cannot hold (BF16, FP8, INT4 or FP4)"
            )
        bias = np.array(values, copy=True).reshape(bias_shape)
        zeros = np.zeros_like(values)  # the bias's own type (an empty bias is refused by TensorRT-RTX)
        keep_alive.extend((bias, zeros))
        constant = network.add_constant(_dims(bias_shape), trt.Weights(bias))
        constant.name = f"{prefix}/bias"
        deconv.bias = trt.Weights(zeros)
        bias_operand = constant.get_output(0)
    elif patch.needs_extension and unit.bias == BIAS_TENSOR:
        bias_tensor = optional_input(deconv, 2)
        assert bias_tensor is not None
        reshape = network.add_shuffle(bias_tensor)
        reshape.reshape_dims = _dims(bias_shape)
        reshape.name = f"{prefix}/bias_reshape"
        zeros = network.add_elementwise(bias_tensor, bias_tensor, trt.ElementWiseOperation.SUB)
        zeros.name = f"{prefix}/bias_off"
        deconv.set_input(2, zeros.get_output(0))
        index.touch(unit.index)
        bias_operand = reshape.get_output(0)

    tail = deconv_out
    if patch.needs_extension:
        before = [0, 0, *patch.extension_before]
        after = [0, 0, *patch.extension_after]
        start = [-b for b in before]
        # The deconvolution's new output dims, from the unit as read and the core (no shape query: on a
        # deep network that would walk every layer above this one after each patch).
        lengths = window_length(deconvolution_window(replace(
            unit.geometry, pre_padding=patch.pre_padding, post_padding=patch.post_padding, padding_mode="EXPLICIT_ROUND_DOWN"
        )))
        batch = unit.input_dims[0] if unit.input_dims else None
        out_dims = (batch, channels, *lengths)
        if None not in out_dims:
            shape = [int(d or 0) + b + a for d, b, a in zip(out_dims, before, after)]
            fill = network.add_slice(tail, _dims(start), _dims(shape), _dims([1] * rank))
        else:
            shape_layer = network.add_shape(tail)
            shape_layer.name = f"{prefix}/shape"
            growth = np.array([b + a for b, a in zip(before, after)], dtype=shape_integer_type(shape_layer.get_output(0)))
            keep_alive.append(growth)
            growth_layer = network.add_constant(_dims([rank]), trt.Weights(growth))
            growth_layer.name = f"{prefix}/growth"
            size = network.add_elementwise(
                shape_layer.get_output(0), growth_layer.get_output(0), trt.ElementWiseOperation.SUM
            )
            size.name = f"{prefix}/size"
            fill = network.add_slice(tail, _dims(start), _dims([1] * rank), _dims([1] * rank))
            fill.set_input(2, size.get_output(0))
        fill.mode = trt.SampleMode.FILL
        fill.name = f"{prefix}/extension"
        tail = fill.get_output(0)
    if bias_operand is not None:
        add_layer = network.add_elementwise(tail, bias_operand, trt.ElementWiseOperation.SUM)
        add_layer.name = f"{prefix}/bias_add"
        tail = add_layer.get_output(0)

    if tail.name != old_inner.name:
        # Old slices stay shape-consistent without consumers: FILL accepts any start and size.
        for position in inner_tail:
            old = index.layers[position]
            if old.type == trt.LayerType.SLICE:
                as_slice(old).mode = trt.SampleMode.FILL
    if squeeze is None:
        if tail.name != old_inner.name:
            _rewire(index, old_inner, tail, skip=unit_positions)
        return patch

    assert old_final is not None
    if squeeze.type == trt.LayerType.SHUFFLE and optional_input(squeeze, 1) is not None:
        # Its shape comes from a tensor computed from the old tail: leave it there, squeeze anew.
        if tail.name == old_inner.name:
            return patch
        new_squeeze = network.add_shuffle(tail)
        new_squeeze.reshape_dims = _dims([0, 0, 0])
        new_squeeze.zero_is_placeholder = True
        new_squeeze.name = f"{prefix}/squeeze"
        _rewire(index, old_final, new_squeeze.get_output(0), skip=unit_positions)
        return patch
    squeeze.set_input(0, tail)
    index.touch(tail_layers[-1])
    if squeeze.type == trt.LayerType.SHUFFLE:
        shuffle = as_shuffle(squeeze)
        shuffle.zero_is_placeholder = True
        shuffle.reshape_dims = _dims([0, 0, 0])  # N, C, W copied from the 4D input: the trailing 1 drops
    return patch


def fix_network(
    network: trt.INetworkDefinition, nodes: Sequence[ConvTransposeNode], check_only: bool | None = None
) -> NetworkFix:
    """Find, compare and (unless `check_only`) patch every deconvolution unit of the network.

    A unit that differs but cannot be patched is reported as ACTION_UNPATCHABLE (the caller decides to
    fail); nothing else is changed for it.
    """
    index = NetworkIndex(network)
    ends = frozenset(node.output for node in nodes)
    comparisons = compare_units(find_units(network, index, ends), nodes)
    keep_alive: list[Any] = []
    results: list[UnitResult | None] = []
    patched: list[tuple[int, UnitComparison, DeconvolutionPatch]] = []
    for comparison in comparisons:
        unit = comparison.unit
        if comparison.status == STATUS_OK:
            results.append(UnitResult(comparison, ACTION_OK, comparison.reason))
        elif comparison.status == STATUS_UNMATCHED:
            results.append(UnitResult(comparison, ACTION_UNMATCHED, comparison.reason))
        elif comparison.status == STATUS_UNDECIDABLE:
            results.append(UnitResult(comparison, ACTION_UNDECIDED, comparison.reason))
        elif comparison.status != STATUS_DIFFERS:
            results.append(UnitResult(comparison, ACTION_UNPATCHABLE, comparison.reason))
        elif check_only:
            results.append(UnitResult(comparison, ACTION_NEEDS_PATCH, comparison.reason))
        else:
            try:
                patch = patch_unit(network, unit, comparison.wanted_layer_window(), keep_alive, index)
            except UnpatchableUnit as error:
                results.append(UnitResult(comparison, ACTION_UNPATCHABLE, error.reason))
                continue
            patched.append((len(results), comparison, patch))
            results.append(None)  # filled in once the unit is read back
    if patched:
        # Read every patched unit back from the network as it now is: what the report shows is measured.
        index.refresh()
        descriptions: dict[DeconvolutionPatch, str] = {}  # units share equal patches
        for position, comparison, patch in patched:
            after = read_unit(index, comparison.unit.index, ends)
            description = descriptions.get(patch)
            if description is None:
                description = descriptions[patch] = patch.describe()
            results[position] = UnitResult(
                comparison, ACTION_PATCHED, f"{comparison.reason} -> {description}", patch, after
            )
    done = tuple(r for r in results if r is not None)
    assert len(done) == len(results)
    _keep_with(network, keep_alive)
    return NetworkFix(done, keep_alive, str(library()))


# The arrays each patched network's new Weights point into, for as long as the network lives. TensorRT's Weights
# do not own their memory, and the bindings keep an array alive only for some calls: add_constant's
# (pyGraph.cpp@release/10.8:945-947), not a layer's `bias` setter, whose zeros were read back as garbage on
# TensorRT-RTX 1.7.1 once the caller dropped them. Polygraphy's later loaders hand on (builder, network, parser)
# only, so the arrays cannot travel in the loader's tuple; keyed weakly by the network, they go with it.
_ARRAYS: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()
_ARRAYS_OF_UNREFERENCEABLE_NETWORKS: list[Any] = []  # a network object without weak references: the process's life


def _keep_with(network: Any, arrays: list[Any]) -> None:
    if not arrays:
        return
    try:
        _ARRAYS.setdefault(network, []).extend(arrays)
    except TypeError:
        _ARRAYS_OF_UNREFERENCEABLE_NETWORKS.extend(arrays)
