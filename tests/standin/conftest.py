"""Fixtures that install the stand-in network API as `tensorrt`, for one emulated TensorRT version.

- `standin_tensorrt` (autouse here): the default version, for every test in this directory.
- `standin_trt`: a factory. `trt = standin_trt("8.6")` installs the stand-in of TensorRT 8.6 as
  sys.modules["tensorrt"] for the test and returns it; producers.py then builds on it by default.
- `standin_version`: parametrized over EMULATED_VERSIONS, installs each one in turn and returns it.

Tests elsewhere can use them by importing them into their conftest.py:
`from tests.standin.conftest import standin_trt, standin_version  # noqa: F401`.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator

import pytest

from tests.standin.network import DEFAULT_VERSION, EMULATED_VERSIONS, tensorrt_module
from tests.standin.network import install as standin_install


@pytest.fixture(autouse=True)
def standin_tensorrt(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    standin_install(monkeypatch, tensorrt_module())
    yield


@pytest.fixture
def standin_trt(monkeypatch: pytest.MonkeyPatch) -> Callable[..., types.ModuleType]:
    def install(version: str = DEFAULT_VERSION) -> types.ModuleType:
        module = tensorrt_module(version)
        standin_install(monkeypatch, module)
        return module

    return install


@pytest.fixture(params=EMULATED_VERSIONS)
def standin_version(request: pytest.FixtureRequest,
                    standin_trt: Callable[..., types.ModuleType]) -> types.ModuleType:
    return standin_trt(request.param)
