"""Fixtures: the installed Polygraphy and, once per session, a second venv with Polygraphy 0.49.26."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.plugin.polygraphy_cli import PolygraphyInstall, current_install

OLDEST_POLYGRAPHY = "0.49.26"
REPO = Path(__file__).resolve().parents[2]


def _oldest_install(tmp_path_factory: pytest.TempPathFactory) -> PolygraphyInstall:
    current = current_install()
    if current.version == OLDEST_POLYGRAPHY:  # CI's second pass already runs on it
        return current
    venv = tmp_path_factory.mktemp("polygraphy-oldest") / "venv"
    # TensorRT-RTX where this environment has it, so the plugin meets it on the oldest Polygraphy too.
    rtx = [f"tensorrt-rtx=={version('tensorrt-rtx')}"] if importlib.util.find_spec("tensorrt_rtx") else []
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         f"polygraphy=={OLDEST_POLYGRAPHY}", "onnx", "onnxruntime", "numpy", "rich", *rtx],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps", str(REPO)],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL, check=False)
        if done.returncode != 0:
            pytest.skip(f"could not install Polygraphy {OLDEST_POLYGRAPHY} in a venv: {done.stderr.strip()[-300:]}")
    return PolygraphyInstall(venv / "bin", OLDEST_POLYGRAPHY)


@pytest.fixture(scope="session")
def oldest_polygraphy(tmp_path_factory: pytest.TempPathFactory) -> PolygraphyInstall:
    return _oldest_install(tmp_path_factory)


@pytest.fixture(params=["installed", "oldest"])
def polygraphy_install(request: pytest.FixtureRequest) -> Iterator[PolygraphyInstall]:
    if request.param == "installed":
        yield current_install()
    else:
        yield request.getfixturevalue("oldest_polygraphy")
