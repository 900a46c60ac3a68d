"""PatchDeconvolutions: a Polygraphy network loader that patches deconvolutions in place.

    EngineFromNetwork(PatchDeconvolutions(NetworkFromOnnxPath("model.onnx"), "model.onnx"))

It returns the tuple it received, with one more element when it added weights: the numpy arrays that
TensorRT's Weights point into (Weights do not own memory), so they live exactly as long as the
network tuple does. Polygraphy's loaders read the first three elements only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from polygraphy import mod, util
from polygraphy.backend.base import BaseLoader
from polygraphy.logger import G_LOGGER


@mod.export(funcify=True)
class PatchDeconvolutions(BaseLoader):
    """
    Functor that patches the deconvolutions of a TensorRT network so that each computes the output window
    of its ONNX ConvTranspose node, and reports them.
    """

    def __init__(
        self,
        network: Any,
        onnx_path: str,
        check_only: bool | None = None,
        report_path: str | None = None,
        input_shapes: Mapping[str, Sequence[int | str | None]] | None = None,
    ) -> None:
        """
        Args:
            network (Union[Tuple[trt.Builder, trt.INetworkDefinition, Optional[parser]], Callable() -> Tuple[...]]):
                    A network tuple, or a loader that returns one (e.g. NetworkFromOnnxPath).
            onnx_path (str): The ONNX model the network was parsed from.
            check_only (bool):
                    Only report; fail if any deconvolution would need a patch.
                    Defaults to False.
            report_path (str): Where to write the findings as JSON. Defaults to None (no file).
            input_shapes (Dict[str, List[Union[int, str, None]]]):
                    Input shapes to bind in the ONNX analysis (as --input-shapes). Defaults to None.
        """
        self._network = network
        self._onnx_path = onnx_path
        self._check_only = util.default(check_only, False)
        self._report_path = report_path
        self._input_shapes = input_shapes

    @util.check_called_by("__call__")
    def call_impl(self) -> tuple[Any, ...]:
        """
        Returns:
            Tuple[trt.Builder, trt.INetworkDefinition, Optional[parser], ...]:
                    The patched network tuple (plus the arrays its new weights point into, when there are any).
        """
        from polygraphy_deconv.errors import DeconvError
        from polygraphy_deconv.onnx_model.reading import analyse_model
        from polygraphy_deconv.report.network_table import show_network_report, write_network_report
        from polygraphy_deconv.trt_network.patching import ACTION_UNPATCHABLE, fix_network

        ret, _ = util.invoke_if_callable(self._network)
        received = tuple(ret) if isinstance(ret, (tuple, list)) else (ret,)
        builder, network, parser = util.unpack_args(received, num=3)
        try:
            analysis = analyse_model(self._onnx_path, self._input_shapes)
            fix = fix_network(network, analysis.nodes, check_only=self._check_only)
            show_network_report(fix, analysis.path, check_only=self._check_only)
            if self._report_path is not None:
                write_network_report(fix, analysis, self._report_path)
        except DeconvError as error:
            G_LOGGER.critical(str(error))

        unpatchable = [r for r in fix.results if r.action == ACTION_UNPATCHABLE]
        if unpatchable and not self._check_only:
            first = unpatchable[0]
            G_LOGGER.critical(
                f"TensorRT layer '{first.unit.deconvolution}': cannot patch the deconvolution safely: {first.detail}. "
                "Note: rewrite the model with `polygraphy-deconv fix` and run that model instead."
            )
        if self._check_only and fix.needs_patch:
            names = ", ".join(f"'{r.unit.deconvolution}'" for r in fix.needs_patch)
            G_LOGGER.critical(
                f"{len(fix.needs_patch)} deconvolution(s) compute another window than their ONNX node: {names}. "
                "Note: run with --deconv-fix to patch them."
            )
        if fix.keep_alive:
            return (builder, network, parser, *received[3:], fix.keep_alive)
        return received
