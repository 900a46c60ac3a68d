"""What a script written by `polygraphy-deconv npps` runs inside `polygraphy convert --trt-npps SCRIPT`.

Polygraphy's PostprocessNetwork calls `postprocess(network=network)` right after the parse, with the
network only, and keeps nothing the function returns (polygraphy backend/trt/loader.py
PostprocessNetwork.call_impl, 0.49.26:320-336, 0.53.6: the same). `patch_parsed_network` does what the
plugin's PatchDeconvolutions does after `polygraphy run`'s parse: analyse the ONNX model, patch the
network in place, report through Polygraphy's logger (the same table and summary), and fail with one
critical message (PolygraphyException: the command exits 1) on a unit that cannot be patched safely.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any


def patch_parsed_network(
    network: Any,
    onnx_path: str,
    input_shapes: Mapping[str, Sequence[int | str | None]] | None = None,
    report_path: str | None = None,
) -> None:
    """Patch the deconvolutions of `network` (parsed from `onnx_path`) in place and report them; fail
    (G_LOGGER.critical raises PolygraphyException) on bad input or a unit that cannot be patched safely."""
    from polygraphy.logger import G_LOGGER

    from polygraphy_deconv.errors import DeconvError
    from polygraphy_deconv.onnx_model.reading import analyse_model
    from polygraphy_deconv.report.network_table import show_network_report, write_network_report
    from polygraphy_deconv.trt_network.patching import ACTION_UNPATCHABLE, fix_network

    try:
        analysis = analyse_model(onnx_path, input_shapes)
        fix = fix_network(network, analysis.nodes)
        show_network_report(fix, analysis.path, check_only=False)
        if report_path is not None:
            write_network_report(fix, analysis, report_path)
    except DeconvError as error:
        G_LOGGER.critical(str(error))
    unpatchable = [r for r in fix.results if r.action == ACTION_UNPATCHABLE]
    if unpatchable:
        first = unpatchable[0]
        G_LOGGER.critical(
            f"TensorRT layer '{first.unit.deconvolution}': cannot patch the deconvolution safely: {first.detail}. "
            "Note: rewrite the model with `polygraphy-deconv fix` and build the engine from that model instead."
        )


def load_postprocess(script_path: str, func_name: str = "postprocess") -> Callable[..., Any]:
    """The postprocess function of a script, loaded as Polygraphy's --trt-npps loads it (InvokeFromScript ->
    polygraphy.mod.import_from_script): call it as `load_postprocess(path)(network=network)`."""
    from polygraphy import mod

    function: Callable[..., Any] = mod.import_from_script(script_path, func_name)
    return function


def run_postprocess_script(script_path: str, network: Any, func_name: str = "postprocess") -> None:
    """Run a postprocess script on a parsed network the way `polygraphy convert --trt-npps` does."""
    load_postprocess(script_path, func_name)(network=network)
