"""A `tensorrt` module over TensorRT-RTX: the subset of the Python API that polygraphy_deconv and these tests use.

The official bindings cannot run on TensorRT-RTX (TensorRT 10's IBuilder vtable differs: `create_network`
segfaults), so this facade reproduces the bindings' behaviour member by member over the real C++ objects
(tests/rtx/native.py). Each member cites the binding it reproduces, NVIDIA/TensorRT@release/10.8:
python/src/infer/pyGraph.cpp (pyGraph), python/src/infer/pyFoundationalTypes.cpp (pyFT),
python/include/utils.h and python/src/utils.cpp (utils). What the bindings do and this reproduces:

- getters of Dims return a `Dims` (pyGraph:357 ITensor.shape, :506-515 deconvolution, :645-650 slice);
  indexing a Dims gives an int, slicing it a tuple (pyFT:99-116), and it compares equal to tuples/lists
  (pyFT:243-244); lists and tuples are accepted where a Dims is expected (pyFT:255);
- weights getters return a numpy array that views TensorRT's memory, empty when unset, and a
  `Weights` when numpy has no such type (BF16, FP8, INT4, FP4) (utils.h:53-62, utils.cpp:53-72);
  `Weights(array)` keeps a pointer to the array, zero-copy (pyFT:40-47, 220), and setters keep the Weights
  alive with the layer (pyGraph:510-511 keep_alive<1, 2>);
- `get_input` returns None for an unset optional input (pyGraph:385, a null ITensor* becomes None);
- `get_layer` hands out an ILayer; callers cast with `layer.__class__ = IDeconvolutionLayer` (as Polygraphy
  does), and each pointer keeps one Python object, as pybind11's instance registry does.

TensorRT-RTX networks are strongly typed: ITensor has no setType, so `dtype` is read-only here (TensorRT 11's
bindings make it read-only too). A method TensorRT-RTX lacks raises `native.MissingMethod` with its name.
"""

from __future__ import annotations

import ctypes
import enum
import sys
import types
from typing import Any

import numpy as np

from tests.rtx import native
from tests.rtx.native import CWeights, Dims64, MissingMethod, method, word

# The bindings this facade reproduces: NVIDIA/TensorRT@release/10.8 (TensorRT-RTX 1.7.1 has TensorRT 10's
# interfaces; its own getInferLibVersion() is 10701, i.e. 1.7.1).
__version__ = "10.8.0"

_ref = ctypes.c_void_p  # a reference or pointer argument (ITensor&, Dims64 const&, ...)
_i32, _i64, _u32 = ctypes.c_int32, ctypes.c_int64, ctypes.c_uint32


# -- enums: numbers as in include/NvInfer.h and NvInferRuntimeBase.h @release/10.8 --------------------------


class LayerType(enum.IntEnum):  # NvInfer.h@release/10.8:57-107
    CONVOLUTION = 0
    CAST = 1
    ACTIVATION = 2
    POOLING = 3
    LRN = 4
    SCALE = 5
    SOFTMAX = 6
    DECONVOLUTION = 7
    CONCATENATION = 8
    ELEMENTWISE = 9
    PLUGIN = 10
    UNARY = 11
    PADDING = 12
    SHUFFLE = 13
    REDUCE = 14
    TOPK = 15
    GATHER = 16
    MATRIX_MULTIPLY = 17
    RAGGED_SOFTMAX = 18
    CONSTANT = 19
    IDENTITY = 20
    PLUGIN_V2 = 21
    SLICE = 22
    SHAPE = 23
    PARAMETRIC_RELU = 24
    RESIZE = 25
    TRIP_LIMIT = 26
    RECURRENCE = 27
    ITERATOR = 28
    LOOP_OUTPUT = 29
    SELECT = 30
    FILL = 31
    QUANTIZE = 32
    DEQUANTIZE = 33
    CONDITION = 34
    CONDITIONAL_INPUT = 35
    CONDITIONAL_OUTPUT = 36
    SCATTER = 37
    EINSUM = 38
    ASSERTION = 39
    ONE_HOT = 40
    NON_ZERO = 41
    GRID_SAMPLE = 42
    NMS = 43
    REVERSE_SEQUENCE = 44
    NORMALIZATION = 45
    PLUGIN_V3 = 46
    SQUEEZE = 47
    UNSQUEEZE = 48


class ElementWiseOperation(enum.IntEnum):  # NvInfer.h@release/10.8:2418
    SUM = 0
    PROD = 1
    MAX = 2
    MIN = 3
    SUB = 4
    DIV = 5
    POW = 6
    FLOOR_DIV = 7
    AND = 8
    OR = 9
    XOR = 10
    EQUAL = 11
    GREATER = 12
    LESS = 13


class SampleMode(enum.IntEnum):  # NvInfer.h@release/10.8:3219
    STRICT_BOUNDS = 0
    WRAP = 1
    CLAMP = 2
    FILL = 3
    REFLECT = 4


class PaddingMode(enum.IntEnum):  # NvInfer.h@release/10.8:992
    EXPLICIT_ROUND_DOWN = 0
    EXPLICIT_ROUND_UP = 1
    SAME_UPPER = 2
    SAME_LOWER = 3


class DataType(enum.IntEnum):  # NvInferRuntimeBase.h@release/10.8:132
    FLOAT = 0
    HALF = 1
    INT8 = 2
    INT32 = 3
    BOOL = 4
    UINT8 = 5
    FP8 = 6
    BF16 = 7
    INT64 = 8
    INT4 = 9
    FP4 = 10


class NetworkDefinitionCreationFlag(enum.IntEnum):  # NvInfer.h@release/10.8 (STRONGLY_TYPED = 1)
    EXPLICIT_BATCH = 0
    STRONGLY_TYPED = 1


# numpy dtype per DataType, None where numpy has none (utils.cpp@release/10.8:53-72)
_NUMPY = {
    DataType.FLOAT: np.dtype("f4"),
    DataType.HALF: np.dtype("f2"),
    DataType.INT8: np.dtype("i1"),
    DataType.INT32: np.dtype("i4"),
    DataType.INT64: np.dtype("i8"),
    DataType.BOOL: np.dtype("b1"),
    DataType.UINT8: np.dtype("u1"),
}
_FROM_NUMPY = {dtype: kind for kind, dtype in _NUMPY.items()}


# -- foundational types ---------------------------------------------------------------------------------


class Dims:
    """trt.Dims (pyFT:232-255): a shape; int per index, tuple per slice, equal to tuples and lists."""

    MAX_DIMS = native.MAX_DIMS

    def __init__(self, shape: Any = ()) -> None:
        self._values = tuple(int(v) for v in shape)
        if len(self._values) > native.MAX_DIMS:
            raise ValueError(f"a Dims holds at most {native.MAX_DIMS} values")

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, index: Any) -> Any:
        return self._values[index]  # a slice gives a tuple (pyFT:106-116), an index an int (pyFT:99-104)

    def __iter__(self) -> Any:
        return iter(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Dims):
            return self._values == other._values
        if isinstance(other, (tuple, list)):
            return self._values == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values)

    def __repr__(self) -> str:
        return repr(self._values)

    def native(self) -> Dims64:
        return Dims64.of(self._values)


def _dims_in(value: Any) -> Dims64:
    return value.native() if isinstance(value, Dims) else Dims64.of(value)


class Weights:
    """trt.Weights (pyFT:214-228): empty of a type, or a zero-copy view of a contiguous numpy array."""

    def __init__(self, a: Any = None) -> None:
        if a is None or isinstance(a, (DataType, int)):
            self._array: np.ndarray | None = None
            self.dtype = DataType(a or DataType.FLOAT)
            self._native = CWeights(int(self.dtype), None, 0)
            return
        array = np.asarray(a)
        if array.dtype not in _FROM_NUMPY:
            raise TypeError("Could not convert NumPy array to Weights. Is it using a data type supported by TensorRT?")
        if not array.flags.c_contiguous:
            raise ValueError("Could not convert non-contiguous NumPy array to Weights.")
        self._array = array
        self.dtype = _FROM_NUMPY[array.dtype]
        self._native = CWeights(int(self.dtype), array.ctypes.data, array.size)

    @classmethod
    def _view(cls, native_weights: CWeights, owner: Any) -> Weights:
        weights = cls.__new__(cls)
        weights._array = None
        weights.dtype = DataType(native_weights.type)
        weights._native = CWeights(native_weights.type, native_weights.values, native_weights.count)
        weights._owner = owner
        return weights

    @property
    def size(self) -> int:
        return int(self._native.count)

    def __len__(self) -> int:
        return self.size

    def numpy(self) -> Any:
        return _weights_to_numpy(self._native, self)


def _weights_to_numpy(weights: CWeights, owner: Any) -> Any:
    """utils.h@release/10.8:53-62: a numpy view of the weights, or the Weights where numpy has no such type."""
    dtype = _NUMPY.get(DataType(weights.type))
    if dtype is None:
        return Weights._view(weights, owner)
    if weights.count == 0 or not weights.values:
        return np.empty((0,), dtype=dtype)
    buffer = (ctypes.c_char * (int(weights.count) * dtype.itemsize)).from_address(weights.values)
    return np.frombuffer(buffer, dtype=dtype, count=int(weights.count))


def _weights_in(value: Any) -> Weights:
    return value if isinstance(value, Weights) else Weights(value)  # pyFT:231 implicitly_convertible


class Permutation:
    """trt.Permutation: int32 order[8] (NvInfer.h@release/10.8 struct Permutation)."""

    def __init__(self, order: Any = ()) -> None:
        self._order = tuple(int(v) for v in order)

    def __getitem__(self, index: int) -> int:
        return self._order[index]

    def __len__(self) -> int:
        return len(self._order)


class _Permutation(ctypes.Structure):
    _fields_ = [("order", ctypes.c_int32 * native.MAX_DIMS)]


# -- calls on TensorRT-RTX's implementations --------------------------------------------------------------


class _Calls:
    """Resolved once: each method's slot, looked up by name and signature in TensorRT-RTX's vtables."""

    def __init__(self) -> None:
        m = method
        self.tensor_set_name = m("Tensor", "setName(char const*)", None, ctypes.c_char_p)
        self.tensor_get_name = m("Tensor", "getName()", ctypes.c_char_p)
        self.tensor_get_dimensions = m("Tensor", "getDimensions()", Dims64)
        self.tensor_get_type = m("Tensor", "getType()", _i32)
        self.tensor_is_input = m("Tensor", "isNetworkInput()", ctypes.c_bool)
        self.tensor_is_output = m("Tensor", "isNetworkOutput()", ctypes.c_bool)
        self.layer_get_type = m("Layer", "getType()", _i32)
        self.layer_set_name = m("Layer", "setName(char const*)", None, ctypes.c_char_p)
        self.layer_get_name = m("Layer", "getName()", ctypes.c_char_p)
        self.layer_nb_inputs = m("Layer", "getNbInputs()", _i32)
        self.layer_get_input = m("Layer", "getInput(int)", ctypes.c_void_p, _i32)
        self.layer_nb_outputs = m("Layer", "getNbOutputs()", _i32)
        self.layer_get_output = m("Layer", "getOutput(int)", ctypes.c_void_p, _i32)
        self.layer_set_input = m("Layer", "setInput(int, ITensor&)", None, _i32, _ref)
        n = "NetworkDefinition"
        self.net_add_input = m(n, "addInput(char const*, DataType, Dims64 const&)", ctypes.c_void_p, ctypes.c_char_p, _i32, _ref)
        self.net_mark_output = m(n, "markOutput(ITensor&)", None, _ref)
        self.net_unmark_output = m(n, "unmarkOutput(ITensor&)", None, _ref)
        self.net_nb_layers = m(n, "getNbLayers()", _i32)
        self.net_get_layer = m(n, "getLayer(int)", ctypes.c_void_p, _i32)
        self.net_nb_inputs = m(n, "getNbInputs()", _i32)
        self.net_get_input = m(n, "getInput(int)", ctypes.c_void_p, _i32)
        self.net_nb_outputs = m(n, "getNbOutputs()", _i32)
        self.net_get_output = m(n, "getOutput(int)", ctypes.c_void_p, _i32)
        self.net_add_elementwise = m(n, "addElementWise(ITensor&, ITensor&, ElementWiseOperation)", ctypes.c_void_p, _ref, _ref, _i32)
        self.net_add_shuffle = m(n, "addShuffle(ITensor&)", ctypes.c_void_p, _ref)
        self.net_add_constant = m(n, "addConstant(Dims64 const&, Weights)", ctypes.c_void_p, _ref, CWeights)
        self.net_add_identity = m(n, "addIdentity(ITensor&)", ctypes.c_void_p, _ref)
        self.net_add_slice = m(n, "addSlice(ITensor&, Dims64 const&, Dims64 const&, Dims64 const&)", ctypes.c_void_p, _ref, _ref, _ref, _ref)
        self.net_add_shape = m(n, "addShape(ITensor&)", ctypes.c_void_p, _ref)
        self.net_add_deconvolution = m(
            n, "addDeconvolutionNd(ITensor&, long, Dims64 const&, Weights, Weights)", ctypes.c_void_p, _ref, _i64, _ref, CWeights, CWeights
        )
        self.net_add_cast = m(n, "addCast(ITensor&, DataType)", ctypes.c_void_p, _ref, _i32)
        self.net_add_squeeze = m(n, "addSqueeze(ITensor&, ITensor&)", ctypes.c_void_p, _ref, _ref)
        self.net_add_unsqueeze = m(n, "addUnsqueeze(ITensor&, ITensor&)", ctypes.c_void_p, _ref, _ref)
        self.net_get_flag = m(n, "getFlag(NetworkDefinitionCreationFlag)", ctypes.c_bool, _i32)
        d = "DeconvolutionLayer"
        self.deconv_set_maps = m(d, "setNbOutputMaps(long)", None, _i64)
        self.deconv_get_maps = m(d, "getNbOutputMaps()", _i64)
        self.deconv_get_groups = m(d, "getNbGroups()", _i64)
        self.deconv_set_groups = m(d, "setNbGroups(long)", None, _i64)
        self.deconv_get_kernel = m(d, "getKernelWeights()", CWeights)
        self.deconv_set_kernel = m(d, "setKernelWeights(Weights)", None, CWeights)
        self.deconv_get_bias = m(d, "getBiasWeights()", CWeights)
        self.deconv_set_bias = m(d, "setBiasWeights(Weights)", None, CWeights)
        self.deconv_dims = {
            name: (m(d, f"get{name}()", Dims64), m(d, f"set{name}(Dims64 const&)", None, _ref))
            for name in ("PrePadding", "PostPadding", "KernelSizeNd", "StrideNd", "PaddingNd", "DilationNd")
        }
        self.deconv_get_mode = m(d, "getPaddingMode()", _i32)
        self.deconv_set_mode = m(d, "setPaddingMode(PaddingMode)", None, _i32)
        s = "SliceLayer"
        self.slice_dims = {
            name: (m(s, f"get{name}()", Dims64), m(s, f"set{name}(Dims64 const&)", None, _ref))
            for name in ("Start", "Size", "Stride", "Axes")
        }
        self.slice_get_mode = m(s, "getMode()", _i32)
        self.slice_set_mode = m(s, "setMode(SampleMode)", None, _i32)
        h = "ShuffleLayer"
        self.shuffle_get_reshape = m(h, "getReshapeDimensions()", Dims64)
        self.shuffle_set_reshape = m(h, "setReshapeDimensions(Dims64 const&)", None, _ref)
        self.shuffle_get_zero = m(h, "getZeroIsPlaceholder()", ctypes.c_bool)
        self.shuffle_set_zero = m(h, "setZeroIsPlaceholder(bool)", None, ctypes.c_bool)
        # Permutation const& getFirstTranspose() (NvInferImpl.h@release/10.8:716, 720): a pointer comes back
        self.shuffle_get_first = m(h, "getFirstTranspose()", ctypes.POINTER(_Permutation))
        self.shuffle_get_second = m(h, "getSecondTranspose()", ctypes.POINTER(_Permutation))
        c = "ConstantLayer"
        self.constant_get_weights = m(c, "getWeights()", CWeights)
        self.constant_get_dims = m(c, "getDimensions()", Dims64)
        self.elementwise_get_op = m("ElementWiseLayer", "getOperation()", _i32)
        self.elementwise_set_op = m("ElementWiseLayer", "setOperation(ElementWiseOperation)", None, _i32)
        self.cast_get_type = m("CastLayer", "getToType()", _i32)
        self.concat_get_axis = m("ConcatenationLayer", "getAxis()", _i32)
        self.gather_get_axis = m("GatherLayer", "getGatherAxis()", _i32)
        self.gather_get_mode = m("GatherLayer", "getMode()", _i32)
        self.profile_set_dims = m(
            "OptimizationProfile", "setDimensions(char const*, OptProfileSelector, Dims64 const&)", ctypes.c_bool,
            ctypes.c_char_p, _i32, _ref,
        )
        self.config_add_profile = m("BuilderConfig", "addOptimizationProfile(IOptimizationProfile const*)", _i32, _ref)
        self.builder_create_profile = m("Builder", "createOptimizationProfile()", ctypes.c_void_p)
        b = "Builder"
        self.builder_create_config = m(b, "createBuilderConfig()", ctypes.c_void_p)
        self.builder_create_network = m(b, "createNetworkV2(unsigned int)", ctypes.c_void_p, _u32)
        self.builder_build = m(b, "buildSerializedNetwork(INetworkDefinition&, IBuilderConfig&)", ctypes.c_void_p, _ref, _ref)


_calls: _Calls | None = None


def _c() -> _Calls:
    global _calls
    if _calls is None:
        _calls = _Calls()
    return _calls


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode("utf-8", "replace")


# -- network objects --------------------------------------------------------------------------------------


class _Registry:
    """One Python object per C++ pointer for a network (pybind11's instance registry does the same), and the
    Weights its layers point into (pyGraph keep_alive<1, 2>)."""

    def __init__(self) -> None:
        self.objects: dict[int, Any] = {}
        self.keep: list[Any] = []

    def wrap(self, cls: type, address: int | None) -> Any:
        if not address:
            return None
        found = self.objects.get(address)
        if found is None:
            found = self.objects[address] = cls.__new__(cls)
            found._address = address
            found._registry = self
            # A public object's implementation pointers never change: read them once (word 1: mImpl or
            # ILayer::mLayer; word 2: a layer subclass's own mImpl).
            found._impl = word(address, 1)
            found._own = word(address, 2) if issubclass(cls, ILayer) else 0
        return found


class ITensor:
    """pyGraph:355-372."""

    _address: int
    _registry: _Registry

    _impl: int

    @property
    def name(self) -> str:
        return _text(_c().tensor_get_name(self._impl))

    @name.setter
    def name(self, value: str) -> None:
        _c().tensor_set_name(self._impl, value.encode())

    @property
    def shape(self) -> Dims:
        return Dims(_c().tensor_get_dimensions(self._impl).values())

    @property
    def dtype(self) -> DataType:
        return DataType(_c().tensor_get_type(self._impl))

    @dtype.setter
    def dtype(self, value: DataType) -> None:
        raise MissingMethod("TensorRT-RTX's apiv::VTensor has no method setType (its networks are strongly typed)")

    @property
    def is_network_input(self) -> bool:
        return bool(_c().tensor_is_input(self._impl))

    @property
    def is_network_output(self) -> bool:
        return bool(_c().tensor_is_output(self._impl))

    def __repr__(self) -> str:
        return f"ITensor({self.name!r}, {self.shape})"


class ILayer:
    """pyGraph:375-392; `type` is read-only (pyGraph:379)."""

    _address: int
    _registry: _Registry

    _impl: int  # ILayer::mLayer (NvInfer.h@release/10.8:833)
    _own: int  # the subclass's mImpl, after mLayer (e.g. NvInfer.h@release/10.8:2401); 0 for other objects

    @property
    def type(self) -> LayerType:
        return LayerType(_c().layer_get_type(self._impl))

    @property
    def name(self) -> str:
        return _text(_c().layer_get_name(self._impl))

    @name.setter
    def name(self, value: str) -> None:
        _c().layer_set_name(self._impl, value.encode())

    @property
    def num_inputs(self) -> int:
        return int(_c().layer_nb_inputs(self._impl))

    @property
    def num_outputs(self) -> int:
        return int(_c().layer_nb_outputs(self._impl))

    def get_input(self, index: int) -> ITensor | None:
        return self._registry.wrap(ITensor, _c().layer_get_input(self._impl, index))

    def get_output(self, index: int) -> ITensor | None:
        return self._registry.wrap(ITensor, _c().layer_get_output(self._impl, index))

    def set_input(self, index: int, tensor: ITensor) -> None:
        _c().layer_set_input(self._impl, index, tensor._address)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.type.name})"


def _dims_property(table: str, name: str) -> property:
    def get(self: ILayer) -> Dims:
        return Dims(getattr(_c(), table)[name][0](self._own).values())

    def set(self: ILayer, value: Any) -> None:
        dims = _dims_in(value)
        getattr(_c(), table)[name][1](self._own, ctypes.addressof(dims))

    return property(get, set)


class IDeconvolutionLayer(ILayer):
    """pyGraph:504-516."""

    pre_padding = _dims_property("deconv_dims", "PrePadding")
    post_padding = _dims_property("deconv_dims", "PostPadding")
    kernel_size_nd = _dims_property("deconv_dims", "KernelSizeNd")
    stride_nd = _dims_property("deconv_dims", "StrideNd")
    padding_nd = _dims_property("deconv_dims", "PaddingNd")
    dilation_nd = _dims_property("deconv_dims", "DilationNd")

    @property
    def num_output_maps(self) -> int:
        return int(_c().deconv_get_maps(self._own))

    @num_output_maps.setter
    def num_output_maps(self, value: int) -> None:
        _c().deconv_set_maps(self._own, int(value))

    @property
    def num_groups(self) -> int:
        return int(_c().deconv_get_groups(self._own))

    @num_groups.setter
    def num_groups(self, value: int) -> None:
        _c().deconv_set_groups(self._own, int(value))

    @property
    def padding_mode(self) -> PaddingMode:
        return PaddingMode(_c().deconv_get_mode(self._own))

    @padding_mode.setter
    def padding_mode(self, value: PaddingMode) -> None:
        _c().deconv_set_mode(self._own, int(value))

    @property
    def kernel(self) -> Any:
        return _weights_to_numpy(_c().deconv_get_kernel(self._own), self)

    @kernel.setter
    def kernel(self, value: Any) -> None:
        weights = _weights_in(value)
        self._registry.keep.append(weights)
        _c().deconv_set_kernel(self._own, weights._native)

    @property
    def bias(self) -> Any:
        return _weights_to_numpy(_c().deconv_get_bias(self._own), self)

    @bias.setter
    def bias(self, value: Any) -> None:
        weights = _weights_in(value)
        self._registry.keep.append(weights)
        _c().deconv_set_bias(self._own, weights._native)


class ISliceLayer(ILayer):
    """pyGraph:643-651 (start, shape = getSize, stride, mode, axes)."""

    start = _dims_property("slice_dims", "Start")
    shape = _dims_property("slice_dims", "Size")
    stride = _dims_property("slice_dims", "Stride")
    axes = _dims_property("slice_dims", "Axes")

    @property
    def mode(self) -> SampleMode:
        return SampleMode(_c().slice_get_mode(self._own))

    @mode.setter
    def mode(self, value: SampleMode) -> None:
        _c().slice_set_mode(self._own, int(value))


class IShuffleLayer(ILayer):
    """pyGraph:634-642."""

    @property
    def reshape_dims(self) -> Dims:
        return Dims(_c().shuffle_get_reshape(self._own).values())

    @reshape_dims.setter
    def reshape_dims(self, value: Any) -> None:
        dims = _dims_in(value)
        _c().shuffle_set_reshape(self._own, ctypes.addressof(dims))

    @property
    def zero_is_placeholder(self) -> bool:
        return bool(_c().shuffle_get_zero(self._own))

    @zero_is_placeholder.setter
    def zero_is_placeholder(self, value: bool) -> None:
        _c().shuffle_set_zero(self._own, bool(value))

    @property
    def first_transpose(self) -> Permutation:
        return Permutation(_c().shuffle_get_first(self._own).contents.order)

    @property
    def second_transpose(self) -> Permutation:
        return Permutation(_c().shuffle_get_second(self._own).contents.order)


class IConstantLayer(ILayer):
    """pyGraph:699-703."""

    @property
    def weights(self) -> Any:
        return _weights_to_numpy(_c().constant_get_weights(self._own), self)

    @property
    def shape(self) -> Dims:
        return Dims(_c().constant_get_dims(self._own).values())


class IElementWiseLayer(ILayer):
    """pyGraph:535-538."""

    @property
    def op(self) -> ElementWiseOperation:
        return ElementWiseOperation(_c().elementwise_get_op(self._own))

    @op.setter
    def op(self, value: ElementWiseOperation) -> None:
        _c().elementwise_set_op(self._own, int(value))


class ICastLayer(ILayer):
    """pyGraph:695-698."""

    @property
    def to_type(self) -> DataType:
        return DataType(_c().cast_get_type(self._own))


class IConcatenationLayer(ILayer):
    """pyGraph: IConcatenationLayer.axis."""

    @property
    def axis(self) -> int:
        return int(_c().concat_get_axis(self._own))


class IGatherLayer(ILayer):
    """pyGraph: IGatherLayer.axis, mode (GatherMode.DEFAULT = 0)."""

    @property
    def axis(self) -> int:
        return int(_c().gather_get_axis(self._own))

    @property
    def mode(self) -> int:
        return int(_c().gather_get_mode(self._own))


class IShapeLayer(ILayer):
    pass


class IIdentityLayer(ILayer):
    pass


class ISqueezeLayer(ILayer):
    pass


class IUnsqueezeLayer(ILayer):
    pass


class INetworkDefinition:
    """pyGraph:882-1035."""

    _address: int
    _registry: _Registry

    _impl: int

    @property
    def num_layers(self) -> int:
        return int(_c().net_nb_layers(self._impl))

    @property
    def num_inputs(self) -> int:
        return int(_c().net_nb_inputs(self._impl))

    @property
    def num_outputs(self) -> int:
        return int(_c().net_nb_outputs(self._impl))

    def get_layer(self, index: int) -> ILayer:
        return self._registry.wrap(ILayer, _c().net_get_layer(self._impl, index))

    def get_input(self, index: int) -> ITensor:
        return self._registry.wrap(ITensor, _c().net_get_input(self._impl, index))

    def get_output(self, index: int) -> ITensor:
        return self._registry.wrap(ITensor, _c().net_get_output(self._impl, index))

    def __getitem__(self, index: int) -> ILayer:  # pyGraph:205-212
        if index < 0:
            index += self.num_layers
        if not 0 <= index < self.num_layers:
            raise IndexError(index)
        return self.get_layer(index)

    def __len__(self) -> int:
        return self.num_layers

    def get_flag(self, flag: NetworkDefinitionCreationFlag) -> bool:
        return bool(_c().net_get_flag(self._impl, int(flag)))

    def mark_output(self, tensor: ITensor) -> None:
        _c().net_mark_output(self._impl, tensor._address)

    def unmark_output(self, tensor: ITensor) -> None:
        _c().net_unmark_output(self._impl, tensor._address)

    def _layer(self, cls: type, address: int | None) -> Any:
        if not address:
            raise RuntimeError(f"TensorRT-RTX refused to add a {cls.__name__} (see the logger's errors)")
        return self._registry.wrap(cls, address)

    def add_input(self, name: str, dtype: DataType, shape: Any) -> ITensor:
        dims = _dims_in(shape)
        tensor = _c().net_add_input(self._impl, name.encode(), int(dtype), ctypes.addressof(dims))
        return self._registry.wrap(ITensor, tensor)

    def add_elementwise(self, input1: ITensor, input2: ITensor, op: ElementWiseOperation) -> IElementWiseLayer:
        return self._layer(IElementWiseLayer, _c().net_add_elementwise(self._impl, input1._address, input2._address, int(op)))

    def add_shuffle(self, input: ITensor) -> IShuffleLayer:
        return self._layer(IShuffleLayer, _c().net_add_shuffle(self._impl, input._address))

    def add_identity(self, input: ITensor) -> IIdentityLayer:
        return self._layer(IIdentityLayer, _c().net_add_identity(self._impl, input._address))

    def add_constant(self, shape: Any, weights: Any) -> IConstantLayer:
        weights = _weights_in(weights)
        dims = _dims_in(shape)  # held until the call returns: ctypes.addressof alone does not keep it alive
        layer = self._layer(IConstantLayer, _c().net_add_constant(self._impl, ctypes.addressof(dims), weights._native))
        self._registry.keep.append(weights)  # pyGraph:945-947 keep_alive<1, 3>
        return layer

    def add_slice(self, input: ITensor, start: Any, shape: Any, stride: Any) -> ISliceLayer:
        a, b, c = _dims_in(start), _dims_in(shape), _dims_in(stride)
        address = _c().net_add_slice(self._impl, input._address, ctypes.addressof(a), ctypes.addressof(b), ctypes.addressof(c))
        return self._layer(ISliceLayer, address)

    def add_shape(self, input: ITensor) -> IShapeLayer:
        return self._layer(IShapeLayer, _c().net_add_shape(self._impl, input._address))

    def add_cast(self, input: ITensor, to_type: DataType) -> ICastLayer:
        return self._layer(ICastLayer, _c().net_add_cast(self._impl, input._address, int(to_type)))

    def add_squeeze(self, input: ITensor, axes: ITensor) -> ISqueezeLayer:
        return self._layer(ISqueezeLayer, _c().net_add_squeeze(self._impl, input._address, axes._address))

    def add_unsqueeze(self, input: ITensor, axes: ITensor) -> IUnsqueezeLayer:
        return self._layer(IUnsqueezeLayer, _c().net_add_unsqueeze(self._impl, input._address, axes._address))

    def add_deconvolution_nd(
        self, input: ITensor, num_output_maps: int, kernel_shape: Any, kernel: Any, bias: Any = None
    ) -> IDeconvolutionLayer:
        """pyGraph:174-181: a None bias is empty Weights of the kernel's type."""
        kernel_w = _weights_in(kernel)
        bias_w = Weights(kernel_w.dtype) if bias is None else _weights_in(bias)
        self._registry.keep.extend((kernel_w, bias_w))
        dims = _dims_in(kernel_shape)
        address = _c().net_add_deconvolution(
            self._impl, input._address, int(num_output_maps), ctypes.addressof(dims),
            kernel_w._native, bias_w._native,
        )
        return self._layer(IDeconvolutionLayer, address)


# -- logger, builder, parser -------------------------------------------------------------------------------


class Logger:
    """trt.Logger: keeps every message. TensorRT-RTX's ILogger is a versioned interface whose
    getInterfaceInfo returns a struct, so the C++ object is made by tests/rtx/logger.c."""

    INTERNAL_ERROR, ERROR, WARNING, INFO, VERBOSE = range(5)

    def __init__(self) -> None:
        self.messages: list[tuple[int, str]] = []
        self._sink = ctypes.CFUNCTYPE(None, _i32, ctypes.c_char_p)(self._log)
        self._object = (ctypes.c_void_p * 2)()
        native.libraries().logger.logger_init(ctypes.addressof(self._object), ctypes.cast(self._sink, ctypes.c_void_p))

    def _log(self, severity: int, message: bytes | None) -> None:
        self.messages.append((int(severity), _text(message)))

    @property
    def address(self) -> int:
        return ctypes.addressof(self._object)

    def errors(self) -> list[str]:
        return [text for severity, text in self.messages if severity <= self.ERROR]


class IBuilderConfig:
    _address: int

    def add_optimization_profile(self, profile: IOptimizationProfile) -> int:
        return int(_c().config_add_profile(word(self._address, 1), profile._address))


class IOptimizationProfile:
    """set_shape(input, min, opt, max) (pyCore: IOptimizationProfile.set_shape); OptProfileSelector kMIN 0,
    kOPT 1, kMAX 2 (NvInferRuntime.h@release/10.8)."""

    _address: int

    def set_shape(self, input: str, min: Any, opt: Any, max: Any) -> None:
        for selector, dims in enumerate((min, opt, max)):
            native_dims = _dims_in(dims)
            if not _c().profile_set_dims(word(self._address, 1), input.encode(), selector, ctypes.addressof(native_dims)):
                raise ValueError(f"TensorRT-RTX refused the profile shape {tuple(dims)} for input '{input}'")


class IHostMemory:
    """The serialized engine: its size read through apiv::VHostMemory::size (NvInferImpl.h@release/10.8:236-241)."""

    def __init__(self, address: int) -> None:
        self._address = address

    @property
    def nbytes(self) -> int:
        impl = word(self._address, 1)
        size = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p)(word(word(impl, 0), 3))
        return int(size(impl))


class Builder:
    """trt.Builder(logger) through createInferBuilder_INTERNAL (NvInfer.h@release/10.8 createInferBuilder)."""

    def __init__(self, logger: Logger) -> None:
        libraries = native.libraries()
        create = libraries.infer.createInferBuilder_INTERNAL
        create.restype, create.argtypes = ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_int32]
        self.logger = logger
        self._address = create(logger.address, native.INFER_VERSION)
        if not self._address:
            raise RuntimeError("createInferBuilder failed: " + "; ".join(logger.errors()))

    def create_network(self, flags: int = 0) -> INetworkDefinition:
        address = _c().builder_create_network(word(self._address, 1), flags)
        registry = _Registry()
        network = registry.wrap(INetworkDefinition, address)
        network._builder = self
        return network

    def create_builder_config(self) -> IBuilderConfig:
        config = IBuilderConfig()
        config._address = _c().builder_create_config(word(self._address, 1))
        return config

    def create_optimization_profile(self) -> IOptimizationProfile:
        profile = IOptimizationProfile()
        profile._address = _c().builder_create_profile(word(self._address, 1))
        return profile

    def build_serialized_network(self, network: INetworkDefinition, config: IBuilderConfig) -> IHostMemory | None:
        address = _c().builder_build(word(self._address, 1), network._address, config._address)
        return IHostMemory(address) if address else None


class OnnxParser:
    """trt.OnnxParser(network, logger) through createNvOnnxParser_INTERNAL. `parse` is slot 0 of
    nvonnxparser::IParser (onnx-tensorrt@10.1-GA:NvOnnxParser.h:195); the parser's errors are read from the
    logger, where it reports each of them."""

    def __init__(self, network: INetworkDefinition, logger: Logger) -> None:
        parser_library = native.libraries().parser
        version = parser_library.getNvOnnxParserVersion
        version.restype = ctypes.c_int32
        create = parser_library.createNvOnnxParser_INTERNAL
        create.restype, create.argtypes = ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32]
        self.logger = logger
        self.network = network
        self._address = create(network._address, logger.address, version())
        if not self._address:
            raise RuntimeError("createNvOnnxParser failed: " + "; ".join(logger.errors()))

    def parse(self, model: bytes, path: str | None = None) -> bool:
        self._model = model  # the parser may keep pointers into the buffer while the network lives
        prototype = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p)
        parse = prototype(word(word(self._address, 0), 0))
        return bool(parse(self._address, model, len(model), None if path is None else path.encode()))


def module() -> types.ModuleType:
    """This facade as a module object to install as `tensorrt` (sys.modules) for code under test."""
    native.libraries()  # raises Unavailable early, with the reason
    _c()
    return sys.modules[__name__]
