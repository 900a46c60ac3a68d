"""`polygraphy-deconv fix`, run as the installed console script (one in-process test fakes a bad rewrite)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import onnx
import pytest

from polygraphy_deconv.cli.main import main
from polygraphy_deconv.core.finding import Verdict
from polygraphy_deconv.onnx_model import rewrite
from polygraphy_deconv.onnx_model.reading import analyse_model
from tests.cli.conftest import Run
from tests.cli.test_inspect import two_node_model
from tests.models import conv_transpose_model

TENSOR_BIAS: dict[str, Any] = {"input_shape": ["N", 2, 5, 6], "weight_shape": [2, 3, 3, 3], "strides": [2, 2], "output_padding": [1, 1], "bias": "tensor"}


def save(model: onnx.ModelProto, path: Path) -> str:
    onnx.save(model, str(path))
    return str(path)


class TestFix:
    def test_basic(self, run_cli: Run, tmp_path: Path) -> None:
        source = save(two_node_model(), tmp_path / "two.onnx")
        result = run_cli("fix", source, "-o", "fixed.onnx")
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert "\x1b[" not in out
        row = next(line for line in out.splitlines() if line.startswith("up_odd "))
        assert "shifted" in row and "output_shape=[20, 24]" in row and "pads=[1, 1, 0, 0]" in row
        assert not any(line.startswith("up_ok ") for line in out.splitlines())
        assert "2 ConvTranspose: 1 ok, 1 shifted; rewrote 1" in out
        assert "wrote fixed.onnx" in out
        verdicts = [n.finding.verdict for n in analyse_model(str(tmp_path / "fixed.onnx")).nodes]
        assert verdicts == [Verdict.OK, Verdict.OK]

    def test_verify_passed(self, run_cli: Run, tmp_path: Path) -> None:
        source = save(conv_transpose_model(**TENSOR_BIAS), tmp_path / "m.onnx")
        result = run_cli("fix", source, "-o", "f.onnx", "--verify", "--seed", "5", "--input-shapes", "x:[2,2,5,6]")
        assert result.returncode == 0, result.stderr
        assert "y: PASSED (shape [2, 3, 12, 14], max abs diff" in result.stdout
        assert "verify (onnxruntime, seed 5): PASSED" in result.stdout

    def test_nothing_to_rewrite(self, run_cli: Run, tmp_path: Path) -> None:
        source = save(conv_transpose_model([1, 2, 5, 6], [2, 3, 3, 3], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]), tmp_path / "m.onnx")
        result = run_cli("fix", source, "-o", "f.onnx")
        assert result.returncode == 0
        assert "1 ConvTranspose: 1 ok; rewrote 0" in result.stdout
        assert onnx.load(str(tmp_path / "f.onnx")).SerializeToString() == onnx.load(source).SerializeToString()

    def test_undecided_node_noted(self, run_cli: Run, tmp_path: Path) -> None:
        model = conv_transpose_model([1, 2, "H", "W"], [2, 3, 3, 3], strides=[2, 2], output_shape=[10, 12])
        source = save(model, tmp_path / "m.onnx")
        result = run_cli("fix", source, "-o", "f.onnx")
        assert result.returncode == 0
        assert "cannot rewrite 'deconv' (parse-error)" in result.stdout
        bound = run_cli("fix", source, "-o", "g.onnx", "--input-shapes", "x:[1,2,5,6]", "--verify")
        assert bound.returncode == 0, bound.stderr
        assert "only for those sizes" in bound.stdout and "PASSED" in bound.stdout

    def test_in_place(self, run_cli: Run, tmp_path: Path) -> None:
        source = save(conv_transpose_model(**TENSOR_BIAS), tmp_path / "m.onnx")
        result = run_cli("fix", source, "--in-place")
        assert result.returncode == 0, result.stderr
        assert [n.finding.verdict for n in analyse_model(source).nodes] == [Verdict.OK]
        assert os.listdir(tmp_path) == ["m.onnx"]

    def test_external_data_to_another_folder(self, run_cli: Run, tmp_path: Path) -> None:
        (tmp_path / "out").mkdir()
        source = tmp_path / "m.onnx"
        onnx.save(conv_transpose_model(**TENSOR_BIAS), str(source), save_as_external_data=True, location="m.weights", size_threshold=0)
        result = run_cli("fix", str(source), "-o", "out/m.onnx", "--verify", "--input-shapes", "x:[1,2,5,6]")
        assert result.returncode == 0, result.stderr
        assert sorted(os.listdir(tmp_path / "out")) == ["m.onnx", "m.onnx.data"]  # data named after the output
        assert "external data: out/m.onnx.data" in result.stdout
        assert "PASSED" in result.stdout

    def test_negative_verify_mismatch_keeps_output(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        # A rewrite that changes the weights: --verify must catch it (in process, to fake the bad rewrite).
        real_fix_model = rewrite.fix_model

        def bad_fix_model(model: onnx.ModelProto, input_shapes: Any = None, **kwargs: Any) -> rewrite.FixResult:
            result = real_fix_model(model, input_shapes, **kwargs)
            broken = conv_transpose_model(**TENSOR_BIAS, seed=9)
            return rewrite.FixResult(broken, result.rewrites, result.notes, result.analysis)

        monkeypatch.setattr(rewrite, "fix_model", bad_fix_model)
        source = save(conv_transpose_model(**TENSOR_BIAS), tmp_path / "m.onnx")
        code = main(["fix", source, "-o", str(tmp_path / "f.onnx"), "--verify"])
        out = capsys.readouterr().out
        assert code == 1
        assert "y: FAILED" in out and "FAILED; the fixed model differs from the original" in out
        assert (tmp_path / "f.onnx").exists()

    def test_negative_verify_with_in_place(self, run_cli: Run, tmp_path: Path) -> None:
        source = save(conv_transpose_model(**TENSOR_BIAS), tmp_path / "m.onnx")
        before = (tmp_path / "m.onnx").read_bytes()
        result = run_cli("fix", source, "--in-place", "--verify")
        assert result.returncode == 1 and "--verify compares" in result.stderr
        assert (tmp_path / "m.onnx").read_bytes() == before

    def test_negative_onnxruntime_rejects_original(self, run_cli: Run, tmp_path: Path) -> None:
        model = conv_transpose_model([1, 2, 5, 6], [2, 3, 3, 3], strides=[2, 2], dilations=[3, 3], output_padding=[2, 2])
        source = save(model, tmp_path / "m.onnx")
        result = run_cli("fix", source, "-o", "f.onnx", "--verify")
        assert result.returncode == 1
        assert result.stderr.startswith("polygraphy-deconv: error: onnxruntime could not run the models")
        assert len(result.stderr.splitlines()) == 1

    @pytest.mark.parametrize("args", [("fix", "m.onnx"), ("fix", "m.onnx", "-o", "a.onnx", "--in-place"), ("fix", "m.onnx", "-o", "a.onnx", "--seed", "x")])
    def test_negative_usage(self, run_cli: Run, args: tuple[str, ...]) -> None:
        result = run_cli(*args)
        assert result.returncode == 2
        assert "usage: polygraphy-deconv fix" in result.stderr
