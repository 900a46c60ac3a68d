"""TensorRT's deconvolution layer as a window, and the patch that gives it a wanted window.

Source: TensorRT include/NvInfer.h, IDeconvolutionLayer and PaddingMode:
- explicit padding modes: the output is the full result less pre_padding at the start and
  post_padding at the end, so begin = pre, trim = post;
- SAME_UPPER: P = max(DK - S, 0), pre = P // 2, post = P - pre (output min(I * S, L)); SAME_LOWER
  swaps pre and post;
- the padding mode takes precedence over pre/post padding when both are set;
- negative pre/post padding is unsupported (headers from 7.2 on): a window that extends past the full
  result needs a fill-slice (SampleMode.FILL, zeros) after a bias-free deconvolution and a separate
  bias add, which is what the ONNX parser itself builds for output_padding > pads_end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from polygraphy_deconv.core.window import AxisWindow, Window, full_length

SAME_MODES = ("SAME_UPPER", "SAME_LOWER")


@dataclass(frozen=True)
class DeconvolutionGeometry:
    """What a TensorRT deconvolution layer is set to, per spatial axis (TensorRT names, mode as a
    PaddingMode member name)."""

    input_sizes: tuple[int | None, ...]
    strides: tuple[int, ...]
    kernel: tuple[int, ...]
    dilations: tuple[int, ...]
    pre_padding: tuple[int, ...]
    post_padding: tuple[int, ...]
    padding_mode: str = "EXPLICIT_ROUND_DOWN"

    @property
    def dilated_kernel(self) -> tuple[int, ...]:
        return tuple((k - 1) * d + 1 for k, d in zip(self.kernel, self.dilations))


def same_padding(dilated_kernel: int, stride: int, mode: str) -> tuple[int, int]:
    """(pre, post) TensorRT uses for a SAME_* deconvolution along one axis."""
    total = max(dilated_kernel - stride, 0)
    small, large = total // 2, total - total // 2
    return (small, large) if mode == "SAME_UPPER" else (large, small)


def deconvolution_window(geometry: DeconvolutionGeometry) -> Window:
    """The window a TensorRT deconvolution layer computes, from its own attributes."""
    axes = []
    for axis, size in enumerate(geometry.input_sizes):
        stride, dk = geometry.strides[axis], geometry.dilated_kernel[axis]
        if geometry.padding_mode in SAME_MODES:
            pre, post = same_padding(dk, stride, geometry.padding_mode)
        else:
            pre, post = geometry.pre_padding[axis], geometry.post_padding[axis]
        axes.append(AxisWindow(pre, post, None if size is None else full_length(size, stride, dk)))
    return tuple(axes)


@dataclass(frozen=True)
class DeconvolutionPatch:
    """How to make a deconvolution compute a given window without negative padding.

    The deconvolution gets explicit `pre_padding`/`post_padding` (padding mode EXPLICIT_ROUND_DOWN).
    Where the window extends past the full result, a fill-slice follows: it starts
    `-extension_before` elements into the deconvolution output and ends `extension_after` past its
    end, filling with zeros (a negative extension crops instead; see plan_patch); the bias then moves off the deconvolution into an add after the slice so
    the extension holds the bias, as onnxruntime's does.
    """

    pre_padding: tuple[int, ...]
    post_padding: tuple[int, ...]
    extension_before: tuple[int, ...]
    extension_after: tuple[int, ...]

    @property
    def needs_extension(self) -> bool:
        """A fill-slice and a separate bias add are needed."""
        return any(self.extension_before) or any(self.extension_after)

    def describe(self) -> str:
        text = f"pre={list(self.pre_padding)} post={list(self.post_padding)} explicit"
        if self.needs_extension:
            text += f" + fill-slice(before={list(self.extension_before)}, after={list(self.extension_after)}) + bias add"
        return text


def plan_patch(wanted: Window) -> DeconvolutionPatch:
    """The patch that makes a deconvolution compute `wanted`: non-negative parts of the window become
    padding, negative parts become a fill-slice extension.

    One degenerate case needs more: a window that begins at or past the end of the full result (or
    ends before its start) would leave the deconvolution empty, which no system accepts. There the
    padding keeps one element and the slice crops the rest (a negative extension on that side).
    """
    pre, post, before, after = [], [], [], []
    for axis in wanted:
        p, q = max(axis.begin, 0), max(axis.trim, 0)
        if axis.full is not None and p + q >= axis.full:
            if axis.trim < 0:
                p = axis.full - 1
            else:
                q = axis.full - 1
        pre.append(p)
        post.append(q)
        before.append(p - axis.begin)
        after.append(q - axis.trim)
    return DeconvolutionPatch(tuple(pre), tuple(post), tuple(before), tuple(after))


def patched_window(geometry: DeconvolutionGeometry, patch: DeconvolutionPatch) -> Window:
    """The window a deconvolution with this patch applied computes (deconvolution, then fill-slice)."""
    patched = DeconvolutionGeometry(
        geometry.input_sizes, geometry.strides, geometry.kernel, geometry.dilations,
        patch.pre_padding, patch.post_padding, "EXPLICIT_ROUND_DOWN",
    )
    return tuple(
        axis.sliced(-before, after)
        for axis, before, after in zip(deconvolution_window(patched), patch.extension_before, patch.extension_after)
    )


def windows_differ_in_shape(a: Sequence[AxisWindow], b: Sequence[AxisWindow]) -> bool:
    """Whether two windows of one input produce different output sizes (for any input size when it
    is dynamic: begin + trim then decides)."""
    return any(x.begin + x.trim != y.begin + y.trim for x, y in zip(a, b))


def windows_differ_in_offset(a: Sequence[AxisWindow], b: Sequence[AxisWindow]) -> bool:
    """Whether two windows begin at different elements of the full result."""
    return any(x.begin != y.begin for x, y in zip(a, b))
