"""Rewriting ConvTranspose nodes into a form every TensorRT ONNX parser >= 8.5 builds correctly.

Each node whose verdict needs a patch gets the reference window written out explicitly, following the
core's patch plan (`NodeFinding.patch`):

- no extension: one ConvTranspose with auto_pad NOTSET, pads = pre_padding + post_padding and no
  output_padding / output_shape: the parser maps that to pre = pads_begin, post = pads_end.
- extension (the window reaches past the full result): a bias-free ConvTranspose with those pads, a Pad
  (constant 0) by the extension, and, with a bias, an Add of the bias reshaped to [1, M, 1, ...]. The
  Reshape keeps the bias a reference (initializer or tensor alike), so no weight data is ever read.

The ConvTranspose keeps its name; the added nodes and tensors get unique names derived from it, and the
last node writes the original output tensor. Every other node is kept byte for byte, and a fixed node is
`ok`, so fixing a fixed model changes nothing.

One rewrite (rewrite_model) serves both callers, which differ only in the nodes they choose (core.model):
`fix` every node that needs a patch (fix_model), the plugin only those TensorRT's parser cannot build at all
(rewrite_for_parser). Writing the result to files is writing.py's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from polygraphy_deconv.core.deconvolution import DeconvolutionPatch, plan_patch
from polygraphy_deconv.core.finding import Verdict
from polygraphy_deconv.core.model import ConvTransposeNode, ModelAnalysis, needs_rewrite, needs_rewrite_before_parse
from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.onnx_model.analysis import analyse_proto
from polygraphy_deconv.onnx_model.graph import attribute_graphs
from polygraphy_deconv.text import shown

if TYPE_CHECKING:
    import onnx

InputShapes = Mapping[str, Sequence[int | str | None]]

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

# The window-defining attributes a rewrite replaces; kernel_shape, strides, dilations, group stay.
WINDOW_ATTRIBUTES = ("auto_pad", "pads", "output_padding", "output_shape")


@dataclass(frozen=True)
class Rewrite:
    """One rewritten node: its verdict before, and its window attributes before and after (ONNX terms)."""

    node: str
    verdict: Verdict
    before: str
    after: str
    note: str = ""


@dataclass(frozen=True)
class FixResult:
    model: onnx.ModelProto
    rewrites: tuple[Rewrite, ...]
    notes: tuple[str, ...] = ()  # nodes that need a patch but cannot be rewritten, and why
    analysis: ModelAnalysis | None = None  # of the input model
    data_file: str = ""  # the external data file written next to the output (fix_file), "" for none
    shared_data: tuple[str, ...] = ()  # locations of the input's data files the output refers to as they are
    refused: tuple[ConvTransposeNode, ...] = ()  # nodes that need a rewrite and cannot get one (also in notes)


def fix_model(
    model: onnx.ModelProto, input_shapes: InputShapes | None = None, *, path: str = "", analysis: ModelAnalysis | None = None
) -> FixResult:
    """A copy of `model` in which every ConvTranspose that TensorRT would build wrong is rewritten: the nodes
    core.model.needs_rewrite selects (a verdict that needs a patch, or a node TensorRT's parser cannot build as
    it stands), so that fix and the plugin's pre-parse rewrite write the same nodes out. `analysis`: the
    model's, where the caller has it (else it is made here; `path`, absolute, names the model in it)."""
    analysis = analysis or analyse_proto(model, input_shapes, path=path)
    return rewrite_model(model, analysis, needs_rewrite(analysis), input_shapes)


def rewrite_for_parser(model: onnx.ModelProto, analysis: ModelAnalysis) -> FixResult:
    """The model handed to TensorRT's parser: `model` with the nodes the parser cannot build at all rewritten
    (core.model.needs_rewrite_before_parse); every other node is left to the network patch after the parse.
    A node among them that cannot be rewritten is one DeconvError, the same line fix gives."""
    result = rewrite_model(model, analysis, needs_rewrite_before_parse(analysis), declared_shapes=False)
    if result.refused:
        raise DeconvError(f"{refusal_message(model, result.refused)}; TensorRT's parser cannot build it as it is")
    return result


def rewrite_model(
    model: onnx.ModelProto,
    analysis: ModelAnalysis,
    chosen: Sequence[ConvTransposeNode],
    input_shapes: InputShapes | None = None,
    *,
    declared_shapes: bool = True,
) -> FixResult:
    """A copy of `model` with each of the `chosen` nodes of its `analysis` rewritten (the one rewrite behind fix
    and the plugin's pre-parse rewrite; they differ only in which nodes they choose).

    Nothing chosen: the result holds `model` itself (copy it before changing it). A chosen node that has no window to write (its sizes are not bound) is listed in `refused` and left as it
    is. `declared_shapes`: make the shapes the model declares agree with shape inference after the rewrite
    (refresh_declared_shapes), for a file that passes onnx's checker; the parser's copy, which only the parser
    reads, skips that shape inference."""
    import onnx

    if not chosen:  # the plugin's common case: no copy of a large model for nothing
        return FixResult(model, (), analysis.notes, analysis)
    opset = default_opset(model)
    names = NameSource(model.graph)
    rewritten: dict[int, list[onnx.NodeProto]] = {}
    rewrites = []
    refused = []
    notes = list(analysis.notes)
    for item in chosen:
        finding = item.finding
        if finding.reference is None or (finding.patch is None and finding.verdict.needs_patch):
            refused.append(item)
            notes.append(f"cannot rewrite '{item.name}' ({finding.verdict.value}): {finding.reason}")
            continue
        patch = finding.patch or plan_patch(finding.reference)  # an ok node the parser sees with -1 sizes
        if opset == 0:
            raise DeconvError(
                f"the model imports no opset of the default ONNX domain ('' or 'ai.onnx'), which its ConvTranspose "
                f"'{shown(item.name)}' belongs to; the model is malformed (add an opset_import for domain '')"
            )
        if opset < 7:
            raise DeconvError(
                f"the model imports opset {opset}; rewriting '{shown(item.name)}' needs opset >= 7 "
                "(upgrade it with onnx.version_converter)"
            )
        values = [*patch.pre_padding, *patch.post_padding, *patch.extension_before, *patch.extension_after]
        if any(not INT64_MIN <= value <= INT64_MAX for value in values):
            raise DeconvError(
                f"cannot rewrite '{shown(item.name)}': its explicit padding {list(values)} does not fit ONNX's int64 "
                "attributes (the node's sizes are beyond what any runtime computes); the model is malformed"
            )
        node = model.graph.node[item.index]
        rewritten[item.index] = rewrite_node(node, item, patch, opset, names)
        note = ""
        if finding.attributes.output_shape is not None and None in finding.model_input_sizes:
            bound = " ".join(
                f"{name}:[{','.join('?' if d is None else str(d) for d in dims)}]" for name, dims in (input_shapes or {}).items()
            )
            note = (
                f"output_shape on dynamic sizes (TensorRT's parser computes its padding from -1 sizes): its window is "
                f"written out for the input size {'x'.join(str(s) for s in finding.input_sizes)} it gets at "
                f"--input-shapes {bound}; the rewritten node matches the original only at those sizes"
            )
        if finding.verdict is Verdict.NEGATIVE_PADS:
            note = "; ".join(text for text in finding.notes if text.startswith("warning:"))
        rewrites.append(
            Rewrite(item.name, finding.verdict, window_attributes_text(finding.attributes), replacement_text(item, patch), note)
        )

    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    if rewritten:
        nodes: list[onnx.NodeProto] = []
        for index, node in enumerate(model.graph.node):
            nodes.extend(rewritten.get(index, [node]))
        del fixed.graph.node[:]
        fixed.graph.node.extend(nodes)
    if rewritten and declared_shapes:
        refresh_declared_shapes(fixed, {model.graph.node[index].output[0] for index in rewritten})
    return FixResult(fixed, tuple(rewrites), tuple(notes), analysis, refused=tuple(refused))


def refresh_declared_shapes(model: onnx.ModelProto, changed: AbstractSet[str]) -> None:
    """Make the shapes the model declares (graph outputs, value_info) agree with ONNX shape inference after a
    rewrite, in place, so that the fixed model passes onnx.checker.check_model(full_check=True) wherever the
    original did ("Inferred shape and existing shape differ" otherwise).

    A rewrite changes what shape inference derives where the original's declaration followed shape inference
    rather than what runs (SAME_* with output_padding, docs/deconv-semantics.md section 2; a 1D output_shape):
    only tensors computed from the rewritten nodes' outputs (`changed`) can be affected. Their declarations are
    taken out, shape inference runs (non-strict), and where it now contradicts a declaration (another rank, or
    another fixed size on an axis) the inferred dims replace the declared ones; every other declaration stays
    as it was, byte for byte."""
    import onnx

    graph = model.graph
    downstream = set(changed)
    for node in graph.node:  # nodes are in topological order (checked before any rewrite)
        if not downstream.isdisjoint(node.input):
            downstream.update(name for name in node.output if name)
    declared = [v for v in (*graph.value_info, *graph.output) if v.name in downstream and v.type.tensor_type.HasField("shape")]
    if not declared:
        return
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    kept = [v for v in probe.graph.value_info if v.name not in downstream]
    del probe.graph.value_info[:]
    probe.graph.value_info.extend(kept)
    for value in probe.graph.output:
        if value.name in downstream:
            value.type.tensor_type.ClearField("shape")
    try:
        inferred = onnx.shape_inference.infer_shapes(probe, strict_mode=False, data_prop=True)
    except Exception:  # noqa: BLE001 (onnx raises InferenceError, ValidationError, RuntimeError, ...)
        return  # nothing to compare with: the declarations stay
    shapes = {v.name: v.type.tensor_type.shape for v in (*inferred.graph.value_info, *inferred.graph.output)
              if v.type.tensor_type.HasField("shape")}
    for value in declared:
        new = shapes.get(value.name)
        old = value.type.tensor_type.shape
        if new is None or not _shapes_conflict(old, new):
            continue
        if len(old.dim) != len(new.dim):
            old.CopyFrom(new)
            continue
        for dim, fresh in zip(old.dim, new.dim):
            if dim.HasField("dim_value") and fresh.HasField("dim_value") and dim.dim_value != fresh.dim_value:
                dim.dim_value = fresh.dim_value


def _shapes_conflict(declared: onnx.TensorShapeProto, inferred: onnx.TensorShapeProto) -> bool:
    """What onnx's checker calls a difference: another rank, or two fixed sizes that differ on an axis."""
    if len(declared.dim) != len(inferred.dim):
        return True
    return any(
        a.HasField("dim_value") and b.HasField("dim_value") and a.dim_value != b.dim_value
        for a, b in zip(declared.dim, inferred.dim)
    )


def refusal_message(model: onnx.ModelProto, refused: Sequence[ConvTransposeNode]) -> str:
    """One line for nodes that need a rewrite and cannot get one: the first node, why, and what to do."""
    item = refused[0]
    finding = item.finding
    more = f" (and {len(refused) - 1} more node(s))" if len(refused) > 1 else ""
    text = f"cannot rewrite ConvTranspose '{shown(item.name)}'{more} ({finding.verdict.value}: {shown(finding.reason)})"
    if finding.reference is None and any(size is None for size in finding.input_sizes):
        example = input_shapes_example(model)
        where = f" --input-shapes {shown(example)}" if example else " --input-shapes"
        return (
            f"{text}: its window depends on input sizes the model leaves dynamic; bind them with{where} "
            "(the dynamic dims set to the sizes it will run at)"
        )
    return text


def input_shapes_example(model: onnx.ModelProto) -> str:
    """The graph inputs with dynamic dims in --input-shapes syntax, each dynamic dim by its name
    (dim_param, or d<axis>), e.g. "x:[1,3,H,W]"."""
    initializers = {init.name for init in model.graph.initializer}
    arguments = []
    for value in model.graph.input:
        if value.name in initializers or not value.type.tensor_type.HasField("shape"):
            continue
        dims = []
        for axis, dim in enumerate(value.type.tensor_type.shape.dim):
            if dim.HasField("dim_value") and dim.dim_value > 0:
                dims.append(str(dim.dim_value))
            else:
                dims.append(dim.dim_param if dim.HasField("dim_param") and dim.dim_param else f"d{axis}")
        if any(not d.isdigit() for d in dims):
            arguments.append(f"{value.name}:[{','.join(dims)}]")
    return " ".join(arguments)


def rewrite_node(
    node: onnx.NodeProto, item: ConvTransposeNode, patch: DeconvolutionPatch, opset: int, names: NameSource
) -> list[onnx.NodeProto]:
    """The nodes that replace one ConvTranspose: itself with explicit pads, then Pad and bias Add if needed."""
    import onnx
    from onnx import helper

    rank = len(patch.pre_padding)
    conv = onnx.NodeProto()
    conv.CopyFrom(node)
    kept = [a for a in node.attribute if a.name not in WINDOW_ATTRIBUTES]
    del conv.attribute[:]
    conv.attribute.extend(kept)
    conv.attribute.append(helper.make_attribute("pads", [*patch.pre_padding, *patch.post_padding]))
    if not patch.needs_extension:
        return [conv]

    label = item.name
    has_bias = item.bias != "none"
    bias = node.input[2] if has_bias else ""
    del conv.input[2:]
    full = names.tensor(f"{label}/full")
    conv.output[0] = full
    padded = node.output[0] if not has_bias else names.tensor(f"{label}/extended")

    pads = [0, 0, *patch.extension_before, 0, 0, *patch.extension_after]
    nodes = [conv]
    pad_name = names.node(f"{label}/extension")
    if opset >= 11:
        pads_tensor = names.tensor(f"{label}/extension_pads")
        nodes.append(int64_constant(names.node(f"{label}/extension_pads"), pads_tensor, pads))
        nodes.append(helper.make_node("Pad", [full, pads_tensor], [padded], name=pad_name, mode="constant"))
    else:
        nodes.append(helper.make_node("Pad", [full], [padded], name=pad_name, mode="constant", pads=pads))
    if has_bias:
        shape_tensor = names.tensor(f"{label}/bias_shape")
        bias_tensor = names.tensor(f"{label}/bias_broadcast")
        nodes.append(int64_constant(names.node(f"{label}/bias_shape"), shape_tensor, [1, -1, *([1] * rank)]))
        nodes.append(helper.make_node("Reshape", [bias, shape_tensor], [bias_tensor], name=names.node(f"{label}/bias_reshape")))
        nodes.append(helper.make_node("Add", [padded, bias_tensor], [node.output[0]], name=names.node(f"{label}/bias_add")))
    return nodes


def int64_constant(node_name: str, output: str, values: Sequence[int]) -> onnx.NodeProto:
    from onnx import TensorProto, helper

    value = helper.make_tensor(output, TensorProto.INT64, [len(values)], list(values))
    return helper.make_node("Constant", [], [output], name=node_name, value=value)


def window_attributes_text(attrs: ConvTransposeAttributes) -> str:
    """The attributes that set a node's window, in ONNX terms (defaults left out)."""
    parts = []
    if attrs.auto_pad != "NOTSET":
        parts.append(f"auto_pad={attrs.auto_pad}")
    elif attrs.output_shape is None or any(attrs.pads):
        parts.append(f"pads={list(attrs.pads)}")
    if any(attrs.output_padding):
        parts.append(f"output_padding={list(attrs.output_padding)}")
    if attrs.output_shape is not None:
        parts.append(f"output_shape={list(attrs.output_shape)}")
    return " ".join(parts)


def replacement_text(item: ConvTransposeNode, patch: DeconvolutionPatch) -> str:
    text = f"pads={[*patch.pre_padding, *patch.post_padding]}"
    if patch.needs_extension:
        sides = []
        if any(patch.extension_before):
            sides.append(f"before={list(patch.extension_before)}")
        if any(patch.extension_after):
            sides.append(f"after={list(patch.extension_after)}")
        text += f" + Pad({', '.join(sides)})"
        if item.bias != "none":
            text += " + bias Add"
    return text


def default_opset(model: onnx.ModelProto) -> int:
    """The default domain's opset version; 0 when the model imports none."""
    versions = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    return max(versions) if versions else 0


class NameSource:
    """Fresh node and tensor names derived from a base, unique in the whole model (subgraphs included)."""

    def __init__(self, graph: onnx.GraphProto) -> None:
        self.used: set[str] = set()
        self._collect(graph)

    def _collect(self, graph: onnx.GraphProto) -> None:
        self.used.update(v.name for v in (*graph.input, *graph.output, *graph.value_info))
        self.used.update(i.name for i in graph.initializer)
        for node in graph.node:
            self.used.add(node.name)
            self.used.update(node.input)
            self.used.update(node.output)
            for sub in attribute_graphs(node):
                self._collect(sub)

    def _fresh(self, base: str) -> str:
        name, suffix = base, 1
        while name in self.used:
            name, suffix = f"{base}_{suffix}", suffix + 1
        self.used.add(name)
        return name

    node = _fresh
    tensor = _fresh
