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
   endPadding -= outputPadding" runs after it). The input size is read from the network at parse time:
   the model's own dims, -1 for an axis the model leaves dynamic, whatever sizes a user binds for the run
   (Polygraphy's --input-shapes only set the optimization profile, after the parse). total then usually
   turns negative, and the parse fails.
2. auto_pad SAME_*: TensorRT's SAME padding mode; output_padding and output_shape are ignored.
   auto_pad VALID: explicit zero padding; output_padding and output_shape are ignored.
3. pads (NOTSET): pre = pads_begin, post = pads_end - op when that is >= 0; otherwise post = 0 and a
   fill-slice extends the output, after a bias-free deconvolution, with a separate bias add. A bias that
   is a tensor (not an initializer) stays on the deconvolution: the extension then holds 0, not the bias.
4. 1D ConvTranspose is unsqueezed to 2D (a trailing axis of size 1); generatePadding then reads
   output_shape with the offset len(output_shape) - 2, one too small: the added axis (I = S = K = 1)
   gets the last entry O as its target, total 1 - O, and the real axis the entry before it. With the
   spatial form [O] that is the word before the entries, which holds their count 1 (Dims.nbDims);
   with the N, C form [N, C, O] it is C. So O >= 3: negative pre-padding on the added axis, the parse
   fails; O = 2: post-padding -1, an extension of the added axis to 2, and squeezing it back to 1D
   fails ("Invalid Node", a reshape error); O = 1: the real axis is built as if output_shape were [1]
   (length 1; an odd total is then shifted). Measured on TensorRT-RTX 1.7.1's parser (same importer):
   [1] parses with length 1, [2] fails "Invalid Node", >= 3 fails "negative pre-padding".
5. auto_pad SAME_* next to a `pads` attribute (all zeros; non-zero pads are refused as invalid before
   this): TensorRT 10 and later fail the parse (getKernelParams:
   onnx/onnx-tensorrt@release/10.0-GA:importerUtils.cpp:820-822 and @release/10.1-GA:importerUtils.cpp:820-822
   `ASSERT(!attrs.count("pads") ..., ErrorCode::kINVALID_NODE)`; onnx/onnx-tensorrt@fa5aa9f (main, 10.x)
   getKernelParams keeps it as ONNXTRT_CHECK). TensorRT 8.5 and 8.6 check it with C's `assert`
   (onnx/onnx-tensorrt@release/8.5-GA:onnx2trt_utils.cpp:1142, @release/8.6-GA:onnx2trt_utils.cpp:1149),
   which release builds compile out: the node parses as SAME_* and the pads are ignored.

6. Negative pads (tf2onnx's pattern, core.producers), NOTSET without output_shape: getKernelParams reads pads as
   they are; with output_padding set on some axis, the loop of rule 3 moves a negative end pad into the
   extension (post = 0, output_padding - pads_end extra elements), and without any output_padding it never
   runs, so the layer gets setPostPadding(pads_end); setPrePadding(pads_begin) always
   (onnx/onnx-tensorrt@release/10.1-GA:onnxOpImporters.cpp:1008-1025, :1052-1053). TensorRT refuses negative
   pre/post padding (NVIDIA/TensorRT@release/10.8:include/NvInfer.h:2206, :2233): an API usage error, and
   the parser fails the node ("Invalid Node"). Measured on TensorRT-RTX 1.7.1's parser: pads [0, 0, -1, -1]
   fails in setPostPadding, [-1, 0, 0, 0] in setPrePadding; pads [0, 0, -1, 0] with output_padding [0, 1]
   parses, with the extension.

Rules that differ by TensorRT version take a `rules` argument, one of PARSER_RULES: "8.6" (TensorRT 8.5
and 8.6), "10" (10.x), "11" (11.x: the newest importer source, which keeps every rule of 10 here), "rtx"
(TensorRT-RTX 1.x, NVIDIA's RTX sibling of TensorRT, whose parser comes from the same importer: as its real
parser shows them in tests/rtx, the rules of 11, rule 5 included, and the empty deconvolution of
_unless_empty parses and builds). NEWEST_RULES is the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

from polygraphy_deconv.core.attributes import ConvTransposeAttributes, axis_names
from polygraphy_deconv.core.deconvolution import DeconvolutionGeometry, deconvolution_window
from polygraphy_deconv.core.window import AxisWindow, Window, full_length

ParserRules = Literal["8.6", "10", "11", "rtx"]
PARSER_RULES: tuple[ParserRules, ...] = ("8.6", "10", "11", "rtx")
NEWEST_RULES: ParserRules = "11"


def parser_rules(version: str) -> ParserRules:
    """The rules for a TensorRT version given as "8.6", "10", "11" (or "8.5", "10.8", "11.4", ...), or "rtx"
    (TensorRT-RTX 1.x; also "rtx-1.7" and the like).

    Raises ValueError naming the versions whose rules are known."""
    text = version.strip().lower()
    if text == "rtx" or text.startswith(("rtx-1", "rtx1")):
        return "rtx"
    major, _, minor = text.partition(".")
    if major == "8" and minor.split(".")[0] in ("5", "6"):
        return "8.6"
    if major in ("10", "11"):
        return cast(ParserRules, major)
    raise ValueError(
        f"no parser rules for TensorRT {version!r}: give 8.6 (TensorRT 8.5 and 8.6), 10 (10.x), 11 (11.x) "
        "or rtx (TensorRT-RTX 1.x)"
    )


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
    attrs: ConvTransposeAttributes,
    input_sizes: Sequence[int | None],
    bias_is_tensor: bool = False,
    rules: ParserRules = NEWEST_RULES,
    model_sizes: Sequence[int | None] | None = None,
) -> ParserBuild:
    """Predict the window TensorRT's ONNX parser gives this node under the `rules` of a TensorRT version
    (rules in the module docstring).

    `input_sizes` are the sizes the node runs at (bound by --input-shapes where the model leaves them
    dynamic); `model_sizes` the sizes the model itself declares (None where dynamic), which the parser
    reads at parse time (rule 1). Default: `input_sizes`."""
    rank = attrs.rank
    names = axis_names(rank)
    seen_by_parser = tuple(input_sizes) if model_sizes is None else tuple(model_sizes)
    if attrs.auto_pad in ("SAME_UPPER", "SAME_LOWER") and attrs.pads_beside_auto_pad and rules != "8.6":
        return ParserBuild(
            None,
            f"auto_pad {attrs.auto_pad} with a pads attribute (even all zeros): TensorRT {rules}'s parser fails "
            "the node ('Pads attribute should not be specified with SAME_LOWER or SAME_UPPER auto padding!'); "
            "TensorRT 8.5/8.6 parse it",
        )
    if attrs.auto_pad in ("SAME_UPPER", "SAME_LOWER", "VALID"):
        mode = attrs.auto_pad if attrs.auto_pad != "VALID" else "EXPLICIT_ROUND_DOWN"
        geometry = DeconvolutionGeometry(
            tuple(input_sizes), attrs.strides, attrs.kernel_shape, attrs.dilations, (0,) * rank, (0,) * rank, mode
        )
        return ParserBuild(deconvolution_window(geometry))

    if attrs.output_shape is not None:
        targets = attrs.output_shape
        if rank == 1:
            added = attrs.output_shape[-1]
            # The added axis (I = S = K = 1, output_padding 0) has total 1 - added: C++ halves give pre
            # (1 - added) / 2, negative from 3 on, and post -1 at 2. The real axis is checked first.
            if attrs.output_shape_has_batch_channel:
                if added >= 2:
                    return ParserBuild(None, _one_d_error(added))
                return ParserBuild(
                    None,
                    undefined="1D output_shape with N, C: the parser takes the channel entry as the output size",
                )
            targets = (1,)  # the entry count, read where the entry before the first one would be
        axes = []
        extension = False
        for axis, size in enumerate(input_sizes):
            stride, dk, op = attrs.strides[axis], attrs.dilated_kernel[axis], attrs.output_padding[axis]
            # A dynamic axis is -1 in the network the parser reads, bound sizes or not.
            seen = seen_by_parser[axis]
            total = full_length(-1 if seen is None else seen, stride, dk) + op - targets[axis]
            pre = _trunc_half(total)
            post = total - pre
            if pre < 0:
                if seen is None and size is not None:
                    cause = (
                        f"output_shape on {names[axis]}, whose size the model leaves dynamic: the parser reads the "
                        "model's dims, not the sizes --input-shapes binds, computes the padding from size -1 and gets"
                    )
                elif seen is None:
                    cause = (
                        f"output_shape with a dynamic input size on {names[axis]}: the parser computes the padding "
                        "from size -1 and gets"
                    )
                else:
                    cause = f"output_shape {targets[axis]} on {names[axis]} needs"
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
        if rank == 1 and attrs.output_shape[-1] >= 2:
            return ParserBuild(None, _one_d_error(attrs.output_shape[-1]))
        return _unless_empty(ParserBuild(tuple(axes), extension=extension, extension_has_bias=not bias_is_tensor))

    for axis, begin in enumerate(attrs.pads_begin):
        if begin < 0:  # rule 6
            return ParserBuild(
                None,
                f"pads begin {begin} on {names[axis]}: setPrePadding refuses negative pre-padding (an API usage error; "
                "the parser fails the node: 'Invalid Node')",
            )
    if not any(attrs.output_padding):
        for axis, end in enumerate(attrs.pads_end):
            if end < 0:
                return ParserBuild(
                    None,
                    f"pads end {end} on {names[axis]} and no output_padding: setPostPadding refuses negative "
                    "post-padding (an API usage error; the parser fails the node: 'Invalid Node')",
                )
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


def _one_d_error(added: int) -> str:
    """Why a 1D node with output_shape [..., added] (added >= 2) fails: the parser unsqueezes it to 2D and
    reads output_shape one entry off, so the added axis of size 1 is asked to become `added` long."""
    prefix = "the parser unsqueezes 1D ConvTranspose to 2D and reads output_shape one entry off: the added axis"
    if added == 2:
        return (
            f"{prefix} gets post-padding -1, an extension to 2 elements, and squeezing it back to 1D fails "
            "('Invalid Node', a reshape error)"
        )
    return (
        f"{prefix} gets pre-padding {_trunc_half(1 - added)}: "
        "'TensorRT does not support negative pre-padding in the ConvTranspose operator!'"
    )


def _unless_empty(build: ParserBuild) -> ParserBuild:
    """The parser's deconvolution keeps pre and max(post, 0) of the full result before its extension. Where that
    is a negative length, the parse fails; an empty deconvolution (length 0) parses, and its extension alone
    makes the output. Measured on TensorRT-RTX 1.7.1's parser and builder (tests/rtx): length 0 parses and
    builds; length -1 fails with "Tensor deconv_output has axis 2 with inherently negative length"."""
    assert build.window is not None
    for axis, window in enumerate(build.window):
        post = max(window.trim, 0)
        if window.full is not None and window.begin + post > window.full:
            return ParserBuild(
                None,
                f"the parser's deconvolution on {axis_names(len(build.window))[axis]} has pre-padding {window.begin} and post-padding {post} "
                f"of its full length {window.full}: a negative length ({window.full - window.begin - post}) before "
                "the extension ('inherently negative length')",
            )
    return build
