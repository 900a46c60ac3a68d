"""`polygraphy-deconv check`, run as the installed console script."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from polygraphy_deconv.cli import check
from polygraphy_deconv.cli.main import main
from polygraphy_deconv.onnx_model import verify
from tests.cli.conftest import Run

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "models"


class TestCheck:
    def test_basic(self, run_cli: Run, tmp_path: Path) -> None:
        result = run_cli("check", str(SAMPLES / "mixed.onnx"), "--json", "findings.json")
        assert result.returncode == 0, result.stdout + result.stderr
        out = result.stdout
        assert "\x1b[" not in out  # plain text off a terminal
        assert "5 ConvTranspose: 1 ok, 1 shifted, 1 wrong-shape, 1 parse-error, 1 tensor-bias" in out
        assert "rewrote up_output_shape_odd (shifted)" in out
        assert "fix + verify (onnxruntime): passed" in out
        # Without TensorRT the TensorRT step is reported as skipped, never as passed.
        if not check.tensorrt_available()[0]:
            assert "TensorRT: skipped: TensorRT not installed" in out
            assert out.rstrip().endswith("check: PASSED (skipped: TensorRT)")
        document = json.loads((tmp_path / "findings.json").read_text())
        assert document["schema"] == "polygraphy-deconv/findings" and document["source"] == "inspect"
        assert document["summary"]["verdicts"]["tensor-bias"] == 1
        # The fixed model went to a temporary folder: nothing is left beside the model or in the cwd.
        assert sorted(os.listdir(tmp_path)) == ["findings.json"]

    def test_ok_model_needs_no_rewrite(self, run_cli: Run) -> None:
        result = run_cli("check", str(SAMPLES / "decoder_block.onnx"), "--no-tensorrt")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "nothing to rewrite" in result.stdout
        assert "TensorRT: skipped: --no-tensorrt" in result.stdout

    def test_strict_fails_when_a_node_needs_a_patch(self, run_cli: Run) -> None:
        result = run_cli("check", str(SAMPLES / "mixed.onnx"), "--strict", "--no-tensorrt")
        assert result.returncode == 1
        assert "strict: failed: 4 node(s) need a patch" in result.stdout
        assert "check: FAILED (strict)" in result.stdout

    def test_negative_usage(self, run_cli: Run) -> None:
        result = run_cli("check")
        assert result.returncode == 2

    def test_negative_verification_mismatch_fails(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # A fix that does not hold on onnxruntime must fail the check: fake a failing comparison.
        real = verify.verify_fix

        def failing(*args: object, **kwargs: object) -> verify.Verification:
            result = real(*args, **kwargs)  # type: ignore[arg-type]
            return verify.Verification(False, result.outputs, result.seed)

        monkeypatch.setattr(verify, "verify_fix", failing)
        code = main(["check", str(SAMPLES / "shifted_output_shape_2d.onnx"), "--no-tensorrt"])
        out = capsys.readouterr().out
        assert code == 1
        assert "fix + verify (onnxruntime): failed" in out and "check: FAILED" in out


class TestPolygraphyCommand:
    def test_basic(self) -> None:
        command = check.polygraphy_command("/m/model.onnx", "/tmp/r.json", 3, ["x:[1,2,5,6]"])
        assert command[1:] == [
            "run", "/m/model.onnx", "--trt", "--onnxrt", "--deconv-fix", "--deconv-report", "/tmp/r.json",
            "--seed", "3", "--input-shapes", "x:[1,2,5,6]",
        ]
        assert os.path.basename(command[0]) == "polygraphy"

