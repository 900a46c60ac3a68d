"""python -m tests.rtx: one model, one verdict line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rtx.__main__ import main

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "models"


def test_passes_on_a_sample(capsys: pytest.CaptureFixture[str]) -> None:
    import os

    before = os.environ.get("POLYGRAPHY_USE_TENSORRT_RTX")
    assert main([str(SAMPLES / "mixed.onnx"), "--trt-outputs-mark-all"]) == 0
    # Polygraphy's switch set in this process's environment would reach every later test's subprocesses.
    assert os.environ.get("POLYGRAPHY_USE_TENSORRT_RTX") == before
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "tensorrt-rtx: PASSED"
    assert any(line.startswith("  up_output_shape_past_end: parse-error -> rewritten before the parse") for line in out)
    assert any(line.startswith("  up_output_shape_odd: shifted -> patched; dims 1x2x10x12; window as ONNX") for line in out)
    assert any(line.startswith("build: built (") for line in out)


def test_input_shapes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import onnx

    from tests.models import conv_transpose_model

    model = tmp_path / "dynamic.onnx"
    onnx.save(conv_transpose_model([1, 2, "H", "W"], [2, 2, 4, 4], strides=[2, 2], output_shape=[13, 15]), str(model))
    assert main([str(model), "--input-shapes", "x:[1,2,5,6]"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "tensorrt-rtx: PASSED"


def test_negative_bad_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    assert main([str(bad)]) == 1
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("tensorrt-rtx: FAILED (") and str(bad) in last


def test_report_names_the_nodes_rewritten_before_the_parse(tmp_path: Path) -> None:
    """The plugin's JSON report says which node was rewritten before the parse and which patched after it."""
    import json

    from polygraphy.backend.trt import NetworkFromOnnxPath

    from polygraphy_deconv.plugin.loader import PatchDeconvolutions, RewriteForParser

    model = str(SAMPLES / "mixed.onnx")
    report = tmp_path / "report.json"
    rewrite = RewriteForParser(model)
    PatchDeconvolutions(NetworkFromOnnxPath(rewrite), rewrite, report_path=str(report))()
    document = json.loads(report.read_text())
    assert document["model"] == model and document["summary"]["rewritten_before_parse"] == ["up_output_shape_past_end"]
    assert document["summary"]["library"] == "TensorRT-RTX 1.7.1.116"
    by_name = {record["node"]: record["network"] for record in document["findings"]}
    assert by_name["up_output_shape_past_end"]["rewritten_before_parse"] is True
    assert by_name["up_output_shape_odd"] == {**by_name["up_output_shape_odd"], "action": "patched",
                                              "rewritten_before_parse": False}
