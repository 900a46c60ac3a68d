"""python -m tests.rtx MODEL [--trt-outputs-mark-all] [--input-shapes SPEC]

The network side of polygraphy-deconv on one model, on TensorRT-RTX's real parser, network and builder: per
ConvTranspose the parser result, the loader's action, the dims read back, the build result and the unit's
values against onnxruntime; then `tensorrt-rtx: PASSED` or `tensorrt-rtx: FAILED (<reason>)` (exit 0 or 1),
or a skip line (exit 0) where TensorRT-RTX cannot be loaded. No engine runs here: values are computed in numpy
from the layers read back.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys

from tests.rtx.harness import ModelOutcome, available, run_model


def _shapes(spec: list[str] | None) -> dict[str, list[int]] | None:
    """Polygraphy's --input-shapes syntax (name:[d0,d1,...]), parsed by Polygraphy itself."""
    if not spec:
        return None
    from polygraphy.tools.args import util as args_util

    parsed = args_util.parse_meta(spec, includes_dtype=False)
    return {name: [int(d) for d in meta.shape] for name, meta in parsed.items()}


def report(outcome: ModelOutcome) -> list[str]:
    lines = [f"model: {outcome.model}", f"parser: {outcome.parse}"]
    for unit in outcome.units:
        dims = "x".join("?" if d is None else str(d) for d in unit.dims) if unit.dims else "-"
        values = "-" if unit.max_abs_diff is None else f"max abs diff {unit.max_abs_diff:.3g} (tolerance {unit.tolerance:.3g})"
        lines.append(
            f"  {unit.node}: {unit.verdict} -> {unit.action}; dims {dims}; window "
            f"{'as ONNX' if unit.window_ok else 'differs'}; values {values}" + (f"; PROBLEM: {unit.problem}" if unit.problem else "")
        )
    if outcome.build:
        lines.append(f"build: {outcome.build} (ahead of time; no engine runs here)")
    lines += [f"problem: {problem}" for problem in outcome.problems]
    return lines


def main(argv: list[str] | None = None) -> int:
    if "polygraphy" not in sys.modules:
        # Polygraphy's TensorRT-RTX mode, read once when polygraphy is imported (tests/rtx/harness.py). Under pytest
        # polygraphy is imported already, in that mode (tests/conftest.py), and the environment stays as it is:
        # subprocesses of other tests must not inherit the switch.
        os.environ["POLYGRAPHY_USE_TENSORRT_RTX"] = "1"
    parser = argparse.ArgumentParser(prog="python -m tests.rtx", description=__doc__.split("\n\n")[1])
    parser.add_argument("model")
    parser.add_argument("--trt-outputs-mark-all", action="store_true", help="as polygraphy's --trt-outputs mark all")
    parser.add_argument("--input-shapes", nargs="+", metavar="SPEC", help="as polygraphy's, e.g. x:[1,3,64,64]")
    args = parser.parse_args(argv)
    reason = available()
    if reason is not None:
        print(f"tensorrt-rtx: SKIPPED (TensorRT-RTX unavailable: {reason})")
        return 0
    from polygraphy_deconv.errors import DeconvError

    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured):  # the loader's own report; shown with -v-style noise otherwise
            outcome = run_model(args.model, mark_all=args.trt_outputs_mark_all, input_shapes=_shapes(args.input_shapes))
    except DeconvError as error:
        print(f"tensorrt-rtx: FAILED ({error})")
        return 1
    print("\n".join(report(outcome)))
    if outcome.passed:
        print("tensorrt-rtx: PASSED")
        return 0
    first = outcome.problems[0] if outcome.problems else next(f"{u.node}: {u.problem}" for u in outcome.units if u.problem)
    print(f"tensorrt-rtx: FAILED ({first})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
