"""Reading an ONNX model file (its format and size limits, never its external data), checking its graph's
structure, and one pass over its nodes (ConvTranspose nodes, Constant outputs, tensors held in attributes).
"""

from __future__ import annotations

import itertools
import os
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.text import shown

if TYPE_CHECKING:
    import onnx


PROTOBUF_LIMIT = (1 << 31) - 1  # protobuf's limit on a serialized message (2 GiB - 1), ONNX's on a model file


def load_model(path: str) -> onnx.ModelProto:
    """Load an ONNX model without its external data; one clear DeconvError for anything that is not one."""
    return read_model(path)[0]


def read_model(path: str) -> tuple[onnx.ModelProto, bytes | None]:
    """load_model, and the file's bytes where they are the model's protobuf encoding (None for a text
    format): shape inference can take them as they are instead of encoding the model again."""
    if not os.path.exists(path):
        raise DeconvError(f"model file not found: {shown(path)}")
    if os.path.isdir(path):
        raise DeconvError(f"{shown(path)} is a directory, not an ONNX model file")
    try:
        status = os.stat(path)
    except OSError as error:
        raise DeconvError(f"cannot read {shown(path)}: {error.strerror or error}") from None
    # A FIFO or a device would block or never end the read.
    if not stat.S_ISREG(status.st_mode):
        raise DeconvError(f"{shown(path)} is not a regular file (a FIFO, device or socket); give an ONNX model file")
    if status.st_size == 0:
        raise DeconvError(f"{shown(path)} is empty, not an ONNX model")
    if status.st_size > PROTOBUF_LIMIT:
        # Refused before reading a byte: reading it would only end in a MemoryError or a parse error.
        raise DeconvError(
            f"{shown(path)} is {status.st_size / (1 << 30):.1f} GiB, over the 2 GiB limit of a protobuf message: it is "
            "not an ONNX model file (a model this large keeps its weights in external data files beside it)"
        )

    import onnx
    from google.protobuf.message import DecodeError
    from google.protobuf.text_format import ParseError as TextFormatError
    from onnx.parser import ParseError as OnnxTextError

    serialized = None
    try:
        # onnx.load picks the format by file extension; the binary one is read here to keep its bytes.
        extension = os.path.splitext(path)[1]
        if onnx.serialization.registry.get_format_from_file_extension(extension) in (None, "protobuf"):
            with open(path, "rb") as handle:
                serialized = handle.read()
            model = onnx.load_model_from_string(serialized)
        else:
            with warnings.catch_warnings():  # the onnxtxt reader warns that it is experimental, on every load
                warnings.simplefilter("ignore")
                model = onnx.load(path, load_external_data=False)
    except OSError as error:
        raise DeconvError(f"cannot read {shown(path)}: {error.strerror or error}") from None
    except (DecodeError, TextFormatError, OnnxTextError, ValueError, RuntimeError) as error:
        raise DeconvError(f"{shown(path)} is not an ONNX model (it does not parse as an ONNX protobuf: {error})") from None
    # Random bytes occasionally parse as a protobuf with nothing but unknown fields.
    if not model.HasField("graph") or not model.opset_import:
        raise DeconvError(f"{shown(path)} is not an ONNX model (no graph or no opset import); is it truncated or another file type?")
    return model, serialized


GRAPH_CHECK_NODES = 20_000


def graph_problems(graph: onnx.GraphProto, limit: int = 3) -> tuple[list[str], int]:
    """How the main graph breaks ONNX's structural rules (what onnx.checker reports): a tensor defined
    twice, a node input that nothing defines before the node (dangling, or a cycle: ONNX requires the
    nodes in topological order), a graph output nothing defines. Returns up to `limit` descriptions and
    the number of problems. Names a subgraph takes from the outer scope are not looked at."""
    problems: list[str] = []
    count = 0

    def problem(text: str) -> None:
        nonlocal count
        count += 1
        if len(problems) < limit:
            problems.append(text)

    defined: set[str] = set()
    for value in graph.input:
        if value.name in defined:
            problem(f"graph input '{shown(value.name)}' is declared twice")
        defined.add(value.name)
    initializers: set[str] = set()
    for name in itertools.chain((t.name for t in graph.initializer), (s.values.name for s in graph.sparse_initializer)):
        if name in initializers:
            problem(f"initializer '{shown(name)}' is defined twice")
        initializers.add(name)
    defined |= initializers  # an initializer may also be a graph input (its default value)
    defined.add("")  # an empty name is an omitted optional input or output
    later: set[str] | None = None  # every node output, built only when an input is missing
    for index, node in enumerate(graph.node):
        inputs, outputs = node.input, node.output
        if not defined.issuperset(inputs):  # the common case costs one C-level set test
            for name in inputs:
                if name not in defined:
                    if later is None:
                        later = {output for n in graph.node for output in n.output}
                    why = "defined only by a later node (a cycle, or nodes out of order)" if name in later else "which nothing defines"
                    problem(f"node '{shown(node_label(node, index))}' reads '{shown(name)}', {why}")
        if not defined.isdisjoint(outputs):
            for name in outputs:
                if name and name in defined:
                    problem(f"tensor '{shown(name)}' is defined twice (again by node '{shown(node_label(node, index))}')")
        size = len(defined)
        defined.update(outputs)
        if len(defined) - size < len(outputs) and len({name for name in outputs if name}) < sum(1 for name in outputs if name):
            problem(f"node '{shown(node_label(node, index))}' names one output twice")
    for value in graph.output:
        if value.name not in defined:
            problem(f"graph output '{shown(value.name)}' is not computed by any node")
    return problems, count


def graph_note(graph: onnx.GraphProto) -> str:
    """One note for the problems graph_problems finds ("" for a valid graph)."""
    problems, count = graph_problems(graph)
    if not count:
        return ""
    more = f" (and {count - len(problems)} more)" if count > len(problems) else ""
    return f"the graph is not valid ONNX: {'; '.join(problems)}{more}; onnx.checker.check_model says more"


def check_graph(model: onnx.ModelProto, path: str) -> None:
    """Refuse (one DeconvError) a model whose main graph graph_problems rejects."""
    note = graph_note(model.graph)
    if note:
        raise DeconvError(f"{shown(path)}: {note}; fix the model before rewriting it")


def is_conv_transpose(node: onnx.NodeProto) -> bool:
    return node.op_type == "ConvTranspose" and node.domain in ("", "ai.onnx")


def node_label(node: onnx.NodeProto, index: int) -> str:
    """The node's name; an unnamed node is called as TensorRT's parser names its layers, `node_of_<first output>`
    (onnx-tensorrt@10.1-GA:importerUtils.cpp:1934; seen on TensorRT-RTX), else ConvTranspose_<index in graph.node>."""
    if node.name:
        return node.name
    return f"node_of_{node.output[0]}" if node.output and node.output[0] else f"{node.op_type}_{index}"


@dataclass(frozen=True)
class GraphScan:
    """What one pass over a graph's nodes collects."""

    conv_transposes: tuple[tuple[int, onnx.NodeProto], ...]  # (index in graph.node, node)
    constant_outputs: frozenset[str]  # outputs of Constant nodes
    attribute_tensors: tuple[onnx.TensorProto, ...]  # tensors in node attributes, those in subgraphs included
    subgraph_conv_transposes: tuple[tuple[str, int], ...]  # (label of the node holding subgraphs, ConvTranspose count)


def scan_graph(graph: onnx.GraphProto) -> GraphScan:
    """The ConvTranspose nodes, the Constant outputs, the tensors held in node attributes (in
    model_tensors order) and the ConvTranspose nodes in subgraphs, in one pass over the nodes."""
    conv_transposes: list[tuple[int, onnx.NodeProto]] = []
    constants: set[str] = set()
    tensors: list[onnx.TensorProto] = []
    holders: list[tuple[str, int]] = []
    for index, node in enumerate(graph.node):
        op_type = node.op_type
        if op_type == "ConvTranspose":
            if node.domain in ("", "ai.onnx"):
                conv_transposes.append((index, node))
        elif op_type == "Constant" and node.domain in ("", "ai.onnx"):
            constants.update(node.output)
        attributes = node.attribute
        if not attributes:  # most nodes
            continue
        graphs: list[onnx.GraphProto] = []
        for attribute in attributes:
            kind = attribute.type
            if kind == _TENSOR:
                tensors.append(attribute.t)
            elif kind == _TENSORS:
                tensors.extend(attribute.tensors)
            elif kind == _GRAPH:
                graphs.append(attribute.g)
            elif kind == _GRAPHS:
                graphs.extend(attribute.graphs)
        if graphs:
            for sub in graphs:
                tensors.extend(model_tensors(sub))
            found = sum(_count_conv_transposes(sub) for sub in graphs)
            if found:
                holders.append((node_label(node, index), found))
    return GraphScan(tuple(conv_transposes), frozenset(constants), tuple(tensors), tuple(holders))


def _count_conv_transposes(graph: onnx.GraphProto) -> int:
    """ConvTranspose nodes in the graph and its subgraphs."""
    total = 0
    for node in graph.node:
        total += is_conv_transpose(node)
        if node.attribute:
            for sub in attribute_graphs(node):
                total += _count_conv_transposes(sub)
    return total


def attribute_graphs(node: onnx.NodeProto) -> list[onnx.GraphProto]:
    """The subgraphs a node holds (If, Loop, Scan, custom ops); a list, because this runs for every node."""
    if not node.attribute:  # most nodes: nothing to look at
        return []
    graphs: list[onnx.GraphProto] = []
    for attribute in node.attribute:
        if attribute.type == _GRAPH:
            graphs.append(attribute.g)
        elif attribute.type == _GRAPHS:
            graphs.extend(attribute.graphs)
    return graphs


_GRAPH, _GRAPHS = 5, 10  # onnx.AttributeProto.GRAPH, GRAPHS (onnx.proto: stable enum values)


_TENSOR, _TENSORS = 4, 9  # onnx.AttributeProto.TENSOR, TENSORS


_TENSOR, _TENSORS = 4, 9  # onnx.AttributeProto.TENSOR, TENSORS


def sparse_tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    """The values and indices tensors of the graph's sparse initializers."""
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices


def model_tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    """Every tensor stored in the graph: initializers (dense, sparse), attribute tensors, subgraphs."""
    yield from graph.initializer
    yield from sparse_tensors(graph)
    for node in graph.node:
        if not node.attribute:
            continue
        for attribute in node.attribute:
            if attribute.type == _TENSOR:
                yield attribute.t
            elif attribute.type == _TENSORS:
                yield from attribute.tensors
        for sub in attribute_graphs(node):
            yield from model_tensors(sub)
