"""A small, explicit stand-in of TensorRT's Python network API, for tests only, per TensorRT version.

TensorRT-RTX (tests/rtx) is the ground truth of the network-side tests; this stand-in is kept for what
TensorRT-RTX cannot show: the API differences of TensorRT 8.6 / 10.0-10.6 / 10.7+ / 11.x, weakly typed
dtypes, and the networks torch2trt and Torch-TensorRT build (tests/standin/producers.py). Every rule
below names its source as repo@ref:file:line; tests/standin/test_surface.py checks every name this
stand-in provides against the real binding stubs of the version it emulates.

Sources (abbreviations used in the comments below):
- H86, H100, H107, H108, H110: NVIDIA/TensorRT@release/{8.6,10.0,10.7,10.8,11.0}:include/NvInfer.h
- G86, G108: NVIDIA/TensorRT@release/{8.6,10.8}:python/src/infer/pyGraph.cpp (the Python bindings)
- U86, U108: NVIDIA/TensorRT@release/{8.6,10.8}:python/src/utils.cpp
- F86, F108: NVIDIA/TensorRT@release/{8.6,10.8}:python/src/infer/pyFoundationalTypes.cpp

Version emulation (`tensorrt_module(version)`; families in `api_version`):
- "8.6": no LayerType.SQUEEZE/UNSQUEEZE, no add_squeeze/add_unsqueeze, no DataType.INT64 (H86 and the
  8.6.1 stub); `Weights(np.int64 array)` raises ValueError (U86:65-97 maps f4 f2 i4 i1 b1 u1 only);
  IShapeLayer gives an Int32 tensor (H86:4390).
- "10.0" (10.0-10.6): INT64 exists, Weights(int64) works (U108:74-110 adds i8), IShapeLayer gives Int64
  (H100:3412); still no SQUEEZE/UNSQUEEZE: they are kSQUEEZE = 47, kUNSQUEEZE = 48 from H107:106-107,
  absent from release/10.6's NvInfer.h and from the 10.0.1/10.3.0 stubs.
- "10.7" (10.7-10.x): adds ISqueezeLayer/IUnsqueezeLayer (H108:8034-8074).
- 8.6 and 10.x are weakly typed: `ITensor.dtype` is settable, and "the type is unchanged if the tensor
  is not a network input tensor, or marked as an output tensor" (H108:257-258); a float tensor whose
  type is not set reads FLOAT, whatever its inputs' types (onnx-tensorrt@10.1-GA:ModelImporter.cpp:793:
  "Without this, output type is always float32"); integer types (constants, shapes) pass through.
- "11" (11.x): strongly typed: ITensor has getType and no setType (H110:263; the 11.4.0.106 stub has a
  read-only `dtype`); a layer's output has its input's type.

Rules that hold for every version:
- IDeconvolutionLayer: O = (I - 1) * S + DK - pre - post in the explicit modes; SAME_UPPER / SAME_LOWER:
  P = max(DK - S, 0), pre = P // 2, post = P - pre (swapped for SAME_LOWER), so O = min(I * S,
  (I - 1) * S + DK) (H108:884-902, "Formulas for Deconvolution"; H86:872-890); "Padding mode takes
  precedence if both setPaddingMode and setPre/PostPadding are used" (H108:2258). pre/post/padding_nd:
  "Negative padding is not supported" (H108:2206, 2233, 2338; H86:2678, 2706, 2812). The setters are
  `noexcept` C++ functions the bindings call directly (G108:506-507, 514; G86:460-461), so nothing is
  raised in Python: TensorRT's parameter check reports an API usage error and returns without applying
  the value. The message real TensorRT gives is "Error Code 3: API Usage Error (Parameter check failed
  at: ...layers.h::setPostPadding::667, condition: ((postPadding.nbDims == 2 || postPadding.nbDims == 3)
  && allDimsGtEq(postPadding, 0) && ...))" (NVIDIA/TensorRT issue 2910, TensorRT 8.2); the same check
  macro in TensorRT's open plugin code logs and `return`s (NVIDIA/TensorRT@release/10.8:
  plugin/vc/checkMacrosPlugin.h:152-159); code 3 is ErrorCode::kINVALID_ARGUMENT, "a violation of the
  API contract" (NVIDIA/TensorRT@release/10.8:include/NvInferRuntimeBase.h:313-317). The report goes to
  the network's error recorder if one is set, else to the logger (H108:7714). setPaddingNd sets pre and
  post; padding_nd reads the pre-padding (H108:2354). Kernel weights are C x K/groups x R x S (H108:2156);
  a bias has K values (H108:2181); input 1 may be the kernel tensor, input 2 the bias tensor, with the
  weights left empty (H108:2370-2371).
- trt.Weights(array): a non-contiguous array raises ValueError (F108:43-46), a dtype without a TensorRT
  type raises ValueError (U108:74-110: float64 always); a numpy array converts implicitly wherever
  Weights is taken (F86:216). The `kernel`/`bias`/`weights` getters return a numpy view of the weights'
  type (python/include/utils.h@release/10.8:53-62).
- ISliceLayer: output shape = `shape` (or shape-tensor input 2); start, size, stride may come from inputs
  1-3 (H108:3419-3425); kSTRICT_BOUNDS fails out of bounds, kFILL fills (H108:3221, 3224); without fill
  input 4 the fill is 0 (what the parser's extension relies on: onnx-tensorrt@10.1-GA:onnxOpImporters.cpp:
  1085-1088 sets none). Inputs 4 (fill value) and 5 (axes, H108:3430-3433) are not modelled.
- IElementWiseLayer: "same rank and compatible type"; "compatible if they are the same type or are both
  in the set {kFLOAT, kHALF}" (H108:7120-7121; H86:6833-6834); each dim equal or 1 (broadcast).
- IShuffleLayer: first transpose, reshape (0 copies when zero_is_placeholder; one -1 inferred), second
  transpose (H108:3063-3193).
- ISqueezeLayer / IUnsqueezeLayer: axes from a constant 1D Int32/Int64 tensor; squeeze axes in [-r, r-1]
  of the input rank, unsqueeze axes in [-r_final, r_final-1] of the output rank (H108:8045, 8063-8066).
Dynamic dimensions are -1, as in TensorRT. Shapes are computed on access (like ITensor.shape), so a change
to a layer shows in every tensor downstream. Where real TensorRT reports a shape or type error while it
computes shapes (and returns invalid dims), the stand-in raises NetworkError, so tests see it.

It also executes a network with numpy (`execute`), so tests can check values, not only shapes; the
deconvolution there is the independent oracle of tests/numerics.py.

`tensorrt_module(version)` returns a module object to put into sys.modules["tensorrt"] inside a test;
tests/standin/conftest.py has the fixture `standin_trt`. Test helpers that are not TensorRT API:
`INetworkDefinition.check`, `INetworkDefinition.execute`, `api_errors(network)`, `Logger` records.
"""

from __future__ import annotations

import enum
import importlib.machinery
import math
import re
import sys
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from typing_extensions import Self

DEFAULT_VERSION = "10.8.0.43"
# One version per emulated family and the versions whose binding stubs tests/standin/test_surface.py reads.
EMULATED_VERSIONS = ("8.6.1", "10.0.1", "10.3.0", "10.8.0.43", "10.16.1.11", "11.4.0.106")


@dataclass(frozen=True)
class ApiVersion:
    """Which TensorRT Python API a stand-in module emulates."""

    version: str  # what `tensorrt.__version__` reads
    family: str  # "8.6" | "10.0" | "10.7" | "11"

    @property
    def major_minor(self) -> tuple[int, int]:
        major, minor = self.version.split(".")[:2]
        return int(major), int(minor)

    @property
    def squeeze_layers(self) -> bool:
        return self.major_minor >= (10, 7)  # H107:106-107

    @property
    def int64(self) -> bool:
        return self.major_minor[0] >= 10  # U86:65-97 has no i8; U108:74-110 has it

    @property
    def strongly_typed(self) -> bool:
        return self.major_minor[0] >= 11  # H110:263: no ITensor::setType

    @property
    def shape_type(self) -> DataType:
        return DataType.INT64 if self.int64 else DataType.INT32  # H86:4390, H100:3412


# The version strings of the binding wheels the stubs are built from (scripts/trt-api-stubs).
_FULL_VERSIONS = {"8.6": "8.6.1", "10.0": "10.0.1", "10.3": "10.3.0", "10.8": "10.8.0.43", "10.16": "10.16.1.11",
                  "11": "11.4.0.106", "11.4": "11.4.0.106"}


def api_version(version: str = DEFAULT_VERSION) -> ApiVersion:
    """The emulated API of a TensorRT version: "8.6", "10.0".."10.6", "10.7".."10.x", "11.x"."""
    full = _FULL_VERSIONS.get(version, version)
    if not re.fullmatch(r"\d+\.\d+(\.\d+)*", full):
        raise ValueError(f"not a TensorRT version: {version!r}")
    major, minor = (int(p) for p in full.split(".")[:2])
    if major == 8 and minor == 6:
        family = "8.6"
    elif major == 10:
        family = "10.7" if minor >= 7 else "10.0"
    elif major == 11:
        family = "11"
    else:
        raise ValueError(f"the stand-in emulates TensorRT 8.6, 10.x and 11.x, not {version}")
    return ApiVersion(full, family)


class LayerType(enum.Enum):
    # The values of NvInfer.h's enum LayerType (H107:60-107).
    CAST = 1
    DECONVOLUTION = 7
    ELEMENTWISE = 9
    SHUFFLE = 13
    CONSTANT = 19
    IDENTITY = 20
    SLICE = 22
    SHAPE = 23
    SQUEEZE = 47
    UNSQUEEZE = 48


class PaddingMode(enum.Enum):
    EXPLICIT_ROUND_DOWN = 0
    EXPLICIT_ROUND_UP = 1
    SAME_UPPER = 2
    SAME_LOWER = 3


class SampleMode(enum.Enum):
    STRICT_BOUNDS = 0
    WRAP = 1
    CLAMP = 2
    FILL = 3
    REFLECT = 4


class ElementWiseOperation(enum.Enum):
    SUM = 0
    PROD = 1
    MAX = 2
    SUB = 4


class DataType(enum.Enum):
    # NvInferRuntimeBase.h's enum DataType; INT64 and BF16 exist from 10.0 (see _DATA_TYPES).
    FLOAT = 0
    HALF = 1
    INT8 = 2
    INT32 = 3
    BOOL = 4
    UINT8 = 5
    BF16 = 7
    INT64 = 8


class ErrorCodeTRT(enum.Enum):
    """nvinfer1::ErrorCode (the Python name; `trt.ErrorCode` is the ONNX parser's)."""

    SUCCESS = 0
    UNSPECIFIED_ERROR = 1
    INTERNAL_ERROR = 2
    INVALID_ARGUMENT = 3  # NvInferRuntimeBase.h@release/10.8:313-317: "a violation of the API contract"


class Severity(enum.Enum):
    INTERNAL_ERROR = 0
    ERROR = 1
    WARNING = 2
    INFO = 3
    VERBOSE = 4


_DATA_TYPES = {
    "8.6": ("FLOAT", "HALF", "INT8", "INT32", "BOOL", "UINT8"),
    "10.0": ("FLOAT", "HALF", "INT8", "INT32", "BOOL", "UINT8", "BF16", "INT64"),
}
_LAYER_TYPES = ("CAST", "DECONVOLUTION", "ELEMENTWISE", "SHUFFLE", "CONSTANT", "IDENTITY", "SLICE", "SHAPE")

# numpy dtype -> DataType, as utils::type() converts it (U86:65-97; U108:74-110 adds "i8").
_FROM_NUMPY = {"f4": DataType.FLOAT, "f2": DataType.HALF, "i4": DataType.INT32, "i1": DataType.INT8,
               "b1": DataType.BOOL, "u1": DataType.UINT8, "i8": DataType.INT64}
# DataType -> numpy dtype for the getters (utils.h@release/10.8:53-62: none for BF16: a Weights is returned).
_TO_NUMPY = {DataType.FLOAT: "f4", DataType.HALF: "f2", DataType.INT8: "i1", DataType.INT32: "i4",
             DataType.BOOL: "b1", DataType.UINT8: "u1", DataType.INT64: "i8"}
_FLOATS = (DataType.FLOAT, DataType.HALF, DataType.BF16)


class NetworkError(ValueError):
    """A shape or type error that real TensorRT reports while it computes shapes (see the module doc)."""


class Dims(tuple):
    """trt.Dims: a sequence of ints (-1 for dynamic)."""

    MAX_DIMS: ClassVar[int] = 8

    def __new__(cls, shape: Iterable[int] = ()) -> Self:
        if type(shape) is cls:
            return shape  # immutable: the same dims (the bindings copy; a tuple cannot change)
        return super().__new__(cls, map(int, shape))


class Permutation(tuple):
    """trt.Permutation: the order of up to Dims.MAX_DIMS axes; the default is the identity."""

    def __new__(cls, order: Iterable[int] = range(Dims.MAX_DIMS)) -> Self:
        return super().__new__(cls, map(int, order))


def _as_dims(values: tuple[int, ...]) -> Dims:
    """A Dims of values that are ints already (a getter's copy: TensorRT makes it in C++, so it is cheap here too)."""
    return tuple.__new__(Dims, values)


class Weights:
    """trt.Weights: an empty set of weights of a type, or a view of a numpy array (which it does not own)."""

    _api: ClassVar[ApiVersion] = api_version()

    def __init__(self, a: Any = DataType.FLOAT) -> None:
        if isinstance(a, DataType):
            self._array: np.ndarray | None = None
            self._type = a
            return
        array = np.asarray(a)
        if not array.flags.c_contiguous:  # F108:45-46
            raise ValueError("Could not convert non-contiguous NumPy array to Weights. Please use "
                             "numpy.ascontiguousarray() to fix this.")
        key = f"{array.dtype.kind}{array.dtype.itemsize}"
        dtype = _FROM_NUMPY.get(key)
        if dtype is None or (dtype is DataType.INT64 and not self._api.int64):
            # U86:91-96 / U108:104-110: prints the line to stderr and raises ValueError.
            raise ValueError(f"[TRT] [E] Could not implicitly convert NumPy data type: {array.dtype.kind}"
                             f"{array.dtype.itemsize * 8} to TensorRT.")
        self._array = array
        self._type = dtype

    @property
    def dtype(self) -> DataType:
        return self._type

    @property
    def size(self) -> int:
        return 0 if self._array is None else int(self._array.size)

    @property
    def nbytes(self) -> int:
        return 0 if self._array is None else int(self._array.nbytes)

    def __len__(self) -> int:
        return self.size

    def numpy(self) -> np.ndarray:
        """A view of the values in their type (empty weights: an empty array of the type)."""
        if self._array is not None:
            return self._array
        return np.zeros(0, _TO_NUMPY.get(self._type, "f4"))


def _weights(value: Any, api: ApiVersion) -> Weights:
    """What the bindings accept where Weights is taken: Weights, or a numpy array converted (F86:216)."""
    if isinstance(value, Weights):
        return value
    if isinstance(value, np.ndarray):
        return _weights_class(api)(value)
    raise TypeError(f"incompatible function arguments: {type(value).__name__} is not trt.Weights")


_SeverityType = Severity


class ILogger:
    """trt.ILogger (subclass it and implement `log`)."""

    Severity = Severity
    INTERNAL_ERROR = Severity.INTERNAL_ERROR
    ERROR = Severity.ERROR
    WARNING = Severity.WARNING
    INFO = Severity.INFO
    VERBOSE = Severity.VERBOSE

    def log(self, severity: _SeverityType, msg: str) -> None:
        raise NotImplementedError


class Logger(ILogger):
    """trt.Logger. The stand-in keeps each message in `_records` (test inspection) instead of printing it."""

    def __init__(self, min_severity: _SeverityType = Severity.WARNING) -> None:
        self.min_severity = min_severity
        self._records: list[tuple[_SeverityType, str]] = []

    def log(self, severity: _SeverityType, msg: str) -> None:
        self._records.append((severity, msg))


class IErrorRecorder:
    """trt.IErrorRecorder: subclass it; TensorRT calls report_error (H108:7707-7714)."""

    def report_error(self, val: ErrorCodeTRT, desc: str) -> bool:
        raise NotImplementedError

    def num_errors(self) -> int:
        raise NotImplementedError

    def get_error_code(self, index: int) -> ErrorCodeTRT:
        raise NotImplementedError

    def get_error_desc(self, index: int) -> str:
        raise NotImplementedError

    def has_overflowed(self) -> bool:
        return False

    def clear(self) -> None:
        raise NotImplementedError


class ITensor:
    def __init__(self, network: INetworkDefinition, name: str, producer: ILayer | None, index: int = 0,
                 shape: Sequence[int] | None = None, dtype: DataType | None = None) -> None:
        self._network = network
        self.name = name
        self._producer = producer
        self._index = index
        self._input_shape = None if shape is None else Dims(shape)
        self._shape: Dims | None = None  # computed at network revision _shape_revision
        self._shape_revision = -1
        self._type = dtype  # a network input's type, or a type set on an output (weakly typed)

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
    def dtype(self) -> DataType:
        if self._type is not None:
            return self._type
        assert self._producer is not None
        return self._producer._output_type()

    @dtype.setter
    def dtype(self, value: DataType) -> None:
        # H108:257-258: unchanged unless the tensor is a network input or marked as an output.
        if self.is_network_input or self.is_network_output:
            self._type = value

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


class _StronglyTypedTensor(ITensor):
    """ITensor of TensorRT 11: `dtype` can be read, not set (H110:263; 11.4.0.106 stub)."""

    @property  # type: ignore[misc]
    def dtype(self) -> DataType:
        return ITensor.dtype.fget(self)  # type: ignore[attr-defined,no-any-return]


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
        self.name = f"(Unnamed Layer* {self._number}) [{self.type.name.title()}]"
        # every layer here has one output
        self._output = network._tensor_class(network, f"{self.name}_output", self, 0)

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
            raise TypeError("set_input needs a tensor")
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

    def _output_type(self) -> DataType:
        """The type of the output when none is set: input 0's; weakly typed, a float one reads FLOAT."""
        source = self._input(0).dtype
        if source in _FLOATS and not self._network._api.strongly_typed:
            return DataType.FLOAT  # see the module doc: a type set on a tensor does not flow downstream
        return source

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
        self._bias = bias if bias is not None else _weights_class(network._api)(DataType.FLOAT)
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

    # Like the real bindings, the getters return numpy views (empty when unset); the setters take Weights
    # or a numpy array (G108:510-511 with utils.h@release/10.8:53-62; F86:216).
    @property
    def kernel(self) -> np.ndarray:
        return self._kernel.numpy()

    @kernel.setter
    def kernel(self, value: Weights) -> None:
        self._kernel = _weights(value, self._network._api)

    @property
    def bias(self) -> np.ndarray:
        return self._bias.numpy()

    @bias.setter
    def bias(self, value: Weights) -> None:
        self._bias = _weights(value, self._network._api)

    @property
    def pre_padding(self) -> Dims:
        return _as_dims(self._pre)

    @pre_padding.setter
    def pre_padding(self, value: Sequence[int]) -> None:
        checked = self._checked_padding(value, "setPrePadding", "prePadding")
        if checked is not None:
            self._pre = checked

    @property
    def post_padding(self) -> Dims:
        return _as_dims(self._post)

    @post_padding.setter
    def post_padding(self, value: Sequence[int]) -> None:
        checked = self._checked_padding(value, "setPostPadding", "postPadding")
        if checked is not None:
            self._post = checked

    @property
    def padding_nd(self) -> Dims:
        return _as_dims(self._pre)  # H108:2354: "If the padding is asymmetric, the pre-padding is returned."

    @padding_nd.setter
    def padding_nd(self, value: Sequence[int]) -> None:
        checked = self._checked_padding(value, "setPaddingNd", "padding")
        if checked is not None:  # H108:2338-2346: symmetric padding, i.e. both pre and post
            self._pre = checked
            self._post = checked

    def _checked_padding(self, value: Sequence[int], setter: str, argument: str) -> tuple[int, ...] | None:
        """The padding, or None after reporting an API usage error (the value is then not applied)."""
        dims = tuple(Dims(value))
        if len(dims) in (2, 3) and all(d >= 0 for d in dims):
            return dims
        condition = f"(({argument}.nbDims == 2 || {argument}.nbDims == 3) && allDimsGtEq({argument}, 0))"
        self._network._api_error(
            f"[layers.h::{setter}] Error Code 3: API Usage Error (Parameter check failed at: "
            f"optimizer/api/layers.h::{setter}, condition: {condition})"
        )
        return None

    def _effective_padding(self) -> tuple[list[int], list[int]]:
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

    def _output_type(self) -> DataType:
        if self._network._api.strongly_typed:
            return self._input(0).dtype
        return DataType.FLOAT  # weakly typed: see the module doc

    def _check_weights(self, channels: int) -> None:
        """Kernel C x K/groups x R x S (H108:2156) and bias of K values (H108:2181), as weights or tensors."""
        maps, groups = self.num_output_maps, self.num_groups
        if channels == -1 or groups < 1 or maps % groups or channels % groups:
            if groups < 1 or maps % groups:
                raise NetworkError(f"{self.name}: {maps} output maps in {groups} groups")
            return
        kernel_tensor = self.get_input(1)
        expected = channels * (maps // groups) * math.prod(self._kernel_size)
        if kernel_tensor is not None:
            shape = list(kernel_tensor.shape)
            if shape != [channels, maps // groups, *self._kernel_size]:
                raise NetworkError(f"{self.name}: kernel tensor of shape {shape}, expected "
                                   f"{[channels, maps // groups, *self._kernel_size]}")
        elif self._kernel.size != expected:
            raise NetworkError(f"{self.name}: kernel weights has count {self._kernel.size} but {expected} was expected")
        bias = self.get_input(2)
        if bias is not None and list(bias.shape) != [maps]:
            raise NetworkError(f"{self.name}: bias tensor shape {list(bias.shape)} is not [{maps}]")
        if bias is None and self._bias.size not in (0, maps):
            raise NetworkError(f"{self.name}: bias weights has count {self._bias.size} but {maps} was expected")

    def _output_shape(self, index: int) -> Dims:
        dims = self._input(0).shape
        rank = len(self._kernel_size)
        if len(dims) != rank + 2:
            raise NetworkError(f"{self.name}: input rank {len(dims)} does not fit a {rank}D kernel")
        self._check_weights(dims[1])
        pre, post = self._effective_padding()
        out = [dims[0], self.num_output_maps]
        for axis, (size, k, s, d) in enumerate(zip(dims[2:], self._kernel_size, self._stride, self._dilation)):
            if size == -1:
                out.append(-1)
                continue
            length = (size - 1) * s + (k - 1) * d + 1 - pre[axis] - post[axis]
            # Measured on TensorRT-RTX 1.7.1 (tests/rtx): an empty deconvolution output parses and builds; a
            # negative length fails ("Tensor deconv_output has axis 2 with inherently negative length").
            if length < 0:
                raise NetworkError(f"{self.name}: output size {length} on spatial axis {axis}")
            out.append(length)
        return Dims(out)

    def _execute(self, values: list[np.ndarray | None]) -> np.ndarray:
        from tests.numerics import full_transposed_convolution

        x = values[0]
        assert x is not None
        kernel = values[1] if len(values) > 1 and values[1] is not None else self.kernel
        c = x.shape[1]
        weight = np.asarray(kernel, dtype=np.float64).reshape(c, self.num_output_maps // self.num_groups,
                                                              *self.kernel_size_nd)
        full = full_transposed_convolution(x, weight, self.stride_nd, self.dilation_nd, self.num_groups)
        pre, post = self._effective_padding()
        index = tuple(slice(a, full.shape[2 + i] - b) for i, (a, b) in enumerate(zip(pre, post)))
        out = full[(slice(None), slice(None)) + index]
        bias = values[2] if len(values) > 2 and values[2] is not None else self.bias
        if bias.size:
            out = out + np.asarray(bias, dtype=np.float64).reshape(1, -1, *([1] * len(pre)))
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
        self._axes = Dims(())

    @property
    def axes(self) -> Dims:
        """ISliceLayer.axes from 10.3 (include/NvInfer.h@release/10.3 setAxes; pyGraph.cpp@release/10.8:650);
        unset, it reads as an empty Dims. Versions before 10.3 have none (_version_classes)."""
        return self._axes

    @axes.setter
    def axes(self, value: Sequence[int]) -> None:
        if len(value):
            raise NetworkError("the stand-in slices every axis in order (no axes)")
        self._axes = Dims(value)

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
        if weights.size != math.prod(shape):
            raise NetworkError(f"constant of shape {list(shape)} needs {math.prod(shape)} weights")
        self.shape = Dims(shape)
        self._weights = weights

    @property
    def weights(self) -> np.ndarray:
        return self._weights.numpy()  # the real getter returns a numpy view

    @weights.setter
    def weights(self, value: Weights) -> None:
        self._weights = _weights(value, self._network._api)

    def _output_type(self) -> DataType:
        return self._weights.dtype

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
        a, b = self._input(0), self._input(1)
        ta, tb = a.dtype, b.dtype
        if ta is not tb and not (ta in _FLOATS[:2] and tb in _FLOATS[:2]):  # H108:7120-7121
            raise NetworkError(f"{self.name}: operation {self.op.name} has incompatible input types {ta.name} "
                               f"and {tb.name}")
        return _broadcast(a.shape, b.shape)

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
        self._first = Permutation()
        self._reshape: Dims | None = None
        self._second = Permutation()
        self.zero_is_placeholder = True

    # The bindings convert what is assigned (a tuple, a list) to Dims / Permutation.
    @property
    def first_transpose(self) -> Permutation:
        return self._first

    @first_transpose.setter
    def first_transpose(self, value: Sequence[int]) -> None:
        self._first = Permutation(list(value) + list(range(len(value), Dims.MAX_DIMS)))

    @property
    def reshape_dims(self) -> Dims | None:
        return self._reshape

    @reshape_dims.setter
    def reshape_dims(self, value: Sequence[int]) -> None:
        self._reshape = Dims(value)

    @property
    def second_transpose(self) -> Permutation:
        return self._second

    @second_transpose.setter
    def second_transpose(self, value: Sequence[int]) -> None:
        self._second = Permutation(list(value) + list(range(len(value), Dims.MAX_DIMS)))

    def _target(self) -> tuple[int, ...] | None:
        if self.get_input(1) is not None:
            return self._input(1)._value()
        return None if self.reshape_dims is None else tuple(self.reshape_dims)

    @staticmethod
    def _permute(dims: Sequence[int], order: Sequence[int]) -> list[int]:
        rank = len(dims)
        chosen = list(order[:rank])
        if sorted(chosen) != list(range(rank)):
            raise NetworkError(f"permutation {list(order)} does not fit rank {rank}")
        return [dims[p] for p in chosen]

    def _output_shape(self, index: int) -> Dims:
        dims = self._permute(self._input(0).shape, self.first_transpose)
        target = self._target()
        if target is None:
            return Dims(self._permute(dims, self.second_transpose))
        out = [dims[i] if (d == 0 and self.zero_is_placeholder) else d for i, d in enumerate(target)]
        if -1 not in dims:
            if out.count(-1) > 1:
                raise NetworkError(f"{self.name}: more than one -1 in reshape dims")
            if -1 in out:
                known = math.prod(d for d in out if d != -1)
                out[out.index(-1)] = math.prod(dims) // known
            if math.prod(out) != math.prod(dims):
                raise NetworkError(f"{self.name}: reshape {list(dims)} -> {out} changes the volume")
        return Dims(self._permute(out, self.second_transpose))

    def _execute(self, values: list[np.ndarray | None]) -> np.ndarray:
        x = values[0]
        assert x is not None
        x = np.transpose(x, self.first_transpose[: x.ndim])
        target = self._target()
        if target is not None:
            x = x.reshape([x.shape[i] if (d == 0 and self.zero_is_placeholder) else d for i, d in enumerate(target)])
        return np.transpose(x, self.second_transpose[: x.ndim])


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
        dims = list(self._input(0).shape)
        axes = self._axes()
        rank = len(dims) + len(axes)  # H108:8063-8066: axes of the output, in [-r_final, r_final - 1]
        resolved = sorted(a + rank if a < 0 else a for a in axes)
        if len(set(resolved)) != len(resolved) or any(not 0 <= a < rank for a in resolved):
            raise NetworkError(f"{self.name}: unsqueeze axes {list(axes)} out of range for output rank {rank}")
        for axis in resolved:
            dims.insert(axis, 1)
        return Dims(dims)


class ISqueezeLayer(_AxesLayer):
    type = LayerType.SQUEEZE

    def _output_shape(self, index: int) -> Dims:
        dims = self._input(0).shape
        rank = len(dims)  # H108:8045: axes of the input, in [-r, r - 1], each of size 1
        axes = {a + rank if a < 0 else a for a in self._axes()}
        if any(not 0 <= a < rank for a in axes):
            raise NetworkError(f"{self.name}: squeeze axes out of range for rank {rank}")
        if any(dims[a] not in (1, -1) for a in axes):
            raise NetworkError(f"{self.name}: squeezing an axis that is not 1")
        return Dims(d for i, d in enumerate(dims) if i not in axes)


class IShapeLayer(ILayer):
    type = LayerType.SHAPE

    def _output_type(self) -> DataType:
        return self._network._api.shape_type

    def _output_shape(self, index: int) -> Dims:
        return Dims([len(self._input(0).shape)])

    def _value(self, index: int = 0) -> tuple[int, ...]:
        return tuple(self._input(0).shape)

    def _execute(self, values: list[np.ndarray | None]) -> np.ndarray:
        x = values[0]
        assert x is not None
        return np.array(x.shape, dtype=np.int64)


class INetworkDefinition:
    _api: ClassVar[ApiVersion] = api_version()
    _tensor_class: ClassVar[type[ITensor]] = ITensor
    _slice_class: ClassVar[type[ISliceLayer]] = ISliceLayer

    def __init__(self, logger: ILogger | None = None) -> None:
        self._revision = 0  # bumped by every change of a layer: invalidates cached tensor shapes
        self._layers: list[ILayer] = []
        self._inputs: list[ITensor] = []
        self._outputs: list[ITensor] = []
        self._logger: ILogger = logger if logger is not None else Logger()
        self._api_errors: list[str] = []  # a stand-in record, for api_errors()
        self.error_recorder: IErrorRecorder | None = None

    def _api_error(self, message: str) -> None:
        """Report an API usage error as TensorRT does: to the error recorder if set, else the logger (H108:7714)."""
        self._api_errors.append(message)
        if self.error_recorder is not None:
            self.error_recorder.report_error(ErrorCodeTRT.INVALID_ARGUMENT, message)
        else:
            self._logger.log(Severity.ERROR, message)

    # Inputs, outputs, layers
    def add_input(self, name: str, dtype: DataType, shape: Sequence[int]) -> ITensor:
        tensor = self._tensor_class(self, name, None, shape=shape, dtype=dtype)
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

    # Layer factories (argument names as in the real API; G108:916-917 for add_deconvolution_nd)
    def add_deconvolution_nd(self, input: ITensor, num_output_maps: int, kernel_shape: Sequence[int],
                             kernel: Weights, bias: Weights | None = None) -> IDeconvolutionLayer:
        return self._add(IDeconvolutionLayer(self, input, num_output_maps, kernel_shape, _weights(kernel, self._api),
                                             None if bias is None else _weights(bias, self._api)))

    def add_slice(self, input: ITensor, start: Sequence[int], shape: Sequence[int],
                  stride: Sequence[int]) -> ISliceLayer:
        return self._add(self._slice_class(self, input, start, shape, stride))

    def get_flag(self, flag: Any) -> bool:
        """From 10.0 (pyGraph.cpp@release/10.0); the stand-in's networks are weakly typed before 11, strongly
        typed in 11 (H110:263)."""
        return self._api.strongly_typed and getattr(flag, "name", "") == "STRONGLY_TYPED"

    def add_constant(self, shape: Sequence[int], weights: Weights) -> IConstantLayer:
        return self._add(IConstantLayer(self, shape, _weights(weights, self._api)))

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


class NetworkDefinitionCreationFlag(enum.Enum):
    """Members by version (the stubs of 8.6.1, 10.x and 11.4.0.106): EXPLICIT_PRECISION only in 8.x,
    STRONGLY_TYPED from 10.0, EXPLICIT_BATCH gone in 11."""

    EXPLICIT_BATCH = 0
    EXPLICIT_PRECISION = 1
    STRONGLY_TYPED = 2


_CREATION_FLAGS = {"8": ("EXPLICIT_BATCH", "EXPLICIT_PRECISION"), "10": ("EXPLICIT_BATCH", "STRONGLY_TYPED"),
                   "11": ("STRONGLY_TYPED",)}


class _Absent:
    """A member the emulated version does not have: reading it raises AttributeError, as on the real module."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name
        self._owner = owner.__name__

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        raise AttributeError(f"'tensorrt.{getattr(self, '_owner', 'object')}' object has no attribute '{self._name}'")


class Builder:
    """trt.Builder, only for `create_network` (the stand-in builds no engines)."""

    _network_class: ClassVar[type[INetworkDefinition]] = INetworkDefinition

    def __init__(self, logger: ILogger) -> None:
        self._logger = logger
        self.error_recorder: IErrorRecorder | None = None

    @property
    def logger(self) -> ILogger:
        return self._logger

    def create_network(self, flags: int = 0) -> INetworkDefinition:
        network = self._network_class(self._logger)
        network.error_recorder = self.error_recorder
        return network


def api_errors(network: INetworkDefinition) -> list[str]:
    """Every API usage error the network reported (to its error recorder or logger), oldest first."""
    return list(network._api_errors)


_CLASSES: dict[ApiVersion, dict[str, Any]] = {}


def _version_classes(api: ApiVersion) -> dict[str, Any]:
    """The classes whose behaviour depends on the version, made once per emulated version."""
    if api in _CLASSES:
        return _CLASSES[api]
    tensor_class = _StronglyTypedTensor if api.strongly_typed else ITensor
    weights = type("Weights", (Weights,), {"_api": api, "__module__": "tensorrt"})
    members: dict[str, Any] = {"_api": api, "_tensor_class": tensor_class, "__module__": "tensorrt"}
    if not api.squeeze_layers:
        members.update(add_squeeze=_Absent(), add_unsqueeze=_Absent())
    if api.major_minor < (10, 0):
        members.update(get_flag=_Absent())  # INetworkDefinition.get_flag from 10.0 (pyGraph.cpp@release/10.0)
    slice_class = ISliceLayer
    if api.major_minor < (10, 3):  # ISliceLayer.axes from 10.3 (include/NvInfer.h@release/10.3; not @release/10.2)
        slice_class = type("ISliceLayer", (ISliceLayer,), {"axes": _Absent(), "__module__": "tensorrt"})
    members["_slice_class"] = slice_class
    network = type("INetworkDefinition", (INetworkDefinition,), members)
    builder = type("Builder", (Builder,), {"_network_class": network, "__module__": "tensorrt"})
    _CLASSES[api] = {"Weights": weights, "INetworkDefinition": network, "Builder": builder, "ITensor": tensor_class,
                     "ISliceLayer": slice_class}
    return _CLASSES[api]


def _weights_class(api: ApiVersion) -> type[Weights]:
    return _version_classes(api)["Weights"]  # type: ignore[no-any-return]


def _enum_namespace(name: str, members: dict[str, enum.Enum]) -> type:
    """A class holding only the members an emulated version has (the values stay the shared members)."""
    namespace: dict[str, Any] = dict(members)
    namespace["__members__"] = dict(members)
    namespace["__module__"] = "tensorrt"
    return type(name, (), namespace)


def tensorrt_module(version: str = DEFAULT_VERSION) -> types.ModuleType:
    """A module to install as sys.modules["tensorrt"] in a test (never in the package), emulating `version`."""
    api = api_version(version)
    module = types.ModuleType("tensorrt")
    # As the import system leaves a loaded module (so `import tensorrt` inside a function is as cheap
    # as for the real one: without it, every such import raises and clears an AttributeError).
    module.__spec__ = importlib.machinery.ModuleSpec("tensorrt", None)
    module.__spec__._initializing = False  # type: ignore[attr-defined]
    # A local version label, so every report that names the library in use says it was the stand-in.
    module.__version__ = f"{api.version}+standin"  # type: ignore[attr-defined]
    module._standin_api = api  # type: ignore[attr-defined]
    layer_types = _LAYER_TYPES + (("SQUEEZE", "UNSQUEEZE") if api.squeeze_layers else ())
    data_types = _DATA_TYPES["8.6" if not api.int64 else "10.0"]
    module.LayerType = _enum_namespace("LayerType", {n: LayerType[n] for n in layer_types})  # type: ignore[attr-defined]
    module.DataType = _enum_namespace("DataType", {n: DataType[n] for n in data_types})  # type: ignore[attr-defined]
    flags = _CREATION_FLAGS[str(api.major_minor[0])]
    module.NetworkDefinitionCreationFlag = _enum_namespace(  # type: ignore[attr-defined]
        "NetworkDefinitionCreationFlag", {n: NetworkDefinitionCreationFlag[n] for n in flags}
    )
    for value in (PaddingMode, SampleMode, ElementWiseOperation, ErrorCodeTRT, Dims, Permutation, ILayer,
                  IDeconvolutionLayer, ISliceLayer, IConstantLayer, IElementWiseLayer, IShuffleLayer, IShapeLayer,
                  ILogger, Logger, IErrorRecorder):
        setattr(module, value.__name__, value)
    if api.squeeze_layers:
        module.IUnsqueezeLayer = IUnsqueezeLayer  # type: ignore[attr-defined]
        module.ISqueezeLayer = ISqueezeLayer  # type: ignore[attr-defined]
    for name, value in _version_classes(api).items():
        setattr(module, name, value)
    module.float32 = DataType.FLOAT  # type: ignore[attr-defined]
    module.float16 = DataType.HALF  # type: ignore[attr-defined]
    module.int32 = DataType.INT32  # type: ignore[attr-defined]
    if api.int64:
        module.int64 = DataType.INT64  # type: ignore[attr-defined]
    return module


def install(monkeypatch: Any, module: types.ModuleType | None = None) -> types.ModuleType:
    """Install a stand-in module (default: the default version) as the TensorRT the package uses, for one test:
    sys.modules["tensorrt"], with Polygraphy's TensorRT-RTX switch off for the test (the package takes TensorRT
    through lazy_import_trt(), tests/conftest.py)."""
    from polygraphy import config

    module = module or tensorrt_module()
    monkeypatch.setitem(sys.modules, "tensorrt", module)
    monkeypatch.setattr(config, "USE_TENSORRT_RTX", False)
    return module
