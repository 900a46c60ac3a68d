"""Reading ConvTranspose nodes and their spatial input sizes from an ONNX model.

INTERFACE (filled in by the ONNX-adapter work; other modules rely on these names and signatures).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from polygraphy_deconv.core.finding import NodeFinding


@dataclass(frozen=True)
class ConvTransposeNode:
    """One ConvTranspose node of a model, analysed."""

    name: str  # the node's name; an unnamed node gets "ConvTranspose_<index>" (index in graph.node)
    index: int  # position in graph.node
    output: str  # the node's output tensor name
    bias: str  # "none" | "initializer" | "tensor"
    finding: NodeFinding


@dataclass(frozen=True)
class ModelAnalysis:
    path: str  # absolute path of the model
    nodes: tuple[ConvTransposeNode, ...]


def analyse_model(path: str, input_shapes: Mapping[str, Sequence[int | str | None]] | None = None) -> ModelAnalysis:
    """Analyse every ConvTranspose of the model at `path` (external weight data is never read).

    `input_shapes` binds graph input shapes (Polygraphy's --input-shapes syntax, already parsed).
    Raises polygraphy_deconv.errors.DeconvError with one clear message on bad input.
    """
    raise NotImplementedError
