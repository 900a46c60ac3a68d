"""The plugin's loader in Polygraphy's Python API: parse an ONNX model with TensorRT, patch its
deconvolutions to the ONNX meaning, build an engine, and compare it with onnxruntime.

    python samples/python_api.py [MODEL] [--report report.json] [--atol 1e-4] [--rtol 1e-4]

This is what `polygraphy run MODEL --trt --onnxrt --deconv-fix --deconv-report report.json` does, written
out as loaders (add `--gen-script=-` to that command to print its chain as a script). Needs TensorRT
(NVIDIA's TensorRT container, see Dockerfile) or TensorRT-RTX (`pip install tensorrt-rtx`, run with
POLYGRAPHY_USE_TENSORRT_RTX=1), taken where Polygraphy takes it; without either the script says so and exits 1.
Without a GPU the engine is built and cannot run: the script says so and exits 1.
Exit code: 0 when TensorRT and onnxruntime agree within the tolerances, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "mixed.onnx"


def tensorrt_missing() -> str | None:
    """Why the TensorRT library Polygraphy would use cannot be used here, or None when it is installed."""
    from polygraphy_deconv.plugin.loader import missing_library_message
    from polygraphy_deconv.trt_network.library import installed, module_name

    return None if installed() else missing_library_message(module_name())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("model", nargs="?", type=Path, default=DEFAULT_MODEL, help=f"ONNX model (default: {DEFAULT_MODEL})")
    parser.add_argument("--report", type=Path, default=None, help="write the JSON findings report here")
    parser.add_argument("--atol", type=float, default=1e-4, help="absolute tolerance (default: 1e-4)")
    parser.add_argument("--rtol", type=float, default=1e-4, help="relative tolerance (default: 1e-4)")
    args = parser.parse_args(argv)

    if not args.model.is_file():
        print(f"error: no such model: {args.model}", file=sys.stderr)
        return 1
    missing = tensorrt_missing()
    if missing is not None:
        print(f"error: {missing}", file=sys.stderr)
        return 1

    from polygraphy.backend.onnxrt import OnnxrtRunner, SessionFromOnnx
    from polygraphy.backend.trt import (
        CreateConfig,
        EngineBytesFromNetwork,
        EngineFromBytes,
        NetworkFromOnnxPath,
        TrtRunner,
    )
    from polygraphy.comparator import Comparator, DataLoader
    from polygraphy.exception import PolygraphyException

    from polygraphy_deconv.plugin.loader import NoteEngineWithoutDevice, PatchDeconvolutions, RewriteForParser

    model = str(args.model.resolve())
    # The model the parser gets (nodes it cannot parse are rewritten first), its network, then the patch: every
    # deconvolution whose window differs from the ONNX meaning is set to the reference window (and extended
    # where needed) before the engine is built.
    parsed_model = RewriteForParser(model)
    network = PatchDeconvolutions(
        NetworkFromOnnxPath(parsed_model),
        parsed_model,
        report_path=None if args.report is None else str(args.report),
    )
    # TF32 stays off (Polygraphy's default): the comparison is about windows, not precision. Where no CUDA device
    # is, the note after the build says the engine was built and cannot run here.
    engine = EngineFromBytes(NoteEngineWithoutDevice(EngineBytesFromNetwork(network, config=CreateConfig())))
    runners = [
        TrtRunner(engine, name="trt-patched"),
        OnnxrtRunner(SessionFromOnnx(model, providers=["cpu"]), name="onnxrt"),
    ]
    try:
        results = Comparator.run(runners, data_loader=DataLoader(seed=1))
    except PolygraphyException as error:  # Polygraphy has logged why (e.g. no GPU to deserialize the engine on)
        print(f"FAILED: {error}")
        return 1
    accuracy = Comparator.compare_accuracy(results, compare_func=simple_compare_func(args.atol, args.rtol))
    print("PASSED" if accuracy else "FAILED")
    return 0 if accuracy else 1


def simple_compare_func(atol: float, rtol: float) -> Any:
    """Polygraphy's element-wise comparison with the given tolerances (SimpleCompareFunc from 0.53,
    CompareFunc.simple before)."""
    try:
        from polygraphy.comparator import SimpleCompareFunc
    except ImportError:
        from polygraphy.comparator import CompareFunc

        return CompareFunc.simple(atol=atol, rtol=rtol, check_error_stat="elemwise")
    return SimpleCompareFunc(atol=atol, rtol=rtol, check_error_stat="elemwise")


if __name__ == "__main__":
    sys.exit(main())
