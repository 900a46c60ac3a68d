"""`polygraphy-deconv inspect --trt-version 8.6|10|11|rtx`: predictions that differ by TensorRT version
(core/trt_parser.py rule 5), and the JSON naming the rules used."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest

from tests.cli.conftest import Run
from tests.models import conv_transpose_model


def same_with_zero_pads(path: Path) -> str:
    # onnxruntime and shape inference reject pads beside auto_pad; the model is still what exporters write.
    model = conv_transpose_model(
        [1, 2, 5, 6], [2, 3, 3, 3], node_name="up_same", strides=[2, 2], auto_pad="SAME_UPPER", pads=[0, 0, 0, 0]
    )
    onnx.save(model, str(path))
    return str(path)


def inspect_json(run_cli: Run, model: str, out: Path, *version: str) -> dict[str, object]:
    result = run_cli("inspect", model, "--json", str(out), *version)
    assert result.returncode == 0, result.stderr
    document: dict[str, object] = json.loads(out.read_text())
    return document


@pytest.mark.parametrize(("version", "verdict"), [("8.6", "ok"), ("10", "parse-error"), ("11", "parse-error")])
def test_same_with_pads_by_version(run_cli: Run, tmp_path: Path, version: str, verdict: str) -> None:
    model = same_with_zero_pads(tmp_path / "same.onnx")
    document = inspect_json(run_cli, model, tmp_path / "findings.json", "--trt-version", version)
    assert document["tensorrt_rules"] == version
    (finding,) = document["findings"]  # type: ignore[misc]
    assert finding["verdict"] == verdict
    if verdict == "parse-error":
        assert "Pads attribute should not be specified" in finding["tensorrt"]["parse_error"]
        assert finding["tensorrt"]["window"] is None
    else:
        assert finding["tensorrt"]["parse_error"] is None


def test_default_is_the_newest_rules(run_cli: Run, tmp_path: Path) -> None:
    model = same_with_zero_pads(tmp_path / "same.onnx")
    document = inspect_json(run_cli, model, tmp_path / "findings.json")
    assert document["tensorrt_rules"] == "11"
    assert document["version"] == 1  # an added field: the schema version stays
    assert document["findings"][0]["verdict"] == "parse-error"  # type: ignore[index]


def test_table_shows_the_version_verdict(run_cli: Run, tmp_path: Path) -> None:
    model = same_with_zero_pads(tmp_path / "same.onnx")
    old = run_cli("inspect", model, "--trt-version", "8.6")
    new = run_cli("inspect", model, "--trt-version", "10")
    assert old.returncode == new.returncode == 0
    assert "parse-error" not in old.stdout and "1 ok" in old.stdout
    assert "1 parse-error" in new.stdout


@pytest.mark.parametrize(("version", "rules"), [("8.5", "8.6"), ("8.6.1", "8.6"), ("10.8", "10"), ("11.4.0", "11"), ("rtx", "rtx")])
def test_full_version_picks_its_rules(run_cli: Run, tmp_path: Path, version: str, rules: str) -> None:
    model = same_with_zero_pads(tmp_path / "same.onnx")
    document = inspect_json(run_cli, model, tmp_path / "findings.json", "--trt-version", version)
    assert document["tensorrt_rules"] == rules


@pytest.mark.parametrize("version", ["9", "8.4", "7", "", "ten"])
def test_negative_unknown_version_is_a_usage_error(run_cli: Run, tmp_path: Path, version: str) -> None:
    model = same_with_zero_pads(tmp_path / "same.onnx")
    result = run_cli("inspect", model, "--trt-version", version)
    assert result.returncode == 2
    assert "--trt-version" in result.stderr and "give 8.6" in result.stderr and "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if "error:" in line] == [result.stderr.splitlines()[-1]]
