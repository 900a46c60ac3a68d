"""Signals for the `polygraphy-deconv` command: SIGINT, SIGTERM, SIGHUP and SIGQUIT all end it the same way.

Each raises `Interrupted` (a KeyboardInterrupt) wherever the program is, so every `finally` and
`except BaseException` on the way out removes its temporary files and folders; main() then prints one
line and exits with 128 + N. Stdlib only (and signal_hold.py, stdlib only too): this runs before anything else of
the command is imported.

Start-up: the console script imports polygraphy_deconv.cli first, which (for the console script only)
records the cleanup signals from its first lines on: a signal arriving while the command's modules are
imported is recorded, not raised (an exception there would escape main() as a traceback), and
`install()`, the first thing main() does inside its error handling, turns a recorded signal into the same
Interrupted. A signal before Python runs any of this package (the interpreter's own start-up, `site`
and its .pth files) gets Python's default behaviour: that is outside the package's reach.
"""

from __future__ import annotations

import signal

from polygraphy_deconv.signal_hold import CLEANUP_SIGNALS, hold_signal


class Interrupted(KeyboardInterrupt):
    """A signal asked the command to stop: raised by the handler, so clean-up code runs on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise(signum: int, frame: object) -> None:
    if hold_signal(signum):  # inside signals_held: delivered at its end
        return
    ignore()  # a second signal during the clean-up is not raised again: the first one is unwinding
    raise Interrupted(signum)


def _set(handler: object) -> None:
    for number in CLEANUP_SIGNALS:
        try:
            if signal.getsignal(number) == signal.SIG_IGN:
                continue  # ignored by whoever started us (nohup): stays ignored
            signal.signal(number, handler)  # type: ignore[arg-type]
        except (OSError, ValueError):  # not the main thread, or not settable on this platform
            pass


def install() -> None:
    """Raise Interrupted on each cleanup signal from now on, and at once for one recorded before."""
    from polygraphy_deconv.cli import early_signals

    _set(_raise)
    if early_signals:
        _raise(early_signals[0], None)


def ignore() -> None:
    """Ignore the cleanup signals (the command is exiting; the exit itself must not be interrupted)."""
    for number in CLEANUP_SIGNALS:
        try:
            if signal.getsignal(number) not in (signal.SIG_IGN, signal.SIG_DFL):
                signal.signal(number, signal.SIG_IGN)
        except (OSError, ValueError):
            pass
