"""The model handed to TensorRT's parser, rewritten where the parser cannot build a ConvTranspose at all.

A node that fails to parse leaves no network to patch: the parse of the whole model fails (measured on
TensorRT-RTX's parser: "negative pre-padding" for output_shape past the full result, setPrePadding and
setPostPadding for tf2onnx's negative pads). Those nodes, nodes with negative pads, and
nodes with output_shape on dynamic sizes (the parser computes their padding from -1 sizes), are rewritten
before the parse the way `fix` rewrites them: explicit pads, and a Pad plus a bias Add where the window
extends past the full result. Every other node is left to the network patch after the parse.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from polygraphy_deconv.core.deconvolution import plan_patch
from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.onnx_model.reading import ConvTransposeNode, ModelAnalysis, analyse_proto, read_model
from polygraphy_deconv.onnx_model.rewrite import NameSource, default_opset, rewrite_node
from polygraphy_deconv.text import shown

if TYPE_CHECKING:
    import onnx

InputShapes = Mapping[str, Sequence[int | str | None]]


@dataclass(frozen=True)
class ParserRewrite:
    """The model to parse and the nodes rewritten in it (empty: the original model, unchanged)."""

    model: onnx.ModelProto
    nodes: tuple[str, ...]
    analysis: ModelAnalysis  # of the original model

    @property
    def model_bytes(self) -> bytes:
        return self.model.SerializeToString()


def needs_rewrite_before_parse(analysis: ModelAnalysis, unbound: ModelAnalysis | None = None) -> list[ConvTransposeNode]:
    """The nodes the parser cannot build: predicted parse-error, negative pads (which the parser mostly refuses,
    and which onnx's shape inference refuses in any case), or output_shape on sizes that are dynamic in
    the model itself (each finding knows the model's own sizes, also where --input-shapes bound them;
    `unbound`, the analysis without --input-shapes, may be given instead)."""
    dynamic = {
        node.index
        for node in (analysis if unbound is None else unbound).nodes
        if node.finding.attributes.output_shape is not None and None in node.finding.model_input_sizes
    }
    return [node for node in analysis.nodes if node.finding.verdict.rewritten_before_parse or node.index in dynamic]


def rewrite_for_parser(path: str, input_shapes: InputShapes | None = None) -> ParserRewrite:
    """The model at `path` with every node the parser cannot build rewritten (never reads external data).

    Raises DeconvError with one line when such a node cannot be rewritten (its window is not known: bind
    the sizes with --input-shapes).
    """
    import onnx

    model, _ = read_model(path)
    absolute = os.path.abspath(path)
    analysis = analyse_proto(model, input_shapes, path=absolute)
    chosen = needs_rewrite_before_parse(analysis)
    if not chosen:
        return ParserRewrite(model, (), analysis)
    for node in chosen:
        if node.finding.reference is None:
            raise DeconvError(
                f"ConvTranspose '{shown(node.name)}' cannot be parsed by TensorRT and cannot be rewritten before the parse: "
                f"{node.finding.reason}. Note: bind the model's input sizes with --input-shapes"
            )
    opset = default_opset(model)
    if opset < 7:
        imports = "no opset of the default ONNX domain" if opset == 0 else f"opset {opset}"
        raise DeconvError(f"the model imports {imports}; rewriting '{shown(chosen[0].name)}' needs opset >= 7")
    names = NameSource(model.graph)
    # A node the bound sizes call ok still gets its window written out as explicit pads: the parser sees -1.
    replacements = {
        node.index: rewrite_node(
            model.graph.node[node.index], node, node.finding.patch or plan_patch(node.finding.reference), opset, names
        )
        for node in chosen
        if node.finding.reference is not None
    }
    rewritten = onnx.ModelProto()
    rewritten.CopyFrom(model)
    del rewritten.graph.node[:]
    for index, node in enumerate(model.graph.node):
        rewritten.graph.node.extend(replacements.get(index, [node]))
    return ParserRewrite(rewritten, tuple(node.name for node in chosen), analysis)
