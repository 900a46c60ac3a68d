"""ConvTranspose nodes for the network tests, analysed by the core (as onnx_model.analysis would)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from polygraphy_deconv.core.finding import analyse_node
from polygraphy_deconv.core.model import ConvTransposeNode, NodeBias


def conv_transpose_node(
    attributes: dict[str, Any],
    input_shape: Sequence[int | None],
    weight_shape: Sequence[int],
    *,
    bias: str = "initializer",
    name: str = "deconv",
    output: str = "y",
) -> ConvTransposeNode:
    attrs = ConvTransposeAttributes.from_onnx(name, {k: v for k, v in attributes.items() if v is not None}, weight_shape)
    finding = analyse_node(attrs, list(input_shape)[2:], bias_is_tensor=bias == "tensor")
    return ConvTransposeNode(name=name, index=0, output=output, bias=NodeBias(bias), finding=finding)


def random_weights(weight_shape: Sequence[int], group: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal(tuple(weight_shape)).astype(np.float32)
    bias = rng.standard_normal(weight_shape[1] * group).astype(np.float32)
    return weight, bias
