"""What a script written by `polygraphy-deconv npps` runs inside `polygraphy convert --trt-npps SCRIPT`.

Polygraphy's PostprocessNetwork calls `postprocess(network=network)` right after the parse, with the
network only, and keeps nothing the function returns (polygraphy backend/trt/loader.py
PostprocessNetwork.call_impl, 0.49.26:320-336, 0.53.6: the same). `patch_parsed_network` is the plugin's own
step after the parse (plugin/network_step.py): analyse the ONNX model, patch the network in place, report
through Polygraphy's logger (the same table and summary), and fail with one critical message
(PolygraphyException: the command exits 1) on a unit that cannot be patched safely.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# What the scripts `polygraphy-deconv npps` writes import: the plugin's own step (one implementation).
from polygraphy_deconv.plugin.network_step import patch_parsed_network

__all__ = ["load_postprocess", "patch_parsed_network", "run_postprocess_script"]


def load_postprocess(script_path: str, func_name: str = "postprocess") -> Callable[..., Any]:
    """The postprocess function of a script, loaded as Polygraphy's --trt-npps loads it (InvokeFromScript ->
    polygraphy.mod.import_from_script): call it as `load_postprocess(path)(network=network)`."""
    from polygraphy import mod

    function: Callable[..., Any] = mod.import_from_script(script_path, func_name)
    return function


def run_postprocess_script(script_path: str, network: Any, func_name: str = "postprocess") -> None:
    """Run a postprocess script on a parsed network the way `polygraphy convert --trt-npps` does."""
    load_postprocess(script_path, func_name)(network=network)
