"""The fuzz coverage table is printed with -v only (a plain `scripts/test` run ends on pytest's own summary)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.fuzz import conftest


class RecordingReporter:
    """What pytest_terminal_summary uses of a TerminalReporter: the verbosity, section() and write_line()."""

    def __init__(self, verbose: int) -> None:
        self.config = SimpleNamespace(option=SimpleNamespace(verbose=verbose))
        self.written: list[str] = []

    def section(self, title: str) -> None:
        self.written.append(f"== {title}")

    def write_line(self, line: str) -> None:
        self.written.append(line)


LINES = ["distinct configurations checked: 3", "verdict: ok 2, shifted 1"]


@pytest.mark.parametrize("verbose", [0, -1])
def test_no_table_without_verbose(monkeypatch: pytest.MonkeyPatch, verbose: int) -> None:
    monkeypatch.setattr(conftest, "summary_lines", lambda: LINES)
    reporter = RecordingReporter(verbose)
    conftest.pytest_terminal_summary(reporter)  # type: ignore[arg-type]
    assert reporter.written == []


def test_table_with_verbose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "summary_lines", lambda: LINES)
    reporter = RecordingReporter(1)
    conftest.pytest_terminal_summary(reporter)  # type: ignore[arg-type]
    assert reporter.written == ["== equivalence fuzz coverage", *LINES]


def test_nothing_counted_prints_nothing_even_verbose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "summary_lines", list)
    reporter = RecordingReporter(2)
    conftest.pytest_terminal_summary(reporter)  # type: ignore[arg-type]
    assert reporter.written == []
