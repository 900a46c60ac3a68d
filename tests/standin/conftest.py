"""Every test here runs against the stand-in network API, installed as `tensorrt` for the test only."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests.standin.network import tensorrt_module


@pytest.fixture(autouse=True)
def standin_tensorrt(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(sys.modules, "tensorrt", tensorrt_module())
    yield
