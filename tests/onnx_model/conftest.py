"""tests/onnx_model: onnxruntime's own error log is noise here (the tests assert on the exceptions it raises)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def quiet_onnxruntime() -> None:
    import onnxruntime

    onnxruntime.set_default_logger_severity(4)
