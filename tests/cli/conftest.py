"""tests/cli: run the installed `polygraphy-deconv` console script in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


def console_script() -> str:
    """The console script of the environment running the tests (the venv's bin folder)."""
    for folder in (os.path.dirname(sys.executable), os.path.join(sys.prefix, "bin")):
        found = shutil.which("polygraphy-deconv", path=folder)
        if found:
            return found
    raise AssertionError(f"polygraphy-deconv is not installed next to {sys.executable}; run pip install -e .")


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli(tmp_path: Path) -> Run:
    script = console_script()

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR", "TERM")}
        return subprocess.run(
            [script, *args], capture_output=True, text=True, cwd=cwd or tmp_path, env=env, timeout=300, check=False
        )

    return run
