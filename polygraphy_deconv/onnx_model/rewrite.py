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

import functools
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from polygraphy_deconv.core.deconvolution import DeconvolutionPatch
from polygraphy_deconv.core.finding import Verdict
from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.onnx_model.reading import (
    ConvTransposeNode,
    ModelAnalysis,
    analyse_proto,
    attribute_graphs,
    external_references,
    load_model,
)
from polygraphy_deconv.output_files import (
    check_output_path,
    copy_stream,
    make_folders,
    remove_quietly,
    same_file,
    write_atomically,
)

if TYPE_CHECKING:
    import onnx

InputShapes = Mapping[str, Sequence[int | str | None]]

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


def fix_model(model: onnx.ModelProto, input_shapes: InputShapes | None = None, *, path: str = "") -> FixResult:
    """A copy of `model` in which every ConvTranspose that TensorRT would build wrong is rewritten.

    `path` is where the model was read from (absolute), for the analysis it reports.
    """
    import onnx

    analysis = analyse_proto(model, input_shapes, path=path)
    unbound = analyse_proto(model) if input_shapes else analysis
    dynamic = {n.index for n in unbound.nodes if any(size is None for size in n.finding.input_sizes)}
    opset = default_opset(model)

    names = NameSource(model.graph)
    rewritten: dict[int, list[onnx.NodeProto]] = {}
    rewrites = []
    notes = list(analysis.notes)
    for item in analysis.nodes:
        finding = item.finding
        if not finding.verdict.needs_patch:
            continue
        if finding.patch is None or finding.reference is None:
            notes.append(f"cannot rewrite '{item.name}' ({finding.verdict.value}): {finding.reason}")
            continue
        if opset < 7:
            raise DeconvError(
                f"the model imports opset {opset}; rewriting '{item.name}' needs opset >= 7 "
                "(upgrade it with onnx.version_converter)"
            )
        node = model.graph.node[item.index]
        rewritten[item.index] = rewrite_node(node, item, finding.patch, opset, names)
        note = ""
        if finding.attributes.output_shape is not None and item.index in dynamic:
            note = (
                f"output_shape window computed for the --input-shapes sizes {list(finding.input_sizes)}: "
                "the rewritten node matches the original only for those sizes"
            )
        rewrites.append(
            Rewrite(item.name, finding.verdict, window_attributes_text(finding.attributes), replacement_text(item, finding.patch), note)
        )

    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    if rewritten:
        nodes: list[onnx.NodeProto] = []
        for index, node in enumerate(model.graph.node):
            nodes.extend(rewritten.get(index, [node]))
        del fixed.graph.node[:]
        fixed.graph.node.extend(nodes)
    return FixResult(fixed, tuple(rewrites), tuple(notes), analysis)


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
    versions = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    return max(versions) if versions else 1


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
    src: str, dst: str | None = None, *, input_shapes: InputShapes | None = None, in_place: bool | None = None
) -> FixResult:
    """Fix the model at `src` and write it to `dst` (or over `src` when `in_place`).

    External data is never loaded: its references are kept, and when `dst` is in another folder the
    referenced files are streamed next to it. Every file is written to a temporary file in its folder and
    moved into place, so a failure never leaves a partial or overwritten file (and data files copied
    before the failure are removed again). With nothing to rewrite, `dst` gets an unchanged copy of
    `src` (byte for byte), and `in_place` leaves `src` untouched.
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
    result = fix_model(model, input_shapes, path=os.path.abspath(src))

    src_dir, dst_dir = os.path.dirname(os.path.abspath(src)), os.path.dirname(os.path.abspath(dst))
    copies = sorted(data.items()) if os.path.realpath(src_dir) != os.path.realpath(dst_dir) else []
    for location, _ in copies:
        if os.path.abspath(dst) == os.path.abspath(os.path.join(dst_dir, location)):
            raise DeconvError(
                f"output path {dst} is where the external data file '{location}' goes next to it; choose another name"
            )
    created: list[str] = []  # files and folders this call made, removed again if a later step fails
    try:
        for location, source in copies:
            target = os.path.join(dst_dir, location)
            if os.path.exists(target) and os.path.samefile(source, target):
                continue
            make_folders(os.path.dirname(target), created)
            existed = os.path.lexists(target)
            write_atomically(target, functools.partial(copy_stream, source))
            if not existed:
                created.append(target)
        if result.rewrites:
            serialized = result.model.SerializeToString()
            write_atomically(dst, lambda handle: handle.write(serialized))
        elif not in_place:
            write_atomically(dst, functools.partial(copy_stream, src))
    except BaseException:
        for path in reversed(created):
            remove_quietly(path)
        raise
    return result


def external_data_files(model: onnx.ModelProto, path: str) -> dict[str, str]:
    """{location: absolute path} of every external data file of the model at `path`, checked without
    reading a byte: inside the model's folder (also after symlinks), present, a regular file, and long
    enough for every tensor's offset + length."""
    folder = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    files: dict[str, str] = {}
    for reference in external_references(model):
        location = reference.relative_path
        if reference.leaves_folder:
            raise DeconvError(
                f"tensor '{reference.tensor}' of {path} points at external data '{reference.location}' outside the "
                "model's folder; refusing to follow it (move the data file beside the model and fix its location)"
            )
        file = os.path.join(folder, location)
        real = os.path.realpath(file)
        if os.path.commonpath([folder, real]) != folder:
            raise DeconvError(
                f"external data '{reference.location}' of tensor '{reference.tensor}' of {path} is a link that leads "
                f"outside the model's folder (to {real}); refusing to follow it (copy the file in place of the link)"
            )
        if not os.path.lexists(file):
            raise DeconvError(
                f"external data file '{location}' of tensor '{reference.tensor}', referenced by {path}, is missing; "
                "put it beside the model"
            )
        try:
            status = os.stat(file)
        except OSError as error:
            raise DeconvError(f"cannot read external data file '{location}' of {path}: {error.strerror or error}") from None
        if not stat.S_ISREG(status.st_mode):
            raise DeconvError(f"external data '{location}' referenced by {path} is not a regular file")
        end = (reference.offset or 0) + (reference.length or 0)
        if end > status.st_size:
            raise DeconvError(
                f"external data file '{location}' of {path} holds {status.st_size} bytes, but tensor "
                f"'{reference.tensor}' needs bytes up to {end}; the file is truncated or belongs to another model"
            )
        files[location] = file
    return files


