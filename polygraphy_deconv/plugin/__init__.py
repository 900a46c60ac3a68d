"""The Polygraphy `run` plugin: `--deconv-fix`, `--deconv-check`, `--deconv-report`.

Polygraphy imports this module for every subcommand (its parsers are built at start-up), so it imports
nothing heavy: onnx, numpy, rich and tensorrt are imported only when the loader runs.
"""

from __future__ import annotations

from typing import Any


def export_argument_groups() -> list[Any]:
    """Entry point of group `polygraphy.run.plugins`: the plugin's argument groups."""
    from polygraphy_deconv.plugin.args import DeconvFixArgs

    return [DeconvFixArgs()]
