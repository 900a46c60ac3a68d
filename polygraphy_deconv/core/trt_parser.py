"""What TensorRT's ONNX parser builds for a ConvTranspose node, as a window.

Rules of the onnx-tensorrt importer (onnxOpImporters.cpp, importConvTranspose; importerUtils.cpp,
getKernelParams and generatePadding), stable from TensorRT 8.5 to 10.x:

1. output_shape with auto_pad NOTSET: total = S * (I - 1) + op + DK - output_shape; pre = total / 2
   (C++ truncation), post = total - pre. A negative pre fails to parse; a negative post becomes a
   fill-slice extension that REPLACES output_padding (the output is then output_shape - output_padding
   long: wrong shape when output_padding > 0). Otherwise output_padding is subtracted from post a second
   time; as total already holds it, the output is output_shape long. Odd totals put the extra element at
   the end, onnxruntime puts it at the start: same shape, values shifted by one (onnx-tensorrt 1042).
   Checked in the source (onnx/onnx-tensorrt main, importerUtils.cpp generatePadding: totalPadding =
   strides * (inputShape - 1) + outputPadding + DK - outputShape[outputOffset + i], begPadding = total / 2
   unless SAME_UPPER; onnxOpImporters.cpp importConvTranspose: a negative endPadding replaces
   outputPadding by -endPadding, otherwise outputPadding is kept and "if (endPadding - outputPadding >= 0)
   endPadding -= outputPadding" runs after it). The input size is read from the network at parse time,
   -1 for a dynamic axis: total then usually turns negative, and the parse fails.
2. auto_pad SAME_*: TensorRT's SAME padding mode; output_padding and output_shape are ignored.
   auto_pad VALID: explicit zero padding; output_padding and output_shape are ignored.
3. pads (NOTSET): pre = pads_begin, post = pads_end - op when that is >= 0; otherwise post = 0 and a
   fill-slice extends the output, after a bias-free deconvolution, with a separate bias add. A bias that
   is a tensor (not an initializer) stays on the deconvolution: the extension then holds 0, not the bias.
4. 1D ConvTranspose is unsqueezed to 2D (a trailing axis of size 1); output_shape is then read with an
   offset that is one too small, so its last entry also becomes the target of the added axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from polygraphy_deconv.core.deconvolution import DeconvolutionGeometry, deconvolution_window
from polygraphy_deconv.core.window import AxisWindow, Window, full_length


@dataclass(frozen=True)
class ParserBuild:
    """The predicted result of parsing one node: a window, or the reason the parse fails."""

    window: Window | None
    parse_error: str | None = None
    undefined: str | None = None  # the parser's result cannot be predicted (it reads outside the attribute)
    extension: bool = False  # the parser adds its own fill-slice extension
    extension_has_bias: bool = True  # False: a tensor bias stayed on the deconvolution


def _trunc_half(value: int) -> int:
    """C++ integer division by 2 (truncates toward zero)."""
    return -((-value) // 2) if value < 0 else value // 2


def predict_parser_build(
    attrs: ConvTransposeAttributes, input_sizes: Sequence[int | None], bias_is_tensor: bool = False
) -> ParserBuild:
    """Predict the window TensorRT's ONNX parser gives this node (rules in the module docstring)."""
    rank = attrs.rank
    if attrs.auto_pad in ("SAME_UPPER", "SAME_LOWER", "VALID"):
        mode = attrs.auto_pad if attrs.auto_pad != "VALID" else "EXPLICIT_ROUND_DOWN"
        geometry = DeconvolutionGeometry(
            tuple(input_sizes), attrs.strides, attrs.kernel_shape, attrs.dilations, (0,) * rank, (0,) * rank, mode
        )
        return ParserBuild(deconvolution_window(geometry))

    if attrs.output_shape is not None:
        if rank == 1:
            # The added axis has I = S = K = 1, so its total is 1 - output_shape[-1]: pre < 0 from 3 on.
            if attrs.output_shape[-1] >= 3:
                return ParserBuild(
                    None,
                    "the parser unsqueezes 1D ConvTranspose to 2D and reads output_shape one entry off, "
                    "so the added axis gets negative pre-padding",
                )
            return ParserBuild(None, undefined="1D output_shape: the parser reads output_shape one entry off")
        axes = []
        extension = False
        for axis, size in enumerate(input_sizes):
            stride, dk, op = attrs.strides[axis], attrs.dilated_kernel[axis], attrs.output_padding[axis]
            # A dynamic axis is -1 in the network the parser reads.
            total = full_length(-1 if size is None else size, stride, dk) + op - attrs.output_shape[axis]
            pre = _trunc_half(total)
            post = total - pre
            if pre < 0:
                cause = (
                    f"output_shape with a dynamic input size on axis {axis}: the parser computes the padding from "
                    "size -1 and gets"
                    if size is None
                    else f"output_shape {attrs.output_shape[axis]} on axis {axis} needs"
                )
                return ParserBuild(
                    None,
                    f"{cause} pre-padding {pre}: "
                    "'TensorRT does not support negative pre-padding in the ConvTranspose operator!'",
                )
            if post >= 0:
                post -= op  # output_padding subtracted a second time (it is in total already)
            # else: the parser overwrites output_padding with -post, so output_padding is lost
            extension = extension or post < 0
            axes.append(AxisWindow(pre, post, None if size is None else full_length(size, stride, dk)))
        return _unless_empty(ParserBuild(tuple(axes), extension=extension, extension_has_bias=not bias_is_tensor))

    axes = [
        AxisWindow(
            attrs.pads_begin[axis],
            attrs.pads_end[axis] - attrs.output_padding[axis],
            None if size is None else full_length(size, attrs.strides[axis], attrs.dilated_kernel[axis]),
        )
        for axis, size in enumerate(input_sizes)
    ]
    extension = any(axis.trim < 0 for axis in axes)
    return _unless_empty(ParserBuild(tuple(axes), extension=extension, extension_has_bias=not bias_is_tensor))


def _unless_empty(build: ParserBuild) -> ParserBuild:
    """The parser's deconvolution keeps pre and max(post, 0) of the full result before its extension: where
    that leaves nothing, TensorRT cannot build the layer (the window begins at or past the end of L)."""
    assert build.window is not None
    for axis, window in enumerate(build.window):
        post = max(window.trim, 0)
        if window.full is not None and window.begin + post >= window.full:
            return ParserBuild(
                None,
                f"the parser's deconvolution on axis {axis} has pre-padding {window.begin} and post-padding {post} "
                f"of its full length {window.full}: an output of {window.full - window.begin - post} elements "
                "before the extension, which TensorRT cannot build",
            )
    return build
