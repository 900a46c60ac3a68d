"""`python -m benchmarks.run --quick` says in its footer that it was a quick run; a full run does not."""

from __future__ import annotations

from benchmarks.run import footer


def test_quick_run_says_so() -> None:
    text = footer("2026-12-02", "2 cores, Python 3.11.7", quick=True)
    assert "--quick" in text
    assert "a quick run" in text
    assert text.startswith("Measured 2026-12-02 on 2 cores, Python 3.11.7")


def test_full_run_does_not_claim_quick() -> None:
    text = footer("2026-12-02", "2 cores, Python 3.11.7", quick=False)
    assert text == "Measured 2026-12-02 on 2 cores, Python 3.11.7 with `python -m benchmarks.run`."
    assert "quick" not in text
