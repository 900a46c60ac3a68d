"""TensorRT-RTX is the ground truth of these tests. Where its wheel cannot be loaded they skip with the reason,
except in CI (CI=true), where the test extra installs it and a skip would hide a broken harness: there they fail."""

from __future__ import annotations

import os

import pytest

from tests.rtx.harness import available


@pytest.fixture(scope="session", autouse=True)
def tensorrt_rtx() -> None:
    reason = available()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"TensorRT-RTX is needed in CI: {reason}")
    pytest.skip(f"TensorRT-RTX unavailable: {reason}")
