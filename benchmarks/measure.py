"""Whole-process measurements: wall time and peak resident memory of a child process."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcessCost:
    seconds: float  # median wall time over the repeats
    peak_mib: float  # largest peak RSS over the repeats


def measure_process(command: Sequence[str], repeats: int = 3, env: dict[str, str] | None = None) -> ProcessCost:
    """Run `command` `repeats` times; the median wall time and the peak RSS (from wait4's rusage)."""
    times, peaks = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        process = subprocess.Popen(
            list(command), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
        )
        _, status, usage = os.wait4(process.pid, 0)
        times.append(time.perf_counter() - start)
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        if process.stderr:
            process.stderr.close()
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed with exit {process.returncode}:\n{stderr}")
        peaks.append(usage.ru_maxrss / 1024)  # kilobytes on Linux
    return ProcessCost(statistics.median(times), max(peaks))
