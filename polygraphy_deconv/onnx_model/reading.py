"""Reading ConvTranspose nodes and their spatial input sizes from an ONNX model.

External weight data is never read: the model is loaded with `load_external_data=False`, and every
size comes from tensor dims (initializer dims, graph inputs, ONNX shape inference). Each node is then
judged by the core (`analyse_node`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from polygraphy_deconv.core.attributes import ConvTransposeAttributes, InvalidConvTranspose
from polygraphy_deconv.core.finding import NodeFinding, analyse_node
from polygraphy_deconv.errors import DeconvError

if TYPE_CHECKING:
    import onnx

Dims = tuple[int | None, ...]


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
    notes: tuple[str, ...] = ()  # about the model as a whole (skipped subgraphs, shape inference trouble)


def analyse_model(path: str, input_shapes: Mapping[str, Sequence[int | str | None]] | None = None) -> ModelAnalysis:
    """Analyse every ConvTranspose of the model at `path` (external weight data is never read).

    `input_shapes` binds graph input shapes (Polygraphy's --input-shapes syntax, already parsed).
    Raises polygraphy_deconv.errors.DeconvError with one clear message on bad input.
    """
    model = load_model(path)
    return analyse_proto(model, input_shapes, path=os.path.abspath(path))


def load_model(path: str) -> onnx.ModelProto:
    """Load an ONNX model without its external data; one clear DeconvError for anything that is not one."""
    if not os.path.exists(path):
        raise DeconvError(f"model file not found: {path}")
    if os.path.isdir(path):
        raise DeconvError(f"{path} is a directory, not an ONNX model file")
    try:
        size = os.path.getsize(path)
    except OSError as error:
        raise DeconvError(f"cannot read {path}: {error.strerror or error}") from None
    if size == 0:
        raise DeconvError(f"{path} is empty, not an ONNX model")

    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load(path, load_external_data=False)
    except OSError as error:
        raise DeconvError(f"cannot read {path}: {error.strerror or error}") from None
    except (DecodeError, ValueError, RuntimeError) as error:
        raise DeconvError(f"{path} is not an ONNX model (it does not parse as an ONNX protobuf: {error})") from None
    # Random bytes occasionally parse as a protobuf with nothing but unknown fields.
    if not model.HasField("graph") or not model.opset_import:
        raise DeconvError(f"{path} is not an ONNX model (no graph or no opset import); is it truncated or another file type?")
    return model


def is_conv_transpose(node: onnx.NodeProto) -> bool:
    return node.op_type == "ConvTranspose" and node.domain in ("", "ai.onnx")


def node_label(node: onnx.NodeProto, index: int) -> str:
    """The node's name; an unnamed node is called ConvTranspose_<index in graph.node>."""
    return node.name or f"{node.op_type}_{index}"


def analyse_proto(
    model: onnx.ModelProto,
    input_shapes: Mapping[str, Sequence[int | str | None]] | None = None,
    *,
    path: str = "",
) -> ModelAnalysis:
    """Analyse every ConvTranspose of the main graph of an in-memory model (which is not modified)."""
    import onnx

    notes: list[str] = []
    bound = onnx.ModelProto()
    bound.CopyFrom(model)
    bind_input_shapes(bound.graph, input_shapes or {})
    inferred = infer_shapes(bound, notes)
    shapes = tensor_dims(inferred.graph)
    initializers = {init.name for init in model.graph.initializer}
    constants = {
        output for node in model.graph.node if node.op_type == "Constant" and node.domain in ("", "ai.onnx")
        for output in node.output
    }

    nodes = []
    for index, node in enumerate(model.graph.node):
        if not is_conv_transpose(node):
            continue
        nodes.append(analyse_conv_transpose(node, index, shapes, initializers, constants))

    for holder, count in subgraph_conv_transposes(model.graph):
        notes.append(
            f"{count} ConvTranspose node(s) inside subgraphs of '{holder}' are not analysed (only the main graph is)"
        )
    return ModelAnalysis(path, tuple(nodes), tuple(notes))


def analyse_conv_transpose(
    node: onnx.NodeProto,
    index: int,
    shapes: Mapping[str, Dims | None],
    initializers: set[str] | frozenset[str],
    constants: set[str] | frozenset[str] = frozenset(),
) -> ConvTransposeNode:
    import onnx

    name = node_label(node, index)
    if len(node.input) < 2 or not node.input[0] or not node.input[1]:
        raise InvalidConvTranspose(name, "needs the inputs X and W")
    attributes: dict[str, Any] = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}

    x_dims = shapes.get(node.input[0])
    weight_dims = shapes.get(node.input[1])
    if weight_dims is None:
        # Unknown weight shape: the rank still follows from kernel_shape or from X.
        if attributes.get("kernel_shape") is not None:
            weight_dims = (None, None, *(int(k) for k in attributes["kernel_shape"]))
        elif x_dims is not None:
            weight_dims = (None,) * len(x_dims)
        else:
            raise InvalidConvTranspose(
                name, "the shapes of X and W are unknown and there is no kernel_shape: cannot tell its rank"
            )
    attrs = ConvTransposeAttributes.from_onnx(name, attributes, weight_dims)
    rank = attrs.rank
    if x_dims is None:
        input_sizes: Dims = (None,) * rank
    elif len(x_dims) != rank + 2:
        raise InvalidConvTranspose(name, f"input X has rank {len(x_dims)} but the weight W has rank {rank + 2}")
    else:
        input_sizes = tuple(x_dims[2:])

    out_dims = shapes.get(node.output[0]) if node.output else None
    declared = tuple(out_dims[2:]) if out_dims is not None and len(out_dims) == rank + 2 else None

    bias = "none"
    if len(node.input) >= 3 and node.input[2]:
        # A Constant node's output is weights to TensorRT's importer too (it imports Constant as weights),
        # so only a true run-time tensor (graph input, computed value) keeps the bias on the deconvolution.
        bias = "initializer" if node.input[2] in initializers or node.input[2] in constants else "tensor"
    finding = analyse_node(attrs, input_sizes, bias_is_tensor=bias == "tensor", declared_sizes=declared)
    return ConvTransposeNode(name, index, node.output[0] if node.output else "", bias, finding)


def bind_input_shapes(graph: onnx.GraphProto, input_shapes: Mapping[str, Sequence[int | str | None]]) -> None:
    """Write --input-shapes into the graph inputs (in place), checking names, ranks and fixed dims."""
    initializers = {init.name for init in graph.initializer}
    inputs = {value.name: value for value in graph.input if value.name not in initializers}
    for name, dims in input_shapes.items():
        if name not in inputs:
            known = ", ".join(inputs) or "none"
            raise DeconvError(f"--input-shapes names '{name}', which is not a model input (inputs: {known})")
        tensor_type = inputs[name].type.tensor_type
        given = list(dims)
        if tensor_type.HasField("shape"):
            current = tensor_type.shape.dim
            if len(current) != len(given):
                raise DeconvError(
                    f"--input-shapes gives input '{name}' {len(given)} dims {given}, but it has rank {len(current)} in the model"
                )
            for axis, (dim, value) in enumerate(zip(current, given)):
                if isinstance(value, int) and dim.HasField("dim_value") and dim.dim_value not in (0, value):
                    raise DeconvError(
                        f"--input-shapes gives input '{name}' size {value} on axis {axis}, but the model fixes it to {dim.dim_value}"
                    )
        shape = tensor_type.shape
        del shape.dim[:]
        for value in given:
            dim = shape.dim.add()
            if isinstance(value, int):
                dim.dim_value = value
            elif isinstance(value, str):
                dim.dim_param = value


def infer_shapes(model: onnx.ModelProto, notes: list[str]) -> onnx.ModelProto:
    """ONNX shape inference (non-strict) on the in-memory model; on failure the model is used as is."""
    import onnx

    for data_prop in (True, False):
        try:
            return onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=data_prop)
        except Exception as error:  # noqa: BLE001 (onnx raises InferenceError, ValidationError, RuntimeError, ...)
            failure = str(error).splitlines()[0] if str(error) else type(error).__name__
    notes.append(f"ONNX shape inference failed ({failure}); only sizes written in the model are used")
    return model


def tensor_dims(graph: onnx.GraphProto) -> dict[str, Dims | None]:
    """Known dims of every named tensor of the graph: initializer dims, then declared value infos.

    A dim is None when it is dynamic or unknown; a tensor without a shape maps to None.
    """
    shapes: dict[str, Dims | None] = {}
    for value in (*graph.input, *graph.value_info, *graph.output):
        tensor_type = value.type.tensor_type
        if not value.type.HasField("tensor_type") or not tensor_type.HasField("shape"):
            shapes.setdefault(value.name, None)
            continue
        dims = tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in tensor_type.shape.dim)
        if shapes.get(value.name) is None:
            shapes[value.name] = dims
    for init in graph.initializer:
        shapes[init.name] = tuple(int(d) for d in init.dims)
    return shapes


def subgraph_conv_transposes(graph: onnx.GraphProto) -> Iterator[tuple[str, int]]:
    """(label of the node holding subgraphs, number of ConvTranspose nodes inside them) for each such node."""

    def count(sub: onnx.GraphProto) -> int:
        total = 0
        for node in sub.node:
            total += is_conv_transpose(node)
            for g in attribute_graphs(node):
                total += count(g)
        return total

    for index, node in enumerate(graph.node):
        found = sum(count(g) for g in attribute_graphs(node))
        if found:
            yield node_label(node, index), found


def attribute_graphs(node: onnx.NodeProto) -> Iterator[onnx.GraphProto]:
    import onnx

    for attribute in node.attribute:
        if attribute.type == onnx.AttributeProto.GRAPH:
            yield attribute.g
        elif attribute.type == onnx.AttributeProto.GRAPHS:
            yield from attribute.graphs
