"""The step after the parse, one implementation for `polygraphy run --deconv-*` (PatchDeconvolutions) and the
scripts `polygraphy-deconv npps` writes for `polygraphy convert --trt-npps`: compare every deconvolution unit of
the parsed network with its ONNX node, patch it (Mode.FIX) or only report (Mode.CHECK, Mode.REPORT), report
through Polygraphy's logger (and as JSON), and fail with one critical message (PolygraphyException: the command
exits 1) on bad input, on a unit that cannot be patched safely (Mode.FIX), or on a unit that needs a patch
(Mode.CHECK). The arrays behind a patch's new weights live as long as the network (patch_unit keeps them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from polygraphy_deconv.core.model import ModelAnalysis
    from polygraphy_deconv.trt_network.patching import Mode, NetworkFix


def patch_parsed_network(
    network: Any,
    onnx_path: str,
    input_shapes: Mapping[str, Sequence[int | str | None]] | None = None,
    report_path: str | None = None,
    *,
    mode: Mode | None = None,
    analysis: ModelAnalysis | None = None,
    rewritten: Sequence[str] = (),
) -> NetworkFix:
    """The step on `network` (a trt.INetworkDefinition parsed from `onnx_path`). `analysis`: the model the network
    was parsed from, where the caller has it already (after a pre-parse rewrite: the rewritten model, whose
    rewritten nodes, named in `rewritten`, are ordinary ones); else `onnx_path` is read and analysed."""
    from polygraphy.logger import G_LOGGER

    from polygraphy_deconv.errors import DeconvError
    from polygraphy_deconv.onnx_model.analysis import analyse_model
    from polygraphy_deconv.report.network_table import show_network_report, write_network_report
    from polygraphy_deconv.text import shown
    from polygraphy_deconv.trt_network.patching import Action, Mode, fix_network

    mode = mode or Mode.FIX
    try:
        analysis = analysis or analyse_model(onnx_path, input_shapes)
        fix = fix_network(network, analysis.nodes, mode)
        show_network_report(fix, analysis.path, mode, rewritten)
        if report_path is not None:
            write_network_report(fix, analysis, report_path, rewritten)
    except DeconvError as error:
        G_LOGGER.critical(str(error))

    unpatchable = fix.with_action(Action.UNPATCHABLE)
    if unpatchable and mode.patches:
        first = unpatchable[0]
        G_LOGGER.critical(
            f"TensorRT layer '{shown(first.unit.deconvolution)}': cannot patch the deconvolution safely: "
            f"{shown(first.detail)}. Note: rewrite the model with `polygraphy-deconv fix` and build from that model "
            "instead."
        )
    if mode is Mode.CHECK and fix.needs_patch:
        names = ", ".join(f"'{shown(r.unit.deconvolution)}'" for r in fix.needs_patch)
        G_LOGGER.critical(
            f"{len(fix.needs_patch)} deconvolution(s) compute another window than their ONNX node: {names}. "
            "Note: run with --deconv-fix to patch them."
        )
    return fix
