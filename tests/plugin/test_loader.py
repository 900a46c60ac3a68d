"""PatchDeconvolutions through Polygraphy's Python API, on a stand-in network of the model (no TensorRT)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from polygraphy.exception import PolygraphyException
from polygraphy.logger import G_LOGGER

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from polygraphy_deconv.plugin import loader as loader_module
from polygraphy_deconv.plugin.loader import PatchDeconvolutions
from tests.plugin.polygraphy_cli import save_model
from tests.standin import network as standin
from tests.standin import producers
from tests.standin.network import install as standin_install
from tests.standin.network import tensorrt_module
from tests.trt_network.test_patching import model_weights

patch_deconvolutions = loader_module.patch_deconvolutions  # type: ignore[attr-defined]  # made by mod.export(funcify=True)

SHIFTED = {"strides": [2, 2], "output_shape": [10, 12]}


@pytest.fixture(autouse=True)
def standin_tensorrt(monkeypatch: pytest.MonkeyPatch) -> None:
    standin_install(monkeypatch, tensorrt_module())


def parsed(attributes: dict[str, Any]) -> standin.INetworkDefinition:
    """The stand-in network the ONNX parser would build for save_model(tmp_path, attributes)."""
    weight, bias = model_weights([1, 2, 5, 6], [2, 3, 3, 3], "initializer", 0, attributes)
    attrs = ConvTransposeAttributes.from_onnx("deconv", attributes, weight.shape)
    return producers.onnx_parser(attrs, [1, 2, 5, 6], weight, bias)


class TestPatchDeconvolutions:
    def test_basic(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        model = save_model(tmp_path, SHIFTED)
        network = parsed(SHIFTED)
        builder, parser = object(), object()
        loader = PatchDeconvolutions(lambda: (builder, network, parser), str(model), report_path=str(tmp_path / "r.json"))
        state = dict(vars(loader))
        result = loader()
        assert dict(vars(loader)) == state  # no state kept on the loader
        assert result[:3] == (builder, network, parser) and len(result) == 3  # no new weights for a padding change
        assert tuple(network.get_layer(0).pre_padding) == (1, 1)
        out = capsys.readouterr().out
        assert "deconv" in out and "patched" in out
        document = json.loads((tmp_path / "r.json").read_text())
        assert document["source"] == "network" and document["schema"] == "polygraphy-deconv/findings"
        (finding,) = document["findings"]
        assert finding["verdict"] == "shifted"
        assert finding["network"]["action"] == "patched"
        assert finding["network"]["actual"] == [{"begin": 0, "trim": 1, "length": 10}, {"begin": 0, "trim": 1, "length": 12}]
        assert finding["network"]["patched"][0]["begin"] == 1

    def test_returns_the_tuple_it_received(self, tmp_path: Path) -> None:
        """No keep-alive element: PostprocessNetwork passes on three elements only, and the bindings keep new
        weights alive with the network (pyGraph.cpp@release/10.8:945-947)."""
        attributes = {"strides": [2, 2], "pads": [0, 0, 0, 0], "output_padding": [1, 1]}
        model = save_model(tmp_path, attributes)
        network = parsed(attributes)
        received = (None, network, None)
        assert patch_deconvolutions(received, str(model)) is received

    def test_quiet_shows_only_the_summary(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        model = save_model(tmp_path, SHIFTED)
        previous = G_LOGGER.module_severity
        G_LOGGER.module_severity = G_LOGGER.START  # what -q sets
        try:
            PatchDeconvolutions((None, parsed(SHIFTED), None), str(model))()
        finally:
            G_LOGGER.module_severity = previous
        out = capsys.readouterr().out
        assert "Deconvolution fixed on TensorRT 10.8.0.43+standin: 1 deconvolution unit(s): 1 patched" in out
        assert "TensorRT layers" not in out

    def test_negative_check_fails_and_changes_nothing(self, tmp_path: Path) -> None:
        model = save_model(tmp_path, SHIFTED)
        network = parsed(SHIFTED)
        with pytest.raises(PolygraphyException, match=r"1 deconvolution\(s\).*'deconv'.*--deconv-fix"):
            PatchDeconvolutions((None, network, None), str(model), mode="check")()
        assert tuple(network.get_layer(0).pre_padding) == (0, 0)

    def test_check_passes_when_nothing_differs(self, tmp_path: Path) -> None:
        attributes = {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}
        model = save_model(tmp_path, attributes)
        network = parsed(attributes)
        assert PatchDeconvolutions((None, network, None), str(model), mode="check")()[1] is network

    def test_negative_report_folder_missing(self, tmp_path: Path) -> None:
        model = save_model(tmp_path, SHIFTED)
        with pytest.raises(PolygraphyException, match="does not exist"):
            PatchDeconvolutions((None, parsed(SHIFTED), None), str(model), report_path=str(tmp_path / "no" / "r.json"))()
        assert not (tmp_path / "no").exists()

    def test_negative_unpatchable_fails_naming_the_layer(self, tmp_path: Path) -> None:
        model = save_model(tmp_path, SHIFTED)
        network = producers.with_strided_fill_slice(parsed(SHIFTED))
        with pytest.raises(PolygraphyException, match="TensorRT layer 'deconv': cannot patch .* stride"):
            PatchDeconvolutions((None, network, None), str(model))()

    def test_negative_unpatchable_message_shows_the_layer_name_escaped(self, tmp_path: Path) -> None:
        """A layer name from the model reaches Polygraphy's logger with its control characters made visible."""
        import onnx

        from tests.models import conv_transpose_model

        model = tmp_path / "m.onnx"
        hostile = "deconv\x1b]0;title\x07"
        onnx.save(conv_transpose_model([1, 2, 5, 6], [2, 3, 3, 3], node_name=hostile, **SHIFTED), str(model))
        network = producers.with_strided_fill_slice(parsed(SHIFTED))
        network.get_layer(0).name = hostile  # the parser names the layer after the node
        with pytest.raises(PolygraphyException) as raised:
            PatchDeconvolutions((None, network, None), str(model))()
        message = str(raised.value)
        assert "\x1b" not in message and "\x07" not in message
        assert "TensorRT layer 'deconv\\x1b]0;title\\x07': cannot patch" in message

    def test_negative_bad_model(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.onnx"
        bad.write_bytes(b"not a model")
        with pytest.raises(PolygraphyException):
            PatchDeconvolutions((None, parsed(SHIFTED), None), str(bad))()
