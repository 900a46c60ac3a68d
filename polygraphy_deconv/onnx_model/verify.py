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
from typing import Any

from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.text import shown

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


def verify_fix(
    original_path: str,
    fixed_path: str,
    seed: int | None = None,
    input_shapes: InputShapes | None = None,
    *,
    fixed_data_folder: str | None = None,
) -> Verification:
    """Run both models on onnxruntime (CPU) with the same seeded random inputs and compare every output
    with Polygraphy's default tolerances (rtol = atol = 1e-5, elementwise).

    `fixed_data_folder`: where the fixed model's external data lives when that is not its own folder
    (check writes only the model to a temporary folder and reads the weights where they are). Text-format
    models (.json, .textproto, .onnxtxt), which onnxruntime cannot read, are given to it as bytes.

    onnxruntime's default logger is set to fatal-only (process-wide): a model it rejects becomes one
    DeconvError here instead of its own error log plus ours.
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
    runners = [
        OnnxrtRunner(session_loader(original_path), name=ORIGINAL),
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
    original, fixed = results[ORIGINAL][0], results[FIXED][0]
    outputs = []
    for name in original:
        a, b = np.asarray(original[name]), np.asarray(fixed[name]) if name in fixed else np.zeros(0)
        passed = all(_output_passed(result, name) for result in per_function)
        diff = max_abs_diff(a, b) if a.shape == b.shape else None
        outputs.append(OutputComparison(name, passed and diff is not None, tuple(a.shape), tuple(b.shape), diff))
    return Verification(bool(accuracy) and all(o.passed for o in outputs), tuple(outputs), seed)


def max_abs_diff(a: Any, b: Any, chunk: int = 1 << 20) -> float:
    """max |a - b| in float64, a chunk at a time (whole-array float64 copies would triple the memory)."""
    import numpy as np

    flat_a, flat_b = a.reshape(-1), b.reshape(-1)
    result = 0.0
    for start in range(0, flat_a.size, chunk):
        part = np.abs(flat_a[start : start + chunk].astype(np.float64) - flat_b[start : start + chunk].astype(np.float64))
        result = max(result, float(np.max(part, initial=0.0)))
    return result


def session_loader(path: str, data_folder: str | None = None) -> Callable[[], Any]:
    """A callable that makes the onnxruntime session (CPU) of the model at `path`: from the path itself
    where onnxruntime can read it so, else from the model's bytes with `data_folder` (default: the model's
    folder) as the base of its external data."""
    import onnxruntime

    from polygraphy_deconv.onnx_model.rewrite import model_format

    text_format = model_format(path) != "protobuf"

    def make() -> Any:
        if not text_format and data_folder is None:
            return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        if text_format:
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


def verification_memory(model_path: str, input_shapes: InputShapes | None = None) -> MemoryEstimate:
    """The bytes the verification's tensors take: every graph input at the bound shape (dynamic dims
    as Polygraphy's data loader fills them, 1) and every graph output as shape inference gives it, the
    outputs counted OUTPUT_COPIES times. Model weights and outputs of unknown shape are not counted."""
    from polygraphy_deconv.onnx_model.reading import bind_input_shapes, infer_shapes, load_model

    model = load_model(model_path)
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


def check_verification_memory(model_path: str, input_shapes: InputShapes | None, limit: int) -> None:
    """Refuse (one DeconvError, before anything is written or run) a verification whose tensors would
    take more than `limit` bytes."""
    estimate = verification_memory(model_path, input_shapes)
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
