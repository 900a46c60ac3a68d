"""The pure core: ConvTranspose windows, TensorRT's deconvolution and parser as windows, patch plans.

Nothing here imports anything beyond the standard library: every adapter (ONNX, TensorRT network,
plugin, report, CLI) builds on these values.
"""

from polygraphy_deconv.core.attributes import ConvTransposeAttributes, InvalidConvTranspose
from polygraphy_deconv.core.deconvolution import (
    DeconvolutionGeometry,
    DeconvolutionPatch,
    deconvolution_window,
    patched_window,
    plan_patch,
)
from polygraphy_deconv.core.finding import NodeFinding, Verdict, analyse_node
from polygraphy_deconv.core.trt_parser import ParserBuild, predict_parser_build
from polygraphy_deconv.core.window import (
    AxisWindow,
    UndecidableWindow,
    Window,
    describe_window,
    full_length,
    reference_window,
    window_length,
)

__all__ = [
    "AxisWindow", "ConvTransposeAttributes", "DeconvolutionGeometry", "DeconvolutionPatch", "InvalidConvTranspose",
    "NodeFinding", "ParserBuild", "UndecidableWindow", "Verdict", "Window", "analyse_node", "deconvolution_window",
    "describe_window", "full_length", "patched_window", "plan_patch", "predict_parser_build", "reference_window",
    "window_length",
]
