"""The plugin's loader on bad models: the same catalogue as the standalone commands (tests/hardening/
test_bad_input.py), through Polygraphy's Python API on a stand-in network (no TensorRT). A bad model
fails the run with one message (G_LOGGER.critical: PolygraphyException, which `polygraphy run` turns
into exit 1 without a traceback) and the network is left as it was.

External-data cases are not here: by the time the loader runs, TensorRT's parser has read the weights;
the loader itself reads none."""

from __future__ import annotations

from pathlib import Path

import pytest
from polygraphy.exception import PolygraphyException

from polygraphy_deconv.plugin.loader import PatchDeconvolutions
from tests.hardening.test_bad_input import COMMANDS, INPUT_CASES, InputCase
from tests.plugin.test_loader import SHIFTED, parsed
from tests.standin.network import install as standin_install
from tests.standin.network import tensorrt_module

MODEL_CASES = [pytest.param(case, id=case.id) for case in INPUT_CASES if case.refused_by == COMMANDS]


@pytest.fixture(autouse=True)
def standin_tensorrt(monkeypatch: pytest.MonkeyPatch) -> None:
    standin_install(monkeypatch, tensorrt_module())


class TestPluginBadModel:
    @pytest.mark.parametrize("case", MODEL_CASES)
    def test_negative_model(self, tmp_path: Path, case: InputCase) -> None:
        model = case.make(tmp_path)
        network = parsed(SHIFTED)
        layers = network.num_layers
        with pytest.raises(PolygraphyException) as raised:
            PatchDeconvolutions((None, network, None), str(model))()
        message = str(raised.value)
        assert case.message in message
        assert len(message.strip().splitlines()) == 1
        assert network.num_layers == layers  # nothing patched

    def test_catalogue_is_covered(self) -> None:
        assert len(MODEL_CASES) >= 30


class TestPluginReportPath:
    def test_negative_report_over_a_referenced_weight_file(self, tmp_path: Path) -> None:
        # Issue 10 item 2: --deconv-report is guarded like inspect --json, also for weights the model
        # references by ../ (or absolutely): the file is never written.
        from tests.hardening.test_hostile import model_referencing

        model = model_referencing(tmp_path, "../w.bin")
        before = (tmp_path / "w.bin").read_bytes()
        network = parsed(SHIFTED)
        with pytest.raises(PolygraphyException) as raised:
            PatchDeconvolutions((None, network, None), str(model), report_path=str(tmp_path / "w.bin"))()
        assert "refusing to overwrite the model's external data file" in str(raised.value)
        assert (tmp_path / "w.bin").read_bytes() == before
