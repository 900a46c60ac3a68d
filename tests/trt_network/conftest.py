"""Every test here runs against the stand-in network API, installed as `tensorrt` for the test only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.standin.network import install as standin_install
from tests.standin.network import tensorrt_module


@pytest.fixture(autouse=True)
def standin_tensorrt(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    standin_install(monkeypatch, tensorrt_module())
    yield
