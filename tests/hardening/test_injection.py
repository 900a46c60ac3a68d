"""Issue 10, item 6: strings from a model reach people escaped. Control characters are shown visibly
(text.shown), rich markup in a name stays literal, a newline in a name cannot forge a line; the JSON
findings keep the exact strings. Covers inspect, fix, the reports' notes and the plugin's report."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import onnx
import pytest
from polygraphy.logger import G_LOGGER
from rich.console import Console

from polygraphy_deconv.core import ConvTransposeAttributes, analyse_node
from polygraphy_deconv.report.inspect_table import make_console, print_inspect_report
from polygraphy_deconv.report.network_table import render_table, show_network_report
from polygraphy_deconv.trt_network.patching import Mode, fix_network
from tests.cli.conftest import Run
from tests.models import conv_transpose_model
from tests.standin import producers
from tests.standin.network import install as standin_install
from tests.standin.network import tensorrt_module
from tests.trt_network.nodes import conv_transpose_node
from tests.trt_network.test_patching import model_weights

CLEAR_SCREEN = "up\x1b[2J\x1b[H"
WINDOW_TITLE = "up\x1b]0;owned\x07"
CLIPBOARD = "up\x1b]52;c;ZXZpbA==\x07"  # OSC 52: write the clipboard
LINK = "[link=https://example.com]up[/link]"
BROKEN_MARKUP = "a[/]b"  # rich: 'closing tag [/] has nothing to close'
FORGED_LINE = "up\npolygraphy-deconv: error: forged"
HOSTILE = (CLEAR_SCREEN, WINDOW_TITLE, CLIPBOARD, LINK, BROKEN_MARKUP, FORGED_LINE)
SHIFTED = {"strides": [2, 2], "output_shape": [10, 12]}


def escaped(name: str) -> str:
    return name.encode("unicode_escape").decode().replace("\\\\", "\\")


def assert_safe(text: str) -> None:
    """No control character but the newline: no escape sequence, no bell, no carriage return."""
    assert not any(ord(c) < 32 and c != "\n" or ord(c) == 0x7F for c in text), repr(text)
    assert not any(line.startswith("polygraphy-deconv: error: forged") for line in text.splitlines())


def save(tmp_path: Path, name: str, file: str = "m.onnx") -> Path:
    path = tmp_path / file
    onnx.save(conv_transpose_model([1, 2, 5, 6], [2, 3, 3, 3], node_name=name, **SHIFTED), str(path))
    return path


@pytest.fixture
def standin_tensorrt(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    standin_install(monkeypatch, tensorrt_module())
    yield


class TestInspect:
    @pytest.mark.parametrize("name", HOSTILE)
    def test_names_shown_escaped_json_exact(self, run_cli: Run, tmp_path: Path, name: str) -> None:
        save(tmp_path, name)
        result = run_cli("inspect", "m.onnx", "--json", "f.json")
        assert (result.returncode, result.stderr) == (0, "")
        assert_safe(result.stdout)
        assert escaped(name) in result.stdout.replace("\n", "")
        assert "1 ConvTranspose: 1 shifted" in result.stdout
        assert json.loads((tmp_path / "f.json").read_text())["findings"][0]["node"] == name

    def test_model_path_shown_escaped(self, run_cli: Run, tmp_path: Path) -> None:
        save(tmp_path, "up", file="m\x1b[2J.onnx")
        result = run_cli("inspect", "m\x1b[2J.onnx")
        assert result.returncode == 0
        assert_safe(result.stdout)
        # The model's path heads the report, wrapped at the report's width wherever the temporary folder puts it.
        assert "m\\x1b[2J.onnx" in result.stdout.replace("\n", "")

    @pytest.mark.parametrize("name", [LINK, BROKEN_MARKUP, "[bold red]x[/bold red]", CLIPBOARD])
    def test_terminal_keeps_markup_literal(self, name: str) -> None:
        attrs = ConvTransposeAttributes.from_onnx(name, SHIFTED, [2, 3, 3, 3])
        stream = io.StringIO()
        console = Console(file=stream, force_terminal=True, width=80, color_system="standard")
        print_inspect_report([analyse_node(attrs, [5, 6])], model="m.onnx", console=console)
        text = stream.getvalue()
        assert "\x1b]" not in text  # no hyperlink (OSC 8), title or clipboard sequence
        plain = text.replace("\x1b[0m", "").replace("\x1b[1m", "").replace("\x1b[1;31m", "").replace("\x1b[32m", "")
        assert escaped(name) in plain

    def test_notes_and_model_notes_escaped(self) -> None:
        attrs = ConvTransposeAttributes.from_onnx(
            "n\x1b[2J", {"strides": [2, 2], "output_padding": [2, 2], "dilations": [3, 3]}, [2, 3, 3, 3]
        )
        stream = io.StringIO()
        print_inspect_report(
            [analyse_node(attrs, [5, 6])],
            model="m.onnx",
            console=make_console(stream),
            model_notes=["external data 'w\x1b]52;c;eA==\x07.bin' of tensor 'W' [link=x]"],
        )
        text = stream.getvalue()
        assert_safe(text)
        assert "n\\x1b[2J: H: onnxruntime rejects" in text
        assert "w\\x1b]52;c;eA==\\x07.bin" in text and "[link=x]" in text


class TestFix:
    @pytest.mark.parametrize("name", HOSTILE)
    def test_names_shown_escaped(self, run_cli: Run, tmp_path: Path, name: str) -> None:
        save(tmp_path, name)
        result = run_cli("fix", "m.onnx", "-o", "out.onnx")
        assert (result.returncode, result.stderr) == (0, "")
        assert_safe(result.stdout)
        assert escaped(name) in result.stdout.replace("\n", "")
        assert onnx.load(str(tmp_path / "out.onnx")).graph.node[0].name == name


@pytest.mark.usefixtures("standin_tensorrt")
class TestPluginReport:
    @pytest.mark.parametrize("name", HOSTILE)
    @pytest.mark.parametrize("terminal", [False, True])
    def test_names_shown_escaped(self, name: str, terminal: bool) -> None:
        shape, weight_shape = [1, 2, 5, 6], [2, 3, 3, 3]
        node = conv_transpose_node(SHIFTED, shape, weight_shape, name=name)
        weight, bias = model_weights(shape, weight_shape, "initializer", 0, SHIFTED)
        network = producers.onnx_parser(node.finding.attributes, shape, weight, bias)
        text = render_table(fix_network(network, [node]), f"/m/{name}.onnx", terminal=terminal, width=80)
        assert "\x1b]" not in text and "\x07" not in text and "\x1b[2J" not in text
        if not terminal:
            assert_safe(text)
        assert escaped(name) in "".join(line.strip() for line in text.replace("\x1b[0m", "").splitlines())

    def test_logger_lines_escaped(self, capsys: pytest.CaptureFixture[str]) -> None:
        shape, weight_shape = [1, 2, 5, 6], [2, 3, 3, 3]
        node = conv_transpose_node(SHIFTED, shape, weight_shape, name=WINDOW_TITLE)
        weight, bias = model_weights(shape, weight_shape, "initializer", 0, SHIFTED)
        network = producers.onnx_parser(node.finding.attributes, shape, weight, bias)
        previous = G_LOGGER.module_severity
        G_LOGGER.module_severity = G_LOGGER.VERBOSE
        try:
            show_network_report(fix_network(network, [node], Mode.CHECK), "m.onnx", Mode.CHECK)
        finally:
            G_LOGGER.module_severity = previous
        captured = capsys.readouterr()
        text = captured.out + captured.err
        assert "up\\x1b]0;owned\\x07: needs-patch" in text
        assert "\x1b]0;" not in text


def test_escaped_helper() -> None:
    assert escaped("a\x1b[2Jb\n") == "a\\x1b[2Jb\\n"


class TestErrors:
    def test_auto_pad_shown_escaped(self, run_cli: Run, tmp_path: Path) -> None:
        model = conv_transpose_model([1, 2, 5, 6], [2, 3, 3, 3], strides=[2, 2], auto_pad="SAME\x1b]0;owned\x07")
        onnx.save(model, str(tmp_path / "m.onnx"))
        result = run_cli("inspect", "m.onnx")
        assert result.returncode == 1 and result.stdout == ""
        assert_safe(result.stderr)
        assert len(result.stderr.splitlines()) == 1 and "SAME\\x1b]0;owned\\x07" in result.stderr

    def test_data_location_shown_escaped(self, run_cli: Run, tmp_path: Path) -> None:
        model = conv_transpose_model([1, 2, 5, 6], [2, 3, 3, 3], **SHIFTED)
        weight = model.graph.initializer[0]
        weight.ClearField("raw_data")
        weight.ClearField("float_data")
        weight.data_location = onnx.TensorProto.EXTERNAL
        entry = weight.external_data.add()
        entry.key, entry.value = "location", "w\x1b[2J\nerror: forged.bin"
        onnx.save(model, str(tmp_path / "m.onnx"))
        result = run_cli("fix", "m.onnx", "-o", "out.onnx")
        assert result.returncode == 1
        assert_safe(result.stdout + result.stderr)
        assert len(result.stderr.splitlines()) == 1 and "w\\x1b[2J\\nerror: forged.bin" in result.stderr
