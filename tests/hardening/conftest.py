"""tests/hardening: the installed console script, with a timeout short enough that a command which
opens a FIFO it should never read (and so blocks) fails the test within a minute."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import Run, console_script


@pytest.fixture
def run_cli(tmp_path: Path) -> Run:
    script = console_script()

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR", "TERM", "POLYGRAPHY_DECONV_TRACEBACK")}
        return subprocess.run(
            [script, *args], capture_output=True, text=True, cwd=cwd or tmp_path, env=env, timeout=60, check=False
        )

    return run
