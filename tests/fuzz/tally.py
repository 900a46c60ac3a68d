"""What the equivalence fuzz covered: counts per section, printed at the end of the run (conftest.py) and
given to hypothesis as events (`--hypothesis-show-statistics`)."""

from __future__ import annotations

from collections import Counter

from hypothesis import event

COUNTS: Counter[tuple[str, str]] = Counter()
CONFIGURATIONS: set[str] = set()  # every configuration checked without failure, as Draw.describe() text
FAILURES: list[str] = []  # configurations that failed (hypothesis then replays and shrinks)


def count(section: str, key: str) -> None:
    COUNTS[section, key] += 1
    event(f"{section}: {key}")


def summary_lines() -> list[str]:
    """One line per section, in the order the sections were first counted: `section: key n, key n, ...`."""
    if not COUNTS:
        return []
    lines = [f"distinct configurations checked: {len(CONFIGURATIONS)}"]
    if FAILURES:
        lines.append(f"failing examples (incl. shrinking): {len(FAILURES)}")
    sections: dict[str, list[tuple[str, int]]] = {}
    for (section, key), n in COUNTS.items():
        sections.setdefault(section, []).append((key, n))
    for section, entries in sections.items():
        lines.append(f"{section}: " + ", ".join(f"{key} {n}" for key, n in sorted(entries)))
    return lines
