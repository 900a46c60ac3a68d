"""samples/README.md shows real output: each `inspect` example on a bundled sample is what the command
prints today, at the width it names (inspect reads nothing but the model, so the output is the same on
every machine; fix and check examples depend on the machine's TensorRT and temporary paths)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import console_script

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = re.compile(
    r"^\$ COLUMNS=(\d+) polygraphy-deconv (inspect samples/models/\S+\.onnx)\n(.*?)\n\(exit (\d+)\)$",
    re.MULTILINE | re.DOTALL,
)


def examples() -> list[tuple[int, str, str, int]]:
    text = (ROOT / "samples" / "README.md").read_text()
    return [(int(columns), command, output, int(code)) for columns, command, output, code in EXAMPLE.findall(text)]


def test_readme_has_inspect_examples_at_80_and_160() -> None:
    widths = {columns for columns, *_ in examples()}
    assert widths == {80, 160}


@pytest.mark.parametrize("columns, command, output, code", examples())
def test_inspect_example_is_the_real_output(columns: int, command: str, output: str, code: int) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TERM", "POLYGRAPHY_DECONV_TRACEBACK")}
    env["COLUMNS"] = str(columns)
    result = subprocess.run(
        [console_script(), *command.split()],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == code
    assert result.stdout.replace(f"{ROOT}{os.sep}", "").rstrip("\n") == output
