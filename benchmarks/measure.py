"""Whole-process measurements: wall time and peak resident memory of a child process.

Linux counts in a child's peak RSS the memory of the process it was forked from (the peak is carried
across fork and exec). The benchmark process holds the models it built, so commands are not started from
it but from a small launcher process (a bare Python started once): a command's peak then includes at most
the launcher's ~10 MiB.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

LAUNCHER = r"""
import json, os, sys, time
for line in sys.stdin:
    command = json.loads(line)
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    print(json.dumps([os.waitstatus_to_exitcode(status), seconds, usage.ru_maxrss]), flush=True)
"""


@dataclass(frozen=True)
class ProcessCost:
    seconds: float  # median wall time over the repeats
    peak_mib: float  # largest peak RSS over the repeats


class Launcher:
    """Start it before the benchmark process grows; then `measure` any number of commands."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def measure(self, command: Sequence[str], repeats: int = 3) -> ProcessCost:
        """Run `command` `repeats` times: the median wall time and the largest peak RSS."""
        assert self._process.stdin is not None and self._process.stdout is not None
        times, peaks = [], []
        for _ in range(repeats):
            self._process.stdin.write(json.dumps(list(command)) + "\n")
            self._process.stdin.flush()
            code, seconds, peak_kib = json.loads(self._process.stdout.readline())
            if code != 0:
                raise RuntimeError(f"{' '.join(command)} failed with exit {code}")
            times.append(seconds)
            peaks.append(peak_kib / 1024)
        return ProcessCost(statistics.median(times), max(peaks))

    def measure_pair(self, baseline: Sequence[str], ours: Sequence[str], repeats: int = 5
                     ) -> tuple[ProcessCost, ProcessCost]:
        """Both commands `repeats` times, one run of each in turn: a machine that slows down for a while slows
        both alike, where all runs of one then all of the other would put the slow spell on one side."""
        runs: tuple[list[ProcessCost], list[ProcessCost]] = ([], [])
        for _ in range(repeats):
            for command, costs in zip((baseline, ours), runs):
                costs.append(self.measure(command, 1))
        first, second = (
            ProcessCost(statistics.median(c.seconds for c in costs), max(c.peak_mib for c in costs)) for costs in runs
        )
        return first, second

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        self._process.wait()
