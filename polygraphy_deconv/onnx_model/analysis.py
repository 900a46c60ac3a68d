"""Analysing the ConvTranspose nodes of an ONNX model: their spatial input sizes and the core's judgement.

External weight data is never read: the model is loaded with `load_external_data=False`, and every
size comes from tensor dims (initializer dims, graph inputs, ONNX shape inference). Each node is then
judged by the core (`analyse_node`); nodes of one configuration are analysed once (`configuration_key`).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from polygraphy_deconv.core.attributes import ConvTransposeAttributes, InvalidConvTranspose
from polygraphy_deconv.core.finding import analyse_node
from polygraphy_deconv.core.model import ConvTransposeNode, ModelAnalysis, NodeBias
from polygraphy_deconv.core.trt_parser import NEWEST_RULES, ParserRules
from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.onnx_model.external_data import external_location, location_leaves_folder, referenced_path
from polygraphy_deconv.onnx_model.graph import (
    GRAPH_CHECK_NODES,
    graph_note,
    node_label,
    read_model,
    scan_graph,
    sparse_tensors,
)
from polygraphy_deconv.text import shown

if TYPE_CHECKING:
    import onnx

Dims = tuple[int | None, ...]


def analyse_model(
    path: str, input_shapes: Mapping[str, Sequence[int | str | None]] | None = None, *, rules: ParserRules = NEWEST_RULES
) -> ModelAnalysis:
    """Analyse every ConvTranspose of the model at `path` (external weight data is never read).

    `input_shapes` binds graph input shapes (Polygraphy's --input-shapes syntax, already parsed); `rules`
    are the TensorRT version's parser rules the predictions follow (core.trt_parser).
    Raises polygraphy_deconv.errors.DeconvError with one clear message on bad input.
    """
    model, serialized = read_model(path)
    return analyse_proto(model, input_shapes, path=os.path.abspath(path), serialized=serialized, rules=rules)


def analyse_proto(
    model: onnx.ModelProto,
    input_shapes: Mapping[str, Sequence[int | str | None]] | None = None,
    *,
    path: str = "",
    serialized: bytes | None = None,
    rules: ParserRules = NEWEST_RULES,
) -> ModelAnalysis:
    """Analyse every ConvTranspose of the main graph of an in-memory model (which is not modified).

    `serialized`: the model's protobuf encoding, where the caller has it (read_model): shape inference
    reads it instead of encoding the model again."""
    import onnx

    notes: list[str] = []
    bound, bound_serialized = model, serialized  # shape inference returns a new model and leaves its input alone
    if input_shapes:
        bound = onnx.ModelProto()
        bound.CopyFrom(model)
        bind_input_shapes(bound.graph, input_shapes)
        bound_serialized = None  # the bytes are the model without the bound shapes
    # One pass over the nodes and one over the initializers: a model has 100,000s of them, and each
    # look at a protobuf message from Python costs about as much as a dict lookup of its fields.
    scan = scan_graph(model.graph)
    conv_transposes, constants = scan.conv_transposes, scan.constant_outputs
    wanted = {name for _, node in conv_transposes for name in (*node.input, *node.output)}
    initializers: set[str] = set()
    initializer_dims: dict[str, Dims | None] = {}
    for init in model.graph.initializer:
        name = init.name
        initializers.add(name)
        if name in wanted:
            initializer_dims[name] = tuple(init.dims)
    shapes = inferred_dims(bound, conv_transposes, wanted, initializer_dims, notes, serialized=bound_serialized)
    # TensorRT's parser reads the sizes the model declares, not the bound ones: where they decide its build
    # (output_shape, core.trt_parser rule 1), the model's own sizes are inferred too.
    model_shapes: Mapping[str, Dims | None] = shapes
    if input_shapes and any(
        attribute.name == "output_shape" for _, node in conv_transposes for attribute in node.attribute
    ):
        model_shapes = inferred_dims(model, conv_transposes, wanted, initializer_dims, [], serialized=serialized)
    # Shapes the model states itself (graph inputs, initializers), as opposed to ones shape inference derived.
    stated = initializers | {value.name for value in model.graph.input}

    # Decoders repeat one ConvTranspose configuration many times: analyse each configuration once.
    analysed: dict[tuple[Any, ...], int] = {}  # configuration: position of its first node in `nodes`
    nodes: list[ConvTransposeNode] = []
    same_configuration: list[int] = []
    for index, node in conv_transposes:
        key = configuration_key(node, shapes, initializers, constants, stated)
        if key is not None and model_shapes is not shapes:
            key = (*key, model_shapes.get(node.input[0]))
        first = analysed.get(key) if key is not None else None
        if first is None:
            item = analyse_conv_transpose(
                node, index, shapes, initializers, constants, stated, rules,
                model_shapes=None if model_shapes is shapes else model_shapes,
            )
            if key is not None:
                analysed[key] = len(nodes)
            same_configuration.append(len(nodes))
        else:
            known = nodes[first]
            same_configuration.append(first)
            name = node_label(node, index)
            finding = known.finding.renamed(name)
            item = ConvTransposeNode(name, index, node.output[0], known.bias, finding)
        nodes.append(item)

    locations: list[tuple[str, str]] = []  # (tensor, location) of every external reference
    try:
        for tensor in itertools.chain(
            model.graph.initializer, sparse_tensors(model.graph), scan.attribute_tensors
        ):
            reference = external_location(tensor)
            if reference is not None:
                locations.append((tensor.name, reference[0]))
    except DeconvError as error:  # inspect reads no weight data, so a malformed reference is only worth a note
        locations = []
        notes.append(str(error))
    folder = os.path.dirname(path)
    # Every file a reference names, wherever it is: no output may be written over one of them.
    data_files = sorted({referenced_path(folder, location) for location in {location for _, location in locations}}) if path else []
    for tensor_name, location in locations:
        if location_leaves_folder(location):
            notes.append(
                f"tensor '{shown(tensor_name)}' keeps its data outside the model's folder ('{shown(location)}'); "
                "inspect never reads weight data, but fix and check refuse such a model"
            )

    # The structure check reads every node's inputs and outputs from Python (about 2 us a node): on very
    # large graphs inspect leaves it to fix and check, which always make it, rather than slow down by a fifth.
    if len(model.graph.node) <= GRAPH_CHECK_NODES:
        invalid = graph_note(model.graph)
        if invalid:
            notes.append(invalid)
    else:
        notes.append(
            f"the graph's structure (cycles, tensors defined twice, dangling inputs) is not checked by inspect above "
            f"{GRAPH_CHECK_NODES:,} nodes; fix and check always check it"
        )
    for holder, count in scan.subgraph_conv_transposes:
        notes.append(
            f"{count} ConvTranspose node(s) inside subgraphs of '{holder}' are not analysed (only the main graph is)"
        )
    return ModelAnalysis(path, tuple(nodes), tuple(notes), tuple(data_files), tuple(same_configuration))


def inferred_dims(
    model: onnx.ModelProto,
    conv_transposes: Sequence[tuple[int, onnx.NodeProto]],
    wanted: AbstractSet[str],
    initializer_dims: Mapping[str, Dims | None],
    notes: list[str],
    *,
    serialized: bytes | None = None,
) -> dict[str, Dims | None]:
    """The dims of the `wanted` tensors after ONNX shape inference on `model`; again with shape-tensor values
    propagated where a ConvTranspose input's sizes stay unknown. Initializer dims are read from the model
    (shape inference copies them unchanged)."""
    shapes = value_info_dims(infer_shapes(model, notes, serialized=serialized).graph, wanted) | dict(initializer_dims)
    if any(spatial_sizes_unknown(shapes.get(node.input[0])) for _, node in conv_transposes if node.input):
        # Some ConvTranspose input sizes are unknown: try again, propagating shape-tensor values.
        with_values = value_info_dims(infer_shapes(model, [], data_prop=True, serialized=serialized).graph, wanted)
        with_values |= initializer_dims
        shapes = {name: with_values.get(name) or dims for name, dims in shapes.items()} | {
            name: dims for name, dims in with_values.items() if name not in shapes
        }
    return shapes


def analyse_conv_transpose(
    node: onnx.NodeProto,
    index: int,
    shapes: Mapping[str, Dims | None],
    initializers: set[str] | frozenset[str],
    constants: set[str] | frozenset[str] = frozenset(),
    stated: set[str] | frozenset[str] | None = None,
    rules: ParserRules = NEWEST_RULES,
    *,
    model_shapes: Mapping[str, Dims | None] | None = None,
) -> ConvTransposeNode:
    """Analyse one node. `stated` names the tensors whose shapes the model states itself (graph inputs,
    initializers; None: all of them): a rank that contradicts the node there is an error, while a wrong
    rank from shape inference is ignored (onnx 1.23 declares one after an output_shape entry of 1).
    `model_shapes`: the dims of the model without --input-shapes, where `shapes` binds them (what TensorRT's
    parser reads)."""
    name = node_label(node, index)
    if len(node.input) < 2 or not node.input[0] or not node.input[1]:
        raise InvalidConvTranspose(name, "needs the inputs X and W")
    if len(node.input) > 3:
        raise InvalidConvTranspose(name, f"has {len(node.input)} inputs; ConvTranspose takes X, W and an optional bias B")
    if not node.output or not node.output[0]:
        raise InvalidConvTranspose(name, "has no output")
    attributes = attribute_values(node, name)

    x_dims = shapes.get(node.input[0])
    weight_dims = shapes.get(node.input[1])
    if weight_dims is not None and any(d is not None and d < 0 for d in weight_dims):
        shape = [d if d is not None else "?" for d in weight_dims]
        raise InvalidConvTranspose(
            shown(name), f"weight W ('{shown(node.input[1])}') has shape {shape}: a size below 0; the model is malformed"
        )
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
    ignored: list[str] = []
    if x_dims is not None and len(x_dims) != rank + 2:
        if stated is None or node.input[0] in stated:
            raise InvalidConvTranspose(name, f"input X has rank {len(x_dims)} but the weight W has rank {rank + 2}")
        ignored.append(
            f"ONNX shape inference declares input '{node.input[0]}' with rank {len(x_dims)}, but the weight has rank "
            f"{rank + 2}: ignored, the input sizes are taken as unknown"
        )
        x_dims = None
    input_sizes: Dims = (None,) * rank if x_dims is None else tuple(x_dims[2:])
    channels = x_dims[1] if x_dims is not None else None
    if channels is not None and weight_dims[0] is not None and channels != weight_dims[0]:
        raise InvalidConvTranspose(
            name, f"input X has {channels} channels but the weight W [C, M/group, k...] has C = {weight_dims[0]}"
        )

    # A declared output of another rank is not a disagreement about sizes: it is a shape inference slip.
    out_dims = shapes.get(node.output[0])
    declared = tuple(out_dims[2:]) if out_dims is not None and len(out_dims) == rank + 2 else None

    bias = NodeBias.NONE
    if len(node.input) >= 3 and node.input[2]:
        check_bias(name, shapes.get(node.input[2]), weight_dims, attrs.group)
        # A Constant node's output is weights to TensorRT's importer too (it imports Constant as weights),
        # so only a true run-time tensor (graph input, computed value) keeps the bias on the deconvolution.
        bias = NodeBias.INITIALIZER if node.input[2] in initializers or node.input[2] in constants else NodeBias.TENSOR
    model_sizes: Dims | None = None
    if model_shapes is not None:
        model_x = model_shapes.get(node.input[0])
        model_sizes = tuple(model_x[2:]) if model_x is not None and len(model_x) == rank + 2 else (None,) * rank
    finding = analyse_node(
        attrs, input_sizes, bias_is_tensor=bias is NodeBias.TENSOR, declared_sizes=declared, rules=rules, model_sizes=model_sizes
    )
    if ignored:
        finding = dataclasses.replace(finding, notes=(*finding.notes, *ignored))
    return ConvTransposeNode(name, index, node.output[0], bias, finding)


def spatial_sizes_unknown(dims: Dims | None) -> bool:
    return dims is None or None in dims[2:]


def configuration_key(
    node: onnx.NodeProto,
    shapes: Mapping[str, Dims | None],
    initializers: set[str] | frozenset[str],
    constants: set[str] | frozenset[str],
    stated: set[str] | frozenset[str] | None,
) -> tuple[Any, ...] | None:
    """Everything analyse_conv_transpose reads of a node except its names: nodes with equal keys get
    equal findings. None where the analysis would mention a tensor by name (a rank shape inference
    got wrong) or the node is malformed: those are analysed on their own."""
    inputs, outputs = node.input, node.output  # each read of a repeated field costs a lookup
    if len(inputs) < 2 or len(inputs) > 3 or not outputs or not outputs[0]:
        return None
    x, weight = inputs[0], inputs[1]
    x_dims, weight_dims = shapes.get(x), shapes.get(weight)
    if x_dims is None or weight_dims is None or len(x_dims) != len(weight_dims):
        return None
    bias = inputs[2] if len(inputs) == 3 else ""
    return (
        tuple([attribute.SerializeToString() for attribute in node.attribute]),
        x_dims, weight_dims, shapes.get(outputs[0]),
        bool(bias), shapes.get(bias) if bias else None, bias in initializers, bias in constants,
        stated is None or x in stated,
    )


# The ONNX type of each ConvTranspose attribute (Operators.md); anything else is a malformed node.
ATTRIBUTE_TYPES = {
    "kernel_shape": "INTS", "strides": "INTS", "dilations": "INTS", "pads": "INTS", "output_padding": "INTS",
    "output_shape": "INTS", "group": "INT", "auto_pad": "STRING",
}


def attribute_values(node: onnx.NodeProto, name: str) -> dict[str, Any]:
    """The node's attributes as Python values, each checked to have its ONNX type (a float stride would
    otherwise be truncated, an int where a list belongs would not be read at all)."""
    import onnx

    values: dict[str, Any] = {}
    shown_name = shown(name)
    for attribute in node.attribute:
        key = shown(attribute.name)
        if attribute.name in values:
            raise InvalidConvTranspose(shown_name, f"attribute {key} is given twice")
        if attribute.ref_attr_name:
            # Only a node inside a FunctionProto may take an attribute's value from the function's caller.
            raise InvalidConvTranspose(
                shown_name,
                f"attribute {key} refers to a function attribute ('{shown(attribute.ref_attr_name)}', ref_attr_name) "
                "instead of holding a value; only nodes inside a function body may do that",
            )
        expected = ATTRIBUTE_TYPES.get(attribute.name)
        try:
            actual = onnx.AttributeProto.AttributeType.Name(attribute.type)
        except ValueError:
            actual = f"type number {attribute.type}"
        if expected is not None and actual != expected:
            kind = {"INTS": "a list of ints", "INT": "an int", "STRING": "a string"}[expected]
            raise InvalidConvTranspose(shown_name, f"attribute {key} must be {kind} ({expected}), not {actual}")
        if expected == "STRING":
            try:
                attribute.s.decode()
            except UnicodeDecodeError:
                raise InvalidConvTranspose(
                    shown_name, f"attribute {key} is not UTF-8 text ({shown(repr(attribute.s))}); ONNX strings are UTF-8"
                ) from None
        try:
            values[attribute.name] = onnx.helper.get_attribute_value(attribute)
        except ValueError as error:  # an attribute without a type onnx can read
            raise InvalidConvTranspose(shown_name, f"attribute {key} cannot be read: {shown(str(error))}") from None
    return values


def check_bias(name: str, dims: Dims | None, weight_dims: Sequence[int | None], group: int) -> None:
    """B must be 1-D with M = W.shape[1] * group entries (one per output channel)."""
    if dims is None:
        return
    out_channels = None if weight_dims[1] is None else weight_dims[1] * group
    expected = f"[{out_channels}]" if out_channels is not None else "[M]"
    if len(dims) != 1:
        shape = [d if d is not None else "?" for d in dims]
        raise InvalidConvTranspose(name, f"bias B has shape {shape}; it must be 1-D, {expected} (one entry per output channel)")
    if dims[0] is not None and out_channels is not None and dims[0] != out_channels:
        raise InvalidConvTranspose(
            name, f"bias B has {dims[0]} entries but the node has {out_channels} output channels (W.shape[1] * group)"
        )


def bind_input_shapes(graph: onnx.GraphProto, input_shapes: Mapping[str, Sequence[int | str | None]]) -> None:
    """Write --input-shapes into the graph inputs (in place), checking names, ranks and fixed dims."""
    initializers = {init.name for init in graph.initializer}
    inputs = {value.name: value for value in graph.input if value.name not in initializers}
    for name, dims in input_shapes.items():
        if name not in inputs:
            known = ", ".join(shown(i) for i in inputs) or "none"
            raise DeconvError(f"--input-shapes names '{shown(name)}', which is not a model input (inputs: {known})")
        tensor_type = inputs[name].type.tensor_type
        given = list(dims)
        if tensor_type.HasField("shape"):
            current = tensor_type.shape.dim
            if len(current) != len(given):
                raise DeconvError(
                    f"--input-shapes gives input '{shown(name)}' {len(given)} dims {given}, but it has rank {len(current)} in the model"
                )
            for axis, (dim, value) in enumerate(zip(current, given)):
                if isinstance(value, int) and dim.HasField("dim_value") and dim.dim_value not in (0, value):
                    raise DeconvError(
                        f"--input-shapes gives input '{shown(name)}' size {value} on axis {axis}, but the model fixes it to {dim.dim_value}"
                    )
        shape = tensor_type.shape
        del shape.dim[:]
        for value in given:
            dim = shape.dim.add()
            if isinstance(value, int):
                dim.dim_value = value
            elif isinstance(value, str):
                dim.dim_param = value


def infer_shapes(
    model: onnx.ModelProto, notes: list[str], data_prop: bool = False, *, serialized: bytes | None = None
) -> onnx.ModelProto:
    """ONNX shape inference (non-strict) on the in-memory model; on failure the model is used as is.

    `data_prop` also propagates the values of shape tensors (Shape -> Gather -> Concat -> Reshape chains of
    exported models); it costs about a fifth more, so callers ask for it only when sizes are missing.
    `serialized`: the model's protobuf encoding, if at hand (encoding a large model again costs time).
    """
    import onnx

    source: onnx.ModelProto | bytes = model if serialized is None else serialized
    for propagate in (data_prop, False) if data_prop else (False,):
        try:
            return onnx.shape_inference.infer_shapes(source, strict_mode=False, data_prop=propagate)
        except Exception as error:  # noqa: BLE001 (onnx raises InferenceError, ValidationError, RuntimeError, ...)
            failure = str(error).splitlines()[0] if str(error) else type(error).__name__
    notes.append(f"ONNX shape inference failed ({failure}); only sizes written in the model are used")
    return model


def value_info_dims(graph: onnx.GraphProto, names: AbstractSet[str] | None = None) -> dict[str, Dims | None]:
    """Dims of the named tensors (all when `names` is None) as the graph's inputs, value infos and outputs
    declare them: the first declaration with a shape counts; a tensor declared without one maps to None."""
    shapes: dict[str, Dims | None] = {}
    # Exported models declare a few distinct types many times over: read each distinct one once.
    by_type: dict[bytes, Dims | None] = {}
    for values in (graph.input, graph.value_info, graph.output):
        for value in values:
            name = value.name
            if (names is not None and name not in names) or shapes.get(name) is not None:
                continue
            value_type = value.type
            key = value_type.SerializeToString()
            if key in by_type:
                dims = by_type[key]
            else:
                dims = by_type[key] = type_dims(value_type)
            if dims is None:
                shapes.setdefault(name, None)
            else:
                shapes[name] = dims
    return shapes


def type_dims(value_type: onnx.TypeProto) -> Dims | None:
    """The dims of a tensor type (None for each dynamic or unknown one); None without a tensor shape."""
    if not value_type.HasField("tensor_type") or not value_type.tensor_type.HasField("shape"):
        return None
    return tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in value_type.tensor_type.shape.dim)
