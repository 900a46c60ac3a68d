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
"""

from __future__ import annotations

import dataclasses
import functools
import os
import stat
import warnings
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from polygraphy_deconv.core.deconvolution import DeconvolutionPatch, plan_patch
from polygraphy_deconv.core.finding import Verdict
from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.onnx_model.reading import (
    ConvTransposeNode,
    ModelAnalysis,
    _relative_path,
    analyse_proto,
    attribute_graphs,
    check_graph,
    external_location,
    external_references,
    load_model,
    model_tensors,
)
from polygraphy_deconv.onnx_model.tensors import check_tensor_sizes, expected_bytes
from polygraphy_deconv.output_files import (
    check_output_path,
    commit_files,
    copy_sparse,
    copy_stream,
    remove_quietly,
    same_file,
    stage_file,
)
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


def fix_model(model: onnx.ModelProto, input_shapes: InputShapes | None = None, *, path: str = "") -> FixResult:
    """A copy of `model` in which every ConvTranspose that TensorRT would build wrong is rewritten.

    A node is rewritten when its verdict needs a patch, or when TensorRT's parser cannot build it as it
    stands: output_shape on sizes that are dynamic in the model, whose padding the parser computes from -1
    sizes ("negative pre-padding"), even where the --input-shapes sizes call it ok. That selection is the
    plugin's pre-parse rewrite's (preparse.needs_rewrite_before_parse), so both write the same nodes out.
    A node that needs a rewrite and has no window to write (its sizes are not bound) is listed in
    `refused` and left as it is; fix_file writes nothing then.

    `path` is where the model was read from (absolute), for the analysis it reports.
    """
    import onnx

    # Lazy: preparse imports this module's node rewriting.
    from polygraphy_deconv.onnx_model.preparse import needs_rewrite_before_parse

    analysis = analyse_proto(model, input_shapes, path=path)
    before_parse = {n.index for n in needs_rewrite_before_parse(analysis)}
    opset = default_opset(model)

    names = NameSource(model.graph)
    rewritten: dict[int, list[onnx.NodeProto]] = {}
    rewrites = []
    refused = []
    notes = list(analysis.notes)
    for item in analysis.nodes:
        finding = item.finding
        if not finding.verdict.needs_patch and item.index not in before_parse:
            continue
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


# ---------------------------------------------------------------------------------------------------
# Files


def fix_file(
    src: str,
    dst: str | None = None,
    *,
    input_shapes: InputShapes | None = None,
    in_place: bool | None = None,
    external_data: str = "copy",
    refuse: bool = True,
    before_write: Callable[[FixResult], None] | None = None,
) -> FixResult:
    """Fix the model at `src` and write it to `dst` (or over `src` when `in_place`).

    External data is never loaded. Where `dst` is in another folder than `src`, the referenced files are
    copied (streamed, holes kept sparse) into one file named after the output, `dst + ".data"`, and the
    references point there; that file is written only if it does not exist or is the data of the
    model at `dst` this replaces (never over a file of someone else). In the same folder and in place,
    the output keeps referring to the input's data files. `external_data="reference"` writes no data
    at all: the output keeps the input's references, to be read with `src`'s folder as the base
    (check verifies so, without a copy).

    The output is written in the format its extension names (onnx's registry: .onnx binary, .json,
    .textproto, .onnxtxt), and keeps the input's permission bits. Every file goes to a temporary file
    in its folder and is moved into place, so a failure never leaves a partial or overwritten file.
    With nothing to rewrite and no data to move, `dst` gets an unchanged copy of `src` (byte for byte
    when the formats agree), and `in_place` leaves `src` untouched.

    A node that needs a rewrite and cannot get one is a DeconvError ("...; nothing written"); with
    `refuse=False` the result lists it in `refused` instead and nothing is written (check reports it after
    its inspect table). `before_write` sees the result before any file is written, and may raise to stop.
    """
    if in_place:
        if dst is not None and not same_file(src, dst):
            raise DeconvError("give either an output path or in-place, not both")
    elif dst is None:
        raise DeconvError("no output path given")
    model = load_model(src)
    data = external_data_files(model, src)
    if in_place:
        dst = os.path.realpath(src)  # a symlinked model is updated where it lives, not replaced by a file
    else:
        assert dst is not None
        check_output_path(dst, "output path", [src, *data.values()])
    output_format = model_format(dst)
    check_graph(model, src)
    check_tensor_sizes(model, src)
    result = fix_model(model, input_shapes, path=os.path.abspath(src))
    if result.refused:  # one outcome: a node left unfixed is an error, not a copy that looks fixed
        if not refuse:
            return result
        raise DeconvError(f"{refusal_message(model, result.refused)}; nothing written")
    if before_write is not None:
        before_write(result)

    src_dir, dst_dir = os.path.dirname(os.path.abspath(src)), os.path.dirname(os.path.abspath(dst))
    copy_data = bool(data) and external_data == "copy" and os.path.realpath(src_dir) != os.path.realpath(dst_dir)
    data_path = f"{dst}.data" if copy_data else ""
    if copy_data:
        check_output_path(data_path, "external data file", [src, *data.values()])
        if os.path.lexists(data_path) and not references_file(dst, os.path.basename(data_path)):
            raise DeconvError(
                f"{shown(data_path)} already exists and is not the external data of {shown(dst)}; the fixed model's "
                "data goes there: move that file away or choose another output name"
            )
    rewrite_format = output_format != model_format(src)
    staged: list[tuple[str, str]] = []  # (temporary, target), moved into place together at the end
    try:
        if copy_data:
            layout = data_layout(data)
            relocate_external_data(result.model, os.path.basename(data_path), layout)
            staged.append((stage_file(data_path, functools.partial(write_data_file, layout), like=first_value(data)), data_path))
        if result.rewrites or copy_data or rewrite_format:
            serialized = serialize_model(result.model, output_format, dst)
            staged.append((stage_file(dst, lambda handle: handle.write(serialized), like=src), dst))
        elif not in_place:
            staged.append((stage_file(dst, functools.partial(copy_stream, src), like=src), dst))
        commit_files(staged)
    except BaseException:
        for temporary, _ in staged:
            remove_quietly(temporary)
        raise
    return dataclasses.replace(
        result, data_file=data_path, shared_data=tuple(sorted(data)) if data and not copy_data and not in_place else ()
    )


def first_value(data: Mapping[str, str]) -> str:
    return data[min(data)]


DATA_ALIGNMENT = 4096  # each source file starts on a page in the combined file (mmap-friendly offsets)


def data_layout(data: Mapping[str, str]) -> list[tuple[str, str, int, int]]:
    """(location, source file, offset in the combined file, size) for each data file, in location order."""
    layout = []
    at = 0
    for location, source in sorted(data.items()):
        size = os.stat(source).st_size
        layout.append((location, source, at, size))
        at = -(-(at + size) // DATA_ALIGNMENT) * DATA_ALIGNMENT
    return layout


def write_data_file(layout: Sequence[tuple[str, str, int, int]], handle: IO[bytes]) -> None:
    end = 0
    for _, source, at, size in layout:
        copy_sparse(source, handle, at)
        end = at + size
    os.ftruncate(handle.fileno(), end)  # a trailing hole, or the gaps' end, without writing it


def relocate_external_data(model: onnx.ModelProto, name: str, layout: Sequence[tuple[str, str, int, int]]) -> None:
    """Point every external reference into the combined data file `name` (offsets shifted by its file's
    place there, lengths made explicit: a reference without one would read on into the next file)."""
    places = {location: (at, size) for location, _, at, size in layout}
    for tensor in model_tensors(model.graph):
        reference = external_location(tensor)
        if reference is None:
            continue
        location, offset, length = reference
        at, size = places[_relative_path(location)]
        offset = offset or 0
        values = {"location": name, "offset": str(at + offset), "length": str(size - offset if length is None else length)}
        kept = [(e.key, e.value) for e in tensor.external_data if e.key not in values]
        del tensor.external_data[:]
        for key, value in [*values.items(), *kept]:
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value


def references_file(model_path: str, location: str) -> bool:
    """Whether the model at `model_path` (if any) keeps external data in `location`: then that file is the
    data of an earlier output at this path, which fix may replace together with it."""
    try:
        model = load_model(model_path)
        return any(reference.relative_path == location for reference in external_references(model))
    except DeconvError:
        return False


def model_format(path: str) -> str:
    """The serialization format onnx.save would pick for `path` (by extension; binary protobuf by default)."""
    import onnx

    return onnx.serialization.registry.get_format_from_file_extension(os.path.splitext(path)[1]) or "protobuf"


def serialize_model(model: onnx.ModelProto, output_format: str, path: str) -> bytes:
    """The model in `output_format`; a text format is read back and must give the same model, else the
    output is refused (a text file nothing can read back is worse than none)."""
    import onnx

    if output_format == "protobuf":
        return model.SerializeToString()
    failure = ""
    try:
        serializer = onnx.serialization.registry.get(output_format)
        with warnings.catch_warnings():  # onnxtxt warns that it is experimental: the read-back below checks it
            warnings.simplefilter("ignore")
            data = serializer.serialize_proto(model)
            if serializer.deserialize_proto(data, onnx.ModelProto()) != model:
                failure = "it does not read back as the same model"
    except Exception as error:  # noqa: BLE001 (each text serializer raises its own errors)
        text = str(error).strip().splitlines()
        failure = text[0] if text else type(error).__name__
    if failure:
        raise DeconvError(
            f"cannot write the fixed model as {output_format} (the format {shown(path)}'s extension names): {shown(failure)}; "
            "write it to a .onnx path"
        )
    return data if isinstance(data, bytes) else data.encode()


def external_data_files(model: onnx.ModelProto, path: str) -> dict[str, str]:
    """{location: absolute path} of every external data file of the model at `path`, checked without
    reading a byte: inside the model's folder (also after symlinks), present, a regular file, and long
    enough for every tensor's offset + length (exactly its size where the reference gives no length)."""
    folder = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    files: dict[str, str] = {}
    shown_path = shown(path)
    for reference in external_references(model):
        location = reference.relative_path
        tensor, where = shown(reference.tensor), shown(reference.location)
        if "\0" in reference.location:
            raise DeconvError(
                f"tensor '{tensor}' of {shown_path} has external data location '{where}' with a NUL byte; "
                "no file has such a name: the model is malformed"
            )
        if reference.leaves_folder:
            raise DeconvError(
                f"tensor '{tensor}' of {shown_path} points at external data '{where}' outside the "
                "model's folder; refusing to follow it (move the data file beside the model and fix its location)"
            )
        file = os.path.join(folder, location)
        real = os.path.realpath(file)
        if os.path.commonpath([folder, real]) != folder:
            raise DeconvError(
                f"external data '{where}' of tensor '{tensor}' of {shown_path} is a link that leads "
                f"outside the model's folder (to {shown(real)}); refusing to follow it (copy the file in place of the link)"
            )
        if not os.path.lexists(file):
            raise DeconvError(
                f"external data file '{shown(location)}' of tensor '{tensor}', referenced by {shown_path}, is missing; "
                "put it beside the model"
            )
        try:
            status = os.stat(file)
        except OSError as error:
            raise DeconvError(
                f"cannot read external data file '{shown(location)}' of {shown_path}: {error.strerror or error}"
            ) from None
        if not stat.S_ISREG(status.st_mode):
            raise DeconvError(f"external data '{shown(location)}' referenced by {shown_path} is not a regular file")
        end = (reference.offset or 0) + (reference.length or 0)
        if end > status.st_size:
            raise DeconvError(
                f"external data file '{shown(location)}' of {shown_path} holds {status.st_size} bytes, but tensor "
                f"'{tensor}' needs bytes up to {end}; the file is truncated or belongs to another model"
            )
        files[location] = file
    # A reference without a length reads to the end of its file: that must be exactly the tensor's size.
    for tensor_proto in model_tensors(model.graph):
        reference_tuple = external_location(tensor_proto)
        if reference_tuple is None or reference_tuple[2] is not None:
            continue
        expected = expected_bytes(tensor_proto)
        available = os.stat(files[_relative_path(reference_tuple[0])]).st_size - (reference_tuple[1] or 0)
        if expected is not None and available != expected:
            raise DeconvError(
                f"tensor '{shown(tensor_proto.name)}' of {shown_path} has dims {list(tensor_proto.dims)} ({expected} bytes), "
                f"but its external data (no length given: to the end of '{shown(reference_tuple[0])}') is {available} bytes; "
                "the model is malformed or the file belongs to another model"
            )
    return files
