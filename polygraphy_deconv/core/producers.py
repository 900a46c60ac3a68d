"""Producers recognised by the attributes they write: what a node's form says about where it came from.

tf2onnx (onnx/tensorflow-onnx@6537fcb:tf2onnx/onnx_opset/nn.py:488-494, `ConvTranspose.version_1`, TensorFlow's
Conv2DBackpropInput/Conv3DBackpropInputV2 with a constant output shape O) writes per axis

    total = S * (I - 1) + DK - O;   pads_begin = int(total / 2);   pads_end = total - pads_begin

with Python's int() truncating toward zero and nothing clamped, and no output_padding. Keras' Conv*Transpose
with kernel < stride (padding 'same' or 'valid'), or with an output_padding, asks for O > L, so total < 0:
kernel 2, stride 3 gives pads [0, -1]; kernel 3, stride 3, 'valid' with output_padding 2 gives [-1, -1].

TensorFlow itself computes those extra elements at the end: the transposed convolution is the gradient of a
forward convolution of input size O, whose padding before is max(0, total) // 2 for 'same' and 0 for 'valid'
(tensorflow/tensorflow@1142c5f:tensorflow/core/framework/kernel_shape_util.cc, GetWindowedOutputSizeVerbose), so
with total < 0 it starts at element 0 of the full result and every extra element comes after it. ONNX's formula
reads a negative pads_begin as elements before the full result (onnxruntime 1.23.2 computes it so): where
tf2onnx wrote one, the converted model and the TensorFlow one differ by that shift.
"""

from __future__ import annotations

from polygraphy_deconv.core.attributes import ConvTransposeAttributes

TF2ONNX = "tf2onnx"
TF2ONNX_SOURCE = "onnx/tensorflow-onnx@6537fcb:tf2onnx/onnx_opset/nn.py:488-494"


def _truncated_half(total: int) -> int:
    """Python's int(total / 2): division toward zero."""
    return -((-total) // 2) if total < 0 else total // 2


def negative_pads_producer(attrs: ConvTransposeAttributes) -> str:
    """The producer whose pattern a node with negative pads follows ("" for none known): tf2onnx where every
    axis has pads_begin = int(total / 2), pads_end = total - pads_begin (total = their sum) and there is no
    output_padding and no output_shape (module docstring)."""
    if not attrs.negative_pads or attrs.output_shape is not None or attrs.auto_pad != "NOTSET" or any(attrs.output_padding):
        return ""
    for begin, end in zip(attrs.pads_begin, attrs.pads_end):
        if begin != _truncated_half(begin + end):
            return ""
    return TF2ONNX


def pattern_text(producer: str) -> str:
    """The pattern in words, for a finding's reason and the report."""
    if producer == TF2ONNX:
        return (
            "tf2onnx's pattern: pads = [int(total / 2), total - int(total / 2)] per axis with total = S * (I - 1) + "
            f"DK - output size below 0, unclamped ({TF2ONNX_SOURCE}; e.g. a Keras Conv*Transpose with kernel < stride)"
        )
    return ""
