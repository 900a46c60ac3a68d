"""`polygraphy-deconv inspect … | head`: piped output is plain, 80 columns (or COLUMNS), without trailing
spaces, and a reader that stops early ends the command quietly (no traceback, nothing on stderr)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from benchmarks.report import build_shifted_model
from tests.cli.conftest import console_script

ROOT = Path(__file__).resolve().parents[2]
MIXED = ROOT / "samples" / "models" / "mixed.onnx"


def environment(columns: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("COLUMNS", "FORCE_COLOR", "TERM", "POLYGRAPHY_DECONV_TRACEBACK")
    }
    if columns is not None:
        env["COLUMNS"] = columns
    return env


def run_piped(command: list[str], folder: Path, columns: str | None) -> subprocess.CompletedProcess[str]:
    """The console script with its output piped, at COLUMNS=`columns` (unset: None), in `folder`."""
    return subprocess.run(
        [console_script(), *command], capture_output=True, text=True, cwd=folder, env=environment(columns),
        timeout=300, check=False,
    )


@pytest.mark.parametrize("columns, width", [(None, 80), ("80", 80), ("160", 160)])
@pytest.mark.parametrize("command", [["inspect", str(MIXED)], ["fix", str(MIXED), "-o", "out.onnx"]])
def test_piped_output_fits_and_has_no_trailing_spaces(
    tmp_path: Path, command: list[str], columns: str | None, width: int
) -> None:
    result = run_piped(command, tmp_path, columns)
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert all(line == line.rstrip() for line in lines)
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    assert "\x1b[" not in result.stdout
    if width == 160 and command[0] == "fix":
        assert lines[0].split() == ["node", "verdict", "before", "after"]  # one row per rewrite where it fits


def test_reader_that_stops_early_ends_it_quietly(tmp_path: Path) -> None:
    # The reader is gone before the report is written (as `| head` is after its lines): every write meets
    # a closed pipe. --all on 3,000 configurations writes ~1.4 MB, more than a pipe holds.
    model = tmp_path / "many.onnx"
    build_shifted_model(str(model), 3000, 3000)
    process = subprocess.Popen(
        [console_script(), "inspect", str(model), "--all"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(None),
        cwd=tmp_path,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read()
    code = process.wait(timeout=120)
    assert stderr == b""  # no traceback, no 'Exception ignored' from the interpreter's last flush
    assert code == 1  # as Python recommends for EPIPE: rich's on_broken_pipe, stdout pointed at devnull


@pytest.mark.parametrize("columns", ["40", "30"])
@pytest.mark.parametrize(
    "command",
    [["inspect", "mixed.onnx"], ["fix", "mixed.onnx", "-o", "out.onnx"], ["check", "mixed.onnx", "--no-tensorrt"]],
)
def test_narrow_output_keeps_words_whole(tmp_path: Path, command: list[str], columns: str) -> None:
    # At 40 columns (the report's minimum) and below, "10x12" came out as "10x1|2" and "explicit" as "e|xplicit"
    # (issue 16): every word of the narrow output is a word of the wide one, or a name shortened in its row. And
    # every line fits 40 columns: rows shorten their names, and window pictures too wide are left out (the words
    # beside them say the same). The model is named relative to the working folder: a path wider than the terminal
    # has to fold, and test_path_wider_than_the_terminal_folds_whole shows how.
    shutil.copy(MIXED, tmp_path / "mixed.onnx")

    def words(columns: str) -> set[str]:
        result = run_piped(command, tmp_path, columns)
        assert result.returncode == 0, result.stderr
        assert max(map(len, result.stdout.splitlines())) <= max(int(columns), 40)
        path = str(tmp_path / "mixed.onnx")  # shown absolute: folded where wider than the terminal
        return {word for word in result.stdout.split() if word not in path}

    narrow, wide = words(columns), words("400")
    assert {word for word in narrow - wide if "..." not in word and set(word) - set("=#.+-~ ─")} == set()


@pytest.mark.parametrize("command", [["inspect"], ["check", "--no-tensorrt"]])
def test_path_wider_than_the_terminal_folds_whole(tmp_path: Path, command: list[str]) -> None:
    # A model path wider than the terminal folds at the width, characters in order, nothing dropped or
    # shortened: the lines joined give back a path the user can copy.
    folder = tmp_path.joinpath("a-folder-name-long-enough", "to-pass-forty-columns")
    folder.mkdir(parents=True)
    model = folder / "mixed.onnx"
    shutil.copy(MIXED, model)
    result = run_piped([command[0], str(model), *command[1:]], tmp_path, "40")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(len(line) == 40 and str(model).startswith(line) for line in lines)  # folded at the width
    assert str(model) in "".join(lines)
