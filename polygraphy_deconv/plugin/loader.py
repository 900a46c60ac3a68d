"""Polygraphy loaders: the model handed to the parser, and the deconvolutions patched in the parsed network.

    rewrite = RewriteForParser("model.onnx")
    EngineFromNetwork(PatchDeconvolutions(NetworkFromOnnxPath(rewrite), rewrite))

`RewriteForParser` gives the path of the model to parse: the model itself, or (where a ConvTranspose cannot be
parsed at all) a rewritten copy in a temporary folder, beside links to the model's external data files.
`PatchDeconvolutions` patches the parsed network in place and returns the tuple it received.
"""

from __future__ import annotations

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
    in which every ConvTranspose the parser cannot build (a predicted parse error, negative pads, output_shape on
    dynamic sizes) is rewritten. The copy lives in a temporary folder for as long as this loader does.
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
        self._analysis: Any = None  # ModelAnalysis of the model handed to the parser, where this loader made one
        self.rewritten: tuple[str, ...] = ()

    @util.check_called_by("__call__")
    def call_impl(self) -> str:
        """
        Returns:
            str: The path of the model to parse (the same on every call).
        """
        if self._path is not None:
            return self._path
        check_tensorrt_library()  # runs before the parse loader imports tensorrt
        if not self._rewrite:
            self._path = self.onnx_path
            return self._path
        import onnx

        from polygraphy_deconv.errors import DeconvError
        from polygraphy_deconv.onnx_model.analysis import analyse_proto
        from polygraphy_deconv.onnx_model.loaded import load
        from polygraphy_deconv.onnx_model.rewrite import rewrite_for_parser
        from polygraphy_deconv.text import shown

        try:
            loaded = load(self.onnx_path, self._input_shapes)  # the one read of the model
            rewrite = rewrite_for_parser(loaded.model, loaded.analysis)
        except DeconvError as error:
            G_LOGGER.critical(str(error))
        rewritten = tuple(r.node for r in rewrite.rewrites)
        if not rewritten:
            self._analysis = loaded.analysis
            self._path = self.onnx_path
            return self._path
        self._folder = tempfile.TemporaryDirectory(prefix="polygraphy-deconv-parse-")
        source = os.path.dirname(os.path.abspath(self.onnx_path))
        for reference in {r.relative_path for r in loaded.external_references}:
            # The parser reads external data relative to the model file: link each file, never copy it.
            link = os.path.join(self._folder.name, reference)
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if not os.path.lexists(link):
                os.symlink(os.path.join(source, reference), link)
        path = os.path.join(self._folder.name, os.path.basename(self.onnx_path))
        onnx.save(rewrite.model, path)
        # What was parsed, analysed in memory (its rewritten nodes are ordinary ones); named as the user's model.
        self._analysis = analyse_proto(rewrite.model, self._input_shapes, path=os.path.abspath(self.onnx_path))
        self.rewritten = rewritten
        names = ", ".join(f"'{shown(name)}'" for name in rewritten)
        G_LOGGER.info(f"Deconvolution fix: rewritten before the parse (TensorRT cannot parse them as they are): {names}")
        self._path = path
        return path

    def parsed_analysis(self) -> Any:
        """The analysis of the model handed to the parser (after the call): the one this loader made, else (the
        model as it is, unread so far) the model's."""
        from polygraphy_deconv.errors import DeconvError
        from polygraphy_deconv.onnx_model.analysis import analyse_model

        if self._analysis is None:
            try:
                return analyse_model(self.onnx_path, self._input_shapes)
            except DeconvError as error:
                G_LOGGER.critical(str(error))
        return self._analysis


@mod.export(funcify=True)
class PatchDeconvolutions(BaseLoader):
    """
    Functor that patches the deconvolutions of a TensorRT network so that each computes the output window
    of its ONNX ConvTranspose node, and reports them.
    """

    def __init__(
        self,
        network: Any,
        onnx_path: Any,
        mode: str | None = None,
        report_path: str | None = None,
        input_shapes: Mapping[str, Sequence[int | str | None]] | None = None,
    ) -> None:
        """
        Args:
            network (Union[Tuple[trt.Builder, trt.INetworkDefinition, Optional[parser]], Callable() -> Tuple[...]]):
                    A network tuple, or a loader that returns one (e.g. NetworkFromOnnxPath).
            onnx_path (Union[str, RewriteForParser]):
                    The ONNX model the network was parsed from, or the RewriteForParser loader that gave it.
            mode (str):
                    "fix": patch every deconvolution that needs it (--deconv-fix); "check": change nothing and fail
                    if any would need a patch (--deconv-check); "report": change nothing, only report
                    (--deconv-report alone). Defaults to "fix".
            report_path (str): Where to write the findings as JSON. Defaults to None (no file).
            input_shapes (Dict[str, List[Union[int, str, None]]]):
                    Input shapes to bind in the ONNX analysis (as --input-shapes). Defaults to None.
        """
        self._network = network
        self._onnx_path = onnx_path
        self._mode = util.default(mode, "fix")
        self._report_path = report_path
        self._input_shapes = input_shapes

    @util.check_called_by("__call__")
    def call_impl(self) -> tuple[Any, ...]:
        """
        Returns:
            Tuple[trt.Builder, trt.INetworkDefinition, Optional[parser], ...]:
                    The network tuple it received, the network patched in place.
        """
        import os

        from polygraphy_deconv.plugin.network_step import patch_parsed_network
        from polygraphy_deconv.trt_network.patching import Mode

        try:
            mode = Mode(self._mode)
        except ValueError:
            G_LOGGER.critical(f"PatchDeconvolutions: mode {self._mode!r} is none of {', '.join(m.value for m in Mode)}")
        ret, _ = util.invoke_if_callable(self._network)
        received = tuple(ret) if isinstance(ret, (tuple, list)) else (ret,)
        _, network, _ = util.unpack_args(received, num=3)
        source = self._onnx_path
        if isinstance(source, RewriteForParser):
            source()  # the path parsed (the same on every call): RewriteForParser has run
            patch_parsed_network(network, os.path.abspath(source.onnx_path), self._input_shapes, self._report_path,
                                 mode=mode, analysis=source.parsed_analysis(), rewritten=source.rewritten)
        else:
            patch_parsed_network(network, source, self._input_shapes, self._report_path, mode=mode)
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


# The start of NoteEngineWithoutDevice's message, and a part of _check_network_creation's (`polygraphy-deconv check`
# reads them from the run's output).
ENGINE_BUILT_NOT_RUN = "Deconvolution fix: engine built"
NO_NETWORK_CREATION = "cannot create a network"


def check_tensorrt_library() -> None:
    """Before the parse, one line instead of what would follow where the library cannot be used: Polygraphy's
    POLYGRAPHY_AUTOINSTALL_DEPS hint where it is not installed (it installs whatever the package index has under
    the module's name), or Polygraphy's own failure where its network creation asks for a flag the library lacks."""
    from polygraphy_deconv.trt_network.library import installed, module_name

    if not installed():
        G_LOGGER.critical(f"--deconv-fix/--deconv-check/--deconv-report: {missing_library_message(module_name())}")
    _check_network_creation()


def _check_network_creation() -> None:
    """Polygraphy 0.49.x's CreateNetwork asks for EXPLICIT_BATCH where the module's version is below 10.0
    (polygraphy/backend/trt/loader.py@0.49.26:102-105), so it takes TensorRT-RTX 1.x for an old TensorRT, and
    TensorRT-RTX has no such flag; Polygraphy 0.50 decides by the library (explicit_batch_supported, 0.50.3).
    Decided by what both have: the flag Polygraphy would ask for, and the flags the module has."""
    from polygraphy import __version__ as polygraphy_version
    from polygraphy.backend.trt import CreateNetwork

    from polygraphy_deconv.trt_network.library import library, module_name, tensorrt

    if module_name() != "tensorrt_rtx":  # Polygraphy in its TensorRT-RTX mode: its loaders took tensorrt_rtx too
        return
    flags = tensorrt().NetworkDefinitionCreationFlag.__members__
    if CreateNetwork().explicit_batch and "EXPLICIT_BATCH" not in flags:
        G_LOGGER.critical(
            f"Polygraphy {polygraphy_version} {NO_NETWORK_CREATION} on {library()}: it asks for the EXPLICIT_BATCH "
            "flag, which that library does not have (Polygraphy 0.49 compares TensorRT-RTX's version with "
            "TensorRT's). Note: use Polygraphy 0.50 or newer with TensorRT-RTX (pip install 'polygraphy>=0.50')."
        )


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
