"""Checking a fixed model against its original with Polygraphy's own comparator on onnxruntime.

Only APIs that are the same in polygraphy 0.49.26 and 0.53.x are used: `OnnxrtRunner(SessionFromOnnx(path))`,
`DataLoader(seed=, iterations=, input_metadata=)`, `Comparator.run` (materialised results) and
`Comparator.compare_accuracy` with its default compare function (no deprecated `CompareFunc.simple`;
its result is one `AccuracyResult` in 0.49 and a list of them in 0.53, both true when everything matched).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from polygraphy_deconv.errors import DeconvError

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
    input_shapes: Mapping[str, Sequence[int | str | None]] | None = None,
) -> Verification:
    """Run both models on onnxruntime (CPU) with the same seeded random inputs and compare every output
    with Polygraphy's default tolerances (rtol = atol = 1e-5, elementwise).

    onnxruntime's default logger is set to fatal-only (process-wide): a model it rejects becomes one
    DeconvError here instead of its own error log plus ours.
    """
    import numpy as np
    import onnxruntime
    from polygraphy.backend.onnxrt import OnnxrtRunner, SessionFromOnnx
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
        OnnxrtRunner(SessionFromOnnx(original_path, providers=["cpu"]), name=ORIGINAL),
        OnnxrtRunner(SessionFromOnnx(fixed_path, providers=["cpu"]), name=FIXED),
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
        diff = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)), initial=0.0)) if a.shape == b.shape else None
        outputs.append(OutputComparison(name, passed and diff is not None, tuple(a.shape), tuple(b.shape), diff))
    return Verification(bool(accuracy) and all(o.passed for o in outputs), tuple(outputs), seed)


def _output_passed(result: Any, name: str) -> bool:
    for iterations in result.values():
        for iteration in iterations:
            if name not in iteration or not bool(iteration[name]):
                return False
    return True
