"""A small, explicit stand-in of TensorRT's network-definition API, for tests only.

It implements the part of the Python API that polygraphy_deconv.trt_network touches, with TensorRT's
documented shape rules (include/NvInfer.h):
- IDeconvolutionLayer: O = (I - 1) * S + DK - pre - post in the explicit modes; SAME_UPPER / SAME_LOWER:
  P = max(DK - S, 0), pre = P // 2, post = P - pre (swapped for SAME_LOWER), so O = min(I * S, L); the
  padding mode takes precedence over pre/post padding; negative pre/post padding is refused (the real
  API rejects it). Input 2 may be a bias tensor of shape [M].
- ISliceLayer: output shape = `shape` (or the value of shape-tensor input 2); start may come from input 1;
  out-of-bounds reads are allowed only in SampleMode.FILL (and the other non-strict modes).
- IElementWiseLayer: equal ranks; each dimension equal, or 1 (broadcast).
- IShuffleLayer: reshape_dims, or a shape tensor on input 1, with 0 = copy (zero_is_placeholder) and one
  -1 inferred; volumes must agree. (Transposes are not modelled.)
- IShapeLayer: a 1D Int64 shape tensor holding the input's dims; IConstantLayer: weights with a shape.
- IUnsqueezeLayer / ISqueezeLayer: axes from a constant tensor (TensorRT 10's parser uses them for 1D).
Dynamic dimensions are -1, as in TensorRT. Shapes are computed on access (like ITensor.shape), so a
change to a layer shows in every tensor downstream.

It also executes a network with numpy (`execute`), so tests can check values, not only shapes; the
deconvolution there is the independent oracle of tests/numerics.py.

`tensorrt_module()` returns a module object to put into sys.modules["tensorrt"] inside a test.
"""

from __future__ import annotations

import enum
import importlib.machinery
import math
import types
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from typing_extensions import Self


class LayerType(enum.Enum):
    CONSTANT = "CONSTANT"
    DECONVOLUTION = "DECONVOLUTION"
    ELEMENTWISE = "ELEMENTWISE"
    SHAPE = "SHAPE"
    SHUFFLE = "SHUFFLE"
    SLICE = "SLICE"
    SQUEEZE = "SQUEEZE"
    UNSQUEEZE = "UNSQUEEZE"
    IDENTITY = "IDENTITY"
    CAST = "CAST"


class PaddingMode(enum.Enum):
    EXPLICIT_ROUND_DOWN = "EXPLICIT_ROUND_DOWN"
    EXPLICIT_ROUND_UP = "EXPLICIT_ROUND_UP"
    SAME_UPPER = "SAME_UPPER"
    SAME_LOWER = "SAME_LOWER"


class SampleMode(enum.Enum):
    STRICT_BOUNDS = "STRICT_BOUNDS"
    WRAP = "WRAP"
    CLAMP = "CLAMP"
    FILL = "FILL"
    REFLECT = "REFLECT"


class ElementWiseOperation(enum.Enum):
    SUM = "SUM"
    PROD = "PROD"
    SUB = "SUB"
    MAX = "MAX"


class DataType(enum.Enum):
    FLOAT = "FLOAT"
    INT64 = "INT64"
    INT32 = "INT32"


class NetworkError(ValueError):
    """What TensorRT would report as an API or shape error."""


class Dims(tuple):
    """trt.Dims: a sequence of ints (-1 for dynamic)."""

    def __new__(cls, shape: Iterable[int] = ()) -> Self:
        if type(shape) is cls:
            return shape  # immutable: the same dims (the bindings copy; a tuple cannot change)
        return super().__new__(cls, map(int, shape))


def _as_dims(values: tuple[int, ...]) -> Dims:
    """A Dims of values that are ints already (a getter's copy: TensorRT makes it in C++, so it is cheap here too)."""
    return tuple.__new__(Dims, values)


class Weights:
    """trt.Weights: an empty set of weights, or a view of a numpy array (which it does not own)."""

    def __init__(self, a: Any = None) -> None:
        if isinstance(a, np.ndarray):
            self._array: np.ndarray | None = a
        else:
            self._array = None  # Weights() or Weights(dtype): empty

    @property
    def size(self) -> int:
        return 0 if self._array is None else int(self._array.size)

    def __len__(self) -> int:
        return self.size

    def numpy(self) -> np.ndarray | None:
        return self._array


class ITensor:
    def __init__(self, network: INetworkDefinition, name: str, producer: ILayer | None, index: int = 0,
                 shape: Sequence[int] | None = None) -> None:
        self._network = network
        self.name = name
        self._producer = producer
        self._index = index
        self._input_shape = None if shape is None else Dims(shape)
        self._shape: Dims | None = None  # computed at network revision _shape_revision
        self._shape_revision = -1

    @property
    def shape(self) -> Dims:
        if self._producer is None:
            assert self._input_shape is not None
            return self._input_shape
        revision = self._network._revision
        if self._shape_revision == revision and self._shape is not None:
            return self._shape
        # Like TensorRT, compute a shape once per state of the network, producers first and without
        # recursion (networks of 10,000 layers with residual adds would otherwise take exponential time
        # or exhaust Python's stack).
        pending: list[ITensor] = [self]
        while pending:
            tensor = pending[-1]
            producer = tensor._producer
            if producer is None or tensor._shape_revision == revision:
                pending.pop()
                continue
            stale = False
            for source in producer._inputs:
                if source is not None and source._producer is not None and source._shape_revision != revision:
                    pending.append(source)
                    stale = True
            if stale:
                continue
            tensor._shape = producer._output_shape(tensor._index)
            tensor._shape_revision = revision
            pending.pop()
        assert self._shape is not None
        return self._shape

    @property
    def is_network_input(self) -> bool:
        return self._producer is None

    @property
    def is_network_output(self) -> bool:
        return any(t is self for t in self._network._outputs)

    def _value(self) -> tuple[int, ...]:
        """The value of a shape tensor, as its producer computes it."""
        if self._producer is None:
            raise NetworkError(f"{self.name}: a network input is not a known shape tensor")
        return self._producer._value(self._index)

    def __repr__(self) -> str:
        return f"ITensor({self.name!r}, {list(self.shape)})"


def _broadcast(a: Sequence[int], b: Sequence[int]) -> Dims:
    if a == b and type(a) is Dims:
        return a
    if len(a) != len(b):
        raise NetworkError(f"elementwise inputs have ranks {len(a)} and {len(b)}; TensorRT needs equal ranks")
    out = []
    for x, y in zip(a, b):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        elif x == -1 or y == -1:
            out.append(max(x, y))
        else:
            raise NetworkError(f"elementwise dims {list(a)} and {list(b)} do not broadcast")
    return Dims(out)


class ILayer:
    type: LayerType

    def __init__(self, network: INetworkDefinition, inputs: Sequence[ITensor | None]) -> None:
        self._network = network
        self._inputs: list[ITensor | None] = list(inputs)
        self._number = len(network._layers)
        self.name = f"(Unnamed Layer* {self._number}) [{self.type.value.title()}]"
        self._output = ITensor(network, f"{self.name}_output", self, 0)  # every layer here has one output

    @property
    def num_inputs(self) -> int:
        return len(self._inputs)

    @property
    def num_outputs(self) -> int:
        return 1

    def get_input(self, index: int) -> ITensor | None:
        return self._inputs[index] if index < len(self._inputs) else None

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        network = getattr(self, "_network", None)  # (self.__dict__ would make every layer carry a dict)
        # A cast (as Polygraphy does) or a new name changes no shape.
        if network is not None and name != "__class__" and name != "name":
            network._revision += 1  # any change of a layer may change shapes downstream

    def set_input(self, index: int, tensor: ITensor) -> None:
        if not isinstance(tensor, ITensor):
            raise NetworkError("set_input needs a tensor")
        while len(self._inputs) <= index:
            self._inputs.append(None)
        self._inputs[index] = tensor
        self._network._revision += 1

    def get_output(self, index: int) -> ITensor:
        if index != 0:
            raise IndexError(f"{self.name}: output {index} does not exist")
        return self._output

    def _input(self, index: int) -> ITensor:
        inputs = self._inputs
        tensor = inputs[index] if index < len(inputs) else None
        if tensor is None:
            raise NetworkError(f"{self.name}: input {index} is not set")
        return tensor

    def _output_shape(self, index: int) -> Dims:
        raise NotImplementedError

    def _value(self, index: int) -> tuple[int, ...]:
        """The value of a shape tensor (-1 where it is not known before run time)."""
        raise NetworkError(f"{self.name}: output is not a shape tensor")

    def _execute(self, values: list[np.ndarray | None]) -> np.ndarray:
        raise NotImplementedError


class IDeconvolutionLayer(ILayer):
    type = LayerType.DECONVOLUTION

    def __init__(self, network: INetworkDefinition, input: ITensor, num_output_maps: int, kernel_shape: Sequence[int],
                 kernel: Weights, bias: Weights | None) -> None:
        super().__init__(network, [input])
        rank = len(kernel_shape)
        if rank not in (2, 3):
            raise NetworkError("TensorRT deconvolutions are 2D or 3D")
        self.num_output_maps = int(num_output_maps)
        # Dims attributes are held as plain tuples; like the bindings, each getter returns a new Dims.
        self._kernel_size = tuple(Dims(kernel_shape))
        self._kernel = kernel
        self._bias = bias if bias is not None else Weights()
        self._stride = (1,) * rank
        self._dilation = (1,) * rank
        self.num_groups = 1
        self.padding_mode = PaddingMode.EXPLICIT_ROUND_DOWN
        self._pre = (0,) * rank
        self._post = (0,) * rank

    @property
    def kernel_size_nd(self) -> Dims:
        return _as_dims(self._kernel_size)

    @kernel_size_nd.setter
    def kernel_size_nd(self, value: Sequence[int]) -> None:
        self._kernel_size = tuple(Dims(value))

    @property
    def stride_nd(self) -> Dims:
        return _as_dims(self._stride)

    @stride_nd.setter
    def stride_nd(self, value: Sequence[int]) -> None:
        self._stride = tuple(Dims(value))

    @property
    def dilation_nd(self) -> Dims:
        return _as_dims(self._dilation)

    @dilation_nd.setter
    def dilation_nd(self, value: Sequence[int]) -> None:
        self._dilation = tuple(Dims(value))

    # Like the real bindings, the getters return numpy arrays (empty when unset); the setters take Weights.
    @property
    def kernel(self) -> np.ndarray:
        array = self._kernel.numpy()
        return np.zeros(0, np.float32) if array is None else array

    @kernel.setter
    def kernel(self, value: Weights) -> None:
        self._kernel = value

    @property
    def bias(self) -> np.ndarray:
        array = self._bias.numpy()
        return np.zeros(0, np.float32) if array is None else array

    @bias.setter
    def bias(self, value: Weights) -> None:
        if not isinstance(value, Weights):
            raise NetworkError("bias takes trt.Weights")
        self._bias = value

    @property
    def pre_padding(self) -> Dims:
        return _as_dims(self._pre)

    @pre_padding.setter
    def pre_padding(self, value: Sequence[int]) -> None:
        self._pre = self._checked_padding(value, "pre")

    @property
    def post_padding(self) -> Dims:
        return _as_dims(self._post)

    @post_padding.setter
    def post_padding(self, value: Sequence[int]) -> None:
        self._post = self._checked_padding(value, "post")

    def _checked_padding(self, value: Sequence[int], which: str) -> tuple[int, ...]:
        dims = tuple(Dims(value))
        if len(dims) != len(self._kernel_size):
            raise NetworkError(f"{which}-padding needs {len(self._kernel_size)} entries")
        if any(d < 0 for d in dims):
            # NvInfer.h (7.2+): negative padding is not supported; the API rejects it.
            raise NetworkError(f"{self.name}: negative {which}-padding {list(dims)} is not supported")
        return dims

    def effective_padding(self) -> tuple[list[int], list[int]]:
        """(pre, post) per spatial axis, after the padding mode's precedence."""
        mode = self.padding_mode
        if mode is not PaddingMode.SAME_UPPER and mode is not PaddingMode.SAME_LOWER:
            return list(self._pre), list(self._post)
        pre, post = [], []
        for k, s, d in zip(self._kernel_size, self._stride, self._dilation):
            total = max((k - 1) * d + 1 - s, 0)
            small, large = total // 2, total - total // 2
            a, b = (small, large) if mode is PaddingMode.SAME_UPPER else (large, small)
            pre.append(a)
            post.append(b)
        return pre, post

    def _output_shape(self, index: int) -> Dims:
        dims = self._input(0).shape
        rank = len(self._kernel_size)
        if len(dims) != rank + 2:
            raise NetworkError(f"{self.name}: input rank {len(dims)} does not fit a {rank}D kernel")
        bias = self.get_input(2)
        if bias is not None and list(bias.shape) != [self.num_output_maps]:
            raise NetworkError(f"{self.name}: bias tensor shape {list(bias.shape)} is not [{self.num_output_maps}]")
        pre, post = self.effective_padding()
        out = [dims[0], self.num_output_maps]
        for axis, (size, k, s, d) in enumerate(zip(dims[2:], self._kernel_size, self._stride, self._dilation)):
            if size == -1:
                out.append(-1)
                continue
            length = (size - 1) * s + (k - 1) * d + 1 - pre[axis] - post[axis]
            if length < 1:
                raise NetworkError(f"{self.name}: output size {length} on spatial axis {axis}")
            out.append(length)
        return Dims(out)

    def _execute(self, values: list[np.ndarray | None]) -> np.ndarray:
        from tests.numerics import full_transposed_convolution

        x = values[0]
        assert x is not None
        kernel = self.kernel
        c = x.shape[1]
        weight = kernel.reshape(c, self.num_output_maps // self.num_groups, *self.kernel_size_nd)
        full = full_transposed_convolution(x, weight, self.stride_nd, self.dilation_nd, self.num_groups)
        pre, post = self.effective_padding()
        index = tuple(slice(a, full.shape[2 + i] - b) for i, (a, b) in enumerate(zip(pre, post)))
        out = full[(slice(None), slice(None)) + index]
        bias = values[2] if len(values) > 2 and values[2] is not None else self.bias
        if bias.size:
            out = out + bias.reshape(1, -1, *([1] * len(pre)))
        return out


class ISliceLayer(ILayer):
    type = LayerType.SLICE

    def __init__(self, network: INetworkDefinition, input: ITensor, start: Sequence[int], shape: Sequence[int],
                 stride: Sequence[int]) -> None:
        super().__init__(network, [input])
        self.start = Dims(start)
        self.shape = Dims(shape)
        self.stride = Dims(stride)
        self.mode = SampleMode.STRICT_BOUNDS

    def _params(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        start = self._input(1)._value() if self.get_input(1) is not None else tuple(self.start)
        shape = self._input(2)._value() if self.get_input(2) is not None else tuple(self.shape)
        stride = self._input(3)._value() if self.get_input(3) is not None else tuple(self.stride)
        if self.get_input(4) is not None:
            raise NetworkError("the stand-in has no fill value input")
        return start, shape, stride

    def _output_shape(self, index: int) -> Dims:
        dims = self._input(0).shape
        start, shape, stride = self._params()
        if not len(start) == len(shape) == len(stride) == len(dims):
            raise NetworkError(f"{self.name}: start/shape/stride ranks do not match the input rank {len(dims)}")
        if self.mode is SampleMode.STRICT_BOUNDS:
            for d, a, n, s in zip(dims, start, shape, stride):
                if -1 not in (d, a, n, s) and (a < 0 or n > 0 and a + (n - 1) * s >= d):
                    raise NetworkError(f"{self.name}: out-of-bounds slice in STRICT_BOUNDS mode")
        return Dims(shape)

    def _execute(self, values: list[np.ndarray | None]) -> np.ndarray:
        x = values[0]
        assert x is not None
        start, shape, stride = self._params()
        if self.mode not in (SampleMode.FILL, SampleMode.STRICT_BOUNDS):
            raise NetworkError("the stand-in executes FILL and STRICT_BOUNDS slices only")
        out = np.zeros(shape, dtype=x.dtype)
        for out_index in np.ndindex(*shape):
            src = tuple(a + i * s for a, i, s in zip(start, out_index, stride))
            if all(0 <= p < d for p, d in zip(src, x.shape)):
                out[out_index] = x[src]
        return out


class IConstantLayer(ILayer):
    type = LayerType.CONSTANT

    def __init__(self, network: INetworkDefinition, shape: Sequence[int], weights: Weights) -> None:
        super().__init__(network, [])
        array = weights.numpy()
        if array is None or array.size != math.prod(shape):
            raise NetworkError(f"constant of shape {list(shape)} needs {math.prod(shape)} weights")
        self.shape = Dims(shape)
        self.weights = array  # the real getter returns a numpy view

    def _output_shape(self, index: int) -> Dims:
        return self.shape

    def _value(self, index: int = 0) -> tuple[int, ...]:
        return tuple(int(v) for v in np.asarray(self.weights).reshape(-1))

    def _execute(self, values: list[np.ndarray | None]) -> np.ndarray:
        return np.asarray(self.weights).reshape(self.shape)


class IElementWiseLayer(ILayer):
    type = LayerType.ELEMENTWISE

    def __init__(self, network: INetworkDefinition, a: ITensor, b: ITensor, op: ElementWiseOperation) -> None:
        super().__init__(network, [a, b])
        self.op = op

    def _output_shape(self, index: int) -> Dims:
        return _broadcast(self._input(0).shape, self._input(1).shape)

    def _value(self, index: int = 0) -> tuple[int, ...]:
        a, b = self._input(0)._value(), self._input(1)._value()
        if len(a) != len(b):
            raise NetworkError("shape-tensor arithmetic on different lengths")
        ops: dict[ElementWiseOperation, Callable[[int, int], int]] = {
            ElementWiseOperation.SUM: lambda x, y: x + y, ElementWiseOperation.SUB: lambda x, y: x - y,
            ElementWiseOperation.PROD: lambda x, y: x * y, ElementWiseOperation.MAX: max,
        }
        return tuple(-1 if -1 in (x, y) else ops[self.op](x, y) for x, y in zip(a, b))

    def _execute(self, values: list[np.ndarray | None]) -> np.ndarray:
        a, b = values[0], values[1]
        assert a is not None and b is not None
        ops = {ElementWiseOperation.SUM: np.add, ElementWiseOperation.SUB: np.subtract,
               ElementWiseOperation.PROD: np.multiply, ElementWiseOperation.MAX: np.maximum}
        return ops[self.op](a, b)


class IShuffleLayer(ILayer):
    type = LayerType.SHUFFLE

    def __init__(self, network: INetworkDefinition, input: ITensor) -> None:
        super().__init__(network, [input])
        self.reshape_dims: Dims | None = None
        self.zero_is_placeholder = True

    def _target(self) -> tuple[int, ...] | None:
        if self.get_input(1) is not None:
            return self._input(1)._value()
        return None if self.reshape_dims is None else tuple(self.reshape_dims)

    def _output_shape(self, index: int) -> Dims:
        dims = self._input(0).shape
        target = self._target()
        if target is None:
            return dims
        out = [dims[i] if (d == 0 and self.zero_is_placeholder) else d for i, d in enumerate(target)]
        if -1 in dims:
            return Dims(out)
        if out.count(-1) > 1:
            raise NetworkError(f"{self.name}: more than one -1 in reshape dims")
        if -1 in out:
            known = math.prod(d for d in out if d != -1)
            out[out.index(-1)] = math.prod(dims) // known
        if math.prod(out) != math.prod(dims):
            raise NetworkError(f"{self.name}: reshape {list(dims)} -> {out} changes the volume")
        return Dims(out)

    def _execute(self, values: list[np.ndarray | None]) -> np.ndarray:
        x = values[0]
        assert x is not None
        target = self._target()
        if target is None:
            return x
        shape = [x.shape[i] if (d == 0 and self.zero_is_placeholder) else d for i, d in enumerate(target)]
        return x.reshape(shape)


class _AxesLayer(ILayer):
    def _axes(self) -> tuple[int, ...]:
        return self._input(1)._value()

    def _execute(self, values: list[np.ndarray | None]) -> np.ndarray:
        x = values[0]
        assert x is not None
        return x.reshape(self._output_shape(0))


class IUnsqueezeLayer(_AxesLayer):
    type = LayerType.UNSQUEEZE

    def _output_shape(self, index: int) -> Dims:
        out = list(self._input(0).shape)
        for axis in sorted(self._axes()):
            out.insert(axis, 1)
        return Dims(out)


class ISqueezeLayer(_AxesLayer):
    type = LayerType.SQUEEZE

    def _output_shape(self, index: int) -> Dims:
        dims = self._input(0).shape
        axes = set(self._axes())
        if any(dims[a] not in (1, -1) for a in axes):
            raise NetworkError(f"{self.name}: squeezing an axis that is not 1")
        return Dims(d for i, d in enumerate(dims) if i not in axes)


class IShapeLayer(ILayer):
    type = LayerType.SHAPE

    def _output_shape(self, index: int) -> Dims:
        return Dims([len(self._input(0).shape)])

    def _value(self, index: int = 0) -> tuple[int, ...]:
        return tuple(self._input(0).shape)

    def _execute(self, values: list[np.ndarray | None]) -> np.ndarray:
        x = values[0]
        assert x is not None
        return np.array(x.shape, dtype=np.int64)


class INetworkDefinition:
    def __init__(self) -> None:
        self._revision = 0  # bumped by every change of a layer: invalidates cached tensor shapes
        self._layers: list[ILayer] = []
        self._inputs: list[ITensor] = []
        self._outputs: list[ITensor] = []

    # Inputs, outputs, layers
    def add_input(self, name: str, dtype: Any, shape: Sequence[int]) -> ITensor:
        tensor = ITensor(self, name, None, shape=shape)
        self._inputs.append(tensor)
        return tensor

    @property
    def num_inputs(self) -> int:
        return len(self._inputs)

    def get_input(self, index: int) -> ITensor:
        return self._inputs[index]

    @property
    def num_outputs(self) -> int:
        return len(self._outputs)

    def get_output(self, index: int) -> ITensor:
        return self._outputs[index]

    def mark_output(self, tensor: ITensor) -> None:
        if not any(t is tensor for t in self._outputs):
            self._outputs.append(tensor)

    def unmark_output(self, tensor: ITensor) -> None:
        self._outputs = [t for t in self._outputs if t is not tensor]

    @property
    def num_layers(self) -> int:
        return len(self._layers)

    def get_layer(self, index: int) -> Any:  # a concrete layer (the real bindings need a cast)
        return self._layers[index]

    def __len__(self) -> int:
        return len(self._layers)

    def __getitem__(self, index: int) -> ILayer:
        return self._layers[index]

    def _add(self, layer: ILayer) -> Any:
        self._layers.append(layer)
        return layer

    # Layer factories (argument names as in the real API)
    def add_deconvolution_nd(self, input: ITensor, num_output_maps: int, kernel_shape: Sequence[int],
                             kernel: Weights, bias: Weights | None = None) -> IDeconvolutionLayer:
        return self._add(IDeconvolutionLayer(self, input, num_output_maps, kernel_shape, kernel, bias))

    def add_slice(self, input: ITensor, start: Sequence[int], shape: Sequence[int],
                  stride: Sequence[int]) -> ISliceLayer:
        return self._add(ISliceLayer(self, input, start, shape, stride))

    def add_constant(self, shape: Sequence[int], weights: Weights) -> IConstantLayer:
        return self._add(IConstantLayer(self, shape, weights))

    def add_elementwise(self, input1: ITensor, input2: ITensor, op: ElementWiseOperation) -> IElementWiseLayer:
        return self._add(IElementWiseLayer(self, input1, input2, op))

    def add_shuffle(self, input: ITensor) -> IShuffleLayer:
        return self._add(IShuffleLayer(self, input))

    def add_shape(self, input: ITensor) -> IShapeLayer:
        return self._add(IShapeLayer(self, [input]))

    def add_unsqueeze(self, input: ITensor, axes: ITensor) -> IUnsqueezeLayer:
        return self._add(IUnsqueezeLayer(self, [input, axes]))

    def add_squeeze(self, input: ITensor, axes: ITensor) -> ISqueezeLayer:
        return self._add(ISqueezeLayer(self, [input, axes]))

    # Test helpers (not TensorRT API)
    def check(self) -> None:
        """Compute every layer's output shape, as TensorRT does when it builds: raises NetworkError."""
        for layer in self._layers:
            _ = layer._output.shape

    def execute(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the network with numpy (only what the outputs need, in dependency order); outputs by name."""
        values: dict[int, np.ndarray] = {id(t): np.asarray(feeds[t.name], dtype=np.float64) for t in self._inputs}

        def value(tensor: ITensor) -> np.ndarray:
            if id(tensor) not in values:
                layer = tensor._producer
                assert layer is not None
                values[id(tensor)] = layer._execute([None if t is None else value(t) for t in layer._inputs])
            return values[id(tensor)]

        return {t.name: value(t) for t in self._outputs}


def tensorrt_module() -> types.ModuleType:
    """A module to install as sys.modules["tensorrt"] in a test (never in the package)."""
    module = types.ModuleType("tensorrt")
    # As the import system leaves a loaded module (so `import tensorrt` inside a function is as cheap
    # as for the real one: without it, every such import raises and clears an AttributeError).
    module.__spec__ = importlib.machinery.ModuleSpec("tensorrt", None)
    module.__spec__._initializing = False  # type: ignore[attr-defined]
    module.__version__ = "0.0.0-standin"  # type: ignore[attr-defined]
    for value in (LayerType, PaddingMode, SampleMode, ElementWiseOperation, DataType, Dims, Weights, ITensor, ILayer,
                  IDeconvolutionLayer, ISliceLayer, IConstantLayer, IElementWiseLayer, IShuffleLayer, IShapeLayer,
                  IUnsqueezeLayer, ISqueezeLayer, INetworkDefinition):
        setattr(module, value.__name__, value)
    module.float32 = DataType.FLOAT  # type: ignore[attr-defined]
    module.int64 = DataType.INT64  # type: ignore[attr-defined]
    return module
