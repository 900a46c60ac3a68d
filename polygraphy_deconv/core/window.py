"""The crop window: one model of a transposed convolution for every system.

Per spatial axis, with input size I, stride S, dilated kernel extent DK:

    L = (I - 1) * S + DK                  the full, uncropped transposed convolution
    out[j] = full[j + begin] + bias       for j in [0, length);  full[x] = 0 outside [0, L)

A window is (begin, trim): `trim` is what is cut off the end, so length = L - begin - trim. A negative
trim (or begin) means the output extends past the full result; those elements hold the bias only.
Keeping (begin, trim) instead of (begin, length) lets a window be known when I is not: for every rule
except output_shape, begin and trim do not depend on I.

This module is the reference: the window onnxruntime (CPU EP) computes, which follows the ONNX spec.
Source: ONNX Operators.md (ConvTranspose); onnxruntime core/providers/cpu/nn/conv_transpose_attributes.h
(ComputeTransposePadAndOutputShape); checked element by element against onnxruntime 1.32 in
tests/core/test_window_onnxruntime.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from polygraphy_deconv.core.attributes import ConvTransposeAttributes, axis_names


class UndecidableWindow(ValueError):
    """The window depends on an input size that is not known statically."""


def full_length(input_size: int, stride: int, dilated_kernel: int) -> int:
    """L = (I - 1) * S + DK: the length of the full transposed convolution along one axis."""
    return (input_size - 1) * stride + dilated_kernel


@dataclass(frozen=True)
class AxisWindow:
    """Which part of the full transposed convolution one axis of the output is.

    `full` is L, or None when the input size is dynamic.
    """

    begin: int
    trim: int
    full: int | None = None

    @property
    def length(self) -> int | None:
        """O = L - begin - trim, the output size along this axis (None when L is unknown)."""
        return None if self.full is None else self.full - self.begin - self.trim

    @property
    def extension_before(self) -> int:
        """Elements before the full result (a negative begin): bias only."""
        return max(-self.begin, 0)

    @property
    def extension_after(self) -> int:
        """Elements past the end of the full result (a negative trim): bias only."""
        return max(-self.trim, 0)

    def sliced(self, start: int, overhang: int) -> AxisWindow:
        """The window after a slice that starts `start` elements into this output and ends `overhang`
        elements past its end (both may be negative): begin moves by start, trim shrinks by overhang."""
        return AxisWindow(self.begin + start, self.trim - overhang, self.full)

    def describe(self) -> str:
        length = "?" if self.length is None else str(self.length)
        return f"[{self.begin}:{'L' if self.trim == 0 else f'L{-self.trim:+d}'}] ({length})"


Window = tuple[AxisWindow, ...]


def window_length(window: Window) -> tuple[int | None, ...]:
    return tuple(axis.length for axis in window)


def describe_window(window: Window) -> str:
    """Compact text: begin per axis, trim per axis, output size per axis."""
    begins = ",".join(str(a.begin) for a in window)
    trims = ",".join(str(a.trim) for a in window)
    sizes = "x".join("?" if a.length is None else str(a.length) for a in window)
    return f"b=({begins}) e=({trims}) -> {sizes}"


def split_total_padding(total: int, odd_at_end: bool) -> int:
    """The begin of a split total padding. ONNX spec: SAME_UPPER puts the odd element at the end
    (begin = total // 2); every other auto_pad puts it at the start (begin = total - total // 2)."""
    return total // 2 if odd_at_end else total - total // 2


def reference_window(attrs: ConvTransposeAttributes, input_sizes: Sequence[int | None]) -> Window:
    """The window onnxruntime and the ONNX spec give each spatial axis.

    Raises UndecidableWindow when output_shape is set and an input size is dynamic (the window then
    depends on I).
    """
    axes = []
    for axis, size in enumerate(input_sizes):
        stride, dk, op = attrs.strides[axis], attrs.dilated_kernel[axis], attrs.output_padding[axis]
        full = None if size is None else full_length(size, stride, dk)
        if attrs.output_shape is not None:
            if full is None:
                raise UndecidableWindow(
                    f"output_shape on {axis_names(attrs.rank)[axis]} with a dynamic input size: the window depends on it"
                )
            target = attrs.output_shape[axis]
            # onnxruntime clamps a negative total to 0: the output then extends past L with bias only.
            total = max(full + op - target, 0)
            begin = split_total_padding(total, odd_at_end=attrs.auto_pad == "SAME_UPPER")
            axes.append(AxisWindow(begin, full - begin - target, full))
        elif attrs.auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            # Target I * S: total = max(0, L + op - I * S) = max(0, DK - S + op), independent of I.
            # (Measured on onnxruntime 1.32: output_padding counts here; with DK < S the output is L + op.)
            total = max(dk - stride + op, 0)
            begin = split_total_padding(total, odd_at_end=attrs.auto_pad == "SAME_UPPER")
            axes.append(AxisWindow(begin, total - begin - op, full))
        elif attrs.auto_pad == "VALID":
            axes.append(AxisWindow(0, -op, full))
        else:
            axes.append(AxisWindow(attrs.pads_begin[axis], attrs.pads_end[axis] - op, full))
    return tuple(axes)


def onnxruntime_rejections(attrs: ConvTransposeAttributes, input_sizes: Sequence[int | None]) -> tuple[str, ...]:
    """Where onnxruntime refuses a node that the ONNX spec (and PyTorch) allow: the reference window
    still follows the spec, and these notes go into the finding."""
    notes = []
    names = axis_names(attrs.rank)
    for axis, (op, stride) in enumerate(zip(attrs.output_padding, attrs.strides)):
        if op >= stride:
            notes.append(
                f"{names[axis]}: onnxruntime rejects output_padding {op} >= stride {stride} "
                f"(the spec and PyTorch allow it because it is below the dilation {attrs.dilations[axis]})"
            )
    if attrs.output_shape is not None:
        for axis, size in enumerate(input_sizes):
            if size is None:
                continue
            # onnxruntime 1.32 re-derives the input size from the output: (O + pads - DK) // S + 1 must be
            # I ("Expected input size ... but got ..."). With the total clamped to 0 that fails once O
            # exceeds L (not L + output_padding) by a stride. Measured on every I <= 4, S, K <= 3, op < S
            # around L in tests/core/test_window_onnxruntime.py.
            stride, dk = attrs.strides[axis], attrs.dilated_kernel[axis]
            full = full_length(size, stride, dk)
            excess = attrs.output_shape[axis] - full
            if excess >= stride:
                notes.append(
                    f"{names[axis]}: onnxruntime rejects output_shape {attrs.output_shape[axis]}: it exceeds "
                    f"the full length {full} by {excess} >= stride {stride}"
                )
    if attrs.negative_pads:
        # onnx/onnx onnx/defs/nn/defs.cc, convTransposeShapeInference, run by onnxruntime when it loads a model:
        # measured, onnxruntime 1.32 refuses the model; 1.23.2 runs it with this window (tests/data/negative_pads).
        notes.append(
            f"onnxruntime 1.32 rejects pads {list(attrs.pads)} ('Attribute pads must not contain negative values', "
            "from ONNX shape inference; onnx's checker in full mode too); onnxruntime 1.23.2 runs them with this window"
        )
    if attrs.pads_beside_auto_pad:
        notes.append(
            f"onnxruntime rejects a pads attribute beside auto_pad {attrs.auto_pad}, even all zeros "
            "(the spec: pads cannot be used simultaneously with auto_pad)"
        )
    if attrs.output_shape_has_batch_channel:
        notes.append("output_shape includes N, C: ONNX shape inference and onnxruntime reject that form")
    return tuple(notes)
