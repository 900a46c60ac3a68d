"""`polygraphy-deconv npps MODEL -o SCRIPT.py`: the script it writes (bound to the model and its input shapes),
what it refuses, and the script run the way `polygraphy convert --trt-npps` runs it, on a stand-in network.
The script through `polygraphy convert` itself (0.53.x and 0.49.26): tests/plugin/test_deploy.py."""

from __future__ import annotations

import ast
import gc
import sys
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from polygraphy.exception import PolygraphyException

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from polygraphy_deconv.deploy.postprocess import run_postprocess_script
from polygraphy_deconv.trt_network import patching
from tests.cli.conftest import Run
from tests.models import conv_transpose_model
from tests.onnx_model.dynamic_models import dynamic_output_shape
from tests.plugin.polygraphy_cli import save_model
from tests.standin import network as standin
from tests.standin import producers
from tests.standin.network import install as standin_install
from tests.standin.network import tensorrt_module
from tests.trt_network.test_patching import model_weights

SHIFTED = {"strides": [2, 2], "output_shape": [10, 12]}  # odd total: TensorRT starts one element early
# output_shape past the full result (15x18) with output_padding: the parser's own extension replaces output_padding
# (16x19 where ONNX means 17x20); the patch adds a bias-free deconvolution, a fill-slice and a bias add.
EXTENSION = {"strides": [3, 3], "output_shape": [17, 20], "output_padding": [1, 1]}
PAST_END = {"strides": [2, 2], "output_shape": [14, 16]}  # negative pre-padding: the parse fails


def assignments(text: str) -> dict[str, Any]:
    """The module-level constants of a generated script, read without running it."""
    values: dict[str, Any] = {}
    for statement in ast.parse(text).body:
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            values[statement.targets[0].id] = ast.literal_eval(statement.value)
    return values


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


class TestNpps:
    def test_basic(self, run_cli: Run, tmp_path: Path) -> None:
        model = save_model(tmp_path, SHIFTED)
        done = run_cli("npps", str(model), "-o", "patch_model.py", "--input-shapes", "x:[1,2,5,6]")
        assert done.returncode == 0, done.stderr
        text = (tmp_path / "patch_model.py").read_text()
        compile(text, "patch_model.py", "exec")
        assert assignments(text) == {"MODEL": str(model), "INPUT_SHAPES": {"x": [1, 2, 5, 6]}}
        tree = ast.parse(text)
        (function,) = [s for s in tree.body if isinstance(s, ast.FunctionDef)]
        assert function.name == "postprocess" and [a.arg for a in function.args.args] == ["network"]
        assert "sys.modules" in text  # the comment saying why the weights are not kept in the script
        assert done.stdout.splitlines()[0] == "wrote patch_model.py: 1 ConvTranspose, 0 ok, 1 to patch"
        assert f"polygraphy convert {model} --trt-npps {tmp_path / 'patch_model.py'} -o m.engine" in done.stdout

    def test_model_path_is_absolute_and_any_characters_survive(self, run_cli: Run, tmp_path: Path) -> None:
        folder = tmp_path / "it's \"here\" \\ now"
        folder.mkdir()
        model = save_model(folder, SHIFTED)
        done = run_cli("npps", str(model.relative_to(tmp_path)), "-o", str(tmp_path / "patch.py"))
        assert done.returncode == 0, done.stderr
        text = (tmp_path / "patch.py").read_text()
        assert assignments(text)["MODEL"] == str(model)
        assert ast.get_docstring(ast.parse(text)) is not None  # the path in the docstring did not end it

    def test_dynamic_sizes_stay_dynamic(self, run_cli: Run, tmp_path: Path) -> None:
        model = save_model(tmp_path, EXTENSION)
        done = run_cli("npps", str(model), "-o", "p.py", "--input-shapes", "x:[batch,2,5,6]")
        assert done.returncode == 0, done.stderr
        assert assignments((tmp_path / "p.py").read_text())["INPUT_SHAPES"] == {"x": ["batch", 2, 5, 6]}

    def test_overwrites_an_earlier_script(self, run_cli: Run, tmp_path: Path) -> None:
        (tmp_path / "p.py").write_text("old")
        assert run_cli("npps", str(save_model(tmp_path, SHIFTED)), "-o", "p.py").returncode == 0
        assert "def postprocess(network)" in (tmp_path / "p.py").read_text()

    def test_negative_parse_error_is_refused(self, run_cli: Run, tmp_path: Path) -> None:
        model = save_model(tmp_path, PAST_END)
        done = run_cli("npps", str(model), "-o", "p.py")
        assert done.returncode == 1
        line = one_error_line(done.stderr)
        assert "do not parse on TensorRT 11" in line and "'deconv'" in line
        assert f"polygraphy-deconv fix {model} -o FIXED.onnx" in line
        assert "or build with `polygraphy run --trt --deconv-fix`" in line
        assert not (tmp_path / "p.py").exists()

    def test_negative_output_shape_on_bound_dynamic_sizes_is_refused(self, run_cli: Run, tmp_path: Path) -> None:
        # The parser reads the model's -1 sizes whatever --input-shapes binds (issue 16): a script after the parse
        # cannot help; fix (with the same sizes) or --deconv-fix rewrites the node before it.
        model = tmp_path / "m.onnx"
        onnx.save(dynamic_output_shape(), str(model))
        done = run_cli("npps", str(model), "-o", "p.py", "--input-shapes", "x:[2,4,16,16]")
        assert done.returncode == 1
        line = one_error_line(done.stderr)
        assert "do not parse on TensorRT 11 ('deconv')" in line
        assert f"polygraphy-deconv fix {model} -o FIXED.onnx --input-shapes x:[2,4,16,16]`" in line
        assert "--deconv-fix" in line
        assert not (tmp_path / "p.py").exists()

    def test_parse_error_by_version(self, run_cli: Run, tmp_path: Path) -> None:
        # SAME_* beside (zero) pads: TensorRT 10+ reject the node, 8.5/8.6 parse it (core/trt_parser.py rule 5).
        model = save_model(tmp_path, {"strides": [2, 2], "auto_pad": "SAME_UPPER", "pads": [0, 0, 0, 0]})
        refused = run_cli("npps", str(model), "-o", "p.py", "--trt-version", "10")
        assert refused.returncode == 1 and "do not parse on TensorRT 10" in one_error_line(refused.stderr)
        assert not (tmp_path / "p.py").exists()
        written = run_cli("npps", str(model), "-o", "p.py", "--trt-version", "8.6")
        assert written.returncode == 0, written.stderr
        assert "(parser rules of TensorRT 8.6)" in (tmp_path / "p.py").read_text()

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("patch.txt", "must end in .py"),
            ("patch.model.py", "use a Python identifier"),
            ("patch-model.py", "use a Python identifier"),
            ("numpy.py", "name of an installed module"),
            ("json.py", "name of an installed module"),
        ],
    )
    def test_negative_script_name_polygraphy_cannot_import(self, run_cli: Run, tmp_path: Path, name: str, message: str) -> None:
        done = run_cli("npps", str(save_model(tmp_path, SHIFTED)), "-o", name)
        assert done.returncode == 1
        assert message in one_error_line(done.stderr)
        assert not (tmp_path / name).exists()

    @pytest.mark.parametrize("args", [(), ("-o",), ("m.onnx",), ("m.onnx", "-o", "p.py", "--trt-version", "9")])
    def test_negative_usage(self, run_cli: Run, tmp_path: Path, args: tuple[str, ...]) -> None:
        save_model(tmp_path, SHIFTED)
        done = run_cli("npps", *args)
        assert done.returncode == 2 and "Traceback" not in done.stderr

    def test_negative_bad_model(self, run_cli: Run, tmp_path: Path) -> None:
        (tmp_path / "bad.onnx").write_bytes(b"not a model")
        done = run_cli("npps", "bad.onnx", "-o", "p.py")
        assert done.returncode == 1 and "bad.onnx" in one_error_line(done.stderr)
        assert not (tmp_path / "p.py").exists()


@pytest.fixture
def standin_tensorrt(monkeypatch: pytest.MonkeyPatch) -> None:
    standin_install(monkeypatch, tensorrt_module())


def parser_network(attributes: dict[str, Any], producer: Any = producers.onnx_parser) -> standin.INetworkDefinition:
    """The stand-in network a producer builds for save_model(folder, attributes)."""
    weight, bias = model_weights([1, 2, 5, 6], [2, 3, 3, 3], "initializer", 0, attributes)
    attrs = ConvTransposeAttributes.from_onnx("deconv", attributes, weight.shape)
    return producer(attrs, [1, 2, 5, 6], weight, bias)


@pytest.mark.usefixtures("standin_tensorrt")
class TestGeneratedScriptOnANetwork:
    """The written script, loaded and called as Polygraphy's PostprocessNetwork + InvokeFromScript do."""

    @staticmethod
    def script(run_cli: Run, tmp_path: Path, attributes: dict[str, Any]) -> Path:
        done = run_cli("npps", str(save_model(tmp_path, attributes)), "-o", "patch_model.py")
        assert done.returncode == 0, done.stderr
        return tmp_path / "patch_model.py"

    def test_patches_like_the_plugin(self, run_cli: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        script = self.script(run_cli, tmp_path, SHIFTED)
        network = parser_network(SHIFTED)
        assert tuple(network.get_layer(0).pre_padding) == (0, 0)
        run_postprocess_script(str(script), network)
        assert tuple(network.get_layer(0).pre_padding) == (1, 1)
        assert "Deconvolution fixed on TensorRT 10.8.0.43+standin: 1 deconvolution unit(s): 1 patched" in capsys.readouterr().out
        assert "patch_model" not in sys.modules  # Polygraphy's import drops the script module

    def test_same_result_as_the_plugin_loader(self, run_cli: Run, tmp_path: Path) -> None:
        from polygraphy_deconv.plugin.loader import PatchDeconvolutions

        script = self.script(run_cli, tmp_path, EXTENSION)
        by_script, by_plugin = parser_network(EXTENSION), parser_network(EXTENSION)
        run_postprocess_script(str(script), by_script)
        PatchDeconvolutions((None, by_plugin, None), str(tmp_path / "m.onnx"))()

        def layers(network: standin.INetworkDefinition) -> list[tuple[Any, ...]]:
            return [(layer.type, layer.name, [tuple(layer.get_output(i).shape) for i in range(layer.num_outputs)])
                    for layer in (network.get_layer(i) for i in range(network.num_layers))]

        assert layers(by_script) == layers(by_plugin)

    def test_new_weights_outlive_the_script_module(self, run_cli: Run, tmp_path: Path) -> None:
        # torch2trt drops output_padding and keeps the bias on the deconvolution: the patch moves the bias into
        # a new constant whose numpy array must stay alive after Polygraphy drops the script module.
        # (2 -> 2 channels: torch2trt takes the output maps from the weight's first axis.)
        import onnx

        attributes = {"strides": [2, 2], "pads": [0, 0, 0, 0], "output_padding": [1, 1]}
        onnx.save(conv_transpose_model([1, 2, 5, 6], [2, 2, 3, 3], **attributes), str(tmp_path / "m.onnx"))
        assert run_cli("npps", "m.onnx", "-o", "patch_model.py").returncode == 0
        weight, bias = model_weights([1, 2, 5, 6], [2, 2, 3, 3], "initializer", 0, attributes)
        attrs = ConvTransposeAttributes.from_onnx("deconv", attributes, weight.shape)
        network = producers.torch2trt(attrs, [1, 2, 5, 6], weight, bias)
        run_postprocess_script(str(tmp_path / "patch_model.py"), network)
        gc.collect()
        kept = patching._ARRAYS.get(network, [])
        assert bias is not None and any(isinstance(a, np.ndarray) and np.array_equal(a.reshape(-1), bias) for a in kept)
        # They go with the network (counting the map's entries would count other tests' networks collected meanwhile).
        arrays = [weakref.ref(a) for a in kept]
        del network, kept
        gc.collect()
        assert all(array() is None for array in arrays)

    def test_negative_unpatchable_fails_with_one_message(self, run_cli: Run, tmp_path: Path) -> None:
        script = self.script(run_cli, tmp_path, SHIFTED)
        network = producers.with_strided_fill_slice(parser_network(SHIFTED))
        with pytest.raises(PolygraphyException, match="TensorRT layer 'deconv': cannot patch .* `polygraphy-deconv fix` and build from that model"):
            run_postprocess_script(str(script), network)

    def test_negative_model_gone_since_writing(self, run_cli: Run, tmp_path: Path) -> None:
        script = self.script(run_cli, tmp_path, SHIFTED)
        (tmp_path / "m.onnx").unlink()
        with pytest.raises(PolygraphyException, match="not found"):
            run_postprocess_script(str(script), parser_network(SHIFTED))
