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
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import IO, TYPE_CHECKING

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from polygraphy_deconv.core.deconvolution import DeconvolutionPatch
from polygraphy_deconv.core.finding import Verdict
from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.onnx_model.reading import (
    ConvTransposeNode,
    ModelAnalysis,
    analyse_proto,
    attribute_graphs,
    load_model,
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


def fix_model(model: onnx.ModelProto, input_shapes: InputShapes | None = None) -> FixResult:
    """A copy of `model` in which every ConvTranspose that TensorRT would build wrong is rewritten."""
    import onnx

    analysis = analyse_proto(model, input_shapes)
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
    referenced files are copied next to it. The output is written to a temporary file in its folder and
    moved into place, so a failure never leaves a partial or overwritten file.
    """
    if in_place:
        if dst is not None and not same_file(src, dst):
            raise DeconvError("give either an output path or in-place, not both")
        dst = src
    elif dst is None:
        raise DeconvError("no output path given")
    elif same_file(src, dst):
        raise DeconvError(f"refusing to overwrite the input model {src}; write to another path (-o OUT) or pass --in-place")

    dst_dir = os.path.dirname(os.path.abspath(dst))
    if os.path.isdir(dst):
        raise DeconvError(f"output path {dst} is a directory; give a file name")
    if not os.path.isdir(dst_dir):
        raise DeconvError(f"output folder {dst_dir} does not exist")

    model = load_model(src)
    src_dir = os.path.dirname(os.path.abspath(src))
    locations = external_data_locations(model, src)
    result = fix_model(model, input_shapes)

    if locations and os.path.realpath(src_dir) != os.path.realpath(dst_dir):
        for location in sorted(locations):
            source = os.path.join(src_dir, location)
            if not os.path.isfile(source):
                raise DeconvError(f"external data file '{location}' referenced by {src} is missing")
            target = os.path.join(dst_dir, location)
            if os.path.exists(target) and os.path.samefile(source, target):
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            write_atomically(target, functools.partial(copy_stream, source))
    data = result.model.SerializeToString()
    write_atomically(dst, lambda handle: handle.write(data))
    return result


def same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)


def copy_stream(source: str, handle: IO[bytes]) -> None:
    with open(source, "rb") as reader:
        shutil.copyfileobj(reader, handle, 1 << 20)


def write_atomically(path: str, write: Callable[[IO[bytes]], object]) -> None:
    """Write via a temporary file in the target's folder, then os.replace: all or nothing."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise DeconvError(f"cannot write to {folder}: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(temporary, path)
    except OSError as error:
        _remove_quietly(temporary)
        raise DeconvError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        _remove_quietly(temporary)
        raise


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def external_data_locations(model: onnx.ModelProto, path: str) -> set[str]:
    """The relative file names the model's external tensors point at (never opened here).

    Refuses locations that leave the model's folder (absolute or containing '..').
    """
    import onnx

    locations = set()
    for tensor in model_tensors(model.graph):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        entries = {entry.key: entry.value for entry in tensor.external_data}
        location = entries.get("location", "")
        if not location:
            raise DeconvError(f"tensor '{tensor.name}' of {path} has external data without a location")
        posix, windows = PurePosixPath(location.replace("\\", "/")), PureWindowsPath(location)
        if posix.is_absolute() or windows.is_absolute() or windows.drive or ".." in posix.parts:
            raise DeconvError(
                f"tensor '{tensor.name}' of {path} points at external data '{location}' outside the model's folder; "
                "refusing to follow it"
            )
        locations.add(str(posix))
    return locations


def model_tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    """Every tensor stored in the graph: initializers (dense, sparse), attribute tensors, subgraphs."""
    import onnx

    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR:
                yield attribute.t
            elif attribute.type == onnx.AttributeProto.TENSORS:
                yield from attribute.tensors
        for sub in attribute_graphs(node):
            yield from model_tensors(sub)
