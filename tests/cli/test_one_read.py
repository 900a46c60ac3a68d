"""Each command reads its model file once in its own process (issue 17): every step takes the one LoadedModel.

Counted in process through `main([...])`: every Python open of the model's path (builtins.open, io.open, which
onnx.load uses too) and every onnxruntime session made from the path (onnxruntime opens it in C++). check's
`polygraphy run` is another process, and is skipped here (--no-tensorrt)."""

from __future__ import annotations

import builtins
import io
import os
import shutil
from pathlib import Path
from typing import Any

import onnxruntime
import pytest

from polygraphy_deconv.cli.main import main

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "models"


@pytest.fixture
def model_reads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Path, list[str]]:
    """A copy of samples/models/mixed.onnx (every verdict, rewrites to verify) and the list its reads go to."""
    model = tmp_path / "mixed.onnx"
    shutil.copy(SAMPLES / "mixed.onnx", model)
    target = os.path.realpath(model)
    reads: list[str] = []

    def counted(real: Any, how: str) -> Any:
        def wrapper(file: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(file, (str, os.PathLike)) and os.path.realpath(file) == target:
                reads.append(how)
            return real(file, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(builtins, "open", counted(builtins.open, "open"))
    monkeypatch.setattr(io, "open", counted(io.open, "io.open"))
    monkeypatch.setattr(onnxruntime, "InferenceSession", counted(onnxruntime.InferenceSession, "onnxruntime session"))
    return model, reads


def test_check_reads_the_model_once(model_reads: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    model, reads = model_reads
    assert main(["check", str(model), "--no-tensorrt"]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "fix + verify (onnxruntime): passed" in out  # the verification ran (on the model read once)
    assert reads == ["open"]


def test_fix_verify_reads_the_model_once(
    model_reads: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, reads = model_reads
    assert main(["fix", str(model), "-o", str(tmp_path / "fixed.onnx"), "--verify"]) == 0, capsys.readouterr()
    assert "PASSED" in capsys.readouterr().out
    assert reads == ["open"]


def test_fix_of_a_model_that_needs_nothing_reads_it_once(
    model_reads: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The unchanged copy is written from the bytes read, not from a second read of the file.
    model, reads = model_reads
    fixed = tmp_path / "fixed.onnx"
    assert main(["fix", str(model), "-o", str(fixed)]) == 0
    shutil.copy(fixed, model)  # now a model that needs nothing
    reads.clear()
    assert main(["fix", str(model), "-o", str(tmp_path / "again.onnx")]) == 0, capsys.readouterr()
    assert "nothing to rewrite" in capsys.readouterr().out
    assert reads == ["open"]
    assert (tmp_path / "again.onnx").read_bytes() == model.read_bytes()


@pytest.mark.parametrize("command", [["inspect"], ["npps", "-o", "SCRIPT"]])
def test_inspect_and_npps_read_the_model_once(
    model_reads: tuple[Path, list[str]], tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    model, reads = model_reads
    arguments = [command[0], str(model), *[str(tmp_path / "patch.py") if a == "SCRIPT" else a for a in command[1:]]]
    code = main(arguments)
    capsys.readouterr()
    # npps refuses mixed.onnx (a node that does not parse): it still read the model once to say so.
    assert code in (0, 1)
    assert reads == ["open"]
