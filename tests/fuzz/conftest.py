"""tests/fuzz: the stand-in network API as `tensorrt`, a quiet onnxruntime, and the coverage summary (with -v)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fuzz.tally import summary_lines
from tests.standin.network import install as standin_install
from tests.standin.network import tensorrt_module


@pytest.fixture(autouse=True, scope="module")
def standin_tensorrt() -> Iterator[None]:
    # Module scope: hypothesis runs every example of a test inside one call of the test function.
    with pytest.MonkeyPatch.context() as patch:
        standin_install(patch, tensorrt_module())
        yield


@pytest.fixture(autouse=True, scope="session")
def quiet_onnxruntime() -> None:
    import onnxruntime

    onnxruntime.set_default_logger_severity(4)  # its rejections are asserted on, not logged


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # The coverage table is for whoever reads the fuzz run closely (-v); a plain run ends on pytest's own summary.
    if terminalreporter.config.option.verbose <= 0:
        return
    lines = summary_lines()
    if lines:
        terminalreporter.section("equivalence fuzz coverage")
        for line in lines:
            terminalreporter.write_line(line)
