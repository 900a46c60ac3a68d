"""The plugin's argument group: adds the PatchDeconvolutions loader right after the network is parsed."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

from polygraphy.tools.args import util as args_util
from polygraphy.tools.args.base import BaseArgs
from polygraphy.tools.script import inline, make_invocable

# The script id Polygraphy gives the ONNX parse loader (tools/args/backend/trt/loader.py, the same from 0.49.26
# to 0.53.x: `script.add_loader(loader_str, "parse_network_from_onnx")`).
PARSE_LOADER_ID = "parse_network_from_onnx"
# ... and the engine build loader (TrtLoadEngineBytesArgs: `script.add_loader(loader_str, "build_engine")`).
BUILD_LOADER_ID = "build_engine"


class DeconvFixArgs(BaseArgs):
    """
    Deconvolution Fix: finding and patching TensorRT deconvolutions whose output window differs from the ONNX ConvTranspose.

    Depends on:

        - ModelArgs
        - RunnerSelectArgs
        - TrtLoadNetworkArgs
        - TrtLoadEngineBytesArgs
    """

    def add_parser_args_impl(self) -> None:
        self.group.add_argument(
            "--deconv-fix",
            help="Find every TensorRT deconvolution whose output window differs from its ONNX ConvTranspose node "
            "and patch the parsed network in place before the engine is built. Needs --trt and an ONNX model.",
            action="store_true",
            default=None,
        )
        self.group.add_argument(
            "--deconv-check",
            help="Like --deconv-fix, but only report: fail the run (exit 1) if any deconvolution would need a patch.",
            action="store_true",
            default=None,
        )
        self.group.add_argument(
            "--deconv-report",
            metavar="PATH",
            help="Write the findings as JSON to PATH (the schema of `polygraphy-deconv inspect --json`). "
            "Alone it only reports, like --deconv-check without failing; with --deconv-fix it reports the patch.",
            default=None,
        )

    def parse_impl(self, args: Any) -> None:
        """
        Parses command-line arguments and populates the following attributes:

        Attributes:
            fix (bool): Whether to patch deconvolutions (--deconv-fix).
            check (bool): Whether to only check them (--deconv-check).
            report_path (str): Where to write the JSON findings, or None.
            enabled (bool): Whether the loader is added after the network parse.
        """
        from polygraphy.logger import G_LOGGER
        from polygraphy.tools.args import ModelArgs, RunnerSelectArgs, TrtLoadEngineBytesArgs, TrtLoadNetworkArgs

        self.fix = bool(args_util.get(args, "deconv_fix"))
        self.check = bool(args_util.get(args, "deconv_check"))
        report = args_util.get(args, "deconv_report")
        self.report_path = None if report is None else os.path.abspath(report)
        self.enabled = False
        if not (self.fix or self.check or self.report_path):
            return
        flags = "--deconv-fix/--deconv-check/--deconv-report"
        if self.fix and self.check:
            G_LOGGER.critical("--deconv-fix and --deconv-check exclude each other: use --deconv-check to only report.")
        runners = self.arg_groups[RunnerSelectArgs].runners if RunnerSelectArgs in self.arg_groups else {}
        if "trt" not in list(runners.keys()):  # a dict in older Polygraphy, a list of pairs in newer
            G_LOGGER.warning(f"{flags} act on the TensorRT network: without --trt they do nothing.")
            return
        model = self.arg_groups[ModelArgs]
        if model.path is None or model.model_type is None or not model.model_type.is_onnx():
            G_LOGGER.warning(f"{flags} need an ONNX model; with model type '{model.model_type}' they do nothing.")
            return
        self.enabled = True
        # --deconv-report alone never patches
        self.mode = "fix" if self.fix else "check" if self.check else "report"
        self.model_source: Any = None  # the RewriteForParser loader's name in the script (--deconv-fix)
        self.onnx_path = model.path
        self.input_shapes = _input_shapes(model.input_shapes)
        network_args = self.arg_groups[TrtLoadNetworkArgs]
        original = network_args.add_to_script_impl

        def add_to_script_impl(script: Any, *args: Any, **kwargs: Any) -> str:
            # Our loaders go right after the parse loader, before Polygraphy's post-processing
            # (PostprocessNetwork, ModifyNetworkOutputs for --trt-outputs, precisions, datatypes, formats),
            # which then sees the patched network. Both --gen-script and load_network() come through here.
            added: list[str] = []

            def add_after_parse(script: Any, name: str) -> str:
                if added:
                    return name
                added.append(name)
                return self.add_to_script(script, name)

            model_args = self.arg_groups[ModelArgs]
            saved_path = model_args.path
            model_args.path = self._add_rewrite_loader(script)
            try:
                with _following(script, PARSE_LOADER_ID, add_after_parse):
                    network_loader = original(script, *args, **kwargs)
            finally:
                model_args.path = saved_path
            if not added:
                G_LOGGER.critical(
                    f"{flags} found no ONNX parse step ('{PARSE_LOADER_ID}') in Polygraphy's network loading. "
                    "Note: rewrite the model with `polygraphy-deconv fix` and run that model instead."
                )
            return network_loader

        network_args.add_to_script_impl = add_to_script_impl
        if TrtLoadEngineBytesArgs in self.arg_groups:
            _insert_after(self.arg_groups[TrtLoadEngineBytesArgs], BUILD_LOADER_ID, _add_engine_note)

    def _add_rewrite_loader(self, script: Any) -> Any:
        """RewriteForParser in the script; what NetworkFromOnnxPath and PatchDeconvolutions read the model from."""
        script.add_import(imports=["RewriteForParser"], frm="polygraphy_deconv.plugin.loader")
        # Only --deconv-fix changes what the parser sees; every mode says where TensorRT comes from when it is missing.
        name = script.add_loader(
            make_invocable(
                "RewriteForParser", self.onnx_path, input_shapes=self.input_shapes, rewrite=None if self.fix else False
            ),
            "rewrite_for_parser",
        )
        self.model_source = inline(name)  # add_loader returns a safe Script.String
        return self.model_source

    def add_to_script_impl(self, script: Any, network_loader: str) -> str:
        """
        Args:
            network_loader (str): The name of the network loader to patch.

        Returns:
            str: The name of the PatchDeconvolutions loader added to the script.
        """
        if not self.enabled:
            return network_loader
        script.add_import(imports=["PatchDeconvolutions"], frm="polygraphy_deconv.plugin.loader")
        return script.add_loader(
            make_invocable(
                "PatchDeconvolutions",
                network_loader,
                self.model_source or self.onnx_path,
                mode=None if self.mode == "fix" else self.mode,
                report_path=self.report_path,
                input_shapes=self.input_shapes,
            ),
            "patch_deconvolutions",
        )


def _add_engine_note(script: Any, build_loader: str) -> str:
    """NoteEngineWithoutDevice after the engine build: where no CUDA device is, it says the engine was built."""
    script.add_import(imports=["NoteEngineWithoutDevice"], frm="polygraphy_deconv.plugin.loader")
    return script.add_loader(make_invocable("NoteEngineWithoutDevice", build_loader), "note_engine_without_device")


def _insert_after(group: Any, loader_id: str, add: Callable[[Any, str], str]) -> None:
    """Wrap `group.add_to_script_impl` so that `add(script, name)` follows its loader `loader_id` in the script."""
    original = group.add_to_script_impl

    def add_to_script_impl(script: Any, *args: Any, **kwargs: Any) -> Any:
        with _following(script, loader_id, add):
            return original(script, *args, **kwargs)

    group.add_to_script_impl = add_to_script_impl


@contextlib.contextmanager
def _following(script: Any, loader_id: str, add: Callable[[Any, str], str]) -> Iterator[None]:
    """While it lasts, `add(script, name)` follows every loader `loader_id` that is added to the script (and its
    name is what add_loader returns). Nests: the engine build's group writes the network loaders inside it."""
    add_loader = script.add_loader
    previous = script.__dict__.get("add_loader")

    def add_loader_and_follow(loader_str: Any, name: str, *more: Any, **options: Any) -> Any:
        added = add_loader(loader_str, name, *more, **options)
        return add(script, added) if name == loader_id else added

    script.add_loader = add_loader_and_follow
    try:
        yield
    finally:
        if previous is None:
            del script.add_loader  # the instance attribute: the class's method again
        else:
            script.add_loader = previous


def _input_shapes(metadata: Any) -> dict[str, list[Any]] | None:
    """--input-shapes as plain literals (for the generated script)."""
    if not metadata:
        return None
    shapes = {}
    for name, meta in metadata.items():
        shape = getattr(meta, "shape", None)
        if shape is not None:
            shapes[name] = [d if isinstance(d, int) else (None if d is None else str(d)) for d in shape]
    return shapes or None
