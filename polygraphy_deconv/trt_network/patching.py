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

import enum
import functools
import itertools
import weakref
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from polygraphy_deconv.core.deconvolution import (
    DeconvolutionGeometry,
    DeconvolutionPatch,
    deconvolution_window,
    patched_window,
    plan_patch,
    windows_differ_in_shape,
)
from polygraphy_deconv.core.model import ConvTransposeNode
from polygraphy_deconv.core.window import Window, window_length
from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.trt_network.comparison import Status, UnitComparison, compare_units
from polygraphy_deconv.trt_network.library import library, tensorrt
from polygraphy_deconv.trt_network.units import (
    DeconvolutionUnit,
    LayerBias,
    NetworkIndex,
    as_deconvolution,
    as_shuffle,
    as_slice,
    dims_of,
    find_units,
    optional_input,
    read_unit,
    reread_padding,
    weights_array,
)
from polygraphy_deconv.trt_network.versions import output_types_settable, set_output_type, shape_integer_type

if TYPE_CHECKING:
    import tensorrt as trt
else:
    from polygraphy_deconv.trt_network.library import trt

class Action(str, enum.Enum):
    """What was done with a unit."""

    OK = "ok"
    PATCHED = "patched"
    NEEDS_PATCH = "needs-patch"  # found, not changed (Mode.CHECK, Mode.REPORT)
    UNPATCHABLE = "unpatchable"
    UNMATCHED = "unmatched"
    UNDECIDED = "undecided"


class Mode(str, enum.Enum):
    """What the network step does: the plugin's --deconv-fix, --deconv-check and --deconv-report alone."""

    FIX = "fix"  # patch every unit that differs; fail on one that cannot be patched
    CHECK = "check"  # change nothing; fail where a unit would need a patch
    REPORT = "report"  # change nothing; only report

    @property
    def patches(self) -> bool:
        return self is Mode.FIX


# A unit's comparison status -> the action, where the status alone decides it.
_ACTIONS = {Status.OK: Action.OK, Status.UNMATCHED: Action.UNMATCHED, Status.UNDECIDABLE: Action.UNDECIDED,
            Status.UNREADABLE: Action.UNPATCHABLE}


class UnpatchableUnit(DeconvError):
    """A unit that cannot be patched safely; the message names the layer and the reason."""

    def __init__(self, layer: str, reason: str) -> None:
        super().__init__(f"TensorRT layer '{layer}': cannot patch the deconvolution safely: {reason}")
        self.layer = layer
        self.reason = reason


_ALIKE_NUMBERS = itertools.count()  # UnitResult.alike


class UnitResult(NamedTuple):
    """What was found and done for one unit (a NamedTuple, as DeconvolutionUnit: thousands in a deep network)."""

    comparison: UnitComparison
    action: Action
    detail: str
    patch: DeconvolutionPatch | None = None
    after: DeconvolutionUnit | None = None  # the unit as read back after patching
    # Results with one number are alike in everything the network report shows of them but names (layers, node,
    # tensors): units of one configuration, alike in their input dims, action and detail, and in what was read back.
    # Numbers are unique in the process (results of two fixes never share one). None: not numbered (the report then
    # compares what it shows). A result made from another with anything it shows changed must have alike=None.
    alike: int | None = None

    @property
    def unit(self) -> DeconvolutionUnit:
        return self.comparison.unit


@dataclass
class NetworkFix:
    """The results for every unit, and the arrays that TensorRT's Weights point into (patch_unit keeps them alive
    with the network)."""

    results: tuple[UnitResult, ...]
    keep_alive: list[Any] = field(default_factory=list)
    library: str = ""  # the TensorRT library the network belongs to: "TensorRT-RTX 1.7.1.116", "TensorRT 10.16.1"

    @functools.cached_property
    def counts(self) -> Counter[Action]:
        """How many units got each action (counted once: `results` is not reassigned)."""
        return Counter(result.action for result in self.results)

    def with_action(self, *actions: Action) -> tuple[UnitResult, ...]:
        """The results with one of these actions, in layer order (counts first: a deep network's results are many,
        those of most actions none)."""
        if not any(self.counts[action] for action in actions):
            return ()
        return tuple(result for result in self.results if result.action in actions)

    @property
    def needs_patch(self) -> tuple[UnitResult, ...]:
        return self.with_action(Action.NEEDS_PATCH, Action.UNPATCHABLE)


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
    """Give `unit` the layer window `wanted` (every spatial axis of the layer). Raises UnpatchableUnit. The arrays
    behind the new Weights are kept alive as long as the network, and also appended to `keep_alive`.

    `index` may be one built before other units were patched: units share no layers, a patch only
    appends layers and rewires the consumers of its own unit's output, so what this unit reads of the
    index (its layers' positions, the consumers of its own tensors, the network output names) stays true.
    Links the index has not read yet are read when this patch needs them, from the network as it is then
    (NetworkIndex.read_links). Reusing one index keeps patching a whole network linear in its layers. Every
    existing layer the patch changes is marked on the index (`touch`), so `index.refresh()` afterwards shows
    the network as it is. A static extension is sized from the deconvolution's input as it is now: patch
    units in layer order (fix_network does), so that a patch changing a size comes before the units it feeds.

    The steps: plan, locate the unit's layers, pad the deconvolution, take its bias off where an extension must
    hold the bias, add the extension (a fill-slice) and the bias add, and connect the new tail in place of the
    old one (through the unit's squeeze for a 1D unit).
    """
    patch = _plan(unit, wanted)
    _apply(network, unit, patch, keep_alive, index or NetworkIndex(network))
    return patch


def _apply(network: trt.INetworkDefinition, unit: DeconvolutionUnit, patch: DeconvolutionPatch, keep_alive: list[Any],
           index: NetworkIndex) -> None:
    """patch_unit's steps after the plan."""
    if pads_alone(unit, patch):  # the usual patch: nothing to locate, add or connect
        _pad(_UnitLayers.deconvolution_of(index, unit), patch)
        return
    if _needs_links(unit, patch):
        index.read_links()  # before this patch adds layers (see NetworkIndex.read_links)
    layers = _UnitLayers.locate(index, unit)
    _pad(layers.deconvolution, patch)
    arrays: list[Any] = []  # what the new Weights point into: kept with the network, where they are made
    bias = _bias_operand(network, layers, patch, arrays)
    tail = _extend(network, layers, patch, arrays)
    _keep_with(network, arrays)
    keep_alive.extend(arrays)
    if bias is not None:
        add = network.add_elementwise(tail, bias, trt.ElementWiseOperation.SUM)
        add.name = f"{layers.prefix}/bias_add"
        tail = add.get_output(0)
    _connect(network, layers, tail)


@dataclass(frozen=True)
class _Plan:
    """The patch of the units of one configuration (UnitComparison.configuration), worked out once for them all."""

    patch: DeconvolutionPatch | None  # None: the units cannot be patched, for `problem`
    problem: str
    # Where the patch sets the padding alone: _padding's values (the mode None where the units have it already).
    padding: tuple[Any, Any, Any] | None = None
    needs_links: bool = False  # see _needs_links
    changes_size: bool = False  # the patch changes the units' output size
    detail: str = ""  # the result's detail once a unit is patched

    @staticmethod
    def of(comparison: UnitComparison) -> _Plan:
        unit = comparison.unit
        try:
            patch = _plan(unit, comparison.wanted_layer_window())
        except UnpatchableUnit as error:
            return _Plan(None, error.reason)
        padding = None
        if pads_alone(unit, patch):
            mode, pre, post = _padding(tensorrt(), patch)
            # The mode as read from the layer: where it is the patch's already, it is not set again.
            padding = (None if unit.geometry.padding_mode == mode.name else mode, pre, post)
        return _Plan(
            patch,
            "",
            padding,
            _needs_links(unit, patch),
            windows_differ_in_shape(unit.window(), comparison.reference or ()),
            f"{comparison.reason} -> {patch.describe()}",
        )


def pads_alone(unit: DeconvolutionUnit, patch: DeconvolutionPatch) -> bool:
    """Whether the patch changes the deconvolution's padding and nothing else: a unit of one layer, no extension."""
    return unit.alone and not patch.needs_extension


def _pad(deconvolution: trt.IDeconvolutionLayer, patch: DeconvolutionPatch) -> None:
    _set_padding(deconvolution, _padding(tensorrt(), patch))


def _set_padding(deconvolution: trt.IDeconvolutionLayer, padding: tuple[Any, Any, Any]) -> None:
    """The padding mode (unless None), pre- and post-padding."""
    mode, pre, post = padding
    if mode is not None:
        deconvolution.padding_mode = mode
    deconvolution.pre_padding = pre
    deconvolution.post_padding = post


@functools.lru_cache(maxsize=256)
def _padding(module: Any, patch: DeconvolutionPatch) -> tuple[Any, Any, Any]:
    """The patch's padding mode and Dims in `module`, made once per distinct patch (the setters copy them)."""
    return (module.PaddingMode.EXPLICIT_ROUND_DOWN, module.Dims(list(patch.pre_padding)),
            module.Dims(list(patch.post_padding)))


def _needs_links(unit: DeconvolutionUnit, patch: DeconvolutionPatch) -> bool:
    """Whether patching the unit asks who consumes what: a unit with layers after its deconvolution (are they read
    only inside it?), or a patch that puts a new tail in place of the old one (whose consumers are rewired). A patch
    of the padding alone asks nothing."""
    return patch.needs_extension or unit.fill_slice is not None or unit.bias_add is not None


def _plan(unit: DeconvolutionUnit, wanted: Window) -> DeconvolutionPatch:
    """The core's plan for the unit, or UnpatchableUnit with why it cannot be applied."""
    if unit.unreadable is not None:
        raise UnpatchableUnit(unit.deconvolution, unit.unreadable)
    if unit.one_dimensional and unit.geometry.dilated_kernel[1] != 1:
        raise UnpatchableUnit(unit.deconvolution, "the axis added for 1D has a kernel wider than 1")
    patch, problem = _checked_plan(unit.geometry, tuple(wanted))
    if problem:
        raise UnpatchableUnit(unit.deconvolution, problem)
    return patch


@dataclass(frozen=True)
class _UnitLayers:
    """A unit's layers in the network, by role, as a patch finds them."""

    index: NetworkIndex
    unit: DeconvolutionUnit
    positions: dict[str, int]  # every layer of the unit by name
    deconvolution: trt.IDeconvolutionLayer
    inner_tail: trt.ITensor  # the output of the bias add, else of the fill-slice, else of the deconvolution

    @property
    def prefix(self) -> str:
        return f"{self.unit.deconvolution}/deconv_fix"

    def layer(self, name: str) -> trt.ILayer:
        return self.index.layers[self.positions[name]]

    @staticmethod
    def deconvolution_of(index: NetworkIndex, unit: DeconvolutionUnit) -> trt.IDeconvolutionLayer:
        """The unit's deconvolution layer, where the index read it."""
        if unit.position >= len(index.layers) or index.layers[unit.position].name != unit.deconvolution:
            raise UnpatchableUnit(unit.deconvolution, "the layer changed since the network was read")
        return as_deconvolution(index.layers[unit.position])

    @classmethod
    def locate(cls, index: NetworkIndex, unit: DeconvolutionUnit) -> _UnitLayers:
        deconv = cls.deconvolution_of(index, unit)
        found = {name: index.position_of(name) for name in unit.layers if name != unit.deconvolution}
        if None in found.values():
            raise UnpatchableUnit(unit.deconvolution, "the layer changed since the network was read")
        positions = {name: position for name, position in found.items() if position is not None}
        positions[unit.deconvolution] = unit.position
        last_inner = unit.bias_add or unit.fill_slice
        inner_tail = deconv.get_output(0) if last_inner is None else index.layers[positions[last_inner]].get_output(0)
        if last_inner is not None:
            deconv_out = deconv.get_output(0)
            inside = set(positions.values())
            outside = [p for p, _ in index.value_consumers(deconv_out) if p not in inside]
            if outside or deconv_out.name in index.outputs:
                raise UnpatchableUnit(unit.deconvolution, "its output is also read outside the unit")
        return cls(index, unit, positions, deconv, inner_tail)


def _bias_operand(network: trt.INetworkDefinition, layers: _UnitLayers, patch: DeconvolutionPatch,
                  keep_alive: list[Any]) -> trt.ITensor | None:
    """The per-channel bias [1, M, 1, ...] to add after the extension: the unit's own bias add's operand, or, where
    an extension must hold the bias, the deconvolution's bias taken off it (weights: zeroed; a tensor: x - x)."""
    import numpy as np

    unit, deconv = layers.unit, layers.deconvolution
    if unit.bias_add is not None:
        add = layers.layer(unit.bias_add)
        fed = layers.layer(unit.fill_slice).get_output(0) if unit.fill_slice else deconv.get_output(0)
        return next(t for t in (optional_input(add, 0), optional_input(add, 1)) if t is not None and t.name != fed.name)
    if not patch.needs_extension or unit.bias in (LayerBias.NONE, LayerBias.ADD):
        return None
    channels = int(deconv.num_output_maps)
    bias_shape = [1, channels] + [1] * len(unit.geometry.strides)
    if unit.bias == LayerBias.WEIGHTS:
        values = weights_array(deconv.bias)
        if values is None:
            raise UnpatchableUnit(
                unit.deconvolution, "its bias weights are of a type numpy cannot hold (BF16, FP8, INT4 or FP4)"
            )
        bias = np.array(values, copy=True).reshape(bias_shape)
        zeros = np.zeros_like(values)  # the bias's own type (an empty bias is refused by TensorRT-RTX)
        keep_alive.extend((bias, zeros))
        constant = network.add_constant(_dims(bias_shape), trt.Weights(bias))
        constant.name = f"{layers.prefix}/bias"
        deconv.bias = trt.Weights(zeros)
        return constant.get_output(0)
    bias_tensor = optional_input(deconv, 2)
    assert bias_tensor is not None
    reshape = network.add_shuffle(bias_tensor)
    reshape.reshape_dims = _dims(bias_shape)
    reshape.name = f"{layers.prefix}/bias_reshape"
    zeros_layer = network.add_elementwise(bias_tensor, bias_tensor, trt.ElementWiseOperation.SUB)
    zeros_layer.name = f"{layers.prefix}/bias_off"
    deconv.set_input(2, zeros_layer.get_output(0))
    layers.index.touch(unit.position)
    return reshape.get_output(0)


def _extend(network: trt.INetworkDefinition, layers: _UnitLayers, patch: DeconvolutionPatch,
            keep_alive: list[Any]) -> trt.ITensor:
    """The deconvolution's output, through a new fill-slice where the window reaches past the full result: static
    where the output dims are, else sized by shapeOf(output) + a constant, the way the ONNX parser builds it."""
    import numpy as np

    unit, deconv = layers.unit, layers.deconvolution
    tail = deconv.get_output(0)
    if not patch.needs_extension:
        return tail
    rank = len(unit.geometry.strides) + 2
    before = [0, 0, *patch.extension_before]
    after = [0, 0, *patch.extension_after]
    start = [-b for b in before]
    # The deconvolution's new output dims, from its input dims as they are now (a patch of a unit before this one
    # may have changed them since the unit was read) and the core.
    source = optional_input(deconv, 0)
    input_dims = dims_of(source) if source is not None else ()
    lengths = window_length(deconvolution_window(replace(
        unit.geometry, input_sizes=input_dims[2:] if len(input_dims) == rank else (None,) * (rank - 2),
        pre_padding=patch.pre_padding, post_padding=patch.post_padding, padding_mode="EXPLICIT_ROUND_DOWN",
    )))
    batch = input_dims[0] if input_dims else None
    out_dims = (batch, int(deconv.num_output_maps), *lengths)
    if None not in out_dims:
        shape = [int(d or 0) + b + a for d, b, a in zip(out_dims, before, after)]
        fill = network.add_slice(tail, _dims(start), _dims(shape), _dims([1] * rank))
    else:
        shape_layer = network.add_shape(tail)
        shape_layer.name = f"{layers.prefix}/shape"
        growth = np.array([b + a for b, a in zip(before, after)], dtype=shape_integer_type(shape_layer.get_output(0)))
        keep_alive.append(growth)
        growth_layer = network.add_constant(_dims([rank]), trt.Weights(growth))
        growth_layer.name = f"{layers.prefix}/growth"
        size = network.add_elementwise(shape_layer.get_output(0), growth_layer.get_output(0),
                                       trt.ElementWiseOperation.SUM)
        size.name = f"{layers.prefix}/size"
        fill = network.add_slice(tail, _dims(start), _dims([1] * rank), _dims([1] * rank))
        fill.set_input(2, size.get_output(0))
    fill.mode = trt.SampleMode.FILL
    fill.name = f"{layers.prefix}/extension"
    return fill.get_output(0)


def _connect(network: trt.INetworkDefinition, layers: _UnitLayers, tail: trt.ITensor) -> None:
    """The new tail in place of the unit's old inner tail: its consumers rewired, or (1D) the squeeze fed from it."""
    unit, index, old_inner = layers.unit, layers.index, layers.inner_tail
    inside = set(layers.positions.values())
    if tail.name != old_inner.name and unit.fill_slice is not None:
        # The old slice stays shape-consistent without consumers: FILL accepts any start and size.
        as_slice(layers.layer(unit.fill_slice)).mode = trt.SampleMode.FILL
    if unit.squeeze is None:
        if tail.name != old_inner.name:
            _rewire(index, old_inner, tail, skip=inside)
        return
    squeeze = layers.layer(unit.squeeze)
    if squeeze.type == trt.LayerType.SHUFFLE and optional_input(squeeze, 1) is not None:
        # Its shape comes from a tensor computed from the old tail: leave it there, squeeze anew.
        if tail.name == old_inner.name:
            return
        new_squeeze = network.add_shuffle(tail)
        new_squeeze.reshape_dims = _dims([0, 0, 0])
        new_squeeze.zero_is_placeholder = True
        new_squeeze.name = f"{layers.prefix}/squeeze"
        _rewire(index, squeeze.get_output(0), new_squeeze.get_output(0), skip=inside)
        return
    squeeze.set_input(0, tail)
    index.touch(layers.positions[unit.squeeze])
    if squeeze.type == trt.LayerType.SHUFFLE:
        shuffle = as_shuffle(squeeze)
        shuffle.zero_is_placeholder = True
        shuffle.reshape_dims = _dims([0, 0, 0])  # N, C, W copied from the 4D input: the trailing 1 drops


def fix_network(
    network: trt.INetworkDefinition, nodes: Sequence[ConvTransposeNode], mode: Mode | None = None
) -> NetworkFix:
    """Find, compare and (in Mode.FIX, the default) patch every deconvolution unit of the network.

    A unit that differs but cannot be patched is reported as Action.UNPATCHABLE (the caller decides to
    fail); nothing else is changed for it.
    """
    mode = mode or Mode.FIX
    index = NetworkIndex(network)
    ends = frozenset(node.output for node in nodes)
    comparisons = compare_units(find_units(network, index, ends), nodes)
    results: list[UnitResult | None] = []
    planned: list[tuple[int, UnitComparison, _Plan, DeconvolutionPatch]] = []
    plans: dict[int, _Plan] = {}  # by configuration: its units are planned alike (UnitComparison)
    alike: dict[Hashable, int] = {}  # UnitResult.alike

    def number(key: Hashable) -> int:
        found = alike.get(key)
        if found is None:
            found = alike[key] = next(_ALIKE_NUMBERS)
        return found

    def unchanged(comparison: UnitComparison, action: Action, detail: str) -> UnitResult:
        configuration = comparison.configuration
        numbered = None if configuration is None else number((configuration, action, comparison.unit.input_dims))
        return UnitResult(comparison, action, detail, alike=numbered)

    for comparison in comparisons:
        action = _ACTIONS.get(comparison.status)
        if action is not None:
            results.append(unchanged(comparison, action, comparison.reason))
        elif not mode.patches:
            results.append(unchanged(comparison, Action.NEEDS_PATCH, comparison.reason))
        else:
            configuration = comparison.configuration
            assert configuration is not None, "a unit that differs from its node was compared by compare_units"
            plan = plans.get(configuration)
            if plan is None:
                plan = plans[configuration] = _Plan.of(comparison)
            if plan.patch is None:
                results.append(unchanged(comparison, Action.UNPATCHABLE, plan.problem))
                continue
            planned.append((len(results), comparison, plan, plan.patch))
            results.append(None)  # filled in once the unit is patched and read back
    if any(plan.needs_links for plan in plans.values()):
        index.read_links()  # before the first patch (see NetworkIndex.read_links)
    keep_alive: list[Any] = []
    for position, comparison, plan, patch in planned:
        unit = comparison.unit
        if plan.padding is not None:
            # The padding alone, of the layer as the index read it here: patches only add layers, so it is the unit's
            # (patch_unit, given an index read before, checks that by name: _UnitLayers.deconvolution_of).
            _set_padding(cast("trt.IDeconvolutionLayer", index.layers[unit.position]), plan.padding)
            continue
        try:
            _apply(network, unit, patch, keep_alive, index)
        except UnpatchableUnit as error:
            results[position] = UnitResult(comparison, Action.UNPATCHABLE, error.reason)
    if planned:
        # Read every patched unit back from the network as it now is: what the report shows is measured. Where no
        # patch changed a unit's output size, no input size changed either.
        sizes_changed = any(plan.changes_size for plan in plans.values())
        index.refresh()
        geometries: dict[Hashable, DeconvolutionGeometry] = {}  # read back: units of one configuration repeat them
        for position, comparison, plan, patch in planned:
            if results[position] is not None:  # unpatchable after all
                continue
            unit = comparison.unit
            if plan.padding is None:
                after = read_unit(index, unit.position, ends)
                results[position] = UnitResult(comparison, Action.PATCHED, plan.detail, patch, after)
                continue
            after = reread_padding(index, unit, sizes_changed, geometries)
            # The layer alone, read back: its geometry and input dims are all that can differ.
            key = (comparison.configuration, Action.PATCHED, unit.input_dims, after.geometry, after.input_dims)
            results[position] = UnitResult(comparison, Action.PATCHED, plan.detail, patch, after, number(key))
    done = tuple(r for r in results if r is not None)
    assert len(done) == len(results)
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
