"""Values of a TensorRT network's tensors computed in numpy from the layers read back (no engine runs here).

Each layer type follows the TensorRT documentation of that layer (include/NvInfer.h@release/10.8); the
evaluation of a deconvolution unit starts from values given by onnxruntime for the tensors that enter it.
Only the layer types that deconvolution units and their shape computations use are known; any other layer
raises NotEvaluable with its name and type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


class NotEvaluable(Exception):
    """A layer this evaluator does not compute."""


def deconvolution(
    x: np.ndarray,
    kernel: np.ndarray,
    bias: np.ndarray | None,
    *,
    groups: int,
    strides: tuple[int, ...],
    dilations: tuple[int, ...],
    pre: tuple[int, ...],
    post: tuple[int, ...],
) -> np.ndarray:
    """The full transposed convolution (every input element scatters kernel * value at i * stride +
    k * dilation), then the window `pre`..`full - post` (NvInfer.h@release/10.8:884-889:
    O = (I - 1) * S + DK - (B + A)); the bias added to every output element. Kernel layout
    [C, M / groups, k...] (IDeconvolutionLayer, NvInfer.h@release/10.8:2097-2130)."""
    x = x.astype(np.float64)
    n, c = x.shape[:2]
    sizes = x.shape[2:]
    rank = len(sizes)
    per_group_in = c // groups
    per_group_out = kernel.shape[1]
    kernel = kernel.astype(np.float64).reshape((c, per_group_out, *kernel.shape[2:]))
    full = tuple((size - 1) * s + (k - 1) * d + 1 for size, s, k, d in zip(sizes, strides, kernel.shape[2:], dilations))
    out = np.zeros((n, per_group_out * groups, *full))
    for g in range(groups):
        xs = x[:, g * per_group_in : (g + 1) * per_group_in]
        ws = kernel[g * per_group_in : (g + 1) * per_group_in]
        target = out[:, g * per_group_out : (g + 1) * per_group_out]
        for offsets in np.ndindex(*kernel.shape[2:]):
            # contribution of kernel tap `offsets`: x[n, c, i...] * w[c, m, offsets] at i * s + offset * d
            contribution = np.einsum("nc...,cm->nm...", xs, ws[(slice(None), slice(None), *offsets)])
            index = tuple(
                slice(o * d, o * d + (size - 1) * s + 1, s) for o, d, s, size in zip(offsets, dilations, strides, sizes)
            )
            target[(slice(None), slice(None), *index)] += contribution
    window = tuple(slice(b, length - a) for b, a, length in zip(pre, post, full))
    result = out[(slice(None), slice(None), *window)]
    if bias is not None and bias.size:
        result = result + bias.astype(np.float64).reshape((1, -1) + (1,) * rank)
    return result


def same_padding(mode: str, sizes: tuple[int, ...], strides: tuple[int, ...], dilated: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(pre, post) of a SAME_* deconvolution (NvInfer.h@release/10.8:890-903): P = max(DK - S, 0);
    SAME_UPPER: B = floor(P / 2), A = P - B; SAME_LOWER: A = floor(P / 2), B = P - A."""
    pre, post = [], []
    for dk, s in zip(dilated, strides):
        total = max(dk - s, 0)
        small = total // 2
        pre.append(small if mode == "SAME_UPPER" else total - small)
        post.append(total - small if mode == "SAME_UPPER" else small)
    return tuple(pre), tuple(post)


def fill_slice(x: np.ndarray, start: tuple[int, ...], size: tuple[int, ...], stride: tuple[int, ...]) -> np.ndarray:
    """ISliceLayer with SampleMode::kFILL: out[i] = x[start + i * stride] where that is inside x, else 0
    (the fill value defaults to zero) (NvInfer.h@release/10.8:3219-3240)."""
    out = np.zeros(size, dtype=x.dtype)
    for index in np.ndindex(*size):
        source = tuple(s + i * t for s, i, t in zip(start, index, stride))
        if all(0 <= v < d for v, d in zip(source, x.shape)):
            out[index] = x[source]
    return out


def strict_slice(x: np.ndarray, start: tuple[int, ...], size: tuple[int, ...], stride: tuple[int, ...]) -> np.ndarray:
    index = tuple(slice(s, s + (n - 1) * t + 1 if n else s, t) for s, n, t in zip(start, size, stride))
    return x[index]


class NetworkEvaluator:
    """Tensor values of a network, from `known` values (by tensor name) and the layers read back."""

    def __init__(self, trt: Any, network: Any, known: Mapping[str, np.ndarray], stop: set[str]) -> None:
        self.trt = trt
        self.known = dict(known)
        self.stop = stop  # layer names whose outputs must be computed even when their name is known
        self.producers: dict[str, Any] = {}
        for position in range(network.num_layers):
            layer = network.get_layer(position)
            for out in range(layer.num_outputs):
                self.producers[layer.get_output(out).name] = (layer, out)
        self.cache: dict[str, np.ndarray] = {}

    def value(self, tensor: Any) -> np.ndarray:
        name = tensor.name
        if name in self.cache:
            return self.cache[name]
        producer = self.producers.get(name)
        if name in self.known and (producer is None or producer[0].name not in self.stop):
            result = np.asarray(self.known[name])
        elif producer is None:
            raise NotEvaluable(f"tensor '{name}' has no producer and no known value")
        else:
            result = self.layer(producer[0])
        self.cache[name] = result
        return result

    def layer(self, layer: Any) -> np.ndarray:
        trt = self.trt
        kind = layer.type
        inputs = [layer.get_input(i) for i in range(layer.num_inputs)]

        def value(i: int) -> np.ndarray:
            tensor = inputs[i] if i < len(inputs) else None
            if tensor is None:
                raise NotEvaluable(f"layer '{layer.name}': input {i} is not set")
            return self.value(tensor)

        def has(i: int) -> bool:
            return i < len(inputs) and inputs[i] is not None

        if kind == trt.LayerType.CONSTANT:
            layer.__class__ = trt.IConstantLayer
            return np.array(layer.weights, copy=True).reshape(tuple(layer.shape))
        if kind == trt.LayerType.SHAPE:
            return np.array(value(0).shape, dtype=np.int64)
        if kind in (trt.LayerType.IDENTITY, trt.LayerType.CAST):
            return value(0)
        if kind == trt.LayerType.ELEMENTWISE:
            layer.__class__ = trt.IElementWiseLayer
            a, b = value(0), value(1)
            ops = {
                trt.ElementWiseOperation.SUM: np.add,
                trt.ElementWiseOperation.SUB: np.subtract,
                trt.ElementWiseOperation.PROD: np.multiply,
                trt.ElementWiseOperation.MAX: np.maximum,
                trt.ElementWiseOperation.MIN: np.minimum,
                trt.ElementWiseOperation.FLOOR_DIV: np.floor_divide,
            }
            if layer.op not in ops:
                raise NotEvaluable(f"layer '{layer.name}': elementwise {layer.op!r}")
            return ops[layer.op](a, b)
        if kind == trt.LayerType.CONCATENATION:
            layer.__class__ = trt.IConcatenationLayer
            return np.concatenate([value(i) for i in range(len(inputs))], axis=layer.axis)
        if kind == trt.LayerType.GATHER:
            layer.__class__ = trt.IGatherLayer
            if layer.mode != trt.GatherMode.DEFAULT:
                raise NotEvaluable(f"layer '{layer.name}': gather mode {layer.mode}")
            return np.take(value(0), value(1), axis=layer.axis)
        if kind == trt.LayerType.UNSQUEEZE:
            x = value(0)
            axes = sorted(int(a) % (x.ndim + len(value(1).reshape(-1))) for a in value(1).reshape(-1))
            for axis in axes:
                x = np.expand_dims(x, axis)
            return x
        if kind == trt.LayerType.SQUEEZE:
            x = value(0)
            return np.squeeze(x, axis=tuple(int(a) % x.ndim for a in value(1).reshape(-1)))
        if kind == trt.LayerType.SHUFFLE:
            return self.shuffle(layer, value(0), value(1) if has(1) else None)
        if kind == trt.LayerType.SLICE:
            return self.slice(layer, value, has)
        if kind == trt.LayerType.DECONVOLUTION:
            return self.deconvolution(layer, value, has)
        raise NotEvaluable(f"layer '{layer.name}' of type {getattr(kind, 'name', kind)}")

    def shuffle(self, layer: Any, x: np.ndarray, shape_input: np.ndarray | None) -> np.ndarray:
        """IShuffleLayer: first transpose, reshape (0 copies the input dim when zero_is_placeholder), second
        transpose (NvInfer.h@release/10.8, IShuffleLayer)."""
        trt = self.trt
        layer.__class__ = trt.IShuffleLayer
        first = [layer.first_transpose[i] for i in range(x.ndim)]
        x = np.transpose(x, first)
        # an unset reshape reads back as an invalid Dims (nbDims -1): no reshape
        dims = tuple(int(v) for v in shape_input.reshape(-1)) if shape_input is not None else tuple(layer.reshape_dims)
        if shape_input is not None or dims:
            placeholder = layer.zero_is_placeholder
            x = x.reshape([x.shape[i] if d == 0 and placeholder else d for i, d in enumerate(dims)])
        second = [layer.second_transpose[i] for i in range(x.ndim)]
        return np.transpose(x, second)

    def slice(self, layer: Any, value: Any, has: Any) -> np.ndarray:
        trt = self.trt
        layer.__class__ = trt.ISliceLayer
        x = value(0)
        if has(5):
            raise NotEvaluable(f"layer '{layer.name}': slice with axes input")
        if has(4):
            raise NotEvaluable(f"layer '{layer.name}': slice with a fill value tensor")
        start = tuple(int(v) for v in value(1).reshape(-1)) if has(1) else tuple(layer.start)
        size = tuple(int(v) for v in value(2).reshape(-1)) if has(2) else tuple(layer.shape)
        stride = tuple(int(v) for v in value(3).reshape(-1)) if has(3) else tuple(layer.stride)
        if layer.mode == trt.SampleMode.FILL:
            return fill_slice(x, start, size, stride)
        if layer.mode == trt.SampleMode.STRICT_BOUNDS:
            return strict_slice(x, start, size, stride)
        raise NotEvaluable(f"layer '{layer.name}': slice mode {layer.mode!r}")

    def deconvolution(self, layer: Any, value: Any, has: Any) -> np.ndarray:
        trt = self.trt
        layer.__class__ = trt.IDeconvolutionLayer
        x = value(0)
        kernel_tensor = value(1) if has(1) else None
        bias = value(2) if has(2) else np.asarray(layer.bias)
        kernel = kernel_tensor if kernel_tensor is not None else np.asarray(layer.kernel)
        groups = int(layer.num_groups)
        maps = int(layer.num_output_maps)
        kernel_size = tuple(layer.kernel_size_nd)
        channels = x.shape[1]
        kernel = kernel.reshape((channels, maps // groups, *kernel_size))
        strides = tuple(layer.stride_nd)
        dilations = tuple(layer.dilation_nd)
        mode = layer.padding_mode
        if mode in (trt.PaddingMode.SAME_UPPER, trt.PaddingMode.SAME_LOWER):
            dilated = tuple((k - 1) * d + 1 for k, d in zip(kernel_size, dilations))
            pre, post = same_padding(mode.name, x.shape[2:], strides, dilated)
        else:
            pre, post = tuple(layer.pre_padding), tuple(layer.post_padding)
        return deconvolution(
            x, kernel, bias.reshape(-1) if bias is not None else None,
            groups=groups, strides=strides, dilations=dilations, pre=pre, post=post,
        )
