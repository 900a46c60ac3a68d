"""Issue 10: safety under hostile input. Each class is one item of the issue; every test failed before its fix.

Commands run in process through `main` (one error line on stderr, the exit code) unless the test needs a
real process (signals: tests/hardening/test_signals.py).
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest

from polygraphy_deconv.cli.main import main
from tests.models import conv_transpose_model, random_feeds, run_onnxruntime

PREFIX = "polygraphy-deconv: error: "
SHIFTED: dict[str, object] = {"input_shape": [1, 2, 5, 6], "weight_shape": [2, 3, 3, 3], "strides": [2, 2], "output_shape": [10, 12]}


def run_main(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def assert_one_error_line(err: str, *parts: str) -> None:
    assert err.startswith(PREFIX), err
    assert len(err.splitlines()) == 1, err
    for part in parts:
        assert part in err, err


def save_external(model: onnx.ModelProto, path: Path, location: str = "weights.bin") -> Path:
    onnx.save(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location=location, size_threshold=0)
    return path


def shifted(seed: int = 0) -> onnx.ModelProto:
    return conv_transpose_model(**SHIFTED, seed=seed)  # type: ignore[arg-type]


def outputs(model: onnx.ModelProto | str) -> list[np.ndarray]:
    loaded = onnx.load(model) if isinstance(model, str) else model
    return run_onnxruntime(loaded, random_feeds(loaded, seed=5))


def files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder)) if (folder / name).is_file()}


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


# ---------------------------------------------------------------------------------------------------
# 1. fix never writes over a file it did not create: the output's data file is named after the output


class TestOutputDataFile:
    def test_two_models_with_one_data_name_into_one_folder(self, tmp_path: Path) -> None:
        for name, seed in (("a", 0), ("b", 1)):
            (tmp_path / name).mkdir()
            save_external(shifted(seed), tmp_path / name / "m.onnx")
        (tmp_path / "out").mkdir()
        code_a, out_a, _ = run_main("fix", str(tmp_path / "a" / "m.onnx"), "-o", str(tmp_path / "out" / "a.onnx"))
        code_b, out_b, _ = run_main("fix", str(tmp_path / "b" / "m.onnx"), "-o", str(tmp_path / "out" / "b.onnx"))
        assert (code_a, code_b) == (0, 0)
        assert sorted(os.listdir(tmp_path / "out")) == ["a.onnx", "a.onnx.data", "b.onnx", "b.onnx.data"]
        assert f"external data: {tmp_path / 'out' / 'a.onnx.data'}" in out_a
        assert f"external data: {tmp_path / 'out' / 'b.onnx.data'}" in out_b
        for name, seed in (("a", 0), ("b", 1)):
            for fixed, original in zip(outputs(str(tmp_path / "out" / f"{name}.onnx")), outputs(shifted(seed))):
                np.testing.assert_allclose(fixed, original, rtol=1e-5, atol=1e-5)

    def test_negative_unrelated_data_file_is_not_replaced(self, tmp_path: Path) -> None:
        (tmp_path / "in").mkdir()
        (tmp_path / "out").mkdir()
        model = save_external(shifted(), tmp_path / "in" / "m.onnx")
        (tmp_path / "out" / "weights.bin").write_bytes(b"someone else's weights")
        (tmp_path / "out" / "fixed.onnx.data").write_bytes(b"not ours")
        before = files(tmp_path / "out")
        code, _, err = run_main("fix", str(model), "-o", str(tmp_path / "out" / "fixed.onnx"))
        assert code == 1
        assert_one_error_line(err, f"{tmp_path / 'out' / 'fixed.onnx.data'} already exists")
        assert files(tmp_path / "out") == before

    def test_fixing_again_over_its_own_output(self, tmp_path: Path) -> None:
        (tmp_path / "in").mkdir()
        (tmp_path / "out").mkdir()
        model = save_external(shifted(), tmp_path / "in" / "m.onnx")
        target = str(tmp_path / "out" / "fixed.onnx")
        assert run_main("fix", str(model), "-o", target)[0] == 0
        first = files(tmp_path / "out")
        assert run_main("fix", str(model), "-o", target)[0] == 0  # its own earlier output: replaced
        assert files(tmp_path / "out") == first

    def test_several_data_files_become_one(self, tmp_path: Path) -> None:
        (tmp_path / "in").mkdir()
        (tmp_path / "out").mkdir()
        onnx.save(shifted(), str(tmp_path / "in" / "m.onnx"), save_as_external_data=True, all_tensors_to_one_file=False, size_threshold=0)
        assert len(os.listdir(tmp_path / "in")) == 3  # the model, W and B
        code, _, err = run_main("fix", str(tmp_path / "in" / "m.onnx"), "-o", str(tmp_path / "out" / "f.onnx"))
        assert code == 0, err
        assert sorted(os.listdir(tmp_path / "out")) == ["f.onnx", "f.onnx.data"]
        for fixed, original in zip(outputs(str(tmp_path / "out" / "f.onnx")), outputs(shifted())):
            np.testing.assert_allclose(fixed, original, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------------------------
# 2. no output path may name any file the model references (absolute, ../, through links)


def model_referencing(folder: Path, location: str) -> Path:
    """SHIFTED in folder/model/m.onnx with every tensor at `location` (written where it points)."""
    (folder / "model").mkdir()
    path = save_external(shifted(), folder / "model" / "m.onnx")
    model = onnx.load(str(path), load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location
    onnx.save(model, str(path))
    target = Path(location) if os.path.isabs(location) else folder / "model" / location
    os.replace(folder / "model" / "weights.bin", target)
    return path


class TestOutputNeverOverAReferencedFile:
    @pytest.mark.parametrize("how", ["../", "absolute", "symlink to it"])
    @pytest.mark.parametrize("command", ["inspect", "check"])
    def test_negative_json_over_the_weights(self, tmp_path: Path, how: str, command: str) -> None:
        location = "../w.bin" if how != "absolute" else str(tmp_path / "w.bin")
        model = model_referencing(tmp_path, location)
        before = (tmp_path / "w.bin").read_bytes()
        target = tmp_path / "w.bin"
        if how == "symlink to it":
            os.symlink(tmp_path / "w.bin", tmp_path / "link.json")
            target = tmp_path / "link.json"
        extra = ["--no-tensorrt"] if command == "check" else []
        code, _, err = run_main(command, str(model), *extra, "--json", str(target))
        assert code == 1
        # check refuses weights outside the model's folder anyway; inspect reads none, so its guard must hold
        assert_one_error_line(err, "refusing to overwrite the model's external data file" if command == "inspect" else "")
        assert (tmp_path / "w.bin").read_bytes() == before

    def test_analysis_lists_every_referenced_file(self, tmp_path: Path) -> None:
        from polygraphy_deconv.onnx_model.reading import analyse_model

        model = model_referencing(tmp_path, "../w.bin")
        assert os.path.realpath(tmp_path / "w.bin") in {os.path.realpath(p) for p in analyse_model(str(model)).input_files}


# ---------------------------------------------------------------------------------------------------
# 3. outputs keep the input's mode


class TestModes:
    def test_private_model_stays_private(self, tmp_path: Path) -> None:
        (tmp_path / "in").mkdir()
        (tmp_path / "out").mkdir()
        model = save_external(shifted(), tmp_path / "in" / "m.onnx")
        os.chmod(model, 0o600)
        os.chmod(tmp_path / "in" / "weights.bin", 0o600)
        with umask(0o022):
            assert run_main("fix", str(model), "-o", str(tmp_path / "out" / "f.onnx"))[0] == 0
            assert run_main("inspect", str(model), "--json", str(tmp_path / "out" / "f.json"))[0] == 0
        for name in ("f.onnx", "f.onnx.data", "f.json"):
            assert stat.S_IMODE(os.stat(tmp_path / "out" / name).st_mode) == 0o600, name

    def test_umask_still_applies(self, tmp_path: Path) -> None:
        model = tmp_path / "m.onnx"
        onnx.save(shifted(), str(model))
        os.chmod(model, 0o664)
        with umask(0o027):
            assert run_main("fix", str(model), "-o", str(tmp_path / "f.onnx"))[0] == 0
        assert stat.S_IMODE(os.stat(tmp_path / "f.onnx").st_mode) == 0o640

    def test_replaced_output_is_never_more_open_than_the_input(self, tmp_path: Path) -> None:
        model = tmp_path / "m.onnx"
        onnx.save(shifted(), str(model))
        os.chmod(model, 0o600)
        (tmp_path / "f.onnx").write_bytes(b"old")
        os.chmod(tmp_path / "f.onnx", 0o644)
        assert run_main("fix", str(model), "-o", str(tmp_path / "f.onnx"))[0] == 0
        assert stat.S_IMODE(os.stat(tmp_path / "f.onnx").st_mode) == 0o600
