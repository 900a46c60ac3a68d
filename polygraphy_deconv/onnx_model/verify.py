"""Checking a fixed model against its original with Polygraphy's own comparator on onnxruntime.

Only APIs that are the same in polygraphy 0.49.26 and 0.53.x are used: `OnnxrtRunner(SessionFromOnnx(path))`,
`DataLoader(seed=, iterations=, input_metadata=)`, `Comparator.run` (materialised results) and
`Comparator.compare_accuracy` with its default compare function (no deprecated `CompareFunc.simple`;
its result is one `AccuracyResult` in 0.49 and a list of them in 0.53, both true when everything matched).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.text import shown

if TYPE_CHECKING:
    from polygraphy_deconv.onnx_model.loaded import LoadedModel

InputShapes = Mapping[str, Sequence[int | str | None]]

GiB = 1 << 30
DEFAULT_MEMORY_LIMIT = 2 * GiB
# Bytes per element of each onnx.TensorProto.DataType that can be an input or output here (stable enum values).
ELEMENT_BYTES = {1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2}
# What the verification holds per byte of output: both models' outputs, Polygraphy's comparator arrays
# (absolute and relative difference) and onnxruntime's working buffers. Measured here: fix --verify of a
# 3x3 stride-2 ConvTranspose on x [1, 1, 3000, 3000] (36 MB in, 144 MB out) peaks 1.5 GB above the process
# at rest, about 10x its output; [1, 1, 1000, 1000] likewise.
OUTPUT_COPIES = 10

ORIGINAL, FIXED = "original", "fixed"


@dataclass(frozen=True)
class OutputComparison:
    name: str
    passed: bool
    original_shape: tuple[int, ...]
    fixed_shape: tuple[int, ...]
    max_abs_diff: float | None  # None when the shapes differ

    def describe(self) -> str:
        status = "PASSED" if self.passed else "FAILED"
        if self.max_abs_diff is None:
            return f"{self.name}: {status} (shape {list(self.original_shape)} vs {list(self.fixed_shape)})"
        return f"{self.name}: {status} (shape {list(self.original_shape)}, max abs diff {self.max_abs_diff:.3g})"


@dataclass(frozen=True)
class Verification:
    passed: bool
    outputs: tuple[OutputComparison, ...]
    seed: int
    # ConvTranspose nodes of the original that this onnxruntime refuses (negative pads), run as ONNX's formula
    # writes them out (formula_stand_in); empty when the original ran as it is
    stand_in: tuple[str, ...] = ()

    def stand_in_text(self) -> str:
        """One line saying what ran in place of the original ("" when it ran as it is)."""
        if not self.stand_in:
            return ""
        import onnxruntime

        names = ", ".join(f"'{shown(name)}'" for name in self.stand_in)
        return (
            f"original: onnxruntime {onnxruntime.__version__} refuses the negative pads of {names}; they ran as ONNX's "
            "formula writes them (the ConvTranspose without pads, then a Pad by minus the pads, then the bias)"
        )


def verify_fix(
    original_path: str,
    fixed_path: str,
    seed: int | None = None,
    input_shapes: InputShapes | None = None,
    *,
    fixed_data_folder: str | None = None,
    original_model: LoadedModel | None = None,
) -> Verification:
    """Run both models on onnxruntime (CPU) with the same seeded random inputs and compare every output
    with Polygraphy's default tolerances (rtol = atol = 1e-5, elementwise).

    `fixed_data_folder`: where the fixed model's external data lives when that is not its own folder
    (check writes only the model to a temporary folder and reads the weights where they are). Text-format
    models (.json, .textproto, .onnxtxt), which onnxruntime cannot read, are given to it as bytes.

    onnxruntime's default logger is set to fatal-only (process-wide): a model it rejects becomes one
    DeconvError here instead of its own error log plus ours. `original_model`: the model at `original_path` as the
    command read it (onnxruntime then gets its bytes, and the file is not read again).
    """
    import numpy as np
    import onnxruntime
    from polygraphy.backend.onnxrt import OnnxrtRunner
    from polygraphy.common import TensorMetadata
    from polygraphy.comparator import Comparator, DataLoader
    from polygraphy.logger import G_LOGGER

    seed = 1 if seed is None else seed
    onnxruntime.set_default_logger_severity(4)
    metadata = TensorMetadata()
    for name, dims in (input_shapes or {}).items():
        # Polygraphy's DataLoader fills the dims still dynamic itself (with a warning).
        metadata.add(name, dtype=None, shape=[d if isinstance(d, int) else -1 for d in dims])
    original_loader, stand_in = original_session_loader(original_path, original_model)
    runners = [
        OnnxrtRunner(original_loader, name=ORIGINAL),
        OnnxrtRunner(session_loader(fixed_path, fixed_data_folder), name=FIXED),
    ]
    try:
        with G_LOGGER.verbosity(G_LOGGER.CRITICAL):
            loader = DataLoader(seed=seed, iterations=1, input_metadata=metadata or None)
            results = Comparator.run(runners, data_loader=loader)
            accuracy = Comparator.compare_accuracy(results)
    except Exception as error:  # noqa: BLE001 (PolygraphyException from G_LOGGER.critical, onnxruntime's errors)
        message = str(error).strip().splitlines()
        raise DeconvError(
            f"onnxruntime could not run the models for verification: {message[-1] if message else type(error).__name__}"
        ) from None

    per_function = [accuracy] if hasattr(accuracy, "keys") else list(accuracy)
    original_outputs, fixed_outputs = results[ORIGINAL][0], results[FIXED][0]
    outputs = []
    for name in original_outputs:
        a = np.asarray(original_outputs[name])
        b = np.asarray(fixed_outputs[name]) if name in fixed_outputs else np.zeros(0)
        passed = all(_output_passed(result, name) for result in per_function)
        diff = max_abs_diff(a, b) if a.shape == b.shape else None
        outputs.append(OutputComparison(name, passed and diff is not None, tuple(a.shape), tuple(b.shape), diff))
    return Verification(bool(accuracy) and all(o.passed for o in outputs), tuple(outputs), seed, stand_in)


def original_session_loader(path: str, original: LoadedModel | None = None) -> tuple[Callable[[], Any], tuple[str, ...]]:
    """The session loader of the original model, and the nodes run by ONNX's formula instead: onnxruntime
    refuses ConvTranspose nodes with negative pads since its ONNX shape inference does (1.32 does, 1.23.2 runs
    them), and where it refuses this model, those nodes are written out as formula_stand_in does. `original`: the
    model at `path` as the command read it, else it is read here."""
    from polygraphy_deconv.onnx_model.loaded import load

    original = original or load(path)
    model = original.model
    # The bytes already read, where onnxruntime can find the external data beside them (it opens the path else).
    in_memory = not original.external_references or external_folder_supported()
    loader = session_loader(path, model_bytes=original.model_bytes if in_memory else None)
    if not any(_has_negative_pads(node) for node in model.graph.node):
        return loader, ()
    try:
        loader()
    except Exception as error:  # noqa: BLE001 (onnxruntime's own exception classes)
        if "negative" not in str(error):
            return loader, ()  # another refusal: the verification reports it
        stand_in, names = formula_stand_in(model)
        return session_loader(path, model_bytes=stand_in.SerializeToString()), names
    return loader, ()


def _has_negative_pads(node: Any) -> bool:
    if node.op_type != "ConvTranspose" or node.domain not in ("", "ai.onnx"):
        return False
    return any(attribute.name == "pads" and any(p < 0 for p in attribute.ints) for attribute in node.attribute)


def formula_stand_in(model: Any) -> tuple[Any, tuple[str, ...]]:
    """A copy of `model` in which each ConvTranspose with negative pads is ONNX's output formula written out
    in operators every onnxruntime runs: the ConvTranspose without pads, output_padding or bias (the full
    result, L per axis), a constant Pad by -pads_begin at the start and output_padding - pads_end at the end
    (a negative amount crops, ONNX Pad-2/11; a positive one adds zeros), then the bias, reshaped to
    [1, M, 1, ...], added. That is out[j] = full[j + pads_begin] + bias for j in [0, L - pads_begin -
    pads_end + output_padding) (Operators.md, ConvTranspose), derived from the attributes alone, not from
    the core's window or patch: a check of `fix` that does not share its arithmetic. Returns the model and
    the names of the nodes written out (main graph only)."""
    import onnx
    from onnx import helper

    from polygraphy_deconv.onnx_model.graph import node_label
    from polygraphy_deconv.onnx_model.rewrite import NameSource, default_opset, int64_constant

    opset = default_opset(model)
    names = NameSource(model.graph)
    replaced: list[str] = []
    nodes: list[Any] = []
    for index, node in enumerate(model.graph.node):
        if not _has_negative_pads(node):
            nodes.append(node)
            continue
        label = node_label(node, index)
        replaced.append(label)
        attributes = {a.name: a for a in node.attribute}
        if "output_shape" in attributes:  # the spec: output_shape sets the window, pads are ignored
            kept = onnx.NodeProto()
            kept.CopyFrom(node)
            del kept.attribute[:]
            kept.attribute.extend(a for a in node.attribute if a.name != "pads")
            nodes.append(kept)
            continue
        pads = list(attributes["pads"].ints)
        rank = len(pads) // 2
        output_padding = list(attributes["output_padding"].ints) if "output_padding" in attributes else [0] * rank
        conv = onnx.NodeProto()
        conv.CopyFrom(node)
        del conv.attribute[:]
        conv.attribute.extend(a for a in node.attribute if a.name not in ("pads", "output_padding", "auto_pad"))
        del conv.input[2:]
        full = names.tensor(f"{label}/formula_full")
        conv.output[0] = full
        has_bias = len(node.input) > 2 and bool(node.input[2])
        cropped = names.tensor(f"{label}/formula_window") if has_bias else node.output[0]
        amounts = [0, 0, *(-begin for begin in pads[:rank]), 0, 0, *(op - end for op, end in zip(output_padding, pads[rank:]))]
        nodes.append(conv)
        if opset >= 11:
            amounts_tensor = names.tensor(f"{label}/formula_pads")
            nodes.append(int64_constant(names.node(f"{label}/formula_pads"), amounts_tensor, amounts))
            nodes.append(helper.make_node("Pad", [full, amounts_tensor], [cropped], name=names.node(f"{label}/formula_pad")))
        else:
            nodes.append(helper.make_node("Pad", [full], [cropped], name=names.node(f"{label}/formula_pad"), pads=amounts))
        if has_bias:
            shape = names.tensor(f"{label}/formula_bias_shape")
            bias = names.tensor(f"{label}/formula_bias")
            nodes.append(int64_constant(names.node(f"{label}/formula_bias_shape"), shape, [1, -1, *([1] * rank)]))
            nodes.append(helper.make_node("Reshape", [node.input[2], shape], [bias], name=names.node(f"{label}/formula_reshape")))
            nodes.append(helper.make_node("Add", [cropped, bias], [node.output[0]], name=names.node(f"{label}/formula_add")))
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    del copy.graph.node[:]
    copy.graph.node.extend(nodes)
    return copy, tuple(replaced)


def max_abs_diff(a: Any, b: Any, chunk: int = 1 << 20) -> float:
    """max |a - b| in float64, a chunk at a time (whole-array float64 copies would triple the memory)."""
    import numpy as np

    flat_a, flat_b = a.reshape(-1), b.reshape(-1)
    result = 0.0
    for start in range(0, flat_a.size, chunk):
        part = np.abs(flat_a[start : start + chunk].astype(np.float64) - flat_b[start : start + chunk].astype(np.float64))
        result = max(result, float(np.max(part, initial=0.0)))
    return result


def session_loader(path: str, data_folder: str | None = None, *, model_bytes: bytes | None = None) -> Callable[[], Any]:
    """A callable that makes the onnxruntime session (CPU) of the model at `path`: from the path itself
    where onnxruntime can read it so, else from the model's bytes with `data_folder` (default: the model's
    folder) as the base of its external data. `model_bytes`: another model to run in the place of the one at
    `path` (its external data read from there)."""
    import onnxruntime

    from polygraphy_deconv.onnx_model.writing import model_format

    text_format = model_format(path) != "protobuf"

    def make() -> Any:
        if not text_format and data_folder is None and model_bytes is None:
            return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        if model_bytes is not None:
            data = model_bytes
        elif text_format:
            import onnx

            with warnings.catch_warnings():  # onnxtxt: "experimental"
                warnings.simplefilter("ignore")
                data = onnx.load(path, load_external_data=False).SerializeToString()
        else:
            with open(path, "rb") as handle:
                data = handle.read()
        options = onnxruntime.SessionOptions()
        folder = os.path.abspath(data_folder or os.path.dirname(os.path.abspath(path)))
        options.add_session_config_entry(EXTERNAL_FOLDER_KEY, folder)
        return onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])

    return make


# onnxruntime's session option for the folder of the external data of a model given as bytes
# (microsoft/onnxruntime pull request 23557, onnxruntime 1.21).
EXTERNAL_FOLDER_KEY = "session.model_external_initializers_file_folder_path"


def external_folder_supported() -> bool:
    """Whether this onnxruntime reads external data of a model given as bytes from a folder one names."""
    import onnxruntime

    try:
        major, minor = (int(part) for part in onnxruntime.__version__.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (1, 21)


@dataclass(frozen=True)
class MemoryEstimate:
    total: int  # bytes
    tensors: tuple[tuple[str, tuple[int, ...], int], ...]  # (name, shape, bytes) of the largest tensors
    unknown: tuple[str, ...]  # outputs whose shape is not known before running


def verification_memory(
    model_path: str, input_shapes: InputShapes | None = None, original: LoadedModel | None = None
) -> MemoryEstimate:
    """The bytes the verification's tensors take: every graph input at the bound shape (dynamic dims
    as Polygraphy's data loader fills them, 1) and every graph output as shape inference gives it, the
    outputs counted OUTPUT_COPIES times. Model weights and outputs of unknown shape are not counted. `original`:
    the model at `model_path` as the command read it, else it is read here."""
    from polygraphy_deconv.onnx_model.analysis import bind_input_shapes, infer_shapes
    from polygraphy_deconv.onnx_model.graph import load_model

    model = _copy(original.model) if original is not None else load_model(model_path)  # the sizes are bound in it
    initializers = {init.name for init in model.graph.initializer}
    if input_shapes:
        bind_input_shapes(model.graph, input_shapes)
    for value in model.graph.input:
        for dim in value.type.tensor_type.shape.dim:
            if not (dim.HasField("dim_value") and dim.dim_value > 0):
                dim.Clear()
                dim.dim_value = 1
    inferred = infer_shapes(model, [], data_prop=True)
    sizes: list[tuple[str, tuple[int, ...], int]] = []
    unknown: list[str] = []
    total = 0
    groups = ((inferred.graph.input, 1), (inferred.graph.output, OUTPUT_COPIES))
    for values, copies in groups:
        for value in values:
            if value.name in initializers and copies == 1:
                continue
            tensor = value.type.tensor_type
            dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in tensor.shape.dim]
            if not tensor.HasField("shape") or None in dims:
                unknown.append(value.name)
                continue
            shape = tuple(int(d) for d in dims if d is not None)
            size = math.prod(shape) * ELEMENT_BYTES.get(tensor.elem_type, 4)
            sizes.append((value.name, shape, size))
            total += size * copies
    return MemoryEstimate(total, tuple(sorted(sizes, key=lambda item: -item[2])[:3]), tuple(unknown))


def check_verification_memory(
    model_path: str, input_shapes: InputShapes | None, limit: int, original: LoadedModel | None = None
) -> None:
    """Refuse (one DeconvError, before anything is written or run) a verification whose tensors would
    take more than `limit` bytes."""
    estimate = verification_memory(model_path, input_shapes, original)
    if estimate.total <= limit:
        return
    largest = ", ".join(f"{shown(name)} {list(shape)}: {byte_text(size)}" for name, shape, size in estimate.tensors)
    raise DeconvError(
        f"verifying on onnxruntime would need about {byte_text(estimate.total)} for its tensors "
        f"(inputs once, outputs {OUTPUT_COPIES}x for both models, the comparison and onnxruntime's buffers; largest: "
        f"{largest}), over the limit of {byte_text(limit)}; "
        "bind smaller sizes with --input-shapes, or raise --verify-memory-limit"
    )


def byte_text(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def parse_byte_size(text: str) -> int:
    """'2GiB', '512M', '1.5G', '1000000' -> bytes (binary units, K/M/G/T with or without 'iB' or 'B')."""
    import re

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"not a size: {text!r} (examples: 2GiB, 512M, 1000000)")
    scale = 1 << (10 * " KMGT".index(match[2].upper() or " "))
    return int(float(match[1]) * scale)


def _output_passed(result: Any, name: str) -> bool:
    for iterations in result.values():
        for iteration in iterations:
            if name not in iteration or not bool(iteration[name]):
                return False
    return True


# ---------------------------------------------------------------------------------------------------
# Sizes for the verification of a model with dynamic dims
#
# onnxruntime needs a concrete size for every input dim. Polygraphy's data loader fills each dynamic
# dim with 1, which breaks models that constrain their sizes: a U-Net's Concat of a skip connection
# with an upsampled tensor needs H and W divisible by 2^depth, and an output_shape node needs an input
# large enough that onnxruntime accepts its output_shape. So the sizes are chosen, smallest first, as the
# first candidate that ONNX shape inference in strict mode accepts (it fails on every Concat, Add, ...
# whose dims disagree), at which no ConvTranspose is rejected by onnxruntime for its size, and at which
# onnxruntime runs the original model (fed as the verification feeds it: shape inference misses what
# only values decide, such as a Gather of a fixed row):
#   - dims bound with --input-shapes keep their size;
#   - a dim_param names one size wherever it appears (x [N, 3, H, W] and mask [N, 1, H, W] share H);
#   - candidates: 1, the powers of two up to 256 and the sizes the model declares itself for any tensor
#     (graph inputs, outputs, value_info: a static 64 beside a dynamic H suggests 64), ascending;
#     the dims on axis 0 (the batch) stay 1 unless no candidate works with them at 1.
# Where strict shape inference fails on the model before any size is bound (an op it does not know, a
# model it calls inconsistent already), onnxruntime alone judges the candidates. Where onnxruntime cannot
# load the model at all, or a candidate's tensors would exceed the verification's memory limit, it does not
# judge: the verification then reports what onnxruntime says, with the dims to bind.

CANDIDATE_LIMIT = 16  # candidate sizes tried (each costs one shape inference)
MAX_CANDIDATE = 4096


@dataclass(frozen=True)
class DynamicDim:
    """A dynamic dim of the graph inputs: one per dim_param, one per unnamed dynamic dim."""

    label: str  # the dim_param, or "input[axis]" for an unnamed one
    batch: bool  # found on axis 0


@dataclass(frozen=True)
class VerificationShapes:
    """The input shapes the verification feeds: --input-shapes, with every dynamic dim left bound to a size."""

    shapes: dict[str, tuple[int | str | None, ...]]
    chosen: tuple[tuple[str, int], ...] = ()  # (dim label, size) chosen here, in order
    template: str = ""  # the --input-shapes arguments naming each dynamic dim, e.g. "x:[1,3,H,W]"
    dims: tuple[str, ...] = ()  # the labels of the dynamic dims to bind (the batch left out where others exist)
    arguments: str = ""  # the chosen shapes of the inputs with dynamic dims, in --input-shapes syntax
    # what judged the chosen sizes: "inference+onnxruntime", "inference" (onnxruntime could not load the model, or
    # the sizes are over the memory limit), "onnxruntime" (shape inference cannot judge the model) or "" (nothing)
    judged_by: str = "inference+onnxruntime"

    @property
    def checked(self) -> bool:
        """Something judged the sizes (else they are all 1, as Polygraphy picks)."""
        return bool(self.judged_by)

    def describe(self) -> str:
        """One line for the output: which sizes were chosen and how ("" when none were)."""
        if not self.chosen:
            return ""
        how = {
            "inference+onnxruntime": "the smallest sizes ONNX shape inference finds consistent and onnxruntime runs",
            "inference": "the smallest sizes ONNX shape inference finds consistent",
            "onnxruntime": "the smallest sizes onnxruntime runs (ONNX shape inference cannot judge this model)",
        }.get(self.judged_by, "1, as Polygraphy picks: neither ONNX shape inference nor onnxruntime can judge this model")
        return f"verification sizes: {shown(self.arguments)} ({how}; bind others with --input-shapes)"

    def input_shapes_arguments(self) -> list[str]:
        """Every input's shape here in --input-shapes syntax (one argument each, e.g. "x:[1,3,8,8]"), for a command
        that should run at the same sizes (check's `polygraphy run`); inputs left out stay as the model has them."""
        return [f"{name}:[{','.join(str(d) for d in dims)}]" for name, dims in self.shapes.items()]

    def hint(self) -> str:
        """What to do when onnxruntime fails at the sizes chosen here ("" when none were chosen)."""
        if not self.chosen:
            return ""
        return (
            f"; it ran at sizes chosen for the dynamic dims ({shown(self.arguments)}): pass sizes the model runs at "
            f"with --input-shapes {shown(self.template)} ({dims_text(self.dims)} bound)"
        )


class SizesNeeded(DeconvError):
    """No candidate size makes the model consistent: the user has to bind the dynamic dims."""


def dims_text(labels: Sequence[str]) -> str:
    shown_labels = [shown(label) for label in labels]
    return shown_labels[0] if len(shown_labels) == 1 else f"{', '.join(shown_labels[:-1])} and {shown_labels[-1]}"


def verification_shapes(
    model_path: str,
    input_shapes: InputShapes | None = None,
    *,
    seed: int | None = None,
    memory_limit: int | None = None,
    fixed: Any = None,
    original: LoadedModel | None = None,
) -> VerificationShapes:
    """The shapes to verify the model at (see above; `seed` and `memory_limit` as the verification's). `fixed`:
    the fixed model (an onnx.ModelProto), which shape inference judges in the original's place: it states every
    rewritten node in a form shape inference gets right (SAME_* with output_padding, which it declares one
    output_padding too large, and negative pads, which it refuses); onnxruntime runs the original. Raises
    SizesNeeded with one line naming the inputs and the dims to bind when no candidate works, DeconvError on
    bad --input-shapes. `original`: the model at `model_path` as the command read it, else it is read here."""
    from polygraphy_deconv.onnx_model.analysis import analyse_proto, bind_input_shapes
    from polygraphy_deconv.onnx_model.loaded import load

    original = original or load(model_path)
    model = fixed if fixed is not None else original.model
    if any(_has_negative_pads(node) for node in model.graph.node):
        model = formula_stand_in(model)[0]  # what the verification runs; strict shape inference refuses the pads
    given = {name: tuple(dims) for name, dims in (input_shapes or {}).items()}
    bound = _copy(model)
    if given:
        bind_input_shapes(bound.graph, given)
    initializers = {init.name for init in model.graph.initializer}
    layout: dict[str, list[int | str]] = {}  # input: its dims, a size or a dynamic dim's label
    variables: dict[str, DynamicDim] = {}
    for value in bound.graph.input:
        if value.name in initializers or not value.type.tensor_type.HasField("shape"):
            continue
        dims: list[int | str] = []
        for axis, dim in enumerate(value.type.tensor_type.shape.dim):
            if dim.HasField("dim_value") and dim.dim_value > 0:
                dims.append(dim.dim_value)
                continue
            label = dim.dim_param if dim.HasField("dim_param") and dim.dim_param else f"{value.name}[{axis}]"
            known = variables.get(label)
            variables[label] = DynamicDim(label, axis == 0 and (known is None or known.batch))
            dims.append(label)
        layout[value.name] = dims
    if not variables:
        return VerificationShapes(given)
    dynamic_inputs = {name: dims for name, dims in layout.items() if any(isinstance(d, str) for d in dims)}
    template = " ".join(
        f"{name}:[{','.join(str(d) if isinstance(d, int) else ('1' if variables[d].batch else _template_label(d, name)) for d in dims)}]"
        for name, dims in dynamic_inputs.items()
    )
    to_bind = tuple(label for label, dim in variables.items() if not dim.batch) or tuple(variables)

    def shapes_for(sizes: Mapping[str, int]) -> dict[str, tuple[int | str | None, ...]]:
        shapes: dict[str, tuple[int | str | None, ...]] = dict(given)
        for name, dims in dynamic_inputs.items():
            shapes[name] = tuple(d if isinstance(d, int) else sizes[d] for d in dims)
        return shapes

    def result(sizes: Mapping[str, int], judged_by: str) -> VerificationShapes:
        shapes = shapes_for(sizes)
        arguments = " ".join(f"{name}:[{','.join(str(d) for d in shapes[name])}]" for name in dynamic_inputs)
        chosen = tuple((label, sizes[label]) for label in variables)
        return VerificationShapes(shapes, chosen, template, to_bind, arguments, judged_by)

    baseline = _strict_inference(bound)
    empty = _empty_dims(baseline.graph) if baseline is not None else set()
    nodes: list[tuple[Any, str]] = []
    if baseline is not None:
        analysis = analyse_proto(bound)
        nodes = [(node.finding.attributes, bound.graph.node[node.index].input[0]) for node in analysis.nodes]
    from polygraphy_deconv.core.window import onnxruntime_rejections

    always = [set(onnxruntime_rejections(attrs, (None,) * attrs.rank)) for attrs, _ in nodes]

    def inferred_at(sizes: Mapping[str, int]) -> Any:
        """The model inferred at these sizes, None where strict shape inference finds it inconsistent."""
        candidate = _copy(model)
        bind_input_shapes(candidate.graph, shapes_for(sizes))
        inferred = _strict_inference(candidate)
        if inferred is None or not _empty_dims(inferred.graph) <= empty:
            return None
        from polygraphy_deconv.onnx_model.analysis import value_info_dims

        dims = value_info_dims(inferred.graph, {x for _, x in nodes})
        for (attrs, x), size_independent in zip(nodes, always):
            x_dims = dims.get(x)
            sizes_of_x = tuple(x_dims[2:]) if x_dims is not None and len(x_dims) == attrs.rank + 2 else (None,) * attrs.rank
            if set(onnxruntime_rejections(attrs, sizes_of_x)) - size_independent:
                return None
        return inferred

    limit = DEFAULT_MEMORY_LIMIT if memory_limit is None else memory_limit
    trial = OnnxruntimeTrial(model_path, model, seed, original)
    candidates = candidate_sizes(model)
    batch = [label for label, dim in variables.items() if dim.batch]
    rounds = [False, True] if batch and len(batch) < len(variables) else [True]
    for batch_too in rounds:
        for size in candidates:
            sizes = {label: size if (batch_too or not dim.batch) else 1 for label, dim in variables.items()}
            inferred = None
            if baseline is not None:
                inferred = inferred_at(sizes)
                if inferred is None:
                    continue
                if _tensor_bytes(inferred.graph, initializers) > limit:
                    return result(sizes, "inference")  # the memory check refuses it with its own message
            outcome = trial.runs(shapes_for(sizes))
            if outcome is None:  # onnxruntime cannot judge: shape inference alone decides, where it can
                if baseline is not None:
                    return result(sizes, "inference")
                return result(dict.fromkeys(variables, 1), "")
            if outcome:
                return result(sizes, "inference+onnxruntime" if baseline is not None else "onnxruntime")
    inputs = ", ".join(
        f"{shown(name)} [{', '.join(str(d) if isinstance(d, int) else shown(d) for d in dims)}]" for name, dims in dynamic_inputs.items()
    )
    judges = "does ONNX shape inference find the model consistent and onnxruntime run it" if baseline is not None else "does onnxruntime run it"
    last = f" (onnxruntime: {shown(trial.last_error)})" if trial.last_error else ""
    raise SizesNeeded(
        f"verifying on onnxruntime needs sizes for the dynamic dims of {inputs}, and at none of the sizes tried "
        f"({candidates[0]} to {candidates[-1]}) {judges}{last}: pass --input-shapes {shown(template)} with "
        f"{dims_text(to_bind)} bound"
    )


def concrete_input_shapes(
    model_path: str, input_shapes: InputShapes | None = None, *, seed: int | None = None
) -> dict[str, tuple[int, ...]]:
    """A concrete shape for every graph input of the model at `model_path` (initializers excluded): the
    --input-shapes given, with every dim the model leaves dynamic set as fix --verify and check set it
    (verification_shapes: the smallest candidate sizes ONNX shape inference finds consistent and onnxruntime
    runs). For a harness that feeds the model (tests/rtx). Raises SizesNeeded (one line naming the
    --input-shapes to pass) where no candidate runs, DeconvError on bad --input-shapes."""
    from polygraphy_deconv.onnx_model.graph import load_model
    from polygraphy_deconv.onnx_model.rewrite import fix_model

    model = load_model(model_path)
    chosen = verification_shapes(model_path, input_shapes, seed=seed, fixed=fix_model(model, input_shapes).model).shapes
    initializers = {init.name for init in model.graph.initializer}
    shapes: dict[str, tuple[int, ...]] = {}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        dims = chosen.get(value.name)
        if dims is None:
            dims = tuple(
                d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1 for d in value.type.tensor_type.shape.dim
            )
        shapes[value.name] = tuple(d if isinstance(d, int) else 1 for d in dims)
    return shapes


class OnnxruntimeTrial:
    """Runs the original model on onnxruntime (as verify_fix runs it: the same session loader, Polygraphy's data
    loader with the same seed) at candidate shapes, one session for all of them. `runs` is None where onnxruntime
    cannot judge sizes: it does not load the model at all (the verification reports that)."""

    def __init__(self, model_path: str, model: Any, seed: int | None, original: LoadedModel | None = None) -> None:
        self.model_path = model_path
        self.original = original
        self.model = model
        self.seed = 1 if seed is None else seed
        self.session: Any = None
        self.loadable = True
        self.last_error = ""

    def runs(self, shapes: Mapping[str, Sequence[int | str | None]]) -> bool | None:
        import onnxruntime

        if not self.loadable:
            return None
        onnxruntime.set_default_logger_severity(4)
        if self.session is None:
            try:
                self.session = original_session_loader(self.model_path, self.original)[0]()
            except Exception:  # noqa: BLE001 (onnxruntime's own classes): a refusal that is not about sizes
                self.loadable = False
                return None
        try:
            feeds = self._feeds(shapes)
            self.session.run(None, feeds)
        except Exception as error:  # noqa: BLE001 (onnxruntime's and Polygraphy's own classes)
            text = str(error).strip().splitlines()
            self.last_error = text[0] if text else type(error).__name__
            return False
        return True

    def _feeds(self, shapes: Mapping[str, Sequence[int | str | None]]) -> dict[str, Any]:
        """Polygraphy's data loader's values (as the verification feeds them) for every input at `shapes`."""
        from onnx import helper
        from polygraphy.common import TensorMetadata
        from polygraphy.comparator import DataLoader
        from polygraphy.logger import G_LOGGER

        initializers = {init.name for init in self.model.graph.initializer}
        metadata = TensorMetadata()
        for value in self.model.graph.input:
            if value.name in initializers:
                continue
            dims = shapes.get(value.name) or tuple(
                d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1 for d in value.type.tensor_type.shape.dim
            )
            dtype = helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type)
            metadata.add(value.name, dtype=dtype, shape=[d if isinstance(d, int) else 1 for d in dims])
        with G_LOGGER.verbosity(G_LOGGER.CRITICAL):
            loader = DataLoader(seed=self.seed, iterations=1, input_metadata=metadata)
            return dict(loader[0])


def _tensor_bytes(graph: Any, initializers: set[str]) -> int:
    """The verification's tensor bytes as verification_memory counts them, from an inferred graph."""
    total = 0
    for values, copies in ((graph.input, 1), (graph.output, OUTPUT_COPIES)):
        for value in values:
            if value.name in initializers and copies == 1:
                continue
            dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in value.type.tensor_type.shape.dim]
            if None not in dims:
                total += math.prod(int(d) for d in dims if d is not None) * ELEMENT_BYTES.get(value.type.tensor_type.elem_type, 4) * copies
    return total


def _template_label(label: str, input_name: str) -> str:
    """A dynamic dim as written in the --input-shapes example: its dim_param, or `d<axis>` for an unnamed one."""
    if label.startswith(f"{input_name}[") and label.endswith("]"):
        return f"d{label[len(input_name) + 1 : -1]}"
    return label


def candidate_sizes(model: Any) -> list[int]:
    """1, the powers of two up to 256 and the static sizes the model declares, ascending, at most CANDIDATE_LIMIT."""
    sizes = {1 << power for power in range(9)}
    for values in (model.graph.input, model.graph.output, model.graph.value_info):
        for value in values:
            for dim in value.type.tensor_type.shape.dim:
                if dim.HasField("dim_value") and 2 <= dim.dim_value <= MAX_CANDIDATE:
                    sizes.add(dim.dim_value)
    return sorted(sizes)[:CANDIDATE_LIMIT]


def _copy(model: Any) -> Any:
    import onnx

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    return copy


def _strict_inference(model: Any) -> Any:
    """ONNX shape inference in strict mode (with shape-tensor values), None where it fails."""
    import onnx

    try:
        return onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    except Exception:  # noqa: BLE001 (InferenceError, ValidationError, RuntimeError, ...)
        return None


def _empty_dims(graph: Any) -> set[tuple[str, int, bool]]:
    """(tensor, axis, negative) of every declared dim of size 0 or below. Size 0 is legitimate where the
    model has it before any size is bound (an empty tensor such as Resize's roi); bound sizes that make
    another dim 0 or negative (a Conv on a too small input) are not."""
    found = set()
    for values in (graph.value_info, graph.output):
        for value in values:
            for axis, dim in enumerate(value.type.tensor_type.shape.dim):
                if dim.HasField("dim_value") and dim.dim_value <= 0:
                    found.add((value.name, axis, dim.dim_value < 0))
    return found
