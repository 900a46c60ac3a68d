"""`polygraphy-deconv check`, run as the installed console script."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import onnx
import polygraphy
import pytest

from polygraphy_deconv.cli import check
from polygraphy_deconv.cli.main import main
from polygraphy_deconv.onnx_model import verify
from polygraphy_deconv.trt_network.library import missing_cuda_device
from tests.cli.conftest import Run
from tests.data import negative_pads
from tests.models import conv_transpose_model
from tests.onnx_model.dynamic_models import dynamic_output_shape, mismatched_sizes, unet

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
        # Without TensorRT the TensorRT step is reported as skipped, never as passed; on TensorRT-RTX without a GPU
        # the engine is built and the step says it did not run.
        step = check.tensorrt_step()
        if not step.library:
            assert "TensorRT: skipped: neither TensorRT nor TensorRT-RTX is installed" in out
            assert out.rstrip().endswith("check: PASSED (skipped: TensorRT)")
        elif step.library.startswith("TensorRT-RTX") and polygraphy.__version__.startswith("0.49."):
            assert "skipped: this Polygraphy cannot create networks on TensorRT-RTX" in " ".join(out.split())
            assert out.rstrip().splitlines()[-1].startswith("check: PASSED (skipped: ")
        elif step.library.startswith("TensorRT-RTX") and missing_cuda_device():
            built = f"engine built on {step.library}; not run: no supported GPU"
            assert f"TensorRT (polygraphy run): {built}" in " ".join(out.split())  # the step lines wrap
            assert out.rstrip().splitlines()[-1] == f"check: BUILT, NOT RUN ({built})"
            assert "Deconvolution fixed on TensorRT-RTX" in out and "Deconvolution fix: engine built" in out
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

    def test_strict_fails_on_output_shape_over_bound_dynamic_sizes(self, run_cli: Run, tmp_path: Path) -> None:
        # The sizes bound with --input-shapes are the verification's; TensorRT's parser still reads -1 (issue 16).
        onnx.save(dynamic_output_shape(), str(tmp_path / "m.onnx"))
        result = run_cli("check", "m.onnx", "--input-shapes", "x:[2,4,16,16]", "--strict", "--no-tensorrt")
        assert result.returncode == 1, result.stdout + result.stderr
        assert "1 ConvTranspose: 1 parse-error" in result.stdout
        assert "strict: failed: 1 node(s) need a patch" in result.stdout
        assert "fix + verify (onnxruntime): passed" in result.stdout

    def test_negative_pads_of_tf2onnx(self, run_cli: Run, tmp_path: Path) -> None:
        # onnxruntime 1.32 refuses the original: verified against ONNX's formula written out, and said so.
        model, _ = negative_pads.tf2onnx_end_2d()
        onnx.save(model, str(tmp_path / "m.onnx"))
        result = run_cli("check", "m.onnx", "--no-tensorrt")
        assert result.returncode == 0, result.stdout + result.stderr
        text = " ".join(result.stdout.split())
        assert "1 ConvTranspose: 1 negative-pads" in text
        assert "rewrote tf2onnx_end_2d (negative-pads): pads=[0, 0, -1, -1] -> pads=[0, 0, 0, 0] + Pad(after=[1, 1]) + bias Add" in text
        assert "refuses the negative pads of 'tf2onnx_end_2d'; they ran as ONNX's formula writes them" in text
        assert "fix + verify (onnxruntime): passed" in text

    def test_negative_pads_compare_tensorrt_with_the_fixed_model_on_onnxruntime(self, run_cli: Run,
                                                                                 tmp_path: Path) -> None:
        # Polygraphy's onnxruntime runner refuses the original as the verification's onnxruntime did: the TensorRT
        # step saves onnxruntime's outputs of the fixed model and compares TensorRT (the original, --deconv-fix)
        # with them.
        model, _ = negative_pads.tf2onnx_end_2d()
        onnx.save(model, str(tmp_path / "m.onnx"))
        result = run_cli("check", "m.onnx")
        assert result.returncode == 0, result.stdout + result.stderr
        text = " ".join(result.stdout.split())
        step = check.tensorrt_step()
        if not step.library or polygraphy.__version__.startswith("0.49."):
            pytest.skip(f"no TensorRT step here ({step.library or step.why})")
        assert "refuses the original's negative pads: TensorRT is compared with onnxruntime's outputs of the " \
               "fixed model" in text
        commands = [line.split() for line in result.stdout.splitlines() if "--save-outputs" in line or "--deconv-report" in line]
        (reference, tensorrt) = commands
        saved = reference[reference.index("--save-outputs") + 1]
        assert reference[reference.index("run") + 1].endswith("reference.onnx") and "--onnxrt" in reference
        assert tensorrt[tensorrt.index("run") + 1] == str(tmp_path / "m.onnx") and "--onnxrt" not in tensorrt
        assert tensorrt[tensorrt.index("--load-outputs") + 1] == saved and "--deconv-fix" in tensorrt
        if missing_cuda_device():
            assert result.stdout.rstrip().splitlines()[-1].startswith("check: BUILT, NOT RUN (engine built on ")
        else:
            assert result.stdout.rstrip().splitlines()[-1].startswith("check: PASSED")

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


class TestCheckDynamicModels:
    """Every run of check ends with its one check: line (issue 11), dynamic sizes included."""

    @staticmethod
    def last_line(out: str) -> str:
        return out.rstrip().splitlines()[-1]

    def test_unet_is_verified_at_sizes_it_runs_at(self, run_cli: Run, tmp_path: Path) -> None:
        # paddle2onnx's SAME ConvTranspose: shifted on TensorRT, so rewritten and verified; ONNX shape inference of
        # the original finds the Concat inconsistent at every size, of the fixed model only at odd ones.
        onnx.save(unet(("N", 3, "H", "W"), same=True), str(tmp_path / "m.onnx"))
        result = run_cli("check", "m.onnx", "--no-tensorrt")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "verification sizes: x:[1,3,2,2]" in result.stdout
        assert self.last_line(result.stdout) == "check: PASSED (skipped: TensorRT)"

    def test_tensorrt_step_runs_at_the_verification_sizes(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # polygraphy run gets the sizes the verification chose (issue 16), not Polygraphy's 1 for each dynamic dim.
        import subprocess

        commands: list[list[str]] = []

        def fake_run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
            commands.append(command)
            return subprocess.CompletedProcess(command, 0, "PASSED\n", "")

        monkeypatch.setattr(check, "tensorrt_step", lambda: check.TensorRTStep("TensorRT 10.16.1"))
        monkeypatch.setattr(subprocess, "run", fake_run)
        onnx.save(unet(("N", 3, "H", "W"), same=True), str(tmp_path / "m.onnx"))
        code = main(["check", str(tmp_path / "m.onnx")])
        out = capsys.readouterr().out
        assert code == 0, out
        (command,) = commands
        assert command[command.index("--input-shapes") + 1 :] == ["x:[1,3,2,2]"]
        assert "verification sizes: x:[1,3,2,2]" in out and "TensorRT (polygraphy run): passed on TensorRT 10.16.1" in out
        # Sizes the user binds are passed as given.
        commands.clear()
        main(["check", str(tmp_path / "m.onnx"), "--input-shapes", "x:[2,3,6,8]"])
        assert commands[0][commands[0].index("--input-shapes") + 1 :] == ["x:[2,3,6,8]"]

    def test_negative_sizes_needed(self, run_cli: Run, tmp_path: Path) -> None:
        onnx.save(mismatched_sizes(rewritten=True), str(tmp_path / "m.onnx"))
        result = run_cli("check", "m.onnx", "--no-tensorrt")
        assert result.returncode == 1 and result.stderr == ""
        out = " ".join(result.stdout.split())  # the message is wrapped at 80 columns
        assert "verification not run: verifying on onnxruntime needs sizes for the dynamic dims of x [1, 3, H, W]" in out
        assert "--input-shapes x:[1,3,H,W] with H and W bound" in out
        assert "fix + verify (onnxruntime): failed: bind the dynamic dims with --input-shapes" in result.stdout
        assert self.last_line(result.stdout) == "check: FAILED (fix + verify (onnxruntime))"

    def test_negative_onnxruntime_error_at_chosen_sizes(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # onnxruntime's error used to end the run (no check: line); now it fails the step and says what to bind.
        monkeypatch.setattr(verify, "_strict_inference", lambda model: None)
        monkeypatch.setattr(verify.OnnxruntimeTrial, "runs", lambda self, shapes: None)
        onnx.save(unet(same=True), str(tmp_path / "m.onnx"))
        code = main(["check", str(tmp_path / "m.onnx"), "--no-tensorrt"])
        captured = capsys.readouterr()
        out = " ".join(captured.out.split())
        assert code == 1 and captured.err == ""
        assert "onnxruntime could not run the models for verification" in out
        assert "--input-shapes x:[1,3,H,W] (H and W bound)" in out
        assert "fix + verify (onnxruntime): failed: onnxruntime could not run the models" in captured.out
        assert self.last_line(captured.out) == "check: FAILED (fix + verify (onnxruntime))"

    def test_negative_node_that_cannot_be_rewritten(self, run_cli: Run, tmp_path: Path) -> None:
        model = conv_transpose_model([1, 2, "H", "W"], [2, 3, 3, 3], strides=[2, 2], output_shape=[10, 12])
        onnx.save(model, str(tmp_path / "m.onnx"))
        result = run_cli("check", "m.onnx", "--no-tensorrt")
        assert result.returncode == 1
        assert result.stderr.startswith("polygraphy-deconv: error: cannot rewrite ConvTranspose 'deconv'")
        assert "--input-shapes x:[1,2,H,W]" in result.stderr and len(result.stderr.splitlines()) == 1
        assert self.last_line(result.stdout) == "check: FAILED (inspect + fix)"
        # The inspect table is shown all the same, and the error says only what applies: check writes nothing
        # (issue 16: no table, and "nothing written").
        assert "1 ConvTranspose: 1 parse-error" in result.stdout and "undecidable" in result.stdout
        assert "nothing written" not in result.stderr

    def test_negative_bad_input_ends_with_the_check_line(self, run_cli: Run) -> None:
        result = run_cli("check", "missing.onnx")
        assert result.returncode == 1
        assert result.stderr == "polygraphy-deconv: error: model file not found: missing.onnx\n"
        assert "read the model: failed" in result.stdout
        assert self.last_line(result.stdout) == "check: FAILED (read the model)"


class TestPolygraphyCommand:
    def test_basic(self) -> None:
        command = check.polygraphy_command("/m/model.onnx", "/tmp/r.json", 3, ["x:[1,2,5,6]"])
        assert command[1:] == [
            "run", "/m/model.onnx", "--trt", "--onnxrt", "--deconv-fix", "--deconv-report", "/tmp/r.json",
            "--seed", "3", "--input-shapes", "x:[1,2,5,6]",
        ]
        assert os.path.basename(command[0]) == "polygraphy"



class TestTensorRTStep:
    """Which library the TensorRT step runs on (issue 15 section 5)."""

    @pytest.mark.parametrize(
        ("variable", "missing", "expected"),
        [
            ("1", (), "TensorRT-RTX"),  # asked for
            (None, ("tensorrt",), "TensorRT-RTX"),  # the only one installed: the step sets the variable
            ("1", ("tensorrt_rtx",), ""),  # asked for and missing: skipped, with why
            (None, ("tensorrt", "tensorrt_rtx"), ""),
        ],
    )
    def test_choice(self, monkeypatch: pytest.MonkeyPatch, variable: str | None, missing: tuple[str, ...],
                    expected: str) -> None:
        import importlib.util

        if importlib.util.find_spec("tensorrt_rtx") is None:
            pytest.skip("needs NVIDIA's tensorrt-rtx package (the test extra installs it on Linux x86_64)")
        if variable is None:
            monkeypatch.delenv("POLYGRAPHY_USE_TENSORRT_RTX", raising=False)
        else:
            monkeypatch.setenv("POLYGRAPHY_USE_TENSORRT_RTX", variable)
        for module in missing:
            monkeypatch.setitem(sys.modules, module, None)
        step = check.tensorrt_step()
        assert step.library.split(" ")[0] == expected if expected else step.library == ""
        if expected and variable is None:
            assert step.environment == (("POLYGRAPHY_USE_TENSORRT_RTX", "1"),)
        if not expected:
            assert "ModuleNotFoundError" in step.why

    def test_outcomes(self) -> None:
        from polygraphy_deconv.plugin.loader import ENGINE_BUILT_NOT_RUN

        step = check.TensorRTStep("TensorRT-RTX 1.7.1.116")
        assert check.tensorrt_outcome(0, [], step) == "passed on TensorRT-RTX 1.7.1.116"
        note = f"[W] {ENGINE_BUILT_NOT_RUN} on TensorRT-RTX 1.7.1.116 (1,000 bytes) from the patched network; ..."
        assert check.tensorrt_outcome(1, ["[I] ...", note, "[!] Could not deserialize engine."], step) == (
            "engine built on TensorRT-RTX 1.7.1.116; not run: no supported GPU"
        )
        assert check.tensorrt_outcome(1, ["[!] Could not parse"], step) == "failed: exit 1"
        old_polygraphy = "[!] Polygraphy 0.49.26 cannot create a network on TensorRT-RTX 1.7.1.116: it asks for ..."
        assert check.tensorrt_outcome(1, [old_polygraphy], step).startswith(
            "skipped: this Polygraphy cannot create networks on TensorRT-RTX 1.7.1.116"
        )
