"""Deconvolution units of a TensorRT network: a deconvolution layer and what producers put around it.

A unit is, in data-flow order, each layer by its role (DeconvolutionUnit):

    [unsqueeze 3D -> 4D]  deconvolution  [fill-slice]  [bias add]  [squeeze 4D -> 3D]

- unsqueeze/squeeze: TensorRT has only 2D and 3D deconvolutions, so a 1D ConvTranspose is unsqueezed to 4D with a
  trailing axis of size 1 and squeezed back (an IShuffleLayer, or the IUnsqueezeLayer/ISqueezeLayer of TensorRT
  10.7's and TensorRT-RTX's parsers);
- fill-slice (SampleMode.FILL only): the ONNX parser's extension for output_padding > pads_end (onnxOpImporters.cpp,
  importConvTranspose): a SampleMode.FILL slice whose start is a constant shape tensor (zeros) and whose
  size is shapeOf(deconvolution output) + totalPadding (an elementwise SUM); or a slice with static
  start/shape (what this package's patch and other producers build);
- bias add: an elementwise SUM with a constant of shape [1, M, 1, ...] (the parser's bias after the
  extension), or with a bias tensor reshaped to [1, M, 1, ...] (this package's patch for a tensor bias).

The unit's window comes from the core: deconvolution_window(geometry), then AxisWindow.sliced per axis.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Hashable, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from polygraphy_deconv.core.deconvolution import DeconvolutionGeometry, deconvolution_window
from polygraphy_deconv.core.window import AxisWindow, Window
from polygraphy_deconv.trt_network.versions import reshape_layer_types, slice_axes, slice_has_axes

if TYPE_CHECKING:
    import tensorrt as trt
else:
    from polygraphy_deconv.trt_network.library import trt

class LayerBias(str, enum.Enum):
    """Where a unit's bias is applied."""

    NONE = "none"
    WEIGHTS = "weights"  # bias weights on the deconvolution layer
    TENSOR = "tensor"  # a bias tensor on input 2 of the deconvolution layer
    ADD = "add"  # an elementwise SUM after the deconvolution (and its fill-slice): the unit's bias-add role


_MISSING_DIM = -1


class DeconvolutionUnit(NamedTuple):
    """One deconvolution layer with the layers that belong to its window, each by its role (a layer name, None
    where the unit has no such layer):

        unsqueeze -> deconvolution -> fill_slice -> bias_add -> squeeze

    `geometry` and `slice` are per spatial axis of the layer (for a 1D unit: the ONNX axis, then the
    added axis of size 1). `slice` holds (start, overhang) per axis of the fill-slice: it starts `start`
    elements into the deconvolution output and ends `overhang` elements past its end.

    A NamedTuple, immutable as a frozen dataclass: a deep network reads thousands of units (twice, where they are
    patched), and a frozen dataclass's __init__ costs five times a tuple's.
    """

    deconvolution: str  # layer name
    position: int  # layer index of the deconvolution
    geometry: DeconvolutionGeometry
    slice: tuple[tuple[int, int], ...] | None
    bias: LayerBias
    output: str  # name of the unit's final tensor
    input_dims: tuple[int | None, ...]  # the unit's input (3D for a 1D unit)
    unreadable: str | None = None  # why a layer after the deconvolution cannot be read as part of the unit
    groups: int = 1  # the deconvolution's num_groups
    unsqueeze: str | None = None  # 1D: the 3D -> 4D reshape before the deconvolution
    fill_slice: str | None = None  # a SampleMode.FILL slice of the deconvolution's output (an extension)
    bias_add: str | None = None  # an elementwise SUM of a per-channel bias after it (LayerBias.ADD)
    squeeze: str | None = None  # 1D: the 4D -> 3D reshape at the end

    def with_geometry(self, geometry: DeconvolutionGeometry, input_dims: tuple[int | None, ...]) -> DeconvolutionUnit:
        """self._replace(geometry=geometry, input_dims=input_dims), at a third of its cost (a deep network reads back
        thousands of units)."""
        return DeconvolutionUnit(
            self.deconvolution, self.position, geometry, self.slice, self.bias, self.output, input_dims,
            self.unreadable, self.groups, self.unsqueeze, self.fill_slice, self.bias_add, self.squeeze,
        )

    @property
    def alone(self) -> bool:
        """The unit is its deconvolution layer alone (an unsqueeze comes only with a squeeze)."""
        return self.fill_slice is None and self.bias_add is None and self.squeeze is None

    @property
    def layers(self) -> tuple[str, ...]:
        """Every layer of the unit, in data-flow order."""
        roles = (self.unsqueeze, self.deconvolution, self.fill_slice, self.bias_add, self.squeeze)
        return tuple(name for name in roles if name is not None)

    @property
    def one_dimensional(self) -> bool:
        """A 1D node's unit: unsqueezed to 2D and squeezed back."""
        return self.squeeze is not None

    @property
    def spatial_rank(self) -> int:
        """Spatial axes of the ONNX node this unit computes."""
        return 1 if self.one_dimensional else len(self.geometry.strides)

    def layer_window(self) -> Window:
        """The window of every spatial axis of the layer: the deconvolution's, then the slice's."""
        return _layer_window(self.geometry, self.slice)

    def window(self) -> Window:
        """The window of the ONNX node's spatial axes."""
        return self.layer_window()[: self.spatial_rank]

    def added_axis_is_identity(self) -> bool:
        """For a 1D unit: the added axis (input size 1) passes its one element through unchanged."""
        if not self.one_dimensional:
            return True
        added = self.layer_window()[1]
        return added.begin == 0 and added.trim == 0 and self.geometry.dilated_kernel[1] == 1

    @property
    def has_extension(self) -> bool:
        """The slice reads past the deconvolution output (FILL): those elements hold zeros, then the bias."""
        return self.slice is not None and any(start < 0 or overhang > 0 for start, overhang in self.slice)

    @property
    def extension_loses_bias(self) -> bool:
        """The bias is applied inside the deconvolution, before the extension: the extension holds 0."""
        return self.has_extension and self.bias in (LayerBias.WEIGHTS, LayerBias.TENSOR)


@functools.lru_cache(maxsize=1024)
def _layer_window(geometry: DeconvolutionGeometry, slice_axes: tuple[tuple[int, int], ...] | None) -> Window:
    """Pure, so computed once per distinct geometry and slice (a deep network repeats them)."""
    window = deconvolution_window(geometry)
    if slice_axes is None:
        return window
    return tuple(axis.sliced(start, overhang) for axis, (start, overhang) in zip(window, slice_axes))


def dims_of(tensor: trt.ITensor) -> tuple[int | None, ...]:
    """A tensor's dims with None for dynamic (-1) ones."""
    return _translated_dims(tensor.shape[:])  # Dims[:] is a tuple


def _translated_dims(values: tuple[int, ...]) -> tuple[int | None, ...]:
    """A Dims getter's values with None for dynamic (-1) ones."""
    return tuple([None if d == _MISSING_DIM else int(d) for d in values])


def weights_array(value: Any) -> Any:
    """A weights getter's value as a numpy array, or None where the bindings hand back a `trt.Weights`
    because numpy has no such type (BF16, FP8, INT4, FP4: python/include/utils.h@release/10.8:53-62)."""
    import numpy as np

    if value is None or isinstance(value, np.ndarray):
        return value
    return None if hasattr(value, "dtype") and hasattr(value, "numpy") else np.asarray(value)


def weights_size(value: Any) -> int:
    """Number of elements of a weights getter's value (a numpy array or a `trt.Weights`; None or empty when
    unset)."""
    if value is None:
        return 0
    array = weights_array(value)
    return int(value.size) if array is None else int(array.size)


def optional_input(layer: trt.ILayer, index: int) -> trt.ITensor | None:
    """Input `index` of a layer, or None where it is not set (the real bindings return None then)."""
    if index >= layer.num_inputs:
        return None
    return cast("trt.ITensor | None", layer.get_input(index))


def as_deconvolution(layer: trt.ILayer) -> trt.IDeconvolutionLayer:
    # The bindings hand out ILayer; Polygraphy casts the same way. A layer object cast before keeps its class
    # (NetworkIndex casts each deconvolution it reads, once).
    if layer.__class__.__name__ != "IDeconvolutionLayer":
        layer.__class__ = trt.IDeconvolutionLayer
    return cast("trt.IDeconvolutionLayer", layer)


def as_slice(layer: trt.ILayer) -> trt.ISliceLayer:
    layer.__class__ = trt.ISliceLayer
    return cast("trt.ISliceLayer", layer)


def as_shuffle(layer: trt.ILayer) -> trt.IShuffleLayer:
    layer.__class__ = trt.IShuffleLayer
    return cast("trt.IShuffleLayer", layer)


def as_constant(layer: trt.ILayer) -> trt.IConstantLayer:
    layer.__class__ = trt.IConstantLayer
    return cast("trt.IConstantLayer", layer)


def as_elementwise(layer: trt.ILayer) -> trt.IElementWiseLayer:
    layer.__class__ = trt.IElementWiseLayer
    return cast("trt.IElementWiseLayer", layer)


class NetworkIndex:
    """A network's layers and their types, read once per walk; who produces and who consumes each tensor (by
    tensor name) read only where a question needs it.

    Finding the deconvolutions takes every layer and its type. Most units need nothing more: the parser names a
    ConvTranspose's output tensor after its ONNX output (read_unit's `ends`), so a unit that ends at its
    deconvolution has no neighbours to look for. Only a question about producers or consumers (a fill-slice, a
    bias add, a squeeze after the deconvolution; rewiring a patched unit's consumers) reads every layer's inputs and
    outputs, once (read_links), and from then on `refresh` keeps them up to date.

    Only live layers count as consumers: those whose outputs reach a network output. Layers a patch left
    without consumers are dead (TensorRT drops them when it builds) and must not hide a unit.

    After a change, `refresh` brings the index up to date by reading again only the layers added since
    and the layers marked with `touch` (inputs set, output tensors renamed), then, where the links have been read,
    recomputing which layers are live and who consumes what: the network as it now is, without reading every layer
    again.
    """

    def __init__(self, network: trt.INetworkDefinition) -> None:
        self.network = network
        self.layers: list[trt.ILayer] = []
        self.types: list[trt.LayerType] = []
        self.deconvolutions: list[int] = []  # positions of the deconvolution layers
        self._positions: dict[str, int] | None = None  # layer name -> position, read where a name is looked up
        self._linked = False  # producers, consumers and liveness read (read_links)
        self._producer: dict[str, int] = {}
        # Each layer's inputs, read once: the tensor name per slot, None for an unset slot.
        self._inputs: list[tuple[str | None, ...]] = []
        self._touched: set[int] = set()
        self._dims_by_shape: dict[tuple[int, ...], tuple[int | None, ...]] = {}  # shape as read -> dims_of's value
        self._live: set[int] = set()
        self._consumers: dict[str, tuple[int, ...]] = {}  # tensor name -> (layer, slot, layer, slot, ...)
        self.outputs: list[str] = []
        self.refresh()

    def dims(self, tensor: trt.ITensor) -> tuple[int | None, ...]:
        """dims_of(tensor), translated once per distinct shape read and one object for every tensor of that shape: a
        deep network repeats a few, and thousands of equal copies would only give the collector more to walk."""
        values = tensor.shape[:]  # a tuple: the key
        dims = self._dims_by_shape.get(values)
        if dims is None:
            dims = self._dims_by_shape[values] = _translated_dims(values)
        return dims

    def touch(self, position: int) -> None:
        """Mark the layer at `position` as changed (an input set, an output tensor renamed) for `refresh`."""
        self._touched.add(position)

    def refresh(self) -> None:
        """Read the layers added since the last read; where the links have been read, read the new and the touched
        layers' inputs and outputs again and recompute liveness and consumers."""
        known = len(self.layers)
        self._read_new_layers()
        touched = self._touched
        if self._linked:
            if touched:  # their output names are read again below (a name may have moved to a new tensor)
                self._producer = {name: index for name, index in self._producer.items() if index not in touched}
            for position in sorted(touched):
                self._read_layer(position)
            for position in range(known, len(self.layers)):
                self._inputs.append(())
                self._read_layer(position)
            self._link()
        touched.clear()

    def _read_new_layers(self) -> None:
        """Every layer added since the last read, with its type; the network outputs again."""
        network, known = self.network, len(self.layers)
        # Types compared by value: a third of the bindings' enum comparison (a deep network has 10,000s of layers).
        deconvolution = trt.LayerType.DECONVOLUTION.value
        layers = [network.get_layer(position) for position in range(known, network.num_layers)]
        types = [layer.type for layer in layers]
        found = [known + i for i, kind in enumerate(types) if kind.value == deconvolution]
        for position in found:  # cast once, here: finding, patching and reading back take the layer from the index
            as_deconvolution(layers[position - known])
        self.layers += layers
        self.types += types
        self.deconvolutions += found
        if self._positions is not None:
            self._positions.update((layer.name, position) for position, layer in enumerate(layers, known))
        self.outputs = [network.get_output(i).name for i in range(network.num_outputs)]

    def read_links(self) -> None:
        """Read every layer's inputs and outputs (once), and who is live and consumes what.

        The network as it is now, every layer added since the index read its layers included. A patch that needs
        the links (patching.patch_unit) reads them before it adds its own layers, and fix_network before its first
        patch where any unit will need them; from then on `refresh` reads what patches add and touch."""
        if self._linked:
            return
        self._read_new_layers()  # a patch made through another index may have added some
        self._linked = True
        self._inputs = [()] * len(self.layers)
        for position in range(len(self.layers)):
            self._read_layer(position)
        self._touched.clear()
        self._link()

    def _read_layer(self, position: int) -> None:
        layer, producer = self.layers[position], self._producer
        count = layer.num_outputs
        if count == 1:
            producer[layer.get_output(0).name] = position
        else:
            for out in range(count):
                producer[layer.get_output(out).name] = position
        count = layer.num_inputs
        # The bindings return None for an unset optional input.
        self._inputs[position] = (
            tuple([None if t is None else t.name for t in map(layer.get_input, range(count))]) if count else ()
        )

    def _link(self) -> None:
        producer, inputs = self._producer, self._inputs
        live: set[int] = set()
        pending = [producer[name] for name in self.outputs if name in producer]
        while pending:
            index = pending.pop()
            if index in live:
                continue
            live.add(index)
            pending.extend(producer[name] for name in inputs[index] if name in producer)
        # One flat tuple (layer, slot, layer, slot, ...) per tensor, and a list only for a tensor with
        # several consumers: a deep network's index then allocates few objects for the collector to track.
        first: dict[str, tuple[int, ...]] = {}
        more: dict[str, list[int]] = {}
        for index in sorted(live):
            for slot, name in enumerate(inputs[index]):
                if name is None:
                    continue
                if name in first:
                    more.setdefault(name, []).extend((index, slot))
                else:
                    first[name] = (index, slot)
        for name, extra in more.items():
            first[name] = (*first[name], *extra)
        self._live = live
        self._consumers = first

    @property
    def live(self) -> set[int]:
        """Positions of the layers whose outputs reach a network output."""
        self.read_links()
        return self._live

    @property
    def producer(self) -> dict[str, int]:
        """Tensor name -> position of the layer producing it."""
        self.read_links()
        return self._producer

    def consumers(self, tensor_name: str) -> list[tuple[int, int]]:
        """(layer position, input slot) of every live layer reading the tensor, in layer order."""
        self.read_links()
        flat = self._consumers.get(tensor_name, ())
        return list(zip(flat[::2], flat[1::2]))

    def position_of(self, layer_name: str) -> int | None:
        if self._positions is None:
            self._positions = {layer.name: position for position, layer in enumerate(self.layers)}
        return self._positions.get(layer_name)

    def producer_of(self, tensor: trt.ITensor) -> trt.ILayer | None:
        index = self.producer.get(tensor.name)
        return None if index is None else self.layers[index]

    def value_consumers(self, tensor: trt.ITensor) -> list[tuple[int, int]]:
        """Consumers that read the tensor's values (a shape layer reads only its dims)."""
        return [(i, s) for i, s in self.consumers(tensor.name) if self.types[i] != trt.LayerType.SHAPE]

    def sole_consumer(self, tensor: trt.ITensor) -> trt.ILayer | None:
        """The one layer reading this tensor's values, if it is one and the tensor is no network output."""
        name = tensor.name
        if name in self.outputs:
            return None
        self.read_links()
        flat = self._consumers.get(name, ())
        if len(flat) == 2:  # the usual case: one consumer, and no list to build
            return self.layers[flat[0]] if flat[1] == 0 and self.types[flat[0]] != trt.LayerType.SHAPE else None
        consumers = self.value_consumers(tensor)
        if len(consumers) != 1 or consumers[0][1] != 0:
            return None
        return self.layers[consumers[0][0]]


# A shape-tensor element as coefficient * (dim of the sliced tensor) + offset, coefficient 0 or 1.
ShapeTerm = tuple[int, int]


def shape_expression(index: NetworkIndex, tensor: trt.ITensor, base: str, depth: int = 0) -> list[ShapeTerm] | None:
    """Read a 1D shape tensor built from constants, shapeOf(`base`) and SUM/SUB (the parser's slice size);
    None when it is built otherwise."""
    import numpy as np
    layer = index.producer_of(tensor)
    if layer is None or depth > 8:
        return None
    if layer.type == trt.LayerType.CONSTANT:
        values = np.asarray(as_constant(layer).weights).reshape(-1)
        return [(0, int(v)) for v in values]
    if layer.type == trt.LayerType.SHAPE:
        source = optional_input(layer, 0)
        if source is None:
            return None
        if source.name == base:
            return [(1, 0)] * len(source.shape)
        dims = dims_of(source)
        return None if None in dims else [(0, int(d)) for d in dims if d is not None]
    if layer.type in (trt.LayerType.CAST, trt.LayerType.IDENTITY):
        source = optional_input(layer, 0)
        return None if source is None else shape_expression(index, source, base, depth + 1)
    if layer.type == trt.LayerType.ELEMENTWISE:
        op = as_elementwise(layer).op
        a_tensor, b_tensor = optional_input(layer, 0), optional_input(layer, 1)
        if a_tensor is None or b_tensor is None:
            return None
        a = shape_expression(index, a_tensor, base, depth + 1)
        b = shape_expression(index, b_tensor, base, depth + 1)
        if a is None or b is None or len(a) != len(b):
            return None
        if op == trt.ElementWiseOperation.SUM:
            terms = [(ca + cb, oa + ob) for (ca, oa), (cb, ob) in zip(a, b)]
        elif op == trt.ElementWiseOperation.SUB:
            terms = [(ca - cb, oa - ob) for (ca, oa), (cb, ob) in zip(a, b)]
        else:
            return None
        return terms if all(c in (0, 1) for c, _ in terms) else None
    return None


def _static_values(value: Any) -> tuple[int, ...] | None:
    """A Dims getter's value as ints (TensorRT 11 returns None where the value comes from an input)."""
    if value is None:
        return None
    return tuple(int(value[i]) for i in range(len(value)))


def read_slice(index: NetworkIndex, layer: trt.ISliceLayer, base: trt.ITensor) -> tuple[list[tuple[int, int]] | None, str]:
    """(start, overhang) for every axis of the sliced tensor, or None and the reason it cannot be read."""

    dims = dims_of(base)
    rank = len(dims)
    if optional_input(layer, 4) is not None:
        return None, "the slice fills with a value tensor"
    sliced, problem = _sliced_axes(index, layer, base.name, rank)
    if sliced is None:
        return None, problem
    count = len(sliced)
    stride_tensor = optional_input(layer, 3)
    if stride_tensor is not None:
        stride_terms = shape_expression(index, stride_tensor, base.name)
        strides = None if stride_terms is None or any(c for c, _ in stride_terms) else tuple(o for _, o in stride_terms)
    else:
        strides = _static_values(layer.stride)
    if strides is None or len(strides) != count or any(s != 1 for s in strides):
        return None, "the slice has a stride other than 1 or one that cannot be read"

    start_tensor = optional_input(layer, 1)
    if start_tensor is not None:
        start_terms = shape_expression(index, start_tensor, base.name)
        starts = None if start_terms is None or any(c for c, _ in start_terms) else tuple(o for _, o in start_terms)
    else:
        starts = _static_values(layer.start)
    if starts is None or len(starts) != count:
        return None, "the slice start cannot be read"

    size_tensor = optional_input(layer, 2)
    if size_tensor is not None:
        size_terms = shape_expression(index, size_tensor, base.name)
    else:
        static = _static_values(layer.shape)
        size_terms = None if static is None else [(0, v) for v in static]
    if size_terms is None or len(size_terms) != count:
        return None, "the slice size cannot be read"
    if sliced != tuple(range(rank)):
        # The parameters cover the listed axes; every other axis is read whole (start 0, size = its dim).
        given = dict(zip(sliced, zip(starts, size_terms)))
        starts = tuple(given[a][0] if a in given else 0 for a in range(rank))
        size_terms = [given[a][1] if a in given else (1, 0) for a in range(rank)]

    axes = []
    for axis, ((coefficient, offset), start, dim) in enumerate(zip(size_terms, starts, dims)):
        if coefficient == 1:
            overhang = start + offset
        elif dim is None:
            return None, f"the slice has a fixed size on axis {axis}, whose input size is dynamic"
        else:
            overhang = start + offset - dim
        axes.append((start, overhang))
    if any(axis != (0, 0) for axis in axes[:2]):
        return None, "the slice changes the batch or channel axis"
    return axes[2:], ""


def _sliced_axes(index: NetworkIndex, layer: trt.ISliceLayer, base: str, rank: int) -> tuple[tuple[int, ...] | None, str]:
    """The axes the slice's start, size and stride refer to: every axis in order, or (from TensorRT 10.3)
    those of its axes input (input 5) or `axes` (NvInfer.h@release/10.8:3265-3275, 3430-3469)."""
    if not slice_has_axes():
        return tuple(range(rank)), ""
    tensor = optional_input(layer, 5)
    if tensor is not None:
        terms = shape_expression(index, tensor, base)
        if terms is None or any(c for c, _ in terms):
            return None, "the slice's axes cannot be read"
        values: tuple[int, ...] | None = tuple(o for _, o in terms)
    else:
        values = _static_values(slice_axes(layer))
    if not values:  # unset: an empty or invalid Dims, or TensorRT 11's None
        return tuple(range(rank)), ""
    axes = tuple(a % rank if -rank <= a < rank else -1 for a in values)
    if -1 in axes or len(set(axes)) != len(axes):
        return None, "the slice's axes are out of range or repeated"
    return axes, ""


def _bias_operand(index: NetworkIndex, add: trt.ILayer, tail: trt.ITensor, channels: int) -> trt.ITensor | None:
    """The other input of an elementwise SUM when it is a per-channel bias [1, M, 1, ...]: a constant, or a
    tensor reshaped to that shape."""
    if add.type != trt.LayerType.ELEMENTWISE or as_elementwise(add).op != trt.ElementWiseOperation.SUM:
        return None
    inputs = [optional_input(add, 0), optional_input(add, 1)]
    others = [t for t in inputs if t is not None and t.name != tail.name]
    if len(others) != 1 or len([t for t in inputs if t is not None]) != 2:
        return None
    operand = others[0]
    producer = index.producer_of(operand)
    if producer is None or producer.type not in (trt.LayerType.CONSTANT, trt.LayerType.SHUFFLE):
        return None
    rank = len(tail.shape)
    wanted = (1, channels) + (1,) * (rank - 2)
    return operand if dims_of(operand) == wanted else None


def _is_zero_tensor(index: NetworkIndex, tensor: trt.ITensor) -> bool:
    """x - x: how this package's patch takes a bias tensor off a deconvolution (there is no unset)."""
    layer = index.producer_of(tensor)
    if layer is None or layer.type != trt.LayerType.ELEMENTWISE or as_elementwise(layer).op != trt.ElementWiseOperation.SUB:
        return False
    a, b = optional_input(layer, 0), optional_input(layer, 1)
    return a is not None and b is not None and a.name == b.name


def deconvolution_bias(index: NetworkIndex, layer: trt.IDeconvolutionLayer) -> LayerBias:
    """Where the deconvolution's own bias is: TENSOR, WEIGHTS or NONE."""
    import numpy as np

    if layer.num_inputs > 2:
        tensor = layer.get_input(2)
        if tensor is not None and not _is_zero_tensor(index, tensor):
            return LayerBias.TENSOR
    bias = layer.bias
    if isinstance(bias, np.ndarray):
        # All zeros is no bias: how this package's patch takes bias weights off a deconvolution (TensorRT-RTX
        # refuses empty bias weights, "condition: biasWeights.values != nullptr", where TensorRT 10 documents
        # count 0 as "no bias": include/NvInfer.h@release/10.8:2180-2186). count_nonzero: a quarter of any()'s cost.
        return LayerBias.WEIGHTS if np.count_nonzero(bias) else LayerBias.NONE
    # None, or a trt.Weights of a type numpy does not have (whose values are not read here); the bindings hand out
    # nothing else.
    return LayerBias.WEIGHTS if weights_size(bias) else LayerBias.NONE


def deconvolution_geometry(
    layer: trt.IDeconvolutionLayer, input_dims: tuple[int | None, ...] | None = None
) -> DeconvolutionGeometry:
    """The layer's attributes as the core's geometry (spatial axes of the layer); `input_dims`: the dims of
    its input 0 when the caller has read them already."""
    if input_dims is None:
        source = optional_input(layer, 0)
        input_dims = dims_of(source) if source is not None else ()
    # Dims[:] is a tuple: the values as read, and the key of the translation below.
    return _geometry(input_dims[2:], layer.kernel_size_nd[:], layer.stride_nd[:], layer.dilation_nd[:],
                     layer.pre_padding[:], layer.post_padding[:], layer.padding_mode)


@functools.lru_cache(maxsize=1024)
def _geometry(sizes: tuple[int | None, ...], kernel: tuple[int, ...], strides: tuple[int, ...],
              dilations: tuple[int, ...], pre: tuple[int, ...], post: tuple[int, ...], padding_mode: Any
              ) -> DeconvolutionGeometry:
    """Pure, so translated once per distinct set of values read (a deep network repeats a few), and one object
    for all layers that have them."""
    kernel = tuple(map(int, kernel))
    rank = len(kernel)
    mode = getattr(padding_mode, "name", None) or str(padding_mode)
    pre, post = tuple(map(int, pre)), tuple(map(int, post))
    return DeconvolutionGeometry(
        input_sizes=sizes if len(sizes) == rank else (None,) * rank,
        strides=tuple(map(int, strides)),
        kernel=kernel,
        dilations=tuple(map(int, dilations)),
        pre_padding=pre if len(pre) == rank else (0,) * rank,
        post_padding=post if len(post) == rank else (0,) * rank,
        padding_mode=mode,
    )


def _reshapes(layer: trt.ILayer, from_rank: int, to_rank: int) -> bool:
    """A shuffle/unsqueeze/squeeze between ranks 3 and 4 that adds or drops a trailing axis of size 1."""

    if layer.type not in reshape_layer_types():
        return False
    source = optional_input(layer, 0)
    if source is None:
        return False
    before, after = dims_of(source), dims_of(layer.get_output(0))
    if len(before) != from_rank or len(after) != to_rank:
        return False
    long, short = (after, before) if to_rank > from_rank else (before, after)
    if long[3] not in (1, None):
        return False
    return all(a is None or b is None or a == b for a, b in zip(long[:3], short))


def read_unit(index: NetworkIndex, position: int, ends: AbstractSet[str] = frozenset()) -> DeconvolutionUnit:
    """The unit around the deconvolution layer at `position`.

    `ends`: the ONNX output names of the model's ConvTranspose nodes. The parser names a node's output tensor
    after the node's ONNX output (onnx-tensorrt@10.1-GA:ModelImporter.cpp:239), so a unit ends at the first
    tensor carrying such a name: whatever reads it (an ONNX Pad builds the same FILL slice as the parser's
    extension, onnxOpImporters.cpp@10.1-GA:3982-3999) belongs to another node.
    """
    layer = cast("trt.IDeconvolutionLayer", index.layers[position])  # cast by the index
    source: trt.ITensor | None = layer.get_input(0)  # a deconvolution has its input 0 (None where unset)
    source_dims = index.dims(source) if source is not None else ()
    geometry = deconvolution_geometry(layer, source_dims)
    unit_input = source

    tail = layer.get_output(0)
    tail_name = tail.name
    bias = deconvolution_bias(index, layer)
    if tail_name in ends:  # the usual unit: the deconvolution alone, its output the node's
        return DeconvolutionUnit(layer.name, position, geometry, None, bias, tail_name, source_dims, None,
                                 int(layer.num_groups))
    slice_axes: tuple[tuple[int, int], ...] | None = None
    unreadable: str | None = None
    fill_slice = bias_add = squeeze = None

    after = index.sole_consumer(tail)
    # Only a FILL slice is an extension (the parser's, or a patch's); any other slice is the model's own
    # (an ONNX Slice after the ConvTranspose) and stays outside the unit.
    if after is not None and after.type == trt.LayerType.SLICE and as_slice(after).mode == trt.SampleMode.FILL:
        axes, reason = read_slice(index, as_slice(after), tail)
        if axes is None:
            unreadable = f"layer '{after.name}': {reason}"
        else:
            slice_axes = tuple(axes)
            fill_slice = after.name
            tail = after.get_output(0)
            tail_name = tail.name
            after = None if tail_name in ends else index.sole_consumer(tail)
    if unreadable is None and bias == LayerBias.NONE and after is not None:
        channels = int(layer.num_output_maps)
        if _bias_operand(index, after, tail, channels) is not None:
            bias = LayerBias.ADD
            bias_add = after.name
            tail = after.get_output(0)
            tail_name = tail.name
            after = None if tail_name in ends else index.sole_consumer(tail)

    # 1D: a squeeze back to 3D after the unit, and before the deconvolution the unsqueeze that feeds it alone.
    unsqueeze = None
    if unreadable is None and after is not None and source is not None and len(geometry.strides) == 2:
        producer = index.producer_of(source)
        if (producer is not None and _reshapes(after, 4, 3) and _reshapes(producer, 3, 4)
                and index.sole_consumer(source) is not None):
            unsqueeze, squeeze = producer, after.name
            unit_input = optional_input(producer, 0)
            tail_name = after.get_output(0).name

    return DeconvolutionUnit(  # by position (a deep network reads thousands): the fields in their order
        layer.name,  # deconvolution
        position,
        geometry,
        slice_axes,  # slice
        bias,
        tail_name,  # output
        source_dims if unit_input is source else () if unit_input is None else index.dims(unit_input),  # input_dims
        unreadable,
        int(layer.num_groups),  # groups
        None if unsqueeze is None else unsqueeze.name,
        fill_slice,
        bias_add,
        squeeze,
    )


def reread_padding(index: NetworkIndex, unit: DeconvolutionUnit, sizes_changed: bool = True,
                   geometries: dict[Hashable, DeconvolutionGeometry] | None = None) -> DeconvolutionUnit:
    """A unit of one deconvolution layer as it is after a patch of its padding alone: the padding mode, pre- and
    post-padding read again from the layer, and its input dims where `sizes_changed` (a patch changed some unit's
    output size, which may reach this unit's input; TensorRT then infers the shapes again, the costly read). The
    layer's kernel, strides, dilations, bias and neighbours are as the patch found them, so `read_unit` would read
    the same: this is that read, without the reads the patches cannot have changed. `geometries`: the geometry for
    each distinct (geometry before, input dims, padding read) from earlier calls, where a caller reads back many."""
    assert unit.alone, "a unit with layers around its deconvolution: read_unit"
    layer = cast("trt.IDeconvolutionLayer", index.layers[unit.position])  # cast by the index
    source = layer.get_input(0) if sizes_changed else None
    input_dims = index.dims(source) if source is not None else unit.input_dims
    geometry, pre, post, mode = unit.geometry, layer.pre_padding[:], layer.post_padding[:], layer.padding_mode
    key = (geometry, input_dims, pre, post, mode)
    patched = None if geometries is None else geometries.get(key)
    if patched is None:
        patched = _geometry(input_dims[2:], geometry.kernel, geometry.strides, geometry.dilations, pre, post, mode)
        if geometries is not None:
            geometries[key] = patched
    return unit.with_geometry(patched, input_dims)


def find_units(
    network: trt.INetworkDefinition, index: NetworkIndex | None = None, ends: AbstractSet[str] = frozenset()
) -> tuple[DeconvolutionUnit, ...]:
    """Every deconvolution unit of the network, in layer order (`index`: one already built for it; `ends`: the
    ConvTranspose nodes' ONNX output names, see read_unit).

    A deconvolution whose output reaches no network output is dead: TensorRT drops it when it builds. Where reading
    its unit took the links (its output is not a ConvTranspose's ONNX output, so layers after it were looked for),
    the index knows, and it is left out: the layers after a dead deconvolution are dead too, so its unit could not be
    read whole. A unit that ends at its deconvolution is read without the links and kept, dead or not: it is the
    layer alone either way, and a patch of it changes nothing the engine computes (telling would take reading every
    layer's inputs and outputs, which most networks never need: NetworkIndex)."""
    index = index or NetworkIndex(network)
    units = []
    for position in index.deconvolutions:
        unit = read_unit(index, position, ends)
        # Read without the links where it is the layer alone, ending at its node's output.
        if (unit.output in ends and unit.alone) or position in index.live:
            units.append(unit)
    return tuple(units)


def layer_window_for(unit: DeconvolutionUnit, wanted: Sequence[AxisWindow]) -> Window:
    """The window every spatial axis of the layer needs for the node window `wanted`: for a 1D unit the
    added axis must pass its one element through (begin 0, trim 0)."""
    if not unit.one_dimensional:
        return tuple(wanted)
    added_full = unit.geometry.dilated_kernel[1]
    return (*wanted, AxisWindow(0, 0, added_full))
