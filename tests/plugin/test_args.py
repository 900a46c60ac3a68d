"""DeconvFixArgs as Polygraphy tests its argument groups: register -> add_parser_args -> parse, here with
every group of `polygraphy run` (the plugin's dependencies included)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from polygraphy.exception import PolygraphyException
from polygraphy.tools.args import TrtLoadNetworkArgs
from polygraphy.tools.args.base import ArgGroups
from polygraphy.tools.script import Script

from polygraphy_deconv.plugin import export_argument_groups
from polygraphy_deconv.plugin.args import DeconvFixArgs
from tests.plugin.polygraphy_cli import save_model


def run_arg_groups(cli_args: list[str]) -> ArgGroups:
    from polygraphy.tools.run.run import Run

    groups = [g for g in Run().get_subscriptions_impl() if not isinstance(g, DeconvFixArgs)]
    groups += export_argument_groups()
    arg_groups = ArgGroups()
    for group in groups:
        arg_groups[type(group)] = group
    parser = argparse.ArgumentParser()
    for group in arg_groups.values():
        group.register(arg_groups)
    for group in arg_groups.values():
        group.add_parser_args(parser)
    args = parser.parse_args(cli_args)
    for group in arg_groups.values():
        group.parse(args)
    return arg_groups


def network_script(arg_groups: ArgGroups) -> tuple[str, str]:
    script = Script()
    name = arg_groups[TrtLoadNetworkArgs].add_to_script(script)
    return str(name), str(script)


class TestDeconvFixArgs:
    def test_basic(self, tmp_path: Path) -> None:
        model = save_model(tmp_path)
        arg_groups = run_arg_groups([str(model), "--trt", "--onnxrt", "--deconv-fix"])
        group: Any = arg_groups[DeconvFixArgs]
        assert group.enabled and group.fix and not group.check and group.report_path is None
        name, text = network_script(arg_groups)
        assert name == "patch_deconvolutions"
        assert f"rewrite_for_parser = RewriteForParser('{model}')" in text
        assert "NetworkFromOnnxPath(rewrite_for_parser" in text
        assert "PatchDeconvolutions(parse_network_from_onnx, rewrite_for_parser)" in text

    def test_loader_comes_before_polygraphy_post_processing(self, tmp_path: Path) -> None:
        """--trt-outputs mark all (and every other post-processing step) sees the patched network."""
        model = save_model(tmp_path)
        arg_groups = run_arg_groups([str(model), "--trt", "--onnxrt", "--deconv-fix", "--trt-outputs", "mark", "all"])
        name, text = network_script(arg_groups)
        assert name == "set_network_outputs"
        assert "ModifyNetworkOutputs(patch_deconvolutions, outputs=constants.MARK_ALL)" in text

    def test_report_alone_only_reports(self, tmp_path: Path) -> None:
        model = save_model(tmp_path)
        arg_groups = run_arg_groups([str(model), "--trt", "--deconv-report", str(tmp_path / "r.json")])
        _, text = network_script(arg_groups)
        assert "mode='report'" in text
        assert f"RewriteForParser('{model}', rewrite=False)" in text  # the model as it is

    def test_docstring(self) -> None:
        doc = DeconvFixArgs.__doc__ or ""
        title = doc.strip().splitlines()[0]
        assert title.startswith("Deconvolution Fix: ")
        for dependency in ("ModelArgs", "RunnerSelectArgs", "TrtLoadNetworkArgs"):
            assert f"- {dependency}" in doc
        for attribute in ("fix (bool)", "check (bool)", "report_path (str)", "enabled (bool)"):
            assert attribute in (DeconvFixArgs.parse_impl.__doc__ or "")

    def test_flags_do_not_collide(self) -> None:
        """All three flags parse next to every built-in group (an argparse collision would raise)."""
        arg_groups = run_arg_groups(["m.onnx", "--deconv-check", "--deconv-report", "r.json"])
        group: Any = arg_groups[DeconvFixArgs]
        assert group.check and group.report_path.endswith("r.json")

    def test_negative_without_trt(self, tmp_path: Path) -> None:
        arg_groups = run_arg_groups([str(save_model(tmp_path)), "--onnxrt", "--deconv-fix"])
        assert not arg_groups[DeconvFixArgs].enabled  # type: ignore[attr-defined]
        assert "PatchDeconvolutions" not in network_script(arg_groups)[1]

    def test_negative_not_onnx(self, tmp_path: Path) -> None:
        engine = tmp_path / "m.engine"
        engine.write_bytes(b"")
        arg_groups = run_arg_groups([str(engine), "--trt", "--deconv-fix"])
        assert not arg_groups[DeconvFixArgs].enabled  # type: ignore[attr-defined]

    def test_negative_fix_and_check(self, tmp_path: Path) -> None:
        with pytest.raises(PolygraphyException, match="exclude each other"):
            run_arg_groups([str(save_model(tmp_path)), "--trt", "--deconv-fix", "--deconv-check"])


class TestImport:
    def test_basic(self) -> None:
        """Importing the plugin and making its groups imports none of the heavy modules."""
        code = (
            "import sys; import polygraphy_deconv.plugin as p; p.export_argument_groups(); "
            "print(sorted(m for m in ('onnx', 'onnxruntime', 'rich', 'tensorrt', 'numpy') if m in sys.modules))"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert done.stdout.strip() == "[]"
