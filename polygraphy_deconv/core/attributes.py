"""ConvTranspose attributes, read once, validated once, with defaults made explicit.

Source: ONNX Operators.md, ConvTranspose (opset 11+); onnx/defs/nn/defs.cc (shape inference).
A missing attribute and an explicit default are the same thing here (the TorchScript exporter omits
defaults, the dynamo exporter writes them out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from polygraphy_deconv.errors import DeconvError

AUTO_PAD_MODES = ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER")


def axis_names(rank: int) -> tuple[str, ...]:
    """The names every message gives the spatial axes: W; H, W; D, H, W (the NC[D][H]W layout of ONNX)."""
    if 1 <= rank <= 3:
        return ("D", "H", "W")[3 - rank :]
    return tuple(f"spatial axis {axis}" for axis in range(rank))


class InvalidConvTranspose(DeconvError, ValueError):
    """A ConvTranspose node whose attributes or weights no system can run. The message names the node."""

    def __init__(self, node: str, problem: str) -> None:
        super().__init__(f"ConvTranspose node '{node}': {problem}")
        self.node = node
        self.problem = problem


@dataclass(frozen=True)
class ConvTransposeAttributes:
    """The attributes of one ConvTranspose node, each a tuple with one entry per spatial axis.

    `pads` is ONNX's layout: all begins, then all ends. `output_shape` holds only the spatial sizes
    (a leading N, C is stripped and remembered in `output_shape_has_batch_channel`).
    """

    node: str
    kernel_shape: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    pads: tuple[int, ...]
    output_padding: tuple[int, ...]
    output_shape: tuple[int, ...] | None
    auto_pad: str
    group: int
    output_shape_has_batch_channel: bool = False
    pads_beside_auto_pad: bool = False  # a pads attribute (all zeros) next to auto_pad other than NOTSET

    @property
    def rank(self) -> int:
        """Number of spatial axes (1, 2 or 3)."""
        return len(self.kernel_shape)

    @property
    def pads_begin(self) -> tuple[int, ...]:
        return self.pads[: self.rank]

    @property
    def pads_end(self) -> tuple[int, ...]:
        return self.pads[self.rank :]

    @property
    def negative_pads(self) -> bool:
        """A pads entry below 0 (tf2onnx writes such pads; onnx's shape inference refuses them, core.finding)."""
        return any(p < 0 for p in self.pads)

    @property
    def dilated_kernel(self) -> tuple[int, ...]:
        """DK = (K - 1) * D + 1 per axis: the extent of the dilated kernel."""
        return tuple((k - 1) * d + 1 for k, d in zip(self.kernel_shape, self.dilations))

    @classmethod
    def from_onnx(
        cls, node: str, attributes: Mapping[str, Any], weight_shape: Sequence[int | None]
    ) -> ConvTransposeAttributes:
        """Read and validate a node's attributes; `weight_shape` is W's shape [C, M/group, k1, ...].

        Raises InvalidConvTranspose with one message that names the node and the problem.
        """
        known = {
            "kernel_shape", "strides", "dilations", "pads", "output_padding", "output_shape", "auto_pad", "group"
        }
        unknown = sorted(set(attributes) - known)
        if unknown:
            raise InvalidConvTranspose(node, f"unknown attribute(s) {', '.join(unknown)}")

        if len(weight_shape) < 3 or len(weight_shape) > 5:
            raise InvalidConvTranspose(
                node, f"weight W has rank {len(weight_shape)}; ConvTranspose needs [C, M/group, k1, ...] with 1 to 3 spatial axes"
            )
        rank = len(weight_shape) - 2
        weight_kernel = tuple(weight_shape[2:])

        def ints(name: str, default: int, length: int) -> tuple[int, ...]:
            value = attributes.get(name)
            if value is None:
                return (default,) * length
            values = tuple(int(v) for v in value)
            if len(values) != length:
                raise InvalidConvTranspose(
                    node, f"{name} has {len(values)} entries but the kernel has {rank} spatial axes (expected {length})"
                )
            return values

        if "kernel_shape" in attributes:
            kernel_shape = ints("kernel_shape", 1, rank)
            if any(w is not None and w != k for w, k in zip(weight_kernel, kernel_shape)):
                raise InvalidConvTranspose(
                    node, f"kernel_shape {list(kernel_shape)} contradicts the weight's spatial shape {list(weight_kernel)}"
                )
        elif any(k is None for k in weight_kernel):
            raise InvalidConvTranspose(node, "the weight's spatial shape is unknown and there is no kernel_shape attribute")
        else:
            kernel_shape = tuple(int(k) for k in weight_kernel if k is not None)

        strides = ints("strides", 1, rank)
        dilations = ints("dilations", 1, rank)
        pads = ints("pads", 0, 2 * rank)
        output_padding = ints("output_padding", 0, rank)
        group = int(attributes.get("group", 1))
        auto_pad = attributes.get("auto_pad", "NOTSET")
        if isinstance(auto_pad, bytes):
            auto_pad = auto_pad.decode()
        auto_pad = str(auto_pad)

        output_shape: tuple[int, ...] | None = None
        with_batch_channel = False
        if attributes.get("output_shape") is not None:
            raw = tuple(int(v) for v in attributes["output_shape"])
            # The spec leaves it open whether output_shape holds N, C too; the TensorRT importer accepts
            # both (it offsets by the length difference), ONNX shape inference accepts only spatial sizes.
            if len(raw) == rank:
                output_shape = raw
            elif len(raw) == rank + 2:
                output_shape, with_batch_channel = raw[2:], True
            else:
                raise InvalidConvTranspose(
                    node, f"output_shape {list(raw)} has {len(raw)} entries; expected {rank} (spatial) or {rank + 2} (N, C, spatial)"
                )
            if any(v < 1 for v in output_shape):
                raise InvalidConvTranspose(node, f"output_shape {list(raw)} has a size below 1")

        if auto_pad not in AUTO_PAD_MODES:
            raise InvalidConvTranspose(node, f"auto_pad '{auto_pad}' is not one of {', '.join(AUTO_PAD_MODES)}")
        if auto_pad != "NOTSET" and "pads" in attributes and any(pads):
            raise InvalidConvTranspose(node, f"pads {list(pads)} cannot be combined with auto_pad {auto_pad}; drop one of them")
        # Negative pads are not refused: tf2onnx writes them (core.producers), onnxruntime up to 1.23.2 runs them
        # with the window ONNX's formula gives, and the verdict negative-pads rewrites them (core.finding).
        for name, values, low in (
            ("kernel_shape", kernel_shape, 1), ("strides", strides, 1), ("dilations", dilations, 1),
            ("output_padding", output_padding, 0),
        ):
            if any(v < low for v in values):
                raise InvalidConvTranspose(node, f"{name} {list(values)} has an entry below {low}")
        if group < 1:
            raise InvalidConvTranspose(node, f"group {group} is below 1")
        # W is [C, M/group, k...]: the input channels C split into `group` equal groups.
        if weight_shape[0] is not None and weight_shape[0] % group:
            raise InvalidConvTranspose(
                node, f"group {group} does not divide the weight's {weight_shape[0]} input channels"
            )
        # The spec: "output_padding ... must be less than either stride or dilation" (PyTorch's check too).
        for name, op, s, d in zip(axis_names(rank), output_padding, strides, dilations):
            if op >= max(s, d):
                raise InvalidConvTranspose(
                    node, f"output_padding {op} on {name} must be smaller than the stride ({s}) or the dilation ({d})"
                )

        return cls(
            node=node,
            kernel_shape=kernel_shape,
            strides=strides,
            dilations=dilations,
            pads=pads,
            output_padding=output_padding,
            output_shape=output_shape,
            auto_pad=auto_pad,
            group=group,
            output_shape_has_batch_channel=with_batch_channel,
            pads_beside_auto_pad=auto_pad != "NOTSET" and attributes.get("pads") is not None,
        )
