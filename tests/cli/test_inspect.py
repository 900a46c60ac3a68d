"""`polygraphy-deconv inspect`, run as the installed console script (bad input: tests/hardening)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from polygraphy_deconv import __version__
from tests.cli.conftest import Run
from tests.data import negative_pads
from tests.models import conv_transpose_model

K3S2: dict[str, Any] = {"input_shape": [1, 2, 5, 6], "weight_shape": [2, 3, 3, 3], "strides": [2, 2]}


def save(model: onnx.ModelProto, path: Path) -> str:
    onnx.save(model, str(path))
    return str(path)


def two_node_model() -> onnx.ModelProto:
    """'up_ok' (k3 s2 p1 op1: ok) then 'up_odd' (output_shape with an odd total: shifted)."""
    rng = np.random.default_rng(0)
    graph = helper.make_graph(
        [
            helper.make_node("ConvTranspose", ["x", "W1", "B1"], ["t"], name="up_ok", strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
            helper.make_node("ConvTranspose", ["t", "W2"], ["y"], name="up_odd", strides=[2, 2], output_shape=[20, 24]),
        ],
        "two",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [
            numpy_helper.from_array(rng.standard_normal((2, 4, 3, 3)).astype(np.float32), "W1"),
            numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "B1"),
            numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "W2"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


class TestInspect:
    def test_basic(self, run_cli: Run, tmp_path: Path) -> None:
        path = save(two_node_model(), tmp_path / "two.onnx")
        result = run_cli("inspect", path)
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert "\x1b[" not in out  # not a terminal: plain text
        assert out.splitlines()[0] == path  # as the user named it (the JSON has the absolute path)
        lines = out.splitlines()
        # Short names leave room in 80 columns for the attributes and an ok node's window in the row.
        assert lines[1].split() == ["node", "rank", "input", "output", "verdict", "attributes", "window", "(ok", "nodes)"]
        assert lines[2].split() == ["up_ok", "2D", "5x6", "10x12", "ok", "k=3", "s=2", "p=1", "op=1", "b=(1,1)", "e=(0,0)",
                                    "->", "10x12"]
        odd = lines.index(next(line for line in lines if line.startswith("up_odd ")))
        assert lines[odd].split() == ["up_odd", "2D", "10x12", "20x24", "shifted", "k=3", "s=2", "os=20x24"]
        block = "\n".join(lines[odd:])
        assert "(b=(1,1) e=(0,0) -> 20x24)" in block and "(b=(0,0) e=(1,1) -> 20x24)" in block
        assert "    TensorRT    starts 1 element early on H and W (b=(0,0) e=(1,1) -> 20x24)" in lines
        assert "    patch       pre=[1, 1] post=[0, 0] explicit" in lines
        assert "2 ConvTranspose: 1 ok, 1 shifted" in out
        assert all(len(line) <= 80 and line == line.rstrip() for line in lines)  # piped: 80 columns
        assert result.stderr == ""

    def test_declared_shape_and_notes(self, run_cli: Run, tmp_path: Path) -> None:
        path = save(conv_transpose_model(**K3S2, auto_pad="SAME_UPPER", output_padding=[1, 1]), tmp_path / "m.onnx")
        result = run_cli("inspect", path)
        assert result.returncode == 0
        assert "    declared    11x13 (ONNX shape inference)" in result.stdout.splitlines()
        notes = " ".join(result.stdout.split())
        assert "ONNX shape inference declares [11, 13] but the node computes [10, 12]" in notes

    def test_no_conv_transpose(self, run_cli: Run, tmp_path: Path) -> None:
        graph = helper.make_graph(
            [helper.make_node("Relu", ["x"], ["y"])],
            "relu",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        )
        path = save(helper.make_model(graph), tmp_path / "relu.onnx")
        result = run_cli("inspect", path)
        assert result.returncode == 0
        assert "0 ConvTranspose nodes" in result.stdout

    def test_json(self, run_cli: Run, tmp_path: Path) -> None:
        path = save(two_node_model(), tmp_path / "two.onnx")
        result = run_cli("inspect", path, "--json", "findings.json")
        assert result.returncode == 0, result.stderr
        document = json.loads((tmp_path / "findings.json").read_text())
        assert document["schema"] == "polygraphy-deconv/findings"
        assert document["version"] == 1
        assert document["tool"] == f"polygraphy-deconv {__version__}"
        assert document["source"] == "inspect"
        assert document["model"] == os.path.abspath(path)
        assert document["summary"]["nodes"] == 2
        assert document["summary"]["verdicts"] == {
            "ok": 1, "shifted": 1, "wrong-shape": 0, "parse-error": 0, "tensor-bias": 0, "negative-pads": 0, "undecided": 0,
        }
        ok, odd = document["findings"]
        assert set(ok) >= {
            "node", "rank", "attributes", "bias", "input_spatial", "output_spatial", "reference", "declared_spatial",
            "tensorrt", "verdict", "reason", "patch", "notes",
        }
        assert (ok["node"], ok["verdict"], ok["bias"], ok["patch"]) == ("up_ok", "ok", "initializer", None)
        assert (odd["node"], odd["verdict"], odd["bias"]) == ("up_odd", "shifted", "none")
        assert odd["reference"] == [{"begin": 1, "trim": 0, "length": 20}, {"begin": 1, "trim": 0, "length": 24}]
        assert odd["tensorrt"]["window"] == [{"begin": 0, "trim": 1, "length": 20}, {"begin": 0, "trim": 1, "length": 24}]
        assert odd["patch"]["pre_padding"] == [1, 1]
        assert odd["attributes"]["output_shape"] == [20, 24]
        assert sorted(os.listdir(tmp_path)) == ["findings.json", "two.onnx"]  # written atomically, no temporary

    def test_input_shapes(self, run_cli: Run, tmp_path: Path) -> None:
        model = conv_transpose_model([1, 2, "H", "W"], [2, 3, 3, 3], strides=[2, 2], output_shape=[10, 12])
        path = save(model, tmp_path / "dyn.onnx")
        unbound = run_cli("inspect", path)
        assert unbound.returncode == 0
        assert "1 ConvTranspose: 1 parse-error" in unbound.stdout
        bound = run_cli("inspect", path, "--input-shapes", "x:[1,2,5,6]")
        assert bound.returncode == 0, bound.stderr
        # The parser still sees the model's -1 sizes (issue 16); the bound sizes give the ONNX window.
        assert "1 ConvTranspose: 1 parse-error" in bound.stdout
        assert "(b=(1,1) e=(0,0) -> 10x12)" in bound.stdout
        assert "not the sizes --input-shapes binds" in " ".join(bound.stdout.split())

    def test_negative_pads_of_tf2onnx(self, run_cli: Run, tmp_path: Path) -> None:
        # A verdict of its own, with the producer named, exit 0 (issue 16; it used to be a bad-input error).
        model, _ = negative_pads.tf2onnx_both_2d()
        path = save(model, tmp_path / "tf.onnx")
        result = run_cli("inspect", path, "--json", "f.json")
        assert result.returncode == 0, result.stderr
        text = " ".join(result.stdout.split())
        assert "1 ConvTranspose: 1 negative-pads" in text
        assert "[-1, -1, -1, -1] below 0: tf2onnx's pattern" in text
        assert "warning: the negative pads begin puts bias-only elements before the full result (1 on H, 1 on W)" in text
        assert "the producer probably meant them there" in text
        (record,) = json.loads((tmp_path / "f.json").read_text())["findings"]
        assert (record["verdict"], record["producer"]) == ("negative-pads", "tf2onnx")
        assert record["reference"][0] == {"begin": -1, "trim": -1, "length": 11}

    def test_version(self, run_cli: Run) -> None:
        result = run_cli("--version")
        assert (result.returncode, result.stdout.strip()) == (0, f"polygraphy-deconv {__version__}")

    def test_negative_unknown_input_shapes_name(self, run_cli: Run, tmp_path: Path) -> None:
        path = save(conv_transpose_model(**K3S2), tmp_path / "m.onnx")
        result = run_cli("inspect", path, "--input-shapes", "image:[1,2,5,6]")
        assert result.returncode == 1
        assert result.stderr == (
            "polygraphy-deconv: error: --input-shapes names 'image', which is not a model input (inputs: x)\n"
        )

    @pytest.mark.parametrize("command", ["inspect", "fix", "check", "npps"])
    @pytest.mark.parametrize("argument", ["x=1,2", "x:1,4"])
    def test_negative_bad_input_shapes_syntax(self, run_cli: Run, tmp_path: Path, command: str, argument: str) -> None:
        # A usage error, like --seed -1 (issue 16): exit 2, one error line after argparse's usage, nothing written.
        path = save(conv_transpose_model(**K3S2), tmp_path / "m.onnx")
        output = {"fix": ["-o", "f.onnx"], "npps": ["-o", "p.py"]}.get(command, [])
        result = run_cli(command, path, *output, "--input-shapes", argument)
        assert result.returncode == 2, result.stderr
        assert f"error: argument --input-shapes: cannot parse '{argument}'" in result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
        assert sorted(os.listdir(tmp_path)) == ["m.onnx"]

    def test_help_says_what_input_shapes_do(self, run_cli: Run) -> None:
        # inspect and npps do not verify; fix and check do (issue 16).
        for command, verifies in (("inspect", False), ("npps", False), ("fix", True), ("check", True)):
            text = " ".join(run_cli(command, "--help").stdout.split())
            assert ("the sizes the verification" in text) == verifies, command
            assert "a verification runs at" not in text

    @pytest.mark.parametrize("args", [(), ("inspect",), ("inspect", "m.onnx", "--bogus"), ("frobnicate",)])
    def test_negative_usage(self, run_cli: Run, args: tuple[str, ...]) -> None:
        result = run_cli(*args)
        assert result.returncode == 2
        assert "usage: polygraphy-deconv" in result.stderr
