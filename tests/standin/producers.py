"""Builders of stand-in TensorRT networks, one per producer of deconvolutions, written from its source.

Each builder adds one ConvTranspose (ONNX attributes, PyTorch weight layout [C, K/group, *kernel]) the way
that producer does, to a fresh stand-in network with input "x" (and "B" for a tensor bias), marks the
result as output "y", and returns the network. `api` is the stand-in module of the TensorRT version to
build on (tests/standin/network.py `tensorrt_module`); by default the stand-in installed as `tensorrt`,
else the default version. One liberty, for every producer: the deconvolution layer is named after the
node (the ONNX parser does this; torch2trt leaves TensorRT's "(Unnamed Layer* n)" and Torch-TensorRT
names it "[DECONVOLUTION]-[<target>]-[<fx node>]", fx/converters/converter_utils.py@v2.7.0:101-125), so
the tests can match the layer to their node by name.

- `onnx_parser`: onnx-tensorrt's importConvTranspose (onnx/onnx-tensorrt@10.1-GA:onnxOpImporters.cpp:868-1114;
  the same steps in 8.6-GA:builtin_op_importers.cpp:754-): num_output_maps = W.shape[1] * group, CKRS weights
  (:929); output_shape (NOTSET only) goes through generatePadding, which splits the total with the odd element
  at the end, a negative pre-padding fails the parse (:993-995) and a negative post-padding becomes output
  padding (:997-1001); SAME_* use TensorRT's SAME mode and ignore output_padding and output_shape (:972,
  1008); with output_padding, post -= output_padding where that stays >= 0, else post 0 and the rest is
  an extension (:1005-1023): a bias-free deconvolution (:1031-1033), a FILL slice whose start and size are
  shape tensors, size = SUM(shapeOf(deconvolution output), total padding) (:1067-1089), and a constant
  [1, M, 1, 1] bias add (:1091-1098); a tensor bias stays on input 2 of the deconvolution (:1046-1048),
  so the extension holds 0; pre/post/mode set after (:1051-1053); the layer is registered under the node's
  name (:1062). The shape constants are Int64 on TensorRT 10 (10.1-GA:importerUtils.cpp:367, 370,
  convertOnnxPadding) and Int32 on 8.6 (8.6-GA:onnx2trt_utils.cpp:439, 441). 1D is unsqueezed to 4D and
  squeezed back (:871-884, 906, 1107-1111): a shuffle (10.1-GA:importerUtils.cpp:1622, 1896: addShuffle), or
  with `squeeze_layers=True` TensorRT 10.7+'s IUnsqueezeLayer/ISqueezeLayer with an Int32 axes constant
  [3] (onnx/onnx-tensorrt@fa5aa9f:importerUtils.cpp, unsqueezeTensor: addConstant(..., INT32, ...),
  addUnsqueeze). After markOutput the parser sets the output's type from the ONNX type: "Note: Without
  this, output type is always float32" (10.1-GA:ModelImporter.cpp:783, 793-794; 8.6-GA:ModelImporter.cpp:
  591, 600-601); TensorRT 11 has no setType, so there it is not done.
- `torch2trt`: NVIDIA-AI-IOT/torch2trt@4e820ae:torch2trt/converters/native_converters.py:424-498
  (convert_conv_transpose2d3d): num_output_maps = weight.shape[0] (:439, 480), i.e. the input channels
  (PyTorch's transposed weight is [C_in, C_out/groups, ...]), so unless C_in = C_out the kernel count does
  not fit and TensorRT refuses the layer; padding_nd = padding (:485: pre = post = padding), so
  output_padding is dropped (torch2trt issue 734); dilation_nd is never set (:478-488), so a dilated
  module gets dilation 1; 1D via shuffles with reshape_dims (0, 0, 0, 1) and (0, 0, 0) (:470-473,
  493-496); without a bias, `trt.Weights(dtype)` (:461).
- `torch_tensorrt`: pytorch/TensorRT py/torch_tensorrt/dynamo/conversion/impl/deconv.py. Both versions
  pass the weight and the bias as constant tensors on inputs 1 and 2 with empty Weights (v2.7.0:53-56,
  75-81, 88-103; create_constant in converter_utils.py@v2.7.0:323-381), num_output_maps =
  weight.shape[1] * groups (:91). For 1D, the weight gets a trailing axis (:78-79), padding (p, 0) and
  stride/dilation extended by extend_attr_to_tuple, which repeats a 1-tuple: (s, s), (d, d)
  (:114-119; converter_utils.py@v2.7.0:300-303).
  - "2.7" (>= 2.7): padding_nd = padding (:129-130), then pre = padding, post = padding - output_padding
    with no guard (:138-150). TensorRT refuses a negative post-padding with an API usage error and
    keeps the value it had: `padding` (set by padding_nd), not 0. 1D: IUnsqueezeLayer with an Int32 axes
    constant [-1] (:46-50; impl/unsqueeze.py@v2.7.0:21-24; converter_utils.py@v2.7.0:656-657) and,
    after, a shuffle with first_transpose and reshape_dims (0, 0, 0) (:159-163; impl/squeeze.py@v2.7.0:
    42-56).
  - "2.6" (<= 2.6.1): padding_nd = padding only (deconv.py@v2.6.1:120-121); output_padding is accepted
    (:39) and never used: dropped. 1D: a shuffle with reshape_dims [N, C, L, 1] (-1 -> 0) (impl/
    unsqueeze.py@v2.6.1:54-63), then the same squeeze shuffle.
"""

from __future__ import annotations

import functools
import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from tests.standin import network as standin

TORCH_TENSORRT_VERSIONS = ("2.6", "2.7")
_DEFAULT_API: types.ModuleType | None = None


def _api(api: types.ModuleType | None) -> types.ModuleType:
    """The stand-in module to build on: the given one, the installed stand-in, else the default version."""
    global _DEFAULT_API
    if api is not None:
        return api
    installed = sys.modules.get("tensorrt")
    if installed is not None and hasattr(installed, "_standin_api"):
        return installed
    if _DEFAULT_API is None:
        _DEFAULT_API = standin.tensorrt_module()
    return _DEFAULT_API


def _new_network(trt: Any, input_shape: Sequence[int], bias_channels: int | None,
                 dtype: Any) -> tuple[Any, Any, Any]:
    network = trt.INetworkDefinition()
    x = network.add_input("x", dtype, input_shape)
    bias = network.add_input("B", dtype, [bias_channels]) if bias_channels is not None else None
    return network, x, bias


def _constant(network: Any, trt: Any, values: Sequence[int] | np.ndarray, dtype: Any = None) -> Any:
    """A 1D constant; integer shape constants in the version's shape type (Int64 on 10+, Int32 on 8.6)."""
    if dtype is None:
        dtype = np.int64 if trt._standin_api.int64 else np.int32
    array: np.ndarray = np.ascontiguousarray(values, dtype=dtype)
    return network.add_constant(trt.Dims([array.size]), trt.Weights(array)).get_output(0)


def _mark_output(network: Any, trt: Any, tensor: Any, dtype: Any) -> None:
    tensor.name = "y"
    network.mark_output(tensor)
    if not trt._standin_api.strongly_typed:
        tensor.dtype = dtype  # ModelImporter.cpp@10.1-GA:793-794 (see the module doc)


def _parser_unsqueeze(network: Any, trt: Any, tensor: Any, squeeze_layers: bool) -> Any:
    if squeeze_layers:
        return network.add_unsqueeze(tensor, _constant(network, trt, [3], np.int32)).get_output(0)
    layer = network.add_shuffle(tensor)
    dims = list(tensor.shape)
    if -1 in dims:  # the parser's dynamic form: the new shape comes from a shape tensor
        layer.set_input(1, _constant(network, trt, [0, 0, 0, 1]))
    else:
        layer.reshape_dims = trt.Dims([*dims, 1])
    return layer.get_output(0)


def _parser_squeeze(network: Any, trt: Any, tensor: Any, squeeze_layers: bool) -> Any:
    if squeeze_layers:
        return network.add_squeeze(tensor, _constant(network, trt, [3], np.int32)).get_output(0)
    layer = network.add_shuffle(tensor)
    dims = list(tensor.shape)[:3]
    if -1 in dims:
        layer.set_input(1, _constant(network, trt, [0, 0, 0]))
    else:
        layer.reshape_dims = trt.Dims(dims)
    return layer.get_output(0)


def _trunc_half(value: int) -> int:
    return int(value / 2)  # C++ integer division truncates toward zero


def onnx_parser(
    attrs: ConvTransposeAttributes,
    input_shape: Sequence[int],
    weight: np.ndarray,
    bias: np.ndarray | None,
    *,
    bias_kind: str = "initializer",  # "none" | "initializer" | "tensor"
    squeeze_layers: bool = False,
    dynamic_size_from_shape: bool | None = None,
    dtype: str = "FLOAT",
    api: types.ModuleType | None = None,
) -> Any:
    """What onnx-tensorrt's importConvTranspose builds. `dynamic_size_from_shape` picks the extension's
    size source: an IShapeLayer (the parser with dynamic dims) or a constant of the static dims
    (shapeOf of a static tensor folds to a constant); default: the shape layer when dims are dynamic.
    `dtype` is the ONNX tensor type of x, W, B and y, as a DataType name."""
    trt = _api(api)
    tensor_type = getattr(trt.DataType, dtype)
    channels = weight.shape[1] * attrs.group
    network, x, bias_input = _new_network(trt, input_shape, channels if bias_kind == "tensor" else None, tensor_type)
    tensor = x
    one_d = attrs.rank == 1
    if one_d:
        if attrs.output_shape is not None:
            raise NotImplementedError("the parser reads a 1D output_shape one entry off (see core/trt_parser.py)")
        tensor = _parser_unsqueeze(network, trt, tensor, squeeze_layers)
    rank = attrs.rank + (1 if one_d else 0)

    def spatial(values: Sequence[int], fill: int) -> list[int]:
        return list(values) + ([fill] if one_d else [])

    kernel = spatial(attrs.kernel_shape, 1)
    strides = spatial(attrs.strides, 1)
    dilations = spatial(attrs.dilations, 1)
    beg = spatial(attrs.pads_begin, 0)
    end = spatial(attrs.pads_end, 0)
    output_padding = spatial(attrs.output_padding, 0)
    sizes = list(tensor.shape)[2:]
    mode = trt.PaddingMode.EXPLICIT_ROUND_DOWN
    if attrs.auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        if attrs.pads_beside_auto_pad:  # TensorRT 10+ (importerUtils.cpp@release/10.1-GA:820-822); 8.5/8.6 parse it
            raise ValueError("Pads attribute should not be specified with SAME_LOWER or SAME_UPPER auto padding!")
        mode = getattr(trt.PaddingMode, attrs.auto_pad)
        beg, end = [0] * rank, [0] * rank
    elif attrs.auto_pad == "VALID":
        beg, end = [0] * rank, [0] * rank
    if attrs.auto_pad == "NOTSET" and attrs.output_shape is not None:
        target = spatial(attrs.output_shape, 1)
        for axis in range(rank):
            dk = (kernel[axis] - 1) * dilations[axis] + 1
            total = strides[axis] * (sizes[axis] - 1) + output_padding[axis] + dk - target[axis]
            beg[axis] = _trunc_half(total)
            end[axis] = total - beg[axis]
            if beg[axis] < 0:
                raise ValueError("TensorRT does not support negative pre-padding in the ConvTranspose operator!")
            if end[axis] < 0:
                output_padding[axis] = -end[axis]
                end[axis] = 0
    has_output_padding = False
    if any(output_padding) and attrs.auto_pad == "NOTSET":
        for axis in range(rank):
            if end[axis] - output_padding[axis] >= 0:
                end[axis] -= output_padding[axis]
                output_padding[axis] = 0
            else:
                output_padding[axis] -= end[axis]
                end[axis] = 0
                has_output_padding = True

    kernel_weights = trt.Weights(np.ascontiguousarray(weight.reshape(weight.shape[0], weight.shape[1], *kernel)))
    empty = trt.Weights(tensor_type)
    static_bias = trt.Weights(np.ascontiguousarray(bias)) if bias_kind == "initializer" and bias is not None else empty
    layer = network.add_deconvolution_nd(tensor, channels, trt.Dims(kernel), kernel_weights,
                                         empty if has_output_padding else static_bias)
    layer.name = attrs.node
    layer.stride_nd = trt.Dims(strides)
    layer.num_groups = attrs.group
    layer.dilation_nd = trt.Dims(dilations)
    if bias_input is not None:
        layer.set_input(2, bias_input)
    layer.padding_mode = mode
    layer.pre_padding = trt.Dims(beg)
    layer.post_padding = trt.Dims(end)
    tensor = layer.get_output(0)

    if has_output_padding:
        full_rank = rank + 2
        start = _constant(network, trt, [0] * full_rank)
        total_padding = _constant(network, trt, [0, 0, *output_padding])
        dynamic = -1 in tensor.shape if dynamic_size_from_shape is None else dynamic_size_from_shape
        shape_of = network.add_shape(tensor).get_output(0) if dynamic else _constant(network, trt, list(tensor.shape))
        size = network.add_elementwise(shape_of, total_padding, trt.ElementWiseOperation.SUM).get_output(0)
        ones = trt.Dims([1] * full_rank)
        slice_layer = network.add_slice(tensor, ones, ones, ones)
        slice_layer.set_input(1, start)
        slice_layer.set_input(2, size)
        slice_layer.mode = trt.SampleMode.FILL
        tensor = slice_layer.get_output(0)
        if static_bias.size:
            constant = network.add_constant(trt.Dims([1, channels] + [1] * rank), static_bias)
            tensor = network.add_elementwise(tensor, constant.get_output(0), trt.ElementWiseOperation.SUM).get_output(0)
    if one_d:
        tensor = _parser_squeeze(network, trt, tensor, squeeze_layers)
    _mark_output(network, trt, tensor, tensor_type)
    return network


def torch2trt(attrs: ConvTransposeAttributes, input_shape: Sequence[int], weight: np.ndarray,
              bias: np.ndarray | None, *, api: types.ModuleType | None = None) -> Any:
    """torch2trt's convert_conv_transpose2d3d at 4e820ae (see the module doc for every line)."""
    trt = _api(api)
    network, x, _ = _new_network(trt, input_shape, None, trt.DataType.FLOAT)
    one_d = attrs.rank == 1
    out_channels = int(weight.shape[0])  # :439 (the input channels, see the module doc)
    kernel_size = tuple(weight.shape[2:])
    stride, padding = tuple(attrs.strides), tuple(attrs.pads_begin)  # PyTorch's symmetric padding
    kernel = np.ascontiguousarray(weight)  # :454
    bias_weights = np.ascontiguousarray(bias) if bias is not None else trt.Weights(trt.DataType.FLOAT)  # :457-461
    conv_input = x
    if one_d:  # :465-473
        kernel_size, stride, padding = kernel_size + (1,), stride + (1,), padding + (0,)
        unsqueeze = network.add_shuffle(x)
        unsqueeze.reshape_dims = (0, 0, 0, 1)
        conv_input = unsqueeze.get_output(0)
    layer = network.add_deconvolution_nd(input=conv_input, num_output_maps=out_channels, kernel_shape=kernel_size,
                                         kernel=kernel, bias=bias_weights)  # :478-483
    layer.name = attrs.node
    layer.stride_nd = stride  # :484
    layer.padding_nd = padding  # :485
    layer.num_groups = attrs.group  # :487-488; no dilation_nd anywhere
    output = layer.get_output(0)
    if one_d:  # :492-496
        squeeze = network.add_shuffle(output)
        squeeze.reshape_dims = (0, 0, 0)
        output = squeeze.get_output(0)
    output.name = "y"
    network.mark_output(output)
    return network


def _torch_constant(network: Any, trt: Any, array: np.ndarray, name: str) -> Any:
    """create_constant (converter_utils.py@v2.7.0:323-381): a constant layer of the array's shape."""
    layer = network.add_constant(list(array.shape), np.ascontiguousarray(array))
    layer.name = name
    return layer.get_output(0)


def torch_tensorrt(attrs: ConvTransposeAttributes, input_shape: Sequence[int], weight: np.ndarray,
                   bias: np.ndarray | None, *, version: str = "2.7", api: types.ModuleType | None = None) -> Any:
    """Torch-TensorRT's deconvNd, `version` "2.7" (>= 2.7) or "2.6" (<= 2.6.1); see the module doc."""
    if version not in TORCH_TENSORRT_VERSIONS:
        raise ValueError(f"Torch-TensorRT version {version!r}: one of {TORCH_TENSORRT_VERSIONS}")
    trt = _api(api)
    network, x, _ = _new_network(trt, input_shape, None, trt.DataType.FLOAT)
    name = attrs.node
    one_d = attrs.rank == 1
    tensor = x
    if one_d and version == "2.7":  # deconv.py@v2.7.0:46-50 -> impl/unsqueeze.py@v2.7.0:21-24
        axes = _torch_constant(network, trt, np.array([-1], dtype=np.int32), f"{name}_unsqueeze_deconv1d_axes")
        unsqueeze = network.add_unsqueeze(tensor, axes)
        tensor = unsqueeze.get_output(0)
    elif one_d:  # impl/unsqueeze.py@v2.6.1:54-63: dim -1 of rank 3 is the last: [N, C, L, 1], -1 -> 0
        unsqueeze = network.add_shuffle(tensor)
        unsqueeze.reshape_dims = tuple(0 if d == -1 else d for d in tensor.shape) + (1,)
        tensor = unsqueeze.get_output(0)
    bias_tensor = _torch_constant(network, trt, bias, f"{name}_bias") if bias is not None else None  # :53-56
    kernel = weight[..., None] if one_d else weight  # :75-79
    weight_tensor = _torch_constant(network, trt, kernel, f"{name}_weight")  # :81
    groups = attrs.group
    layer = network.add_deconvolution_nd(
        input=tensor, num_output_maps=weight_tensor.shape[1] * groups, kernel_shape=weight_tensor.shape[2:],
        kernel=trt.Weights(), bias=trt.Weights(),
    )  # :88-95
    layer.set_input(1, weight_tensor)  # :97-99
    if bias_tensor is not None:
        layer.set_input(2, bias_tensor)  # :101-103
    layer.name = name
    padding, stride, dilation = tuple(attrs.pads_begin), tuple(attrs.strides), tuple(attrs.dilations)
    output_padding = tuple(attrs.output_padding)
    if one_d:  # :114-124 (extend_attr_to_tuple repeats a 1-tuple)
        padding, stride, dilation, output_padding = padding + (0,), stride * 2, dilation * 2, output_padding + (0,)
    layer.padding_nd = padding  # v2.7.0:129-130, v2.6.1:120-121
    layer.stride_nd = stride
    layer.dilation_nd = dilation
    layer.num_groups = groups
    if version == "2.7":  # :138-150: no guard against a negative post-padding
        layer.pre_padding = tuple(padding)
        layer.post_padding = tuple(p - op for p, op in zip(padding, output_padding))
    result = layer.get_output(0)
    if one_d:  # :159-163 -> impl/squeeze.py@v2.7.0:42-56 (and v2.6.1, the same file)
        squeeze = network.add_shuffle(result)
        rank = len(result.shape)
        squeeze.first_transpose = tuple(range(rank))  # kept axes, then the removed last one: the identity
        squeeze.reshape_dims = (0,) * (rank - 1)
        result = squeeze.get_output(0)
    result.name = "y"
    network.mark_output(result)
    return network


def bare_deconvolution(attrs: ConvTransposeAttributes, input_shape: Sequence[int], weight: np.ndarray,
                       bias: np.ndarray | None, *, api: types.ModuleType | None = None) -> Any:
    """Not a producer: the node's kernel, stride, dilation and groups with no padding and the bias as weights
    (1D through reshaping shuffles), the full result every window is a crop or extension of."""
    trt = _api(api)
    network, x, _ = _new_network(trt, input_shape, None, trt.DataType.FLOAT)
    one_d = attrs.rank == 1
    extra = (1,) if one_d else ()
    tensor = x
    if one_d:
        unsqueeze = network.add_shuffle(x)
        unsqueeze.reshape_dims = (0, 0, 0, 1)
        tensor = unsqueeze.get_output(0)
    kernel = tuple(attrs.kernel_shape) + extra
    layer = network.add_deconvolution_nd(
        tensor, weight.shape[1] * attrs.group, kernel, np.ascontiguousarray(weight.reshape(*weight.shape[:2], *kernel)),
        np.ascontiguousarray(bias) if bias is not None else trt.Weights(),
    )
    layer.name = attrs.node
    layer.stride_nd = tuple(attrs.strides) + extra
    layer.dilation_nd = tuple(attrs.dilations) + extra
    layer.num_groups = attrs.group
    output = layer.get_output(0)
    if one_d:
        squeeze = network.add_shuffle(output)
        squeeze.reshape_dims = (0, 0, 0)
        output = squeeze.get_output(0)
    output.name = "y"
    network.mark_output(output)
    return network


def with_strided_fill_slice(network: Any) -> Any:
    """The network with a strided FILL slice inside its one deconvolution unit (before the tensor named after the
    node): a unit the package cannot read, so cannot patch. Returns the network."""
    trt = _api(None)
    y = network.get_output(0)
    name = y.name
    y.name = "deconv_output"
    rank = len(tuple(y.shape))
    strided = network.add_slice(y, [0] * rank, list(y.shape), [1, 1] + [2] * (rank - 2))
    strided.mode = trt.SampleMode.FILL
    strided.get_output(0).name = name
    network.unmark_output(y)
    network.mark_output(strided.get_output(0))
    return network


def torch2trt_builds(attrs: ConvTransposeAttributes, weight_shape: Sequence[int]) -> bool:
    """What torch2trt builds as the module means, output_padding aside: its num_output_maps is the weight's first
    dim, the input channels, and it never sets the dilation (see the module doc)."""
    return weight_shape[0] == weight_shape[1] * attrs.group and all(d == 1 for d in attrs.dilations)


@dataclass(frozen=True)
class Producer:
    """One producer of deconvolution networks, as the tests use it: how it builds a node, and which nodes it can
    build at all. A new producer pattern is one entry of PRODUCERS."""

    name: str
    build: Callable[..., Any]  # (attrs, input_shape, weight, bias, *, bias_kind, **options) -> network
    pytorch: bool = False  # a PyTorch front end: no output_shape, no auto_pad, the bias as weights
    one_dimensional_only: bool = False  # it differs from another producer only for 1D nodes

    def can_build(self, attrs: ConvTransposeAttributes, weight_shape: Sequence[int], bias_kind: str = "none") -> bool:
        if self.pytorch and (bias_kind == "tensor" or attrs.output_shape is not None or attrs.auto_pad != "NOTSET"):
            return False
        if self.name == "torch2trt" and not torch2trt_builds(attrs, weight_shape):
            return False
        # The parser reads a 1D output_shape one entry off (core/trt_parser.py): no network to patch.
        return not (self.name.startswith("parser") and attrs.rank == 1 and attrs.output_shape is not None)


def _parser(attrs: ConvTransposeAttributes, input_shape: Sequence[int], weight: np.ndarray, bias: np.ndarray | None,
            *, bias_kind: str = "initializer", squeeze_layers: bool = False, **options: Any) -> Any:
    return onnx_parser(attrs, input_shape, weight, bias, bias_kind=bias_kind, squeeze_layers=squeeze_layers, **options)


def _pytorch(builder: Callable[..., Any], **fixed: Any) -> Callable[..., Any]:
    """A PyTorch producer's builder: it takes the bias as weights, and no parser options."""

    def build(attrs: ConvTransposeAttributes, input_shape: Sequence[int], weight: np.ndarray, bias: np.ndarray | None,
              *, bias_kind: str = "initializer", **options: Any) -> Any:
        return builder(attrs, input_shape, weight, bias, **fixed)

    return build


PRODUCERS: dict[str, Producer] = {
    producer.name: producer
    for producer in (
        Producer("parser", _parser),
        Producer("parser-squeeze-layers", functools.partial(_parser, squeeze_layers=True), one_dimensional_only=True),
        Producer("torch2trt", _pytorch(torch2trt), pytorch=True),
        Producer("torch-tensorrt", _pytorch(torch_tensorrt), pytorch=True),
        Producer("torch-tensorrt-2.6", _pytorch(torch_tensorrt, version="2.6"), pytorch=True),
    )
}
