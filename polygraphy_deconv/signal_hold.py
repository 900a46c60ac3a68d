"""Holding back the cleanup signals (SIGINT, SIGTERM, SIGHUP, SIGQUIT) for a few statements: naming a temporary file
or folder, renaming a model and its data file. A signal that arrives meanwhile is delivered right after.

It takes two things together:
- the signals are masked in the calling thread (pthread_sigmask), for handlers that are not the command's own
  (Polygraphy's KeyboardInterrupt for SIGINT, while the plugin writes its report);
- the command's own handler (cli/signals.py) asks `hold_signal` first. The kernel gives a process-directed signal to
  any thread that does not mask it (numpy's and onnxruntime's worker threads mask nothing), and CPython then runs
  the Python handler in the main thread at once, whatever the main thread masks: a mask alone let an interrupt land
  inside `tempfile.mkdtemp`, after its mkdir, and the folder was left behind. While a hold is on, the handler
  records the signal; the hold's end calls the handler in place with it.

Stdlib only: the command imports it at start-up.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

CLEANUP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, name)
)

_depth = 0  # holds on, in the main thread
_pending: list[int] = []  # signals a handler recorded during a hold


def hold_signal(signum: int) -> bool:
    """For a signal handler: record `signum` and return True while a hold is on (the hold's end delivers it)."""
    if _depth:
        _pending.append(signum)
        return True
    return False


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold back the cleanup signals for the statements inside; one that arrives meanwhile is delivered right after.
    Outside the main thread (where no Python signal handler runs), a no-op."""
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    masked = hasattr(signal, "pthread_sigmask")
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, CLEANUP_SIGNALS) if masked else None
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # a signal pending in this thread arrives now
        if not _depth and _pending:
            signum = _pending[0]
            _pending.clear()
            handler = signal.getsignal(signum)
            if callable(handler):
                handler(signum, None)
