"""Builders of stand-in TensorRT networks, one per producer behaviour of deconv-semantics.md section 3.

Each builder adds one ConvTranspose the way that producer does, to a fresh stand-in network with input
"x" (and "B" for a tensor bias), marks the result as output "y", and returns the network.

- `onnx_parser`: the onnx-tensorrt importer (onnxOpImporters.cpp, importConvTranspose; importerUtils.cpp
  generatePadding, convertOnnxPadding), written from its source rather than from the core's prediction:
  output_shape (NOTSET) splits the total with the odd element at the end; SAME_* use TensorRT's SAME mode
  and ignore output_padding and output_shape; pads with output_padding > pads_end give post 0 plus a
  FILL slice whose start is a constant and whose size is SUM(shapeOf(deconv output), constant), after a
  bias-free deconvolution, and a constant [1, M, 1, 1] bias add; a tensor bias stays on input 2 of the
  deconvolution (so the extension holds 0); 1D is unsqueezed to 4D and squeezed back (a shuffle, or
  TensorRT 10's IUnsqueezeLayer/ISqueezeLayer with `squeeze_layers=True`).
- `torch2trt`: pre = post = padding; output_padding is dropped (torch2trt issue 734).
- `torch_tensorrt`: pre = padding, post = padding - output_padding with no guard. TensorRT's API refuses
  a negative value (the stand-in raises NetworkError, as the real setter reports an API error); the
  network Torch-TensorRT is then left with is the one whose post padding keeps its previous value, 0:
  `torch_tensorrt(..., refused="keep")` builds that network, `refused="raise"` lets the refusal through.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from tests.standin import network as trt


def _new_network(input_shape: Sequence[int], bias_channels: int | None) -> tuple[trt.INetworkDefinition, trt.ITensor, trt.ITensor | None]:
    network = trt.INetworkDefinition()
    x = network.add_input("x", trt.DataType.FLOAT, input_shape)
    bias = network.add_input("B", trt.DataType.FLOAT, [bias_channels]) if bias_channels is not None else None
    return network, x, bias


def _constant(network: trt.INetworkDefinition, values: Sequence[int] | np.ndarray, shape: Sequence[int] | None = None,
              dtype: type = np.int64) -> trt.ITensor:
    array: np.ndarray = np.asarray(values, dtype=dtype)
    return network.add_constant(trt.Dims(shape if shape is not None else [array.size]), trt.Weights(array)).get_output(0)


def _unsqueeze(network: trt.INetworkDefinition, tensor: trt.ITensor, squeeze_layers: bool) -> trt.ITensor:
    if squeeze_layers:
        return network.add_unsqueeze(tensor, _constant(network, [3], dtype=np.int32)).get_output(0)
    layer = network.add_shuffle(tensor)
    dims = list(tensor.shape)
    if -1 in dims:  # the parser's dynamic form: the new shape comes from a shape tensor
        layer.set_input(1, _constant(network, [0, 0, 0, 1]))
    else:
        layer.reshape_dims = trt.Dims([*dims, 1])
    return layer.get_output(0)


def _squeeze(network: trt.INetworkDefinition, tensor: trt.ITensor, squeeze_layers: bool) -> trt.ITensor:
    if squeeze_layers:
        return network.add_squeeze(tensor, _constant(network, [3], dtype=np.int32)).get_output(0)
    layer = network.add_shuffle(tensor)
    dims = list(tensor.shape)[:3]
    if -1 in dims:
        layer.set_input(1, _constant(network, [0, 0, 0]))
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
) -> trt.INetworkDefinition:
    """What onnx-tensorrt's importConvTranspose builds. `dynamic_size_from_shape` picks the extension's
    size source: an IShapeLayer (the parser with dynamic dims) or a constant of the static dims
    (shapeOf of a static tensor folds to a constant); default: the shape layer when dims are dynamic."""
    channels = weight.shape[1] * attrs.group
    network, x, bias_input = _new_network(input_shape, channels if bias_kind == "tensor" else None)
    tensor = x
    one_d = attrs.rank == 1
    if one_d:
        if attrs.output_shape is not None:
            raise NotImplementedError("the parser reads a 1D output_shape one entry off (see core/trt_parser.py)")
        tensor = _unsqueeze(network, tensor, squeeze_layers)
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
        mode = trt.PaddingMode[attrs.auto_pad]
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
    static_bias = trt.Weights(bias) if bias_kind == "initializer" and bias is not None else trt.Weights()
    layer = network.add_deconvolution_nd(tensor, channels, trt.Dims(kernel), kernel_weights,
                                         trt.Weights() if has_output_padding else static_bias)
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
        start = _constant(network, [0] * full_rank)
        total_padding = _constant(network, [0, 0, *output_padding])
        dynamic = -1 in tensor.shape if dynamic_size_from_shape is None else dynamic_size_from_shape
        shape_of = network.add_shape(tensor).get_output(0) if dynamic else _constant(network, list(tensor.shape))
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
        tensor = _squeeze(network, tensor, squeeze_layers)
    tensor.name = "y"
    network.mark_output(tensor)
    return network


def _explicit_deconvolution(
    network: trt.INetworkDefinition, x: trt.ITensor, attrs: ConvTransposeAttributes, weight: np.ndarray,
    bias: np.ndarray | None,
) -> tuple[trt.IDeconvolutionLayer, list[int], list[int]]:
    one_d = attrs.rank == 1
    tensor = _unsqueeze(network, x, False) if one_d else x
    extra = [1] if one_d else []
    kernel = list(attrs.kernel_shape) + extra
    channels = weight.shape[1] * attrs.group
    layer = network.add_deconvolution_nd(
        tensor, channels, trt.Dims(kernel),
        trt.Weights(np.ascontiguousarray(weight.reshape(weight.shape[0], weight.shape[1], *kernel))),
        trt.Weights(bias) if bias is not None else None,
    )
    layer.name = attrs.node
    layer.stride_nd = trt.Dims(list(attrs.strides) + extra)
    layer.dilation_nd = trt.Dims(list(attrs.dilations) + extra)
    layer.num_groups = attrs.group
    return layer, list(attrs.pads_begin) + [0] * len(extra), list(attrs.output_padding) + [0] * len(extra)


def _finish(network: trt.INetworkDefinition, layer: trt.IDeconvolutionLayer, one_d: bool) -> trt.INetworkDefinition:
    tensor = layer.get_output(0)
    if one_d:
        tensor = _squeeze(network, tensor, False)
    tensor.name = "y"
    network.mark_output(tensor)
    return network


def torch2trt(attrs: ConvTransposeAttributes, input_shape: Sequence[int], weight: np.ndarray,
              bias: np.ndarray | None) -> trt.INetworkDefinition:
    """torch2trt's ConvTranspose converter: symmetric padding = pads_begin, output_padding ignored."""
    network, x, _ = _new_network(input_shape, None)
    layer, pads, _ = _explicit_deconvolution(network, x, attrs, weight, bias)
    layer.pre_padding = trt.Dims(pads)
    layer.post_padding = trt.Dims(pads)
    return _finish(network, layer, attrs.rank == 1)


def torch_tensorrt(attrs: ConvTransposeAttributes, input_shape: Sequence[int], weight: np.ndarray,
                   bias: np.ndarray | None, refused: str = "keep") -> trt.INetworkDefinition:
    """Torch-TensorRT >= 2.7: pre = p, post = p - output_padding, unguarded (see the module docstring)."""
    network, x, _ = _new_network(input_shape, None)
    layer, pads, output_padding = _explicit_deconvolution(network, x, attrs, weight, bias)
    layer.pre_padding = trt.Dims(pads)
    post = [p - op for p, op in zip(pads, output_padding)]
    try:
        layer.post_padding = trt.Dims(post)
    except trt.NetworkError:
        if refused == "raise":
            raise
    return _finish(network, layer, attrs.rank == 1)
