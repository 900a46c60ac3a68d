"""Polygraphy loaders: the model handed to the parser, and the deconvolutions patched in the parsed network.

    rewrite = RewriteForParser("model.onnx")
    EngineFromNetwork(PatchDeconvolutions(NetworkFromOnnxPath(rewrite), rewrite))

`RewriteForParser` gives the path of the model to parse: the model itself, or (where a ConvTranspose cannot be
parsed at all) a rewritten copy in a temporary folder, beside links to the model's external data files.
`PatchDeconvolutions` patches the parsed network in place and returns the tuple it received.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from polygraphy import mod, util
from polygraphy.backend.base import BaseLoader
from polygraphy.logger import G_LOGGER


@mod.export(funcify=True)
class RewriteForParser(BaseLoader):
    """
    Functor that gives the path of the ONNX model to hand to TensorRT's parser: the model itself, or a copy
    in which every ConvTranspose the parser cannot build (a predicted parse error, output_shape on dynamic
    sizes) is rewritten. The copy lives in a temporary folder for as long as this loader does.
    """

    def __init__(
        self,
        onnx_path: str,
        input_shapes: Mapping[str, Sequence[int | str | None]] | None = None,
        rewrite: bool | None = None,
    ) -> None:
        """
        Args:
            onnx_path (str): The ONNX model.
            input_shapes (Dict[str, List[Union[int, str, None]]]):
                    Input shapes to bind in the analysis (as --input-shapes). Defaults to None.
            rewrite (bool):
                    Whether to rewrite the nodes the parser cannot build (False: the model as it is, as
                    --deconv-check and --deconv-report alone want it). Defaults to True.
        """
        self.onnx_path = onnx_path
        self._input_shapes = input_shapes
        self._rewrite = util.default(rewrite, True)
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._path: str | None = None
        self.rewritten: tuple[str, ...] = ()

    @util.check_called_by("__call__")
    def call_impl(self) -> str:
        """
        Returns:
            str: The path of the model to parse (the same on every call).
        """
        if self._path is not None:
            return self._path
        tell_where_tensorrt_comes_from()  # runs before the parse loader imports tensorrt
        if not self._rewrite:
            self._path = self.onnx_path
            return self._path
        import onnx

        from polygraphy_deconv.errors import DeconvError
        from polygraphy_deconv.onnx_model.preparse import rewrite_for_parser
        from polygraphy_deconv.onnx_model.reading import external_references
        from polygraphy_deconv.text import shown

        try:
            rewrite = rewrite_for_parser(self.onnx_path, self._input_shapes)
        except DeconvError as error:
            G_LOGGER.critical(str(error))
        if not rewrite.nodes:
            self._path = self.onnx_path
            return self._path
        self._folder = tempfile.TemporaryDirectory(prefix="polygraphy-deconv-parse-")
        source = os.path.dirname(os.path.abspath(self.onnx_path))
        for reference in {r.relative_path for r in external_references(rewrite.model)}:
            # The parser reads external data relative to the model file: link each file, never copy it.
            link = os.path.join(self._folder.name, reference)
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if not os.path.lexists(link):
                os.symlink(os.path.join(source, reference), link)
        path = os.path.join(self._folder.name, os.path.basename(self.onnx_path))
        onnx.save(rewrite.model, path)
        self.rewritten = rewrite.nodes
        names = ", ".join(f"'{shown(name)}'" for name in rewrite.nodes)
        G_LOGGER.info(f"Deconvolution fix: rewritten before the parse (TensorRT cannot parse them as they are): {names}")
        self._path = path
        return path


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
        fail_on_patch: bool | None = None,
        input_shapes: Mapping[str, Sequence[int | str | None]] | None = None,
    ) -> None:
        """
        Args:
            network (Union[Tuple[trt.Builder, trt.INetworkDefinition, Optional[parser]], Callable() -> Tuple[...]]):
                    A network tuple, or a loader that returns one (e.g. NetworkFromOnnxPath).
            onnx_path (Union[str, RewriteForParser]):
                    The ONNX model the network was parsed from, or the RewriteForParser loader that gave it.
            check_only (bool):
                    Only report; fail if any deconvolution would need a patch.
                    Defaults to False.
            report_path (str): Where to write the findings as JSON. Defaults to None (no file).
            fail_on_patch (bool):
                    With check_only: fail if any deconvolution would need a patch. Defaults to True
                    (False: only report, as `--deconv-report` alone does).
            input_shapes (Dict[str, List[Union[int, str, None]]]):
                    Input shapes to bind in the ONNX analysis (as --input-shapes). Defaults to None.
        """
        self._network = network
        self._onnx_path = onnx_path
        self._check_only = util.default(check_only, False)
        self._report_path = report_path
        self._fail_on_patch = util.default(fail_on_patch, True)
        self._input_shapes = input_shapes

    @util.check_called_by("__call__")
    def call_impl(self) -> tuple[Any, ...]:
        """
        Returns:
            Tuple[trt.Builder, trt.INetworkDefinition, Optional[parser], ...]:
                    The network tuple it received, the network patched in place.
        """
        from polygraphy_deconv.errors import DeconvError
        from polygraphy_deconv.onnx_model.reading import analyse_model
        from polygraphy_deconv.report.network_table import show_network_report, write_network_report
        from polygraphy_deconv.text import shown
        from polygraphy_deconv.trt_network.patching import ACTION_UNPATCHABLE, fix_network

        ret, _ = util.invoke_if_callable(self._network)
        received = tuple(ret) if isinstance(ret, (tuple, list)) else (ret,)
        _, network, _ = util.unpack_args(received, num=3)
        source = self._onnx_path
        onnx_path = source() if isinstance(source, RewriteForParser) else source
        try:
            # The model that was parsed: after a pre-parse rewrite its rewritten nodes are ordinary ones.
            analysis = analyse_model(onnx_path, self._input_shapes)
            if isinstance(source, RewriteForParser) and source.rewritten:
                analysis = dataclasses.replace(analysis, path=os.path.abspath(source.onnx_path))
            fix = fix_network(network, analysis.nodes, check_only=self._check_only)
            rewritten = source.rewritten if isinstance(source, RewriteForParser) else ()
            show_network_report(fix, analysis.path, check_only=self._check_only, rewritten=rewritten)
            if self._report_path is not None:
                write_network_report(fix, analysis, self._report_path, rewritten)
        except DeconvError as error:
            G_LOGGER.critical(str(error))

        unpatchable = [r for r in fix.results if r.action == ACTION_UNPATCHABLE]
        if unpatchable and not self._check_only:
            first = unpatchable[0]
            G_LOGGER.critical(
                f"TensorRT layer '{shown(first.unit.deconvolution)}': cannot patch the deconvolution safely: "
                f"{shown(first.detail)}. "
                "Note: rewrite the model with `polygraphy-deconv fix` and run that model instead."
            )
        if self._check_only and self._fail_on_patch and fix.needs_patch:
            names = ", ".join(f"'{shown(r.unit.deconvolution)}'" for r in fix.needs_patch)
            G_LOGGER.critical(
                f"{len(fix.needs_patch)} deconvolution(s) compute another window than their ONNX node: {names}. "
                "Note: run with --deconv-fix to patch them."
            )
        # The arrays the new weights point into live as long as the network (fix_network keeps them with it).
        return received


@mod.export(funcify=True)
class NoteEngineWithoutDevice(BaseLoader):
    """
    Functor that passes a serialized engine on unchanged and, on a machine without a CUDA device, says once that
    the engine was built from the patched network and cannot run there (TensorRT-RTX builds engines on the CPU;
    the deserialization that follows then fails).
    """

    def __init__(self, serialized_engine: Any) -> None:
        """
        Args:
            serialized_engine (Union[trt.IHostMemory, Callable() -> trt.IHostMemory]):
                    A serialized engine, or a loader that returns one (e.g. EngineBytesFromNetwork).
        """
        self._serialized_engine = serialized_engine

    @util.check_called_by("__call__")
    def call_impl(self) -> Any:
        """
        Returns:
            trt.IHostMemory: The serialized engine it received.
        """
        from polygraphy_deconv.trt_network.library import library, missing_cuda_device

        engine, _ = util.invoke_if_callable(self._serialized_engine)
        why = missing_cuda_device()
        if engine is not None and why:
            size = getattr(engine, "nbytes", None)
            G_LOGGER.warning(
                f"{ENGINE_BUILT_NOT_RUN} on {library()}{'' if size is None else f' ({size:,} bytes)'} from the patched "
                f"network; it cannot run here: {why}. Polygraphy's deserialization error that follows is expected "
                "on this machine."
            )
        return engine


# The start of NoteEngineWithoutDevice's message (`polygraphy-deconv check` reads it from the run's output).
ENGINE_BUILT_NOT_RUN = "Deconvolution fix: engine built"


def tell_where_tensorrt_comes_from() -> None:
    """Polygraphy would suggest POLYGRAPHY_AUTOINSTALL_DEPS=1, which installs whatever the package index has under
    the module's name: say where TensorRT and TensorRT-RTX come from instead."""
    from polygraphy_deconv.trt_network.library import installed, module_name

    if installed():
        return
    G_LOGGER.critical(f"--deconv-fix/--deconv-check/--deconv-report: {missing_library_message(module_name())}")


def missing_library_message(name: str) -> str:
    """One line: the module Polygraphy asked for is not installed, and both ways to get a TensorRT library."""
    import importlib.util

    def present(module: str) -> bool:
        try:
            return importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            return False

    if name == "tensorrt_rtx":
        wanted = "TensorRT-RTX's Python package (tensorrt_rtx, as POLYGRAPHY_USE_TENSORRT_RTX=1 asks) is not installed here"
    else:
        wanted = "TensorRT's Python package (tensorrt) is not installed here"
        if present("tensorrt_rtx"):
            return f"{wanted}, but TensorRT-RTX's is. Note: set POLYGRAPHY_USE_TENSORRT_RTX=1 to use TensorRT-RTX."
    return (
        f"{wanted}. Note: TensorRT comes with NVIDIA's TensorRT containers (nvcr.io/nvidia/tensorrt) or "
        "`pip install tensorrt`; TensorRT-RTX with `pip install tensorrt-rtx`, used with POLYGRAPHY_USE_TENSORRT_RTX=1 "
        "set; without either, `polygraphy-deconv check MODEL` runs everything else."
    )
