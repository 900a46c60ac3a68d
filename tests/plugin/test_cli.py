"""The plugin through the installed `polygraphy` console script (newest and oldest supported Polygraphy)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import ClassVar

import pytest

from tests.plugin.polygraphy_cli import PolygraphyInstall, current_install, hiding, save_model

HAS_TENSORRT = importlib.util.find_spec("tensorrt") is not None
NO_TENSORRT = "TensorRT is not installed here (NVIDIA's containers, or pip install tensorrt where NVIDIA's servers are reachable)"


def generated_script(install: PolygraphyInstall, tmp_path: Path, *flags: str) -> str:
    model = save_model(tmp_path)
    script = tmp_path / "gen.py"
    done = install.run("run", str(model), *flags, f"--gen-script={script}", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return script.read_text()


class TestHelp:
    def test_basic(self) -> None:
        done = current_install().run("run", "--help")
        assert done.returncode == 0
        for flag in ("--deconv-fix", "--deconv-check", "--deconv-report PATH", "Deconvolution Fix:"):
            assert flag in done.stdout

    def test_other_subcommands_still_work(self) -> None:
        done = current_install().run("inspect", "--help")
        assert done.returncode == 0 and "Failed to load plugin" not in done.stdout + done.stderr


class TestGenScript:
    def test_basic(self, polygraphy_install: PolygraphyInstall, tmp_path: Path) -> None:
        text = generated_script(polygraphy_install, tmp_path, "--trt", "--onnxrt", "--deconv-fix")
        compile(text, "gen.py", "exec")
        lines = text.splitlines()
        assert "from polygraphy_deconv.plugin.loader import NoteEngineWithoutDevice, PatchDeconvolutions, RewriteForParser" in lines
        rewrite = next(i for i, line in enumerate(lines) if "RewriteForParser(" in line)
        assert lines[rewrite] == f"rewrite_for_parser = RewriteForParser('{tmp_path / 'm.onnx'}')"
        parse = next(i for i, line in enumerate(lines) if "NetworkFromOnnxPath(" in line)
        assert lines[parse].split(" = ")[1].startswith("NetworkFromOnnxPath(rewrite_for_parser")
        patch = next(i for i, line in enumerate(lines) if "PatchDeconvolutions(" in line)
        build = next(i for i, line in enumerate(lines) if "EngineBytesFromNetwork(" in line or "EngineFromNetwork(" in line)
        assert rewrite < parse < patch < build
        network_name = lines[parse].split(" = ")[0]
        patch_name = lines[patch].split(" = ")[0]
        assert lines[patch].split(" = ")[1].startswith(f"PatchDeconvolutions({network_name}, rewrite_for_parser")
        assert f"({patch_name}" in lines[build]
        assert text.count("NetworkFromOnnxPath(") == 1
        # the engine note right after the build, before Polygraphy deserializes the engine
        note = next(i for i, line in enumerate(lines) if "NoteEngineWithoutDevice(" in line)
        build_name = lines[build].split(" = ")[0]
        assert note == build + 1 and lines[note].endswith(f"NoteEngineWithoutDevice({build_name})")
        assert any(f"({lines[note].split(' = ')[0]}" in line for line in lines[note + 1:] if "EngineFromBytes(" in line)

    def test_check_report_and_shapes(self, polygraphy_install: PolygraphyInstall, tmp_path: Path) -> None:
        text = generated_script(
            polygraphy_install, tmp_path, "--trt", "--onnxrt", "--deconv-check", "--deconv-report", "r.json",
            "--input-shapes", "x:[1,2,5,6]",
        )
        compile(text, "gen.py", "exec")
        (line,) = [line for line in text.splitlines() if "PatchDeconvolutions(" in line]
        assert "mode='check'" in line
        (rewrite,) = [line for line in text.splitlines() if "RewriteForParser(" in line]
        assert "rewrite=False" in rewrite  # --deconv-check hands the parser the model as it is
        assert f"report_path='{tmp_path / 'r.json'}'" in line
        assert "input_shapes={'x': [1, 2, 5, 6]}" in line

    def test_negative_without_trt(self, polygraphy_install: PolygraphyInstall, tmp_path: Path) -> None:
        text = generated_script(polygraphy_install, tmp_path, "--onnxrt", "--deconv-fix")
        assert "PatchDeconvolutions" not in text

    def test_negative_without_flags(self, polygraphy_install: PolygraphyInstall, tmp_path: Path) -> None:
        text = generated_script(polygraphy_install, tmp_path, "--trt", "--onnxrt")
        assert "PatchDeconvolutions" not in text


class TestRun:
    def test_negative_without_trt_warns_and_does_nothing(self, polygraphy_install: PolygraphyInstall, tmp_path: Path) -> None:
        model = save_model(tmp_path)
        done = polygraphy_install.run("run", str(model), "--onnxrt", "--deconv-fix", "--deconv-report", "r.json",
                                      cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "without --trt they do nothing" in done.stdout + done.stderr
        assert "PASSED" in done.stdout + done.stderr
        assert not (tmp_path / "r.json").exists()

    @pytest.mark.skipif(HAS_TENSORRT, reason="needs a machine without TensorRT")
    @pytest.mark.parametrize("flag", ["--deconv-fix", "--deconv-check", "--deconv-report"])
    @pytest.mark.parametrize("case", ["neither", "only-rtx", "rtx-asked"])
    def test_negative_without_tensorrt_says_where_it_comes_from(self, flag: str, case: str, tmp_path: Path) -> None:
        """Not Polygraphy's POLYGRAPHY_AUTOINSTALL_DEPS hint: one line naming both libraries' ways, or the variable
        where only TensorRT-RTX is installed."""
        model = save_model(tmp_path)
        extra = ["r.json"] if flag == "--deconv-report" else []
        env: dict[str, str | None] = {"POLYGRAPHY_USE_TENSORRT_RTX": None}
        if case != "only-rtx":
            env.update(hiding(tmp_path / "site", "tensorrt_rtx"))
        if case == "rtx-asked":
            env["POLYGRAPHY_USE_TENSORRT_RTX"] = "1"
        done = current_install().run("run", str(model), "--trt", "--onnxrt", flag, *extra, cwd=tmp_path, env=env)
        output = done.stdout + done.stderr
        assert done.returncode == 1, output
        assert "POLYGRAPHY_AUTOINSTALL_DEPS" not in output and "Traceback" not in output
        (line,) = [line for line in output.splitlines() if line.startswith("[!]")]
        if case == "only-rtx":
            assert line.endswith("but TensorRT-RTX's is. Note: set POLYGRAPHY_USE_TENSORRT_RTX=1 to use TensorRT-RTX.")
        else:
            wanted = "TensorRT-RTX's Python package (tensorrt_rtx" if case == "rtx-asked" else "TensorRT's Python package"
            assert wanted in line
            assert "NVIDIA's TensorRT containers" in line and "`pip install tensorrt-rtx`" in line

    @pytest.mark.skipif(importlib.util.find_spec("tensorrt_rtx") is None, reason="needs NVIDIA's tensorrt-rtx package")
    def test_tensorrt_rtx_mode(self, polygraphy_install: PolygraphyInstall, tmp_path: Path) -> None:
        """On TensorRT-RTX, Polygraphy 0.50 and newer parse, and the plugin patches and builds; Polygraphy 0.49's
        network creation asks TensorRT-RTX for EXPLICIT_BATCH, and the plugin says so in one line."""
        model = save_model(tmp_path, {"strides": [2, 2], "output_shape": [10, 12]})
        done = polygraphy_install.run("run", str(model), "--trt", "--deconv-fix", cwd=tmp_path,
                                      env={"POLYGRAPHY_USE_TENSORRT_RTX": "1"})
        output = done.stdout + done.stderr
        assert "Traceback" not in output, output
        if tuple(int(p) for p in polygraphy_install.version.split(".")[:2]) < (0, 50):
            (line,) = [line for line in output.splitlines() if line.startswith("[!]")]
            assert done.returncode == 1 and "asks for the EXPLICIT_BATCH flag" in line
            assert "use Polygraphy 0.50 or newer with TensorRT-RTX" in line
        else:
            assert "Deconvolution fixed on TensorRT-RTX" in output and "Finished engine building" in output, output

    def test_negative_check_and_fix_together(self, tmp_path: Path) -> None:
        model = save_model(tmp_path)
        done = current_install().run("run", str(model), "--trt", "--deconv-fix", "--deconv-check", cwd=tmp_path)
        assert done.returncode == 1
        assert "exclude each other" in done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.tensorrt
@pytest.mark.skipif(not HAS_TENSORRT, reason=NO_TENSORRT)
class TestRealTensorRT:
    """Parse, patch, build and compare with onnxruntime through `polygraphy run` (never run here)."""

    # The parser's odd output_shape split shifts values (onnx-tensorrt 1042); SAME_UPPER drops output_padding.
    SHIFTED: ClassVar[dict[str, object]] = {"strides": [2, 2], "output_shape": [10, 12]}
    SAME_WITH_OP: ClassVar[dict[str, object]] = {"strides": [2, 2], "auto_pad": "SAME_UPPER", "output_padding": [1, 1]}
    EXTENSION: ClassVar[dict[str, object]] = {"strides": [2, 2], "pads": [0, 0, 0, 0], "output_padding": [1, 1]}

    @pytest.mark.parametrize("attributes", [SHIFTED, SAME_WITH_OP, EXTENSION], ids=["shifted", "same", "extension"])
    def test_basic(self, tmp_path: Path, attributes: dict[str, object]) -> None:
        model = save_model(tmp_path, attributes)
        done = current_install().run("run", str(model), "--trt", "--onnxrt", "--deconv-fix", "--deconv-report",
                                     "r.json", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "PASSED" in done.stdout
        document = json.loads((tmp_path / "r.json").read_text())
        assert document["source"] == "network"
        assert {f["network"]["action"] for f in document["findings"]} <= {"ok", "patched"}

    def test_negative_unpatched_differs(self, tmp_path: Path) -> None:
        model = save_model(tmp_path, self.SHIFTED)
        done = current_install().run("run", str(model), "--trt", "--onnxrt", cwd=tmp_path)
        assert done.returncode == 1 and "FAILED" in done.stdout

    def test_negative_check_fails(self, tmp_path: Path) -> None:
        model = save_model(tmp_path, self.SHIFTED)
        done = current_install().run("run", str(model), "--trt", "--onnxrt", "--deconv-check", cwd=tmp_path)
        assert done.returncode == 1
        assert "--deconv-fix" in done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr
