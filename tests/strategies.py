"""Hypothesis strategies shared by the test folders: the ConvTranspose attribute space.

`conv_transposes()` draws one ConvTranspose as a node would carry it (attributes, shapes, bias kind), over
everything that sets its window: rank 1-3, stride, kernel, dilation, group, asymmetric pads,
output_padding (mostly below the stride; sometimes in [stride, dilation), which the spec and PyTorch
accept and onnxruntime rejects), output_shape (spatial or with N, C; odd totals; totals below zero, up to
and past what onnxruntime accepts), auto_pad NOTSET/VALID/SAME_UPPER/SAME_LOWER (with output_padding and
output_shape, and dilated kernels smaller than the stride), and bias none/initializer/tensor. Every draw
has at least one output element per axis; the one pairing the spec rules out that it draws is all-zero pads
beside auto_pad (which onnxruntime rejects), since the core accepts it (bad nodes are test_negative_*'s job).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import onnx
from hypothesis import strategies as st

from tests.models import OPSET, conv_transpose_model

AUTO_PAD_FORMS = (
    "pads", "pads", "pads", "pads",  # explicit pads (auto_pad absent or NOTSET): the parser's extension lives here
    "output_shape", "output_shape", "output_shape", "VALID_output_shape", "SAME_output_shape", "output_shape_nc",
    "VALID", "SAME_UPPER", "SAME_UPPER", "SAME_LOWER", "SAME_LOWER",
)


@dataclass(frozen=True)
class Draw:
    """One drawn ConvTranspose: shapes, attributes (as a node would carry them), bias kind, opset, and
    whether the model declares the batch dimension symbolic ("N")."""

    input_shape: tuple[int, ...]
    weight_shape: tuple[int, ...]
    attributes: Mapping[str, Any] = field(hash=False)
    bias: str  # "none" | "initializer" | "tensor"
    opset: int = OPSET
    dynamic_batch: bool = False

    @property
    def spatial(self) -> tuple[int, ...]:
        return self.input_shape[2:]

    @property
    def group(self) -> int:
        return int(self.attributes.get("group") or 1)

    @property
    def output_channels(self) -> int:
        return self.weight_shape[1] * self.group

    def model(self, seed: int = 0) -> onnx.ModelProto:
        """x -> ConvTranspose -> y (tests/models.py), with the batch dimension "N" when it is dynamic."""
        shape: list[int | str] = list(self.input_shape)
        if self.dynamic_batch:
            shape[0] = "N"
        return conv_transpose_model(shape, self.weight_shape, bias=self.bias, seed=seed, opset=self.opset,
                                    **dict(self.attributes))

    def describe(self) -> str:
        """A one-line reproduction: the tests.models.conv_transpose_model call."""
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.attributes.items())
        return (f"conv_transpose_model({list(self.input_shape)}, {list(self.weight_shape)}, bias={self.bias!r}, "
                f"opset={self.opset}, {arguments})" + ("  # batch dim 'N'" if self.dynamic_batch else ""))


def _small_then_any(small: int, largest: int) -> st.SearchStrategy[int]:
    """0..small most of the time, 0..largest sometimes (largest >= 0)."""
    return st.one_of(st.integers(0, min(small, largest)), st.integers(0, largest))


@st.composite
def conv_transposes(
    draw: st.DrawFn,
    *,
    max_size: int = 6,
    max_channels: int = 4,
    opsets: Sequence[int] = (OPSET,),
    dynamic_batch: bool = False,
) -> Draw:
    """A valid ConvTranspose over the whole attribute space (module docstring). Spatial sizes 1..max_size
    (1..4 in 3D), input and output channels up to max_channels, batch 1-2."""
    rank = draw(st.integers(1, 3))
    group = draw(st.sampled_from([g for g in (1, 1, 2, 3, 4) if g <= max_channels]))
    per_group_in = draw(st.integers(1, max_channels // group))
    per_group_out = draw(st.integers(1, max_channels // group))
    batch = draw(st.integers(1, 2))
    sizes = [draw(st.integers(1, max_size if rank < 3 else min(max_size, 4))) for _ in range(rank)]
    kernel = [draw(st.integers(1, 4 if rank < 3 else 3)) for _ in range(rank)]
    strides = [draw(st.integers(1, 4)) for _ in range(rank)]
    dilations = [draw(st.sampled_from([1, 1, 2, 3])) for _ in range(rank)]
    dk = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    fulls = [(i - 1) * s + k for i, s, k in zip(sizes, strides, dk)]
    # The spec: output_padding below the stride or the dilation. onnxruntime wants it below the stride.
    output_padding = [
        draw(st.one_of(st.just(0), st.integers(0, s - 1), st.integers(0, s - 1), st.integers(0, max(s, d) - 1)))
        for s, d in zip(strides, dilations)
    ]

    attributes: dict[str, Any] = {}
    # Both spellings of a default must mean the same: sometimes write the defaults out.
    explicit_defaults = draw(st.booleans())
    if explicit_defaults or any(s != 1 for s in strides):
        attributes["strides"] = strides
    if explicit_defaults or any(d != 1 for d in dilations):
        attributes["dilations"] = dilations
    if explicit_defaults or group != 1:
        attributes["group"] = group
    if explicit_defaults or any(output_padding):
        attributes["output_padding"] = output_padding
    if draw(st.booleans()):
        attributes["kernel_shape"] = kernel

    form = draw(st.sampled_from(AUTO_PAD_FORMS))
    if form == "pads":
        # Asymmetric, mostly within the dilated kernel, sometimes up to an output of one element.
        begins, ends = [], []
        for full, op, k in zip(fulls, output_padding, dk):
            room = full + op - 1
            begins.append(draw(_small_then_any(k, room)))
            ends.append(draw(_small_then_any(k, room - begins[-1])))
        if explicit_defaults or any(begins + ends):
            attributes["pads"] = begins + ends
        if explicit_defaults:
            attributes["auto_pad"] = "NOTSET"
    elif form.endswith("output_shape") or form == "output_shape_nc":
        # Around the natural size L + op: totals odd and even, below zero by up to a stride and more (where
        # onnxruntime starts rejecting), and now and then anything down to one element.
        shape = [
            max(1, full + op + draw(st.one_of(st.integers(-k - op, s - 1), st.integers(-k - op, s + 1),
                                              st.integers(1 - full - op, s + 1))))
            for full, op, k, s in zip(fulls, output_padding, dk, strides)
        ]
        if form == "output_shape_nc":
            shape = [batch, per_group_out * group, *shape]
        attributes["output_shape"] = shape
        if form == "SAME_output_shape":
            attributes["auto_pad"] = draw(st.sampled_from(["SAME_UPPER", "SAME_LOWER"]))
        elif form == "VALID_output_shape":
            attributes["auto_pad"] = "VALID"
        elif explicit_defaults:
            attributes["auto_pad"] = "NOTSET"
            # The spec: pads are ignored when output_shape is given (only NOTSET allows non-zero pads).
            attributes["pads"] = [draw(st.integers(0, k)) for k in dk] * 2
    else:
        attributes["auto_pad"] = form
        if explicit_defaults and draw(st.integers(0, 3)) == 0:
            # Zero pads beside auto_pad: the spec says the two "cannot be used simultaneously"; onnxruntime and
            # ONNX shape inference reject the pair, TensorRT's parser reads auto_pad.
            attributes["pads"] = [0] * (2 * rank)
    return Draw(
        input_shape=(batch, per_group_in * group, *sizes),
        weight_shape=(per_group_in * group, per_group_out, *kernel),
        attributes=attributes,
        bias=draw(st.sampled_from(["none", "initializer", "initializer", "tensor"])),
        opset=draw(st.sampled_from(list(opsets))),
        dynamic_batch=dynamic_batch and draw(st.booleans()),
    )
