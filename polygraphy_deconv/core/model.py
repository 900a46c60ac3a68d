"""The values that travel between the adapters: a model's ConvTranspose nodes, each analysed by the core, and the
analysis of a model. The ONNX adapter makes them (onnx_model/analysis.py); the TensorRT adapter, the plugin, the
report and the commands take them from here, so no adapter imports another."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from polygraphy_deconv.core.finding import NodeFinding


class NodeBias(str, enum.Enum):
    """Where a ConvTranspose node's bias (input 2) comes from."""

    NONE = "none"
    INITIALIZER = "initializer"  # an initializer or a Constant node: weights the parser can move
    TENSOR = "tensor"  # computed in the graph: the parser keeps it on the deconvolution


@dataclass(frozen=True)
class ConvTransposeNode:
    """One ConvTranspose node of a model, analysed."""

    name: str  # the node's name; an unnamed node gets the name TensorRT's parser gives its layer
    index: int  # position in graph.node
    output: str  # the node's output tensor name
    bias: NodeBias
    finding: NodeFinding


@dataclass(frozen=True)
class ModelAnalysis:
    path: str  # absolute path of the model
    nodes: tuple[ConvTransposeNode, ...]
    notes: tuple[str, ...] = ()  # about the model as a whole (skipped subgraphs, shape inference trouble)
    # absolute paths of every file the external data references name, inside the folder or not (unchecked,
    # never opened: what no output may overwrite)
    external_data: tuple[str, ...] = ()
    # For each node, the position in `nodes` of the first node with the same configuration (its own position
    # when it is the first): the two findings differ in the node name only. Empty when not recorded.
    same_configuration: tuple[int, ...] = ()

    @property
    def input_files(self) -> tuple[str, ...]:
        """The model and its external data files: what no output may overwrite."""
        return (self.path, *self.external_data)


def parser_sees_dynamic_output_shape(node: ConvTransposeNode) -> bool:
    """output_shape on sizes the model itself leaves dynamic: TensorRT's parser computes its padding from -1 sizes,
    whatever --input-shapes binds (each finding knows the model's own sizes)."""
    finding = node.finding
    return finding.attributes.output_shape is not None and None in finding.model_input_sizes


def needs_rewrite_before_parse(analysis: ModelAnalysis, unbound: ModelAnalysis | None = None) -> list[ConvTransposeNode]:
    """The nodes the parser cannot build: predicted parse-error, negative pads (which the parser mostly refuses,
    and which onnx's shape inference refuses in any case), or output_shape on sizes that are dynamic in
    the model itself (`unbound`, the analysis without --input-shapes, may be given to judge that instead)."""
    dynamic = {node.index for node in (analysis if unbound is None else unbound).nodes if parser_sees_dynamic_output_shape(node)}
    return [node for node in analysis.nodes if node.finding.verdict.rewritten_before_parse or node.index in dynamic]


def needs_rewrite(analysis: ModelAnalysis) -> list[ConvTransposeNode]:
    """The nodes `fix` rewrites: every node whose verdict needs a patch, and every node the parser cannot build
    as it stands (needs_rewrite_before_parse), so that fix and the plugin's pre-parse rewrite write the same
    nodes out."""
    before_parse = {node.index for node in needs_rewrite_before_parse(analysis)}
    return [node for node in analysis.nodes if node.finding.verdict.needs_patch or node.index in before_parse]
