"""`polygraphy-deconv fix`, run as the installed console script (one in-process test fakes a bad rewrite)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import onnx
import pytest

from polygraphy_deconv.cli.main import main
from polygraphy_deconv.core.finding import Verdict
from polygraphy_deconv.onnx_model import rewrite, writing
from polygraphy_deconv.onnx_model.analysis import analyse_model
from tests.cli.conftest import Run
from tests.cli.test_inspect import two_node_model
from tests.models import conv_transpose_model
from tests.onnx_model.dynamic_models import mismatched_sizes, unet

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

    def test_negative_node_that_cannot_be_rewritten(self, run_cli: Run, tmp_path: Path) -> None:
        # One outcome: a node that needs a rewrite and cannot get one is exit 1 with one line naming it and
        # what to bind, and nothing written (it used to say "cannot rewrite", then write a copy, exit 0).
        model = conv_transpose_model([1, 2, "H", "W"], [2, 3, 3, 3], strides=[2, 2], output_shape=[10, 12])
        source = save(model, tmp_path / "m.onnx")
        result = run_cli("fix", source, "-o", "f.onnx")
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr.startswith("polygraphy-deconv: error: cannot rewrite ConvTranspose 'deconv' (parse-error")
        assert "--input-shapes x:[1,2,H,W]" in result.stderr and len(result.stderr.splitlines()) == 1
        assert sorted(os.listdir(tmp_path)) == ["m.onnx"]
        bound = run_cli("fix", source, "-o", "g.onnx", "--input-shapes", "x:[1,2,5,6]", "--verify")
        assert bound.returncode == 0, bound.stderr
        assert "only at those sizes" in " ".join(bound.stdout.split()) and "PASSED" in bound.stdout

    def test_dynamic_output_shape_ok_at_bound_sizes_is_rewritten(self, run_cli: Run, tmp_path: Path) -> None:
        # Ok at the bound 7x8, but the parser sees -1 sizes ("negative pre-padding"): written out, with the warning.
        model = conv_transpose_model([1, 2, "H", "W"], [2, 3, 4, 4], strides=[2, 2], output_shape=[14, 16])
        source = save(model, tmp_path / "m.onnx")
        result = run_cli("fix", source, "-o", "f.onnx", "--input-shapes", "x:[1,2,7,8]", "--verify")
        assert result.returncode == 0, result.stderr
        assert "1 ConvTranspose: 1 parse-error; rewrote 1" in result.stdout
        text = " ".join(result.stdout.split())
        assert "only at those sizes" in text and "wrote f.onnx" in result.stdout
        # What the user bound, and the node's input size as the report writes sizes (issue 16: it said "the
        # --input-shapes sizes [7, 8]", the node's size in a list that wrapped mid-way).
        assert "for the input size 7x8 it gets at --input-shapes x:[1,2,7,8];" in text
        assert all(len(line) <= 80 for line in result.stdout.splitlines())
        assert "verify (onnxruntime, seed 1): PASSED" in result.stdout
        (node,) = onnx.load(str(tmp_path / "f.onnx")).graph.node
        assert "output_shape" not in {a.name for a in node.attribute}
        unbound = analyse_model(str(tmp_path / "f.onnx")).nodes[0].finding
        assert unbound.verdict is Verdict.OK  # no parse error left for the parser's -1 sizes

    def test_verify_unet_without_input_shapes(self, run_cli: Run, tmp_path: Path) -> None:
        # paddle2onnx's SAME ConvTranspose, rewritten; at 1x1 (Polygraphy's fill) onnxruntime fails in the Concat:
        # sizes are chosen (ONNX shape inference judging the fixed model, onnxruntime running the original).
        source = save(unet(("N", 3, "H", "W"), same=True), tmp_path / "m.onnx")
        result = run_cli("fix", source, "-o", "f.onnx", "--verify")
        assert result.returncode == 0, result.stderr
        assert "verification sizes: x:[1,3,2,2]" in result.stdout
        assert "verify (onnxruntime, seed 1): PASSED" in result.stdout

    def test_negative_verify_needs_input_shapes(self, run_cli: Run, tmp_path: Path) -> None:
        source = save(mismatched_sizes(rewritten=True), tmp_path / "m.onnx")
        result = run_cli("fix", source, "-o", "f.onnx", "--verify")
        assert result.returncode == 1 and result.stdout == ""
        assert len(result.stderr.splitlines()) == 1
        assert "--input-shapes x:[1,3,H,W] with H and W bound" in result.stderr and "nothing written" in result.stderr
        assert sorted(os.listdir(tmp_path)) == ["m.onnx"]
        bound = run_cli("fix", source, "-o", "f.onnx", "--verify", "--input-shapes", "x:[1,3,5,7]")
        assert bound.returncode == 0, bound.stderr
        assert "verify (onnxruntime, seed 1): PASSED" in bound.stdout

    def test_verify_of_an_unchanged_model(self, run_cli: Run, tmp_path: Path) -> None:
        # Nothing rewritten: the output is the model, comparing it with itself would prove nothing (issue 16).
        # Its sizes are not needed either (this one has none that run: it used to ask for --input-shapes).
        for model in (conv_transpose_model([1, 2, 5, 6], [2, 3, 3, 3], strides=[2, 2]), mismatched_sizes()):
            source = save(model, tmp_path / "m.onnx")
            result = run_cli("fix", source, "-o", "f.onnx", "--verify")
            assert result.returncode == 0, result.stderr
            assert result.stdout.rstrip().endswith("verify (onnxruntime): nothing to verify, no node was rewritten")
            assert "PASSED" not in result.stdout

    def test_negative_onnxruntime_fails_at_chosen_sizes(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # Where neither shape inference nor onnxruntime can judge the model the sizes are 1; onnxruntime's failure
        # then says what to bind.
        from polygraphy_deconv.onnx_model import verify

        monkeypatch.setattr(verify, "_strict_inference", lambda model: None)
        monkeypatch.setattr(verify.OnnxruntimeTrial, "runs", lambda self, shapes: None)
        source = save(unet(same=True), tmp_path / "m.onnx")
        code = main(["fix", source, "-o", str(tmp_path / "f.onnx"), "--verify"])
        captured = capsys.readouterr()
        assert code == 1 and len(captured.err.splitlines()) == 1
        assert "onnxruntime could not run the models" in captured.err
        assert "--input-shapes x:[1,3,H,W] (H and W bound)" in captured.err and "is written, not verified" in captured.err
        assert (tmp_path / "f.onnx").exists()

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

        monkeypatch.setattr(writing, "fix_model", bad_fix_model)
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
        model = conv_transpose_model(
            [1, 2, 5, 6], [2, 3, 3, 3], bias="tensor", strides=[2, 2], dilations=[3, 3], output_padding=[2, 2]
        )
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
